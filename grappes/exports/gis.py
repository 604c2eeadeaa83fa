"""GeoPackage export for the ARS's GIS (QGIS): ESMS points, one polygon per grappe, unplaced ESMS.

One ``.gpkg`` file with three layers (``LAYERS``):

- ``esms``: every establishment of the table given, a point each (no geometry when it has
  no coordinates), all its attributes, its grappe id ('' when none) and, when it has none,
  the reason;
- ``grappes``: one polygon per grappe: the convex hull of its members, widened by a margin
  (``marge_m``, 1 km by default) so that a grappe of one or two located members still has
  an area; attributes id, champ, ESMS and OG counts, porteur (FINESS EJ and name), funding
  total in euros, validity (``oui`` / ``non``), points, départements, OGs;
- ``esms_sans_grappe``: the establishments in no grappe, as points, with their reason.

Hulls and margins are computed in metres in each territory's legal projection
(Lambert-93 for mainland France and Corsica, the local UTM system overseas, from
``grappes.geo.crs``), then written in the output system.

Output system: EPSG:4326 (WGS84 longitude / latitude, works everywhere) by default, or
Lambert-93 (EPSG:2154) on request, or any EPSG code pyproj knows. Lambert-93 is only
defined for mainland France and Corsica: asking for it with overseas establishments in the
table is refused with a French message naming the territories and their own legal system
(:func:`legal_epsg`), never a silent reprojection to nonsense coordinates.

Column names are French, in lower case without spaces or accents (QGIS expressions and SQL
need no quoting); yes/no values are ``oui`` / ``non`` like the CSV exports.

Inputs are plain typed values (the establishments frame, a list of ``Grappe``, a mapping
grappe id -> :class:`GrappeBilan`), so the export works for a ``propose`` report
(:func:`gpkg_inputs`) and for any other source of grappes (a what-if scenario).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from grappes.core.columns import text_column
from grappes.core.errors import GrappesError
from grappes.core.model import Grappe
from grappes.exports.tables import etablissements_table

if TYPE_CHECKING:
    from grappes.scenarios.scenario import Scenario

#: Layer names, in the order they are written.
LAYERS: tuple[str, ...] = ("esms", "grappes", "esms_sans_grappe")
WGS84 = 4326
LAMBERT_93 = 2154
#: Default widening of each grappe's hull, metres.
MARGE_M = 1000.0

#: Normalised column -> French column name in the GeoPackage (other columns keep their name).
COLUMN_NAMES: dict[str, str] = {
    "raison_sociale": "nom",
    "raison_sociale_ej": "nom_og",
    "categorie_libelle": "categorie_libelle",
    "lon": "longitude",
    "lat": "latitude",
    "coord_source": "source_coordonnees",
    "dui_editeur": "editeur_dui",
    "dui_statut": "statut_dui",
    "editeur_segur": "editeur_reference_segur",
    "og_nb_esms": "nb_esms_og",
    "og_typologie": "typologie_og",
    "og_sanitaire": "og_avec_sanitaire",
    "ligne": "ligne_fichier",
    "raison": "motif",
    "reason": "motif",
    "near_miss": "quasi_grappe",
}
#: Columns of the ``grappes`` layer (geometry aside).
GRAPPE_COLUMNS: tuple[str, ...] = (
    "grappe", "champ", "nb_esms", "nb_og", "porteur", "porteur_nom", "financement_total",
    "valide", "points", "departements", "og",
)  # fmt: skip
NO_REASON = "motif non précisé"


class GisError(GrappesError, ValueError):
    """An export the inputs do not allow (French message)."""


@dataclass(frozen=True)
class GrappeBilan:
    """What the GIS shows of a grappe's costing: funding total (euros) and validity."""

    total: float | None
    valide: bool


def legal_epsg(departements: Sequence[str]) -> int:
    """The legal projected system of these départements (INSEE codes), if they share one.

    Lambert-93 for mainland France and Corsica, the territory's system overseas (e.g. 2975
    for La Réunion). Raises :class:`GisError` when they span several systems.
    """
    from grappes.geo.crs import OVERSEAS_EPSG

    systems = {OVERSEAS_EPSG.get(str(d), LAMBERT_93) for d in departements if str(d)}
    if len(systems) > 1:
        msg = (
            "ces départements n'ont pas le même système légal "
            f"(EPSG {', '.join(str(s) for s in sorted(systems))}) : exporter en EPSG:4326"
        )
        raise GisError(msg)
    return systems.pop() if systems else LAMBERT_93


