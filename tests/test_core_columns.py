"""The per-distinct helpers of ``grappes.core.columns``: the same result as on every row."""

from __future__ import annotations

import numpy as np
import pandas as pd

from grappes.core.columns import distinct_rows, per_distinct


def _upper_len(values: pd.Series) -> pd.Series:
    text = values.astype("string").fillna("").str.strip().str.upper()
    return text + "/" + text.str.len().astype("string")


def test_per_distinct_gives_what_the_whole_column_gives() -> None:
    values = pd.Series([" a", "b", None, " a", "", "b", "é"], index=[9, 3, 4, 0, 1, 2, 7])
    got = per_distinct(values, _upper_len)
    assert got.index.equals(values.index)
    assert str(got.dtype) == "string"
    assert got.tolist() == _upper_len(values).tolist()
    assert per_distinct(pd.Series([], dtype="string"), _upper_len).tolist() == []


def test_distinct_rows_group_equal_combinations_only() -> None:
    a = pd.Series(["x", "x", "y", None, "x", None], dtype="string")
    b = pd.Series(["1", "2", "1", "1", "1", "1"], dtype="string")
    first, inverse = distinct_rows(a, b)
    assert len(first) == 4  # (x,1) (x,2) (y,1) (NA,1)
    rows = list(zip(a.tolist(), b.tolist(), strict=True))
    for i, k in enumerate(inverse):
        assert rows[first[k]] == rows[i]
    assert len(set(inverse.tolist())) == len(first)
    empty = pd.Series([], dtype="string")
    first, inverse = distinct_rows(empty, empty)
    assert len(first) == 0 and len(inverse) == 0
    assert isinstance(inverse, np.ndarray)
