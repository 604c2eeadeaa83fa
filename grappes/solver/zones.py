"""Zone re-optimisation around every small OG left out, with a local certificate.

Why: the set packing (``select``) can only combine the candidates it was given, and the
local moves change one or two grappes. The value they miss follows one pattern (issue 23):
a single-ESMS OG tied to a DUI solution is left out while its natural partners, OGs without
a DUI, sit in grappes of another solution; placing it means rebuilding ten or so
neighbouring grappes together. So, around each small OG left out:

1. free the grappes with a member within ``radius_km`` of it (at most ``max_grappes``,
   nearest first) and the OGs left out within reach;
2. grow candidates over the freed units *per vendor class*: from every freed unit, growths
   restricted to one DUI solution (plus the OGs without a DUI), so that an OG without a DUI
   can switch from a grappe of one solution to a grappe of another;
3. pack them exactly with CP-SAT (``select``: small-OG ESMS, then all ESMS, points, cost),
   the current grappes of the zone among the candidates (a zone can only improve);
4. repeat over the OGs still left out until a round changes nothing (a fixed point: a zone
   solved once with the same grappes is not solved again) or the budget is spent.

Certificate: the neighbourhood bound restricted to the freed units (``bounds``, the LP
relaxation of the zone's packing) is an upper bound on the small-OG ESMS any regrouping of
those grappes can place. When the zone's grappes already reach it, no regrouping of them can
do better: the OGs still left out there are recorded as certified, with the number of
grappes of the zone (explained « aucun regroupement des N grappes voisines ne permet de
l'accueillir »).

Deterministic: units in a fixed order, growths perturbed by a generator seeded from the
solver's seed and the zone, CP-SAT with a fixed seed and a deterministic time limit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

from grappes.solver.bounds import neighbourhood_bound
from grappes.solver.candidates import CandidateParams, Grower, compatible_with, enumerate_component
from grappes.solver.evaluate import Evaluator, better
from grappes.solver.select import Selection, select
from grappes.solver.settings import ZONE_GRAPPES, ZONE_RADIUS_KM, ZONE_TIERS
from grappes.solver.units import NO_VENDOR, VENDOR_CONFLICT

#: Freed sets of at most this many units are enumerated completely (every valid subset).
EXHAUSTIVE_UNITS = 10
#: Grappes freed at least, the nearest within reach, when fewer lie within the radius.
MIN_GRAPPES = 3
#: Randomly perturbed growths per freed unit and vendor class.
RANDOM_GROWTHS = 1
#: Deterministic time limit of one zone's packing (seconds): zones are small, most are
#: solved to optimality far below it.
ZONE_LIMIT = 0.5
#: Rounds of column generation (LP duals, then growths of positive reduced cost) per zone.
PRICING_ROUNDS = 3
#: Columns whose reduced profit under the last duals is below minus this many small-OG ESMS
#: are left out of the exact packing (they would not be in a good packing; a smaller model).
SLACK = 1.5
#: Deterministic time charged per growth (seconds, measured: about half a millisecond), so
#: that the budget also bounds the generation and the run stays reproducible.
GROWTH_DTIME = 0.0005


@dataclass
class ZoneReport:
    """What the zone re-optimisation did in one sub-problem."""

    #: zones packed, zones that improved the grouping, zones certified (``certify``)
    zones: int = 0
    improved: int = 0
    certified: int = 0
    #: packs of every zone's candidates together that improved the grouping
    pool_improved: int = 0
    rounds: int = 0
    #: deterministic time of the packings, plus the growths at ``GROWTH_DTIME`` each (s)
    dtime: float = 0.0
    #: unit left out -> grappes of the certified zone around it
    certified_units: dict[int, int] = field(default_factory=dict)


def _where(n_units: int, grappes: list[list[int]]) -> np.ndarray:
    where = np.full(n_units, -1, dtype="int64")
    for g, members in enumerate(grappes):
        where[members] = g
    return where


def zone_candidates(
    ev: Evaluator,
    freed: np.ndarray,
    neighbours: list[np.ndarray],
    km: list[np.ndarray],
    rng: np.random.Generator,
) -> tuple[set[tuple[int, ...]], int]:
    """Valid grappes over the freed units, grown per vendor class from every freed unit.

    For a unit bound to a DUI solution, growths over its compatible neighbours (that
    solution and the OGs without a DUI); for a unit without a DUI, growths restricted to each
    solution present among its neighbours in turn, and to the OGs without a DUI alone. Each
    class is grown towards the running centre, by distance, small OGs first, and with a few
    random perturbations; every valid set met on the way is kept. Returns the sets and the
    number of growths run.
    """
    units = ev.units
    inside = np.zeros(len(units), dtype=bool)
    inside[freed] = True
    grower = Grower(ev, CandidateParams(extra=4))
    if len(freed) <= EXHAUSTIVE_UNITS:
        enumerate_component(ev, np.asarray(freed), grower.found)
        return grower.found, 1 << len(freed)
    vendor = units.vendor
    for u in (int(x) for x in freed):
        if vendor[u] == VENDOR_CONFLICT:
            continue
        keep = inside[neighbours[u]]
        nb = neighbours[u][keep]
        dist = km[u][keep]
        ok = compatible_with(ev, u, nb)
        nb, dist = nb[ok], dist[ok]
        vn = vendor[nb]
        if vendor[u] >= 0:
            classes = [int(vendor[u])]
        else:
            classes = [NO_VENDOR, *sorted({int(v) for v in vn if v >= 0})]
        for c in classes:
            sel = (vn == NO_VENDOR) | (vn == c)
            pool, d = nb[sel], dist[sel]
            grower.grow(u, pool, "centre")
            grower.grow(u, pool, "order", d)
            for _ in range(RANDOM_GROWTHS):
                grower.grow(u, pool, "order", d * rng.uniform(0.5, 1.5, size=len(pool)))
    return grower.found, grower.growths


def price_columns(
    ev: Evaluator,
    freed: np.ndarray,
    neighbours: list[np.ndarray],
    km: list[np.ndarray],
    found: set[tuple[int, ...]],
    rounds: int = PRICING_ROUNDS,
) -> tuple[np.ndarray | None, int]:
    """Column generation on the zone: grow new grappes where the LP duals say value is left.

    The LP relaxation of the zone's packing (first level: small-OG ESMS, then all ESMS) is
    solved over the pool; each unit's dual is the value it already brings. Growths then
    prefer units whose reduced profit (own value minus dual) is high, per vendor class, and
    the sets of positive reduced cost join the pool. Stops when no new set is found.
    Returns the reduced profit of every unit under the last duals, in small-OG ESMS (None
    without an LP), and the number of growths run.
    """
    units = ev.units
    freed = np.asarray(freed, dtype="int64")
    local = np.full(len(units), -1, dtype="int64")
    local[freed] = np.arange(len(freed))
    weight = float(units.n[freed].sum() + 1)
    own = weight * units.n_small + units.n
    inside = np.zeros(len(units), dtype=bool)
    inside[freed] = True
    grower = Grower(ev, CandidateParams(extra=3))
    reduced = None
    for _ in range(rounds):
        cols = sorted(found)
        if not cols:
            return reduced, grower.growths
        rows = np.concatenate([local[list(c)] for c in cols])
        col_idx = np.repeat(np.arange(len(cols)), [len(c) for c in cols])
        a = coo_matrix((np.ones(len(rows)), (rows, col_idx)), shape=(len(freed), len(cols)))
        profit = np.array([own[list(c)].sum() for c in cols])
        res = linprog(-profit, A_ub=a.tocsr(), b_ub=np.ones(len(freed)), bounds=(0, 1),
                      method="highs")
        if res.status != 0:
            return reduced, grower.growths
        dual = np.zeros(len(units))
        dual[freed] = -np.asarray(res.ineqlin.marginals)
        reduced = own - dual
        grower.found = set()
        for u in (int(x) for x in freed):
            if units.vendor[u] == VENDOR_CONFLICT or reduced[u] <= 1e-6 * weight:
                continue
            keep = inside[neighbours[u]]
            nb, dist = neighbours[u][keep], km[u][keep]
            ok = compatible_with(ev, u, nb)
            nb, dist = nb[ok], dist[ok]
            vn = units.vendor[nb]
            classes = (
                [int(units.vendor[u])]
                if units.vendor[u] >= 0
                else [NO_VENDOR, *sorted({int(v) for v in vn if v >= 0})]
            )
            for c in classes:
                sel = (vn == NO_VENDOR) | (vn == c)
                pool, d = nb[sel], dist[sel]
                gain = reduced[pool] / weight
                grower.grow(u, pool, "order", d - 30.0 * gain)
                cheap = gain > -1e-9
                grower.grow(u, pool[cheap], "centre")
        new = set()
        for cand in grower.found - found:
            if own[list(cand)].sum() - dual[list(cand)].sum() > 1e-6 * weight:
                new.add(cand)
        if not new:
            break
        found.update(new)
    return (None if reduced is None else reduced / weight), grower.growths


def zone_of(
    u: int,
    neighbours: list[np.ndarray],
    km: list[np.ndarray],
    grappes: list[list[int]],
    where: np.ndarray,
    alive: np.ndarray,
    radius_km: float,
    max_grappes: int,
) -> tuple[list[int], list[int]]:
    """The zone around unit u: its grappes (positions) and the freed units (sorted).

    Grappes with a member within ``radius_km`` of u, nearest first, at most ``max_grappes``
    (in a sparse area, at least the ``MIN_GRAPPES`` nearest within reach); freed: their
    members, u, and the units left out within reach of u that could be placed.
    """
    nb, dist = neighbours[u], km[u]
    zone: list[int] = []
    for v, d in zip(nb.tolist(), dist.tolist(), strict=True):
        g = int(where[v])
        if g < 0 or g in zone:
            continue
        if d > radius_km and len(zone) >= MIN_GRAPPES:
            break
        zone.append(g)
        if len(zone) >= max_grappes:
            break
    free = nb[(where[nb] < 0) & alive[nb]]
    freed = sorted({u, *free.tolist(), *(m for g in zone for m in grappes[g])})
    return zone, freed


def certify(
    ev: Evaluator,
    neighbours: list[np.ndarray],
    km: list[np.ndarray],
    grappes: list[list[int]],
    alive: np.ndarray | None = None,
    radius_km: float = ZONE_RADIUS_KM,
    max_grappes: int = ZONE_GRAPPES,
) -> tuple[dict[int, int], int]:
    """Local certificates of the final grouping, around every small OG left out.

    For each, the zone's freed units are bounded alone (``bounds.neighbourhood_bound``
    restricted to them: the LP relaxation of the zone's packing). When the zone's grappes
    already place that many small-OG ESMS, no regrouping of them can place one more: the
    OG is certified. Returns {unit left out: grappes of its certified zone} and the number
    of distinct zones certified.
    """
    units = ev.units
    n_units = len(units)
    alive = np.ones(n_units, dtype=bool) if alive is None else alive
    where = _where(n_units, grappes)
    out: dict[int, int] = {}
    zones: set[tuple[int, ...]] = set()
    for u in np.flatnonzero((where < 0) & (units.n_small > 0)).tolist():
        if not alive[u] or units.vendor[u] == VENDOR_CONFLICT:
            continue  # already explained by the sub-problem's own bound
        zone, freed = zone_of(u, neighbours, km, grappes, where, alive, radius_km, max_grappes)
        if _zone_gap(ev, neighbours, grappes, zone, freed) <= 0:
            out[u] = len(zone)
            zones.add(tuple(freed))
    return out, len(zones)


def _zone_gap(
    ev: Evaluator,
    neighbours: list[np.ndarray],
    grappes: list[list[int]],
    zone: list[int],
    freed: list[int],
) -> int:
    """Small-OG ESMS a regrouping of the zone could place at most beyond what it places.

    The zone's bound (``bounds.neighbourhood_bound`` restricted to its freed units) minus
    the small-OG ESMS its grappes place: 0 means certified (no regrouping can do better).
    """
    within = np.zeros(len(ev.units), dtype=bool)
    within[freed] = True
    bound, _, _ = neighbourhood_bound(ev, neighbours, within)
    return bound - int(sum(ev.units.n_small[grappes[g]].sum() for g in zone))


def reoptimise_zones(
    ev: Evaluator,
    neighbours: list[np.ndarray],
    km: list[np.ndarray],
    grappes: list[list[int]],
    alive: np.ndarray | None = None,
    points_weight: float | None = None,
    seed: int = 0,
    budget: float = 10.0,
    workers: int = 1,
    tiers: tuple[tuple[float, int], ...] = ZONE_TIERS,
    deadline: float | None = None,
) -> tuple[list[list[int]], ZoneReport]:
    """Re-optimise the zone around every small OG left out, until a fixed point.

    Parameters
    ----------
    ev, neighbours, km
        The sub-problem: evaluator, units within reach of each unit (nearest first) and
        their distances (km).
    grappes
        The current grouping (valid, disjoint); never made worse.
    alive
        Units the sub-problem's bound allows to be placed (others are not tried).
    budget
        Deterministic time (s) of all the zones together (packings and growths).
    tiers
        Zone sizes tried in turn, (radius in km, at most so many grappes): the next, wider
        one only for the OGs still left out once the previous one reaches its fixed point
        (on the sample's PH field, the single-ESMS OGs of one solution left out together
        needed a 50 km zone: the 25 km one holds only 4 to 7 grappes there).
    deadline
        Wall-clock safety net (``time.perf_counter()`` value).

    A zone whose gap is 0 (its bound minus what its grappes place: certified) is not solved.
    Every zone's candidates join one pool, packed exactly at the end of each round with the
    current grappes (cheap: CP-SAT proves these packings in a few hundredths of a second):
    grappes grown in two zones, neither enough alone, combine there (on the sample's PH field
    that pack placed the last two ESMS). The pack is charged to the budget, and skipped once
    the budget is spent.
    """
    units = ev.units
    n_units = len(units)
    grappes = [sorted(g) for g in grappes]
    report = ZoneReport()
    if n_units == 0:
        return grappes, report
    alive = np.ones(n_units, dtype=bool) if alive is None else alive
    solved: set[tuple[tuple[int, ...], ...]] = set()
    remaining = float(budget)
    pool: set[tuple[int, ...]] = set()
    packed = 0
    for radius_km, max_grappes in tiers:
        while remaining > 0.05:
            report.rounds += 1
            changed = False
            where = _where(n_units, grappes)
            targets = [
                int(u)
                for u in np.flatnonzero((where < 0) & (units.n_small > 0) & alive)
                if units.vendor[u] != VENDOR_CONFLICT
            ]
            for u in targets:
                if where[u] >= 0:
                    continue
                if remaining <= 0.05 or (deadline is not None and time.perf_counter() > deadline):
                    break
                zone, freed = zone_of(
                    u, neighbours, km, grappes, where, alive, radius_km, max_grappes
                )
                key = (tuple(freed), *(tuple(grappes[g]) for g in sorted(zone)))
                if key in solved:
                    continue
                solved.add(key)
                if _zone_gap(ev, neighbours, grappes, zone, freed) <= 0:
                    continue  # certified: no regrouping of the zone can place more
                picked, work = _solve_zone(
                    ev, neighbours, km, grappes, zone, freed,
                    np.random.default_rng([seed, u, len(solved)]),
                    points_weight, min(ZONE_LIMIT, remaining), seed, workers, pool,
                )
                report.zones += 1
                report.dtime += work
                remaining -= work
                if picked is not None:
                    kept = [grappes[g] for g in range(len(grappes)) if g not in set(zone)]
                    grappes = sorted([*kept, *picked], key=lambda g: g[0])
                    where = _where(n_units, grappes)
                    report.improved += 1
                    changed = True
            if len(pool) > packed and remaining > 0.05:
                packed = len(pool)
                new, work = pack_pool(
                    ev, grappes, pool, points_weight, min(ZONE_LIMIT, remaining), seed, workers
                )
                report.dtime += work
                remaining -= work
                if new is not None:
                    grappes = new
                    report.pool_improved += 1
                    changed = True
            if not changed:
                break
    return grappes, report


def _pack(
    ev: Evaluator,
    cands: list[tuple[int, ...]],
    current: list[tuple[int, ...]],
    points_weight: float | None,
    limit: float,
    seed: int,
    workers: int,
    unit_pos: np.ndarray | None = None,
) -> tuple[list[list[int]], Selection]:
    """Pack ``cands`` exactly, hinted with the ``current`` grappes (all among ``cands``):
    the picked grappes and the selection (its deterministic time, warnings)."""
    units = ev.units
    position = {c: i for i, c in enumerate(cands)}
    sel = select(
        cands,
        ev.values(cands),
        units.n,
        units.n_small,
        forced=units.forced,
        points_weight=points_weight,
        hint=[position[c] for c in current],
        time_limit=limit,
        seed=seed,
        workers=workers,
        unit_pos=unit_pos,
    )
    return [list(cands[i]) for i in sel.chosen], sel


def pack_pool(
    ev: Evaluator,
    grappes: list[list[int]],
    pool: set[tuple[int, ...]],
    points_weight: float | None,
    limit: float,
    seed: int,
    workers: int,
) -> tuple[list[list[int]] | None, float]:
    """Every zone's candidates and the current grappes, packed exactly together.

    Returns the new grouping when it is better than the current one (else None) and the
    deterministic time spent.
    """
    current = [tuple(g) for g in grappes]
    cands = sorted(pool | set(current))
    picked, sel = _pack(ev, cands, current, points_weight, limit, seed, workers,
                        unit_pos=ev.units.pos)
    accepted = not sel.warnings and better(ev.total(picked) - ev.total(current), points_weight)
    return (sorted(picked, key=lambda g: g[0]) if accepted else None), sel.dtime


def _solve_zone(
    ev: Evaluator,
    neighbours: list[np.ndarray],
    km: list[np.ndarray],
    grappes: list[list[int]],
    zone: list[int],
    freed: list[int],
    rng: np.random.Generator,
    points_weight: float | None,
    limit: float,
    seed: int,
    workers: int,
    pool: set[tuple[int, ...]] | None = None,
) -> tuple[list[list[int]] | None, float]:
    """Candidates over the zone's freed units, packed exactly.

    Returns the new grappes of the zone when they are better than its current ones (else
    None) and the deterministic time spent (packing plus growths).
    """
    free = np.array(freed, dtype="int64")
    found, grown = zone_candidates(ev, free, neighbours, km, rng)
    current = [tuple(grappes[g]) for g in zone]
    found.update(current)
    reduced, priced = price_columns(ev, free, neighbours, km, found)
    if reduced is not None:
        # columns far below zero reduced profit (in ESMS) are left to the LP
        keep = set(current)
        found = {c for c in found if c in keep or reduced[list(c)].sum() >= -SLACK}
    if pool is not None:
        pool.update(found)
    cands = sorted(found)
    picked, sel = _pack(ev, cands, current, points_weight, limit, seed, workers)
    work = sel.dtime + GROWTH_DTIME * (grown + priced)
    accepted = not sel.warnings and better(ev.total(picked) - ev.total(current), points_weight)
    return (picked if accepted else None), work
