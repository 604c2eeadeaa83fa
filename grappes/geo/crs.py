"""Coordinate systems of FINESS geolocations and their conversion to WGS84 longitude/latitude.

FINESS coordinates are projected metres in the legal system of each territory (Lambert-93 in
mainland France and Corsica, a UTM zone overseas), named in the ``sourcecoordet`` field. This
module reads that field, converts whole columns at once with pyproj, and checks that a point
falls where its département says it should (a swapped x/y or a wrong CRS lands in the ocean).

Choice for the old ``sourcecoordet`` tokens (about 2018-2021), which name a UTM zone but no
datum: each is mapped to the system used for the same territory in the current files
(``LAMBERT_93`` -> 2154, ``UTM_N20`` -> 5490 RGAF09, ``UTM_N21`` -> 32621 WGS84 as the current
Saint-Pierre-et-Miquelon rows, ``UTM_N22`` -> 2972 RGFG95, ``UTM_S38`` -> 4471 RGM04,
``UTM_S40`` -> 2975 RGR92). Those datums agree with WGS84 within a few metres, far below the
precision that matters for grouping establishments.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pandas as pd
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

WGS84_EPSG = 4326

#: Legal projected system of each territory, by INSEE département / COM code.
#: Mainland and Corsica use Lambert-93; every code not listed here is mainland.
OVERSEAS_EPSG: dict[str, int] = {
    "971": 5490,  # Guadeloupe: RGAF09 / UTM 20N
    "972": 5490,  # Martinique: RGAF09 / UTM 20N
    "973": 2972,  # Guyane: RGFG95 / UTM 22N
    "974": 2975,  # La Réunion: RGR92 / UTM 40S
    "975": 32621,  # Saint-Pierre-et-Miquelon: WGS84 / UTM 21N, as written in FINESS files
    "976": 4471,  # Mayotte: RGM04 / UTM 38S
    "977": 5490,  # Saint-Barthélemy (filed under Guadeloupe in FINESS)
    "978": 5490,  # Saint-Martin (filed under Guadeloupe in FINESS)
    "986": 32701,  # Wallis-et-Futuna: WGS84 / UTM 1S, as written in FINESS files
    "987": 3297,  # Polynésie française: RGPF / UTM 6S (not in FINESS)
    "988": 3163,  # Nouvelle-Calédonie: RGNC91-93 / Lambert NC (not in FINESS)
}
LAMBERT_93 = 2154

#: UTM zone (number, hemisphere) named without a datum -> the territory's legal system.
_UTM_ZONE_EPSG: dict[tuple[int, str], int] = {
    (20, "N"): 5490,
    (21, "N"): 32621,
    (22, "N"): 2972,
    (38, "S"): 4471,
    (40, "S"): 2975,
    (1, "S"): 32701,
}

_EPSG_RE = re.compile(r"EPSG\s*:\s*(\d{4,6})", re.IGNORECASE)
# 'UTM zone 21N', 'UTM Zone 20N', 'UTM 22N', 'UTM20N'
_UTM_ZONE_RE = re.compile(
    r"UTM[\s_-]*(?:ZONE[\s_-]*)?(\d{1,2})\s*([NS])(?![A-Za-z0-9])", re.IGNORECASE
)
# old tokens 'UTM_N20', 'UTM_S38'
_UTM_OLD_RE = re.compile(r"UTM[\s_-]*([NS])[\s_-]*(\d{1,2})(?![0-9])", re.IGNORECASE)
_LAMBERT93_RE = re.compile(r"LAMBERT[\s_-]*93|\bL93\b|L93_", re.IGNORECASE)
_WGS84_RE = re.compile(r"WGS[\s_-]*84", re.IGNORECASE)

#: Territory boxes (lon_min, lon_max, lat_min, lat_max), with generous margins (about 0.2-1°).
TERRITORY_BOXES: dict[str, tuple[float, float, float, float]] = {
    "metropole": (-6.0, 10.5, 41.0, 51.6),  # mainland + Corsica
    "antilles_nord": (-63.5, -60.6, 15.6, 18.5),  # Guadeloupe, Saint-Barthélemy, Saint-Martin
    "martinique": (-61.6, -60.5, 14.1, 15.1),
    "guyane": (-55.0, -51.0, 1.8, 6.3),
    "reunion": (55.0, 56.0, -21.7, -20.6),
    "spm": (-56.8, -55.9, 46.5, 47.4),
    "mayotte": (44.7, 45.6, -13.3, -12.3),
    "wallis_futuna": (-178.6, -175.7, -14.7, -12.9),
    "polynesie": (-155.5, -133.5, -28.5, -7.0),
    "nouvelle_caledonie": (162.5, 169.5, -23.5, -18.5),
}

#: INSEE département / COM code -> key of ``TERRITORY_BOXES`` (anything else: metropole).
_DEPARTEMENT_BOX: dict[str, str] = {
    "971": "antilles_nord",
    "977": "antilles_nord",
    "978": "antilles_nord",
    "972": "martinique",
    "973": "guyane",
    "974": "reunion",
    "975": "spm",
    "976": "mayotte",
    "986": "wallis_futuna",
    "987": "polynesie",
    "988": "nouvelle_caledonie",
}


@lru_cache(maxsize=256)
def _known_epsg(code: int) -> bool:
    """True when pyproj knows this EPSG code (cached: a file names only a handful)."""
    try:
        CRS.from_epsg(code)
    except CRSError:
        return False
    return True


@lru_cache(maxsize=1024)
def epsg_from_sourcecoord(source: str) -> int | None:
    """EPSG code named by a FINESS ``sourcecoordet`` value, or None when it names none.

    Understands the current form (``...,EPSG:2154 RGF93 / Lambert-93 (Métropole)``), the 2025
    variant ``L93_METROPOLE``, the UTM wordings without ``EPSG:`` prefix
    (``WGS84/UTM zone 21N (St-Pierre-et-Miquelon)``, ``...UTM zone 1S``) and the old tokens
    ``LAMBERT_93``, ``UTM_N20``, ``UTM_N21``, ``UTM_N22``, ``UTM_S38``, ``UTM_S40`` (see the
    module docstring for the datum chosen for them). An EPSG code unknown to pyproj gives None,
    so the caller can fall back on :func:`default_epsg_for_departement` or the commune centroid.

    Parameters
    ----------
    source
        The raw ``sourcecoordet`` text (any case; None or empty allowed).

    Returns
    -------
    int or None
    """
    if not isinstance(source, str) or not source.strip():
        return None
    text = source.strip()
    match = _EPSG_RE.search(text)
    if match:
        code = int(match.group(1))
        return code if _known_epsg(code) else None
    zone: tuple[int, str] | None = None
    match = _UTM_ZONE_RE.search(text)
    if match:
        zone = (int(match.group(1)), match.group(2).upper())
    else:
        match = _UTM_OLD_RE.search(text)
        if match:
            zone = (int(match.group(2)), match.group(1).upper())
    if zone is not None:
        number, hemisphere = zone
        if not 1 <= number <= 60:
            return None
        if _WGS84_RE.search(text):
            return (32600 if hemisphere == "N" else 32700) + number
        default = (32600 if hemisphere == "N" else 32700) + number
        return _UTM_ZONE_EPSG.get(zone, default)
    if _LAMBERT93_RE.search(text):
        return LAMBERT_93
    return None


def _insee_departement(departement: str) -> str:
    """INSEE département code from an INSEE or FINESS (9A..9J) one, '' when empty."""
    from grappes.geo.territories import finess_departement_to_insee

    return finess_departement_to_insee(departement)


def default_epsg_for_departement(departement_insee: str) -> int:
    """Legal projected system of a département, used when ``sourcecoordet`` names none.

    Accepts INSEE codes (``01``, ``2A``, ``974``) and FINESS ones (``9D``). Everything that
    is not a known overseas code is treated as mainland (Lambert-93, EPSG:2154).
    """
    dep = _insee_departement(str(departement_insee or "").strip().upper())
    return OVERSEAS_EPSG.get(dep, LAMBERT_93)


@lru_cache(maxsize=64)
def _transformer(epsg: int) -> Transformer:
    """One pyproj transformer per source system, to WGS84 with x=lon, y=lat."""
    return Transformer.from_crs(epsg, WGS84_EPSG, always_xy=True)


def to_wgs84(x: np.ndarray, y: np.ndarray, epsg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project metres (x east, y north) in the given EPSG systems to WGS84 lon/lat degrees.

    Vectorised: one transformation per distinct EPSG code. A NaN coordinate, or a missing
    EPSG (NaN, None, 0 or negative), gives NaN lon/lat; so does a point pyproj cannot project.

    Parameters
    ----------
    x, y
        Easting and northing in metres (array-like of the same length).
    epsg
        EPSG code of each point (array-like of the same length; scalars are broadcast).

    Returns
    -------
    (lon, lat)
        float64 arrays, degrees.

    Raises
    ------
    ValueError
        When lengths differ or an EPSG code is unknown to pyproj.
    """
    xs = np.asarray(pd.to_numeric(pd.Series(np.ravel(x)), errors="coerce"), dtype="float64")
    ys = np.asarray(pd.to_numeric(pd.Series(np.ravel(y)), errors="coerce"), dtype="float64")
    codes = np.asarray(pd.to_numeric(pd.Series(np.ravel(epsg)), errors="coerce"), dtype="float64")
    if codes.size == 1 and xs.size != 1:
        codes = np.full(xs.shape, codes[0])
    if not xs.shape == ys.shape == codes.shape:
        msg = (
            f"to_wgs84 : x, y et epsg doivent avoir la même longueur "
            f"({xs.size}, {ys.size}, {codes.size})"
        )
        raise ValueError(msg)
    lon = np.full(xs.shape, np.nan)
    lat = np.full(xs.shape, np.nan)
    usable = np.isfinite(xs) & np.isfinite(ys) & np.isfinite(codes) & (codes > 0)
    for code in np.unique(codes[usable]):
        code_int = int(code)
        if not _known_epsg(code_int):
            msg = f"code EPSG inconnu : {code_int}"
            raise ValueError(msg)
        rows = usable & (codes == code)
        out_lon, out_lat = _transformer(code_int).transform(xs[rows], ys[rows])
        lon[rows] = out_lon
        lat[rows] = out_lat
    bad = ~(np.isfinite(lon) & np.isfinite(lat))
    lon[bad] = np.nan
    lat[bad] = np.nan
    return lon, lat


