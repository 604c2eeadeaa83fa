"""Tolerant column accessors for tables that may come from a user's edited CSV.

A grouping edited by hand in Excel (``grappes chiffrer``) can miss columns or carry ``oui``/``non``
instead of booleans: every rule check and the solver read columns through these helpers so
that one place decides how text, flags and numbers are read.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

#: The one list of words a user writes for yes / no in a file or a form (lower case, trimmed):
#: the template and DUI readers, the declarations of the registry, ``grappes chiffrer`` and
#: ``flag_column`` all read them. « x » is a ticked box.
TRUE_WORDS: frozenset[str] = frozenset({"oui", "o", "vrai", "true", "1", "yes", "y", "x"})
FALSE_WORDS: frozenset[str] = frozenset({"non", "n", "faux", "false", "0", "no"})


def text_column(df: pd.DataFrame, col: str) -> pd.Series:
    """A text column with NA as '' (missing column = all '')."""
    if col not in df.columns:
        return pd.Series("", index=df.index, dtype="string")
    return df[col].astype("string").fillna("").str.strip()


def flag_column(df: pd.DataFrame, col: str) -> pd.Series:
    """A boolean column with NA (unknown) read as False."""
    if col not in df.columns:
        return pd.Series(False, index=df.index, dtype=bool)
    s = df[col]
    if s.dtype == bool:
        return s
    if pd.api.types.is_string_dtype(s) or s.dtype == object:
        low = s.astype("string").str.strip().str.lower()
        return low.isin(TRUE_WORDS).fillna(False).astype(bool)
    return s.astype("boolean").fillna(False).astype(bool)


def count_column(df: pd.DataFrame, col: str) -> pd.Series:
    """An integer column with NA as 0."""
    if col not in df.columns:
        return pd.Series(0, index=df.index, dtype="int64")
    return pd.to_numeric(df[col], errors="coerce").fillna(0).astype("int64")


def number_column(df: pd.DataFrame, col: str) -> pd.Series:
    """A float column with unparsable values as NaN."""
    if col not in df.columns:
        return pd.Series(np.nan, index=df.index, dtype="float64")
    return pd.to_numeric(df[col], errors="coerce").astype("float64")


def per_distinct(values: pd.Series, compute: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``compute(values)``, worked out once per distinct value then spread back to every row.

    Why: a national file repeats a few hundred codes (statuses, FINESS numbers are the
    exception) over 100,000 rows, and each string operation of pandas on the whole column
    costs milliseconds; on the distinct values it costs nothing. ``values`` is read as text
    (missing values as ''); ``compute`` must work row by row (the result of a row depends on
    its value only) and return a Series of the same length.
    """
    text = values.astype("string").fillna("")
    codes, uniques = pd.factorize(text)
    distinct = compute(pd.Series(uniques, dtype="string"))
    spread = distinct.array.take(codes)
    return pd.Series(spread, index=values.index, dtype=distinct.dtype)


def distinct_rows(*columns: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(first, inverse): the position of one row per distinct combination of ``columns``
    (missing values count as a value of their own), and for every row the index of its
    combination in ``first``; so ``frame.iloc[first]`` worked out, then ``.iloc[inverse]``,
    gives the result of every row (see :func:`per_distinct`)."""
    n = len(columns[0])
    key = np.zeros(n, dtype=np.int64)
    for column in columns:
        codes, uniques = pd.factorize(column, use_na_sentinel=False)
        key = key * (len(uniques) + 1) + codes
        key = pd.factorize(key)[0].astype(np.int64)  # stays below n: no overflow
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return first, inverse.ravel()
