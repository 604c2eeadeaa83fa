"""The proposal map: layers, colours, porteurs, isolated ESMS, no base map, tooltips."""

from __future__ import annotations

import json
import math
import re

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from test_app_factory import esms_rows, make_etab, region

from grappes.ui.mapcolours import FIELD_COLOURS, colour_graph, css
from grappes.ui.mapshapes import departement_labels, town_labels
from grappes.ui.mapview import (
    FONT_FAMILY,
    LAYER_IDS,
    LEGEND_MARKDOWN,
    OFFLINE_STYLE,
    OFFLINE_STYLE_JSON,
    PALETTE,
    POINT_FIELDS,
    POINT_LAYERS,
    UNPLACED_COLOUR,
    build_deck,
    build_map,
    grappe_colours,
    map_points,
    view_state,
)


def setting():
    r = region()
    etab = r.etab.copy()
    hospital = etab.iloc[[0]].copy()
    hospital["finess_et"] = "370999999"
    hospital["champ"] = "hors_champ"
    hospital["sanitaire"] = True
    etab = pd.concat([etab, hospital], ignore_index=True)
    assignment = {e: g.id for g in r.grappes for e in g.esms}
    porteurs = {g.id: g.porteur for g in r.grappes}
    return r, etab, assignment, porteurs


def test_points_carry_grappe_porteur_and_isolated_flags():
    r, etab, assignment, porteurs = setting()
    points = map_points(etab, assignment, porteurs)
    assert "370999999" not in set(points["finess_et"])  # health establishments not drawn
    by_et = points.set_index("finess_et")
    assert set(by_et.index[by_et["kind"] == "grappe"]) == set(assignment)
    porteur_ets = set(etab.loc[etab["finess_ej"].isin(list(porteurs.values()))
                               & ~etab["sanitaire"], "finess_et"])
    assert set(by_et.index[by_et["porteur"]]) == porteur_ets
    assert bool(by_et.loc[r.isolated, "isole"]) and by_et.loc[r.isolated, "kind"] == "non_place"
    assert by_et.loc[r.isolated, "color"] == list(UNPLACED_COLOUR)
    assert by_et.loc[r.isolated, "grappe"] == "aucune grappe"
    assert "autonome isolé" in by_et.loc[r.isolated, "role"]
    one = r.grappes[0]
    assert by_et.loc[one.esms[0], "grappe"] == f"grappe {one.id}"
    colours = {tuple(c) for c in by_et.loc[one.esms, "color"]}
    assert len(colours) == 1  # one colour per grappe
    only_ph = map_points(etab, assignment, porteurs, champs=["PH"])
    assert r.isolated not in set(only_ph["finess_et"])  # unplaced PA hidden when PH is shown


def test_neighbouring_grappes_get_different_colours():
    rng = np.random.default_rng(0)
    centres = {f"G{i:02d}": (float(x), float(y))
               for i, (x, y) in enumerate(rng.uniform([0, 46], [3, 48], (40, 2)))}
    colours = grappe_colours(centres)
    assert colours == grappe_colours(dict(reversed(list(centres.items()))))  # deterministic
    ids = sorted(centres)
    xy = np.array([centres[g] for g in ids])
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(d, np.inf)
    for i, g in enumerate(ids):
        nearest = ids[int(np.argmin(d[i]))]
        assert colours[g] != colours[nearest]


def test_deck_has_no_base_map_and_tooltips_everywhere():
    _, etab, assignment, porteurs = setting()
    deck = build_deck(etab, assignment, porteurs, height=500)
    spec = json.loads(deck.to_json())
    assert "mapProvider" not in spec and spec["mapStyle"] == OFFLINE_STYLE
    assert [layer["id"] for layer in spec["layers"]] == list(LAYER_IDS)
    layers = {layer["id"]: layer for layer in spec["layers"]}
    for layer_id in POINT_LAYERS:
        layer = layers[layer_id]
        # a constant, not a deck.gl expression ("@@=pixels" would be read as a field)
        assert layer["radiusUnits"] == "pixels" and layer["pickable"]
        for record in layer["data"]:
            assert set(record) == set(POINT_FIELDS)
    deps = {f["properties"]["code"] for f in layers["departements"]["data"]["features"]}
    assert deps == {"36", "37", "45"}
    tooltip = deck._tooltip  # Streamlit sends it beside the spec
    assert all(f"{{{field}}}" in tooltip["html"] for field in ("nom", "grappe", "finess_et"))
    assert len(layers["porteurs"]["data"]) == 9  # 5 ESMS of 370000011 + 4 of 450000020


