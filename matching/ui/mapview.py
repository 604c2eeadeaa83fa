"""Build the proposal map (pydeck): grappes in colour, porteurs, isolated ESMS, boundaries.

No tile server is reachable offline, so the deck has no base map at all
(``map_provider=None``): the bundled département boundaries (``geo.territories``) drawn as a
GeoJsonLayer give the reader their bearings. Streamlit's frontend puts a Carto base map
under any deck without a map style; the map style ``NO_BASE_MAP`` is the marker its
frontend (1.4x-1.6x) reads as "no style", so the page never calls a tile server (the
browser test checks that no request leaves localhost). Everything here is plain data (lists of dicts
with Python types), so the deck can be tested and serialised without Streamlit.

Layers, bottom to top: ``departements`` (boundaries), ``non_places`` (ESMS in no grappe,
grey), ``grappes`` (one colour per grappe), ``autonomes_isoles`` (a ring around isolated
autonomous ESMS), ``porteurs`` (the porteur's ESMS, larger with a dark outline). Hovering any
point shows the ESMS, its OG and its grappe.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import pydeck as pdk

from matching.programme.validate import flag_column, text_column

#: Qualitative palette without reds and pinks (red marks isolated autonomous ESMS), ordered
#: so that neighbours in the list contrast.
PALETTE: tuple[tuple[int, int, int], ...] = (
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (148, 103, 189), (140, 86, 75),
    (188, 189, 34), (23, 190, 207), (0, 90, 50), (255, 187, 60), (120, 80, 160),
    (174, 199, 232), (152, 223, 138), (197, 176, 213), (196, 156, 148), (0, 128, 128),
    (219, 219, 141), (158, 218, 229), (90, 90, 200), (170, 110, 40), (70, 150, 90),
)  # fmt: skip
UNPLACED_COLOUR: tuple[int, int, int, int] = (150, 150, 150, 170)
ISOLE_COLOUR: tuple[int, int, int, int] = (230, 0, 0, 255)
PORTEUR_LINE: tuple[int, int, int, int] = (20, 20, 20, 255)
BOUNDARY_LINE: tuple[int, int, int, int] = (90, 90, 110, 200)
BOUNDARY_FILL: tuple[int, int, int, int] = (235, 238, 245, 60)

#: Fields of every point record (the tooltip reads them; all point layers share them).
POINT_FIELDS: tuple[str, ...] = (
    "finess_et", "nom", "categorie", "champ", "og", "commune", "grappe", "role", "lon", "lat",
    "color",
)  # fmt: skip

#: Streamlit's frontend marker for "no map style": with it, no Carto base map is added
NO_BASE_MAP = "__MAP_STYLE__"

TOOLTIP_HTML = (
    "<b>{nom}</b><br/>FINESS ET {finess_et} · {categorie}<br/>OG : {og}<br/>"
    "{commune} · champ {champ}<br/><b>{grappe}</b> {role}"
)

#: Layer ids, in drawing order.
LAYER_IDS: tuple[str, ...] = (
    "departements", "non_places", "grappes", "autonomes_isoles", "porteurs",
)  # fmt: skip


def grappe_colours(
    centres: Mapping[str, tuple[float, float]], neighbours: int = 6
) -> dict[str, tuple[int, int, int]]:
    """One palette colour per grappe, different from its nearest grappes' colours.

    Why: with dozens of grappes a colour cannot be unique and still readable, so the
    grappes whose centres are among each other's ``neighbours`` nearest get different
    colours (greedy graph colouring, deterministic: ties by grappe id).

    Parameters
    ----------
    centres
        Grappe id -> (lon, lat) of its centre, degrees.
    """
    ids = sorted(centres)
    if not ids:
        return {}
    lon = np.array([centres[g][0] for g in ids], dtype=float)
    lat = np.array([centres[g][1] for g in ids], dtype=float)
    graph = nx.Graph()
    graph.add_nodes_from(range(len(ids)))
    if len(ids) > 1:
        # equirectangular kilometres are enough to rank neighbours at a regional scale
        x = np.radians(lon) * np.cos(np.radians(np.nanmean(lat)))
        y = np.radians(lat)
        d = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
        np.fill_diagonal(d, np.inf)
        k = min(neighbours, len(ids) - 1)
        nearest = np.argsort(d, axis=1, kind="stable")[:, :k]
        graph.add_edges_from((i, int(j)) for i in range(len(ids)) for j in nearest[i])
    colouring = nx.greedy_color(graph, strategy="largest_first")
    return {g: PALETTE[colouring[i] % len(PALETTE)] for i, g in enumerate(ids)}


def _centres(points: pd.DataFrame) -> dict[str, tuple[float, float]]:
    placed = points[points["grappe_id"] != ""]
    grouped = placed.groupby("grappe_id")[["lon", "lat"]].mean()
    return {str(g): (float(r["lon"]), float(r["lat"])) for g, r in grouped.iterrows()}


def map_points(
    etab: pd.DataFrame,
    assignment: pd.Series | Mapping[str, str],
    porteurs: Mapping[str, str] | None = None,
    champs: Iterable[str] | None = None,
) -> pd.DataFrame:
    """One row per ESMS to draw, with its layer (``kind``), colour and tooltip fields.

    Parameters
    ----------
    etab
        The normalised establishments table (``matching.core.model.ETAB_COLUMNS``).
    assignment
        FINESS ET -> grappe id ('' or missing: in no grappe).
    porteurs
        Grappe id -> FINESS EJ of its porteur.
    champs
        Fields to show for ESMS in no grappe (default: every programme field present);
        health establishments and rows without coordinates are never drawn.

    Returns
    -------
    DataFrame with ``POINT_FIELDS`` plus ``grappe_id``, ``kind`` (``grappe`` or
    ``non_place``), ``porteur`` (bool) and ``isole`` (bool).
    """
    porteurs = dict(porteurs or {})
    assign = pd.Series(assignment, dtype="string") if not isinstance(assignment, pd.Series) \
        else assignment.astype("string")
    assign.index = assign.index.astype("string")
    assign = assign[~assign.index.duplicated(keep="first")]
    et = text_column(etab, "finess_et")
    gid = et.map(assign).astype("string").fillna("")
    champ = text_column(etab, "champ")
    lon = pd.to_numeric(etab["lon"], errors="coerce") if "lon" in etab else None
    lat = pd.to_numeric(etab["lat"], errors="coerce") if "lat" in etab else None
    if lon is None or lat is None:
        msg = "colonnes lon / lat manquantes : carte impossible"
        raise ValueError(msg)
    shown_champs = set(champs) if champs is not None else None
    visible = lon.notna() & lat.notna() & ~flag_column(etab, "sanitaire")
    if shown_champs is not None:
        visible &= (gid != "") | champ.isin(list(shown_champs))
    else:
        visible &= (gid != "") | (champ != "hors_champ")
    ej = text_column(etab, "finess_ej")
    og_name = text_column(etab, "raison_sociale_ej")
    commune = text_column(etab, "commune_nom")
    dep = text_column(etab, "departement")
    is_porteur = (gid != "") & (ej == gid.map(porteurs).astype("string").fillna("\0"))
    isole = flag_column(etab, "autonome")
    out = pd.DataFrame(
        {
            "finess_et": et,
            "nom": text_column(etab, "raison_sociale"),
            "categorie": text_column(etab, "categorie_libelle").str.slice(0, 60),
            "champ": champ,
            "og": (og_name.where(og_name != "", "OG") + " (" + ej + ")"),
            "commune": commune.where(commune != "", "commune ?") + " (" + dep + ")",
            "grappe_id": gid,
            "grappe": gid.map(lambda g: f"grappe {g}" if g else "aucune grappe"),
            "role": "",
            "lon": lon.astype("float64"),
            "lat": lat.astype("float64"),
            "kind": np.where(gid != "", "grappe", "non_place"),
            "porteur": is_porteur.astype(bool),
            "isole": isole.astype(bool),
        }
    )[visible.to_numpy()].reset_index(drop=True)
    role = np.where(out["porteur"], "· porteur", "")
    role = np.where(out["isole"], np.char.add(role.astype(str), " · ESMS autonome isolé"), role)
    out["role"] = pd.Series(role, dtype="string").str.strip(" ·").map(
        lambda r: f"({r})" if r else ""
    )
    colours = grappe_colours(_centres(out))
    out["color"] = [
        [*colours[g], 230] if g else list(UNPLACED_COLOUR) for g in out["grappe_id"]
    ]
    return out


def _records(points: pd.DataFrame) -> list[dict[str, Any]]:
    """Plain-Python records (no numpy / pandas scalars) for the deck's JSON."""
    records = []
    for row in points[list(POINT_FIELDS)].itertuples(index=False):
        rec = dict(zip(POINT_FIELDS, row, strict=True))
        for key in ("lon", "lat"):
            rec[key] = round(float(rec[key]), 6)
        rec["color"] = [int(c) for c in rec["color"]]
        for key in POINT_FIELDS:
            if key not in ("lon", "lat", "color"):
                rec[key] = str(rec[key])
        records.append(rec)
    return records


