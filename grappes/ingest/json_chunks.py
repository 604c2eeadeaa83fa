"""A JSON text read in chunks, its values parsed one at a time by the C scanner of ``json``.

Why: the FINESS+ flow is one JSON object of several hundred MB holding long arrays of small
records. ``json.load`` keeps the whole document in memory; walking parser events in Python
(ijson's ``basic_parse``) is several times slower than ``json.load``. Here the decompressed
bytes are decoded in chunks of ``CHUNK_BYTES`` and each record is parsed by
``json.JSONDecoder.scan_once`` (C) straight from the buffer, then dropped by the caller: the
speed of ``json``, with the memory of one chunk and one record.

Two guards run at C or numpy speed so that the fast path stays exact:

- **keys**: every object goes through a minimal ``object_pairs_hook`` that notes an object
  whose keys are given twice (``len(dict(pairs)) != len(pairs)``), or that holds a key of
  the caller's ``known_keys`` in another spelling (``EGE`` for ``ege``: the slow path matches
  keys whatever their case) or two keys differing only by their case. The usual object, all
  of whose keys are in ``known_keys``, costs one ``dict`` and one subset test; a field
  unknown to the caller is checked in Python but does not leave the fast path;
- **depth**: each chunk of bytes is scanned (:class:`DepthScan`) for brackets outside
  strings; a chunk that goes deeper than the limit marks its text as deep. The C scanner
  itself raises ``RecursionError`` on very deep values (about 1,000 levels), which is caught.

A record flagged by either guard is handed back as text (``Record.text``) so that the caller
parses it with its slow, exact reader (the path of the problem, the lists joined...). Real
files never take the slow path.
"""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np

#: bytes decoded at a time (the buffer grows past it only for a record larger than a chunk).
#: 256 KB rather than 1 MB: the passes over a chunk (UTF-8 decoding, depth scan, msgspec
#: decoding, re-encoding, colon counts) then find it in the processor's cache: 2.24 s of
#: CPU against 2.41 s on the national benchmark (issue 21, item 6, fifth pass)
CHUNK_BYTES = 1 << 18
#: an error this close to the end of the buffer may be a record cut by the chunk boundary
_CUT_MARGIN = 64
_WS = re.compile(r"[ \t\n\r]*")
_STRING_REST = re.compile(r'(?:[^"\\]|\\.)*"', re.DOTALL)
_SPECIAL = re.compile(r'["\[\]{}]')
#: every byte but the quote and the four brackets (deleted before the depth scan)
_NOT_STRUCTURAL = bytes(sorted(set(range(256)) - set(b'"[]{}')))
#: the quote and the four brackets, as a lookup table (record ends)
_STRUCTURAL = np.zeros(256, dtype=bool)
_STRUCTURAL[list(b'"[]{}')] = True
_STEP = np.zeros(256, dtype=np.int32)
_STEP[list(b"[{")] = 1
_STEP[list(b"]}")] = -1


