"""Pick the best disjoint set of candidate grappes exactly (set packing, OR-Tools CP-SAT).

One boolean per candidate; each unit in at most one chosen candidate (exactly one for a unit
the user forced into a grappe); units left out are allowed. The lexicographic objective is
solved in stages, each stage fixing the optimum of the previous one as a constraint:
(1) ESMS of small OGs placed, then all ESMS placed; (2) priority points (or, when weights are
given, points and cost merged); (3) the cost in kilometre equivalents (scaled to integers).
Independent groups of candidates (sharing no unit) are solved separately, which keeps every
model small. Determinism: fixed ``random_seed`` and number of workers, and a deterministic
time limit (``max_deterministic_time``) rather than wall time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from ortools.sat.python import cp_model
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from grappes.core.cpsat import StagedSolve, set_hint
from grappes.solver.evaluate import Value
from grappes.solver.settings import FUNDING_TIME_LIMIT

#: Cost (kilometre equivalents) is multiplied by this before rounding for CP-SAT.
COST_SCALE = 100

#: Groups with more candidates than this are re-optimised window by window (see
#: :func:`_solve_windows`); measured: CP-SAT proves the points stage on ~3,000 candidates in
#: about a second, but stalls for minutes on the 20,000 of a dense région.
WINDOW_CANDIDATES = 3000
#: Grappes of the current solution re-optimised together in one window.
WINDOW_GRAPPES = 12


@dataclass
class Selection:
    """Chosen candidates and what the solver proved about them."""

    chosen: list[int]
    #: groups solved to proven optimality / groups in total
    optimal_groups: int = 0
    groups: int = 0
    #: upper bound on the ESMS of small OGs any packing of these candidates can place
    bound_small: int = 0
    #: deterministic time CP-SAT used
    dtime: float = 0.0
    warnings: list[str] = field(default_factory=list)


def candidate_groups(candidates: Sequence[tuple[int, ...]], n_units: int) -> list[list[int]]:
    """Candidates split into independent groups (no unit shared between groups).

    Groups in the order of their smallest unit, candidates in index order within a group
    (the order the selection's budget sharing and CP-SAT models depend on). Connected
    components of the unit graph in which a candidate links its units (scipy: the Python
    union-find it replaces took seconds on a national région's 100,000 candidates).
    """
    if not len(candidates):
        return []
    lengths = np.fromiter((len(c) for c in candidates), dtype="int64", count=len(candidates))
    flat = np.fromiter(
        (u for c in candidates for u in c), dtype="int64", count=int(lengths.sum())
    )
    first = np.repeat(
        np.fromiter((c[0] for c in candidates), dtype="int64", count=len(candidates)), lengths
    )
    # every unit of a candidate linked to its first unit: same components as any spanning set
    adj = coo_matrix((np.ones(len(flat)), (first, flat)), shape=(n_units, n_units))
    _, labels = connected_components(adj, directed=False)
    # a component's key: its smallest unit among those in a candidate
    used = np.zeros(n_units, dtype=bool)
    used[flat] = True
    n_labels = int(labels.max()) + 1
    smallest = np.full(n_labels, n_units, dtype="int64")
    np.minimum.at(smallest, labels[used], np.flatnonzero(used))
    cand_key = smallest[labels[first[np.r_[0, np.cumsum(lengths)[:-1]]]]]
    order = np.argsort(cand_key, kind="stable")
    keys = cand_key[order]
    cuts = np.flatnonzero(np.diff(keys)) + 1
    return [part.tolist() for part in np.split(order, cuts)]


def _tune(p) -> None:
    """Set packing needs no probing, and merging at-most-ones into cliques is expensive on
    thousands of overlapping candidates: measured 10x faster to optimality without them."""
    p.cp_model_probing_level = 0
    p.merge_at_most_one_work_limit = 1e5


@dataclass(frozen=True)
class PackingProblem:
    """What every group of one selection shares: the candidates, their values, the units'
    sizes and locks, the objective's form and CP-SAT's settings. One object instead of the
    same twelve parameters threaded through :func:`_solve_group` and :func:`_solve_windows`."""

    candidates: Sequence[tuple[int, ...]]
    values: Sequence[Value]
    #: ESMS per unit, and ESMS of small OGs per unit
    unit_sizes: np.ndarray
    small_sizes: np.ndarray
    #: per unit: must be in a chosen candidate (user lock)
    forced: np.ndarray
    points_weight: float | None
    #: candidate indices of a known valid packing (the warm start)
    hint: frozenset[int]
    seed: int
    workers: int
    hint_level1_optimal: bool = False
    #: unit position vectors (3-D), to cut large groups into windows of neighbours
    unit_pos: np.ndarray | None = None

    def relaxed(self) -> PackingProblem:
        """The same problem without the user's locks (when they cannot all hold)."""
        return replace(self, forced=np.zeros_like(self.forced), hint_level1_optimal=False)


@dataclass(frozen=True)
class PackingResult:
    """One group's answer."""

    chosen: list[int]
    #: every stage proved optimal
    optimal: bool
    #: upper bound on the ESMS of small OGs any packing of the group can place
    bound_small: int
    #: the locks held (False: the group is infeasible with them)
    forced_kept: bool
    #: deterministic time CP-SAT used
    dtime: float


def _solve_group(pb: PackingProblem, idx: list[int], hint: frozenset[int] | set[int],
                 limit: float) -> PackingResult:
    """Solve one group exactly, stage by stage, within ``limit`` deterministic seconds."""
    candidates, values, forced = pb.candidates, pb.values, pb.forced
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"c{i}") for i in idx]
    by_unit: dict[int, list[int]] = {}
    for k, i in enumerate(idx):
        for u in candidates[i]:
            by_unit.setdefault(u, []).append(k)
    forced_units = [u for u in sorted(by_unit) if forced[u]]
    for u in sorted(by_unit):
        terms = [x[k] for k in by_unit[u]]
        if forced[u]:
            model.add(sum(terms) == 1)
        elif len(terms) > 1:
            model.add_at_most_one(terms)
    # every ESMS the group could place: weight of one small-OG ESMS in the stage-1 objective
    total = int(sum(pb.unit_sizes[u] for u in by_unit))
    stage1 = [values[i].small * (total + 1) + values[i].placed for i in idx]
    points = [values[i].points for i in idx]
    costs = [round(values[i].cost * COST_SCALE) for i in idx]
    set_hint(model, x, [i in hint for i in idx])

    # stage budgets: what a stage leaves unused (deterministic time) goes to the next ones
    # (the cost stage gets at most a quarter: local search also works on compactness)
    shares = (0.6, 0.8, 0.25) if pb.points_weight is None else (0.6, 1.0, 0.0)
    staged = StagedSolve(model, x, seed=pb.seed, workers=pb.workers, tune=_tune)

    def run(objective: list[int], maximise: bool, share: float, stage: int):
        used = staged.used
        budget = max(limit - used, 0.0) * share if stage < 2 else min(limit - used, share * limit)
        result = staged.stage(objective, maximise, max(budget, 0.0), seed_offset=stage)
        return result.values, result

    def finish(chosen: list[int], bound_small: int) -> PackingResult:
        """Stages 2 and 3 from a level-1 optimal solution."""
        if pb.points_weight is None:
            chosen2, _ = run(points, True, shares[1], 1)
            chosen = chosen2 or chosen
            chosen3, _ = run(costs, False, shares[2], 2)
            chosen = chosen3 or chosen
        else:
            merged = [
                round(pb.points_weight * p * COST_SCALE) - c
                for p, c in zip(points, costs, strict=True)
            ]
            chosen2, _ = run(merged, True, shares[1], 1)
            chosen = chosen2 or chosen
        picked = [idx[k] for k, s in enumerate(chosen) if s]
        return PackingResult(picked, staged.optimal, bound_small, True, staged.used)

    if pb.hint_level1_optimal and hint and not forced_units:
        chosen = [1 if i in hint else 0 for i in idx]
        best1 = sum(c * v for c, v in zip(stage1, chosen, strict=True))
        staged.fix(stage1, True, best1)
        return finish(chosen, sum(values[i].small for i in idx if i in hint))
    chosen, first = run(stage1, True, shares[0], 0)
    cap = int(sum(pb.small_sizes[u] for u in by_unit))
    if chosen is None:
        if first.infeasible or not hint:
            return PackingResult([], False, 0, not forced_units, staged.used)
        # no solution within the limit: keep the warm start (valid and disjoint)
        fallback = [i for i in idx if i in hint]
        return PackingResult(fallback, False, cap, True, staged.used)
    bound_small = min(math.floor(first.bound / (total + 1) + 1e-9), cap)
    return finish(chosen, bound_small)


