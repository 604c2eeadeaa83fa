"""When will an indicator reach its target? A robust linear trend on the last months.

Theil-Sen (median of pairwise slopes) ignores a bad month or two, which a least-squares line
would follow. The 90 % interval of the slope (Sen 1968, as ``scipy.stats.theilslopes``)
gives the earliest and latest month; a slope whose lower bound is not positive leaves the
latest month unbounded. With fewer than ``min_points`` measured months the forecast says so
instead of guessing.

A dashboard projects thousands of short series (5 indicators x every ESMS x every grappe):
``project_many`` fits them all at once with numpy, series of the same length stacked in one
array, and gives exactly what ``scipy.stats.theilslopes`` gives series by series (same
operations in the same order; tests/test_followup_forecast.py compares them).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

import numpy as np
from scipy.stats import norm

from grappes.followup.months import add_months, months_between

CONFIDENCE = 0.90
#: normal quantile of the interval, computed once (theilslopes recomputes it on every call)
_Z = float(norm.ppf((1.0 - CONFIDENCE) / 2.0))


class Outlook(StrEnum):
    MET = "atteint"
    PROJECTED = "projete"
    TOO_FEW = "insuffisant"
    NO_PROGRESS = "sans_progression"


@dataclass(frozen=True)
class Projection:
    """Expected month an indicator reaches ``target`` (None when not projectable)."""

    outlook: Outlook
    target: float
    points: int
    month: date | None = None
    earliest: date | None = None
    latest: date | None = None
    slope_per_month: float | None = None
    last_rate: float | None = None


@dataclass(frozen=True)
class TheilSen:
    """Slopes of a batch of series: median and the two ends of the 90 % interval."""

    slope: np.ndarray
    low: np.ndarray
    high: np.ndarray


def _tie_term(v: np.ndarray) -> np.ndarray:
    """Per row, the sum over groups of k equal values of k(k-1)(2k+5) (Sen's tie correction,
    as ``theilslopes``): each value counts the values equal to it in its row (k, itself
    included) and adds (k-1)(2k+5), so a group of k adds k times that. Integers: exact."""
    k = (v[:, :, None] == v[:, None, :]).sum(axis=2)
    return ((k - 1) * (2 * k + 5)).sum(axis=1)


def theil_sen(x: np.ndarray, y: np.ndarray) -> TheilSen:
    """Theil-Sen fits of the rows of ``y`` (shape series x points) against the rows of ``x``,
    each row's ``x`` strictly increasing."""
    s, n = y.shape
    i, j = np.tril_indices(n, -1)  # pairs with x[i] > x[j]
    slopes = (y[:, i] - y[:, j]) / (x[:, i] - x[:, j])
    slopes.sort(axis=1)
    med = np.median(slopes, axis=1)
    nt = slopes.shape[1]
    ties = _tie_term(x) + _tie_term(y)
    sigsq = 1 / 18.0 * (n * (n - 1) * (2 * n + 5) - ties)
    with np.errstate(invalid="ignore"):  # theilslopes gives NaN bounds then, so do we
        sigma = np.sqrt(sigsq)
    bounded = np.isfinite(sigma)
    sigma = np.where(bounded, sigma, 0.0)
    upper = np.minimum(np.round((nt - _Z * sigma) / 2.0).astype(np.int64), nt - 1)
    lower = np.maximum(np.round((nt + _Z * sigma) / 2.0).astype(np.int64) - 1, 0)
    rows = np.arange(s)
    nan = np.full(s, np.nan)
    return TheilSen(med, np.where(bounded, slopes[rows, lower], nan),
                    np.where(bounded, slopes[rows, upper], nan))


def project(series: Sequence[tuple[date, float]], target: float, *, min_points: int = 3,
            window: int = 6) -> Projection:
    """Project ``series`` (month, rate) to the first month at or above ``target``."""
    return project_many([series], [target], min_points=min_points, window=window)[0]


def project_many(series: Sequence[Sequence[tuple[date, float]]], targets: Sequence[float], *,
                 min_points: int = 3, window: int = 6) -> list[Projection]:
    """``project`` for every series (with its target), the Theil-Sen fits done together."""
    out: list[Projection | None] = [None] * len(series)
    #: number of points -> indices of the series to fit
    to_fit: dict[int, list[int]] = defaultdict(list)
    windows: list[list[tuple[date, float]]] = [[] for _ in series]
    for idx, (ser, target) in enumerate(zip(series, targets, strict=True)):
        pts = sorted(ser)
        if not pts:
            out[idx] = Projection(Outlook.TOO_FEW, target, 0)
            continue
        last_month, last_rate = pts[-1]
        if last_rate >= target:
            out[idx] = Projection(Outlook.MET, target, len(pts), last_month, last_month,
                                  last_month, None, last_rate)
            continue
        pts = pts[-window:]
        if len(pts) < min_points:
            out[idx] = Projection(Outlook.TOO_FEW, target, len(pts), last_rate=last_rate)
            continue
        windows[idx] = pts
        to_fit[len(pts)].append(idx)
    for n, members in to_fit.items():
        origins = [windows[i][0][0] for i in members]
        x = np.array([[months_between(o, m) for m, _ in windows[i]]
                      for o, i in zip(origins, members, strict=True)], dtype=float)
        y = np.array([[r for _, r in windows[i]] for i in members], dtype=float)
        fit = theil_sen(x, y)
        # intercepts of the three lines: the median residual, which one bad month does not move
        cuts = [_median_residual(x, y, s) for s in (fit.slope, fit.high, fit.low)]
        for row, i in enumerate(members):
            out[i] = _projection(
                x[row][-1], float(y[row][-1]), targets[i], origins[row], n,
                *[(float(s[row]), float(c[row])) for s, c in
                  zip((fit.slope, fit.high, fit.low), cuts, strict=True)])
    return [p for p in out if p is not None]


def _median_residual(x: np.ndarray, y: np.ndarray, slope: np.ndarray) -> np.ndarray:
    """Per row, the median of y - slope * x (NaN where the slope is not positive)."""
    positive = slope > 0
    s = np.where(positive, slope, 0.0)
    return np.where(positive, np.median(y - s[:, None] * x, axis=1), np.nan)


def _projection(x_last: float, last_rate: float, target: float, origin: date, n: int,
                central_fit: tuple[float, float], high_fit: tuple[float, float],
                low_fit: tuple[float, float]) -> Projection:
    slope = central_fit[0]
    if slope <= 0:
        return Projection(Outlook.NO_PROGRESS, target, n, slope_per_month=slope,
                          last_rate=last_rate)

    def crossing(fit: tuple[float, float]) -> date | None:
        """First month after the last one where the line (slope, intercept) reaches the
        target; None when the slope is not positive."""
        s, intercept = fit
        if not s > 0:
            return None
        k = max(x_last + 1, math.ceil((target - intercept) / s - 1e-9))
        return add_months(origin, int(k))

    central = crossing(central_fit)
    earliest = crossing(high_fit)
    latest = crossing(low_fit)
    if earliest is not None and central is not None:
        earliest = min(earliest, central)
    if latest is not None and central is not None:
        latest = max(latest, central)
    return Projection(Outlook.PROJECTED, target, n, central, earliest, latest, slope,
                      last_rate)
