"""The bundled synthetic sample region (Centre-Val de Loire): where it is, how to load it.

The three files in ``data/sample/`` are written by ``data/build/make_sample.py`` with
``grappes.synthetic.sample.build_sample`` (fixed région and seed), so that the app and
``grappes proposer --exemple`` show a useful result with no input, and so that users see what the
accepted formats look like. Everything in them is synthetic (names say ``FICTIF``).

The sample is data: this module only finds and reads the committed files, and imports nothing
of the generator (``tests/test_architecture.py`` checks it), so the app does not load it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from grappes.core.paths import sample_dir

if TYPE_CHECKING:
    from grappes.core.model import LoadResult

#: INSEE code of the sample région (Centre-Val de Loire) and the generator seed.
SAMPLE_REGION = "24"
SAMPLE_SEED = 24

#: Names of the bundled (establishments, legal entities, DUI) files: the generator's
#: ``etalab_names`` for its extraction date (a test checks they agree).
SAMPLE_FILES: tuple[str, str, str] = (
    "etalab-cs1100507-stock-20260512-0000.csv",
    "etalab-cs1100501-stock-20260512-0000.csv",
    "dui.csv",
)
#: The same establishments in the FINESS+ JSON flow (one file: OG names and statuses inside).
SAMPLE_FINESS_PLUS = "finess-structures-journalier-20260512.json.gz"


def finess_plus_sample_path() -> Path:
    """Path of the bundled sample in the FINESS+ format (``FileNotFoundError`` if missing)."""
    path = sample_dir() / SAMPLE_FINESS_PLUS
    if not path.is_file():
        msg = (
            f"fichier de la région exemple introuvable : {path} "
            "(le régénérer avec python data/build/make_sample.py)"
        )
        raise FileNotFoundError(msg)
    return path


def sample_paths() -> tuple[Path, Path, Path]:
    """Paths of the bundled (establishments, legal entities, DUI) files.

    Raises
    ------
    FileNotFoundError
        With a French message naming the missing file and the command that rebuilds it.
    """
    folder = sample_dir()
    paths = tuple(folder / name for name in SAMPLE_FILES)
    for path in paths:
        if not path.is_file():
            msg = (
                f"fichier de la région exemple introuvable : {path} "
                "(le régénérer avec python data/build/make_sample.py)"
            )
            raise FileNotFoundError(msg)
    return paths  # type: ignore[return-value]


def resolve_input(
    file: Path | None, ej: Path | None, dui: Path | None, sample: bool
) -> tuple[Path, Path | None, Path | None]:
    """The (establishments, EJ, DUI) files a command reads: the user's, or the bundled sample's.

    Every command that takes ``FILE | --exemple`` goes through here, so they all accept and
    refuse the same combinations with the same message. With ``--exemple``, ``--ej``/``--dui``
    given by the user replace the sample's side files.

    Raises
    ------
    grappes.ingest.IngestError
        When both or neither of ``file`` and ``sample`` are given, or a sample file is missing.
    """
    from grappes.ingest.errors import IngestError

    if sample and file is not None:
        msg = "donner soit un fichier, soit --exemple, pas les deux"
        raise IngestError(msg, exit_code=2)
    if file is None:
        if not sample:
            msg = (
                "fichier manquant : donner un extrait FINESS etalab ou un modèle CSV, "
                "ou --exemple pour la région exemple"
            )
            raise IngestError(msg, exit_code=2)
        try:
            file, sample_ej, sample_dui = sample_paths()
        except FileNotFoundError as exc:
            raise IngestError(str(exc)) from exc
        ej = ej if ej is not None else sample_ej
        dui = dui if dui is not None else sample_dui
    return file, ej, dui


def load_sample() -> LoadResult:
    """The bundled sample read like any user input (``grappes.ingest.load``)."""
    from grappes.ingest import load

    etab, ej, dui = sample_paths()
    return load(etab, ej=ej, dui=dui)


__all__ = [
    "SAMPLE_FILES",
    "SAMPLE_FINESS_PLUS",
    "SAMPLE_REGION",
    "SAMPLE_SEED",
    "load_sample",
    "resolve_input",
    "sample_paths",
]