def _yes_no(values: pd.Series) -> pd.Series:
    out = pd.Series("", index=values.index, dtype=object)
    known = values.notna()
    out[known] = np.where(values[known].astype(bool), "oui", "non")
    return out


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Types a GeoPackage takes: booleans as oui/non, strings as Python str ('' for missing)."""
    out = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        values = frame[col]
        if pd.api.types.is_bool_dtype(values) or values.dtype == "boolean":
            out[col] = _yes_no(values)
        elif pd.api.types.is_numeric_dtype(values):
            out[col] = values.astype("float64") if values.hasnans else values
        else:
            out[col] = values.astype("string").fillna("").astype(object)
    return out


def _check_output_crs(epsg: int, departements: pd.Series) -> None:
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    from grappes.geo.crs import OVERSEAS_EPSG

    try:
        CRS.from_epsg(epsg)
    except CRSError as exc:
        msg = f"système de coordonnées EPSG:{epsg} inconnu"
        raise GisError(msg) from exc
    if epsg == LAMBERT_93:
        overseas = sorted(
            {d for d in departements if d in OVERSEAS_EPSG or (d.startswith("9") and len(d) == 3)}
        )
        if overseas:
            systems = ", ".join(f"{d} : EPSG:{OVERSEAS_EPSG.get(d, WGS84)}" for d in overseas)
            msg = (
                "Lambert-93 (EPSG:2154) ne couvre que la métropole et la Corse ; la table "
                f"contient des ESMS d'outre-mer ({systems}). Exporter en EPSG:4326, ou dans "
                "le système légal du territoire pour un export d'un seul territoire."
            )
            raise GisError(msg)


def gis_layers(
    etablissements: pd.DataFrame,
    grappes: Sequence[Grappe],
    bilans: Mapping[str, GrappeBilan],
    raisons: Mapping[str, str] | None = None,
    epsg: int = WGS84,
    marge_m: float = MARGE_M,
) -> dict[str, Any]:
    """The three layers as GeoDataFrames (``LAYERS`` order), in EPSG ``epsg``.

    Parameters
    ----------
    etablissements
        One row per establishment (``grappes.core.model.ETAB_COLUMNS``, extra columns kept);
        ``finess_et``, ``lon``, ``lat`` are required. A ``raison`` column gives the reason of
        the rows in no grappe, unless ``raisons`` does.
    grappes
        The grappes; their ``esms`` lists decide each row's grappe (a ``grappe`` column of
        the frame is ignored).
    bilans
        Grappe id -> funding total and validity (a grappe missing here gets no total and
        ``valide`` empty).
    raisons
        FINESS ET -> reason for the rows in no grappe.
    """
    import geopandas as gpd

    for col in ("finess_et", "lon", "lat"):
        if col not in etablissements.columns:
            msg = f"export SIG impossible : colonne {col} absente de la table des établissements"
            raise GisError(msg)
    table = etablissements.drop(columns=["grappe"], errors="ignore").reset_index(drop=True)
    et = text_column(table, "finess_et")
    deps = text_column(table, "departement")
    _check_output_crs(epsg, deps)
    grappe_of = {e: g.id for g in grappes for e in g.esms}
    grappe = et.map(grappe_of).astype("string").fillna("")
    porteur_of = {g.id: g.porteur or "" for g in grappes}
    ej = text_column(table, "finess_ej")
    reason = pd.Series("", index=table.index, dtype="string")
    if "raison" in table.columns:
        reason = text_column(table, "raison")
    if raisons:
        reason = et.map(dict(raisons)).astype("string").fillna(reason)
    reason = reason.where(grappe == "", "")
    reason = reason.where((grappe != "") | (reason != ""), NO_REASON)
    table = table.drop(columns=["raison", "reason"], errors="ignore")
    table.insert(0, "grappe", grappe)
    table.insert(
        1,
        "porteur_grappe",
        [
            "oui" if g and porteur_of.get(g) == e else ("non" if g else "")
            for g, e in zip(grappe, ej, strict=True)
        ],
    )
    table["motif"] = reason
    lon = pd.to_numeric(table["lon"], errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(table["lat"], errors="coerce").to_numpy(dtype=float)
    located = np.isfinite(lon) & np.isfinite(lat)
    points = gpd.GeoSeries.from_xy(lon, lat, crs=WGS84)
    points[~located] = None
    attributes = _plain(table).rename(columns=COLUMN_NAMES)
    esms = gpd.GeoDataFrame(attributes, geometry=points, crs=WGS84)
    sans = esms[(grappe == "").to_numpy()].reset_index(drop=True)
    polygons = _grappe_polygons(table, grappes, bilans, lon, lat, marge_m, epsg)
    out = {"esms": esms, "grappes": polygons, "esms_sans_grappe": sans}
    return {
        name: layer.to_crs(epsg) if layer.crs.to_epsg() != epsg else layer
        for name, layer in out.items()
    }


def _grappe_polygons(
    table: pd.DataFrame,
    grappes: Sequence[Grappe],
    bilans: Mapping[str, GrappeBilan],
    lon: np.ndarray,
    lat: np.ndarray,
    marge_m: float,
    epsg: int,
) -> Any:
    """One row per grappe: its widened hull (computed in its territory's legal system)."""
    import geopandas as gpd
    from shapely import MultiPoint

    from grappes.geo.crs import OVERSEAS_EPSG

    et = text_column(table, "finess_et")
    position = pd.Series(np.arange(len(table)), index=pd.Index(et))
    position = position[~position.index.duplicated(keep="first")]
    names = dict(
        zip(text_column(table, "finess_ej"), text_column(table, "raison_sociale_ej"), strict=True)
    )
    rows, shapes = [], []
    for g in grappes:
        where = position.reindex(list(g.esms)).dropna().astype(int).to_numpy()
        ok = where[np.isfinite(lon[where]) & np.isfinite(lat[where])]
        bilan = bilans.get(g.id)
        rows.append(
            {
                "grappe": g.id,
                "champ": g.champ,
                "nb_esms": len(g.esms),
                "nb_og": len(g.og),
                "porteur": g.porteur or "",
                "porteur_nom": names.get(g.porteur or "", ""),
                "financement_total": (
                    float(bilan.total) if bilan is not None and bilan.total is not None else np.nan
                ),
                "valide": ("oui" if bilan.valide else "non") if bilan is not None else "",
                "points": int(sum(g.points.values())),
                "departements": ", ".join(g.departements),
                "og": ", ".join(g.og),
                "_legal": OVERSEAS_EPSG.get(
                    g.departements[0] if g.departements else "", LAMBERT_93
                ),
            }
        )
        shapes.append(MultiPoint(np.column_stack([lon[ok], lat[ok]])) if len(ok) else None)
    frame = gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=[*GRAPPE_COLUMNS, "_legal"]),
        geometry=gpd.GeoSeries(shapes, crs=WGS84),
        crs=WGS84,
    )
    parts = []
    for legal, part in frame.groupby("_legal", sort=True):
        metric = part.to_crs(int(legal))
        metric = metric.set_geometry(metric.geometry.convex_hull.buffer(marge_m, 8))
        parts.append(metric.to_crs(epsg))
    if not parts:
        return frame.drop(columns="_legal").to_crs(epsg)
    out = pd.concat(parts).loc[frame.index]
    return gpd.GeoDataFrame(out.drop(columns="_legal"), geometry="geometry", crs=epsg)


