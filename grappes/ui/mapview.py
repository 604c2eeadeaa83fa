"""Build the proposal map (pydeck): grappes in colour, porteurs, isolated ESMS, names.

No tile server is reachable offline, so the deck has no base map tiles
(``map_provider=None``): the bundled département boundaries with their names and the names
of the largest towns (``grappes.geo.territories`` via ``grappes.ui.mapshapes``) give the reader
their bearings. Streamlit's frontend puts a Carto base map under any deck without a map
style, and draws its zoom buttons (« + » and « − ») only over a base map; the map style
``OFFLINE_STYLE`` is a base map made in the page itself (a ``data:`` address holding a
plain white background: no source, font or sprite to fetch), so the page shows the zoom
buttons and never calls a tile server (the browser test checks that no request leaves
localhost). The view keeps the reader on the territory: zoom limits and ``maxBounds``
(``kept_on_territory``). Labels use a local font family and deck.gl's ``characterSet: auto``
(accents), so no font is fetched either. Everything here is plain data (lists of dicts with
Python types), so the deck can be tested and serialised without Streamlit.

Layers, bottom to top (``LAYER_IDS``): ``departements`` (boundaries), ``enveloppes`` (grappe
outlines, empty unless asked: grappes of one field interleave, and a dozen crossing hulls
muddy the map), ``non_places`` (ESMS in no grappe, grey), ``grappes`` (one colour per
grappe, neighbours differ: ``grappes.ui.mapcolours``), ``porteurs`` (the porteur's ESMS,
larger with a dark outline), ``autonomes_isoles_halo`` and ``autonomes_isoles`` (a black ring
on a white halo around isolated autonomous ESMS: it contrasts with every palette colour,
unlike a red ring on an orange dot), ``selection`` (the outline of the grappe picked in
"Détail"), then the labels ``noms_departements``, ``villes`` and ``noms_grappes`` (the
picked grappe's id). Hovering any point shows the ESMS, its OG and its grappe.

"Tous les champs" (several fields drawn at once, 60+ grappes whose members interleave)
cannot be read by grappe colour: colours repeat and hulls pile up. That reading colours
each ESMS by its field instead (7 colours, legend by field), draws them smaller, and fades
the ESMS in no grappe to faint 1.5 px points; the grappe of a point is in its tooltip, and
picking a grappe still outlines it, labels it and zooms to it. One field at a time keeps
the colour-per-grappe reading. (Clustering by zoom level was ruled out: deck.gl layers in
Streamlit cannot change with the zoom without custom JavaScript.)
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pydeck as pdk

from grappes.programme.validate import flag_column, text_column
from grappes.ui.mapcolours import (
    BOUNDARY_FILL,
    BOUNDARY_LINE,
    DEPARTEMENT_TEXT,
    FIELD_COLOURS,
    HIGHLIGHT_LINE,
    ISOLE_HALO,
    ISOLE_RING,
    PALETTE,
    PORTEUR_LINE,
    TOWN_TEXT,
    UNPLACED_COLOUR,
    adjacency,
    colour_graph,
    grappe_colours,
    legend_html,
)
from grappes.ui.mapshapes import (
    departement_labels,
    grappe_outlines,
    outline_records,
    touching,
    town_labels,
)

__all__ = [
    "LAYER_IDS", "OFFLINE_STYLE", "PALETTE", "POINT_FIELDS", "UNPLACED_COLOUR", "ProposalMap",
    "build_deck", "build_map", "grappe_colours", "grappe_view", "legend_html", "map_points",
    "view_state",
]  # fmt: skip

#: Fields of every point record (the tooltip reads them; all point layers share them).
POINT_FIELDS: tuple[str, ...] = (
    "finess_et", "nom", "categorie", "champ", "og", "commune", "grappe", "role", "lon", "lat",
    "color",
)  # fmt: skip

#: the base map style: a white background drawn by the browser, nothing fetched (no
#: source, glyphs or sprite). A real style, unlike Streamlit's « no style » marker
#: ``__MAP_STYLE__``, makes Streamlit's frontend draw its zoom buttons (issue 20, item 6).
OFFLINE_STYLE_JSON: dict[str, Any] = {
    "version": 8,
    "name": "grappes hors ligne",
    "sources": {},
    "layers": [{"id": "fond", "type": "background", "paint": {"background-color": "#ffffff"}}],
}
OFFLINE_STYLE = "data:application/json;base64," + base64.b64encode(
    json.dumps(OFFLINE_STYLE_JSON, separators=(",", ":")).encode("ascii")).decode("ascii")

#: Local fonts only (no web font is fetched); deck.gl draws them through its own atlas.
FONT_FAMILY = "Arial, Helvetica, sans-serif"

TOOLTIP_HTML = (
    "<b>{nom}</b><br/>FINESS ET {finess_et} · {categorie}<br/>OG : {og}<br/>"
    "{commune} · champ {champ}<br/><b>{grappe}</b> {role}"
)

#: Layer ids, in drawing order.
LAYER_IDS: tuple[str, ...] = (
    "departements", "enveloppes", "non_places", "grappes", "porteurs", "autonomes_isoles_halo",
    "autonomes_isoles", "selection", "noms_departements", "villes", "noms_grappes",
)  # fmt: skip
#: Point layers (records with ``POINT_FIELDS``, tooltips; the rings above are not pickable).
POINT_LAYERS: tuple[str, ...] = ("non_places", "grappes", "porteurs")


@dataclass(frozen=True)
class MapStyle:
    """Sizes (pixels) and opacities (0-255) of one reading of the map."""

    point_radius: float
    point_alpha: int
    unplaced_radius: float
    unplaced_alpha: int
    outline_alpha: int
    colour_by_field: bool


#: One field: every ESMS readable as a dot in its grappe's colour.
SINGLE_FIELD = MapStyle(4.0, 230, 2.5, 170, 35, colour_by_field=False)
#: Several fields ("tous les champs"): dots in their field's colour, smaller.
ALL_FIELDS = MapStyle(3.0, 220, 1.5, 110, 35, colour_by_field=True)
#: Ring around isolated autonomous ESMS: pixels beyond the dot's radius.
RING_GAP = 3.0


def _colours(points: pd.DataFrame) -> dict[str, tuple[int, int, int]]:
    """Palette colour of each drawn grappe: neighbours (close members, touching outlines,
    nearest centres) differ (``grappes.ui.mapcolours``)."""
    placed = points[points["grappe_id"] != ""]
    members = {
        str(g): (rows["lon"].to_numpy(dtype=float), rows["lat"].to_numpy(dtype=float))
        for g, rows in placed.groupby("grappe_id", sort=True)
    }
    pairs = touching(grappe_outlines(placed))
    return colour_graph(adjacency(members, touching=pairs))


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
        The normalised establishments table (``grappes.core.model.ETAB_COLUMNS``).
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
    colours = _colours(out)
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
               height_px: int = 560, fill: float = 0.85,
               max_zoom: float = 12.0) -> pdk.ViewState:
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
    zoom = math.log2(min(fill * width_px / (512 * span_x), fill * height_px / (512 * span_y)))
    centre_y = (y.max() + y.min()) / 2
    return pdk.ViewState(
        longitude=float((lo.max() + lo.min()) / 2),
        latitude=float(np.degrees(2 * np.arctan(np.exp(centre_y)) - np.pi / 2)),
        # rounded down, so the rounding never pushes a point off the edge
        zoom=math.floor(max(3.0, min(max_zoom, zoom)) * 100) / 100,
    )


def territory_frame(departements: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
    """The corners of the drawn départements' boundaries, when they lie in one territory
    (metropolitan France with Corsica, or one overseas département), else nothing.

    Why: fitting the view to the ESMS alone framed an upload from La Réunion on a few
    towns, with a fragment of coastline; the island (or the région) is the reader's frame.
    Départements on several oceans are framed by their ESMS, as before.
    """
    codes = sorted({str(d) for d in departements})
    zones = {c if c.startswith("97") else "metropole" for c in codes}
    collection = boundaries_for(codes) if len(zones) == 1 else {"features": []}
    if not collection["features"]:
        return np.empty(0), np.empty(0)
    from shapely.geometry import shape

    boxes = np.array([shape(f["geometry"]).bounds for f in collection["features"]])
    lo0, la0 = boxes[:, 0].min(), boxes[:, 1].min()
    lo1, la1 = boxes[:, 2].max(), boxes[:, 3].max()
    return np.array([lo0, lo1]), np.array([la0, la1])


#: how far out the reader may zoom past the whole territory (zoom levels), and how far in
ZOOM_OUT_MARGIN = 1.0
MAX_ZOOM = 14.0


#: how far past the territory's box the reader may pan (share of its width and height)
PAN_MARGIN = 0.5


def kept_on_territory(view: pdk.ViewState, whole: pdk.ViewState,
                      lon: np.ndarray | None = None,
                      lat: np.ndarray | None = None) -> pdk.ViewState:
    """``view`` with zoom limits: never further out than the whole territory (less a margin),
    so the wheel or the « − » button cannot lose the map in blank space, nor further in than
    a street; with the territory's points (``lon``, ``lat``), panning stops at their box
    widened by ``PAN_MARGIN`` (deck.gl's ``maxBounds``, [[west, south], [east, north]])."""
    floor = max(2.0, float(whole.zoom) - ZOOM_OUT_MARGIN)
    extra: dict[str, Any] = {}
    lon = np.asarray(lon if lon is not None else [], dtype=float)
    lat = np.asarray(lat if lat is not None else [], dtype=float)
    ok = ~(np.isnan(lon) | np.isnan(lat)) if len(lon) == len(lat) else np.zeros(0, bool)
    if ok.any():
        west, east = float(lon[ok].min()), float(lon[ok].max())
        south, north = float(lat[ok].min()), float(lat[ok].max())
        dx = max(east - west, 0.5) * PAN_MARGIN
        dy = max(north - south, 0.5) * PAN_MARGIN
        extra["maxBounds"] = [[round(max(west - dx, -180.0), 4), round(max(south - dy, -85.0), 4)],
                              [round(min(east + dx, 180.0), 4), round(min(north + dy, 85.0), 4)]]
    return pdk.ViewState(longitude=view.longitude, latitude=view.latitude,
                         zoom=max(float(view.zoom), floor), min_zoom=floor, max_zoom=MAX_ZOOM,
                         **extra)


def boundaries_for(departements: Iterable[str]) -> dict:
    """The bundled boundaries of these départements (a new FeatureCollection)."""
    from grappes.geo.territories import departement_boundaries

    wanted = {str(d) for d in departements}
    features = [
        f for f in departement_boundaries()["features"] if str(f["properties"]["code"]) in wanted
    ]
    return {"type": "FeatureCollection", "features": features}




def grappe_view(points: pd.DataFrame, grappe_id: str, width_px: int = 900,
                height_px: int = 560) -> pdk.ViewState:
    """The view centred on one grappe, zoomed so that all its drawn members are on screen.

    Why: picking a grappe in "Détail" must show it, not the whole région. The fit leaves a
    margin (70 % of the map) so the outline and the neighbouring grappes stay in sight;
    a one-member grappe gets a town-scale zoom (at most 12). The whole map's view when the
    grappe has no drawn member.
    """
    mine = points[points["grappe_id"] == grappe_id]
    if mine.empty:
        return view_state(points["lon"].to_numpy(), points["lat"].to_numpy(), width_px,
                          height_px)
    return view_state(mine["lon"].to_numpy(), mine["lat"].to_numpy(), width_px, height_px,
                      fill=0.7, max_zoom=12.0)


@dataclass(frozen=True)
class ProposalMap:
    """The deck and what the page shows beside it.

    Attributes
    ----------
    deck
        The pydeck Deck (``st.pydeck_chart(m.deck)``).
    legend
        HTML legend with colour swatches (``st.markdown(m.legend, unsafe_allow_html=True)``).
    points
        The drawn ESMS (:func:`map_points`).
    colours
        Grappe id -> palette colour.
    view
        The initial view (fitted to the highlighted grappe when there is one).
    """

    deck: pdk.Deck
    legend: str
    points: pd.DataFrame
    colours: dict[str, tuple[int, int, int]]
    view: pdk.ViewState


def _text_layer(layer_id: str, records: list[dict[str, Any]], text: str, size: int,
                colour: Iterable[int], offset: tuple[int, int] = (0, 0),
                bold: bool = False) -> pdk.Layer:
    """Labels with a white outline (readable on any fill), local font, accents included."""
    # strings are accessor expressions for deck.gl's JSON converter: quote constants
    return pdk.Layer(
        "TextLayer",
        id=layer_id,
        data=records,
        get_position=["lon", "lat"],
        get_text=text,
        get_size=size,
        size_units="'pixels'",
        get_color=list(colour),
        get_pixel_offset=list(offset),
        get_text_anchor="'middle'",
        get_alignment_baseline="'center'",
        font_family=f'"{FONT_FAMILY}"',
        font_weight="'bold'" if bold else "'normal'",
        character_set="'auto'",
        font_settings={"sdf": True},
        outline_width=3,
        outline_color=[255, 255, 255, 230],
        pickable=False,
    )


def _grappe_label_records(outlines: dict[str, Any]) -> list[dict[str, Any]]:
    from shapely.ops import polylabel

    records = []
    for gid in sorted(outlines):
        point = polylabel(outlines[gid], tolerance=0.001)
        records.append({"nom": gid, "lon": round(point.x, 5), "lat": round(point.y, 5)})
    return records


def _drawn_points(points: pd.DataFrame, style: Any, highlight: str | None) -> pd.DataFrame:
    """The points with their drawn colour: by grappe (or by field on « tous les champs »),
    the other grappes dimmed when one is highlighted."""
    drawn = points.copy()
    point_alpha = np.where(
        drawn["kind"] == "grappe",
        np.where((drawn["grappe_id"] == highlight) | (highlight is None), style.point_alpha, 70),
        style.unplaced_alpha,
    )
    base = drawn["color"]
    if style.colour_by_field:
        base = [list(FIELD_COLOURS.get(c, UNPLACED_COLOUR[:3])) if k == "grappe" else col
                for c, k, col in zip(drawn["champ"], drawn["kind"], drawn["color"], strict=True)]
    drawn["color"] = [[*c[:3], int(a)] for c, a in zip(base, point_alpha, strict=True)]
    return drawn


def _area_layers(departements: list[str], shapes: Mapping[str, Any],
                 colours: Mapping[str, tuple], outline_alpha: int) -> list[pdk.Layer]:
    """Département boundaries, then the grappes' faint outlines (none unless asked)."""
    return [
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
            "PolygonLayer",
            id="enveloppes",
            data=outline_records(shapes, colours, outline_alpha),
            get_polygon="polygon",
            get_fill_color="fill",
            get_line_color="line",
            line_width_min_pixels=1,
            stroked=True,
            filled=True,
            pickable=False,
        ),
    ]


