"""Files for French Excel: CSV with ``;`` and a UTF-8 BOM, XLSX via openpyxl.

Cells that start with ``= + - @`` (or a tab / carriage return) are neutralised with a
leading apostrophe so that a name coming from an input file can never run as a formula
(CSV injection). Numbers are left as numbers, so negative amounts are not mangled.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
CSV_SEPARATOR = ";"
CSV_ENCODING = "utf-8-sig"


def neutralise(value: object) -> object:
    """Prefix text cells that a spreadsheet would read as a formula with ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


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
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csv_bytes(df))
    return path


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
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(xlsx_bytes(sheets))
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
