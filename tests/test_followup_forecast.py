"""The vectorised Theil-Sen fit (``forecast.theil_sen``) gives what
``scipy.stats.theilslopes`` gives, series by series, ties included."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest
from scipy.stats import theilslopes

from grappes.followup.forecast import (
    CONFIDENCE,
    Outlook,
    Projection,
    project,
    project_many,
    theil_sen,
)
from grappes.followup.months import add_months, months_between


@pytest.mark.parametrize("n", [3, 4, 5, 6, 9])
def test_batch_fit_equals_scipy_on_random_series(n):
    rng = np.random.default_rng(n)
    # increasing months with gaps, rates with ties (rounded to whole percents) and noise
    x = np.cumsum(rng.integers(1, 3, size=(300, n)), axis=1).astype(float)
    y = np.round(rng.uniform(0, 1, size=(300, n)) * 20) / 20
    y[::3] += rng.normal(0, 0.01, size=(100, n))
    y[5] = 0.5  # a flat series: every value tied
    fit = theil_sen(x, y)
    for row in range(len(y)):
        ref = theilslopes(y[row], x[row], alpha=CONFIDENCE)
        assert fit.slope[row] == ref.slope
        assert fit.low[row] == ref.low_slope
        assert fit.high[row] == ref.high_slope
    assert fit.low[5] == fit.high[5] == fit.slope[5] == 0


def _reference(series, target, min_points=3, window=6):
    """The forecast as it was written before the batch fit: one ``theilslopes`` per series."""
    pts = sorted(series)
    if not pts:
        return Projection(Outlook.TOO_FEW, target, 0)
    last_month, last_rate = pts[-1]
    if last_rate >= target:
        return Projection(Outlook.MET, target, len(pts), last_month, last_month, last_month,
                          None, last_rate)
    pts = pts[-window:]
    if len(pts) < min_points:
        return Projection(Outlook.TOO_FEW, target, len(pts), last_rate=last_rate)
    origin = pts[0][0]
    x = np.array([months_between(origin, m) for m, _ in pts], dtype=float)
    y = np.array([r for _, r in pts], dtype=float)
    slope, _, low, high = theilslopes(y, x, alpha=CONFIDENCE)
    if slope <= 0:
        return Projection(Outlook.NO_PROGRESS, target, len(pts), slope_per_month=float(slope),
                          last_rate=last_rate)

    def crossing(s):
        if s <= 0:
            return None
        intercept = float(np.median(y - s * x))
        k = max(x[-1] + 1, math.ceil((target - intercept) / s - 1e-9))
        return add_months(origin, int(k))

    central, earliest, latest = crossing(float(slope)), crossing(float(high)), crossing(float(low))
    if earliest is not None:
        earliest = min(earliest, central)
    if latest is not None:
        latest = max(latest, central)
    return Projection(Outlook.PROJECTED, target, len(pts), central, earliest, latest,
                      float(slope), last_rate)


def test_project_many_equals_the_one_by_one_scipy_forecast():
    rng = np.random.default_rng(14)
    series, targets = [], []
    for k in range(200):
        n = int(rng.integers(0, 9))
        start = date(2023, 1 + k % 12, 1)
        rates = np.clip(0.3 + rng.uniform(-0.02, 0.08) * np.arange(n)
                        + rng.normal(0, 0.03, n), 0, 1)
        series.append([(add_months(start, i), float(r)) for i, r in enumerate(rates)])
        targets.append(0.7 if k % 2 else 0.9)
    batch = project_many(series, targets)
    assert batch == [_reference(s, t) for s, t in zip(series, targets, strict=True)]
    assert batch == [project(s, t) for s, t in zip(series, targets, strict=True)]
    assert {p.outlook for p in batch} == set(Outlook)  # every case was exercised
