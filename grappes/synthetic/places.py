"""Where establishments go: communes, FINESS territory codes, coordinates.

Establishments are placed in communes drawn with weights ``population ** alpha`` (alpha < 1
spreads EHPAD into small rural communes, alpha > 1 keeps IME, ESAT, MAS and hospitals in
towns), then jittered a few hundred metres around the commune centroid, inside the
département. Communes, populations and centroids come from the bundled geography
(``grappes.geo.territories``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import shape

from grappes.geo.territories import departement_boundaries, get_territoires
from grappes.synthetic.arrays import Columns

#: INSEE overseas code -> (FINESS ``departement`` field, FINESS number prefix, label).
_OUTRE_MER: dict[str, tuple[str, str, str]] = {
    "971": ("9A", "9701", "GUADELOUPE"),
    "977": ("9A", "9701", "GUADELOUPE"),
    "978": ("9A", "9701", "GUADELOUPE"),
    "972": ("9B", "9702", "MARTINIQUE"),
    "973": ("9C", "9703", "GUYANE"),
    "974": ("9D", "9704", "LA REUNION"),
    "975": ("9E", "9705", "SAINT PIERRE ET MIQUELON"),
    "976": ("9F", "9805", "MAYOTTE"),
    "986": ("9J", "9806", "WALLIS ET FUTUNA"),
}
#: Saint-Barthélemy and Saint-Martin are filed under 9A with their old commune codes.
_OLD_COMMUNE_FIELD: dict[str, str] = {"97701": "123", "97801": "127"}
_SPECIAL_CP: dict[str, str] = {"97701": "97133", "97801": "97150"}
#: Regions written by FINESS: mainland, Corsica and the overseas ones (987/988 are not).
_OVERSEAS_REGIONS: tuple[str, ...] = ("01", "02", "03", "04", "06", "975", "986")
#: Communes split into arrondissements (FINESS files the arrondissements).
_PLM_COMMUNES = frozenset({"75056", "69123", "13055"})
#: Populations missing from the bundled geography (Mayotte: INSEE census 2017).
_POPULATION_FALLBACK: dict[str, int] = {"976": 256_518}

EPSG_BY_DEP: dict[str, int] = {
    "971": 5490, "972": 5490, "977": 5490, "978": 5490, "973": 2972, "974": 2975,
    "975": 32621, "976": 4471, "986": 32701,
}  # fmt: skip
CRS_LABEL: dict[int, str] = {
    2154: "EPSG:2154 RGF93 / Lambert-93 (Métropole)",
    5490: "EPSG:5490 RGAF09/UTM Zone 20N (Antilles)",
    2972: "EPSG:2972 RGFG95/UTM Zone 22N (Guyane)",
    2975: "EPSG:2975 RGR92/UTM Zone 40S (La Réunion)",
    4471: "EPSG:4471 RGM04/UTM zone 38S (Mayotte)",
    32621: "WGS84/UTM zone 21N (St-Pierre-et-Miquelon)",
    32701: "WGS84/UTM zone 1S (Wallis-et-Futuna)",
}


@lru_cache(maxsize=1)
def _all_communes() -> pd.DataFrame:
    """Every commune where establishments can be placed, with their labels (read once).

    Keeps current communes and Paris/Lyon/Marseille arrondissements (FINESS files those, not
    the whole city); drops communes déléguées / associées (aliases). Fills populations missing
    from the bundled geography (Mayotte) evenly over the département's communes.
    """
    com = get_territoires().communes
    keep = (com["parent"].fillna("") == "") & com["type"].isin(["COM", "ARM"])
    keep &= ~com.index.isin(list(_PLM_COMMUNES))
    keep &= com["lon"].notna() & com["lat"].notna()
    src = com.loc[keep]
    codes = src.index.to_numpy(dtype=object).astype(str).astype(object)
    out = pd.DataFrame(
        {
            "nom": src["nom"].to_numpy(dtype=object),
            "departement": src["departement"].to_numpy(dtype=object),
            "region": src["region"].to_numpy(dtype=object),
        },
        index=pd.Index(codes, name="code"),
        dtype=object,
    )
    pop = src["population"].to_numpy(dtype="float64", copy=True)
    for dep, total in _POPULATION_FALLBACK.items():
        mask = out["departement"].to_numpy() == dep
        if mask.any() and pop[mask].sum() == 0:
            pop[mask] = total / mask.sum()
    out["population"] = pop
    out["lon"] = src["lon"].to_numpy(dtype="float64")
    out["lat"] = src["lat"].to_numpy(dtype="float64")
    out = out[out["population"] > 0].sort_index()
    plain_names = [plain(str(x)) for x in out["nom"]]
    out["cp"] = np.array([_postcode(c) for c in out.index], dtype=object)
    out["champ_commune"] = np.array(
        [_OLD_COMMUNE_FIELD.get(c, c[-3:]) for c in out.index], dtype=object
    )
    out["localite"] = np.array([_acheminement_name(str(x)) for x in out["nom"]], dtype=object)
    out["de_nom"] = np.array(
        [("D'" if x[:1] in "AEIOUYH" else "DE ") + x for x in plain_names], dtype=object
    )
    return out


def communes_of(regions: Sequence[str] | None, include_overseas: bool) -> pd.DataFrame:
    """The placeable communes of the requested régions (all when None)."""
    com = _all_communes()
    mainland = sorted(r for r in set(com["region"]) if len(r) == 2 and r >= "11")
    known = set(mainland) | set(_OVERSEAS_REGIONS)
    if regions is None:
        wanted = list(mainland) + (list(_OVERSEAS_REGIONS) if include_overseas else [])
    else:
        wanted = [str(r).strip() for r in regions]
        unknown = [r for r in wanted if r not in known]
        if unknown:
            msg = (
                f"région inconnue : {', '.join(unknown)} (codes INSEE attendus, par exemple "
                f"24 pour Centre-Val de Loire ; connues : {', '.join(sorted(known))})"
            )
            raise ValueError(msg)
        if not include_overseas:
            wanted = [r for r in wanted if r not in _OVERSEAS_REGIONS]
    return com[com["region"].isin(wanted).to_numpy()]


def finess_place(dep_insee: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """FINESS ``departement`` field, number prefix and label of INSEE département codes."""
    noms = get_territoires().departements["nom"]
    uniques, inverse = np.unique(np.asarray(dep_insee, dtype=str), return_inverse=True)
    parts: list[list[str]] = [[], [], []]
    for dep in uniques:
        values = _OUTRE_MER.get(dep) or (dep, dep, plain(str(noms.get(dep, dep))))
        for i in range(3):
            parts[i].append(values[i])
    field_, prefix, label = (np.array(p, dtype=object)[inverse] for p in parts)
    return field_, prefix, label


@lru_cache(maxsize=65536)
def plain(text: str) -> str:
    """Upper case without accents or ligatures, as FINESS writes names and places."""
    text = text.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE")
    norm = unicodedata.normalize("NFKD", text.replace("’", "'"))
    return "".join(ch for ch in norm if not unicodedata.combining(ch)).upper()


@lru_cache(maxsize=65536)
def _acheminement_name(nom: str) -> str:
    """Locality as in ``ligneacheminement``: plain upper case, ``ST``/``STE``, no hyphens."""
    text = plain(nom)
    for ch in "-'()":
        text = text.replace(ch, " ")
    words = ["ST" if w == "SAINT" else "STE" if w == "SAINTE" else w for w in text.split()]
    return " ".join(words)


def _postcode(code: str) -> str:
    """A synthetic postcode: the INSEE code, except where that cannot look like one.

    Real postcodes are not derivable from the COG; this approximation keeps the département
    prefix right (Corsica 20xxx, Paris 750xx, Lyon 6900x, Marseille 130xx).
    """
    if code in _SPECIAL_CP:
        return _SPECIAL_CP[code]
    if code[:2] in ("2A", "2B"):
        return "20" + code[2:]
    if code.startswith("751"):
        return "750" + code[3:]
    if code.startswith("6938"):
        return "6900" + code[4:]
    if code.startswith("132"):
        return "130" + code[3:]
    return code


def place_establishments(
    com: pd.DataFrame,
    cats: pd.DataFrame,
    scale: float,
    rng_count: np.random.Generator,
    rng_place: np.random.Generator,
) -> Columns:
    """Draw how many establishments of each category each département has, and their communes.

    Counts follow the département's population (social and medico-social planning is
    départemental, so density per inhabitant is about even); inside the département the
    commune is drawn with weight ``population ** alpha`` among communes of ``min_pop`` or more.
    Expected counts are rounded at random (floor + Bernoulli of the remainder).
    """
    codes = com.index.to_numpy(dtype=object)
    pop = com["population"].to_numpy(dtype="float64")
    dep_of = com["departement"].to_numpy(dtype=object)
    region_of = com["region"].to_numpy(dtype=object)
    deps = sorted(set(dep_of))
    by_dep = {d: np.flatnonzero(dep_of == d) for d in deps}
    dep_pop = np.array([pop[by_dep[d]].sum() for d in deps]) / 1e5
    rates = cats["rate"].to_numpy(dtype="float64")
    expected = np.outer(dep_pop, rates) * scale
    counts = np.floor(expected).astype(np.int64)
    counts += (rng_count.random(expected.shape) < expected - counts).astype(np.int64)
    alphas = cats["alpha"].to_numpy(dtype="float64")
    min_pops = cats["min_pop"].to_numpy(dtype="float64")
    picks: list[np.ndarray] = []
    cat_rows: list[np.ndarray] = []
    for i, dep in enumerate(deps):
        idx = by_dep[dep]
        p = pop[idx]
        cdf_cache: dict[tuple[float, float], np.ndarray] = {}
        for j in np.flatnonzero(counts[i]):
            key = (alphas[j], min_pops[j])
            cdf = cdf_cache.get(key)
            if cdf is None:
                w = np.where(p >= min_pops[j], p ** alphas[j], 0.0)
                if w.sum() <= 0:
                    w = p ** alphas[j]
                cdf = np.cumsum(w)
                cdf /= cdf[-1]
                cdf_cache[key] = cdf
            n = int(counts[i, j])
            pick = np.searchsorted(cdf, rng_place.random(n), side="right")
            picks.append(idx[np.minimum(pick, len(idx) - 1)])
            cat_rows.append(np.full(n, j, dtype=np.int64))
    row = np.concatenate(picks) if picks else np.array([], dtype=np.int64)
    cat_idx = np.concatenate(cat_rows) if cat_rows else np.array([], dtype=np.int64)
    champ = cats["champ"].to_numpy(dtype=object)[cat_idx]
    return {
        "commune_row": row,
        "commune_insee": codes[row],
        "cat": cat_idx,
        "categetab": cats["code"].to_numpy(dtype=object)[cat_idx],
        "champ": champ,
        "medicalise": cats["medicalise"].to_numpy(dtype=bool)[cat_idx],
        "sanitaire": champ == "hors_champ",
        "departement_insee": dep_of[row],
        "region": region_of[row],
    }


def positions(e: Columns, com: pd.DataFrame, rng: np.random.Generator) -> None:
    """Jitter each establishment 100-700 m around its commune centroid, inside the département.

    A few have only the commune centroid (``ADMIN-EXPRESS`` geocoding, score ``.``) and a few
    have no ``geolocalisation`` line at all, as in the real files.
    """
    row = e["commune_row"]
    n = len(row)
    lon0 = com["lon"].to_numpy(dtype="float64")[row]
    lat0 = com["lat"].to_numpy(dtype="float64")[row]
    u = rng.random(n)
    source = np.where(u < 0.015, "aucune", np.where(u < 0.055, "centroide", "ban"))
    r = rng.uniform(100.0, 700.0, n)
    theta = rng.uniform(0.0, 2 * np.pi, n)
    lat = lat0 + r * np.cos(theta) / 111_320.0
    lon = lon0 + r * np.sin(theta) / (111_320.0 * np.cos(np.radians(lat0)))
    use_jitter = (source == "ban") & _inside_departement(lon, lat, e["departement_insee"])
    e["lon"] = np.where(use_jitter, lon, lon0).round(6)
    e["lat"] = np.where(use_jitter, lat, lat0).round(6)
    e["geo_source"] = source.astype(object)
    e["has_geo"] = source != "aucune"
    weights = np.linspace(1.0, 6.0, 21) ** 2
    e["score"] = rng.choice(np.arange(80, 101), size=n, p=weights / weights.sum())


def _inside_departement(lon: np.ndarray, lat: np.ndarray, deps: np.ndarray) -> np.ndarray:
    """True where the point is inside its département's (simplified) boundary.

    Départements without a shape in the bundled geography are accepted as they are.
    """
    inside = np.ones(len(lon), dtype=bool)
    try:
        features = departement_boundaries()["features"]
    except (FileNotFoundError, KeyError):
        return inside
    shapes = {str(f["properties"]["code"]): f["geometry"] for f in features}
    for dep in sorted(set(deps)):
        geometry = shapes.get(str(dep))
        if geometry is None:
            continue
        idx = np.flatnonzero(deps == dep)
        polygon = shape(geometry)
        shapely.prepare(polygon)
        inside[idx] = shapely.contains_xy(polygon, lon[idx], lat[idx])
    return inside
