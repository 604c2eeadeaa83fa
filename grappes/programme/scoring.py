"""Score a grappe on the regional priority grid of a rule set (000: 20 points).

Some criteria are computed from the data (isolated autonomous ESMS, several OGs of the
region, several départements of the region); the others can only be declared by the
applicants (SI roadmap, DPO, interoperability, self-funding...) and count as "not
declared" until someone ticks them. A funded AMOA line implies "dedicated resources".
Only the ESMS that count in the project (``grappes.programme.validate.counted_mask``) are looked
at. The computed criteria are written once, here (:func:`criteria_met`, :func:`computed_points`,
:func:`main_region_index`): the costing, the solver's vectorised objective
(``grappes.solver.evaluate``) and the benchmark all call them, so a grappe shows the same
computed points everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from grappes.core.columns import flag_column, text_column
from grappes.core.errors import UnusableInput
from grappes.core.model import GroupingRules
from grappes.programme.rules import RuleSet
from grappes.programme.validate import counted_mask

#: A count per grappe: a plain number for one grappe, a numpy array for a batch.
Count = int | np.ndarray


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


def criteria_met(n_isolated: Count, n_og_main: Count, n_dep_main: Count) -> dict[str, Count]:
    """The computable criteria (``rules.COMPUTED_CRITERIA``) a grappe meets, from three counts
    over its counted ESMS: the one place these rules are written.

    ``isole``: at least one isolated autonomous ESMS; ``multi_og``: at least two OGs with ESMS
    in the main région; ``multi_departement``: ESMS in at least two départements of the main
    région. The counts are plain numbers (one grappe) or numpy arrays (one entry per grappe:
    the solver scores thousands of candidate sets at once with the same code).
    """
    return {
        "isole": n_isolated > 0,
        "multi_og": n_og_main >= 2,
        "multi_departement": n_dep_main >= 2,
    }


def computed_points(n_isolated: Count, n_og_main: Count, n_dep_main: Count,
                    rules: GroupingRules) -> dict[str, Count]:
    """Points of each computable criterion (:func:`criteria_met` times the grid's points, as
    copied into ``GroupingRules.points_*``); numbers or arrays, like the counts."""
    met = criteria_met(n_isolated, n_og_main, n_dep_main)
    return {
        "isole": met["isole"] * rules.points_isole,
        "multi_og": met["multi_og"] * rules.points_multi_og,
        "multi_departement": met["multi_departement"] * rules.points_multi_departement,
    }


def main_region_index(counts: np.ndarray, named: np.ndarray) -> np.ndarray:
    """Column of each grappe's main région: the ARS its file goes to (003 Q12).

    ``counts`` holds ESMS per région (grappes x régions, or one row as a 1-D array), its
    columns sorted by région code; ``named`` flags the columns whose code is not ''. The main
    région has the most ESMS, ties going to the lowest code; the unnamed région only when no
    named one holds any ESMS.
    """
    counts = np.asarray(counts)
    if named.all():  # the usual case: every région has a code
        return counts.argmax(axis=-1)
    named_counts = np.where(named, counts, -1)
    best = named_counts.argmax(axis=-1)
    if counts.ndim == 1:  # one grappe (the solver's local search): no broadcasting
        return best if named_counts[best] > 0 else counts.argmax()
    held = np.take_along_axis(named_counts, best[:, None], axis=1)[:, 0] > 0
    return np.where(held, best, counts.argmax(axis=1))


def main_region(regions: np.ndarray) -> str:
    """The main région (:func:`main_region_index`) of ESMS given by their région codes."""
    codes, counts = np.unique(np.asarray(regions, dtype=str), return_counts=True)
    if not len(codes):
        return ""
    return str(codes[int(main_region_index(counts, codes != ""))])


def _counts(region: np.ndarray, ej: np.ndarray, dep: np.ndarray, autonome: np.ndarray,
            region_used: str) -> tuple[int, int, int]:
    """Autonomous ESMS, OGs and départements of ``region_used`` ('' = every région) among the
    counted ESMS: the three counts of :func:`criteria_met`."""
    inside = region == region_used if region_used else np.ones(len(region), dtype=bool)
    return (int(np.count_nonzero(autonome)), len({x for x in ej[inside] if x}),
            len({x for x in dep[inside] if x}))


def _project_arrays(members: pd.DataFrame, rules: GroupingRules) -> tuple[np.ndarray, ...]:
    """Région, OG, département and autonomous flag of the ESMS that count in the project."""
    keep = counted_mask(members, rules).to_numpy(dtype=bool)
    return tuple(
        arr[keep] for arr in (
            text_column(members, "region").to_numpy(dtype=object),
            text_column(members, "finess_ej").to_numpy(dtype=object),
            text_column(members, "departement").to_numpy(dtype=object),
            flag_column(members, "autonome").to_numpy(dtype=bool),
        )
    )


def grappe_points(members: pd.DataFrame, rules: GroupingRules) -> dict[str, int]:
    """Computed points of a grappe from its rows (``ETAB_COLUMNS``), criterion -> points.

    What the solver reports on each grappe (``Grappe.points``) and what the benchmark scores
    every method with; the solver's own batches reach the same numbers through
    :func:`computed_points` on unit counts.
    """
    region, ej, dep, autonome = _project_arrays(members, rules)
    counts = _counts(region, ej, dep, autonome, main_region(region))
    return {code: int(v) for code, v in computed_points(*counts, rules).items()}


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
    """Score one grappe on ``rules.grid`` from the arrays of its counted ESMS (région, OG,
    département, autonomous flag), as ``grappes.programme.costing`` holds them.

    ``declared``: criterion code -> True when the applicants declare it (others: not
    declared). ``funded_lines``: codes of the funding lines granted to the grappe (a criterion
    whose ``implique_par`` names one is obtained without being declared). ``region_used``: the
    ARS's région for the "of the région" criteria; default: the main région.
    """
    declared = dict(declared or {})
    known = {c.code: c for c in rules.grid.criteria}
    unknown = sorted(set(declared) - set(known))
    if unknown:
        msg = (f"Critère(s) déclaré(s) inconnu(s) dans la grille {rules.name} : "
               f"{', '.join(unknown)}. Critères : {', '.join(known)}.")
        raise UnusableInput(msg)
    computed_codes = sorted(c for c in declared if known[c].computed)
    if computed_codes:
        msg = (f"Critère(s) calculé(s) à partir des données, non déclarables : "
               f"{', '.join(computed_codes)}.")
        raise UnusableInput(msg)
    if region_used is None:
        region_used = main_region(region)
    met = criteria_met(*_counts(region, ej, dep, autonome, region_used))
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
