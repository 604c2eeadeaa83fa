"""Adapters running each method of the benchmark on one instance and returning its grouping.

Every adapter takes the same instance (the eligible ESMS of one field, normalised table) and
returns a :class:`PeerRun`: a group label per FINESS ET ('' = left out) and the wall time.

- ``solveur``: ``grappes.solver.GrappeSolver`` (the method under test);
- ``glouton``: ``grappes.solver.greedy_baseline`` (grow-then-attach baseline);
- ``max-p``: spopt's ``MaxPHeuristic`` (Wei, Rey & Knaap 2020, "Efficient regionalization
  for spatially explicit neighborhood delineation", IJGIS) on OG units with libpysal ``KNN``
  weights, threshold = minimum ESMS per grappe on the ESMS count of each unit;
- ``k-means contraint``: ``KMeansConstrained`` (Bradley, Bennett & Demiriz 2000) on the ESMS
  themselves, ``ceil(n/22)`` clusters of 15 to 30 ESMS.

The peers run région by région: spopt's max-p builds a dense n x n dissimilarity matrix and a
simulated annealing whose moves test connectivity, and k-means-constrained solves a min-cost
flow over n x k arcs, both far too slow nationally; the solver itself keeps grappes inside one
région unless asked otherwise, so the comparison stays fair.
"""

from __future__ import annotations

import contextlib
import math
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pyproj import Transformer

from bench.metrics import group_centres
from grappes.core.model import GroupingRules
from grappes.solver.settings import LIBRARY_TIME_LIMIT

#: Method names as printed in the table.
SOLVEUR = "solveur"
GLOUTON = "glouton"
MAXP = "max-p"
KMEANS = "k-means contraint"


@dataclass
class PeerRun:
    """One method's grouping of one instance."""

    method: str
    #: FINESS ET -> group label ('' = in no group)
    assignment: pd.Series
    runtime_s: float
    #: best number of small-OG ESMS any grouping can place, when the method knows one
    upper_bound: float | None = None
    note: str = ""
    stats: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- the instance


def eligible_esms(etab: pd.DataFrame, rules: GroupingRules, champ: str) -> pd.DataFrame:
    """The ESMS every method receives: those the solver itself can group in ``champ``.

    The solver's own filter (``grappes.solver.units.prepare_esms``: eligible field, not
    already funded, not a health establishment, with an OG and coordinates), so that the
    peers get exactly the solver's instance. Returned with a fresh index, input columns only.
    """
    from grappes.solver.units import prepare_esms

    if champ not in rules.eligible_champs:
        msg = f"le champ {champ} n'est pas éligible avec ces règles"
        raise ValueError(msg)
    esms, _ = prepare_esms(etab, rules, (champ,))
    return esms[list(etab.columns)].reset_index(drop=True)


def og_units(etab: pd.DataFrame) -> pd.DataFrame:
    """One row per OG: its ESMS of the instance aggregated at their centre.

    Columns ``n_esms``, ``lon``, ``lat`` (spherical mean), ``region`` (the région holding
    most of its ESMS, ties by code) and ``derogatoire`` (all its ESMS in Corsica/overseas);
    indexed by FINESS EJ, sorted.
    """
    og = etab["finess_ej"].astype("string").fillna("").to_numpy()
    lon = etab["lon"].to_numpy(dtype="float64")
    lat = etab["lat"].to_numpy(dtype="float64")
    units = group_centres(lon, lat, og)
    units["n_esms"] = pd.Series(og).value_counts().reindex(units.index).to_numpy()
    per_region = (
        pd.DataFrame({"og": og, "region": etab["region"].astype("string").fillna("").to_numpy()})
        .groupby(["og", "region"])
        .size()
        .rename("n")
        .reset_index()
        .sort_values(["og", "n", "region"], ascending=[True, False, True])
        .drop_duplicates("og")
        .set_index("og")
    )
    units["region"] = per_region["region"].reindex(units.index)
    derog = etab["derogatoire"].astype("boolean").fillna(False).astype(bool).to_numpy()
    units["derogatoire"] = pd.Series(derog).groupby(og).all().reindex(units.index)
    units.index.name = "finess_ej"
    return units