def view_state(lon: np.ndarray, lat: np.ndarray, width_px: int = 900,
               height_px: int = 560) -> pdk.ViewState:
    """Centre and zoom (Web Mercator) that fit the points in a map of about this size.

    France as a whole when there are no points.
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    ok = ~(np.isnan(lon) | np.isnan(lat))
    if not ok.any():
        return pdk.ViewState(longitude=2.5, latitude=46.6, zoom=4.8)
    lo, la = lon[ok], np.clip(lat[ok], -85.0, 85.0)
    y = np.log(np.tan(np.pi / 4 + np.radians(la) / 2))
    # share of the world's width (512 px at zoom 0) the points span, both ways
    span_x = max(float(lo.max() - lo.min()) / 360.0, 1e-4)
    span_y = max(float(y.max() - y.min()) / (2 * np.pi), 1e-4)
    zoom = math.log2(min(0.85 * width_px / (512 * span_x), 0.85 * height_px / (512 * span_y)))
    centre_y = (y.max() + y.min()) / 2
    return pdk.ViewState(
        longitude=float((lo.max() + lo.min()) / 2),
        latitude=float(np.degrees(2 * np.arctan(np.exp(centre_y)) - np.pi / 2)),
        zoom=round(max(3.0, min(12.0, zoom)), 2),
    )


def boundaries_for(departements: Iterable[str]) -> dict:
    """The bundled boundaries of these départements (a new FeatureCollection)."""
    from geo.territories import departement_boundaries

    wanted = {str(d) for d in departements}
    features = [
        f for f in departement_boundaries()["features"] if str(f["properties"]["code"]) in wanted
    ]
    return {"type": "FeatureCollection", "features": features}


def build_deck(
    etab: pd.DataFrame,
    assignment: pd.Series | Mapping[str, str],
    porteurs: Mapping[str, str] | None = None,
    champs: Iterable[str] | None = None,
    departements: Iterable[str] | None = None,
    height: int = 620,
) -> pdk.Deck:
    """The proposal map as a pydeck Deck with no base map (works offline).

    Parameters are those of :func:`map_points`; ``departements`` are the boundaries to draw
    (default: the départements of the drawn ESMS).
    """
    points = map_points(etab, assignment, porteurs, champs)
    if departements is None:
        departements = sorted(set(text_column(etab, "departement")[
            text_column(etab, "finess_et").isin(list(points["finess_et"]))
        ]) - {""})
    # strings are accessor expressions for deck.gl's JSON converter: quote the constant
    common = {"get_position": ["lon", "lat"], "pickable": True, "radius_units": "'pixels'"}
    layers = [
        pdk.Layer(
            "GeoJsonLayer",
            id="departements",
            data=boundaries_for(departements),
            stroked=True,
            filled=True,
            get_fill_color=list(BOUNDARY_FILL),
            get_line_color=list(BOUNDARY_LINE),
            line_width_min_pixels=1.2,
            pickable=False,
        ),
        pdk.Layer(
            "ScatterplotLayer",
            id="non_places",
            data=_records(points[points["kind"] == "non_place"]),
            get_fill_color="color",
            get_radius=2.5,
            **common,
        ),
        pdk.Layer(
            "ScatterplotLayer",
            id="grappes",
            data=_records(points[points["kind"] == "grappe"]),
            get_fill_color="color",
            get_radius=4,
            **common,
        ),
        pdk.Layer(
            "ScatterplotLayer",
            id="autonomes_isoles",
            data=_records(points[points["isole"]]),
            get_fill_color="color",
            get_line_color=list(ISOLE_COLOUR),
            stroked=True,
            filled=True,
            line_width_min_pixels=1.5,
            get_radius=6,
            **common,
        ),
        pdk.Layer(
            "ScatterplotLayer",
            id="porteurs",
            data=_records(points[points["porteur"]]),
            get_fill_color="color",
            get_line_color=list(PORTEUR_LINE),
            stroked=True,
            filled=True,
            line_width_min_pixels=2,
            get_radius=6,
            **common,
        ),
    ]
    return pdk.Deck(
        layers=layers,
        initial_view_state=view_state(points["lon"].to_numpy(), points["lat"].to_numpy(),
                                      height_px=height),
        map_provider=None,
        map_style=NO_BASE_MAP,
        tooltip={
            "html": TOOLTIP_HTML,
            "style": {"backgroundColor": "white", "color": "#222", "fontSize": "12px"},
        },
        height=height,
    )


LEGEND_MARKDOWN = (
    "**Légende** — une couleur par grappe (les grappes voisines ont des couleurs différentes) · "
    "gros point cerclé de noir : ESMS du porteur · cercle rouge : ESMS autonome isolé · "
    "petit point gris : ESMS sans grappe · traits : limites des départements."
)