def _solve_windows(pb: PackingProblem, idx: list[int], limit: float) -> PackingResult:
    """Exact re-optimisation of a large group, a window of neighbouring grappes at a time.

    A large neighbourhood search whose neighbourhoods are solved exactly: starting from the
    hint (the warm start, a valid packing), take the first grappe not yet revisited and its
    ``WINDOW_GRAPPES - 1`` nearest grappes (by centre), free their units and the free units
    closest to them, and solve the set packing on the candidates lying entirely inside that
    window. Everything else stays fixed, so each window can only improve the objective.
    """
    candidates, unit_pos, unit_sizes = pb.candidates, pb.unit_pos, pb.unit_sizes
    current = sorted(i for i in idx if i in pb.hint)
    by_unit: dict[int, list[int]] = {}
    for i in idx:
        for u in candidates[i]:
            by_unit.setdefault(u, []).append(i)
    cap = int(sum(pb.small_sizes[u] for u in by_unit))
    if unit_pos is None or not current:
        r = _solve_group(pb, idx, pb.hint, limit)
        return replace(r, bound_small=min(r.bound_small, cap))

    centres_of: dict[int, np.ndarray] = {}

    def centre_of(i: int) -> np.ndarray:
        c = centres_of.get(i)
        if c is None:
            s = (unit_pos[list(candidates[i])] * unit_sizes[list(candidates[i])][:, None]).sum(0)
            c = centres_of[i] = s / max(np.linalg.norm(s), 1e-300)
        return c

    processed: set[tuple[int, ...]] = set()
    used_total = 0.0
    remaining = float(limit)
    units_all = np.array(sorted(by_unit), dtype="int64")
    while True:
        todo = [i for i in current if candidates[i] not in processed]
        if not todo:
            break
        centres = np.array([centre_of(i) for i in current])
        seed_c = todo[0]
        near = np.argsort(-(centres @ centre_of(seed_c)), kind="stable")[:WINDOW_GRAPPES]
        window = {current[int(j)] for j in near}
        owner = {u: i for i in current for u in candidates[i]}
        free = units_all[[int(u) not in owner for u in units_all]]
        nearest = np.argmax(unit_pos[free] @ centres.T, axis=1) if len(free) else []
        area = {u for w in window for u in candidates[w]}
        area |= {int(u) for u, j in zip(free, nearest, strict=True) if current[int(j)] in window}
        touching: set[int] = set()
        for u in area:
            touching.update(by_unit.get(u, ()))
        local = sorted(k for k in touching if area.issuperset(candidates[k]))
        windows_left = max(1, -(-len(todo) // WINDOW_GRAPPES))
        r = _solve_group(pb, local, window, remaining / windows_left)
        processed.update(candidates[w] for w in window)
        if r.forced_kept and r.chosen:
            current = sorted([i for i in current if i not in window] + r.chosen)
            processed.update(candidates[i] for i in r.chosen)
        used_total += r.dtime
        remaining = max(remaining - r.dtime, 0.0)
    return PackingResult(current, False, cap, True, used_total)


def select(
    candidates: Sequence[tuple[int, ...]],
    values: Sequence[Value],
    unit_sizes: np.ndarray,
    small_sizes: np.ndarray | None = None,
    forced: np.ndarray | None = None,
    points_weight: float | None = None,
    hint: Sequence[int] = (),
    time_limit: float = FUNDING_TIME_LIMIT,
    seed: int = 0,
    workers: int = 1,
    hint_level1_optimal: bool = False,
    unit_pos: np.ndarray | None = None,
) -> Selection:
    """The best set of disjoint candidates.

    Parameters
    ----------
    candidates
        Valid grappes as sorted tuples of unit positions.
    values
        Their objective values.
    unit_sizes
        ESMS per unit of the sub-problem (its length is the number of units).
    small_sizes
        ESMS of small OGs per unit (for the bound when CP-SAT finds nothing in time).
    forced
        Per unit: must be in a chosen candidate (user lock).
    points_weight
        None: lexicographic objective; otherwise points and cost merged as
        ``points_weight * points - cost``.
    hint
        Candidate indices of a known solution (greedy), used as CP-SAT hints.
    time_limit
        Deterministic time budget shared by the groups, in proportion to their size.
    unit_pos
        Unit position vectors (3-D), to cut large groups into windows of neighbours.
    hint_level1_optimal
        The hint is known to reach the best level 1 (it meets an upper bound): stage 1 is
        not solved, its value is imposed directly.
    """
    n_units = len(unit_sizes)
    small_sizes = unit_sizes if small_sizes is None else small_sizes
    forced = np.zeros(n_units, dtype=bool) if forced is None else forced
    out = Selection(chosen=[])
    if not candidates:
        if forced.any():
            out.warnings.append(
                "contrainte impossible : aucun regroupement valide ne contient les OG imposés"
            )
        return out
    groups = candidate_groups(candidates, n_units)
    out.groups = len(groups)
    pb = PackingProblem(candidates, values, unit_sizes, small_sizes, forced, points_weight,
                        frozenset(hint), seed, workers, hint_level1_optimal, unit_pos)
    n_left = sum(len(g) for g in groups if len(g) > 1)
    remaining = float(time_limit)
    covered = set()
    for g in groups:
        for i in g:
            covered.update(candidates[i])
        if len(g) == 1:
            out.chosen.extend(g)
            out.optimal_groups += 1
            out.bound_small += values[g[0]].small
            continue
        limit = max(remaining * len(g) / max(n_left, 1), 0.2)
        n_left -= len(g)
        large = len(g) > WINDOW_CANDIDATES and pb.hint & set(g) and not forced.any()
        if large and unit_pos is not None:
            r = _solve_windows(pb, g, limit)
        else:
            r = _solve_group(pb, g, pb.hint, limit)
        used = r.dtime
        if not r.forced_kept:
            out.warnings.append(
                "contrainte impossible : les OG imposés ne peuvent pas tous être placés "
                "ensemble ; la contrainte est levée"
            )
            r = _solve_group(pb.relaxed(), g, pb.hint, limit)
            used += r.dtime
        # deterministic time a group leaves unused goes to the next groups
        remaining = max(remaining - used, 0.0)
        out.dtime += used
        out.chosen.extend(r.chosen)
        out.optimal_groups += int(r.optimal)
        out.bound_small += r.bound_small
    missing = [u for u in np.flatnonzero(forced) if u not in covered]
    if missing:
        out.warnings.append(
            f"contrainte impossible : {len(missing)} OG imposé(s) ne peuvent former aucune "
            "grappe valide"
        )
    out.chosen.sort()
    return out
