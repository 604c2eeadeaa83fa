"""Shapes and names drawn on the proposal map: grappe outlines, département and town labels.

Everything comes from the bundled geography (``grappes.geo.territories``: département boundaries
and the COG communes with population and centroid), so the map needs no tile server and
no network. Outlines are for display: a convex hull of the grappe's members, widened by a
margin so that one- and two-member grappes are visible too, computed in local kilometres
(shapely) rather than with a projection library, which keeps the app's map light. The GIS
export computes its polygons with a proper projection (``grappes.exports.gis``).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import shape
from shapely.ops import polylabel

from grappes.ui.mapcolours import local_km

_EARTH_KM = 6371.0

#: Margin around a grappe's members, km (a lone ESMS becomes a disc of this radius).
OUTLINE_KM = 1.5


def grappe_outlines(points: pd.DataFrame, margin_km: float = OUTLINE_KM) -> dict[str, Any]:
    """Grappe id -> outline polygon (shapely, lon/lat degrees) of its drawn members.

    Parameters
    ----------
    points
        Columns ``grappe_id`` ('' for none: ignored), ``lon``, ``lat``.
    """
    placed = points[(points["grappe_id"] != "") & points["lon"].notna() & points["lat"].notna()]
    outlines: dict[str, Any] = {}
    for gid, rows in placed.groupby("grappe_id", sort=True):
        lon = rows["lon"].to_numpy(dtype=float)
        lat = rows["lat"].to_numpy(dtype=float)
        # equirectangular kilometres around the grappe's mean latitude, and back
        scale = np.array([_EARTH_KM * np.cos(np.radians(lat.mean())), _EARTH_KM])
        xy = np.radians(np.column_stack([lon, lat])) * scale
        hull = shapely.multipoints(xy).convex_hull.buffer(margin_km, quad_segs=6)
        ring = np.degrees(np.asarray(hull.exterior.coords) / scale)
        outlines[str(gid)] = shapely.Polygon(ring)
    return outlines


def touching(outlines: dict[str, Any]) -> list[tuple[str, str]]:
    """Pairs of grappe ids whose outlines intersect (sorted, each pair once)."""
    ids = sorted(outlines)
    if len(ids) < 2:
        return []
    tree = shapely.STRtree([outlines[g] for g in ids])
    left, right = tree.query([outlines[g] for g in ids], predicate="intersects")
    return sorted({(ids[i], ids[j]) for i, j in zip(left, right, strict=True) if i < j})


def outline_records(
    outlines: dict[str, Any], colours: dict[str, Any], alpha: int
) -> list[dict[str, Any]]:
    """Records for a deck PolygonLayer: ``grappe``, ``polygon`` ([[lon, lat], ...]), colours."""
    records = []
    for gid in sorted(outlines):
        ring = np.round(np.asarray(outlines[gid].exterior.coords), 5).tolist()
        colour = [int(c) for c in list(colours[gid])[:3]]
        records.append(
            {"grappe": gid, "polygon": ring, "fill": [*colour, alpha], "line": [*colour, 230]}
        )
    return records


@lru_cache(maxsize=1)
def _departement_features() -> dict[str, dict]:
    from grappes.geo.territories import departement_boundaries

    return {str(f["properties"]["code"]): f for f in departement_boundaries()["features"]}


@lru_cache(maxsize=256)
def _departement_anchor(code: str) -> tuple[str, float, float] | None:
    """(name, lon, lat of a point well inside the largest part of the boundary), or None."""
    feature = _departement_features().get(code)
    if feature is None:
        return None
    geom = shape(feature["geometry"])
    if geom.geom_type == "MultiPolygon":
        geom = max(geom.geoms, key=lambda g: g.area)
    point = polylabel(geom, tolerance=0.01)
    return str(feature["properties"]["nom"]), float(point.x), float(point.y)


def departement_labels(departements: Iterable[str]) -> list[dict[str, Any]]:
    """One label per département with a bundled boundary: ``nom``, ``code``, ``lon``, ``lat``.

    The label sits on the pole of inaccessibility of the boundary (shapely ``polylabel``),
    not on its centroid, so it stays inside odd shapes.
    """
    out = []
    for code in sorted({str(d) for d in departements}):
        anchor = _departement_anchor(code)
        if anchor is not None:
            nom, lon, lat = anchor
            out.append({"nom": nom, "code": code, "lon": round(lon, 5), "lat": round(lat, 5)})
    return out


def town_labels(
    departements: Iterable[str],
    count: int = 10,
    min_km: float = 15.0,
    per_departement: int = 1,
) -> list[dict[str, Any]]:
    """The largest communes of these départements, spread out: ``nom``, ``population``, lon/lat.

    Each département's ``per_departement`` largest communes come first (its chef-lieu in
    practice), then the largest of the rest up to ``count`` labels; a commune closer than
    ``min_km`` to a label already kept is skipped (Joué-lès-Tours would hide under Tours).
    Only current communes (COG type COM) are named.
    """
    from grappes.geo.territories import get_territoires

    communes = get_territoires().communes
    wanted = sorted({str(d) for d in departements})
    pool = communes[(communes["type"] == "COM") & communes["departement"].isin(wanted)]
    if pool.empty or count <= 0:
        return []
    pool = pool.sort_values(["population", "nom"], ascending=[False, True], kind="stable")
    first = pool.groupby("departement", sort=True).head(per_departement)
    first = first.sort_values(["population", "nom"], ascending=[False, True], kind="stable")
    ordered = pd.concat([first, pool.drop(first.index)])
    kept: list[dict[str, Any]] = []
    kept_xy: list[np.ndarray] = []
    for code, row in ordered.iterrows():
        xy = local_km(np.array([row["lon"]]), np.array([row["lat"]]))[0]
        if any(np.hypot(*(xy - other)) < min_km for other in kept_xy):
            continue
        kept.append(
            {
                "nom": str(row["nom"]),
                "code": str(code),
                "population": int(row["population"]),
                "lon": round(float(row["lon"]), 5),
                "lat": round(float(row["lat"]), 5),
            }
        )
        kept_xy.append(xy)
        if len(kept) >= count:
            break
    return kept
