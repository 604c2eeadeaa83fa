"""The solver's optimum equals a brute force over every partition of tiny instances.

The brute force knows nothing of the solver: a block of OGs is a valid grappe when
``grappes.programme.validate`` finds no broken rule and every OG lies within ``max_km`` of the
block's centre (``grappes.geo.distances``); the points are recomputed here from the rows. Only the
level-3 cost (compactness) is taken from the solver's own evaluator, to check that the
solver also reaches the cheapest of the lexicographically best groupings.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from solver_factories import km_to_lonlat, make_etab, random_region

from grappes.core.model import GroupingRules
from grappes.geo.distances import centre, haversine_km
from grappes.programme.validate import grappe_violations
from grappes.solver import GrappeSolver
from grappes.solver.evaluate import Evaluator
from grappes.solver.graph import GraphWeights
from grappes.solver.units import build_units, prepare_esms

#: Small thresholds so that a handful of OGs can form grappes.
RULES = GroupingRules(min_esms=6, min_esms_derogatoire=4, max_esms=12, min_og=2, petit_og_max=5)
MAX_KM = 30.0

VENDORS = [
    ("", "aucun"),
    ("Alpha", "conforme"),
    ("Beta", "a_mettre_a_niveau"),
    ("Vieux", "non_conforme"),
]


@st.composite
def instances(draw) -> pd.DataFrame:
    n_units = draw(st.integers(2, 6))
    rows = []
    for k in range(n_units):
        ej = f"{37 + k % 2}{k:07d}"
        n = draw(st.integers(1, 5))
        x = draw(st.floats(0, 50, allow_nan=False))
        y = draw(st.floats(0, 50, allow_nan=False))
        vendor, statut = VENDORS[draw(st.integers(0, len(VENDORS) - 1))]
        big = draw(st.booleans()) and draw(st.booleans())
        dep = draw(st.sampled_from(["37", "41"]))
        stat = draw(st.sampled_from(["public", "prive_non_lucratif"]))
        for j in range(n):
            lon, lat = km_to_lonlat(x + 0.7 * j, y)
            rows.append(
                {
                    "finess_ej": ej,
                    "finess_et": f"{ej[:2]}{k:04d}{j:03d}",
                    "lon": lon,
                    "lat": lat,
                    "dui_editeur": vendor,
                    "dui_statut": statut,
                    "departement": dep,
                    "statut_agrege": stat,
                    "og_nb_esms": 20 if big else n,
                    "autonome": (not big) and n == 1,
                }
            )
    return make_etab(rows)


def partitions(items: list[str]) -> Iterator[list[list[str]]]:
    """Every set partition of ``items``."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in partitions(rest):
        for i in range(len(part)):
            yield [*part[:i], [first, *part[i]], *part[i + 1 :]]
        yield [[first], *part]


def block_ok(etab: pd.DataFrame, ogs: list[str]) -> bool:
    members = etab[etab["finess_ej"].isin(ogs)]
    # nominal=True: the solver keeps its nominal size for grappes of several OGs (the
    # documents themselves accept larger projects, with funding capped)
    if grappe_violations(members, RULES, champ="PA", all_esms=etab, nominal=True):
        return False
    c_lon, c_lat = centre(members["lon"], members["lat"])
    for _, rows in members.groupby("finess_ej"):
        o_lon, o_lat = centre(rows["lon"], rows["lat"])
        if float(haversine_km(o_lon, o_lat, c_lon, c_lat)) > MAX_KM + 1e-6:
            return False
    return True


def block_value(etab: pd.DataFrame, ogs: list[str]) -> tuple[int, int, int]:
    members = etab[etab["finess_ej"].isin(ogs)]
    small = int((members["og_nb_esms"] <= RULES.petit_og_max).sum())
    points = 0
    if members["autonome"].any():
        points += RULES.points_isole
    if members["finess_ej"].nunique() >= 2:
        points += RULES.points_multi_og
    if members["departement"].nunique() >= 2:
        points += RULES.points_multi_departement
    return small, len(members), points


