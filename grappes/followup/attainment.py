"""Attainment of the usage targets: month each target is met, per ESMS and for the grappe.

Perimeter "esms" (the default, quoted in the rule files): every member must reach the
target in the same month end. Perimeter "grappe": the grappe's summed rate must reach it,
with every member reporting that month. The usage tranche is due at the first month end
where every target holds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from grappes.followup.model import FollowupRules, TargetRule
from grappes.followup.rates import GRAPPE, Rate


@dataclass(frozen=True)
class TargetAttainment:
    """First month ``finess_et`` ("" = the grappe) reached ``indicator``'s target, if ever."""

    finess_et: str
    indicator: str
    target: float
    first_met: date | None
    last_month: date | None
    last_rate: float | None


#: (finess_et or "" for the grappe, indicator) -> month -> rate
RateIndex = dict[tuple[str, str], dict[date, float]]


def rate_index(rates: Iterable[Rate]) -> RateIndex:
    """The measured rates by series and month (months in the order of ``rates``); built once
    per evaluation and shared by attainment and forecast."""
    idx: dict[tuple[str, str], dict[date, float]] = defaultdict(dict)
    for r in rates:
        if r.taux is not None:
            idx[(r.finess_et, r.indicator)][r.mois] = r.taux
    return idx


def attainments(rates: Sequence[Rate], grappe: Sequence[Rate], members: Iterable[str],
                rules: FollowupRules, index: RateIndex | None = None) -> list[TargetAttainment]:
    """One line per member and target, plus one per target for the grappe."""
    idx = index if index is not None else rate_index([*rates, *grappe])
    out = []
    for finess in [*sorted(members), GRAPPE]:
        for t in rules.targets:
            series = idx.get((finess, t.code), {})
            met = [m for m, v in sorted(series.items()) if v >= t.target]
            last = max(series) if series else None
            out.append(TargetAttainment(finess, t.code, t.target, met[0] if met else None,
                                        last, series[last] if last else None))
    return out


def _holds(t: TargetRule, month: date, idx: dict, members: Sequence[str],
           grappe_counts: dict[tuple[str, date], int]) -> bool:
    if t.perimetre == "grappe":
        rate = idx.get((GRAPPE, t.code), {}).get(month)
        return (rate is not None and rate >= t.target
                and grappe_counts.get((t.code, month), 0) == len(members))
    for f in members:
        rate = idx.get((f, t.code), {}).get(month)
        if rate is None or rate < t.target:
            return False
    return True


def usage_met_month(rates: Sequence[Rate], grappe: Sequence[Rate], members: Sequence[str],
                    rules: FollowupRules, index: RateIndex | None = None) -> date | None:
    """First month end at which every target holds on its perimeter (None: not yet)."""
    if not rules.targets or not members:
        return None
    idx = index if index is not None else rate_index([*rates, *grappe])
    counts = {(r.indicator, r.mois): r.n_esms for r in grappe}
    months = sorted({r.mois for r in rates})
    for m in months:
        if all(_holds(t, m, idx, members, counts) for t in rules.targets):
            return m
    return None
