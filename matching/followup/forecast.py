"""When will an indicator reach its target? A robust linear trend on the last months.

Theil-Sen (median of pairwise slopes, ``scipy.stats.theilslopes``) ignores a bad month or
two, which a least-squares line would follow. The 90 % interval of the slope gives the
earliest and latest month; a slope whose lower bound is not positive leaves the latest
month unbounded. With fewer than ``min_points`` measured months the forecast says so
instead of guessing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

import numpy as np
from scipy.stats import theilslopes

from matching.followup.months import add_months, months_between

CONFIDENCE = 0.90


class Outlook(StrEnum):
    MET = "atteint"
    PROJECTED = "projete"
    TOO_FEW = "insuffisant"
    NO_PROGRESS = "sans_progression"


OUTLOOK_LABELS: dict[str, str] = {
    Outlook.MET: "cible atteinte",
    Outlook.PROJECTED: "date projetée",
    Outlook.TOO_FEW: "données insuffisantes pour projeter",
    Outlook.NO_PROGRESS: "pas de progression : la cible ne sera pas atteinte au rythme actuel",
}


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


def project(series: Sequence[tuple[date, float]], target: float, *, min_points: int = 3,
            window: int = 6) -> Projection:
    """Project ``series`` (month, rate) to the first month at or above ``target``."""
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
    x_last = x[-1]

    def crossing(s: float) -> date | None:
        """First month after the last one where the line of slope ``s`` reaches the target;
        its intercept is the median residual, which one bad month does not move."""
        if s <= 0:
            return None
        intercept = float(np.median(y - s * x))
        k = max(x_last + 1, math.ceil((target - intercept) / s - 1e-9))
        return add_months(origin, int(k))

    central = crossing(float(slope))
    earliest = crossing(float(high))
    latest = crossing(float(low))
    if earliest is not None and central is not None:
        earliest = min(earliest, central)
    if latest is not None and central is not None:
        latest = max(latest, central)
    return Projection(Outlook.PROJECTED, target, len(pts), central, earliest, latest,
                      float(slope), last_rate)