def _point_layers(drawn: pd.DataFrame, style: Any) -> list[pdk.Layer]:
    """Unplaced ESMS, grappe members, porteurs, and the rings of isolated autonomous ESMS."""
    common = {"get_position": ["lon", "lat"], "pickable": True, "radius_units": "'pixels'"}
    # the rings only frame the dot drawn below them (which carries the tooltip)
    isoles = [{"lon": round(float(x), 6), "lat": round(float(y), 6)}
              for x, y in zip(drawn.loc[drawn["isole"], "lon"], drawn.loc[drawn["isole"], "lat"],
                              strict=True)]
    return [
        pdk.Layer(
            "ScatterplotLayer",
            id="non_places",
            data=_records(drawn[drawn["kind"] == "non_place"]),
            get_fill_color="color",
            get_radius=style.unplaced_radius,
            **common,
        ),
        pdk.Layer(
            "ScatterplotLayer",
            id="grappes",
            data=_records(drawn[drawn["kind"] == "grappe"]),
            get_fill_color="color",
            get_radius=style.point_radius,
            **common,
        ),
        pdk.Layer(
            "ScatterplotLayer",
            id="porteurs",
            data=_records(drawn[drawn["porteur"]]),
            get_fill_color="color",
            get_line_color=list(PORTEUR_LINE),
            stroked=True,
            filled=True,
            line_width_min_pixels=2,
            get_radius=style.point_radius + 2,
            **common,
        ),
        # a hollow ring around the dot (its own colour stays visible inside): white halo
        # under a black ring, distinct from the porteur's filled, outlined dot
        _ring("autonomes_isoles_halo", isoles, ISOLE_HALO, 3.5, style.point_radius + RING_GAP),
        _ring("autonomes_isoles", isoles, ISOLE_RING, 1.5, style.point_radius + RING_GAP),
    ]


