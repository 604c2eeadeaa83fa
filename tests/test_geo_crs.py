"""Tests of grappes.geo.crs: sourcecoordet parsing, projection to WGS84, territory plausibility."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Transformer

from grappes.geo.crs import (
    default_epsg_for_departement,
    epsg_from_sourcecoord,
    in_france,
    plausible_for_departement,
    to_wgs84,
)

# Every sourcecoordet wording described in finess.md §4.
SOURCECOORD_CASES = [
    ("1,ATLASANTE,96,BAN,EPSG:2154 RGF93 / Lambert-93 (Métropole)", 2154),
    ("1,ATLASANTE,.,ADMIN-EXPRESS-2023,EPSG:2154 RGF93 / Lambert-93 (Métropole)", 2154),
    ("1,ATLASANTE,.,MAPS 06-11-2024,EPSG:2154 RGF93 / Lambert-93 (Métropole)", 2154),
    ("1,ATLASANTE,88,BDADRESSE,L93_METROPOLE", 2154),
    ("L93_METROPOLE", 2154),
    ("1,ATLASANTE,97,BAN,EPSG:5490 RGAF09/UTM Zone 20N (Antilles)", 5490),
    ("1,ATLASANTE,95,BAN,EPSG:2972 RGFG95 / UTM zone 22N (Guyane)", 2972),
    ("1,ATLASANTE,99,BAN,EPSG:2975 RGR92 / UTM zone 40S (Réunion)", 2975),
    ("1,ATLASANTE,90,BAN,EPSG:4471 RGM04/UTM zone 38S (Mayotte)", 4471),
    ("1,ATLASANTE,.,MAPS 06-11-2024,WGS84/UTM zone 21N (St-Pierre-et-Miquelon)", 32621),
    ("1,ATLASANTE,.,MAPS 06-11-2024,WGS84/UTM zone 1S (Wallis-et-Futuna)", 32701),
    ("1,ATLASANTE,100,IGN,BD_ADRESSE,V2.2,LAMBERT_93", 2154),
    ("1,ATLASANTE,100,IGN,BD_ADRESSE,V2.2,UTM_N20", 5490),
    ("1,ATLASANTE,100,IGN,BD_ADRESSE,V2.2,UTM_N21", 32621),
    ("1,ATLASANTE,100,IGN,BD_ADRESSE,V2.2,UTM_N22", 2972),
    ("1,ATLASANTE,100,IGN,BD_ADRESSE,V2.2,UTM_S38", 4471),
    ("1,ATLASANTE,100,IGN,BD_ADRESSE,V2.2,UTM_S40", 2975),
    ("  epsg:2154 rgf93 / lambert-93  ", 2154),
]


@pytest.mark.parametrize(("source", "expected"), SOURCECOORD_CASES)
def test_epsg_from_sourcecoord_reads_every_finess_wording(source: str, expected: int) -> None:
    assert epsg_from_sourcecoord(source) == expected


@pytest.mark.parametrize("source", [None, "", "   ", "1,ATLASANTE,96,BAN", "EPSG:99999 inconnu"])
def test_epsg_from_sourcecoord_gives_none_when_nothing_usable(source) -> None:
    assert epsg_from_sourcecoord(source) is None


@pytest.mark.parametrize(
    ("departement", "expected"),
    [
        ("01", 2154),
        ("75", 2154),
        ("2A", 2154),
        ("2B", 2154),
        ("971", 5490),
        ("9A", 5490),
        ("972", 5490),
        ("9C", 2972),
        ("974", 2975),
        ("9D", 2975),
        ("975", 32621),
        ("976", 4471),
        ("9F", 4471),
        ("9J", 32701),
        ("", 2154),
    ],
)
def test_default_epsg_for_departement(departement: str, expected: int) -> None:
    assert default_epsg_for_departement(departement) == expected


def test_fleyriat_lambert93_to_wgs84() -> None:
    lon, lat = to_wgs84(np.array([870262.2]), np.array([6571540.8]), np.array([2154]))
    assert lon[0] == pytest.approx(5.20918, abs=1e-5)
    assert lat[0] == pytest.approx(46.22229, abs=1e-5)


# (EPSG, lon, lat, INSEE département) of real places: Pointe-à-Pitre, Fort-de-France,
# Cayenne, Saint-Denis de La Réunion, Mamoudzou, Saint-Pierre (SPM), Mata-Utu.
OVERSEAS_POINTS = [
    (5490, -61.5331, 16.2411, "971"),
    (5490, -61.0588, 14.6161, "972"),
    (2972, -52.3135, 4.9224, "973"),
    (2975, 55.4504, -20.8821, "974"),
    (4471, 45.2279, -12.7806, "976"),
    (32621, -56.1773, 46.7811, "975"),
    (32701, -176.1745, -13.2825, "986"),
]


@pytest.mark.parametrize(("epsg", "lon", "lat", "departement"), OVERSEAS_POINTS)
def test_overseas_round_trip(epsg: int, lon: float, lat: float, departement: str) -> None:
    forward = Transformer.from_crs(4326, epsg, always_xy=True)
    x, y = forward.transform(lon, lat)
    # UTM metres: eastings around the 500 km false easting, northings positive.
    assert 100_000 < x < 900_000
    assert 0 < y < 10_000_000
    back_lon, back_lat = to_wgs84(np.array([x]), np.array([y]), np.array([epsg]))
    assert back_lon[0] == pytest.approx(lon, abs=1e-7)
    assert back_lat[0] == pytest.approx(lat, abs=1e-7)
    assert plausible_for_departement(back_lon, back_lat, departement).all()
    # The same metres read as Lambert-93 land far from the territory.
    wrong_lon, wrong_lat = to_wgs84(np.array([x]), np.array([y]), np.array([2154]))
    assert not plausible_for_departement(wrong_lon, wrong_lat, departement).any()


def test_to_wgs84_mixed_systems_and_missing_values() -> None:
    fwd = Transformer.from_crs(4326, 2975, always_xy=True)
    rx, ry = fwd.transform(55.4504, -20.8821)
    x = np.array([870262.2, rx, np.nan, 870262.2, 870262.2])
    y = np.array([6571540.8, ry, 6571540.8, 6571540.8, 6571540.8])
    epsg = np.array([2154, 2975, 2154, np.nan, 0])
    lon, lat = to_wgs84(x, y, epsg)
    assert lon[0] == pytest.approx(5.20918, abs=1e-5)
    assert lon[1] == pytest.approx(55.4504, abs=1e-6)
    assert lat[1] == pytest.approx(-20.8821, abs=1e-6)
    assert np.isnan(lon[2:]).all()
    assert np.isnan(lat[2:]).all()


def test_to_wgs84_scalar_epsg_is_broadcast() -> None:
    lon, _ = to_wgs84([870262.2, 870262.2], [6571540.8, 6571540.8], 2154)
    assert lon == pytest.approx([5.20918, 5.20918], abs=1e-5)


def test_to_wgs84_rejects_unknown_epsg_and_bad_lengths() -> None:
    with pytest.raises(ValueError, match="EPSG inconnu"):
        to_wgs84([1.0], [1.0], [99999])
    with pytest.raises(ValueError, match="même longueur"):
        to_wgs84([1.0, 2.0], [1.0], [2154, 2154])


def test_in_france() -> None:
    lon = np.array([2.3522, 9.15, 55.45, -61.53, -74.0, 0.0, np.nan, -176.17, 45.2])
    lat = np.array([48.8566, 42.0, -20.9, 16.24, 40.7, 0.0, 45.0, -13.28, -12.78])
    expected = [True, True, True, True, False, False, False, True, True]
    assert in_france(lon, lat).tolist() == expected


def test_plausible_for_departement_per_point_and_finess_codes() -> None:
    lon = np.array([2.3522, 55.45, 55.45, -62.85, 2.3522, 9.15])
    lat = np.array([48.8566, -20.9, -20.9, 17.9, 48.8566, 42.0])
    deps = np.array(["75", "974", "01", "9A", "", "2A"])
    assert plausible_for_departement(lon, lat, deps).tolist() == [
        True,
        True,
        False,
        True,
        True,
        True,
    ]
    # One code for all points.
    assert plausible_for_departement(lon[:2], lat[:2], "9D").tolist() == [False, True]
