"""Score a grappe on the regional priority grid of a rule set (000: 20 points).

Some criteria are computed from the data (isolated autonomous ESMS, several OGs of the
region, several départements of the region); the others can only be declared by the
applicants (SI roadmap, DPO, interoperability, self-funding...) and count as "not
declared" until someone ticks them. A funded AMOA line implies "dedicated resources".
Only the ESMS that count in the project (``matching.programme.validate.counted_mask``) are looked
at.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from matching.programme.rules import RuleSet
from matching.programme.validate import counted_mask, flag_column, text_column


@dataclass
class Score:
    """Points per criterion code, split between computed and declared, out of the grid's max."""

    computed: dict[str, int]
    declared: dict[str, int]
    total: int
    max: int
    #: codes of the criteria not obtained (computed or declared), in grid order
    missing: list[str] = field(default_factory=list)
    #: the main region the "of the region" criteria were computed for ('' if none)
    region: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "computed": dict(self.computed),
            "declared": dict(self.declared),
            "total": self.total,
            "max": self.max,
            "missing": list(self.missing),
            "region": self.region,
        }


def _main_region(regions: np.ndarray) -> str:
    named = Counter(str(r) for r in regions if r)
    if not named:
        return ""
    best = max(named.values())
    return min(r for r, n in named.items() if n == best)


def main_region(members: pd.DataFrame) -> str:
    """The region with the most ESMS (ties: smallest code): the ARS the file goes to (003 Q12)."""
    return _main_region(text_column(members, "region").to_numpy(dtype=object))


def _met(region: np.ndarray, ej: np.ndarray, dep: np.ndarray, autonome: np.ndarray,
         region_used: str) -> dict[str, bool]:
    """Computable criteria from the project's arrays (counted ESMS only)."""
    inside = region == region_used if region_used else np.ones(len(region), dtype=bool)
    return {
        "isole": bool(autonome.any()),
        "multi_og": len({x for x in ej[inside] if x}) >= 2,
        "multi_departement": len({x for x in dep[inside] if x}) >= 2,
    }


def _project_arrays(members: pd.DataFrame, rules: RuleSet) -> tuple[np.ndarray, ...]:
    keep = counted_mask(members, rules.grouping).to_numpy(dtype=bool)
    return tuple(
        arr[keep] for arr in (
            text_column(members, "region").to_numpy(dtype=object),
            text_column(members, "finess_ej").to_numpy(dtype=object),
            text_column(members, "departement").to_numpy(dtype=object),
            flag_column(members, "autonome").to_numpy(dtype=bool),
        )
    )


def computed_criteria(members: pd.DataFrame, rules: RuleSet,
                      region: str | None = None) -> dict[str, bool]:
    """Whether the grappe meets each computable criterion (isole, multi_og, multi_departement).

    ``region`` is the ARS's region; default: the grappe's main region.
    """
    reg, ej, dep, auto = _project_arrays(members, rules)
    return _met(reg, ej, dep, auto, region if region is not None else _main_region(reg))


def score_grappe(
    members: pd.DataFrame,
    rules: RuleSet,
    declared: Mapping[str, bool] | None = None,
    funded_lines: Iterable[str] = (),
    region: str | None = None,
) -> Score:
    """Score one grappe on ``rules.grid``.

    Parameters
    ----------
    declared
        Criterion code -> True when the applicants declare it (others: not declared).
    funded_lines
        Codes of the funding lines granted to the grappe: a criterion whose ``implique_par``
        names one of them is obtained without being declared.
    region
        The ARS's region for the "of the region" criteria; default: the main region.
    """
    return score_arrays(*_project_arrays(members, rules), rules, declared, funded_lines, region)


def score_arrays(
    region: np.ndarray,
    ej: np.ndarray,
    dep: np.ndarray,
    autonome: np.ndarray,
    rules: RuleSet,
    declared: Mapping[str, bool] | None = None,
    funded_lines: Iterable[str] = (),
    region_used: str | None = None,
) -> Score:
    """:func:`score_grappe` on the arrays of the counted ESMS (region, OG, département,
    autonomous flag), for callers that already hold them (``matching.programme.costing``)."""
    declared = dict(declared or {})
    known = {c.code: c for c in rules.grid.criteria}
    unknown = sorted(set(declared) - set(known))
    if unknown:
        msg = (f"Critère(s) déclaré(s) inconnu(s) dans la grille {rules.name} : "
               f"{', '.join(unknown)}. Critères : {', '.join(known)}.")
        raise ValueError(msg)
    computed_codes = sorted(c for c in declared if known[c].computed)
    if computed_codes:
        msg = (f"Critère(s) calculé(s) à partir des données, non déclarables : "
               f"{', '.join(computed_codes)}.")
        raise ValueError(msg)
    if region_used is None:
        region_used = _main_region(region)
    met = _met(region, ej, dep, autonome, region_used)
    funded = set(funded_lines)

    computed: dict[str, int] = {}
    declared_pts: dict[str, int] = {}
    missing: list[str] = []
    for c in rules.grid.criteria:
        if c.computed:
            ok = met.get(c.computed, False)
            computed[c.code] = c.points if ok else 0
        else:
            ok = bool(declared.get(c.code, False)) or bool(funded & set(c.implied_by))
            declared_pts[c.code] = c.points if ok else 0
        if not ok:
            missing.append(c.code)
    total = sum(computed.values()) + sum(declared_pts.values())
    return Score(computed, declared_pts, total, rules.grid.max, missing, region_used)
