"""The compatibility graph: neighbours from the ball tree, weights, vendors, known links."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from solver_factories import make_etab, og_rows, random_region

from grappes.core.model import GroupingRules
from grappes.geo.distances import pairwise_km
from grappes.ingest.links import read_links
from grappes.solver.graph import (
    GraphWeights,
    build_graph,
    compatibility_graph,
    unit_edges,
    vendor_relation,
)
from grappes.solver.units import build_units, prepare_esms

RULES = GroupingRules()


def units_of(etab: pd.DataFrame, champ: str = "PA"):
    esms, _ = prepare_esms(etab, RULES, (champ,))
    return build_units(esms, RULES, champ)


def test_edges_match_brute_force_pairs_within_reach() -> None:
    etab = random_region(n_og=80, seed=3, size_km=200, champs=("PA",))
    units = units_of(etab)
    weights = GraphWeights(max_km=30.0)
    edges = unit_edges(units, weights)
    d = pairwise_km(units.lon, units.lat)
    expected = {
        (a, b) for a in range(len(units)) for b in range(a + 1, len(units)) if d[a, b] <= 60
    }
    got = set(zip(edges["a"], edges["b"], strict=True))
    assert got == expected
    np.testing.assert_allclose(edges["km"], d[edges["a"], edges["b"]], atol=1e-6)
    assert (edges["weight"] >= edges["km"] - 1e-9).all()  # no link bonus here


def test_weights_combine_distance_status_size_and_vendor() -> None:
    rows = og_rows("110000001", 2, statut_agrege="public")
    rows += og_rows("110000002", 2, x=10.0, statut_agrege="public")
    rows += og_rows("110000003", 8, x=10.0, y=5.0, statut_agrege="prive_commercial")
    units = units_of(make_etab(rows))
    w = GraphWeights(km=1.0, statut=5.0, size=3.0, vendor_change=8.0, link=15.0)
    edges = unit_edges(units, w).set_index(["a", "b"])
    same = edges.loc[(0, 1)]
    assert same["same_statut"] and same["weight"] == pytest.approx(same["km"])
    other = edges.loc[(0, 2)]
    expected = other["km"] + 5.0 + 3.0 * np.log(8 / 2)
    assert other["weight"] == pytest.approx(expected)
    links = pd.DataFrame({"finess_ej_a": ["110000001"], "finess_ej_b": ["110000002"]})
    linked = unit_edges(units, w, links).set_index(["a", "b"]).loc[(0, 1)]
    assert linked["link"] and linked["weight"] == pytest.approx(max(same["km"] - 15.0, 0.0))


def test_vendor_relations() -> None:
    rows = og_rows("110000001", 1, dui_editeur="Alpha", dui_statut="conforme")
    rows += og_rows("110000002", 1, dui_editeur="alpha ", dui_statut="a_mettre_a_niveau")
    rows += og_rows("110000003", 1, dui_editeur="Beta", dui_statut="conforme")
    rows += og_rows("110000004", 1)
    rows += og_rows("110000005", 1, dui_editeur="Vieux", dui_statut="non_conforme")
    units = units_of(make_etab(rows))
    rel = vendor_relation(units, np.array([0, 0, 0, 0, 2]), np.array([1, 2, 3, 4, 4]))
    # same vendor (case and spaces ignored), conflict, no DUI, change for a non-conformant
    assert rel.tolist() == ["meme", "conflit", "libre", "changement", "changement"]
    edges = unit_edges(units).set_index(["a", "b"])
    assert not edges.loc[(0, 2), "compatible"]
    assert edges.loc[(0, 4), "weight"] == pytest.approx(edges.loc[(0, 4), "km"] + 8.0)


def test_networkx_graph_has_og_and_esms_nodes() -> None:
    rows = og_rows("110000001", 3) + og_rows("110000002", 2, x=5.0)
    rows += og_rows("110000003", 1, x=500.0)
    graph = compatibility_graph(make_etab(rows), "PA", RULES)
    assert isinstance(graph, nx.Graph)
    ogs = [n for n, d in graph.nodes(data=True) if d["kind"] == "og"]
    esms = [n for n, d in graph.nodes(data=True) if d["kind"] == "esms"]
    assert len(ogs) == 3 and len(esms) == 6
    assert graph.has_edge("og:110000001", "og:110000002")
    assert graph.edges["og:110000001", "og:110000002"]["kind"] == "compat"
    assert graph.degree("og:110000003") == 1  # only its own ESMS: 500 km from the others
    path = nx.shortest_path(graph, "esms:110001000", "esms:110002001", weight="weight")
    assert path[1] == "og:110000001" and path[-2] == "og:110000002"


def test_build_graph_without_esms_nodes() -> None:
    units = units_of(random_region(n_og=20, seed=1, size_km=50, champs=("PA",)))
    graph = build_graph(units, with_esms=False)
    assert graph.number_of_nodes() == len(units)
    assert graph.graph["champ"] == "PA"


def test_read_links_file(tmp_path) -> None:
    path = tmp_path / "liens.csv"
    path.write_text(
        "finess_ej_a;finess_ej_b\n370000002;370000001\n370000001;370000002\n\n",
        encoding="utf-8-sig",
    )
    links = read_links(path)
    assert links.to_dict("records") == [{"finess_ej_a": "370000001", "finess_ej_b": "370000002"}]
    comma = read_links(b"finess_ej_b,finess_ej_a\n2A0000001,370000001\n")
    assert comma.iloc[0].tolist() == ["2A0000001", "370000001"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "vide"),
        (b"a;b\n1;2\n", "ligne 1 : colonne finess_ej_a manquante"),
        (b"finess_ej_a;finess_ej_b\n370000001;XYZ\n", "ligne 2, champ finess_ej_b"),
        (b"finess_ej_a;finess_ej_b\n370000001\n", "ligne 2 : colonne finess_ej_b manquante"),
    ],
)
def test_read_links_errors_name_line_and_field(content: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        read_links(content)


def test_graph_weights_reject_negative_values() -> None:
    with pytest.raises(ValueError, match=r"GraphWeights\.km"):
        GraphWeights(km=-1.0)
    with pytest.raises(ValueError, match="max_km"):
        GraphWeights(max_km=0.0)
