"""Read establishments from the FINESS+ JSON flow, a FINESS etalab extract or the CSV template.

``load`` is the single entry point: it tells the input kind apart by itself, joins the
optional legal-entities extract (``ej``) and DUI side file (``dui``), and returns a
``grappes.core.model.LoadResult`` whose ``etablissements`` has exactly ``ETAB_COLUMNS``. A file
that cannot be used at all raises ``IngestError`` (French message); every problem row of a
usable file becomes a ``Rejet`` with its line number and field.
"""

from __future__ import annotations

from grappes.core.model import DUI_INCONNU, LoadResult
from grappes.ingest.base import Progress, Source, decode_text, peek, read_bytes, source_name
from grappes.ingest.detect import READERS, detect, detect_source
from grappes.ingest.dui import apply_dui, read_dui
from grappes.ingest.ej import apply_ej, read_ej
from grappes.ingest.errors import IngestError

#: Inputs larger than this are refused before being read (the national etalab file is ~45 MB).
#: One unit everywhere: 1 Mo = 10^6 octets (CLI ``--max-mo``, the app, the messages, the docs).
DEFAULT_MAX_MO = 300
DEFAULT_MAX_BYTES = DEFAULT_MAX_MO * 1_000_000

WARN_NO_EJ = (
    "Pas de fichier des entités juridiques (--ej) : statut juridique des OG inconnu et "
    "nom des OG vide."
)
WARN_NO_DUI = (
    "Pas de données DUI (--dui ou colonnes du modèle) : statut DUI « inconnu », éditeur "
    "vide, éditeur Ségur inconnu, déjà financé = non."
)

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_MO", "READERS", "IngestError", "Source", "load"]


def load(
    path: Source,
    ej: Source | None = None,
    dui: Source | None = None,
    progress: Progress | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> LoadResult:
    """Load, validate and classify establishments.

    Parameters
    ----------
    path
        The establishments: FINESS+ flow (``.json.gz`` or ``.json``, streamed), etalab
        cs1100507 / cs1100502 extract or user CSV template (path, bytes or binary stream).
    ej
        Optional FINESS legal-entities extract (cs1100501, ``structureej``): OG names and
        legal statuses.
    dui
        Optional side file keyed by ``finess_et`` with ``dui_editeur``, ``dui_statut``,
        ``editeur_segur``, ``deja_finance``.
    progress
        Called as ``progress(lines_done, lines_total)`` while the main file is read.
    max_bytes
        Larger inputs are refused before being read.

    Returns
    -------
    LoadResult
        ``kind`` is ``finess_plus``, ``etalab_cs1100507``, ``etalab_cs1100502`` or
        ``modele_csv``.

    Raises
    ------
    IngestError
        A file that cannot be used at all: missing, empty, binary, too big, wrong separator,
        unknown format, template without its required columns.
    """
    streamed = detect_source(peek(path))
    decoded = None
    if streamed is None:
        data = read_bytes(path, max_bytes, "fichier")
        decoded = decode_text(data)
        text, encoding = decoded.text, decoded.encoding
        reader = detect(text)
    ej_data = read_ej(ej, max_bytes) if ej is not None else None
    dui_data = read_dui(dui, max_bytes) if dui is not None else None
    if streamed is not None:
        result = streamed.read_source(path, max_bytes=max_bytes, progress=progress)
    else:
        result = reader.read(text, encoding=encoding, progress=progress)
    result.meta["fichier"] = source_name(path)
    if decoded is not None:
        result.warnings[:0] = decoded.warnings
    table = result.etablissements
    if ej_data is not None:
        apply_ej(result, *ej_data)
        result.meta["fichier_ej"] = source_name(ej)
    elif len(table) and (table["statut_juridique"] == "").any():
        result.warnings.append(WARN_NO_EJ)
    if dui_data is not None:
        apply_dui(result, *dui_data)
        result.meta["fichier_dui"] = source_name(dui)
    elif len(table) and not result.meta.get("colonnes_dui"):
        result.warnings.append(WARN_NO_DUI)
    elif len(table) and (table["dui_statut"] == DUI_INCONNU).any():
        n = int((table["dui_statut"] == DUI_INCONNU).sum())
        result.warnings.append(f"statut DUI non renseigné pour {n} établissement(s) : « inconnu »")
    return result