def local_xy_km(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project points to km on an azimuthal equidistant plane centred on their mean.

    Why: k-means and max-p measure Euclidean distances; a projection centred on the région
    keeps them true to a few tenths of a percent at région scale, mainland or overseas alike.
    """
    lon = np.asarray(lon, dtype="float64")
    lat = np.asarray(lat, dtype="float64")
    centre = group_centres(lon, lat, np.zeros(lon.size, dtype="int64")).iloc[0]
    proj = f"+proj=aeqd +lat_0={centre['lat']:.6f} +lon_0={centre['lon']:.6f} +units=km"
    transformer = Transformer.from_crs("EPSG:4326", proj, always_xy=True)
    x, y = transformer.transform(lon, lat)
    return np.asarray(x), np.asarray(y)


def _parts(frame: pd.DataFrame, by_region: bool) -> Iterator[tuple[str, pd.DataFrame]]:
    """The instance région by région (sorted codes), or whole."""
    if not by_region:
        yield "", frame
        return
    regions = frame["region"].astype("string").fillna("")
    for code in sorted(regions.unique()):
        yield str(code), frame[(regions == code).to_numpy()]


@contextlib.contextmanager
def _numpy_seed(seed: int) -> Iterator[None]:
    """Seed numpy's global generator (spopt draws from it) and restore it afterwards."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


@contextlib.contextmanager
def _maxp_move_fix() -> Iterator[None]:
    """spopt 0.7.0's max-p annealing can loop forever; backport the upstream fix meanwhile.

    When none of the areas ``_pick_move_area`` returns borders another region (frequent
    with KNN weights: a unit's nearest neighbours are often all in its own region), the
    annealing drops them one by one, picks the same list again and never cools down. The
    fix merged upstream (pysal/spopt pull request 506, after 0.7.0) keeps only candidates
    with a neighbour in another region; this applies the same filter around the call and
    restores the library afterwards. Drop it once spopt > 0.7.0 is installed.
    """
    import spopt.region.maxp as maxp_module

    original = maxp_module._pick_move_area

    def pick(labels, region_lists, region_spatial_attrs, threshold_array, weight, *rest):
        areas = original(labels, region_lists, region_spatial_attrs, threshold_array, weight, *rest)
        return [a for a in areas if any(labels[b] != labels[a] for b in weight.neighbors[a])]

    maxp_module._pick_move_area = pick
    try:
        yield
    finally:
        maxp_module._pick_move_area = original


def _by_et(etab: pd.DataFrame, labels: np.ndarray | pd.Series) -> pd.Series:
    """Assignment series indexed by FINESS ET."""
    return pd.Series(
        np.asarray(labels, dtype=object),
        index=pd.Index(etab["finess_et"].astype("string"), name="finess_et"),
        dtype="string",
    ).fillna("")


# --------------------------------------------------------------------------- max-p


def run_maxp(
    etab: pd.DataFrame,
    rules: GroupingRules,
    *,
    k: int = 6,
    seed: int = 0,
    by_region: bool = True,
    max_iterations_construction: int = 99,
    max_iterations_sa: int = 10,
) -> PeerRun:
    """spopt's max-p regions on OG units, KNN neighbours, threshold on the ESMS count.

    Homogeneity attribute: the projected coordinates (km), so regions are compact. The
    threshold is ``rules.min_esms`` (``min_esms_derogatoire`` for a Corsican or overseas
    région). A région whose ESMS cannot reach the threshold is left out. Every other unit
    ends in some region: max-p never leaves anyone out, and knows no maximum size, vendor,
    OG count or field rule.
    """
    import geopandas as gpd
    from libpysal.weights import KNN
    from spopt.region import MaxPHeuristic

    start = time.perf_counter()
    units = og_units(etab)
    unit_label = pd.Series("", index=units.index, dtype="string")
    skipped: list[str] = []
    failed: list[str] = []
    for region, part in _parts(units, by_region):
        threshold = rules.min_esms_derogatoire if part["derogatoire"].all() else rules.min_esms
        if int(part["n_esms"].sum()) < threshold:
            skipped.append(region)
            continue
        prefix = f"maxp-{region}-" if region else "maxp-"
        if len(part) == 1:
            unit_label[part.index] = prefix + "1"
            continue
        x, y = local_xy_km(part["lon"].to_numpy(), part["lat"].to_numpy())
        # whole metres: sums of integers are exact in float64, so the annealing cannot take
        # rounding noise between near-identical points for an improvement (and cycle)
        xm, ym = np.round(x * 1000.0), np.round(y * 1000.0)
        gdf = gpd.GeoDataFrame(
            {"x": xm, "y": ym, "n_esms": part["n_esms"].to_numpy(dtype="float64")},
            geometry=gpd.points_from_xy(x, y),
        )
        with warnings.catch_warnings(), _numpy_seed(seed), _maxp_move_fix():
            warnings.simplefilter("ignore")
            # symmetric: KNN links are one-way, and a unit whose nearest neighbours all
            # point back into a group of leftover units could never join a region
            w = KNN.from_dataframe(gdf, k=min(k, len(part) - 1)).symmetrize()
            model = MaxPHeuristic(
                gdf,
                w,
                ["x", "y"],
                "n_esms",
                threshold,
                max_iterations_construction=max_iterations_construction,
                max_iterations_sa=max_iterations_sa,
            )
            try:
                model.solve()
            except (IndexError, ValueError):
                # spopt could not place every leftover unit (or found no feasible component):
                # the région's units stay out of any group, and the note says so
                failed.append(region)
                continue
        labels = np.asarray(model.labels_)
        unit_label[part.index] = [prefix + str(v) if v > 0 else "" for v in labels]
    assignment = etab["finess_ej"].astype("string").map(unit_label).fillna("")
    note = "par région" if by_region else ""
    if failed:
        note += f"{', ' if note else ''}échec spopt dans {len(failed)} région(s)"
    return PeerRun(
        MAXP,
        _by_et(etab, assignment),
        time.perf_counter() - start,
        note=note,
        stats={"regions_sans_seuil": skipped, "regions_en_echec": failed, "unites": len(units)},
    )


# --------------------------------------------------------------------------- k-means


def kmeans_clusters(n: int, size_min: int, target: int = 22) -> int:
    """``ceil(n / target)`` clusters, fewer when that many cannot all reach ``size_min``.

    Why: with 23 to 29 ESMS, two clusters of at least 15 are impossible and the library
    refuses the problem; ``n // size_min`` is the most that stays feasible.
    """
    if n < size_min:
        return 0
    return min(math.ceil(n / target), n // size_min)


def run_kmeans_constrained(
    etab: pd.DataFrame,
    rules: GroupingRules,
    *,
    size_min: int = 15,
    size_max: int = 30,
    target: int = 22,
    seed: int = 0,
    n_init: int = 10,
    by_region: bool = True,
) -> PeerRun:
    """k-means-constrained on the ESMS (projected coordinates): clusters of 15 to 30 ESMS.

    It works on ESMS, not OGs, so it splits OGs; it ignores vendors and OG counts. The
    minimum drops to ``rules.min_esms_derogatoire`` in a Corsican or overseas région.
    """
    from k_means_constrained import KMeansConstrained

    start = time.perf_counter()
    labels = pd.Series("", index=etab.index, dtype="string")
    skipped: list[str] = []
    for region, part in _parts(etab, by_region):
        derog = part["derogatoire"].astype("boolean").fillna(False).astype(bool).all()
        smin = min(size_min, rules.min_esms_derogatoire) if derog else size_min
        n = len(part)
        k = kmeans_clusters(n, smin, target)
        if k == 0:
            skipped.append(region)
            continue
        prefix = f"km-{region}-" if region else "km-"
        if k == 1:
            labels[part.index] = prefix + "0"
            continue
        x, y = local_xy_km(part["lon"].to_numpy(), part["lat"].to_numpy())
        model = KMeansConstrained(
            n_clusters=k,
            size_min=smin,
            size_max=max(size_max, math.ceil(n / k)),
            random_state=seed,
            n_init=n_init,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(np.column_stack([x, y]))
        labels[part.index] = [prefix + str(v) for v in model.labels_]
    note = "par région" if by_region else ""
    return PeerRun(
        KMEANS,
        _by_et(etab, labels),
        time.perf_counter() - start,
        note=note,
        stats={"regions_sans_seuil": skipped},
    )


# --------------------------------------------------------------------------- the solver


def _proposal_run(method: str, proposal: Any, runtime_s: float) -> PeerRun:
    """PeerRun from a ``grappes.solver.Proposal``."""
    stats = dict(getattr(proposal, "stats", {}) or {})
    bound = stats.get("upper_bound")
    assignment = proposal.assignment()
    assignment = assignment.astype("string").fillna("")
    assignment.index = assignment.index.astype("string")
    return PeerRun(
        method,
        assignment,
        runtime_s,
        upper_bound=float(bound) if bound is not None else None,
        stats=stats,
    )


def run_solver(
    etab: pd.DataFrame,
    rules: GroupingRules,
    champ: str,
    *,
    seed: int = 0,
    time_limit: float = LIBRARY_TIME_LIMIT,
) -> PeerRun:
    """``grappes.solver.GrappeSolver`` with default weights."""
    from grappes.solver import GrappeSolver

    start, cpu = time.perf_counter(), time.process_time()
    proposal = GrappeSolver(rules, seed=seed, time_limit=time_limit).solve(etab, champ=champ)
    run = _proposal_run(SOLVEUR, proposal, time.perf_counter() - start)
    # the process's CPU time (every CP-SAT thread included): on a shared machine the wall
    # time says how loaded it was, this says what the solver cost
    run.stats["cpu_s"] = round(time.process_time() - cpu, 1)
    return run


def run_greedy(etab: pd.DataFrame, rules: GroupingRules, champ: str) -> PeerRun:
    """``grappes.solver.greedy_baseline``: grow-then-attach, no optimisation."""
    from grappes.solver import greedy_baseline

    start = time.perf_counter()
    proposal = greedy_baseline(etab, rules, champ)
    return _proposal_run(GLOUTON, proposal, time.perf_counter() - start)
