"""Is a point inside its département? (for rows whose commune code the geography lacks)

Why: with an unknown commune there is no centroid to compare the file's coordinates with,
and the territory boxes of ``grappes.geo.crs`` only tell mainland from overseas: ``2A999`` with
coordinates in the Cher passed as Corsica. The simplified département outlines of the
bundled geography settle it, with a tolerance for their simplification.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

#: tolerance around the simplified outlines, in degrees (about 3 to 5 km)
TOLERANCE_DEG = 0.05


@lru_cache(maxsize=1)
def _shapes() -> dict[str, object]:
    import shapely
    from shapely.geometry import shape

    from grappes.geo.territories import departement_boundaries

    out = {}
    for feature in departement_boundaries()["features"]:
        geometry = shape(feature["geometry"]).buffer(TOLERANCE_DEG)
        shapely.prepare(geometry)
        out[str(feature["properties"]["code"])] = geometry
    return out


def outside_departement(lon: np.ndarray, lat: np.ndarray, departement: np.ndarray) -> np.ndarray:
    """True where a finite point lies outside its département's outline (False when the
    département has no outline or the point is missing: nothing to say)."""
    import shapely

    lon = np.asarray(lon, dtype="float64")
    lat = np.asarray(lat, dtype="float64")
    deps = np.asarray(departement, dtype=object)
    out = np.zeros(len(lon), dtype=bool)
    shapes = _shapes()
    finite = np.isfinite(lon) & np.isfinite(lat)
    for dep in set(deps[finite].tolist()):
        geometry = shapes.get(str(dep))
        if geometry is None:
            continue
        rows = finite & (deps == dep)
        out[rows] = ~shapely.contains_xy(geometry, lon[rows], lat[rows])
    return out