class JsonBroken(Exception):
    """The JSON text is invalid (``detail``) or ends inside a value (``truncated``)."""

    def __init__(self, detail: str, truncated: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.truncated = truncated


class DepthScan:
    """Nesting depth of a JSON byte stream fed chunk by chunk, brackets in strings ignored.

    Vectorised: escaped quotes are made neutral, every byte but quotes and brackets deleted
    (``bytes.translate``), then the string parity of each bracket (the quotes before it)
    and the depth (``cumsum`` of the brackets outside strings) are computed with numpy.
    ``feed`` says whether the chunk went deeper than ``limit``. Exact on valid JSON; invalid
    JSON is refused by the parser anyway.

    With ``record_level``, ``feed`` also notes in ``last_end`` the byte offset in the chunk
    just past the last bracket closing back to that level (the end of the last whole record
    of the chunk; -1 when none): found by :func:`_last_close` in the chunk's tail, whose
    depth and string state at its start follow from those at the chunk's end.
    """

    def __init__(self, limit: int, record_level: int = -1) -> None:
        self.limit = limit
        self.record_level = record_level
        self.depth = 0
        self.in_string = False
        self.carry = b""  # trailing backslashes: their pairing continues in the next chunk
        self.last_end = -1
        self.plain = bytearray()  # the chunk with its escaped quotes made neutral (reused)

    def feed(self, chunk: bytes) -> bool:
        lead = len(self.carry)
        data = self.carry + chunk if self.carry else chunk
        self.carry = b""
        self.last_end = -1
        if data.endswith(b"\\"):
            kept = data.rstrip(b"\\")
            self.carry = data[len(kept) :]
            data = kept
        plain = _neutral_escapes(data, self.plain) if b"\\" in data else data
        marks = np.frombuffer(plain.translate(None, _NOT_STRUCTURAL), dtype=np.uint8)
        brackets = np.flatnonzero(marks != 34)
        # the marks are quotes and brackets only: the quotes before the k-th bracket number
        # its index minus k, and an odd count means the bracket is inside a string
        quotes_before = brackets - np.arange(len(brackets))
        if self.in_string:
            quotes_before += 1
        self.in_string = bool((len(marks) - len(brackets) + self.in_string) % 2)
        if not len(brackets):
            return False
        steps = _STEP[marks[brackets]]
        steps[(quotes_before & 1).astype(bool)] = 0
        levels = np.cumsum(steps)
        levels += self.depth
        self.depth = int(levels[-1])
        if self.record_level >= 0:
            for size in (_TAIL_BYTES, _TAIL_BYTES * 4, len(data)):
                end = _last_close(data, size, self.depth, self.in_string, self.record_level)
                if end >= 0 or size >= len(data):
                    break
            self.last_end = end - lead if end >= 0 else -1
        return int(levels.max()) > self.limit


#: the tail of a chunk searched first for the last record end (records are a few KB; then a
#: tail four times longer, then the whole chunk: an entity with dozens of ege is longer)
_TAIL_BYTES = 1 << 14


def _last_close(data: bytes, size: int, depth: int, in_string: bool, level: int) -> int:
    """Offset just past the last bracket of ``data[-size:]`` closing back to ``level``; -1.

    ``depth`` and ``in_string`` are the state at the end of ``data``: walking the tail gives
    the depth change and quote parity across it, hence the state at its start. The tail
    starts before any run of backslashes, so that every escape lies whole inside it.
    """
    start = max(0, len(data) - size)
    while start > 0 and data[start - 1] == 92:
        start -= 1
    arr = np.frombuffer(data, dtype=np.uint8)[start:]
    where = np.flatnonzero(_STRUCTURAL[arr])
    marks = arr[where]
    if 92 in arr:
        where, marks = _unescaped(arr, where, marks)
    is_quote = marks == 34
    brackets = np.flatnonzero(~is_quote)
    if not len(brackets):
        return -1
    quotes = len(marks) - len(brackets)
    string_at_start = bool((quotes + in_string) % 2)
    quotes_before = brackets - np.arange(len(brackets)) + string_at_start
    steps = _STEP[marks[brackets]]
    steps[(quotes_before & 1).astype(bool)] = 0
    levels = np.cumsum(steps)
    levels += depth - int(levels[-1])
    ends = np.flatnonzero((steps < 0) & (levels == level))
    return start + int(where[brackets[ends[-1]]]) + 1 if len(ends) else -1


def _unescaped(
    arr: np.ndarray, where: np.ndarray, marks: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``where``/``marks`` without the escaped quotes (after an odd run of backslashes)."""
    quotes = where[marks == 34]
    quotes = quotes[quotes > 0]
    candidates = quotes[arr[quotes - 1] == 92].tolist()
    escaped = []
    for q in candidates:
        k = q - 1
        while k >= 0 and arr[k] == 92:
            k -= 1
        if (q - 1 - k) % 2:
            escaped.append(q)
    if not escaped:
        return where, marks
    keep = ~np.isin(where, escaped)
    return where[keep], marks[keep]


#: backslashes of a chunk found one by one before a vectorised search takes over
_WALKED = 256


def backslashes(data: bytes) -> np.ndarray:
    """The offsets of the backslashes of ``data``, in order.

    Found one by one with ``bytes.find`` (``memchr``) while they are few, as in a real
    chunk (an escaped quote in a name now and then): a numpy comparison of the whole
    chunk and its ``flatnonzero`` cost about 1 ms a megabyte, ten times more. Past
    ``_WALKED`` of them (a text written with ``\\u`` escapes), the numpy search.
    """
    found: list[int] = []
    at = data.find(b"\\")
    while at >= 0:
        if len(found) == _WALKED:
            return np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 92)
        found.append(at)
        at = data.find(b"\\", at + 1)
    return np.array(found, dtype=np.intp)


def _neutral_escapes(data: bytes, out: bytearray | None = None) -> bytes | bytearray:
    """``data`` with its escaped quotes (``\\"``) made neutral (``x``), at numpy speed.

    Only an escaped quote would change the count of quotes; every other escape (``\\n``,
    ``\\u00e9``, ``\\\\``...) holds no quote or bracket, and the backslashes themselves are
    deleted by the scan. Backslashes pair left to right as JSON reads them, so a quote is
    escaped when the run of backslashes just before it is odd (the quote of ``\\\\"`` stays a
    quote). The backslashes are found by :func:`backslashes`: they are rare, and two
    ``bytes.replace`` that searched each chunk twice for them cost 0.25 s on the national
    benchmark, against 0.01 s. The length does not change. An escaped bracket is
    not JSON: the parser refuses it anyway. ``data`` does not end with a backslash (held back
    by the caller). ``out``: a buffer the caller keeps for the copy, when one is needed (a
    new buffer for each chunk costs its page faults, several times the copy itself).
    """
    slashes = backslashes(data)
    if not len(slashes):
        return data
    arr = np.frombuffer(data, dtype=np.uint8)
    # rank of each backslash in its run: an even rank (0, 2...) starts an escape
    rank = np.arange(len(slashes))
    first = np.ones(len(slashes), dtype=bool)
    first[1:] = slashes[1:] != slashes[:-1] + 1
    rank -= np.maximum.accumulate(np.where(first, rank, 0))
    escaped = slashes[(rank & 1) == 0] + 1
    quotes = escaped[arr[escaped] == 34]
    if not len(quotes):
        return data
    if out is None:
        out = bytearray()
    out[:] = data
    for at in quotes.tolist():
        out[at] = 120  # "x"
    return out


@dataclass
class Record:
    """One value read from the stream: built (``value``) or, when flagged, its ``text``."""

    value: Any
    text: str | None  # set when the record must go through the caller's exact reader
    deep: bool  # the C scanner hit its recursion limit (the value was not built)


class JsonChunks:
    """Cursor over a UTF-8 JSON byte stream, read ``CHUNK_BYTES`` at a time.

    ``item_depth`` is the absolute depth allowed inside the records read with
    :meth:`record` (a record at depth 3, allowed 64 levels: 66). ``known_keys`` are the
    exact key spellings of the fast path. ``record_level``: the depth the brackets of the
    records close back to (2 for the items of an array held by the top-level object), for
    :meth:`batch`.
    """

    def __init__(
        self, raw: BinaryIO, known_keys: frozenset[str], item_depth: int, record_level: int = -1
    ) -> None:
        self.raw = raw
        self.buf = ""
        self.pos = 0
        self.base = 0  # characters dropped before ``buf``
        self.eof = False
        self.decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self.scan = DepthScan(item_depth, record_level)
        self.batch_end = -1  # absolute character just past the last whole record read
        self.deep: list[tuple[int, int]] = []  # character ranges of chunks found too deep
        self.bytes_read = 0
        flagged: list[bool] = []
        self.flagged = flagged
        known = known_keys
        known_lower = frozenset(key.lower() for key in known_keys)

        def other_keys_clash(d: dict[str, Any]) -> bool:
            """Keys outside ``known``: a clash when one is a known key in another case, or
            two keys differ only by their case (an unknown field alone is harmless)."""
            lowered = [key.lower() for key in d]
            if len(set(lowered)) != len(lowered):
                return True
            pairs = zip(d, lowered, strict=True)
            return any(key not in known and low in known_lower for key, low in pairs)

        def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
            d = dict(pairs)
            if len(d) != len(pairs) or (not d.keys() <= known and other_keys_clash(d)):
                flagged.append(True)
            return d

        self.scan_once = json.JSONDecoder(object_pairs_hook=pairs_hook).scan_once

    # ------------------------------------------------------------------ buffer

    def fill(self, grow: bool = False) -> bool:
        """Read the next chunk (``grow``: at least as much as is buffered); False at the end."""
        if self.eof:
            return False
        size = CHUNK_BYTES
        if grow:
            size = max(size, len(self.buf) - self.pos)
        data = self.raw.read(size)
        self.bytes_read += len(data)
        try:
            text = self.decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            where = self.bytes_read - len(data) + exc.start
            msg = f"octets qui ne sont pas de l'UTF-8 vers l'octet {where} ({exc.reason})"
            raise JsonBroken(msg) from exc
        if not data:
            self.eof = True
        elif self.scan.feed(data):
            start = self.base + len(self.buf)
            self.deep.append((start - 4, start + len(text) + 4))
        self.base += self.pos
        self.buf = self.buf[self.pos :] + text
        self.pos = 0
        if data and self.scan.last_end >= 0:
            # the characters after the record end: the bytes after it, less those the
            # decoder holds back (a character cut by the chunk boundary)
            held = len(self.decoder.getstate()[0])
            tail = data[self.scan.last_end : len(data) - held]
            after = len(tail) if tail.isascii() else len(tail.decode("utf-8", "surrogatepass"))
            self.batch_end = self.base + len(self.buf) - after
        return bool(data)

    def batch(self) -> tuple[str, int] | None:
        """The text of the whole records from the cursor to the last one read, and its end.

        The cursor must stand at the start of an item of an array whose items close back to
        ``record_level``. The text runs to just past the last bracket closing back to that
        level in the buffer: a run of items separated by commas when they all belong to the
        array (the caller's parser refuses anything else). None when there is no such text,
        or when it lies in a chunk found too deep. The cursor does not move.
        """
        start = self.pos
        end = self.batch_end - self.base
        if end <= start or (self.deep and self._in_deep(start, end)):
            return None
        return self.buf[start:end], end

    def peek(self) -> str:
        """The next character that is not whitespace ('' at the end), not consumed."""
        while True:
            self.pos = _WS.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.fill():
                return ""

    def expect(self, chars: str) -> str:
        """Consume the next character, which must be one of ``chars``."""
        char = self.peek()
        if not char:
            raise JsonBroken("fin de fichier prématurée", truncated=True)
        if char not in chars:
            shown = " ou ".join(f"« {c} »" for c in chars)
            raise JsonBroken(f"attendu {shown}, trouvé « {char} » à l'octet {self.offset()}")
        self.pos += 1
        return char

    def offset(self) -> int:
        """About the byte offset of the cursor in the JSON text (for messages)."""
        rest = len(self.buf[self.pos :].encode("utf-8", "surrogatepass"))
        return max(0, self.bytes_read - rest)

    # ------------------------------------------------------------------ values

    def record(self) -> Record:
        """Parse the value at the cursor and move past it.

        Fast path: the value as built by the C scanner. When the key hook flagged an object,
        or the value lies in a chunk found too deep, or the scanner hit its recursion limit,
        ``text`` holds the value's text for the caller's exact reader instead.
        """
        self.peek()
        while True:
            self.flagged.clear()
            error: json.JSONDecodeError | None = None
            try:
                value, end = self.scan_once(self.buf, self.pos)
            except StopIteration as exc:
                error = json.JSONDecodeError("Expecting value", self.buf, exc.value)
            except json.JSONDecodeError as exc:
                error = exc
            except RecursionError:
                end = self.skip()
                return Record(None, self._take(end), True)
            except ValueError as exc:  # an integer of more than 4,300 digits
                detail = " ".join(str(exc).split())[:160]
                if "digits" in detail:
                    detail = "nombre entier trop long (plus de 4 300 chiffres)"
                raise JsonBroken(f"{detail} vers l'octet {self.offset()}") from exc
            else:
                # a number may go on in the next chunk (``12`` of ``12.5``): margin for them
                room = len(self.buf) - end
                if self.eof or room > _CUT_MARGIN or (room and type(value) not in (int, float)):
                    break
            if self.eof:
                cut = error is None or not self.buf[error.pos :].strip()
                cut = cut or error.msg.startswith("Unterminated string")  # type: ignore[union-attr]
                if cut:
                    raise JsonBroken("fin de fichier prématurée", truncated=True)
                raise JsonBroken(f"{_english(error)} vers l'octet {self._error_offset(error)}")
            if error is not None and not self._maybe_cut(error):
                raise JsonBroken(f"{_english(error)} vers l'octet {self._error_offset(error)}")
            self.fill(grow=True)
        if self.flagged or (self.deep and self._in_deep(self.pos, end)):
            return Record(None, self._take(end), False)
        self.pos = end
        return Record(value, None, False)

    def _take(self, end: int) -> str:
        text = self.buf[self.pos : end]
        self.pos = end
        return text

    def _maybe_cut(self, error: json.JSONDecodeError) -> bool:
        return error.pos >= len(self.buf) - _CUT_MARGIN or error.msg.startswith(
            "Unterminated string"
        )

    def _error_offset(self, error: json.JSONDecodeError) -> int:
        rest = len(self.buf[error.pos :].encode("utf-8", "surrogatepass"))
        return max(0, self.bytes_read - rest)

    def _in_deep(self, start: int, end: int) -> bool:
        a, b = self.base + start, self.base + end
        return any(lo < b and a < hi for lo, hi in self.deep)

    def skip(self) -> int:
        """The end of the container or string at the cursor, found without building it.

        Iterative (any depth): strings are jumped over with a regex, brackets counted. The
        cursor does not move; the buffer grows as needed (positions are kept relative to the
        cursor, which ``fill`` moves to 0).
        """
        rel = 0
        depth = 0
        while True:
            base = self.pos
            match = _SPECIAL.search(self.buf, base + rel)
            if match is None:
                rel = len(self.buf) - base
                if not self.fill(grow=True):
                    raise JsonBroken("fin de fichier prématurée", truncated=True)
                continue
            rel = match.end() - base
            char = match.group()
            if char == '"':
                while True:
                    base = self.pos
                    rest = _STRING_REST.match(self.buf, base + rel)
                    if rest is not None:
                        break
                    if not self.fill(grow=True):
                        raise JsonBroken("fin de fichier prématurée", truncated=True)
                rel = rest.end() - base
                if depth == 0:
                    return base + rel
            elif char in "[{":
                depth += 1
            else:
                depth -= 1
                if depth <= 0:
                    return base + rel


def _english(error: json.JSONDecodeError | None) -> str:
    """The parser's reason, translated for the usual cases."""
    if error is None:
        return "fin de fichier prématurée"
    words = {
        "Expecting value": "valeur attendue",
        "Expecting ',' delimiter": "virgule attendue",
        "Expecting ':' delimiter": "deux-points attendu",
        "Expecting property name enclosed in double quotes": "nom de clé entre guillemets attendu",
        "Unterminated string starting at": "texte non terminé",
        "Invalid control character at": "caractère de contrôle dans un texte",
        "Invalid \\escape": "séquence d'échappement invalide",
        "Invalid \\uXXXX escape": "séquence \\uXXXX invalide",
    }
    for english, french in words.items():
        if error.msg.startswith(english):
            return french
    return " ".join(error.msg.split())[:120]
