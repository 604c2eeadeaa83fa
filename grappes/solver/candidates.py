"""Generate candidate grappes: valid sets of units grown from every OG along the graph.

Column generation by enumeration, as in crew scheduling: a large pool of valid columns
(here grappes) is generated heuristically, then an exact set-packing model picks the best
disjoint subset (``grappes.solver.select``). Each unit seeds several growths over its
neighbours within reach (``2 * max_km``): towards the running centre, by edge weight from the
seed, isolated autonomous ESMS first (a medium or large OG collecting isolated ESMS), and a
few seeded random perturbations. Every valid set met on the way is kept, from the first
valid size up to a few more units. Small connected components of the reach graph are
enumerated exhaustively, so the selection is exact on them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from grappes.solver.evaluate import Evaluator
from grappes.solver.units import VENDOR_CONFLICT, norm3


@dataclass(frozen=True)
class CandidateParams:
    """How many candidates to grow.

    Attributes
    ----------
    extra
        Valid sets recorded per growth after the first valid one (more sizes to choose from).
    random_growths
        Randomly perturbed growths per seed (seeded: deterministic).
    exhaustive_max
        Components of the reach graph with at most this many units are enumerated
        completely (2^n subsets).
    max_neighbours
        Neighbours considered per seed, nearest first (bounds the work in dense cities).
    """

    extra: int = 4
    random_growths: int = 1
    exhaustive_max: int = 10
    max_neighbours: int = 120


def reach_components(
    n_units: int, neighbours: list[np.ndarray], compatible: list[np.ndarray]
) -> np.ndarray:
    """Connected components of the graph of compatible units within reach (labels)."""
    rows = np.repeat(np.arange(n_units), [int(c.sum()) for c in compatible])
    cols = (
        np.concatenate([nb[c] for nb, c in zip(neighbours, compatible, strict=True)])
        if n_units
        else np.empty(0, dtype="int64")
    )
    if len(cols) == 0:
        return np.arange(n_units)
    adj = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_units, n_units))
    _, labels = connected_components(adj, directed=False)
    return labels


def compatible_with(ev: Evaluator, u: int, others: np.ndarray) -> np.ndarray:
    """Mask of ``others`` whose DUI solution and user locks allow sharing a grappe with u."""
    units = ev.units
    vu = units.vendor[u]
    vo = units.vendor[others]
    if vu == VENDOR_CONFLICT:
        return np.zeros(len(others), dtype=bool)
    ok = vo != VENDOR_CONFLICT
    if vu >= 0:
        ok &= (vo < 0) | (vo == vu)
    if units.apart:
        ok &= np.array([frozenset((u, int(o))) not in units.apart for o in others], dtype=bool)
    return ok


class Grower:
    """Grows sets of units from a seed, keeping every valid set met on the way.

    The hard rules are tracked incrementally (counts, OGs, bound vendor, centre) so that a
    growth step costs two small matrix-vector products; ``Evaluator.check`` is the
    reference these shortcuts must agree with (tested).
    """

    def __init__(self, ev: Evaluator, params: CandidateParams) -> None:
        self.ev = ev
        self.params = params
        self.found: set[tuple[int, ...]] = set()
        #: growths run (a deterministic measure of the work done)
        self.growths = 0
        units = ev.units
        rules = ev.rules
        self.n = units.n.tolist()
        self.n_og = ev.n_og.tolist()
        self.n_med = units.n_med.tolist()
        self.big = units.big.tolist()
        self.derog = units.derog.tolist()
        self.vendor = units.vendor.tolist()
        self.min_esms = rules.min_esms
        self.min_derog = rules.min_esms_derogatoire
        self.max_esms = rules.max_esms
        self.min_og = rules.min_og
        self.med_rule = rules.medicalise_majority

    def _valid(self, n: int, n_og: int, big: bool, med: int, derog: bool,
               alone: bool = False) -> bool:
        if n < (self.min_derog if derog else self.min_esms):
            return False
        if self.max_esms is not None and n > self.max_esms and not alone:
            return False
        if n_og < self.min_og and not big:
            return False
        return not (self.med_rule and 2 * med <= n)

    def grow(self, seed: int, pool: np.ndarray, mode: str, order_key: np.ndarray | None = None):
        """One growth from ``seed`` over ``pool`` (neighbour units, compatible with the seed).

        ``mode`` is ``centre`` (next unit = nearest to the running centre) or ``order``
        (units taken in the order of ``order_key``, ascending).
        """
        ev = self.ev
        self.growths += 1
        units = ev.units
        cap = ev.cap
        apart = units.apart
        cos_limit = ev.cos_limit - 1e-12
        members = [seed]
        n, n_og, med = self.n[seed], self.n_og[seed], self.n_med[seed]
        big, derog, vendor = self.big[seed], self.derog[seed], self.vendor[seed]
        s = units.vec_sum[seed].copy()
        mpos = np.empty((cap + 1, 3))
        mpos[0] = units.pos[seed]
        recorded = 0
        if self._valid(n, n_og, big, med, derog, alone=True) and ev.valid(members):
            self.found.add((seed,))
            recorded += 1
        if len(pool) == 0:
            return
        pool_list = pool.tolist()
        pos = units.pos[pool]
        vec = units.vec_sum[pool]
        alive = [True] * len(pool)
        # "order": one ranking for the whole growth; "centre": the alive unit nearest the
        # running centre, which only moves when a unit joins, so one ranking serves every
        # unit refused in between (the order of an argmax per step, ties to the first)
        centre = mode == "centre"
        order = [] if centre else np.argsort(order_key, kind="stable").tolist()
        cursor = 0
        stale = centre
        while n < cap and recorded <= self.params.extra:
            if stale:
                order = np.argsort(-(pos @ s), kind="stable").tolist()
                cursor = 0
                stale = False
            while cursor < len(order) and not alive[order[cursor]]:
                cursor += 1
            if cursor >= len(order):
                break
            j = order[cursor]
            alive[j] = False
            cand = pool_list[j]
            vc = self.vendor[cand]
            if vc >= 0 and vendor >= 0 and vc != vendor:
                continue
            if n + self.n[cand] > cap:
                continue
            if apart and any(frozenset((cand, m)) in apart for m in members):
                continue
            new_s = s + vec[j]
            c = new_s / norm3(new_s)
            k = len(members)
            mpos[k] = pos[j]
            if (mpos[: k + 1] @ c).min() < cos_limit:
                continue
            members.append(cand)
            s = new_s
            stale = centre
            n += self.n[cand]
            n_og += self.n_og[cand]
            med += self.n_med[cand]
            big = big or self.big[cand]
            derog = derog and self.derog[cand]
            if vc >= 0:
                vendor = vc
            if self._valid(n, n_og, big, med, derog):
                self.found.add(tuple(sorted(members)))
                recorded += 1


def enumerate_component(ev: Evaluator, comp: np.ndarray, found: set[tuple[int, ...]]) -> None:
    """Every valid subset of a small component."""
    comp = np.sort(comp)
    k = len(comp)
    for mask in range(1, 1 << k):
        members = [int(comp[i]) for i in range(k) if mask >> i & 1]
        if ev.check(members) is None:
            found.add(tuple(members))


def generate(
    ev: Evaluator,
    neighbours: list[np.ndarray],
    weights: list[np.ndarray],
    params: CandidateParams | None = None,
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
) -> list[tuple[int, ...]]:
    """The pool of valid candidate grappes (sorted tuples of unit positions), sorted.

    Parameters
    ----------
    ev
        Evaluator of the sub-problem.
    neighbours, weights
        Per unit: the units within reach (nearest first) and the matching edge weights.
    params
        Growth parameters.
    seed
        Seed of the random perturbations.
    progress
        Called with the share of seeds done.
    """
    params = params or CandidateParams()
    units = ev.units
    n_units = len(units)
    compat = [compatible_with(ev, u, nb) for u, nb in enumerate(neighbours)]
    labels = reach_components(n_units, neighbours, compat)
    grower = Grower(ev, params)
    sizes = np.bincount(labels, minlength=int(labels.max()) + 1 if n_units else 0)
    comp_n = np.bincount(labels, weights=units.n.astype(float), minlength=len(sizes))
    done_small: set[int] = set()
    rng = np.random.default_rng(seed)
    auto = units.n_auto > 0
    dep_main = np.array(
        [
            min(dep for info in units.by_region[m].values() for dep in info[1])
            for m in range(n_units)
        ],
        dtype=object,
    )
    for u in range(n_units):
        lab = int(labels[u])
        if sizes[lab] <= params.exhaustive_max:
            if lab not in done_small:
                done_small.add(lab)
                # a component that cannot reach the threshold has no valid subset
                if comp_n[lab] >= min(ev.rules.min_esms_derogatoire, ev.rules.min_esms):
                    enumerate_component(ev, np.flatnonzero(labels == lab), grower.found)
            continue
        nb = neighbours[u][compat[u]][: params.max_neighbours]
        w = weights[u][compat[u]][: params.max_neighbours]
        noise = rng.uniform(0.6, 1.4, size=(params.random_growths, len(nb)))
        if units.vendor[u] == VENDOR_CONFLICT:
            continue
        grower.grow(u, nb, "centre")
        grower.grow(u, nb, "order", w)
        if auto[nb].any():
            # isolated autonomous ESMS first: all of them for a medium / large OG (which
            # may stand alone and is asked to bring them in), a head start otherwise
            bonus = 1e6 if units.big[u] else 20.0
            grower.grow(u, nb, "order", w + bonus * ~auto[nb])
        # the priority points reward several départements: partners across the border first
        other_dep = dep_main[nb] != dep_main[u]
        if other_dep.any() and not other_dep.all():
            grower.grow(u, nb, "order", w - 25.0 * other_dep - 10.0 * auto[nb])
        for r in range(params.random_growths):
            grower.grow(u, nb, "order", w * noise[r])
        if progress is not None and u % 200 == 0:
            progress(u / max(n_units, 1))
    return sorted(grower.found)
