"""The one distance of the project: how far an OG (or an ESMS) is from a grappe's centre.

Every command speaks of the same kilometres: ``propose`` (mean / max distance of the members,
near misses of unplaced ESMS), ``partenaires`` (distance of an ESMS to a grappe it could
join), the app and the exports. They all call this module, which mirrors the solver's own
geographic rule (``grappes.solver.evaluate.Evaluator.within_reach``):

* the **centre** of a set of ESMS is their spherical mean (mean of the 3-D unit vectors,
  projected back to the sphere);
* the **position of a unit** (an OG's ESMS of one field, or an ESMS alone) is the centre of
  its ESMS;
* the **distance to a grappe** is the great-circle distance from a unit's position to the
  grappe's centre;
* the **reach rule**: every unit of a grappe lies within ``max_km`` (50 km by default) of the
  grappe's centre. ``grappes.programme.validate`` reports a breach as ``trop_loin``.

Distances are on a sphere of mean Earth radius (``grappes.geo.distances.EARTH_RADIUS_KM``).
ESMS without coordinates are ignored (the solver sets them aside).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from grappes.core.columns import number_column
from grappes.geo.distances import EARTH_RADIUS_KM, unit_vectors

#: The reach rule's default, km: the one home of the 50 km (the solver's
#: ``GraphWeights.max_km``, ``SolverSettings.max_km``, ``validate`` and what-if all read it).
DEFAULT_MAX_KM = 50.0


def _vectors(rows: pd.DataFrame) -> np.ndarray:
    vec = unit_vectors(number_column(rows, "lon").to_numpy(), number_column(rows, "lat").to_numpy())
    return vec[np.isfinite(vec).all(axis=1)]


def centre_vector(rows: pd.DataFrame) -> np.ndarray | None:
    """Unit vector of the spherical mean of the rows' coordinates (None: no coordinates)."""
    vec = _vectors(rows)
    if not len(vec):
        return None
    s = vec.sum(axis=0)
    norm = float(np.linalg.norm(s))
    return s / norm if norm > 0 else None


def km_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Great-circle km between unit vectors (``a``: n x 3 or 3, ``b``: 3)."""
    return EARTH_RADIUS_KM * np.arccos(np.clip(np.asarray(a) @ np.asarray(b), -1.0, 1.0))


def distance_to_grappe_km(unit_rows: pd.DataFrame, grappe_rows: pd.DataFrame) -> float:
    """Distance from a unit (its ESMS' centre) to a grappe's centre, km (NaN: no coordinates)."""
    u, c = centre_vector(unit_rows), centre_vector(grappe_rows)
    if u is None or c is None:
        return float("nan")
    return float(km_between(u, c))


def member_distances_km(rows: pd.DataFrame) -> np.ndarray:
    """Distance of each geolocated member ESMS to the grappe's centre, km."""
    c = centre_vector(rows)
    if c is None:
        return np.empty(0)
    return km_between(_vectors(rows), c)


def grappe_distances(rows: pd.DataFrame) -> tuple[float | None, float | None]:
    """Mean and largest distance of a grappe's ESMS to its centre, km, rounded to 0.1
    (None when no member has coordinates): the ``distance_*_km`` of every output."""
    km = member_distances_km(rows)
    if not len(km):
        return None, None
    return round(float(km.mean()), 1), round(float(km.max()), 1)
