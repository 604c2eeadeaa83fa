"""What every ``grappes`` command shares: exit codes, option checks and output folders.

Exit codes (one table, docs/formats-entree.md): 0 done; 1 input unusable or nothing to do
(a file that cannot be used, no usable row); 2 bad usage (a wrong option value, a missing
file, an output folder that cannot be used); 3 internal error (a bug of grappes: a French
message and the path of a crash report, never a traceback on screen). Every failure prints
one French message naming the file, the line and the field where one applies.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from grappes.core import errors as _errors
from grappes.core.errors import GrappesError
from grappes.core.formatting import integer_fr

# re-exported for the commands (``--json``); its home is grappes.exports.json_values
from grappes.exports.json_values import json_default as json_default

EXIT_DATA = _errors.EXIT_DATA
EXIT_USAGE = _errors.EXIT_USAGE
EXIT_INTERNAL = _errors.EXIT_INTERNAL

#: the CP-SAT solver takes a 32-bit seed
MAX_SEED = 2**31 - 1

# Options several commands share: one definition, one help text (``grappes --help`` reads
# the same everywhere).
InputArg = Annotated[Path | None, typer.Argument(
    help="Flux FINESS+ (.json.gz), extrait FINESS etalab ou modèle CSV.")]
SampleFlag = Annotated[bool, typer.Option("--exemple", help="Utiliser la région exemple intégrée.")]
EjOption = Annotated[Path | None, typer.Option(
    "--ej", help="Extrait des entités juridiques (cs1100501).")]
DuiOption = Annotated[Path | None, typer.Option(
    "--dui", help="Fichier DUI (finess_et, dui_editeur, dui_statut...).")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Sortie JSON (un objet).")]
SystemOutFlag = Annotated[bool, typer.Option(
    "--dossier-systeme", help="Autoriser --sortie dans / ou un dossier système.")]

#: folders a command never writes into unless ``--dossier-systeme`` is given (and ``/``)
SYSTEM_FOLDERS: tuple[str, ...] = (
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/proc",
    "/run",
    "/sbin",
    "/sys",
    "/usr",
    "/var/lib",
    "/var/log",
    "/System",
    "/Library",
    "C:/Windows",
    "C:/Program Files",
    "C:/Program Files (x86)",
)

#: ``--sortie`` of the commands that write a folder of CSV files (chiffrer, selectionner)
CsvOutOpt = Annotated[Path | None, typer.Option("--sortie", help="Dossier des fichiers CSV.")]
#: the help of every ``--regles`` option (proposer, chiffrer, selectionner, partenaires)
RULES_HELP = "Jeu de règles : nom (voir grappes regles) ou fichier .toml."


class UsageError(GrappesError, ValueError):
    """A command-line value the command cannot use (French message, exit code 2)."""

    exit_code = EXIT_USAGE


def exit_code(exc: BaseException) -> int:
    """The exit code for an error: its ``exit_code`` attribute (1 or 2), else 1."""
    code = getattr(exc, "exit_code", EXIT_DATA)
    return code if isinstance(code, int) and code in (EXIT_DATA, EXIT_USAGE) else EXIT_DATA


def fail(
    console: Console, exc: BaseException | str, *, as_json: bool = False, code: int | None = None
) -> NoReturn:
    """Print the French message (and a JSON error object with ``--json``) and exit."""
    message = str(exc)
    if code is None:
        code = exit_code(exc) if isinstance(exc, BaseException) else EXIT_DATA
    if as_json:
        typer.echo(json.dumps({"usable": False, "error": message, "code": code},
                              ensure_ascii=False))
    label = "Usage incorrect" if code == EXIT_USAGE else "Erreur"
    console.print(f"[red]{label} :[/red] {escape(message)}", highlight=False)
    raise typer.Exit(code)


# --------------------------------------------------------------------------- option checks


def check_number(
    option: str,
    value: float | None,
    *,
    minimum: float | None = None,
    above: float | None = None,
    maximum: float | None = None,
) -> float | None:
    """A finite number within bounds (``above``: strictly greater), else :class:`UsageError`.

    ``nan`` and ``inf`` reach the commands through Click's float parsing; they are refused
    here instead of failing later with an English message.
    """
    if value is None:
        return None
    if not math.isfinite(value):
        msg = f"{option} : nombre fini attendu (reçu {value})"
        raise UsageError(msg)
    if above is not None and not value > above:
        msg = f"{option} : nombre strictement supérieur à {_fr(above)} attendu (reçu {_fr(value)})"
        raise UsageError(msg)
    if minimum is not None and value < minimum:
        msg = f"{option} : nombre supérieur ou égal à {_fr(minimum)} attendu (reçu {_fr(value)})"
        raise UsageError(msg)
    if maximum is not None and value > maximum:
        msg = f"{option} : au plus {_fr(maximum)} (reçu {_fr(value)})"
        raise UsageError(msg)
    return value


def check_seed(seed: int) -> int:
    """A seed the solver accepts (0 to 2 147 483 647)."""
    if not 0 <= seed <= MAX_SEED:
        msg = f"--graine : entier entre 0 et {integer_fr(MAX_SEED)} attendu (reçu {seed})"
        raise UsageError(msg)
    return seed


def _fr(value: float) -> str:
    text = f"{value:g}"
    return text.replace(".", ",")


# --------------------------------------------------------------------------- output folders


def is_system_folder(folder: Path) -> bool:
    """True for ``/`` and the operating system's own folders (and anything inside them)."""
    resolved = Path(os.path.abspath(folder))
    with contextlib.suppress(OSError):
        resolved = resolved.resolve()
    if resolved == Path(resolved.anchor):
        return True
    text = resolved.as_posix()
    for system in SYSTEM_FOLDERS:
        if text.lower() == system.lower() or text.lower().startswith(system.lower() + "/"):
            return True
    return False


