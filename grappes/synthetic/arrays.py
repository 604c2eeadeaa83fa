"""Column helpers of the generator: random draws and element-wise strings over numpy arrays.

Columns are kept as numpy arrays in dicts while generating; frames are built once at the end,
because pandas 3 converts every object column it is given to its string dtype.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Generated columns by name (one numpy array each, all of one length).
Columns = dict[str, np.ndarray]


def draw(options: Sequence[tuple[str, float]], n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` codes drawn with the given weights."""
    codes = np.array([c for c, _ in options], dtype=object)
    weights = np.array([w for _, w in options], dtype="float64")
    return codes[rng.choice(len(codes), size=n, p=weights / weights.sum())]


def dates(start: str, end: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` ISO dates drawn uniformly between ``start`` and ``end`` (both included)."""
    lo = np.datetime64(start, "D").astype(np.int64)
    hi = np.datetime64(end, "D").astype(np.int64)
    days = rng.integers(lo, hi + 1, size=n).astype("datetime64[D]")
    return np.datetime_as_string(days, unit="D").astype(object)


def pick(words: Sequence[str], n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` words drawn uniformly, with replacement."""
    return np.array(words, dtype=object)[rng.integers(0, len(words), size=n)]


def cut(values: np.ndarray, width: int) -> np.ndarray:
    """Texts cut to the ``width`` characters a FINESS item holds (trailing spaces dropped)."""
    return np.array([v[:width].rstrip() for v in values], dtype=object)


def cat(*parts: np.ndarray | str) -> np.ndarray:
    """Element-wise string concatenation of arrays and constants (object result)."""
    out = np.asarray(parts[0], dtype=object)
    for part in parts[1:]:
        out = out + (part if isinstance(part, str) else np.asarray(part, dtype=object))
    return np.asarray(out, dtype=object)