def _boxes_array() -> tuple[list[str], np.ndarray]:
    keys = list(TERRITORY_BOXES)
    return keys, np.array([TERRITORY_BOXES[k] for k in keys], dtype="float64")


def _inside(lon: np.ndarray, lat: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Point i inside box i (boxes: n x 4 lon_min, lon_max, lat_min, lat_max); NaN -> False."""
    with np.errstate(invalid="ignore"):
        return (
            (lon >= boxes[:, 0])
            & (lon <= boxes[:, 1])
            & (lat >= boxes[:, 2])
            & (lat <= boxes[:, 3])
        )


def in_france(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """True where a point lies in the box of mainland+Corsica or of one overseas territory.

    The boxes (``TERRITORY_BOXES``) are generous rectangles: this catches swapped or
    unprojected coordinates, not a point a few kilometres off the coast. NaN gives False.
    """
    lons = np.asarray(lon, dtype="float64").ravel()
    lats = np.asarray(lat, dtype="float64").ravel()
    _, boxes = _boxes_array()
    result = np.zeros(lons.shape, dtype=bool)
    for box in boxes:
        result |= _inside(lons, lats, np.broadcast_to(box, (lons.size, 4)))
    return result


def territory_of_departement(departement_insee: str) -> str:
    """Key of ``TERRITORY_BOXES`` for a département (INSEE or FINESS code)."""
    dep = _insee_departement(str(departement_insee or "").strip().upper())
    return _DEPARTEMENT_BOX.get(dep, "metropole")


def plausible_for_departement(lon, lat, departement_insee) -> np.ndarray:
    """True where a point lies in the territory box of its département.

    Mainland and Corsican départements share the mainland box; each overseas territory has
    its own (Saint-Barthélemy and Saint-Martin share Guadeloupe's, as in FINESS). An empty
    département falls back on :func:`in_france`. ``departement_insee`` may be one code for
    all points or one per point; FINESS codes (9A..9J) are accepted too.
    """
    lons = np.asarray(lon, dtype="float64").ravel()
    lats = np.asarray(lat, dtype="float64").ravel()
    raw = np.ravel(np.asarray(departement_insee, dtype=object))
    if raw.size == 1 and lons.size != 1:
        raw = np.full(lons.size, raw[0], dtype=object)
    if raw.size != lons.size or lats.size != lons.size:
        msg = "plausible_for_departement : lon, lat et departement doivent avoir la même longueur"
        raise ValueError(msg)
    # one lookup per distinct code (a national file names about a hundred): the row-wise
    # string operations cost tens of ms per call on 100,000 points
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    names = [str(d).strip().upper() for d in uniques] + [""]  # last: missing (code -1)
    boxes = np.array(
        [TERRITORY_BOXES[territory_of_departement(d)] for d in names], dtype="float64"
    )[codes]
    empty = np.array([d == "" for d in names], dtype=bool)[codes]
    result = _inside(lons, lats, boxes)
    if empty.any():
        result[empty] = in_france(lons[empty], lats[empty])
    return result
