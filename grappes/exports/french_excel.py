"""Files for French Excel: CSV with ``;``, a UTF-8 BOM and a decimal comma; XLSX via xlsxwriter.

What French Excel reads as numbers and words:

* CSV: ``;`` separators, UTF-8 with BOM, decimal comma (``27,1``), whole numbers without
  ``.0`` (``700000``), ``oui``/``non`` for booleans, empty cells for unknown values;
* XLSX: amounts as numbers with the euro format (``#,##0 "€"``, shown ``1 030 000 €`` in
  French Excel), distances with one decimal, whole numbers as integers, ``oui``/``non``,
  header filters and the header row frozen on every table sheet.

Cells that start with ``= + - @ |`` (or a tab / carriage return), also behind invisible
characters or in their fullwidth forms (``＝``), are neutralised with a leading apostrophe
so that a name coming from an input file can never run as a formula
(CSV injection). Numbers are left as numbers, so negative amounts are not mangled.

Column kinds (``grappes.exports.files.Column``) decide the formats; without them they are
inferred from the dtypes.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from grappes.exports.safe_write import write_bytes_safely

FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "|", "\t", "\r", "\n")
CSV_SEPARATOR = ";"
CSV_ENCODING = "utf-8-sig"


#: characters a spreadsheet ignores before a formula sign (zero-width, BOM, soft hyphen)
_INVISIBLE = "\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\ufeff\u00ad\u180e"
#: control characters XLSX cannot hold (openpyxl raises on them): replaced by a space
_ILLEGAL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


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


YES, NO = "oui", "non"
EURO_FORMAT = '#,##0 "€"'
KM_FORMAT = "0.0"


def _is_bool_like(s: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(s):
        return True
    if s.dtype != object:
        return False
    values = s.dropna()
    return len(values) > 0 and all(isinstance(v, bool) for v in values)


def column_kind(s: pd.Series, kind: str | None = None) -> str:
    """The kind of a column: given, or inferred (``oui_non``, ``entier``, ``decimal``,
    ``texte``)."""
    if kind:
        return kind
    if _is_bool_like(s):
        return "oui_non"
    if pd.api.types.is_integer_dtype(s):
        return "entier"
    if pd.api.types.is_float_dtype(s):
        return "decimal"
    return "texte"


def _yes_no(s: pd.Series) -> pd.Series:
    return s.map(lambda v: "" if v is None or v is pd.NA or (isinstance(v, float) and v != v)
                 else (YES if bool(v) else NO)).astype("string")


def _number_text(s: pd.Series, decimals: int | None) -> pd.Series:
    """Numbers as French text: decimal comma, whole values without ``,0``, empty for NaN."""
    num = pd.to_numeric(s, errors="coerce")

    def fmt(v: float) -> str:
        if v != v:
            return ""
        if decimals is not None:
            v = round(float(v), decimals)
        if float(v).is_integer():
            return str(int(v))
        return repr(float(v)).replace(".", ",")

    return num.map(fmt).astype("string")


def csv_frame(df: pd.DataFrame, kinds: Mapping[str, str] | None = None) -> pd.DataFrame:
    """``df`` as the text French Excel reads: ``oui``/``non``, decimal comma, whole euros."""
    kinds = kinds or {}
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        kind = column_kind(df[col], kinds.get(str(col)))
        s = df[col]
        if kind == "oui_non":
            out[col] = _yes_no(s)
        elif kind in ("euros", "entier"):
            out[col] = _number_text(s, 0 if kind == "entier" else 2)
        elif kind == "km":
            out[col] = _number_text(s, 1)
        elif kind == "decimal":
            out[col] = _number_text(s, None)
        else:
            out[col] = s.astype("string").fillna("").map(neutralise)
    out.columns = [neutralise(str(c)) for c in df.columns]
    return out


def csv_bytes(df: pd.DataFrame, kinds: Mapping[str, str] | None = None) -> bytes:
    """The CSV file as bytes (BOM included), for downloads."""
    text = csv_frame(df, kinds).to_csv(sep=CSV_SEPARATOR, index=False, lineterminator="\r\n")
    return text.encode(CSV_ENCODING)


def write_csv(df: pd.DataFrame, path: str | Path, kinds: Mapping[str, str] | None = None) -> Path:
    """Write ``df`` as a French-Excel CSV file and return its path."""
    path = Path(path)
    write_bytes_safely(path, csv_bytes(df, kinds))
    return path


class WorkbookWriter:
    """A workbook written in one pass with xlsxwriter: table sheets with number formats,
    header filters and frozen header, and free-form sheets (the dossiers)."""

    def __init__(self, buffer: io.BytesIO) -> None:
        import xlsxwriter

        self.book = xlsxwriter.Workbook(buffer, {"in_memory": True, "nan_inf_to_errors": False,
                                                  "strings_to_numbers": False,
                                                  "strings_to_formulas": False,
                                                  "strings_to_urls": False})
        self.used: set[str] = set()
        f = self.book.add_format
        self.formats = {
            "header": f({"bold": True, "bg_color": "#DDE4F0", "text_wrap": False}),
            "euros": f({"num_format": EURO_FORMAT}),
            "km": f({"num_format": KM_FORMAT}),
            "entier": f({"num_format": "0"}),
            "decimal": f({"num_format": "General"}),
            "title": f({"bold": True, "font_size": 14}),
            "section": f({"bold": True, "font_size": 12}),
        }

    def table(self, name: str, df: pd.DataFrame, kinds: Mapping[str, str] | None = None) -> str:
        """One table sheet; returns its (cut, unique) name."""
        kinds = kinds or {}
        sheet = sheet_name(name, self.used)
        ws = self.book.add_worksheet(sheet)
        header = self.formats["header"]
        for j, col in enumerate(df.columns):
            ws.write_string(0, j, str(neutralise(str(col))), header)
        n = len(df)
        for j, col in enumerate(df.columns):
            kind = column_kind(df[col], kinds.get(str(col)))
            values = df[col]
            width = len(str(col)) + 2
            if kind in ("euros", "km", "entier", "decimal"):
                num = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
                fmt = self.formats[kind]
                for i, v in enumerate(num, 1):
                    if v == v:
                        ws.write_number(i, j, float(v), fmt)
                width = max(width, 12)
            else:
                text = (_yes_no(values) if kind == "oui_non"
                        else values.astype("string").fillna("").map(neutralise))
                for i, v in enumerate(text.tolist(), 1):
                    if v:
                        ws.write_string(i, j, v)
                sample = text.head(200).str.len()
                width = max(width, int(sample.max()) + 2 if len(sample) else 0)
            ws.set_column(j, j, min(max(width, 8), 60))
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(n, 1), max(len(df.columns) - 1, 0))
        return sheet

    def rows(self, name: str, rows: Sequence[Sequence[Any]], marks: Mapping[str, list],
             widths: Sequence[int]) -> str:
        """A free-form sheet: ``marks`` has ``title``, ``section``, ``header`` row indexes and
        ``euro`` ``(row, column)`` cells (0-based)."""
        sheet = sheet_name(name, self.used)
        ws = self.book.add_worksheet(sheet)
        styled: dict[tuple[int, int], Any] = {}
        for r in marks.get("title", []):
            styled[(r, 0)] = self.formats["title"]
        for r in marks.get("section", []):
            styled[(r, 0)] = self.formats["section"]
        for r in marks.get("header", []):
            for c, v in enumerate(rows[r]):
                if v not in (None, ""):
                    styled[(r, c)] = self.formats["header"]
        for r, c in marks.get("euro", []):
            styled[(r, c)] = self.formats["euros"]
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                fmt = styled.get((i, j))
                if isinstance(v, bool):
                    ws.write_string(i, j, YES if v else NO, fmt)
                elif isinstance(v, int | float) and v == v:
                    ws.write_number(i, j, float(v), fmt)
                elif v not in (None, "") and not (isinstance(v, float) and v != v):
                    ws.write_string(i, j, str(neutralise(str(v))), fmt)
        for j, w in enumerate(widths):
            ws.set_column(j, j, w)
        return sheet

    def close(self) -> None:
        self.book.close()


def xlsx_bytes(sheets: Mapping[str, pd.DataFrame],
               kinds: Mapping[str, Mapping[str, str]] | None = None) -> bytes:
    """An XLSX workbook with one table sheet per entry (names cut to 31 characters)."""
    buffer = io.BytesIO()
    writer = WorkbookWriter(buffer)
    for name, df in sheets.items():
        writer.table(name, df, (kinds or {}).get(name))
    writer.close()
    return buffer.getvalue()


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
