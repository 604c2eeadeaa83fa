"""GeoPackage export: layers, CRS (EPSG:4326, Lambert-93), counts, attributes, read back."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point
from test_app_factory import esms_rows, make_etab, region
from test_propose_cli import template_csv
from typer.testing import CliRunner

from grappes.cli.main import app
from grappes.core.model import Grappe
from grappes.exports.gis import (
    GRAPPE_COLUMNS,
    LAYERS,
    GisError,
    GrappeBilan,
    gpkg_bytes,
    legal_epsg,
    write_gpkg,
)
from grappes.programme.costing import cost_grappe


def setting():
    """The factory region (2 grappes, 6 ESMS in none), a third one-member grappe (the lone
    EHPAD near Châteauroux), one ESMS without coordinates, and costed bilans."""
    r = region()
    etab = r.etab.copy()
    lost = etab.iloc[[0]].copy()
    lost["finess_et"] = "370888888"
    lost["lon"] = np.nan
    lost["lat"] = np.nan
    etab = pd.concat([etab, lost], ignore_index=True)
    lone = Grappe(id="PA-24-003", champ="PA", og=["360000077"], esms=[r.far_isolated],
                  departements=["36"], regions=["24"], porteur="360000077")
    grappes = [*r.grappes, lone]
    bilans = {}
    for g in r.grappes:
        rows = etab[etab["finess_et"].isin(g.esms)]
        bilans[g.id] = GrappeBilan(cost_grappe(rows, r.rules, porteur=g.porteur).total, True)
    bilans["PA-24-003"] = GrappeBilan(None, False)
    raisons = {r.isolated: "OG trop petit, aucun partenaire à moins de 30 km"}
    return r, etab, grappes, bilans, raisons


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    r, etab, grappes, bilans, raisons = setting()
    path = write_gpkg(tmp_path_factory.mktemp("sig") / "grappes.gpkg", etab, grappes, bilans,
                      raisons)
    layers = {name: gpd.read_file(path, layer=name) for name in LAYERS}
    return r, etab, grappes, bilans, raisons, path, layers


def test_layers_crs_and_counts(written):
    _, etab, grappes, _, _, path, layers = written
    assert [name for name, _ in pyogrio.list_layers(path)] == list(LAYERS)
    for layer in layers.values():
        assert layer.crs.to_epsg() == 4326
    placed = {e for g in grappes for e in g.esms}
    assert len(layers["esms"]) == len(etab)
    assert len(layers["grappes"]) == len(grappes)
    assert len(layers["esms_sans_grappe"]) == len(etab) - len(placed)
    assert set(layers["esms_sans_grappe"]["finess_et"]) == set(etab["finess_et"]) - placed
    geom = dict(pyogrio.list_layers(path))
    assert geom == {"esms": "Point", "grappes": "Polygon", "esms_sans_grappe": "Point"}


def test_esms_attributes_in_french(written):
    r, etab, grappes, _, raisons, _, layers = written
    esms = layers["esms"].set_index("finess_et")
    for col in ("grappe", "porteur_grappe", "finess_ej", "nom", "nom_og", "champ", "commune_nom",
                "departement", "longitude", "latitude", "editeur_dui", "statut_dui",
                "source_coordonnees", "typologie_og", "autonome", "motif"):
        assert col in esms.columns, col
    for english in ("lon", "lat", "coord_source", "dui_editeur", "reason", "raison_sociale"):
        assert english not in esms.columns
    one = grappes[0]
    assert (esms.loc[one.esms, "grappe"] == one.id).all()
    porteur_rows = esms.loc[one.esms]
    assert set(porteur_rows.loc[porteur_rows["porteur_grappe"] == "oui", "finess_ej"]) == {
        one.porteur}
    assert esms.loc[r.isolated, "grappe"] in ("", None)
    assert esms.loc[r.isolated, "motif"] == raisons[r.isolated]
    assert esms.loc[r.isolated, "autonome"] == "oui"
    assert esms.loc["370888888", "motif"] == "motif non précisé"  # no reason given: said so
    assert esms.loc["370888888"].geometry is None  # no coordinates: kept, no point
    first = etab.iloc[0]
    assert esms.loc[first["finess_et"]].geometry.equals_exact(
        Point(first["lon"], first["lat"]), 1e-9)
    sans = layers["esms_sans_grappe"].set_index("finess_et")
    assert sans.loc[r.isolated, "motif"] == raisons[r.isolated]


def test_grappe_polygons_and_attributes(written):
    _, _, grappes, bilans, _, _, layers = written
    polys = layers["grappes"].set_index("grappe")
    assert [c for c in GRAPPE_COLUMNS if c != "grappe"] == [
        c for c in polys.columns if c != "geometry"]
    pts = layers["esms"].set_index("finess_et")
    for g in grappes:
        row = polys.loc[g.id]
        assert row["nb_esms"] == len(g.esms) and row["nb_og"] == len(g.og)
        assert row["porteur"] == g.porteur and row["champ"] == g.champ
        assert row.geometry.geom_type == "Polygon" and row.geometry.area > 0
        assert all(row.geometry.contains(p) for p in pts.loc[g.esms].geometry)
    first = grappes[0]
    assert polys.loc[first.id, "financement_total"] == pytest.approx(bilans[first.id].total)
    assert polys.loc[first.id, "porteur_nom"] == "ASSOCIATION FICTIVE 370000011"
    assert polys.loc[first.id, "valide"] == "oui"
    assert polys.loc["PA-24-003", "valide"] == "non"
    assert math.isnan(polys.loc["PA-24-003", "financement_total"])


def test_lambert93_option_in_metres(tmp_path):
    _, etab, grappes, bilans, raisons = setting()
    path = write_gpkg(tmp_path / "l93.gpkg", etab, grappes, bilans, raisons, epsg=2154,
                      marge_m=1000)
    layers = {name: gpd.read_file(path, layer=name) for name in LAYERS}
    for layer in layers.values():
        assert layer.crs.to_epsg() == 2154
    x0, y0, x1, y1 = layers["esms"].total_bounds
    assert 300_000 < x0 < x1 < 800_000 and 6_500_000 < y0 < y1 < 6_900_000  # Centre-Val de Loire
    lone = layers["grappes"].set_index("grappe").loc["PA-24-003"].geometry
    assert lone.area == pytest.approx(math.pi * 1000**2, rel=0.02)  # a 1 km disc around one ESMS
    assert len(layers["esms"]) == len(etab)


def test_lambert93_refused_overseas_with_a_french_message(tmp_path):
    rows = esms_rows("970000001", 3, (55.45, -20.9), 100, departement="974")
    etab = make_etab(rows)
    with pytest.raises(GisError, match=r"Lambert-93.*974 : EPSG:2975"):
        write_gpkg(tmp_path / "x.gpkg", etab, [], {}, epsg=2154)
    assert legal_epsg(["974"]) == 2975 and legal_epsg(["37", "45"]) == 2154
    path = write_gpkg(tmp_path / "reunion.gpkg", etab, [], {}, epsg=legal_epsg(["974"]))
    assert gpd.read_file(path, layer="esms").crs.to_epsg() == 2975
    with pytest.raises(GisError, match="EPSG:4326"):
        legal_epsg(["37", "974"])


def test_bytes_for_a_download(tmp_path):
    _, etab, grappes, bilans, raisons = setting()
    data = gpkg_bytes(etab, grappes, bilans, raisons)
    assert data.startswith(b"SQLite format 3\x00")
    path = tmp_path / "t.gpkg"
    path.write_bytes(data)
    assert len(gpd.read_file(path, layer="grappes")) == len(grappes)


def test_missing_coordinates_column_is_a_french_error():
    _, etab, grappes, bilans, _ = setting()
    with pytest.raises(GisError, match="colonne lon absente"):
        gpkg_bytes(etab.drop(columns=["lon"]), grappes, bilans)


def test_cli_propose_writes_the_geopackage(tmp_path):
    src = tmp_path / "etablissements.csv"
    template_csv(src)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["proposer", str(src), "--sortie", str(out), "--gpkg",
                                      "--limite-temps", "2"])
    assert result.exit_code == 0, result.output
    path = out / "grappes.gpkg"
    assert "grappes.gpkg" in result.output.replace("\n", "")
    grappes = gpd.read_file(path, layer="grappes")
    assert len(grappes) == 1 and grappes.loc[0, "nb_esms"] == 16
    assert grappes.loc[0, "valide"] == "oui" and grappes.loc[0, "financement_total"] > 0
    assert len(gpd.read_file(path, layer="esms")) == 16
    assert len(gpd.read_file(path, layer="esms_sans_grappe")) == 0
    refused = CliRunner().invoke(app, ["proposer", str(src), "--gpkg"])
    assert refused.exit_code == 2 and "--gpkg demande --sortie" in refused.output
