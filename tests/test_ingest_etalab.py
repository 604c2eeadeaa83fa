"""Reading official etalab extracts: encodings, territories, coordinates, OG profile."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import pytest

from grappes.core.model import ETAB_COLUMNS
from grappes.ingest import load

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "ingest"))
import builders as b

EJ_A = b.finess("45000100")
EJ_B = b.finess("45000200")


def _one(place: tuple, n: str, cat: str = "500", ej: str = EJ_A, **kw) -> b.Et:
    """An establishment in a place of ``builders``; ``n`` makes the number unique."""
    _, dep, com, _, _ = place
    prefix = {"9A": "9701", "9B": "9702", "9C": "9703", "9D": "9704"}.get(dep, dep)
    if prefix in ("2A", "2B"):
        number = prefix + n.zfill(6) + "5"  # Corsican numbers: format only
    else:
        number = b.finess(prefix + n.zfill(8 - len(prefix)))
    return b.Et(number, ej, cat, dep, com, **kw)


def _file(
    *pairs: tuple[b.Et, tuple | None], geo_form: str = "current", epsg: int = 2154
) -> b.EtalabFile:
    f = b.EtalabFile()
    for et, point in pairs:
        f.ets.append(et)
        if point is not None:
            lon, lat, crs = point
            f.geo.append(b.geoloc_line(et.et, lon, lat, crs, geo_form))
    return f


def test_table_has_exactly_the_shared_columns_and_dtypes() -> None:
    et = _one(b.ORLEANS, "1")
    result = load(_file((et, (b.ORLEANS[3], b.ORLEANS[4], 2154))).bytes())
    table = result.etablissements
    assert list(table.columns) == list(ETAB_COLUMNS)
    for col, (dtype, _) in ETAB_COLUMNS.items():
        assert str(table[col].dtype) == dtype, col
    assert result.kind == "etalab_cs1100507"
    assert result.meta["etalab"][:2] == ["etalab", "111"]


def test_fleyriat_lambert93_to_wgs84() -> None:
    et = b.Et(b.finess("01000002"), b.finess("01078005"), "355", "01", "451")
    f = b.EtalabFile(
        ets=[et],
        geo=[
            f"geolocalisation;{et.et};870262.2;6571540.8;"
            "1,ATLASANTE,96,BAN,EPSG:2154 RGF93 / Lambert-93 "
            "(Métropole);2026-01-01"
        ],
    )
    row = load(f.bytes()).etablissements.iloc[0]
    assert row["lon"] == pytest.approx(5.20918, abs=1e-4)
    assert row["lat"] == pytest.approx(46.22229, abs=1e-4)
    assert row["coord_source"] == "fichier"
    assert (row["commune"], row["departement"], row["region"]) == ("01451", "01", "84")
    assert bool(row["sanitaire"]) and row["champ"] == "hors_champ"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "latin-1", "cp1252"])
def test_encodings(encoding: str) -> None:
    et = _one(b.ORLEANS, "1", nom="EHPAD FICTIF LES TILLEULS D'ÉTÉ")
    result = load(_file((et, None)).bytes(encoding))
    assert result.etablissements["raison_sociale"].iloc[0] == "EHPAD FICTIF LES TILLEULS D'ÉTÉ"
    expected = {
        "utf-8": "utf-8",
        "utf-8-sig": "utf-8-sig",
        "latin-1": "cp1252",
        "cp1252": "cp1252",
    }[encoding]
    assert result.encoding == expected


def test_corsica_2a_2b() -> None:
    a = b.Et("2A0000015", "2A0000023", "500", "2A", "004")
    c = b.Et("2B0000013", "2B0000021", "183", "2B", "033")
    f = _file((a, (b.AJACCIO[3], b.AJACCIO[4], 2154)), (c, (b.BASTIA[3], b.BASTIA[4], 2154)))
    table = load(f.bytes()).etablissements.set_index("finess_et")
    assert table.loc["2A0000015", "commune"] == "2A004"
    assert table.loc["2B0000013", "departement"] == "2B"
    assert table.loc[["2A0000015", "2B0000013"], "region"].tolist() == ["94", "94"]
    assert table["derogatoire"].all()
    assert (table["coord_source"] == "fichier").all()
    assert table.loc["2A0000015", "lon"] == pytest.approx(b.AJACCIO[3], abs=1e-4)


@pytest.mark.parametrize("form", ["current", "old"])
def test_overseas_reunion_and_guadeloupe(form: str) -> None:
    reunion = b.Et(b.finess("97040001"), b.finess("97040011"), "500", "9D", "411")
    guad = b.Et(b.finess("97010001"), b.finess("97010011"), "255", "9A", "120")
    f = b.EtalabFile(
        ets=[reunion, guad],
        geo=[
            b.geoloc_line(
                reunion.et, b.SAINT_DENIS_REUNION[3], b.SAINT_DENIS_REUNION[4], 2975, form
            ),
            b.geoloc_line(guad.et, b.POINTE_A_PITRE[3], b.POINTE_A_PITRE[4], 5490, form),
        ],
    )
    table = load(f.bytes()).etablissements.set_index("finess_et")
    r, g = table.loc[reunion.et], table.loc[guad.et]
    assert (r["commune"], r["departement"], r["region"]) == ("97411", "974", "04")
    assert (g["commune"], g["departement"]) == ("97120", "971")
    # old-form tokens (UTM_S40, UTM_N20) map to the same systems within a few metres
    assert r["lon"] == pytest.approx(b.SAINT_DENIS_REUNION[3], abs=1e-3)
    assert r["lat"] == pytest.approx(b.SAINT_DENIS_REUNION[4], abs=1e-3)
    assert g["lon"] == pytest.approx(b.POINTE_A_PITRE[3], abs=1e-3)
    assert g["lat"] == pytest.approx(b.POINTE_A_PITRE[4], abs=1e-3)
    assert bool(r["derogatoire"]) and bool(g["derogatoire"])
    assert (table["coord_source"] == "fichier").all()


def test_saint_martin_old_code_is_remapped() -> None:
    sm = b.Et(b.finess("97010002"), b.finess("97010012"), "500", "9A", "127")
    f = _file((sm, (b.SAINT_MARTIN[3], b.SAINT_MARTIN[4], 5490)))
    row = load(f.bytes()).etablissements.iloc[0]
    assert row["commune"] == "97801"
    assert row["commune_nom"] == "Saint-Martin"
    assert row["coord_source"] == "fichier"


def test_sourcecoordet_without_crs_uses_the_departement_default() -> None:
    reunion = b.Et(b.finess("97040001"), b.finess("97040011"), "500", "9D", "411")
    f = b.EtalabFile(
        ets=[reunion],
        geo=[
            b.geoloc_line(
                reunion.et, b.SAINT_DENIS_REUNION[3], b.SAINT_DENIS_REUNION[4], 2975, "none"
            )
        ],
    )
    row = load(f.bytes()).etablissements.iloc[0]
    assert row["coord_source"] == "fichier"
    assert row["lat"] == pytest.approx(b.SAINT_DENIS_REUNION[4], abs=1e-3)


def test_missing_geolocation_falls_back_on_the_commune_centroid_with_a_warning() -> None:
    with_geo = _one(b.ORLEANS, "1")
    without = _one(b.TOURS, "2")
    f = _file((with_geo, (b.ORLEANS[3], b.ORLEANS[4], 2154)), (without, None))
    result = load(f.bytes())
    table = result.etablissements.set_index("finess_et")
    assert table.loc[with_geo.et, "coord_source"] == "fichier"
    assert table.loc[without.et, "coord_source"] == "centroide_commune"
    assert table.loc[without.et, "lon"] == pytest.approx(0.69599, abs=1e-4)  # Tours centroid
    warning = [w for w in result.warnings if "geolocalisation" in w]
    assert len(warning) == 1 and "ligne 3" in warning[0]


def test_cs1100502_without_any_geolocation() -> None:
    ets = [_one(b.ORLEANS, "1"), _one(b.BOURGES, "2", cat="183")]
    result = load(_file(*((e, None) for e in ets)).bytes())
    assert result.kind == "etalab_cs1100502"
    assert (result.etablissements["coord_source"] == "centroide_commune").all()
    assert sum("sans géolocalisation" in w for w in result.warnings) == 1
    assert not result.rejets


def test_old_31_item_lines_are_read() -> None:
    et = _one(b.ORLEANS, "1", old_form=True)
    result = load(_file((et, (b.ORLEANS[3], b.ORLEANS[4], 2154))).bytes())
    assert len(result.etablissements) == 1
    assert any("31 champs" in w for w in result.warnings)


def test_ehpad_attached_to_a_hospital_is_not_autonomous() -> None:
    ch = _one(b.ORLEANS, "1", cat="355", ej=EJ_A)
    ehpad = _one(b.ORLEANS, "2", cat="500", ej=EJ_A)
    lone = _one(b.TOURS, "3", cat="500", ej=EJ_B)
    table = load(_file((ch, None), (ehpad, None), (lone, None)).bytes()).etablissements
    table = table.set_index("finess_et")
    assert table.loc[ehpad.et, "og_nb_esms"] == 1
    assert bool(table.loc[ehpad.et, "og_sanitaire"])
    assert not bool(table.loc[ehpad.et, "autonome"])
    assert bool(table.loc[lone.et, "autonome"])
    assert not bool(table.loc[lone.et, "og_sanitaire"])


def test_og_typology_thresholds() -> None:
    ets = []
    for i in range(15):
        ets.append(_one(b.ORLEANS, str(100 + i), ej=EJ_A))  # 15 ESMS: moyen
    for i in range(14):
        ets.append(_one(b.TOURS, str(200 + i), ej=EJ_B))  # 14 ESMS: petit
    table = load(_file(*((e, None) for e in ets)).bytes()).etablissements
    by_og = table.groupby("finess_ej")["og_typologie"].first()
    assert by_og[EJ_A] == "moyen" and by_og[EJ_B] == "petit"
    assert (table.groupby("finess_ej")["og_nb_esms"].first() == [15, 14]).all()
    assert any(
        "fichier chargé" in w for w in load(_file(*((e, None) for e in ets)).bytes()).warnings
    )


def test_medicalise_follows_libmft_where_the_category_is_unverified() -> None:
    ars = _one(b.ORLEANS, "1", cat="202", libmft="ARS/PCD, Tarif global")  # résidence autonomie
    pcd = _one(b.ORLEANS, "2", cat="500", libmft="Président du Conseil Départemental")
    fixed = _one(b.ORLEANS, "3", cat="502", libmft="ARS/PCD")  # non médicalisé by its label
    table = load(_file((ars, None), (pcd, None), (fixed, None)).bytes()).etablissements
    assert table["medicalise"].tolist() == [True, False, False]


def test_quoted_names_load_and_a_value_spanning_lines_is_rejected_line_by_line() -> None:
    """A FINESS record never spans lines (issue 11, item 1): the broken lines are rejected
    one by one and every other line is read as its own record."""
    et1 = _one(b.ORLEANS, "1", nom='LIEU DE VIE "MAVOUNA MEMA 1"')
    et2 = _one(b.TOURS, "2", nom="FOYER; AVEC\nRETOUR")
    et3 = _one(b.BOURGES, "3")
    result = load(_file((et1, None), (et2, None), (et3, None)).bytes())
    table = result.etablissements
    assert table["raison_sociale"].tolist() == [
        'LIEU DE VIE "MAVOUNA MEMA 1"',
        "ETABLISSEMENT FICTIF",
    ]
    # the name is written twice (rs and rslongue): the broken record covers lines 3 to 5
    assert table["ligne"].tolist() == [2, 6]
    assert [r.line for r in result.rejets] == [3, 4, 5]
    assert "guillemet non fermé" in result.rejets[0].reason


def test_bytes_path_and_stream_give_the_same_table(tmp_path: Path) -> None:
    f = _file((_one(b.ORLEANS, "1"), (b.ORLEANS[3], b.ORLEANS[4], 2154)))
    path = tmp_path / "etalab-cs1100507-stock.csv"
    path.write_bytes(f.bytes())
    from_path = load(path).etablissements
    from_bytes = load(f.bytes()).etablissements
    from_stream = load(io.BytesIO(f.bytes())).etablissements
    assert from_path.equals(from_bytes) and from_bytes.equals(from_stream)


def test_deterministic() -> None:
    ets = [_one(b.ORLEANS, str(i), ej=EJ_A if i % 2 else EJ_B) for i in range(1, 30)]
    f = _file(*((e, (b.ORLEANS[3] + 0.001 * i, b.ORLEANS[4], 2154)) for i, e in enumerate(ets)))
    first, second = load(f.bytes()), load(f.bytes())
    assert first.etablissements.equals(second.etablissements)
    assert first.warnings == second.warnings and first.rejets == second.rejets


def test_progress_is_reported() -> None:
    calls: list[tuple[int, int]] = []
    f = _file((_one(b.ORLEANS, "1"), None))
    load(f.bytes(), progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1][0] == calls[-1][1]
    assert all(done <= total for done, total in calls)


def test_coordinates_far_from_the_commune_use_the_centroid() -> None:
    et = _one(b.ORLEANS, "1")
    f = _file((et, (b.VIRIAT[3], b.VIRIAT[4], 2154)))  # a point in the Ain, commune Orléans
    result = load(f.bytes())
    row = result.etablissements.iloc[0]
    assert row["coord_source"] == "centroide_commune"
    assert np.isclose(row["lon"], 1.91723)
    assert any("40 km" in w and "ligne 2" in w for w in result.warnings)