def write_gpkg(
    path: str | Path,
    etablissements: pd.DataFrame,
    grappes: Sequence[Grappe],
    bilans: Mapping[str, GrappeBilan],
    raisons: Mapping[str, str] | None = None,
    epsg: int = WGS84,
    marge_m: float = MARGE_M,
) -> Path:
    """Write the GeoPackage (replacing any file there) and return its path."""
    layers = gis_layers(etablissements, grappes, bilans, raisons, epsg, marge_m)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    for name in LAYERS:
        layers[name].to_file(path, layer=name, driver="GPKG", engine="pyogrio")
    return path


def gpkg_bytes(
    etablissements: pd.DataFrame,
    grappes: Sequence[Grappe],
    bilans: Mapping[str, GrappeBilan],
    raisons: Mapping[str, str] | None = None,
    epsg: int = WGS84,
    marge_m: float = MARGE_M,
) -> bytes:
    """The GeoPackage as bytes (a Streamlit download button); built in a temporary folder,
    since SQLite, the GeoPackage's format, needs a real file."""
    with tempfile.TemporaryDirectory(prefix="grappes-sig-") as folder:
        path = write_gpkg(
            Path(folder) / "grappes.gpkg", etablissements, grappes, bilans, raisons, epsg, marge_m
        )
        return path.read_bytes()


def gpkg_inputs(
    scenario: Scenario,
) -> tuple[pd.DataFrame, list[Grappe], dict[str, GrappeBilan]]:
    """The export's inputs from a :class:`grappes.scenarios.scenario.Scenario`.

    The rows outside the territory studied (``scenario.out_of_scope``, e.g. other régions of
    a national file) are left out: the layers describe the territory of the proposal. The
    attributes are those of ``etablissements.csv`` (same builder); funding and validity are the
    scenario's own (the call's hard rules, the 50 km reach included).
    """
    table = etablissements_table(scenario)
    outside = set(scenario.out_of_scope or ())
    table = table[~text_column(table, "finess_et").isin(list(outside)).to_numpy()]
    bilans = {}
    for g in scenario.grappes:
        cost = scenario.costs.get(g.id)
        bilans[g.id] = GrappeBilan(
            total=float(cost.total) if cost is not None else None,
            valide=not scenario.violations.get(g.id),
        )
    return table.reset_index(drop=True), list(scenario.grappes), bilans
