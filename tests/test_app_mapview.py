"""The proposal map: layers, colours, porteurs, isolated ESMS, no base map, tooltips."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
from test_app_factory import region

from matching.ui.mapview import (
    LAYER_IDS,
    NO_BASE_MAP,
    POINT_FIELDS,
    UNPLACED_COLOUR,
    build_deck,
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
    assert "mapProvider" not in spec and spec["mapStyle"] == NO_BASE_MAP
    assert "http" not in deck.to_json()
    assert [layer["id"] for layer in spec["layers"]] == list(LAYER_IDS)
    for layer in spec["layers"][1:]:
        # a constant, not a deck.gl expression ("@@=pixels" would be read as a field)
        assert layer["radiusUnits"] == "pixels" and layer["pickable"]
        for record in layer["data"]:
            assert set(record) == set(POINT_FIELDS)
    deps = {f["properties"]["code"] for f in spec["layers"][0]["data"]["features"]}
    assert deps == {"36", "37", "45"}
    tooltip = deck._tooltip  # Streamlit sends it beside the spec
    assert all(f"{{{field}}}" in tooltip["html"] for field in ("nom", "grappe", "finess_et"))
    porteur_layer = next(layer for layer in spec["layers"] if layer["id"] == "porteurs")
    assert len(porteur_layer["data"]) == 9  # 5 ESMS of 370000011 + 4 of 450000020


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
