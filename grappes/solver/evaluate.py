"""Hard rules and objective of a set of units: is it a valid grappe, and what is it worth.

The checks mirror ``grappes.programme.validate`` (which stays the independent referee in the tests)
plus the solver's own geographic rule: every OG within ``GraphWeights.max_km`` of the grappe's
centre. The objective has three levels, compared lexicographically by default:

1. ESMS of small OGs placed (then, to break ties, all ESMS placed);
2. computable regional priority points (isolated autonomous ESMS, several OGs of the région,
   several départements of the région), from ``GroupingRules``;
3. a cost in kilometre equivalents (compactness and similarity, see ``GraphWeights``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix

from grappes.core.model import GroupingRules
from grappes.geo.distances import EARTH_RADIUS_KM
from grappes.programme.scoring import computed_points, main_region_index
from grappes.solver.graph import GraphWeights
from grappes.solver.units import NO_VENDOR, VENDOR_CONFLICT, Units, norm3


@dataclass(frozen=True)
class Value:
    """The objective of one grappe (or a sum over grappes)."""

    small: int
    placed: int
    points: int
    cost: float

    def __add__(self, other: Value) -> Value:
        return Value(
            self.small + other.small,
            self.placed + other.placed,
            self.points + other.points,
            self.cost + other.cost,
        )

    def __sub__(self, other: Value) -> Value:
        return Value(
            self.small - other.small,
            self.placed - other.placed,
            self.points - other.points,
            self.cost - other.cost,
        )


ZERO = Value(0, 0, 0, 0.0)


def better(delta: Value, points_weight: float | None = None, eps: float = 1e-6) -> bool:
    """Whether a change of objective ``delta`` is an improvement.

    Lexicographic (small, placed, points, -cost) when ``points_weight`` is None; otherwise
    levels 2 and 3 are merged as ``points_weight * points - cost``.
    """
    if delta.small != 0:
        return delta.small > 0
    if delta.placed != 0:
        return delta.placed > 0
    if points_weight is None:
        if delta.points != 0:
            return delta.points > 0
        return delta.cost < -eps
    return points_weight * delta.points - delta.cost > eps


#: Member tuples whose check is remembered at most (then forgotten at once: a bound on memory,
#: about 100 bytes each, that changes no result).
CHECK_CACHE_SIZE = 400_000
_UNKNOWN = object()


class Evaluator:
    """Checks and values sets of units of one sub-problem, with a cache.

    Parameters
    ----------
    units
        The sub-problem's units.
    rules
        Grouping rules of the call.
    weights
        Graph weights (``max_km`` and the cost terms).
    links
        Known partnerships as pairs of unit positions.
    """

    def __init__(
        self,
        units: Units,
        rules: GroupingRules,
        weights: GraphWeights,
        links: set[frozenset[int]] | None = None,
    ) -> None:
        self.units = units
        self.rules = rules
        self.weights = weights
        self.cos_limit = float(np.cos(min(weights.max_km / EARTH_RADIUS_KM, np.pi)))
        self.links = links or set()
        self.links_of: dict[int, set[int]] = {}
        for pair in self.links:
            a, b = tuple(pair)
            self.links_of.setdefault(a, set()).add(b)
            self.links_of.setdefault(b, set()).add(a)
        self.cap = rules.solver_cap
        self._values: dict[tuple[int, ...], Value] = {}
        self._checks: dict[tuple[int, ...], str | None] = {}
        self.n_og = np.array([len(o) for o in units.ogs], dtype="int64")
        # plain lists: summing a few Python ints beats numpy fancy indexing on tiny sets
        self._n = units.n.tolist()
        self._og = self.n_og.tolist()
        self._med = units.n_med.tolist()
        self._big = units.big.tolist()
        self._derog = units.derog.tolist()
        self._vendor = units.vendor.tolist()

    # ------------------------------------------------------------------ rules

    def minimum(self, members: Sequence[int]) -> int:
        """Minimum ESMS for this set: 8 when every member is in Corsica / overseas."""
        derog = bool(len(members)) and bool(self.units.derog[list(members)].all())
        return self.rules.min_esms_derogatoire if derog else self.rules.min_esms

    def centre(self, members: Sequence[int]) -> np.ndarray:
        """Unit 3-D vector of the grappe's centre (spherical mean of its ESMS)."""
        s = self.units.vec_sum[list(members)].sum(axis=0)
        norm = norm3(s)
        return s / norm if norm > 0 else s

    def within_reach(self, members: Sequence[int]) -> bool:
        """Every OG within ``max_km`` of the centre."""
        c = self.centre(members)
        return bool((self.units.pos[list(members)] @ c).min() >= self.cos_limit - 1e-12)

    def apart_ok(self, members: Sequence[int]) -> bool:
        """No pair of members that the user keeps apart."""
        if not self.units.apart:
            return True
        s = list(members)
        return not any(
            frozenset((s[i], s[j])) in self.units.apart
            for i in range(len(s))
            for j in range(i + 1, len(s))
        )

    def check(self, members: Sequence[int]) -> str | None:
        """The first hard rule the set breaks, None when valid.

        Codes: ``grappes.core.vocabulary.UNIT_CHECK_CODES``, tested in that order.
        Remembered per member tuple (in the given order, so the floats are the same): the
        local search checks the same sets again and again (half of its checks on a generated
        région of 5,000 ESMS), and the check was the warm start's first cost (issue 23).
        """
        key = tuple(members)
        known = self._checks.get(key, _UNKNOWN)
        if known is not _UNKNOWN:
            return known
        if len(self._checks) >= CHECK_CACHE_SIZE:
            self._checks.clear()
        result = self._check(key)
        self._checks[key] = result
        return result

    def _check(self, members: tuple[int, ...]) -> str | None:
        if not len(members):
            return "vide"
        n = n_og = med = 0
        big, derog, vendor_bad, seen = False, True, False, NO_VENDOR
        for m in members:
            n += self._n[m]
            n_og += self._og[m]
            med += self._med[m]
            big = big or self._big[m]
            derog = derog and self._derog[m]
            v = self._vendor[m]
            if v == VENDOR_CONFLICT or (v >= 0 and seen >= 0 and v != seen):
                vendor_bad = True
            elif v >= 0:
                seen = v
        rules = self.rules
        if n < (rules.min_esms_derogatoire if derog else rules.min_esms):
            return "trop_peu_esms"
        if rules.max_esms is not None and n > rules.max_esms and len(members) > 1:
            # nominal size: a unit above it may still stand alone (funding is capped instead)
            return "trop_esms"
        if n_og < rules.min_og and not big:
            return "trop_peu_og"
        if rules.medicalise_majority and 2 * med <= n:
            return "medicalise_minoritaire"
        if vendor_bad:
            return "dui_multiple"
        if not self.within_reach(members):
            return "trop_loin"
        if not self.apart_ok(members):
            return "separes"
        return None

    def valid(self, members: Sequence[int]) -> bool:
        return self.check(members) is None

    # ------------------------------------------------------------------ objective

    def _prepare_batch(self) -> None:
        """Sparse incidence matrices of units to vendors, régions, départements, ESMS, links."""
        u = self.units
        n_units = len(u)
        uid = np.arange(n_units)
        statuts = sorted(set(u.statut))
        self._statut_idx = np.array([statuts.index(s) for s in u.statut], dtype="int64")
        self._statut_w = csr_matrix(
            (u.n.astype(float), (uid, self._statut_idx)), shape=(n_units, max(len(statuts), 1))
        )
        n_vendors = max(len(u.vendor_names), 1)
        r, c, v = [], [], []
        for m, counts in enumerate(u.vendor_counts):
            for vid, cnt in counts.items():
                r.append(m)
                c.append(vid)
                v.append(cnt)
        self._vendor_counts = csr_matrix((v, (r, c)), shape=(n_units, n_vendors), dtype=float)
        bound = np.flatnonzero(u.vendor >= 0)
        self._vendor_bound = csr_matrix(
            (np.ones(len(bound)), (bound, u.vendor[bound])), shape=(n_units, n_vendors)
        )
        regions = sorted({g for info in u.by_region for g in info})
        # the unnamed région ('') is the main one only when no named one holds ESMS
        self._region_named = np.array([g != "" for g in regions] or [False], dtype=bool)
        deps = sorted({(g, d) for info in u.by_region for g, x in info.items() for d in x[1]})
        dep_index = {k: i for i, k in enumerate(deps)}
        self._dep_region = np.array([regions.index(g) for g, _ in deps], dtype="int64")
        self._dep_named = np.array([d != "" for _, d in deps], dtype=bool)
        rr, rc, rv, ov, dr, dc = [], [], [], [], [], []
        for m, info in enumerate(u.by_region):
            for g, (count, dset, n_og) in info.items():
                rr.append(m)
                rc.append(regions.index(g))
                rv.append(count)
                ov.append(n_og)
                for d in dset:
                    dr.append(m)
                    dc.append(dep_index[(g, d)])
        shape = (n_units, max(len(regions), 1))
        self._region_n = csr_matrix((rv, (rr, rc)), shape=shape, dtype=float)
        self._region_og = csr_matrix((ov, (rr, rc)), shape=shape, dtype=float)
        self._deps = csr_matrix((np.ones(len(dr)), (dr, dc)), shape=(n_units, max(len(deps), 1)))
        esms_unit = u.esms["_unit"].to_numpy(dtype="int64")
        self._esms_of = csr_matrix(
            (np.ones(len(esms_unit)), (esms_unit, np.arange(len(esms_unit)))),
            shape=(n_units, len(esms_unit)),
        )
        lr = [a for pair in self.links for a in pair]
        lc = [b for pair in self.links for b in reversed(tuple(pair))]
        self._links = csr_matrix((np.ones(len(lr)), (lr, lc)), shape=(n_units, n_units))
        self._log_size = np.log(np.maximum(u.og_size, 1.0))

    def batch(self, candidates: Sequence[Sequence[int]]) -> dict[str, np.ndarray]:
        """Objective parts of many sets of units at once (vectorised with sparse matrices).

        Returns arrays (one entry per set): ``small``, ``placed``, the points ``isole``,
        ``multi_og``, ``multi_departement``, ``vendor`` (chosen solution id, -1 none),
        ``vendor_changes``, ``mean_km``, ``max_km`` and the cost terms ``distance``,
        ``statut``, ``taille``, ``editeur``, ``liens``.
        """
        if not hasattr(self, "_statut_w"):
            self._prepare_batch()
        u = self.units
        w = self.weights
        rules = self.rules
        k = len(candidates)
        lengths = np.array([len(c) for c in candidates], dtype="int64")
        cols = np.concatenate([np.asarray(c, dtype="int64") for c in candidates]) if k else []
        rows = np.repeat(np.arange(k), lengths)
        m = csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(k, len(u)))
        out: dict[str, np.ndarray] = {}
        out["small"] = (m @ u.n_small).astype("int64")
        out["placed"] = (m @ u.n).astype("int64")

        # computed points, on the counts of the main région (``programme.scoring``)
        main = main_region_index((m @ self._region_n).toarray(), self._region_named)
        region_og = (m @ self._region_og).toarray()
        n_og_main = region_og[np.arange(k), main]
        deps = (m @ self._deps).tocoo()
        hit = (self._dep_region[deps.col] == main[deps.row]) & self._dep_named[deps.col]
        n_dep = np.bincount(deps.row[hit], minlength=k)
        out.update(computed_points(m @ u.n_auto, n_og_main, n_dep, rules))

        # distances of member ESMS to the centre
        s = m @ u.vec_sum
        centre = s / np.maximum(np.linalg.norm(s, axis=1, keepdims=True), 1e-300)
        e = (m @ self._esms_of).tocsr()
        e.sort_indices()
        erow = np.repeat(np.arange(k), np.diff(e.indptr))
        dots = np.einsum("ij,ij->i", u.esms_vec[e.indices], centre[erow])
        km = EARTH_RADIUS_KM * np.arccos(np.clip(dots, -1.0, 1.0))
        counts = np.diff(e.indptr)
        starts = e.indptr[:-1]
        nonempty = counts > 0
        mean_km = np.zeros(k)
        max_km = np.zeros(k)
        if nonempty.any():
            sums = np.add.reduceat(km, starts[nonempty])
            mean_km[nonempty] = sums / counts[nonempty]
            max_km[nonempty] = np.maximum.reduceat(km, starts[nonempty])
        out["mean_km"], out["max_km"] = mean_km, max_km

        # legal status: OGs outside the main status (weighted by ESMS; ties: first label)
        statut_w = (m @ self._statut_w).toarray()
        main_statut = statut_w.argmax(axis=1)
        mc = m.tocoo()
        same = np.bincount(mc.row[self._statut_idx[mc.col] == main_statut[mc.row]], minlength=k)
        off_statut = lengths - same

        # size: distance of each OG's log size to the grappe's mean log size
        mean_log = (m @ self._log_size) / np.maximum(lengths, 1)
        size_dev = np.bincount(
            mc.row, weights=np.abs(self._log_size[mc.col] - mean_log[mc.row]), minlength=k
        )

        # DUI vendor: the one in place, else the most used name; others change vendor
        bound = (m @ self._vendor_bound).toarray()
        named = (m @ self._vendor_counts).toarray()
        has_bound = bound.max(axis=1) > 0 if bound.size else np.zeros(k, dtype=bool)
        chosen = np.where(has_bound, bound.argmax(axis=1), named.argmax(axis=1))
        total_named = named.sum(axis=1)
        chosen = np.where(has_bound | (total_named > 0), chosen, NO_VENDOR)
        kept = np.where(chosen >= 0, named[np.arange(k), np.maximum(chosen, 0)], 0.0)
        out["vendor"] = chosen.astype("int64")
        out["vendor_changes"] = (total_named - kept).astype("int64")

        links = np.asarray((m @ self._links).multiply(m).sum(axis=1)).ravel() / 2.0

        out["distance"] = w.km * (mean_km + max_km)
        out["statut"] = w.statut * off_statut
        out["taille"] = w.size * size_dev
        out["editeur"] = w.vendor_change * out["vendor_changes"]
        out["liens"] = -w.link * links
        return out

    def values(self, candidates: Sequence[Sequence[int]]) -> list[Value]:
        """Objective of many valid grappes (vectorised); fills the cache."""
        keys = [tuple(sorted(map(int, c))) for c in candidates]
        todo = [key for key in dict.fromkeys(keys) if key not in self._values]
        for start in range(0, len(todo), 20_000):
            chunk = todo[start : start + 20_000]
            b = self.batch(chunk)
            points = b["isole"] + b["multi_og"] + b["multi_departement"]
            cost = b["distance"] + b["statut"] + b["taille"] + b["editeur"] + b["liens"]
            for i, key in enumerate(chunk):
                self._values[key] = Value(
                    int(b["small"][i]), int(b["placed"][i]), int(points[i]), float(cost[i])
                )
        return [self._values[key] for key in keys]

    def _dense(self) -> None:
        """Dense copies of the incidence matrices, for the one-set path (local search)."""
        if not hasattr(self, "_statut_w"):
            self._prepare_batch()
        self._d_region_n = self._region_n.toarray()
        self._d_region_og = self._region_og.toarray()
        self._d_vendor_counts = self._vendor_counts.toarray()
        self._d_vendor_bound = self._vendor_bound.toarray()
        self._d_statut_w = self._statut_w.toarray()
        # the five count matrices side by side: one gather and one sum per set in ``single``
        # (their entries are whole numbers, so the sums are exact whatever the grouping)
        parts = (self._d_region_n, self._d_region_og, self._d_statut_w,
                 self._d_vendor_bound, self._d_vendor_counts)
        self._d_counts = np.hstack(parts)
        ends = np.cumsum([p.shape[1] for p in parts]).tolist()
        self._cols = [slice(a, b) for a, b in zip([0, *ends[:-1]], ends, strict=True)]
        deps = self._deps.tocsr()
        region_of = self._dep_region.tolist()
        named = self._dep_named.tolist()
        # per unit and région: the named départements (as a Python set, for fast unions)
        self._unit_deps: list[dict[int, frozenset[int]]] = []
        for m in range(len(self.units)):
            by: dict[int, set[int]] = {}
            for d in deps.indices[deps.indptr[m] : deps.indptr[m + 1]].tolist():
                if named[d]:
                    by.setdefault(region_of[d], set()).add(d)
            self._unit_deps.append({g: frozenset(v) for g, v in by.items()})
        self._auto = self.units.n_auto.tolist()

    def single(self, members: Sequence[int]) -> dict[str, float]:
        """Same as :meth:`batch` for one set, without sparse matrices (about 20x faster)."""
        if not hasattr(self, "_d_region_n"):
            self._dense()
        u = self.units
        w = self.weights
        rules = self.rules
        idx = np.asarray(list(members), dtype="int64")
        out: dict[str, float] = {
            "small": int(u.n_small[idx].sum()),
            "placed": int(u.n[idx].sum()),
        }
        counts = self._d_counts[idx].sum(axis=0)
        c_region, c_og, c_statut, c_bound, c_named = (counts[c] for c in self._cols)
        main = int(main_region_index(c_region, self._region_named))
        n_og_main = float(c_og[main])
        deps: set[int] = set()
        for m in members:
            deps |= self._unit_deps[m].get(main, frozenset())
        n_dep = len(deps)
        out.update(computed_points(sum(self._auto[m] for m in members), n_og_main, n_dep, rules))
        km = self.distances_km(idx)
        # sum / count is what ``ndarray.mean`` computes (same float), without its overhead
        out["mean_km"], out["max_km"] = float(km.sum() / len(km)), float(km.max())
        main_statut = int(c_statut.argmax())
        off_statut = int((self._statut_idx[idx] != main_statut).sum())
        logs = self._log_size[idx]
        size_dev = float(np.abs(logs - logs.sum() / len(logs)).sum())
        bound, named = c_bound, c_named
        total_named = float(named.sum())
        if bound.size and bound.max() > 0:
            chosen = int(bound.argmax())
        elif total_named > 0:
            chosen = int(named.argmax())
        else:
            chosen = NO_VENDOR
        kept = float(named[chosen]) if chosen >= 0 else 0.0
        out["vendor"] = chosen
        out["vendor_changes"] = int(total_named - kept)
        member_set = set(idx.tolist())
        links = (
            sum(1 for m in member_set for o in self.links_of.get(m, ()) if o in member_set) / 2
            if self.links_of
            else 0.0
        )
        out["distance"] = w.km * (out["mean_km"] + out["max_km"])
        out["statut"] = w.statut * off_statut
        out["taille"] = w.size * size_dev
        out["editeur"] = w.vendor_change * out["vendor_changes"]
        out["liens"] = -w.link * links
        return out

    def value(self, members: Sequence[int]) -> Value:
        """Objective of one valid grappe (cached on the sorted members)."""
        key = tuple(sorted(map(int, members)))
        cached = self._values.get(key)
        if cached is not None:
            return cached
        d = self.single(key)
        val = Value(
            int(d["small"]),
            int(d["placed"]),
            int(d["isole"] + d["multi_og"] + d["multi_departement"]),
            float(d["distance"] + d["statut"] + d["taille"] + d["editeur"] + d["liens"]),
        )
        self._values[key] = val
        return val

    def details(self, members: Sequence[int]) -> dict[str, float]:
        """Every part of the objective of one grappe (points, cost terms, distances)."""
        return self.single(members)

    def points(self, members: Sequence[int]) -> dict[str, int]:
        """Computed points per criterion (``grappes.programme.scoring.computed_points``)."""
        d = self.details(members)
        return {name: int(d[name]) for name in ("isole", "multi_og", "multi_departement")}

    def distances_km(self, members: Sequence[int]) -> np.ndarray:
        """Distance of each member ESMS to the grappe's centre, km."""
        u = self.units
        rows = np.concatenate([u.rows[m] for m in members])
        c = self.centre(members)
        dots = np.clip(u.esms_vec[rows] @ c, -1.0, 1.0)
        return EARTH_RADIUS_KM * np.arccos(dots)

    def total(self, grappes: Iterable[Sequence[int]]) -> Value:
        """Sum of the objective over grappes."""
        out = ZERO
        for g in grappes:
            out = out + self.value(g)
        return out