def brute_force(etab: pd.DataFrame, ev: Evaluator) -> tuple[tuple[int, int, int], float]:
    """Best (small, placed, points) over all partitions, and the least cost among those."""
    ogs = sorted(set(etab["finess_ej"]))
    unit_of = {og: u for u, key in enumerate(ev.units.key) for og in key.split("+")}
    ok = {}
    best, best_cost = (-1, -1, -1), float("inf")
    for part in partitions(ogs):
        total = (0, 0, 0)
        cost = 0.0
        for block in part:
            key = tuple(sorted(block))
            if key not in ok:
                ok[key] = block_ok(etab, list(key))
            if ok[key]:
                v = block_value(etab, list(key))
                total = (total[0] + v[0], total[1] + v[1], total[2] + v[2])
                cost += ev.value([unit_of[o] for o in key]).cost
        if total > best or (total == best and cost < best_cost):
            best, best_cost = total, cost
    return best, best_cost


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(instances())
def test_solver_matches_brute_force(etab: pd.DataFrame) -> None:
    weights = GraphWeights(max_km=MAX_KM)
    proposal = GrappeSolver(RULES, graph_weights=weights, time_limit=2.0).solve(etab)
    got = (0, 0, 0)
    for g in proposal.grappes:
        assert block_ok(etab, g.og), g
        v = block_value(etab, g.og)
        got = (got[0] + v[0], got[1] + v[1], got[2] + v[2])
        assert sum(g.points.values()) == v[2]
    esms, _ = prepare_esms(etab, RULES, ("PA",))
    ev = Evaluator(build_units(esms, RULES, "PA"), RULES, weights)
    best, best_cost = brute_force(etab, ev)
    assert got == best
    unit_of = {og: u for u, key in enumerate(ev.units.key) for og in key.split("+")}
    cost = sum(ev.value([unit_of[o] for o in g.og]).cost for g in proposal.grappes)
    # CP-SAT works on costs rounded to 1/100 km: allow that rounding per grappe
    assert cost <= best_cost + 0.01 * max(len(proposal.grappes), 1) + 1e-6
    assert proposal.stats["esms_small_og_placed"] == best[0]
    assert proposal.stats["upper_bound"] >= best[0]


def test_partitions_count_bell_numbers() -> None:
    assert [sum(1 for _ in partitions(list("abcdefgh"[:n]))) for n in range(1, 8)] == [
        1,
        2,
        5,
        15,
        52,
        203,
        877,
    ]


def test_single_path_agrees_with_batch() -> None:
    rng = np.random.default_rng(3)
    etab = random_region(n_og=60, seed=5, size_km=60, champs=("PA",))
    esms, _ = prepare_esms(etab, RULES, ("PA",))
    ev = Evaluator(build_units(esms, RULES, "PA"), RULES, GraphWeights(max_km=MAX_KM))
    sets = [
        sorted(rng.choice(len(ev.units), size=rng.integers(1, 6), replace=False).tolist())
        for _ in range(200)
    ]
    batch = ev.batch(sets)
    for i, s in enumerate(sets):
        one = ev.single(s)
        for key, values in batch.items():
            # arccos near 1 loses ~1e-4 km between the two summation orders
            assert np.isclose(one[key], values[i], atol=1e-3), (key, s)


def _no_time_solver(original):
    """A CP-SAT factory whose solvers stop before finding anything (status UNKNOWN)."""

    def make(limit: float, seed: int = 0, workers: int = 1, tune=None):
        solver = original(limit, seed, workers, tune)
        solver.parameters.max_time_in_seconds = 0.0
        solver.parameters.max_deterministic_time = 0.0
        return solver

    return make


def test_select_keeps_warm_start_when_cp_sat_finds_nothing(monkeypatch) -> None:
    """With no solution in the time limit, the selection keeps the (valid) warm start.

    This path used to raise a ``TypeError`` (``CpSolver.StatusName()`` on recent OR-Tools)
    on national data with a small ``time_limit``.
    """
    from grappes.core import cpsat
    from grappes.solver import select as select_module
    from grappes.solver.evaluate import Value

    monkeypatch.setattr(cpsat, "new_solver", _no_time_solver(cpsat.new_solver))
    candidates = [(0, 1), (1, 2), (2, 3), (0, 3)]
    values = [Value(4, 4, 2, 10.0), Value(5, 5, 2, 10.0), Value(4, 4, 2, 10.0), Value(3, 3, 0, 1.0)]
    sizes = np.array([2, 2, 3, 2])
    out = select_module.select(candidates, values, sizes, hint=[0, 2], time_limit=1.0)
    assert out.chosen == [0, 2]
    assert out.optimal_groups == 0
    # without a warm start nothing is chosen, and nothing breaks either
    empty = select_module.select(candidates, values, sizes, time_limit=1.0)
    assert empty.chosen == []