def test_deck_and_legend_call_no_remote_host():
    _, etab, assignment, porteurs = setting()
    m = build_map(etab, assignment, porteurs, highlight="PA-24-001")
    for text in (m.deck.to_json(), m.legend):
        assert not re.search(r"[a-z][a-z0-9+.-]*://|url\(|@import|//[a-z0-9-]+\.", text, re.I)
    spec = json.loads(m.deck.to_json())
    for layer in spec["layers"]:
        if layer["@@type"] == "TextLayer":
            # local font, glyphs built from the data (accents) rather than fetched
            assert layer["fontFamily"] == FONT_FAMILY and layer["characterSet"] == "auto"


def test_departement_and_town_names():
    _, etab, assignment, porteurs = setting()
    spec = json.loads(build_deck(etab, assignment, porteurs).to_json())
    layers = {layer["id"]: layer for layer in spec["layers"]}
    names = {rec["nom"] for rec in layers["noms_departements"]["data"]}
    assert names == {"Indre", "Indre-et-Loire", "Loiret"}
    towns = layers["villes"]["data"]
    assert {"Tours", "Orléans", "Châteauroux"} <= {rec["nom"] for rec in towns}
    assert 3 <= len(towns) <= 10
    xy = np.array([[rec["lon"], rec["lat"]] for rec in towns])
    km = np.hypot((xy[:, None, 0] - xy[None, :, 0]) * 111 * np.cos(np.radians(47)),
                  (xy[:, None, 1] - xy[None, :, 1]) * 111)
    np.fill_diagonal(km, np.inf)
    assert km.min() >= 14  # spread out: Joué-lès-Tours does not sit on Tours
    assert "Joué-lès-Tours" not in {rec["nom"] for rec in towns}
    labels = departement_labels(["37", "2A", "974", "99"])
    assert [lab["nom"] for lab in labels] == ["Corse-du-Sud", "Indre-et-Loire", "La Réunion"]
    reunion = labels[2]
    assert 55.2 < reunion["lon"] < 55.9 and -21.4 < reunion["lat"] < -20.8


def test_town_labels_take_each_departement_largest_first():
    towns = town_labels(["36", "37", "45"], count=3)
    assert [t["nom"] for t in towns] == ["Tours", "Orléans", "Châteauroux"]
    assert town_labels([], count=5) == []


def cielab(rgb: np.ndarray) -> np.ndarray:
    """sRGB (0-255) -> CIELAB (D65)."""
    c = rgb / 255.0
    c = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = c @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])],
                    axis=1)


def test_palette_is_large_distinct_and_never_grey():
    assert len(PALETTE) >= 20 and len(set(PALETTE)) == len(PALETTE)
    rgb = np.array(PALETTE, dtype=float)
    lab = cielab(rgb)
    d = np.sqrt(((lab[:, None, :] - lab[None, :, :]) ** 2).sum(axis=2))
    np.fill_diagonal(d, np.inf)
    assert d.min() >= 20  # ΔE76: every pair tells apart at a glance
    assert ((rgb.max(axis=1) - rgb.min(axis=1)) >= 40).all()  # saturated: not the unplaced grey


def test_isolated_marker_contrasts_with_every_grappe_colour():
    _, etab, assignment, porteurs = setting()
    spec = json.loads(build_deck(etab, assignment, porteurs).to_json())
    layers = {layer["id"]: layer for layer in spec["layers"]}
    rings = [np.array(layers[i]["getLineColor"][:3], dtype=float)
             for i in ("autonomes_isoles", "autonomes_isoles_halo")]
    assert not layers["autonomes_isoles"]["filled"]  # a ring: the dot's colour stays visible
    for colour in PALETTE:
        # the red ring (230, 0, 0) on orange (255, 127, 0) is only 130 apart
        assert max(np.linalg.norm(ring - np.array(colour)) for ring in rings) >= 150
    assert len(layers["autonomes_isoles"]["data"]) == 2  # the two autonomous EHPAD


