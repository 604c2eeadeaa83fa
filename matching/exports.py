"""Files for French Excel: CSV with ``;`` and a UTF-8 BOM, XLSX via openpyxl, written safely.

Cells that start with ``= + - @ |`` (or a tab / carriage return), also behind invisible
characters or in their fullwidth forms (``＝``), are neutralised with a leading apostrophe
so that a name coming from an input file can never run as a formula (CSV injection).
Numbers are left as numbers, so negative amounts are not mangled.

Files are written through :func:`write_bytes_safely`: never through a symbolic link, via a
temporary file in the same folder renamed over the target (no half-written file).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
import unicodedata
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "|", "\t", "\r", "\n")
CSV_SEPARATOR = ";"
CSV_ENCODING = "utf-8-sig"

#: characters a spreadsheet ignores before a formula sign (zero-width, BOM, soft hyphen)
_INVISIBLE = "\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\ufeff\u00ad\u180e"
#: control characters XLSX cannot hold (openpyxl raises on them): replaced by a space
_ILLEGAL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class OutputError(ValueError):
    """An output file cannot be written where asked (French message; bad usage: exit 2)."""

    exit_code = 2


def is_formula_like(text: str) -> bool:
    """True when a spreadsheet could read ``text`` as a formula.

    The first visible character counts: invisible characters and spaces before it are
    skipped, and fullwidth or small forms (``＝``, ``﹢``) are folded to ASCII (NFKC).
    """
    head = text.lstrip(_INVISIBLE + " \u00a0\u202f")
    if not head:
        return False
    if head[0] in "\t\r\n":
        return True
    return unicodedata.normalize("NFKC", head[0]).startswith(FORMULA_PREFIXES)


def neutralise(value: object) -> object:
    """Prefix text cells that a spreadsheet would read as a formula with ``'``; control
    characters (which also break XLSX files) become spaces."""
    if not isinstance(value, str) or not value:
        return value
    if not value.isprintable() and _ILLEGAL_RE.search(value):
        value = _ILLEGAL_RE.sub(" ", value)
    first = value[0]
    # fast path: a plain ASCII first character is judged by itself (no Unicode folding)
    if first.isascii() and first != " ":
        return "'" + value if value.startswith(FORMULA_PREFIXES) else value
    return "'" + value if is_formula_like(value) else value


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``df`` with every text cell neutralised (column names included)."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def csv_bytes(df: pd.DataFrame) -> bytes:
    """The CSV file as bytes (BOM included), for downloads."""
    text = neutralise_frame(df).to_csv(sep=CSV_SEPARATOR, index=False, lineterminator="\r\n")
    return text.encode(CSV_ENCODING)


def write_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` as a French-Excel CSV file and return its path."""
    return write_bytes_safely(path, csv_bytes(df))


def xlsx_bytes(sheets: Mapping[str, pd.DataFrame]) -> bytes:
    """An XLSX workbook with one sheet per entry (names cut to Excel's 31 characters)."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        used: set[str] = set()
        for name, df in sheets.items():
            sheet = sheet_name(name, used)
            neutralise_frame(df).to_excel(writer, sheet_name=sheet, index=False)
    return buffer.getvalue()


def write_xlsx(sheets: Mapping[str, pd.DataFrame], path: str | Path) -> Path:
    """Write an XLSX workbook and return its path."""
    return write_bytes_safely(path, xlsx_bytes(sheets))


def write_bytes_safely(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` without following links and without half-written files.

    Why: a symbolic link named ``rejets.csv`` in the output folder was followed and its
    target overwritten. Here a link (even a broken one) or a folder in the way is refused
    with a French :class:`OutputError`; the bytes go to a temporary file in the same folder
    which is then renamed over the target (atomic on one file system).
    """
    path = Path(path)
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"dossier de sortie impossible à créer : {folder} ({exc.strerror or exc})"
        raise OutputError(msg) from exc
    if not folder.is_dir():
        msg = f"sortie impossible : {folder} n'est pas un dossier"
        raise OutputError(msg)
    if path.is_symlink():
        msg = (
            f"refus d'écrire {path} : c'est un lien symbolique (le fichier visé serait "
            "écrasé) ; supprimez le lien ou choisissez un autre dossier --out"
        )
        raise OutputError(msg)
    if path.is_dir():
        msg = f"impossible d'écrire {path} : un dossier porte déjà ce nom"
        raise OutputError(msg)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        msg = f"écriture impossible dans le dossier {folder} ({exc.strerror or exc})"
        raise OutputError(msg) from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        msg = f"écriture impossible : {path} ({exc.strerror or exc})"
        raise OutputError(msg) from exc
    return path


def sheet_name(name: str, used: set[str]) -> str:
    """Excel sheet names: at most 31 characters, no ``[]:*?/\\``, unique."""
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in name)[:31] or "feuille"
    candidate, n = clean, 1
    while candidate.lower() in used:
        n += 1
        suffix = f"_{n}"
        candidate = clean[: 31 - len(suffix)] + suffix
    used.add(candidate.lower())
    return candidate
