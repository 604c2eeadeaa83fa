"""Shared pieces of the readers: getting bytes, decoding them, and the Reader protocol.

Every input kind (etalab extract, user CSV template, later the daily JSON flow of the
register) is one module with a small ``Reader``: ``sniff`` says from the first lines whether
it is its format, ``parse`` turns the text into raw rows, and the shared pipeline
(``grappes.ingest.pipeline``) validates and classifies them into the normalised table.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol, runtime_checkable

import numpy as np
import pandas as pd
import pyarrow as pa

from grappes.core.formatting import integer_fr, number_fr
from grappes.core.model import LoadResult, Rejet
from grappes.ingest.errors import IngestError

Source = str | Path | bytes | bytearray | BinaryIO
Progress = Callable[[int, int], None]

#: Raw columns every reader fills (strings, except the floats and ``ligne``).
RAW_STRING_COLUMNS: tuple[str, ...] = (
    "finess_et",
    "finess_ej",
    "raison_sociale",
    "raison_sociale_ej",
    "categorie",
    "categorie_libelle",  # label given by the file (used when the code is unknown)
    "commune",  # INSEE code (COG) when the reader could build one, else the raw value
    "departement",  # INSEE département given by the file ('' when the file has none)
    "statut_juridique",
    "libmft",
    "dui_editeur",
    "dui_statut",
    "editeur_segur",
    "deja_finance",
)
RAW_FLOAT_COLUMNS: tuple[str, ...] = ("lon", "lat", "capacite")

#: Control bytes that never appear in a text CSV (tab, LF, CR allowed); all are ASCII, so
#: they are counted on the raw bytes whatever the encoding (fast: C-level translate).
_CONTROL_BYTES = bytes(c for c in range(32) if c not in (9, 10, 13)) + b"\x7f"

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "un classeur Excel (.xlsx) ou une archive ZIP"),
    (b"\xd0\xcf\x11\xe0", "un classeur Excel ancien format (.xls)"),
    (b"%PDF", "un document PDF"),
    (b"\x1f\x8b", "un fichier compressé gzip"),
)


@dataclass
class Parsed:
    """What a reader extracts from a file before the shared validation.

    ``rows`` has ``ligne`` plus ``RAW_STRING_COLUMNS`` and ``RAW_FLOAT_COLUMNS``; ``geoloc``
    (etalab only) holds the ``geolocalisation`` records still to be joined on ``finess_et``.
    """

    rows: pd.DataFrame
    rejets: list[Rejet] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    geoloc: pd.DataFrame | None = None
    #: the file gives coordinates at all (False for cs1100502: centroids, warned once)
    has_coordinates: bool = True
    #: ``grappes.ingest.classify.resolve_territory`` of every row (same index as ``rows``),
    #: when the reader already needed it (FINESS+ places its coordinate pairs with it): the
    #: pipeline then takes it instead of resolving the communes a second time (only when
    #: ``rows["commune"]`` is already trimmed and upper-cased: checked, else resolved again).
    territory: pd.DataFrame | None = None


@runtime_checkable
class Reader(Protocol):
    """One input format. ``kind`` is stored in ``LoadResult.kind``."""

    kind: str

    def sniff(self, head_text: str) -> bool:
        """True when the first lines of a file are in this format."""
        ...

    def read(
        self, text: str, *, encoding: str = "", progress: Progress | None = None
    ) -> LoadResult:
        """Parse, validate and classify a whole decoded file."""
        ...


def text_array(values: Any) -> Any:
    """``pd.array(values, dtype="string")``; a list of texts goes straight into Arrow (half
    the cost of pandas' own conversion, 100,000 rows at a time in the FINESS+ reader)."""
    if isinstance(values, list):
        try:
            return pd.array(pa.array(values, type=pa.large_string()), dtype="string")
        except (pa.ArrowException, TypeError, ValueError, UnicodeError):
            pass  # not only texts: pandas converts (or refuses) them as before
    return pd.array(values, dtype="string")


def raw_frame(columns: dict[str, Any], n: int) -> pd.DataFrame:
    """A raw table from column lists, arrays or Series; missing columns get '' / NaN.

    Series of the string dtype are taken as they are (no round trip through Python objects,
    which costs about 0.1 s per column of a national file).
    """

    def as_strings(values: Any) -> Any:
        if values is None:
            return pd.array([""] * n, dtype="string")
        if isinstance(values, pd.Series):
            return values.reset_index(drop=True).astype("string").array
        return text_array(values)

    data: dict[str, Any] = {"ligne": np.asarray(columns.get("ligne", []), dtype="int64")}
    for col in RAW_STRING_COLUMNS:
        data[col] = as_strings(columns.get(col))
    for col in RAW_FLOAT_COLUMNS:
        values = columns.get(col)
        data[col] = np.full(n, np.nan) if values is None else np.asarray(values, dtype="float64")
    return pd.DataFrame(data)


def source_name(src: Source | None) -> str:
    """A short name for messages: the file name, or '' for bytes and streams."""
    if isinstance(src, str | Path):
        return Path(src).name
    name = getattr(src, "name", "")
    return Path(name).name if isinstance(name, str) else ""


def peek(src: Source, n: int = 4096) -> bytes:
    """The first ``n`` bytes of ``src`` without consuming it ('' when it cannot be read).

    Streams are rewound after reading (the app's uploads are seekable); a missing path gives
    '' so that the usual "introuvable" message comes from :func:`read_bytes`.
    """
    if isinstance(src, bytes | bytearray):
        return bytes(src[:n])
    if isinstance(src, str | Path):
        try:
            with Path(src).open("rb") as fh:
                return fh.read(n)
        except OSError:
            return b""
    if isinstance(src, io.BytesIO):  # in-memory uploads: no read call at all
        return bytes(src.getbuffer()[src.tell() : src.tell() + n])
    if hasattr(src, "read") and hasattr(src, "seek"):
        try:
            start = src.tell()
            head = src.read(n)
            src.seek(start)
        except (OSError, ValueError):
            return b""
        return head.encode("utf-8") if isinstance(head, str) else bytes(head)
    return b""


def _mo(n_bytes: float) -> str:
    """A size in Mo (10^6 octets, the unit of every limit and message), 1 decimal if < 10."""
    value = n_bytes / 1_000_000
    text = number_fr(value, 1) if value < 10 or value != int(value) else integer_fr(value)
    return text + " Mo"


def os_reason(exc: OSError) -> str:
    """The French reason of a file-system error (the system's text is English)."""
    import errno

    reasons = {
        errno.EACCES: "accès refusé",
        errno.EPERM: "opération non permise",
        errno.ENOENT: "introuvable",
        errno.EISDIR: "c'est un dossier",
        errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
        errno.ENOSPC: "disque plein",
        errno.EROFS: "support en lecture seule",
        errno.ELOOP: "trop de liens symboliques",
        errno.ENAMETOOLONG: "nom trop long",
    }
    return reasons.get(exc.errno or 0, exc.strerror or str(exc))


def read_bytes(src: Source, max_bytes: int, role: str = "fichier") -> bytes:
    """The whole content of ``src``, refusing anything larger than ``max_bytes`` first.

    For a path the size is checked with ``stat`` before opening, for a stream at most
    ``max_bytes + 1`` bytes are read, so a huge input never lands in memory. Sizes are in
    Mo of 10^6 octets everywhere (limit and file size in the same unit).
    """
    limit = _mo(max_bytes)
    if isinstance(src, bytes | bytearray):
        data = bytes(src)
        if len(data) > max_bytes:
            msg = f"{role} trop volumineux : {_mo(len(data))} (limite {limit})"
            raise IngestError(msg)
        return data
    if isinstance(src, str | Path):
        path = Path(src)
        try:
            exists, is_dir = path.exists(), path.is_dir()
        except OSError as exc:
            msg = f"{role} illisible : {path} ({os_reason(exc)})"
            raise IngestError(msg, exit_code=2) from exc
        if not exists:
            msg = f"{role} introuvable : {path}"
            raise IngestError(msg, exit_code=2)
        if is_dir:
            msg = f"{role} attendu, mais {path} est un dossier"
            raise IngestError(msg, exit_code=2)
        try:
            size = os.stat(path).st_size
            if size > max_bytes:
                msg = f"{role} trop volumineux : {path.name} fait {_mo(size)} (limite {limit})"
                raise IngestError(msg)
            with path.open("rb") as handle:
                data = handle.read(max_bytes + 1)
        except OSError as exc:
            msg = f"{role} illisible : {path} ({os_reason(exc)})"
            raise IngestError(msg) from exc
        if len(data) > max_bytes:  # grew while being read, or a special file
            msg = f"{role} trop volumineux : {path.name} fait plus de {limit}"
            raise IngestError(msg)
        return data
    if hasattr(src, "read"):
        try:
            data = src.read(max_bytes + 1)
        except (OSError, ValueError) as exc:
            msg = f"{role} illisible : {exc}"
            raise IngestError(msg) from exc
        if isinstance(data, str):
            data = data.encode("utf-8")
        if len(data) > max_bytes:
            msg = f"{role} trop volumineux : plus de {limit}"
            raise IngestError(msg)
        return bytes(data)
    msg = f"{role} : type d'entrée non pris en charge ({type(src).__name__})"
    raise IngestError(msg)


@dataclass
class Decoded:
    """A decoded text file and what decoding had to change (French warnings).

    ``text`` has ``\n`` line ends only (CR-LF and old-Mac CR are both line ends), no BOM,
    and no control characters (replaced by a space, counted in ``warnings``).
    """

    text: str
    encoding: str
    warnings: list[str] = field(default_factory=list)


#: C0 controls except tab and LF (CR is a line end), DEL and the C1 controls: never text
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: a well-formed multi-byte UTF-8 sequence: its presence in a non-UTF-8 file means mixed lines
_UTF8_SEQ_RE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")
_BOM = b"\xef\xbb\xbf"


def decode(data: bytes, role: str = "fichier") -> tuple[str, str]:
    """``(text, encoding)`` of :func:`decode_text` (its warnings are dropped)."""
    decoded = decode_text(data, role)
    return decoded.text, decoded.encoding


def decode_text(data: bytes, role: str = "fichier") -> Decoded:
    """Decode a text file: strict UTF-8 (BOM allowed), else line by line.

    Why line by line: a file re-encoded half-way (one line in seven in latin-1) used to be
    decoded wholly as cp1252, which garbled every UTF-8 accent of the other lines without a
    word. Now each line that is not UTF-8 is read as cp1252 (latin-1 for the bytes cp1252
    lacks), the others stay UTF-8, and a warning gives the count and the first lines.
    Line ends are unified (CR-LF, LF and old-Mac CR, mixed or not), leading BOMs (even
    doubled) are dropped, and control characters become spaces with a warning.

    Raises ``IngestError`` for an empty file and for anything that is not text (NUL bytes,
    known binary signatures, many control characters).
    """
    prefix = "" if role == "fichier" else f"{role} : "
    for magic, what in _MAGIC:
        if data.startswith(magic):
            msg = f"{role} illisible : c'est {what}, pas un fichier texte CSV. "
            msg += "Enregistrez-le au format CSV (séparateur point-virgule)."
            raise IngestError(msg)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        msg = f"{role} encodé en UTF-16 : enregistrez-le en « CSV UTF-8 (délimité par des "
        msg += "points-virgules) »."
        raise IngestError(msg)
    if b"\x00" in data:
        msg = f"{role} binaire (octets nuls) : ce n'est pas un fichier texte CSV."
        raise IngestError(msg)
    body, encoding = data, "utf-8"
    if body.startswith(_BOM):
        encoding = "utf-8-sig"
        while body.startswith(_BOM):
            body = body[len(_BOM) :]
    # CR, LF and CR-LF are all line ends (ASCII bytes: safe before decoding)
    if b"\r" in body:
        body = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    warnings: list[str] = []
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text, encoding, mixed = _decode_lines(body)
        if mixed:
            warnings.append(
                f"{prefix}encodage mixte : {len(mixed)} ligne(s) ne sont pas en UTF-8 comme le "
                f"reste du fichier ; lues en Windows-1252 ({format_lines(mixed)}) : vérifiez "
                "les accents de ces lignes"
            )
    text = text.lstrip("\ufeff")
    control = len(body) - len(body.translate(None, _CONTROL_BYTES))
    if text.strip() and control > max(3, len(body) // 200):
        msg = f"{role} binaire ou corrompu : {control} caractères de contrôle, "
        msg += "ce n'est pas un fichier texte CSV."
        raise IngestError(msg)
    text, found = _replace_controls(text)
    if not text.strip():  # after the controls became spaces: nothing but blanks is empty
        msg = f"{role} vide : aucune ligne à lire."
        raise IngestError(msg)
    if found:
        warnings.append(
            f"{prefix}{found[0]} caractère(s) de contrôle (invisibles) remplacé(s) par une "
            f"espace ({format_lines(found[1])})"
        )
    return Decoded(text, encoding, warnings)


def _decode_lines(body: bytes) -> tuple[str, str, list[int]]:
    """Decode a body that is not valid UTF-8 as a whole.

    Returns the text, the encoding label and the (1-based) lines read as cp1252 inside a
    file whose other non-ASCII lines are UTF-8 (empty when the whole file is cp1252).
    """
    if _UTF8_SEQ_RE.search(body) is None:
        try:
            return body.decode("cp1252"), "cp1252", []
        except UnicodeDecodeError:
            return body.decode("latin-1"), "latin-1", []
    parts: list[str] = []
    legacy: list[int] = []
    utf8_lines = 0
    for number, line in enumerate(body.split(b"\n"), start=1):
        try:
            parts.append(line.decode("utf-8"))
            utf8_lines += not line.isascii()
        except UnicodeDecodeError:
            legacy.append(number)
            try:
                parts.append(line.decode("cp1252"))
            except UnicodeDecodeError:
                parts.append(line.decode("latin-1"))
    text = "\n".join(parts)
    if not utf8_lines:
        return text, "cp1252", []
    return text, "utf-8 + cp1252", legacy


def _replace_controls(text: str) -> tuple[str, tuple[int, list[int]] | None]:
    """Control characters replaced by spaces; (count, first lines) when there were some."""
    positions = [m.start() for m in _CONTROL_RE.finditer(text)]
    if not positions:
        return text, None
    lines: list[int] = []
    line, last = 1, 0
    for pos in positions:  # incremental count: linear in the text length
        line += text.count("\n", last, pos)
        last = pos
        if not lines or lines[-1] != line:
            lines.append(line)
        if len(lines) >= 10:
            break
    return _CONTROL_RE.sub(" ", text), (len(positions), lines)


def head_lines(text: str, n: int = 5) -> list[str]:
    """The first ``n`` non-blank lines (without line ends), for sniffing."""
    lines: list[str] = []
    for line in io.StringIO(text[:65536]):
        stripped = line.rstrip("\r\n")
        if stripped.strip():
            lines.append(stripped)
            if len(lines) >= n:
                break
    return lines


def format_lines(lines: list[int] | np.ndarray | pd.Series, limit: int = 10) -> str:
    """'lignes 3, 8, 12' or 'lignes 3, 8, ... (et 40 autres)' for warnings."""
    values = [int(v) for v in lines]
    if not values:
        return ""
    word = "ligne" if len(values) == 1 else "lignes"
    shown = ", ".join(str(v) for v in values[:limit])
    rest = len(values) - limit
    return f"{word} {shown}" + (f" (et {rest} autres)" if rest > 0 else "")


#: a FINESS record is about 400 characters, a template row far less: a longer line is a
#: broken file (and its cells would be cut by Excel's 32,767-character limit on export)
MAX_LINE_CHARS = 20_000

#: csv's own limit (128 KiB a cell) is raised so a long cell is a reject, not an exception
csv.field_size_limit(16 * 1024 * 1024)

REASON_UNCLOSED = (
    "guillemet non fermé : une valeur ne peut pas continuer sur la ligne suivante "
    "(ligne coupée ou guillemet en trop) ; ligne illisible"
)
REASON_QUOTES = (
    'guillemets mal placés (un « " » doit fermer la valeur juste avant le « ; ») ; ligne illisible'
)


@dataclass
class SplitText:
    """A delimited text cut into records, with the cells kept in Arrow (no Python strings).

    Arrays are indexed by physical line (0-based; line number = index + 1). ``keep`` is False
    for lines rejected for their quotes. A record never spans lines: a FINESS extract has
    none, and joining lines up to a closing quote once merged three establishments into one
    (the rows in between vanished); a line whose quote is not closed is rejected on its own
    and the next line is read as a record. Records containing a double quote are parsed by
    the csv module (RFC 4180, strict) and stored in ``quoted``; all the others are split by
    Arrow in C++, so a national file never becomes millions of Python strings.
    """

    lines: Any  # pyarrow array of the physical lines (read one by one with ``line``)
    fields: Any  # pyarrow ListArray of the cells of every line (wrong for quoted lines)
    count: np.ndarray
    section: np.ndarray  # lower-cased, trimmed first cell (object array)
    blank: np.ndarray
    keep: np.ndarray
    quoted: dict[int, list[str]]
    delimiter: str = ";"

    def __len__(self) -> int:
        return len(self.lines)

    def line(self, i: int) -> str:
        """Physical line ``i`` (0-based) as a Python string."""
        return str(self.lines[i].as_py())

    def cells(self, i: int) -> list[str]:
        """The cells of line index ``i`` as Python strings (for messages and rare lines)."""
        if i in self.quoted:
            return self.quoted[i]
        return self.line(i).split(self.delimiter)

    def columns(self, mask: np.ndarray, positions: dict[str, int]) -> dict[str, pd.Series]:
        """Cells at ``positions`` of the lines where ``mask`` holds, as string Series indexed
        by line number. Every selected line must have more cells than the largest position."""
        import pyarrow.compute as pc

        index = np.flatnonzero(mask)
        rare_lines = np.fromiter(self.quoted, dtype="int64", count=len(self.quoted))
        in_quoted = np.isin(index, rare_lines)
        plain = index[~in_quoted]
        rare = index[in_quoted]
        selected = self.fields.take(plain)
        out: dict[str, pd.Series] = {}
        for key, position in positions.items():
            arrow = pc.list_element(selected, position)
            column = pd.Series(pd.arrays.ArrowStringArray(arrow), index=plain + 1, dtype="string")
            if len(rare):
                values = [self.quoted[int(i)][position] for i in rare]
                extra = pd.Series(values, index=rare + 1, dtype="string")
                column = pd.concat([column, extra]).sort_index()
            out[key] = column
        return out


def split_text(
    text: str, rejets: list[Rejet], meta: dict, delimiter: str = ";", source: str = ""
) -> SplitText:
    """Cut a delimited text into records (see :class:`SplitText`)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if "\r" in text:  # decode() already unified line ends; bytes given directly may not be
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    # split in Arrow (C++): no Python string per line for a national file
    arr = pc.split_pattern(pa.array([text], pa.large_string()), "\n").flatten()
    if len(arr) and arr[len(arr) - 1].as_py() == "":
        arr = arr.slice(0, len(arr) - 1)
    total = len(arr)
    fields = pc.split_pattern(arr, delimiter)
    count = pc.list_value_length(fields).to_numpy(zero_copy_only=False).astype("int64")
    first = pc.utf8_lower(pc.utf8_trim_whitespace(pc.list_element(fields, 0)))
    section = np.asarray(first.to_numpy(zero_copy_only=False), dtype=object)
    stripped = pc.utf8_trim_whitespace(pc.replace_substring(arr, delimiter, ""))
    blank = pc.equal(stripped, "").to_numpy(zero_copy_only=False).astype(bool)
    keep = np.ones(total, dtype=bool)
    lengths = pc.utf8_length(arr).to_numpy(zero_copy_only=False)
    not_blank = np.flatnonzero(~blank)
    first_line = int(not_blank[0]) if len(not_blank) else -1
    for i in np.flatnonzero(lengths > MAX_LINE_CHARS):
        if int(i) == first_line:  # the header: its own checks say what is wrong with it
            continue
        keep[i] = False
        reason = (
            f"ligne trop longue : {integer_fr(lengths[i])} caractères "
            f"(au plus {integer_fr(MAX_LINE_CHARS)}) ; ligne illisible"
        )
        rejets.append(Rejet(int(i) + 1, "ligne", reason, str(arr[int(i)].as_py())[:60], source))
    has_quote = np.flatnonzero(pc.match_substring(arr, '"').to_numpy(zero_copy_only=False))
    has_quote = has_quote[keep[has_quote]]
    quoted: dict[int, list[str]] = {}
    meta.setdefault("lignes_continuation", [])
    for i in (int(v) for v in has_quote):
        line = str(arr[i].as_py())
        try:
            record = next(
                csv.reader(
                    io.StringIO(line, newline=""),
                    delimiter=delimiter,
                    quotechar='"',
                    strict=True,
                )
            )
            problem = ""
        except csv.Error as exc:
            problem = REASON_UNCLOSED if "end of data" in str(exc) else REASON_QUOTES
        except StopIteration:
            record, problem = [""], ""
        if problem:
            rejets.append(Rejet(i + 1, "ligne", problem, line[:60], source))
            keep[i] = False
            continue
        quoted[i] = record
        count[i] = len(record)
        section[i] = record[0].strip().lower() if record else ""
        blank[i] = not "".join(record).strip()
    return SplitText(
        lines=arr,
        fields=fields,
        count=count,
        section=section,
        blank=blank,
        keep=keep,
        quoted=quoted,
        delimiter=delimiter,
    )


def iter_records(
    text: str,
    rejets: list[Rejet],
    meta: dict,
    progress: Progress | None = None,
    delimiter: str = ";",
    source: str = "",
) -> list[tuple[int, list[str]]]:
    """``(line number, cells)`` of each record, in file order, as Python lists.

    For the small files (template, DUI side file): same splitting rules as
    :func:`split_text`, whose arrays it reads.
    """
    split = split_text(text, rejets, meta, delimiter, source)
    if progress is not None:
        progress(len(split.lines), len(split.lines))
    return [(int(i) + 1, split.cells(int(i))) for i in np.flatnonzero(split.keep)]


def lookup(keys: pd.Series, table_keys: pd.Series | pd.Index) -> np.ndarray:
    """Position of each key in ``table_keys`` (first occurrence), -1 when absent.

    Why not ``isin`` / ``map`` / ``reindex``: with pandas 3 Arrow-backed strings those turn
    100,000 numbers into Python objects (about 1 s); factorizing both columns together stays
    in Arrow and numpy (a few ms).
    """
    table = (
        pd.Series(
            np.asarray(table_keys) if isinstance(table_keys, pd.Index) else table_keys.to_numpy(),
            dtype="string",
        )
        if not isinstance(table_keys, pd.Series)
        else table_keys.astype("string")
    )
    both = pd.concat(
        [keys.astype("string").reset_index(drop=True), table.reset_index(drop=True)],
        ignore_index=True,
    )
    codes, uniques = pd.factorize(both, use_na_sentinel=True)
    key_codes, table_codes = codes[: len(keys)], codes[len(keys) :]
    position = np.full(len(uniques) + 1, -1, dtype="int64")
    order = np.arange(len(table_codes), dtype="int64")
    valid = table_codes >= 0
    # assign in reverse so that the first occurrence wins
    position[table_codes[valid][::-1]] = order[valid][::-1]
    result = np.where(key_codes >= 0, position[key_codes], -1)
    return result


def isin(values: pd.Series, other: pd.Series | pd.Index | list) -> pd.Series:
    """``values.isin(other)`` for large string columns (see :func:`lookup`)."""
    other_series = (
        other if isinstance(other, pd.Series) else pd.Series(np.asarray(other, dtype=object))
    )
    return pd.Series(lookup(values, other_series) >= 0, index=values.index)


def reject_bad_keys(
    frame: pd.DataFrame,
    key: str,
    source: str,
    duplicate_reason: Callable[[str, int], str],
) -> tuple[pd.DataFrame, list[Rejet]]:
    """Drop the rows of a side file whose FINESS key is invalid or repeated.

    Side files (EJ extract, DUI file) are keyed by one FINESS number: a row with a malformed
    number or a wrong check key is rejected with the checker's reason, and a repeated key is
    rejected naming the line that was kept (``duplicate_reason(value, first_line)``).
    ``frame`` must carry the input line numbers in ``ligne``.
    """
    from grappes.core.finess import check_finess_series

    rejets: list[Rejet] = []
    reasons = check_finess_series(frame[key])
    bad = reasons != ""
    rejets.extend(
        Rejet(int(line), key, str(r), str(v), source)
        for line, r, v in zip(frame["ligne"][bad], reasons[bad], frame[key][bad], strict=True)
    )
    frame = frame[~bad]
    dup = frame.duplicated(key, keep="first")
    if dup.any():
        first = frame.groupby(key)["ligne"].transform("first")
        rejets.extend(
            Rejet(int(line), key, duplicate_reason(str(v), int(f)), str(v), source)
            for line, v, f in zip(frame["ligne"][dup], frame[key][dup], first[dup], strict=True)
        )
        frame = frame[~dup]
    return frame, rejets
