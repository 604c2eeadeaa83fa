"""Greedy grow-then-attach: a quick valid grouping, CP-SAT's warm start and a benchmark baseline.

Seeds are taken from the most isolated small OG to the least (fewest compatible neighbours
within reach), then the medium and large OGs. From each free seed, the free compatible OG
nearest to the running centre joins until the set is a valid grappe (or nothing fits: the
seed stays free). Leftover OGs are then attached to the grappe where they fit at the least
cost. No look-ahead: a grappe formed early can take partners a later seed needed.
"""

from __future__ import annotations

import numpy as np

from grappes.solver.candidates import compatible_with
from grappes.solver.evaluate import Evaluator, better
from grappes.solver.units import norm3


def grow_until_valid(
    ev: Evaluator, seed: int, pool: np.ndarray, free: np.ndarray
) -> list[int] | None:
    """Members of a valid grappe grown from ``seed`` over free units of ``pool``, or None."""
    units = ev.units
    members = [seed]
    if ev.valid(members):
        return members
    pool = pool[free[pool]]
    if len(pool) == 0:
        return None
    vendor = int(units.vendor[seed])
    n = int(units.n[seed])
    s = units.vec_sum[seed].copy()
    pos = units.pos[pool]
    pool_list = pool.tolist()
    alive = [True] * len(pool)
    left = len(pool)
    while left and n < ev.cap:
        # the next unit is the alive one nearest the running centre; the centre only moves
        # when a unit joins, so one ranking serves every unit refused in between (the same
        # order as an argmax per step, ties to the first: a stable sort)
        c = s / norm3(s)
        ranking = np.argsort(-(pos @ c), kind="stable").tolist()
        grew = False
        for j in ranking:
            if not alive[j]:
                continue
            alive[j] = False
            left -= 1
            cand = pool_list[j]
            vc = int(units.vendor[cand])
            if vc >= 0 and vendor >= 0 and vc != vendor:
                continue
            if n + int(units.n[cand]) > ev.cap:
                continue
            if units.apart and any(frozenset((cand, m)) in units.apart for m in members):
                continue
            trial = [*members, cand]
            new_s = s + units.vec_sum[cand]
            if (units.pos[trial] @ (new_s / norm3(new_s))).min() < ev.cos_limit - 1e-12:
                continue
            members, s, n = trial, new_s, n + int(units.n[cand])
            if vc >= 0:
                vendor = vc
            if ev.valid(members):
                return members
            grew = True
            break
        if not grew:
            break
    return None


def attach_leftovers(
    ev: Evaluator,
    grappes: list[list[int]],
    neighbours: list[np.ndarray],
    points_weight: float | None = None,
) -> int:
    """Attach free units to the grappe where they fit best; returns how many were attached."""
    where = np.full(len(ev.units), -1, dtype="int64")
    for g, members in enumerate(grappes):
        where[members] = g
    attached = 0
    for u in range(len(ev.units)):
        if where[u] >= 0:
            continue
        options = sorted({int(where[v]) for v in neighbours[u] if where[v] >= 0})
        best, best_delta = None, None
        for g in options:
            trial = [*grappes[g], u]
            if ev.check(trial) is not None:
                continue
            delta = ev.value(trial) - ev.value(grappes[g])
            if best_delta is None or better(delta - best_delta, points_weight):
                best, best_delta = g, delta
        if best is not None:
            grappes[best] = sorted([*grappes[best], u])
            where[u] = best
            attached += 1
    return attached


def greedy_grappes(
    ev: Evaluator, neighbours: list[np.ndarray], points_weight: float | None = None
) -> list[list[int]]:
    """The greedy grow-then-attach grouping of one sub-problem (lists of unit positions)."""
    units = ev.units
    n_units = len(units)
    compat = [nb[compatible_with(ev, u, nb)] for u, nb in enumerate(neighbours)]
    degree = np.array([len(c) for c in compat], dtype="int64")
    # forced units first, then small OGs from the most isolated, then medium / large OGs
    order = sorted(
        range(n_units), key=lambda u: (not units.forced[u], bool(units.big[u]), degree[u], u)
    )
    free = np.ones(n_units, dtype=bool)
    grappes: list[list[int]] = []
    for u in order:
        if not free[u]:
            continue
        members = grow_until_valid(ev, u, compat[u], free)
        if members is None:
            continue
        free[members] = False
        grappes.append(sorted(members))
    attach_leftovers(ev, grappes, neighbours, points_weight)
    return grappes