def _label_layers(departements: list[str], selected: Mapping[str, Any],
                  colours: Mapping[str, tuple], towns: int) -> list[pdk.Layer]:
    """The highlighted grappe's outline, then the names: départements, towns, that grappe."""
    return [
        pdk.Layer(
            "PolygonLayer",
            id="selection",
            data=outline_records(selected, colours, 0),
            get_polygon="polygon",
            get_line_color=list(HIGHLIGHT_LINE),
            line_width_min_pixels=3,
            stroked=True,
            filled=False,
            pickable=False,
        ),
        _text_layer("noms_departements", departement_labels(departements), "nom", 15,
                    DEPARTEMENT_TEXT, bold=True),
        _text_layer("villes", town_labels(departements, count=towns), "nom", 12, TOWN_TEXT,
                    offset=(0, -12)),
        _text_layer("noms_grappes", _grappe_label_records(selected), "nom", 13,
                    (0, 0, 0, 255), bold=True),
    ]


def build_map(
    etab: pd.DataFrame,
    assignment: pd.Series | Mapping[str, str],
    porteurs: Mapping[str, str] | None = None,
    champs: Iterable[str] | None = None,
    departements: Iterable[str] | None = None,
    height: int = 620,
    width: int = 900,
    highlight: str | None = None,
    grappe_labels: Mapping[str, str] | None = None,
    towns: int = 10,
    outlines: bool = False,
) -> ProposalMap:
    """The proposal map (no base map, works offline), its legend and its view.

    Parameters
    ----------
    etab, assignment, porteurs, champs
        As for :func:`map_points`.
    departements
        Boundaries and names to draw (default: the départements of the drawn ESMS); the
        ``towns`` largest communes among them are named.
    highlight
        Grappe id picked by the user ("Détail"): outlined in black, others dimmed, and the
        view fitted to it.
    grappe_labels
        Grappe id -> short text for the legend (e.g. the porteur's name).
    outlines
        Draw every grappe's outline (a convex hull widened by 1.5 km), faint.
    """
    points = map_points(etab, assignment, porteurs, champs)
    if departements is None:
        departements = sorted(set(text_column(etab, "departement")[
            text_column(etab, "finess_et").isin(list(points["finess_et"]))
        ]) - {""})
    departements = sorted({str(d) for d in departements})
    style = ALL_FIELDS if points["champ"].nunique() > 1 else SINGLE_FIELD
    placed = points[points["kind"] == "grappe"]
    shapes = grappe_outlines(placed)
    colours = {g: tuple(c[:3]) for g, c in zip(placed["grappe_id"], placed["color"],
                                               strict=True)}
    colours = {g: colours[g] for g in sorted(colours)}
    if highlight is not None and highlight not in colours:
        highlight = None
    drawn = _drawn_points(points, style, highlight)
    outline_alpha = style.outline_alpha if highlight is None else max(15, style.outline_alpha // 3)
    selected = {highlight: shapes[highlight]} if highlight in shapes else {}
    layers = [
        *_area_layers(departements, shapes if outlines else {}, colours, outline_alpha),
        *_point_layers(drawn, style),
        *_label_layers(departements, selected, colours, towns),
    ]
    frame_lon, frame_lat = territory_frame(departements)
    all_lon = np.concatenate([points["lon"].to_numpy(dtype=float), frame_lon])
    all_lat = np.concatenate([points["lat"].to_numpy(dtype=float), frame_lat])
    whole = view_state(all_lon, all_lat, width, height)
    view = grappe_view(points, highlight, width, height) if highlight is not None else whole
    view = kept_on_territory(view, whole, all_lon, all_lat)
    deck = pdk.Deck(
        layers=layers,
        initial_view_state=view,
        map_provider=None,
        map_style=OFFLINE_STYLE,
        tooltip={
            "html": TOOLTIP_HTML,
            "style": {"backgroundColor": "white", "color": "#222", "fontSize": "12px"},
        },
        height=height,
    )
    fields = None
    if style.colour_by_field:
        fields = {c: FIELD_COLOURS[c] for c in FIELD_COLOURS if c in set(placed["champ"])}
    legend = legend_html(colours, grappe_labels, highlight=highlight, fields=fields)
    return ProposalMap(deck=deck, legend=legend, points=points, colours=colours, view=view)


def build_deck(
    etab: pd.DataFrame,
    assignment: pd.Series | Mapping[str, str],
    porteurs: Mapping[str, str] | None = None,
    champs: Iterable[str] | None = None,
    departements: Iterable[str] | None = None,
    height: int = 620,
    highlight: str | None = None,
) -> pdk.Deck:
    """The deck of :func:`build_map` alone (kept for callers that draw no legend)."""
    return build_map(etab, assignment, porteurs, champs, departements, height=height,
                     highlight=highlight).deck


#: Text legend for places that cannot render HTML (the app should show ``build_map().legend``).
LEGEND_MARKDOWN = (
    "**Légende** — une couleur par grappe (deux grappes voisines n'ont jamais la même "
    "couleur) · gros point cerclé de noir : ESMS du porteur · anneau noir sur fond blanc : "
    "ESMS autonome isolé · petit point gris : ESMS sans grappe · traits et noms : "
    "départements ; noms en noir : villes principales."
)


def _ring(layer_id: str, data: list, colour: tuple[int, ...], width: float, radius: float):
    """A hollow ring (pixel-sized) around each point: drawn twice, a wide halo under a thin
    ring, so the isolated-ESMS marker contrasts with every grappe colour."""
    return pdk.Layer(
        "ScatterplotLayer",
        id=layer_id,
        data=data,
        get_line_color=list(colour),
        stroked=True,
        filled=False,
        line_width_min_pixels=width,
        get_radius=radius,
        get_position=["lon", "lat"],
        radius_units="'pixels'",
        pickable=False,
    )
