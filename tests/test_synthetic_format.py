"""The synthetic etalab files follow finess.md §1-§4: layout, item counts, numbers, places."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from grappes.synthetic import (
    DUI_FIELDS,
    GEOLOCALISATION_FIELDS,
    STRUCTUREEJ_FIELDS,
    STRUCTUREET_FIELDS,
    SyntheticData,
    etalab_lines,
    generate,
    write_etalab,
)

FINESS_RE = re.compile(r"^[0-9][0-9A-Z][0-9]{7}$")


def _records(path: Path) -> tuple[str, list[list[str]]]:
    """First line and the CSV records of an etalab file (strict UTF-8, no BOM)."""
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), "etalab files have no BOM"
    text = raw.decode("utf-8")
    first, _, rest = text.partition("\n")
    return first, list(csv.reader(io.StringIO(rest), delimiter=";"))


def _luhn_reference(number: str) -> bool:
    """Plain textbook Luhn (independent of the project's code).

    A letter counts as 0: the generator's documented choice for Corsican FINESS numbers.
    """
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch) if ch.isdigit() else 0
        if i % 2 == 1:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return total % 10 == 0


@pytest.fixture(scope="module")
def cvl(tmp_path_factory) -> tuple[SyntheticData, Path, Path, Path]:
    data = generate(["24"], seed=7, scale=0.5, include_overseas=False)
    folder = tmp_path_factory.mktemp("cvl")
    etab, ej, dui = write_etalab(data, folder)
    return data, etab, ej, dui


@pytest.fixture(scope="module")
def outre_mer(tmp_path_factory) -> tuple[SyntheticData, Path]:
    data = generate(["94", "01", "02", "03", "04", "06", "975", "986"], seed=3, scale=0.6)
    etab, _, _ = write_etalab(data, tmp_path_factory.mktemp("om"))
    return data, etab


def test_first_line_sections_and_item_counts(cvl) -> None:
    data, etab, ej, _ = cvl
    first, records = _records(etab)
    assert first == "finess;etalab;111;2026-05-12"
    sections = [r[0] for r in records]
    n_et = sections.count("structureet")
    n_geo = sections.count("geolocalisation")
    assert set(sections) == {"structureet", "geolocalisation"}
    # every structureet line comes before the first geolocalisation line
    assert sections.index("geolocalisation") == n_et
    assert n_et == len(data.etablissements)
    assert all(len(r) == len(STRUCTUREET_FIELDS) == 32 for r in records[:n_et])
    assert all(len(r) == len(GEOLOCALISATION_FIELDS) == 6 for r in records[n_et:])
    # a few establishments have no geolocalisation line, most have one
    assert 0.9 * n_et < n_geo < n_et
    first_ej, ej_records = _records(ej)
    assert first_ej == "finess;etalab;111;2026-05-12"
    assert {r[0] for r in ej_records} == {"structureej"}
    assert all(len(r) == len(STRUCTUREEJ_FIELDS) == 23 for r in ej_records)


def test_quoting_round_trips_names_with_double_quotes(cvl) -> None:
    data, etab, _, _ = cvl
    text = etab.read_text(encoding="utf-8")
    quoted = data.etablissements[data.etablissements["rs"].str.contains('"')]
    assert len(quoted) > 0, "lieux de vie carry a quoted name"
    name = quoted["rs"].iloc[0]
    assert '"' + name.replace('"', '""') + '"' in text
    _, records = _records(etab)
    names = {r[3] for r in records if r[0] == "structureet"}
    assert name in names


def test_finess_numbers_valid_unique_and_linked(cvl) -> None:
    _, etab, ej, _ = cvl
    _, records = _records(etab)
    _, ej_records = _records(ej)
    et_numbers = [r[1] for r in records if r[0] == "structureet"]
    ej_numbers = [r[1] for r in ej_records]
    everything = et_numbers + ej_numbers
    assert len(set(everything)) == len(everything), "ET and EJ numbers share one space"
    assert all(FINESS_RE.match(n) for n in everything)
    assert all(_luhn_reference(n) for n in everything)
    # first two characters = département of registration; every ET names a known EJ
    for r in records:
        if r[0] == "structureet":
            assert r[1][:2] == r[13]
            assert r[2] in set(ej_numbers)
    # every EJ runs at least one establishment
    assert set(ej_numbers) == {r[2] for r in records if r[0] == "structureet"}
    geo_numbers = [r[1] for r in records if r[0] == "geolocalisation"]
    assert set(geo_numbers) <= set(et_numbers)
    assert len(set(geo_numbers)) == len(geo_numbers)


def test_structureet_fields_have_the_documented_formats(cvl) -> None:
    _, etab, _, _ = cvl
    _, records = _records(etab)
    et = [r for r in records if r[0] == "structureet"]
    for r in et:
        assert len(r[3]) <= 38 and len(r[4]) <= 60
        assert "FICTI" in r[3] or "FICTI" in r[4], r[3]
        assert re.fullmatch(r"[0-9]{3}", r[12]), r[12]
        assert r[13] in {"18", "28", "36", "37", "41", "45"}
        assert re.fullmatch(r"[0-9]{5} [A-Z0-9 ']+", r[15]), r[15]
        assert re.fullmatch(r"[0-9]{10}", r[16])
        assert r[17] == "" or re.fullmatch(r"[0-9]{10}", r[17])
        assert re.fullmatch(r"[0-9]{3}", r[18]) and re.fullmatch(r"[0-9]{4}", r[20])
        assert r[22] == "" or (re.fullmatch(r"[0-9]{14}", r[22]) and _luhn_reference(r[22]))
        assert r[23] == "" or re.fullmatch(r"[0-9]{4}[A-Z]", r[23])
        assert re.fullmatch(r"[0-9]{2}", r[24]) and r[25]
        for date in r[28:31]:
            assert re.fullmatch(r"(19|20)[0-9]{2}-[01][0-9]-[0-3][0-9]", date)
        # phones are in the ARCEP ranges reserved for fiction
        assert r[16][:6] in {"019900", "026191", "035301", "046571", "053649"}


def test_mft_agrees_with_medicalise(cvl) -> None:
    """A reader deciding médicalisé from libmft gets the generator's answer."""
    data, _, _, _ = cvl
    et = data.etablissements
    # ESAT are tariffed by the ARS on the State budget, not Assurance maladie: readers take
    # their médicalisé flag from the category, never from libmft
    esms = et[~et["sanitaire"] & (et["categetab"] != "246")]
    names_ars = esms["libmft"].str.contains(r"\bARS\b")
    names_other = esms["libmft"].str.contains("PCD|Conseil|Préfet|Indéterminé|Tarif Libre")
    med = esms["medicalise"].astype(bool)
    assert (names_ars[~med] == False).all()  # noqa: E712
    assert (names_ars[med] | esms["libmft"][med].str.startswith("Tarif AM")).all()
    assert names_other[~med].all()


def test_legal_entities_status_at_item_17(cvl) -> None:
    _, _, ej, _ = cvl
    _, records = _records(ej)
    statuses = {r[16] for r in records}
    known = {"01", "02", "03", "08", "11", "13", "14", "15", "17", "19", "21", "22", "60",
             "61", "62", "63", "70", "71", "72", "73", "78", "85", "91", "95"}
    assert statuses <= known
    # the mix the brief asks for is present in the région
    for code in ("13", "17", "21", "60", "63", "95"):
        assert code in statuses, code
    assert all(re.fullmatch(r"[0-9]{9}", r[20]) and _luhn_reference(r[20]) for r in records)
    assert all(r[17] for r in records), "every status has its label"


def test_geolocation_is_lambert93_of_the_point(cvl) -> None:
    data, etab, _, _ = cvl
    _, records = _records(etab)
    geo = [r for r in records if r[0] == "geolocalisation"]
    forms = {r[4].split(",")[3] for r in geo}
    assert forms == {"BAN", "ADMIN-EXPRESS-2023"}
    for r in geo:
        tokens = r[4].split(",")
        assert tokens[:2] == ["1", "ATLASANTE"]
        assert r[4].endswith("EPSG:2154 RGF93 / Lambert-93 (Métropole)")
        assert (tokens[2] == ".") == (tokens[3] == "ADMIN-EXPRESS-2023")
    # the file's metres project back onto the generated WGS84 point
    by_number = data.etablissements.set_index("nofinesset")
    back = Transformer.from_crs(2154, 4326, always_xy=True)
    x = np.array([float(r[2]) for r in geo])
    y = np.array([float(r[3]) for r in geo])
    lon, lat = back.transform(x, y)
    numbers = [r[1] for r in geo]
    assert np.allclose(lon, by_number.loc[numbers, "lon"].to_numpy(float), atol=2e-6)
    assert np.allclose(lat, by_number.loc[numbers, "lat"].to_numpy(float), atol=2e-6)


def test_points_are_near_their_commune_and_inside_the_departement(cvl) -> None:
    import shapely
    from shapely.geometry import shape

    from grappes.geo.distances import haversine_km
    from grappes.geo.territories import departement_boundaries, get_territoires

    data, _, _, _ = cvl
    et = data.etablissements
    communes = get_territoires().communes.reindex(et["commune_insee"])
    km = haversine_km(
        et["lon"].to_numpy(float),
        et["lat"].to_numpy(float),
        communes["lon"].to_numpy(float),
        communes["lat"].to_numpy(float),
    )
    assert np.nanmax(km) < 0.75
    jittered = et["geo_source"] == "ban"
    assert np.median(km[jittered.to_numpy()]) > 0.1
    centroid = (et["geo_source"] == "centroide").to_numpy()
    assert centroid.any() and np.allclose(km[centroid], 0.0, atol=1e-3)
    shapes = {f["properties"]["code"]: shape(f["geometry"]) for f in
              departement_boundaries()["features"]}
    for dep, rows in et[jittered].groupby("departement_insee"):
        inside = shapely.contains_xy(shapes[dep], rows["lon"].to_numpy(float),
                                     rows["lat"].to_numpy(float))
        assert inside.all(), dep


def test_dui_side_file(cvl) -> None:
    data, _, _, dui = cvl
    raw = dui.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert tuple(rows[0]) == DUI_FIELDS
    body = rows[1:]
    et = data.etablissements
    esms = set(et.loc[~et["sanitaire"], "nofinesset"])
    assert {r[0] for r in body} == esms, "one line per ESMS, none for hospitals"
    pa_ph_dom = set(et.loc[et["champ"].isin(["PA", "PH", "DOM"]), "nofinesset"])
    assert pa_ph_dom <= {r[0] for r in body}
    statuses = {r[2] for r in body}
    assert statuses == {"aucun", "non_conforme", "a_mettre_a_niveau", "conforme"}
    segur_of: dict[str, set[str]] = {}
    for _finess, vendor, status, segur, deja in body:
        assert deja in {"oui", "non"}
        if status == "aucun":
            assert vendor == "" and segur == "" and deja == "non"
            continue
        assert vendor.startswith("Éditeur Fictif")
        segur_of.setdefault(vendor, set()).add(segur)
        # a vendor not referenced Ségur cannot be conformant
        assert (status == "non_conforme") == (segur == "non")
    assert 6 <= len(segur_of) <= 10
    assert all(len(v) == 1 for v in segur_of.values()), "Ségur flag consistent per vendor"


def test_overseas_and_corsica(outre_mer) -> None:
    data, etab, = outre_mer
    _, records = _records(etab)
    et = [r for r in records if r[0] == "structureet"]
    geo = {r[1]: r for r in records if r[0] == "geolocalisation"}
    expected_crs = {"9A": "EPSG:5490", "9B": "EPSG:5490", "9C": "EPSG:2972",
                    "9D": "EPSG:2975", "9F": "EPSG:4471", "2A": "EPSG:2154", "2B": "EPSG:2154"}
    prefixes = {"9A": "9701", "9B": "9702", "9C": "9703", "9D": "9704", "9F": "9805",
                "9E": "9705", "9J": "9806"}
    seen = set()
    for r in et:
        dep = r[13]
        seen.add(dep)
        assert FINESS_RE.match(r[1])
        if dep in prefixes:
            assert r[1].startswith(prefixes[dep]), (dep, r[1])
            assert _luhn_reference(r[1])
        else:
            assert r[1][:2] == dep
            assert _luhn_reference(r[1])
        g = geo.get(r[1])
        if g is not None and dep in expected_crs:
            assert expected_crs[dep] in g[4]
        if g is not None and dep == "9E":
            assert "UTM zone 21N" in g[4] and "EPSG" not in g[4]
        if g is not None and dep == "9J":
            assert "UTM zone 1S" in g[4] and "EPSG" not in g[4]
    assert {"2A", "2B", "9A", "9B", "9C", "9D", "9F"} <= seen
    # Saint-Martin is filed as 9A + commune 127, Saint-Barthélemy as 9A + 123
    frame = data.etablissements
    st_martin = frame[frame["commune_insee"] == "97801"]
    assert len(st_martin) > 0
    assert set(st_martin["commune"]) == {"127"} and set(st_martin["departement"]) == {"9A"}
    assert set(st_martin["ligneacheminement"].str[:5]) == {"97150"}


def test_overseas_coordinates_project_back(outre_mer) -> None:
    data, _ = outre_mer
    et = data.etablissements[data.etablissements["has_geo"].astype(bool)]
    for epsg, rows in et.groupby("epsg"):
        back = Transformer.from_crs(int(epsg), 4326, always_xy=True)
        lon, lat = back.transform(rows["coordxet"].astype(float).to_numpy(),
                                  rows["coordyet"].astype(float).to_numpy())
        assert np.allclose(lon, rows["lon"].to_numpy(float), atol=2e-6), epsg
        assert np.allclose(lat, rows["lat"].to_numpy(float), atol=2e-6), epsg


def test_fast_writer_equals_the_csv_module(cvl) -> None:
    import pandas as pd

    data, _, _, _ = cvl
    frame = data.etablissements[list(STRUCTUREET_FIELDS)].head(400).copy()
    frame.loc[frame.index[:5], "voie"] = ['A;B', 'DIT "X"', "L'ORME", "a\nb", ""]
    expected = io.StringIO()
    csv.writer(expected, delimiter=";", lineterminator="\n").writerows(
        frame.to_numpy(dtype=object).tolist()
    )
    assert etalab_lines(frame) == expected.getvalue()
    assert etalab_lines(pd.DataFrame({"a": []}, dtype=object)) == ""


def test_bad_parameters_raise_french_errors() -> None:
    with pytest.raises(ValueError, match="région inconnue"):
        generate(["99"])
    with pytest.raises(ValueError, match="échelle invalide"):
        generate(["24"], scale=0)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    region=st.sampled_from(["24", "94", "53", "04", "27"]),
    scale=st.floats(min_value=0.05, max_value=0.4),
)
def test_any_seed_gives_valid_unique_numbers(seed: int, region: str, scale: float) -> None:
    data = generate([region], seed=seed, scale=scale)
    et, ej = data.etablissements, data.entites
    numbers = list(et["nofinesset"]) + list(ej["nofiness"])
    assert len(set(numbers)) == len(numbers)
    assert all(FINESS_RE.match(n) and _luhn_reference(n) for n in numbers)
    assert set(et["nofinessej"]) == set(ej["nofiness"])
    assert (et["rs"].str.len() <= 38).all() and (et["rslongue"].str.len() <= 60).all()
    assert (ej["rs"].str.len() <= 38).all()
    assert set(data.dui["finess_et"]) == set(et.loc[~et["sanitaire"], "nofinesset"])
