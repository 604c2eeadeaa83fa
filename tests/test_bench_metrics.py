"""The benchmark's evaluation counts rule violations, placed ESMS, points and distances right.

No peer solver runs here (too slow for the suite): groupings are written by hand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.metrics import (
    Evaluation,
    evaluate,
    format_violations,
    markdown_table,
    member_distances_km,
    og_split_count,
)
from bench.peers import eligible_esms, kmeans_clusters, og_units
from grappes.core.model import ETAB_COLUMNS, GroupingRules
from grappes.geo.distances import centre, haversine_km

RULES = GroupingRules()  # 15 to 49 ESMS, at least 2 OGs of small OGs, points 3 / 2 / 2


def _esms(
    og: str,
    n: int,
    *,
    lon: float = 1.0,
    lat: float = 47.0,
    departement: str = "45",
    region: str = "24",
    vendor: str = "",
    statut: str = "aucun",
    og_nb_esms: int | None = None,
    champ: str = "PA",
    start: int = 0,
) -> list[dict]:
    """``n`` ESMS of OG ``og`` at one point (FINESS ET = og + number)."""
    size = n if og_nb_esms is None else og_nb_esms
    return [
        {
            "finess_et": f"{og}{start + i:03d}",
            "finess_ej": og,
            "champ": champ,
            "departement": departement,
            "region": region,
            "derogatoire": False,
            "lon": lon,
            "lat": lat,
            "dui_editeur": vendor,
            "dui_statut": statut,
            "deja_finance": False,
            "og_nb_esms": size,
            "og_typologie": "petit" if size < 15 else "moyen",
            "autonome": size == 1,
        }
        for i in range(n)
    ]


def _table(rows: list[dict]) -> pd.DataFrame:
    """Normalised establishments table from partial rows (missing columns NA)."""
    df = pd.DataFrame(rows)
    for col, (dtype, _) in ETAB_COLUMNS.items():
        if col not in df:
            df[col] = pd.Series([0 if dtype == "int64" else None] * len(df), dtype=dtype)
    df = df[list(ETAB_COLUMNS)]
    df["ligne"] = np.arange(1, len(df) + 1)
    return df.astype({c: d for c, (d, _) in ETAB_COLUMNS.items()})


@pytest.fixture
def instance() -> tuple[pd.DataFrame, pd.Series]:
    """Five groups, one of them valid, one OG split; ESMS ids are 'OGnnn'."""
    rows = (
        # g1: valid, 8 + 8 ESMS of two small OGs in two départements, symmetric around lon 0
        _esms("A", 8, lon=-0.5, lat=45.0, departement="45")
        + _esms("B", 8, lon=0.5, lat=45.0, departement="41")
        # g2: two conformant vendors (conflict), 8 + 8 ESMS
        + _esms("C", 8, lon=3.0, lat=47.0, vendor="Alpha", statut="conforme")
        + _esms("D", 8, lon=3.1, lat=47.0, vendor="Beta", statut="conforme")
        # g3: too small: 5 ESMS + an autonomous ESMS + 2 of OG G's 4 ESMS
        + _esms("F", 5, lon=2.0, lat=48.0)
        + _esms("H", 1, lon=2.0, lat=48.1)
        + _esms("G", 4, lon=2.1, lat=48.0)
        # g4: too big for the nominal size: two medium OGs, 30 + 20 = 50 ESMS (one OG of 50
        # alone would be valid: the documents cap the funding, not the project)
        + _esms("M", 30, lon=1.0, lat=46.0)
        + _esms("N", 20, lon=1.0, lat=46.0)
        # g5: valid, a small OG of 14 ESMS + an autonomous ESMS (15 ESMS, 2 OGs)
        + _esms("P", 14, lon=1.5, lat=46.5)
        + _esms("Q", 1, lon=1.5, lat=46.6)
        # left out entirely
        + _esms("Z", 3, lon=0.0, lat=44.0)
    )
    etab = _table(rows)
    group = {"A": "g1", "B": "g1", "C": "g2", "D": "g2", "F": "g3", "H": "g3", "M": "g4", "N": "g4"}
    group |= {"P": "g5", "Q": "g5"}
    labels = etab["finess_ej"].map(group).fillna("")
    labels[etab["finess_et"].isin(["G000", "G001"])] = "g3"
    assignment = pd.Series(labels.to_numpy(), index=etab["finess_et"].to_numpy())
    return etab, assignment


def test_counts_valid_grappes_and_violations_by_rule(instance):
    etab, assignment = instance
    e = evaluate(etab, assignment, RULES, "PA", instance="t", method="m", upper_bound=40)
    assert e.n_groups == 5
    assert e.valid_grappes == 2  # g1 and g5
    assert e.invalid_groups == 3
    # g2 vendor conflict; g3 too small and OG G split (2 of its 4 ESMS outside); g4 too big
    assert e.violations == {"trop_peu_esms": 1, "trop_esms": 1, "dui_multiple": 1, "og_scinde": 1}
    assert e.n_violations == 4
    assert e.og_split == 1  # only G; Z is wholly left out, which is no split
    # small-OG ESMS placed in valid grappes: g1 16 + g5 15; M (50 ESMS) is not small
    assert e.esms_small_og_placed == 31
    assert e.esms_placed == 31
    assert e.esms == len(etab) == 16 + 16 + 10 + 50 + 15 + 3
    assert e.esms_small_og == len(etab) - 50
    assert e.share_of_bound == pytest.approx(31 / 40)
    # points of valid grappes: g1 = 2 OGs (2) + 2 départements (2); g5 = 2 OGs + autonomous (3)
    assert e.points == 4 + 5
    assert "conflit éditeur 1" in format_violations(e)


def test_distances_to_the_spherical_centre(instance):
    etab, assignment = instance
    e = evaluate(etab, assignment, RULES, "PA")
    # g1: every member is half the A-B great-circle distance from the centre
    half_ab = float(haversine_km(-0.5, 45.0, 0.5, 45.0)) / 2
    labels = pd.Series(assignment.reindex(etab["finess_et"]).to_numpy(), index=etab.index)
    dist = member_distances_km(etab, labels)
    g1 = labels == "g1"
    assert np.allclose(dist[g1], half_ab, rtol=1e-9)
    # g5 agrees with grappes.geo.distances.centre + haversine_km computed independently
    g5 = etab[labels == "g5"]
    c_lon, c_lat = centre(g5["lon"], g5["lat"])
    expected = haversine_km(g5["lon"], g5["lat"], c_lon, c_lat)
    assert np.allclose(dist[labels == "g5"], expected)
    # the reported mean and max cover the valid grappes only
    valid = dist[labels.isin(["g1", "g5"])]
    assert e.mean_km == pytest.approx(valid.mean())
    assert e.max_km == pytest.approx(valid.max())
    assert e.max_km_all == pytest.approx(dist.max())  # invalid groups included
    assert dist[labels == ""].isna().all()


def test_numeric_labels_and_missing_values_are_read_as_groups(instance):
    etab, _ = instance
    # one group of everything but Z, labelled 7 (a k-means style int label), Z as NA
    labels = pd.Series([7.0] * len(etab), index=etab.index)
    labels[etab["finess_ej"] == "Z"] = np.nan
    e = evaluate(etab, labels, RULES, "PA")
    assert e.n_groups == 1
    assert e.valid_grappes == 0
    assert "trop_esms" in e.violations and "dui_multiple" in e.violations
    assert e.esms_small_og_placed == 0


def test_nothing_placed():
    etab = _table(_esms("A", 3))
    e = evaluate(etab, pd.Series("", index=etab["finess_et"]), RULES, "PA", upper_bound=0)
    assert (e.n_groups, e.valid_grappes, e.points, e.og_split) == (0, 0, 0, 0)
    assert np.isnan(e.mean_km)
    assert e.share_of_bound == 1.0


def test_missing_column_is_a_clear_error():
    etab = _table(_esms("A", 3)).drop(columns=["lon"])
    with pytest.raises(ValueError, match="lon"):
        evaluate(etab, pd.Series(["g"] * 3, index=etab.index), RULES)


def test_og_split_counts_each_og_once():
    etab = _table(_esms("A", 4) + _esms("B", 2))
    labels = pd.Series(["x", "y", "z", "", "w", "w"], index=etab.index, dtype="string")
    assert og_split_count(etab, labels) == 1


def test_eligible_esms_and_og_units():
    rows = (
        _esms("A", 3, lon=1.0, lat=47.0, region="24")
        + _esms("A", 1, lon=2.0, lat=48.0, region="11", start=3)
        + _esms("B", 2, champ="PH")
        + _esms("C", 2)
    )
    etab = _table(rows)
    etab.loc[etab["finess_et"] == "C000", "deja_finance"] = True
    etab.loc[etab["finess_et"] == "C001", "lon"] = np.nan
    inst = eligible_esms(etab, RULES, "PA")
    assert list(inst["finess_et"]) == ["A000", "A001", "A002", "A003"]
    units = og_units(inst)
    assert list(units.index) == ["A"]
    assert units.loc["A", "n_esms"] == 4
    assert units.loc["A", "region"] == "24"  # where most of its ESMS are
    assert 1.0 < units.loc["A", "lon"] < 2.0
    with pytest.raises(ValueError, match="PX"):
        eligible_esms(etab, RULES, "PX")


@pytest.mark.parametrize(
    ("n", "expected"), [(14, 0), (15, 1), (23, 1), (29, 1), (44, 2), (45, 3), (100, 5)]
)
def test_kmeans_cluster_count_stays_feasible(n, expected):
    k = kmeans_clusters(n, 15)
    assert k == expected
    if k:
        assert 15 * k <= n <= 30 * k


def test_markdown_table_escapes_pipes():
    text = markdown_table(["a", "b"], [["x|y", "1"]])
    assert text.splitlines() == ["| a | b |", "|---|---|", "| x\\|y | 1 |"]


def test_evaluation_share_without_bound():
    assert Evaluation("i", "m").share_of_bound is None
