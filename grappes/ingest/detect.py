"""Tell the input kind apart from its first lines and give the reader for it.

Readers are tried in order (``READERS``); adding the announced daily JSON flow of the
register means one new module with a ``Reader`` and one line here. When no reader claims
the file, the message says what was expected and what line 1 looks like.
"""

from __future__ import annotations

from grappes.ingest.base import Reader, head_lines
from grappes.ingest.errors import IngestError
from grappes.ingest.etalab import (
    SECTION_EJ,
    EtalabReader,
    first_cells,
    wrong_separator,
)
from grappes.ingest.finess_plus import FinessPlusReader, sniff_bytes
from grappes.ingest.template import TemplateReader

FINESS_PLUS = FinessPlusReader()
READERS: tuple[Reader, ...] = (EtalabReader(), TemplateReader(), FINESS_PLUS)

EXPECTED = (
    "attendu : le flux FINESS+ finess-structures-journalier-AAAAMMJJ.json.gz, un extrait "
    "FINESS etalab des établissements (etalab-cs1100507 ou cs1100502, "
    "première ligne « finess;etalab;… ») ou le modèle CSV avec l'en-tête "
    "« finess_et;finess_ej;categorie;commune;… »"
)


def detect_source(head: bytes) -> FinessPlusReader | None:
    """The streaming reader when the first bytes are a FINESS+ flow (gzip or JSON object).

    Checked on the raw bytes, before any decoding, so that a file of several hundred MB is
    never read whole (``grappes.ingest.load``).
    """
    return FINESS_PLUS if sniff_bytes(head) else None


def _is_ej_file(lines: list[str]) -> bool:
    for line in lines[:3]:
        cells = first_cells(line)
        if cells[0] == SECTION_EJ:
            return True
        if cells[:2] != ["finess", "etalab"]:
            return False
    return False


def detect(text: str) -> Reader:
    """The reader for a decoded main file, or ``IngestError`` saying why none fits."""
    lines = head_lines(text, 6)
    if not lines:
        msg = "fichier vide : aucune ligne à lire."
        raise IngestError(msg)
    first = lines[0].lstrip("\ufeff")
    if FINESS_PLUS.sniff(text):
        return FINESS_PLUS
    if first.lstrip().startswith("["):
        msg = (
            "fichier JSON qui n'est pas un objet : le flux FINESS+ des structures est un objet "
            f"{{…}} avec le tableau pmej ; {EXPECTED}"
        )
        raise IngestError(msg)
    if _is_ej_file(lines):
        msg = (
            "ce fichier est l'extrait des entités juridiques (lignes structureej) : donnez-le "
            "avec --ej, et l'extrait des établissements en premier argument"
        )
        raise IngestError(msg)
    sep = wrong_separator(first)
    if sep is not None:
        msg = (
            f"séparateur incorrect ligne 1 : {sep} au lieu de « ; » ; les extraits FINESS "
            "utilisent le point-virgule (ne pas ré-enregistrer le fichier avec un tableur)"
        )
        raise IngestError(msg)
    for reader in READERS:
        if reader.sniff(text):
            if isinstance(reader, EtalabReader):
                _check_etalab_body(lines)
            return reader
    msg = f"format non reconnu (ligne 1 : « {first[:80]} ») ; {EXPECTED}"
    raise IngestError(msg)


def _check_etalab_body(lines: list[str]) -> None:
    """Refuse an etalab file whose records (not only line 1) use another separator."""
    body = [line for line in lines[1:] if line.strip()]
    seps = [wrong_separator(line) for line in body]
    if body and all(seps):
        msg = (
            f"séparateur incorrect à partir de la ligne 2 : {seps[0]} au lieu de « ; » "
            "(les extraits FINESS utilisent le point-virgule)"
        )
        raise IngestError(msg)
