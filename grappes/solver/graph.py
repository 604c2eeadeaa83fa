"""Compatibility graph of OGs and ESMS: who could work with whom, and at what cost.

Nodes are the solver's units (an OG with its ESMS of the field at stake, see
``grappes.solver.units``) and the ESMS themselves (linked to their OG by a ``membre`` edge).
Two OGs are linked when they are within reach (``2 * max_km``: both could then sit within
``max_km`` of one grappe centre). The edge weight is a cost in "kilometre equivalents": the
great-circle distance plus penalties for a different legal-status aggregate, a different size,
a DUI vendor change, a different field, minus a bonus for a known partnership. Two different
DUI solutions already in place (conformant or being upgraded) conflict: the edge is kept with
``compatible=False`` so that explanations can name the conflict, but no grappe uses it.

Neighbours come from a ball tree (``grappes.geo.distances.neighbours_within``), never from an
all-pairs loop, so a national file builds in seconds. The solver works on the edge arrays
(:func:`unit_edges`); :func:`build_graph` gives the same edges as a ``networkx`` graph for
exploration, the app and explanations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
import pandas as pd

from grappes.geo.distances import neighbours_within
from grappes.programme.reach import DEFAULT_MAX_KM

if TYPE_CHECKING:
    from grappes.solver.units import Units

@dataclass(frozen=True)
class GraphWeights:
    """Edge weights and the reach of a grappe, in kilometre equivalents.

    Attributes
    ----------
    max_km
        Hard rule of the solver: every OG of a grappe lies within ``max_km`` of the grappe's
        centre (spherical mean of its ESMS). Two OGs further than ``2 * max_km`` apart are
        never linked. Default 50 km: about an hour's drive across a grappe, enough for
        partners to meet.
    km
        Cost of one kilometre (distance to the grappe's centre, mean plus maximum).
    statut
        Cost of an OG whose legal-status aggregate differs from the grappe's main one.
    size
        Cost per unit of ``|ln(size ratio)|`` between OGs (similar sizes work together better).
    vendor_change
        Cost of one ESMS that has to change DUI vendor to join the grappe's solution.
    field
        Cost of one ESMS outside the grappe's field.
    link
        Bonus (subtracted) for each known partnership (GCSMS...) inside the grappe.
    """

    max_km: float = DEFAULT_MAX_KM
    km: float = 1.0
    statut: float = 5.0
    size: float = 3.0
    vendor_change: float = 8.0
    field: float = 20.0
    link: float = 15.0

    def __post_init__(self) -> None:
        for name in ("max_km", "km", "statut", "size", "vendor_change", "field", "link"):
            value = getattr(self, name)
            if not np.isfinite(value) or value < 0:
                msg = f"GraphWeights.{name} : valeur positive attendue, reçu {value!r}"
                raise ValueError(msg)
        if self.max_km <= 0:
            msg = "GraphWeights.max_km : une distance strictement positive est attendue"
            raise ValueError(msg)


def link_pairs(units: Units, links: pd.DataFrame | None) -> set[frozenset[int]]:
    """Known partnerships as pairs of unit positions (OGs of one merged unit are ignored)."""
    if links is None or links.empty:
        return set()
    og_unit: dict[str, int] = {}
    for u, ogs in enumerate(units.ogs):
        for og in ogs:
            og_unit[og] = u
    pairs: set[frozenset[int]] = set()
    for a, b in zip(links["finess_ej_a"], links["finess_ej_b"], strict=True):
        ua, ub = og_unit.get(str(a)), og_unit.get(str(b))
        if ua is not None and ub is not None and ua != ub:
            pairs.add(frozenset((ua, ub)))
    return pairs


# --------------------------------------------------------------------------- edges


def main_vendor(units: Units) -> np.ndarray:
    """Per unit: the bound vendor id, else the most used vendor name id, else -1."""
    out = units.vendor.copy()
    for u, counts in enumerate(units.vendor_counts):
        if out[u] == -1 and counts:
            out[u] = min(counts, key=lambda v: (-counts[v], v))
    return out


def vendor_relation(units: Units, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Relation of the DUI situations of units a and b (vectorised over pairs).

    ``conflit``: two different solutions already in place (or one unit in conflict with
    itself); ``meme``: same solution; ``libre``: one side has no DUI at all; ``changement``:
    different vendor names, at most one in place (the other side changes vendor).
    """
    va, vb = units.vendor[a], units.vendor[b]
    ma = main_vendor(units)
    mva, mvb = ma[a], ma[b]
    conflict = (va == -2) | (vb == -2) | ((va >= 0) & (vb >= 0) & (va != vb))
    same = (mva >= 0) & (mva == mvb)
    free = (mva < 0) | (mvb < 0)
    rel = np.where(
        conflict, "conflit", np.where(same, "meme", np.where(free, "libre", "changement"))
    )
    return rel.astype(object)


def unit_neighbours(units: Units, radius_km: float) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Units within ``radius_km`` of each unit (itself excluded), nearest first."""
    idx, km = neighbours_within(units.lon, units.lat, radius_km)
    out_i, out_d = [], []
    for u, (i, d) in enumerate(zip(idx, km, strict=True)):
        keep = i != u
        out_i.append(i[keep])
        out_d.append(d[keep])
    return out_i, out_d


def edge_weight(
    units: Units,
    a: np.ndarray,
    b: np.ndarray,
    km: np.ndarray,
    weights: GraphWeights,
    links: set[frozenset[int]] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Weight (kilometre equivalents, >= 0) and vendor relation of the edges (a, b)."""
    a = np.asarray(a, dtype="int64")
    b = np.asarray(b, dtype="int64")
    statut = np.asarray(units.statut, dtype=object)
    size = np.maximum(units.og_size, 1.0)
    rel = vendor_relation(units, a, b)
    w = weights.km * np.asarray(km, dtype="float64")
    w = w + weights.statut * (statut[a] != statut[b])
    w = w + weights.size * np.abs(np.log(size[a] / size[b]))
    w = w + weights.vendor_change * (rel == "changement")
    if links:
        linked = np.fromiter(
            (frozenset((int(x), int(y))) in links for x, y in zip(a, b, strict=True)),
            dtype=bool,
            count=len(a),
        )
        w = w - weights.link * linked
    return np.maximum(w, 0.0), rel


def unit_edges(
    units: Units,
    weights: GraphWeights | None = None,
    links: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every pair of units within reach (``2 * max_km``), once (a < b), with its attributes.

    Columns: ``a``, ``b`` (unit positions), ``km`` (between unit centres), ``weight``,
    ``vendor`` (relation, see :func:`vendor_relation`), ``compatible`` (no DUI conflict and
    not kept apart by the user), ``same_statut``, ``size_ratio``, ``link`` (known partnership).
    """
    weights = weights or GraphWeights()
    idx, km = unit_neighbours(units, 2.0 * weights.max_km)
    counts = np.array([len(i) for i in idx], dtype="int64")
    a = np.repeat(np.arange(len(units), dtype="int64"), counts)
    b = np.concatenate(idx) if len(idx) and counts.sum() else np.empty(0, dtype="int64")
    d = np.concatenate(km) if len(km) and counts.sum() else np.empty(0, dtype="float64")
    once = a < b
    a, b, d = a[once], b[once], d[once]
    pairs = link_pairs(units, links)
    w, rel = edge_weight(units, a, b, d, weights, pairs)
    statut = np.asarray(units.statut, dtype=object)
    size = np.maximum(units.og_size, 1.0)
    apart = np.fromiter(
        (frozenset((int(x), int(y))) in units.apart for x, y in zip(a, b, strict=True)),
        dtype=bool,
        count=len(a),
    )
    linked = np.fromiter(
        (frozenset((int(x), int(y))) in pairs for x, y in zip(a, b, strict=True)),
        dtype=bool,
        count=len(a),
    )
    return pd.DataFrame(
        {
            "a": a,
            "b": b,
            "km": d,
            "weight": w,
            "vendor": pd.array(rel.astype(str), dtype="string"),
            "compatible": (rel != "conflit") & ~apart,
            "same_statut": statut[a] == statut[b],
            "size_ratio": np.maximum(size[a], size[b]) / np.minimum(size[a], size[b]),
            "link": linked,
        }
    )


def build_graph(
    units: Units,
    weights: GraphWeights | None = None,
    links: pd.DataFrame | None = None,
    with_esms: bool = True,
) -> nx.Graph:
    """The compatibility graph as ``networkx``: OG nodes, ESMS nodes, weighted OG-OG edges.

    OG nodes are named ``og:<key>`` (key = FINESS EJ, or several joined by ``+`` when the
    user locked OGs together) with attributes ``n_esms``, ``vendor``, ``statut``, ``lon``,
    ``lat``, ``region``, ``small``; ESMS nodes ``esms:<FINESS ET>`` with ``lon``, ``lat``,
    linked to their OG by an edge of kind ``membre``. OG-OG edges have kind ``compat`` and the
    columns of :func:`unit_edges` as attributes.
    """
    weights = weights or GraphWeights()
    graph = nx.Graph(champ=units.champ, max_km=weights.max_km)
    names = units.vendor_names
    for u, key in enumerate(units.key):
        v = int(units.vendor[u])
        graph.add_node(
            f"og:{key}",
            kind="og",
            og=list(units.ogs[u]),
            n_esms=int(units.n[u]),
            small=not bool(units.big[u]),
            vendor=names[v] if v >= 0 else ("conflit" if v == -2 else ""),
            statut=units.statut[u],
            region=units.region[u],
            lon=float(units.lon[u]),
            lat=float(units.lat[u]),
        )
    edges = unit_edges(units, weights, links)
    records = edges.to_dict("records")
    graph.add_edges_from(
        (
            f"og:{units.key[int(r['a'])]}",
            f"og:{units.key[int(r['b'])]}",
            {
                "kind": "compat",
                "km": float(r["km"]),
                "weight": float(r["weight"]),
                "vendor": str(r["vendor"]),
                "compatible": bool(r["compatible"]),
                "same_statut": bool(r["same_statut"]),
                "size_ratio": float(r["size_ratio"]),
                "link": bool(r["link"]),
            },
        )
        for r in records
    )
    if with_esms:
        et = units.esms["finess_et"].astype("string").to_numpy(dtype=object)
        lon = pd.to_numeric(units.esms["lon"], errors="coerce").to_numpy()
        lat = pd.to_numeric(units.esms["lat"], errors="coerce").to_numpy()
        for u, rows in enumerate(units.rows):
            og_node = f"og:{units.key[u]}"
            for r in rows:
                node = f"esms:{et[r]}"
                graph.add_node(node, kind="esms", lon=float(lon[r]), lat=float(lat[r]))
                graph.add_edge(og_node, node, kind="membre", weight=0.0)
    return graph


def compatibility_graph(
    etab: pd.DataFrame,
    champ: str,
    rules=None,
    weights: GraphWeights | None = None,
    links: pd.DataFrame | None = None,
) -> nx.Graph:
    """Convenience: the graph of one field straight from the normalised table."""
    from grappes.core.model import GroupingRules
    from grappes.solver.units import build_units, prepare_esms

    rules = rules or GroupingRules()
    esms, _ = prepare_esms(etab, rules, (champ,))
    return build_graph(build_units(esms, rules, champ), weights, links)
