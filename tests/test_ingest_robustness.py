"""Issue 11: nothing lost, nothing silently changed. One regression test per item, each on a
file built in the test."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

from grappes.core.finess import check_finess
from grappes.exports.french_excel import csv_bytes, is_formula_like, neutralise, xlsx_bytes
from grappes.ingest import DEFAULT_MAX_MO, IngestError, load
from grappes.ingest.base import read_bytes

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "ingest"))
import builders as b

EJ = b.finess("45000100")


def _et(n: int, place=b.ORLEANS, nom: str = "ETABLISSEMENT FICTIF", cat: str = "500") -> b.Et:
    return b.Et(b.finess(place[1] + str(n).zfill(6)), EJ, cat, place[1], place[2], nom=nom)


def _file(*ets: b.Et, geo: bool = True) -> b.EtalabFile:
    places = {b.ORLEANS[1]: b.ORLEANS, b.TOURS[1]: b.TOURS, b.BOURGES[1]: b.BOURGES}
    lines = [b.geoloc_line(e.et, places[e.departement][3], places[e.departement][4])
             for e in ets] if geo else []
    return b.EtalabFile(ets=list(ets), geo=lines)


def _accounted(result, n_lines: int) -> None:
    """Every line of the file is loaded, rejected, used as geolocation or the metadata."""
    seen = set(result.etablissements["ligne"]) | {r.line for r in result.rejets}
    seen |= set(result.meta.get("lignes_geolocalisation_utilisees", []))
    seen.add(result.meta.get("ligne_meta", 0))
    assert set(range(1, n_lines + 1)) <= seen


# ---- 1. a quoted field never swallows the lines after it ------------------------------


def test_unbalanced_quotes_two_lines_apart_do_not_merge_establishments() -> None:
    ets = [_et(i, nom=f"ETAB {i}") for i in range(1, 6)]
    lines = _file(*ets).text().split("\n")
    lines[2] = lines[2].replace("ETAB 2;", '"ETAB 2;', 1)  # opens a quote...
    lines[4] = lines[4].replace("ETAB 4;", 'ETAB 4";', 1)  # ...closed two lines below
    result = load("\n".join(lines).encode())
    names = result.etablissements["raison_sociale"].tolist()
    assert "ETAB 3" in names  # the line in between is read as its own record
    assert "ETAB 1" in names and "ETAB 5" in names
    rejected = {r.line: r for r in result.rejets}
    assert 3 in rejected and "guillemet non fermé" in rejected[3].reason
    # the geolocation lines of the establishments in between join their establishment
    assert not any("aucune ligne structureet" in r.reason
                   for r in result.rejets if r.field == "nofinesset" and r.value == ets[2].et)
    _accounted(result, len(lines) - 1)


# ---- 2. CR-only and mixed line ends ---------------------------------------------------


@pytest.mark.parametrize("ending", ["\r", "\r\n", "mixed"])
def test_cr_only_and_mixed_line_ends_load_every_row(ending: str) -> None:
    text = _file(*[_et(i) for i in range(1, 7)]).text()
    lines = text.split("\n")[:-1]
    if ending == "mixed":
        ends = ["\r", "\n", "\r\n"]
        data = "".join(line + ends[i % 3] for i, line in enumerate(lines))
    else:
        data = ending.join(lines) + ending
    result = load(data.encode())
    assert len(result.etablissements) == 6
    assert not result.rejets
    assert result.etablissements["ligne"].tolist() == [2, 3, 4, 5, 6, 7]


def test_a_large_cr_only_file_is_read_in_linear_time() -> None:
    rows = [_et(i, place=[b.ORLEANS, b.TOURS][i % 2]) for i in range(1, 2001)]
    text = _file(*rows, geo=False).text().replace("\n", "\r")
    result = load(text.encode())  # used to take 92 s for 10,000 rows; no timing asserted
    assert len(result.etablissements) == 2000


# ---- 3. one non-UTF-8 line does not turn the whole file into cp1252 -------------------


def test_a_latin1_line_in_a_utf8_file_is_decoded_alone_with_a_warning() -> None:
    ets = [_et(i, nom=f"FOYER ÉLÉONORE {i}") for i in range(1, 8)]
    lines = _file(*ets).text().split("\n")
    data = "\n".join(lines[:3]).encode("utf-8") + b"\n" + lines[3].encode("latin-1") + b"\n"
    data += "\n".join(lines[4:]).encode("utf-8")
    result = load(data)
    names = result.etablissements["raison_sociale"].tolist()
    assert names == [f"FOYER ÉLÉONORE {i}" for i in range(1, 8)]  # no mojibake anywhere
    warning = next(w for w in result.warnings if "encodage mixte" in w)
    assert "1 ligne" in warning and "ligne 4" in warning


def test_a_whole_cp1252_file_still_loads_without_warning() -> None:
    ets = [_et(i, nom=f"FOYER ÉLÉONORE {i}") for i in range(1, 4)]
    result = load(_file(*ets).bytes("cp1252"))
    assert result.encoding == "cp1252"
    assert result.etablissements["raison_sociale"].tolist()[0] == "FOYER ÉLÉONORE 1"
    assert not any("encodage" in w for w in result.warnings)


# ---- 6. an unknown commune code never gives a territory -------------------------------


def test_unknown_commune_with_a_corsican_prefix_does_not_become_corsica() -> None:
    columns = ["finess_et", "finess_ej", "categorie", "commune", "lon", "lat"]
    rows = [
        {"finess_et": b.finess("18000001"), "finess_ej": EJ, "categorie": "500",
         "commune": "2A999", "lon": "2.3985", "lat": "47.0810"},  # coordinates in the Cher
        {"finess_et": b.finess("45000002"), "finess_ej": EJ, "categorie": "500",
         "commune": "45234", "lon": "1.9092", "lat": "47.9025"},
    ]
    result = load(b.template(rows, columns).encode())
    table = result.etablissements
    assert table["commune"].tolist() == ["45234"]
    assert "2A" not in set(table["departement"]) and not table["derogatoire"].any()
    reject = next(r for r in result.rejets if r.line == 2)
    assert reject.field == "commune" and "inconnu" in reject.reason


def test_unknown_commune_in_an_etalab_file_keeps_the_file_departement_only() -> None:
    et = b.Et("2A0001234", EJ, "500", "2A", "999")  # 2A999: no such commune
    f = b.EtalabFile(ets=[et], geo=[b.geoloc_line(et.et, b.BOURGES[3], b.BOURGES[4])])
    result = load(f.bytes())
    # coordinates in the Cher cannot be those of a Corsican establishment: rejected
    assert result.etablissements.empty
    assert [r.field for r in result.rejets if r.line == 2] == ["commune"]


# ---- 7. control characters --------------------------------------------------------------


def test_control_characters_are_replaced_with_a_warning_and_xlsx_works() -> None:
    ets = [_et(1, nom="FOYER\x0bDES\x1fPINS"), _et(2, nom="MAISON\x07 BLEUE")]
    ets += [_et(i) for i in range(3, 9)]  # a few control characters in a larger text file
    result = load(_file(*ets).bytes())
    names = result.etablissements["raison_sociale"].tolist()
    assert names[:2] == ["FOYER DES PINS", "MAISON  BLEUE"]
    warning = next(w for w in result.warnings if "caractère(s) de contrôle" in w)
    assert warning.startswith("6 caractère(s)")  # each name is written twice (rs, rslongue)
    assert xlsx_bytes({"etablissements": result.etablissements})[:2] == b"PK"


def test_xlsx_export_survives_control_characters_given_directly() -> None:
    frame = pd.DataFrame({"nom": ["A\x0bB", "=1+1"]})
    assert xlsx_bytes({"feuille": frame})[:2] == b"PK"


# ---- doubled BOM ---------------------------------------------------------------------------


def test_a_doubled_bom_is_not_an_unknown_format() -> None:
    data = b"\xef\xbb\xbf\xef\xbb\xbf" + _file(_et(1)).bytes()
    result = load(data)
    assert len(result.etablissements) == 1


# ---- slow paths: duplicate columns and the column cap -----------------------------------


def test_duplicate_columns_are_named_and_a_huge_header_is_refused() -> None:
    header = "finess_et;finess_ej;categorie;commune;commune;nom;nom"
    with pytest.raises(IngestError, match=r"en double.*commune, nom"):
        load((header + "\n").encode())
    wide = "finess_et;finess_ej;categorie;commune;" + ";".join(f"c{i}" for i in range(100_000))
    with pytest.raises(IngestError, match="100 004 colonnes"):
        load((wide + "\n").encode())


# ---- FINESS numbers ------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["000000000", "2A0000001", "200000018"])
def test_impossible_finess_numbers_are_refused(number: str) -> None:
    assert check_finess(number) is not None


def test_real_finess_numbers_still_pass() -> None:
    for number in ("010000024", "750712184", "970102018", "980501506", "2A0000220"):
        assert check_finess(number) is None, number


# ---- size limit: one unit --------------------------------------------------------------------


def test_size_limit_message_uses_one_unit(tmp_path: Path) -> None:
    path = tmp_path / "gros.csv"
    path.write_bytes(b"x" * 2_500_001)
    with pytest.raises(IngestError) as err:
        read_bytes(path, 2_000_000)
    assert str(err.value).endswith("fait 2,5 Mo (limite 2,0 Mo)")
    assert DEFAULT_MAX_MO == 300


def test_app_and_cli_share_the_size_limit() -> None:
    from grappes.ui import datapanel

    assert datapanel.MAX_UPLOAD_MB == DEFAULT_MAX_MO


# ---- formula prefixes behind invisible or fullwidth characters ---------------------------


@pytest.mark.parametrize(
    "value", ["＝4+4", "\u200b=5+5", "\ufeff=6+6", "|cmd", " =1+1", "﹢1", "\u00a0@A1"]
)
def test_disguised_formulas_are_neutralised(value: str) -> None:
    assert is_formula_like(value)
    assert neutralise(value) == "'" + value
    assert csv_bytes(pd.DataFrame({"v": [value]})).decode("utf-8-sig").splitlines()[1] == (
        "'" + value
    )


@pytest.mark.parametrize("value", ["FOYER", "12 rue", "ÉCOLE", "", "a=b"])
def test_plain_text_is_left_alone(value: str) -> None:
    assert neutralise(value) == value


def test_a_blown_up_line_is_rejected_not_cut_by_the_xlsx_export() -> None:
    ets = [_et(1), _et(2, nom="X" * 40_000), _et(3)]
    result = load(_file(*ets).bytes())
    assert result.etablissements["ligne"].tolist() == [2, 4]
    reject = next(r for r in result.rejets if r.line == 3)
    assert "trop longue" in reject.reason
