"""Gzip input of the ingest, inflated by zlib-ng: one home for opening it and wording its errors.

Why: on the national FINESS+ flow (120 MB of JSON, 15 MB compressed) the standard ``gzip``
module spends about 0.26 s inflating, a tenth of the reader's time, where the gzip reader of
``zlib-ng`` (``zlib_ng.gzip_ng``, a compiled drop-in for ``gzip.GzipFile``) spends 0.09 s
(issue 21, item 6). It yields the same bytes in reads of the same size and raises the same
exception classes (``EOFError`` for a truncated stream, ``gzip.BadGzipFile`` for a bad
header or trailer), ``zlib_ng.error`` worded as ``zlib.error`` for a broken deflate stream.
Two differences are smoothed or said here:

- a failed CRC check gives its two values in decimal: :func:`corrupt_detail` writes them in
  hexadecimal, as ``gzip`` does, so that the French message stays the same;
- fewer than ten bytes of garbage after the last member (not zeros) read as a truncated
  member (``EOFError``) instead of « Not a gzipped file »: when the stream can be read again
  (a path, bytes, an upload), :class:`_Inflated` asks the standard ``gzip`` for its verdict
  on an ``EOFError``, so that such a file is still called corrupt, not truncated. It costs a
  second reading, only for a file that is refused anyway.
"""

from __future__ import annotations

import gzip
import re
import zlib
from typing import BinaryIO

from zlib_ng import gzip_ng, zlib_ng

#: what a corrupt (not truncated: ``EOFError``) gzip stream raises while being read
CORRUPT_ERRORS: tuple[type[Exception], ...] = (gzip.BadGzipFile, zlib.error, zlib_ng.error)
_CRC = re.compile(r"^CRC check failed (\d+) != (\d+)$")


class _Inflated:
    """The content of a gzip stream, read by zlib-ng; an ``EOFError`` checked by ``gzip``."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.inner = gzip_ng.GzipNGFile(fileobj=raw, mode="rb")

    def read(self, size: int) -> bytes:
        try:
            return self.inner.read(size)
        except EOFError as exc:
            verdict = self._standard_verdict()
            if verdict is None:
                raise
            raise verdict from exc

    def _standard_verdict(self) -> Exception | None:
        """What ``gzip.GzipFile`` raises on the whole stream; None when it cannot tell."""
        seekable = getattr(self.raw, "seekable", None)
        if seekable is None or not seekable():
            return None
        self.raw.seek(0)
        standard = gzip.GzipFile(fileobj=self.raw, mode="rb")
        try:
            while standard.read(1 << 20):
                pass
        except (EOFError, *CORRUPT_ERRORS) as exc:
            return exc
        return None


def open_gzip(raw: BinaryIO) -> _Inflated:
    """The decompressed content of the gzip stream ``raw`` (read it with ``read(size)``)."""
    return _Inflated(raw)


def gunzip_head(head: bytes, size: int) -> bytes:
    """Up to ``size`` bytes decompressed from the first bytes of a gzip file ('' when not gzip)."""
    try:
        return zlib_ng.decompressobj(16 + zlib_ng.MAX_WBITS).decompress(head, size)
    except zlib_ng.error:
        return b""


def corrupt_detail(exc: Exception) -> str:
    """The English detail of a corrupt gzip stream, worded as the standard ``gzip`` does."""
    detail = str(exc)
    crc = _CRC.match(detail)
    if crc:
        return f"CRC check failed {hex(int(crc[1]))} != {hex(int(crc[2]))}"
    return detail
