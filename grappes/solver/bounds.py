"""Upper bounds on what any valid grouping can place (the LP relaxation of the packing).

The neighbourhood bound counts a unit only when the compatible units within reach could
complete a grappe with it. It is the value of the set-packing LP relaxation (measured by a
column generation with exact pricing, issue 23): the gap between a proposal and this bound
is the integer problem's (choosing whole grappes), not the bound's looseness.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix

from grappes.solver.candidates import compatible_with
from grappes.solver.evaluate import Evaluator


def neighbourhood_bound(
    ev: Evaluator, neighbours: list[np.ndarray], within: np.ndarray | None = None
) -> tuple[int, int, np.ndarray]:
    """Upper bounds on the ESMS of small OGs, and on all ESMS, any valid grouping can place.

    A unit can only be placed when the compatible units within reach (``2 * max_km``, the
    diameter of a grappe) hold enough ESMS, and, for a small OG, when at least one other
    OG is within reach. A grappe keeps one DUI solution: for a unit without one, only the
    units without a DUI and those of a single solution count (the best one). Units failing
    this are removed and the test repeated until stable. Also returns the mask of units
    that pass.

    ``within`` (mask of units) restricts the question to those units, the others being fixed
    elsewhere: the bound of a zone re-optimised alone (``grappes.solver.zones``).
    """
    units = ev.units
    n_units = len(units)
    if n_units == 0:
        return 0, 0, np.zeros(0, dtype=bool)
    rows, cols = [], []
    members = range(n_units) if within is None else np.flatnonzero(within).tolist()
    for u in members:
        nb = neighbours[u]
        ok = nb[compatible_with(ev, u, nb)]
        if within is not None:
            ok = ok[within[ok]]
        rows.append(np.full(len(ok), u))
        cols.append(ok)
    r = np.concatenate(rows) if rows else np.empty(0, dtype="int64")
    c = np.concatenate(cols) if cols else np.empty(0, dtype="int64")
    adj = coo_matrix((np.ones(len(r)), (r, c)), shape=(n_units, n_units)).tocsr()
    rules = ev.rules
    alive = units.vendor != -2
    if within is not None:
        alive &= within
    minimum = np.where(units.derog, rules.min_esms_derogatoire, rules.min_esms)
    alone_ok = units.big | (ev.n_og >= rules.min_og)
    if rules.max_esms is not None:
        # above the nominal size a unit can only stand alone (the documents cap the funding,
        # not the project: 000 « dans la limite de 49 ESMS par projet »)
        alive &= (units.n <= rules.max_esms) | alone_ok
    free = units.vendor == -1
    bound = np.flatnonzero(units.vendor >= 0)
    n_vendors = max(int(units.vendor.max()) + 1, 1) if len(units.vendor) else 1
    own = np.maximum(units.vendor, 0)
    while True:
        weight = units.n * alive
        by_vendor = coo_matrix(
            (weight[bound], (bound, units.vendor[bound])), shape=(n_units, n_vendors)
        ).tocsr()
        per_vendor = (adj @ by_vendor).toarray()
        best_vendor = np.where(
            units.vendor >= 0, per_vendor[np.arange(n_units), own], per_vendor.max(axis=1)
        )
        reach = units.n + adj @ (weight * free) + best_vendor
        partners = adj @ alive.astype(float)
        keep = alive & (reach >= minimum) & (alone_ok | (partners > 0))
        if (keep == alive).all():
            break
        alive = keep
    return int(units.n_small[alive].sum()), int(units.n[alive].sum()), alive