def grid_of_grappes(n_side: int = 6, step_km: float = 7.0, seed: int = 1):
    """``n_side``² grappes of 4 ESMS on a grid, members spread ±3 km: neighbours overlap."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_side):
        for j in range(n_side):
            centre = (0.5 + i * step_km / 75.0, 47.0 + j * step_km / 111.0)
            rows += esms_rows(f"37{i}{j}00000", 4, centre, 1000 * (i * n_side + j) + 10,
                              spread_km=3.0)
    etab = make_etab(rows)
    rng.shuffle(rows)
    assignment = {et: f"PA-{ej[2:4]}" for et, ej in zip(etab["finess_et"], etab["finess_ej"],
                                                          strict=True)}
    return etab, assignment


def test_grappes_close_on_the_map_get_different_colours():
    etab, assignment = grid_of_grappes()
    points = map_points(etab, assignment)
    colour = {g: tuple(c[:3]) for g, c in zip(points["grappe_id"], points["color"],
                                              strict=True)}
    assert len(colour) == 36
    members = {g: points.loc[points["grappe_id"] == g, ["lon", "lat"]].to_numpy()
               for g in colour}
    close = 0
    for a in sorted(colour):
        for b in sorted(colour):
            if a < b:
                da = members[a][:, None, :] - members[b][None, :, :]
                km = np.hypot(da[..., 0] * 75.0, da[..., 1] * 111.0).min()
                if km <= 5.0:
                    close += 1
                    assert colour[a] != colour[b], (a, b, km)
    assert close > 36  # the grid does make many close pairs
    shuffled = etab.sample(frac=1.0, random_state=3).reset_index(drop=True)
    again = map_points(shuffled, dict(reversed(list(assignment.items()))))
    assert {g: tuple(c[:3]) for g, c in zip(again["grappe_id"], again["color"],
                                            strict=True)} == colour  # deterministic


def test_more_neighbours_than_colours_spreads_the_repeats():
    graph = nx.complete_graph([f"G{i:02d}" for i in range(2 * len(PALETTE))])
    colours = colour_graph(graph)
    used = pd.Series([colours[g] for g in graph.nodes]).value_counts()
    assert len(used) == len(PALETTE) and used.max() == 2
    apart = nx.empty_graph([f"G{i:02d}" for i in range(len(PALETTE))])
    assert len(set(colour_graph(apart).values())) == len(PALETTE)  # few grappes: all differ


def test_highlight_fits_and_outlines_one_grappe():
    r, etab, assignment, porteurs = setting()
    target = r.grappes[1]
    m = build_map(etab, assignment, porteurs, highlight=target.id, width=900, height=560)
    spec = json.loads(m.deck.to_json())
    layers = {layer["id"]: layer for layer in spec["layers"]}
    world = 512 * 2 ** m.view.zoom
    members = m.points[m.points["grappe_id"] == target.id]

    def pixels(lon, lat):
        y = np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))
        y0 = np.log(np.tan(np.pi / 4 + np.radians(m.view.latitude) / 2))
        return ((lon - m.view.longitude) / 360 * world, (y - y0) / (2 * np.pi) * world)

    px, py = pixels(members["lon"].to_numpy(), members["lat"].to_numpy())
    assert (np.abs(px) <= 450).all() and (np.abs(py) <= 280).all()  # all on screen
    assert max(np.abs(px).max() / 450, np.abs(py).max() / 280) > 0.5  # and zoomed in on it
    whole = build_map(etab, assignment, porteurs)
    assert m.view.zoom > whole.view.zoom + 1
    selected = layers["selection"]["data"]
    assert [rec["grappe"] for rec in selected] == [target.id]
    from shapely.geometry import Point, Polygon

    outline = Polygon(selected[0]["polygon"])
    assert all(outline.contains(Point(x, y)) for x, y in zip(members["lon"], members["lat"],
                                                            strict=True))
    alpha = {rec["finess_et"]: rec["color"][3] for rec in layers["grappes"]["data"]}
    assert {alpha[e] for e in target.esms} == {230}
    assert {alpha[e] for e in r.grappes[0].esms} == {70}  # the others are dimmed
    assert f"{target.id} (sélectionnée)" in m.legend
    unknown = build_map(etab, assignment, porteurs, highlight="PA-99-999")
    assert unknown.view.zoom == whole.view.zoom  # an unknown id is ignored
    # the wheel may zoom out to a little past the whole territory, never to blank space,
    # from the whole map as from a picked grappe
    same_size = build_map(etab, assignment, porteurs, width=900, height=560)
    for view in (same_size.view, m.view):
        assert view.min_zoom == pytest.approx(same_size.view.zoom - 1.0)
        assert view.max_zoom == 14.0 and view.min_zoom <= view.zoom <= view.max_zoom


def test_zoom_buttons_offline_and_panning_kept_on_the_territory():
    """Issue 20, item 6: Streamlit draws its zoom buttons only over a base map style, so the
    deck has one made in the page (a white background, nothing to fetch), and the view's
    ``maxBounds`` stops panning a little past the drawn territory."""
    import base64

    _, etab, assignment, porteurs = setting()
    m = build_map(etab, assignment, porteurs, highlight="PA-24-001")
    spec = json.loads(m.deck.to_json())
    style = spec["mapStyle"]
    assert style != "__MAP_STYLE__"  # Streamlit's « no style »: no zoom buttons
    head, _, payload = style.partition(",")
    assert head == "data:application/json;base64"
    assert json.loads(base64.b64decode(payload)) == OFFLINE_STYLE_JSON
    assert OFFLINE_STYLE_JSON["sources"] == {}  # no tiles
    assert not {"glyphs", "sprite"} & set(OFFLINE_STYLE_JSON)  # no fonts, no icons
    [[west, south], [east, north]] = spec["initialViewState"]["maxBounds"]
    lon, lat = m.points["lon"], m.points["lat"]
    assert west < lon.min() < lon.max() < east and south < lat.min() < lat.max() < north
    assert east - west < 12 and north - south < 8  # the three départements, not the world
    view = spec["initialViewState"]
    assert west <= view["longitude"] <= east and south <= view["latitude"] <= north


def test_legend_has_a_swatch_per_grappe_and_the_markers():
    _, etab, assignment, porteurs = setting()
    m = build_map(etab, assignment, porteurs, grappe_labels={"PA-24-001": "ASSO <TOURS>"})
    for gid, colour in m.colours.items():
        assert f"background:{css(colour)}" in m.legend and gid in m.legend
    assert "ASSO &lt;TOURS&gt;" in m.legend  # escaped
    for words in ("ESMS de l'OG porteur", "ESMS autonome isolé", "ESMS sans grappe",
                  "département"):
        assert words in m.legend
    assert "rouge" not in m.legend and "rouge" not in LEGEND_MARKDOWN


def test_all_fields_colour_by_field_and_single_field_by_grappe():
    r, etab, assignment, porteurs = setting()
    ph = make_etab(esms_rows("370000077", 3, (0.75, 47.35), 5000, champ="PH"))
    both = pd.concat([etab, ph], ignore_index=True)
    assignment = {**assignment, **{e: "PH-24-001" for e in ph["finess_et"]}}
    single = build_map(etab, assignment, porteurs, champs=["PA"])
    several = build_map(both, assignment, porteurs, highlight="PH-24-001")
    one = {layer["id"]: layer for layer in json.loads(single.deck.to_json())["layers"]}
    many = {layer["id"]: layer for layer in json.loads(several.deck.to_json())["layers"]}
    by_grappe = {rec["finess_et"]: rec["color"][:3] for rec in one["grappes"]["data"]}
    assert {tuple(by_grappe[e]) for e in r.grappes[0].esms} == {single.colours["PA-24-001"]}
    by_field = {rec["finess_et"]: (rec["champ"], tuple(rec["color"][:3]))
                for rec in many["grappes"]["data"]}
    assert {v for v in by_field.values()} == {("PA", FIELD_COLOURS["PA"]),
                                              ("PH", FIELD_COLOURS["PH"])}
    assert "personnes handicapées" in several.legend and "PA-24-001" not in several.legend
    assert many["grappes"]["getRadius"] < one["grappes"]["getRadius"]
    assert many["non_places"]["getRadius"] < one["non_places"]["getRadius"]
    assert [rec["nom"] for rec in many["noms_grappes"]["data"]] == ["PH-24-001"]
    assert one["noms_grappes"]["data"] == [] and one["enveloppes"]["data"] == []
    drawn = build_map(etab, assignment, porteurs, champs=["PA"], outlines=True)
    outlines = json.loads(drawn.deck.to_json())["layers"][LAYER_IDS.index("enveloppes")]
    assert [rec["grappe"] for rec in outlines["data"]] == ["PA-24-001", "PA-24-002"]


def test_view_fits_the_points():
    lon = np.array([0.5, 3.1, 1.2])
    lat = np.array([46.3, 48.9, 47.0])
    view = view_state(lon, lat, width_px=900, height_px=560)
    world = 512 * 2 ** view.zoom
    y = np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))
    assert (lon.max() - lon.min()) / 360 * world <= 900
    assert (y.max() - y.min()) / (2 * math.pi) * world <= 560
    assert (y.max() - y.min()) / (2 * math.pi) * world >= 0.8 * 560  # not needlessly small
    assert lon.min() < view.longitude < lon.max()
    empty = view_state(np.array([np.nan]), np.array([np.nan]))
    assert 4 < empty.zoom < 6


def test_legend_lists_every_grappe_in_a_scrolling_box():
    """Issue 20: the legend showed a few grappes of 25; now every one, in a box that scrolls."""
    from grappes.ui.mapcolours import LEGEND_SCROLL, legend_html

    colours = {f"PA-24-{i:03d}": (i * 3 % 255, 100, 200) for i in range(1, 61)}
    legend = legend_html(colours, {"PA-24-060": "CCAS DE DUN"})
    assert all(gid in legend for gid in colours)
    assert "PA-24-060 · CCAS DE DUN" in legend and "autres grappes" not in legend
    assert LEGEND_SCROLL in legend and "overflow-y:auto" in LEGEND_SCROLL
    assert "(60 ;" in legend


@pytest.mark.parametrize(("departement", "where"), [
    ("974", (55.45, -20.88)),   # a few ESMS around Saint-Denis (La Réunion)
    ("976", (45.23, -12.78)),   # Mamoudzou (Mayotte)
    ("2A", (8.74, 41.92)),      # Ajaccio (Corse-du-Sud)
])
def test_a_small_overseas_or_corsican_upload_is_framed_on_its_whole_territory(departement,
                                                                                where):
    """Issue 20: an upload from La Réunion showed a few towns and a fragment of coastline.
    The view now frames the whole island (every corner of its boundary on screen)."""
    from shapely.geometry import shape

    from grappes.ui.mapview import boundaries_for

    etab = make_etab(esms_rows("970000001", 4, where, 1, departement=departement,
                               spread_km=2.0))
    m = build_map(etab, {}, {}, width=900, height=560)
    world = 512 * 2 ** m.view.zoom
    y0 = np.log(np.tan(np.pi / 4 + np.radians(m.view.latitude) / 2))
    for feature in boundaries_for([departement])["features"]:
        lo0, la0, lo1, la1 = shape(feature["geometry"]).bounds
        for lon, lat in ((lo0, la0), (lo1, la1)):
            x = (lon - m.view.longitude) / 360 * world
            y = (np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)) - y0) / (2 * np.pi) * world
            assert abs(x) <= 450 and abs(y) <= 280, (departement, lon, lat)
    assert m.view.zoom >= 7  # and still the island, not the ocean
