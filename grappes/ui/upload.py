"""Reading what a user uploads in the app, and the blank templates they can start from.

Kept out of ``app.py`` so that it can be tested without a browser: the size check, the
content key that caches a reading, the rejected rows as a French table, and the two
templates (establishment list, DUI file) whose headers are exactly what the readers expect.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pandas as pd

from grappes.core.model import LoadResult
from grappes.exports.french_excel import csv_bytes
from grappes.ingest import DEFAULT_MAX_MO, IngestError, load
from grappes.ingest.template import DUI_COLUMNS, OPTIONAL, REQUIRED

#: uploads above this size are refused with a French message: the command line's limit
#: (``--max-mo``), in the same unit (1 Mo = 10^6 octets); ``.streamlit/config.toml``'s
#: ``maxUploadSize`` (MiB) is set to the same number, a little more, so the app's message wins.
MAX_UPLOAD_MB = DEFAULT_MAX_MO

#: One example row of the establishment template (a fictitious EHPAD in Orléans).
TEMPLATE_EXAMPLE: dict[str, str] = {
    "finess_et": "450000013", "finess_ej": "450001003", "categorie": "500", "commune": "45234",
    "raison_sociale": "EHPAD LES TILLEULS (exemple)", "raison_sociale_ej": "ASSOCIATION EXEMPLE",
    "statut_juridique": "60", "lon": "1,9092", "lat": "47,9025", "capacite": "80",
    "dui_editeur": "Éditeur exemple", "dui_statut": "conforme", "editeur_segur": "oui",
    "deja_finance": "non",
}


def check_size(name: str, size: int, limit_mb: int = MAX_UPLOAD_MB) -> None:
    """Refuse a file above the stated limit, before reading it (French message)."""
    if size > limit_mb * 1_000_000:
        msg = (f"Fichier {name} trop volumineux : {size / 1_000_000:.0f} Mo, au plus "
               f"{limit_mb} Mo. Découpez l'extrait par région ou utilisez la ligne de "
               "commande (grappes proposer).")
        raise IngestError(msg)


def read_upload(
    etab_file: Any,
    ej_file: Any = None,
    dui_file: Any = None,
    progress: Callable[[int, int], None] | None = None,
    limit_mb: int = MAX_UPLOAD_MB,
) -> LoadResult:
    """Read uploaded files (Streamlit ``UploadedFile`` or any binary stream with ``name``).

    Raises ``IngestError`` (French message) for a file too big or unusable; rows with
    problems come back as ``LoadResult.rejets``.
    """
    for f in (etab_file, ej_file, dui_file):
        if f is not None:
            size = getattr(f, "size", None)
            if size is None:
                size = len(f.getvalue()) if hasattr(f, "getvalue") else 0
            check_size(getattr(f, "name", "?"), int(size), limit_mb)
            if hasattr(f, "seek"):
                f.seek(0)
    return load(etab_file, ej=ej_file, dui=dui_file, progress=progress,
                max_bytes=limit_mb * 1_000_000)


def files_key(*files: Any) -> str:
    """A content hash of the uploaded files, to cache what was read from them."""
    digest = hashlib.sha1()
    for f in files:
        if f is None:
            digest.update(b"-")
            continue
        digest.update(str(getattr(f, "name", "")).encode())
        digest.update(f.getvalue() if hasattr(f, "getvalue") else bytes(f))
    return digest.hexdigest()


def rejects_frame(result: LoadResult) -> pd.DataFrame:
    """Rejected rows with their reason, French headers, for display and download."""
    has_path = any(getattr(r, "path", "") for r in result.rejets)  # FINESS+ JSON path
    frame = pd.DataFrame([r.as_dict() for r in result.rejets],
                         columns=["line", *(["path"] if has_path else []), "field", "reason",
                                  "value", "source"])
    return frame.rename(columns={"line": "ligne", "path": "chemin JSON",
                                 "field": "champ fautif", "reason": "raison",
                                 "value": "valeur", "source": "fichier"})


def establishment_template() -> bytes:
    """The establishment list template for French Excel: every column the reader knows,
    one example row to overwrite."""
    columns = [*REQUIRED, *OPTIONAL]
    return csv_bytes(pd.DataFrame([{c: TEMPLATE_EXAMPLE.get(c, "") for c in columns}],
                                  columns=columns))


def dui_template() -> bytes:
    """The DUI file template: ``finess_et`` then the DUI columns, one example row."""
    columns = ["finess_et", *DUI_COLUMNS]
    return csv_bytes(pd.DataFrame([{c: TEMPLATE_EXAMPLE.get(c, "") for c in columns}],
                                  columns=columns))