def prepare_out(out: Path, allow_system: bool = False) -> set[str]:
    """Check an ``--sortie`` folder before any work; the names already in it.

    Refused (exit 2): ``/`` and system folders unless ``allow_system``, an existing file,
    a folder that cannot be created or written. The returned names let the command say
    which files it overwrote.
    """
    if not allow_system and is_system_folder(out):
        msg = (
            f"--sortie : refus d'écrire dans {out} (racine ou dossier du système) ; choisissez "
            "un dossier à vous, ou ajoutez --dossier-systeme si c'est vraiment voulu"
        )
        raise UsageError(msg)
    if out.exists() and not out.is_dir():
        msg = f"--sortie : {out} est un fichier, pas un dossier"
        raise UsageError(msg)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"--sortie : dossier impossible à créer : {out} ({exc.strerror or exc})"
        raise UsageError(msg) from exc
    if not os.access(out, os.W_OK | os.X_OK):
        msg = f"--sortie : pas le droit d'écrire dans le dossier {out}"
        raise UsageError(msg)
    return {p.name for p in out.iterdir()}


def written_lines(paths: Iterable[Path], before: set[str]) -> list[str]:
    """``Écrit : …`` lines, saying which files replaced an existing one."""
    lines = []
    for path in paths:
        replaced = " (remplace le fichier existant)" if Path(path).name in before else ""
        lines.append(f"Écrit : {path}{replaced}")
    return lines


def print_written(console: Console, paths: Iterable[Path], before: set[str]) -> None:
    """Print :func:`written_lines` and a summary of the overwritten files."""
    paths = list(paths)
    for line in written_lines(paths, before):
        console.print(escape(line), highlight=False)
    replaced = [Path(p).name for p in paths if Path(p).name in before]
    if replaced:
        console.print(
            f"[yellow]Attention :[/yellow] {len(replaced)} fichier(s) existant(s) remplacé(s) : "
            + escape(", ".join(replaced)),
            highlight=False,
        )


def reject_notice(n_rejets: int, command: str = "grappes verifier FICHIER --sortie DOSSIER") -> str:
    """The line every command prints about rejected input rows (never silent)."""
    if not n_rejets:
        return "Aucune ligne rejetée à la lecture."
    return (
        f"{n_rejets} ligne(s) rejetée(s) à la lecture, absentes du résultat : détail ligne par "
        f"ligne dans rejets.csv ({command})."
    )


# --------------------------------------------------------------------------- internal errors


def internal_error(exc: BaseException) -> NoReturn:
    """Exit 3 with a French message and the path of a crash report (never a traceback)."""
    message = _errors.internal_message(exc, _errors.write_crash_report(exc))
    Console(stderr=True).print(f"[red]Erreur interne :[/red] {escape(message)}", highlight=False)
    raise typer.Exit(EXIT_INTERNAL)
