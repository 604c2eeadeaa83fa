"""Tests of grappes.geo.territories: FINESS to INSEE codes, commune resolution, départements
and régions."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from grappes.geo.distances import haversine_km
from grappes.geo.territories import (
    Commune,
    Territoires,
    departement_boundaries,
    finess_commune_to_insee,
    finess_communes_to_insee,
    finess_departement_to_insee,
    get_territoires,
    is_derogatoire,
    region_boundaries,
)


@pytest.fixture(scope="module")
def territoires() -> Territoires:
    return get_territoires()


@pytest.mark.parametrize(
    ("dep", "expected"),
    [
        ("01", "01"),
        ("95", "95"),
        ("2A", "2A"),
        ("2b", "2B"),
        ("9A", "971"),
        ("9B", "972"),
        ("9C", "973"),
        ("9D", "974"),
        ("9E", "975"),
        ("9F", "976"),
        ("9J", "986"),
        ("974", "974"),
        (" 1 ", "01"),
        ("96", ""),
        ("9G", ""),
        ("", ""),
        (None, ""),
        ("ZZ", ""),
    ],
)
def test_finess_departement_to_insee(dep, expected: str) -> None:
    assert finess_departement_to_insee(dep) == expected


@pytest.mark.parametrize(
    ("dep", "commune", "expected"),
    [
        ("01", "451", "01451"),  # Viriat (CH Fleyriat)
        ("2A", "004", "2A004"),  # Ajaccio
        ("2B", "033", "2B033"),  # Bastia
        ("75", "112", "75112"),  # Paris 12e
        ("9A", "123", "97701"),  # Saint-Barthélemy, old code remapped
        ("9A", "127", "97801"),  # Saint-Martin, old code remapped
        ("9B", "209", "97209"),  # Fort-de-France
        ("9C", "302", "97302"),  # Cayenne
        ("9D", "411", "97411"),  # Saint-Denis
        ("9F", "606", "97606"),  # Chirongui
        ("9J", "613", "98613"),  # Uvéa
        ("01", "53", "01053"),  # leading zero eaten by a spreadsheet
        ("01", "01451", "01451"),  # full code in the commune field
        ("9D", "123", ""),  # 974 + 123 would be another territory
        ("ZZ", "451", ""),
        ("01", "", ""),
        ("01", "4X1", ""),
        (None, None, ""),
    ],
)
def test_finess_commune_to_insee(dep, commune, expected: str) -> None:
    assert finess_commune_to_insee(dep, commune) == expected


def test_finess_communes_to_insee_is_vectorised_and_keeps_index() -> None:
    deps = pd.Series(["01", "9A", None, "9D"], index=[10, 11, 12, 13])
    communes = pd.Series(["451", "127", "451", "411"], index=[10, 11, 12, 13])
    out = finess_communes_to_insee(deps, communes)
    assert out.index.tolist() == [10, 11, 12, 13]
    assert out.tolist() == ["01451", "97801", "", "97411"]


@pytest.mark.parametrize(
    ("dep", "expected"),
    [
        ("2A", True),
        ("2B", True),
        ("971", True),
        ("972", True),
        ("973", True),
        ("974", True),
        ("975", True),
        ("976", True),
        ("977", True),
        ("978", True),
        ("986", True),
        ("987", True),
        ("988", True),
        ("9A", True),
        ("9J", True),
        ("20", True),
        ("01", False),
        ("75", False),
        ("13", False),
        ("95", False),
        ("", False),
    ],
)
def test_is_derogatoire(dep: str, expected: bool) -> None:
    assert is_derogatoire(dep) is expected


@pytest.mark.parametrize(
    ("code", "canonical", "nom", "departement", "region"),
    [
        ("01451", "01451", "Viriat", "01", "84"),
        ("2A004", "2A004", "Ajaccio", "2A", "94"),
        ("2B033", "2B033", "Bastia", "2B", "94"),
        ("75112", "75112", "Paris 12e Arrondissement", "75", "11"),
        ("97411", "97411", "Saint-Denis", "974", "04"),
        ("97123", "97701", "Saint-Barthélemy", "977", "01"),
        ("97127", "97801", "Saint-Martin", "978", "01"),
        ("97502", "97502", "Saint-Pierre", "975", "975"),
        # Équeurdreville-Hainneville, commune déléguée of Cherbourg-en-Cotentin since 2016.
        ("50173", "50129", "Cherbourg-en-Cotentin", "50", "28"),
        (" 1451", "01451", "Viriat", "01", "84"),
    ],
)
def test_commune_resolves_aliases(territoires, code, canonical, nom, departement, region):
    commune = territoires.commune(code)
    assert isinstance(commune, Commune)
    assert (commune.code, commune.nom, commune.departement, commune.region) == (
        canonical,
        nom,
        departement,
        region,
    )
    assert math.isfinite(commune.lon) and math.isfinite(commune.lat)


@pytest.mark.parametrize("code", ["99999", "", None, "ABCDE", "13055SR01"])
def test_commune_unknown_gives_none(territoires, code) -> None:
    assert territoires.commune(code) is None


def test_resolve_communes(territoires) -> None:
    codes = pd.Series(
        ["01451", "75112", "97123", "50173", "99999", None, "2a004"],
        index=["a", "b", "c", "d", "e", "f", "g"],
    )
    out = territoires.resolve_communes(codes)
    assert out.index.tolist() == codes.index.tolist()
    assert list(out.columns) == [
        "commune",
        "commune_nom",
        "departement",
        "region",
        "lon",
        "lat",
        "connue",
    ]
    assert out["commune"].tolist() == ["01451", "75112", "97701", "50129", "", "", "2A004"]
    assert out["departement"].tolist() == ["01", "75", "977", "50", "", "", "2A"]
    assert out["region"].tolist() == ["84", "11", "01", "28", "", "", "94"]
    assert out["connue"].tolist() == [True, True, True, True, False, False, True]
    assert out.loc[["e", "f"], ["lon", "lat"]].isna().all().all()
    # A commune déléguée keeps its own centroid: it is closer to establishments filed there.
    own = territoires.communes.loc["50173"]
    assert (out.at["d", "lon"], out.at["d", "lat"]) == (own["lon"], own["lat"])
    assert out.at["d", "commune_nom"] == "Cherbourg-en-Cotentin"


def test_fleyriat_lies_near_its_commune_centroid(territoires) -> None:
    viriat = territoires.commune(finess_commune_to_insee("01", "451"))
    assert viriat is not None
    assert float(haversine_km(viriat.lon, viriat.lat, 5.20918, 46.22229)) < 5


def test_centre_val_de_loire(territoires) -> None:
    assert territoires.departements_of_region("24") == ["18", "28", "36", "37", "41", "45"]
    assert territoires.region_nom("24") == "Centre-Val de Loire"
    for dep in ["18", "28", "36", "37", "41", "45"]:
        assert territoires.region_of_departement(dep) == "24"
    assert territoires.departement_nom("45") == "Loiret"
    assert territoires.departement_nom("9D") == "La Réunion"
    assert territoires.departements_of_region("94") == ["2A", "2B"]
    assert territoires.departements_of_region("01") == ["971", "977", "978"]
    assert territoires.departements_of_region("99") == []
    assert territoires.departement_nom("00") == ""
    assert territoires.region_nom("") == ""


def test_load_from_another_folder_and_missing_folder(tmp_path, territoires) -> None:
    territoires.communes.head(3).reset_index().to_csv(
        tmp_path / "communes.csv.gz", sep=";", index=False, encoding="utf-8-sig"
    )
    territoires.departements.reset_index().to_csv(
        tmp_path / "departements.csv", sep=";", index=False
    )
    territoires.regions.reset_index().to_csv(tmp_path / "regions.csv", sep=";", index=False)
    small = Territoires.load(tmp_path)
    assert len(small.communes) == 3
    assert small.commune("01001") is not None
    assert small.commune("01451") is None
    with pytest.raises(FileNotFoundError, match="introuvable"):
        Territoires.load(tmp_path / "absent")


def test_boundaries(territoires) -> None:
    deps = departement_boundaries()
    regs = region_boundaries()
    assert deps["type"] == regs["type"] == "FeatureCollection"
    dep_codes = {f["properties"]["code"] for f in deps["features"]}
    reg_codes = {f["properties"]["code"] for f in regs["features"]}
    assert {"01", "2A", "2B", "75", "971", "974", "976"} <= dep_codes
    assert len(dep_codes) == 101
    assert {"11", "24", "94", "01", "04", "06"} <= reg_codes
    for feature in deps["features"]:
        props = feature["properties"]
        assert props["region"] == territoires.departements.at[props["code"], "region"]
        assert props["nom"] == territoires.departements.at[props["code"], "nom"]
    loiret = next(f for f in deps["features"] if f["properties"]["code"] == "45")
    ring = (
        np.array(loiret["geometry"]["coordinates"][0])
        if loiret["geometry"]["type"] == "Polygon"
        else np.array(loiret["geometry"]["coordinates"][0][0])
    )
    assert 1.4 < ring[:, 0].min() < ring[:, 0].max() < 3.2
    assert 47.4 < ring[:, 1].min() < ring[:, 1].max() < 48.4
