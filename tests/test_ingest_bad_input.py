"""Bad input: unusable files raise IngestError, bad rows become Rejet (line + field)."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from grappes.ingest import IngestError, load

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "ingest"))
import builders as b

EJ = b.finess("45000100")


def _et(n: int, cat: str = "500", dep: str = "45", com: str = "234", ej: str = EJ) -> b.Et:
    return b.Et(b.finess(dep + str(n).zfill(6)), ej, cat, dep, com)


def _load(*ets: b.Et, geo: list[str] | None = None):
    return load(b.EtalabFile(ets=list(ets), geo=geo or []).bytes())


def _only_reject(result, line: int, field: str) -> str:
    assert [(r.line, r.field) for r in result.rejets] == [(line, field)]
    return result.rejets[0].reason


# ---- files that cannot be used at all -------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"\n\n  \r\n", b"\xef\xbb\xbf"])
def test_empty_file(content: bytes) -> None:
    with pytest.raises(IngestError, match="vide"):
        load(content)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"finess;etalab\x00\x00\x01", "binaire"),
        (b"PK\x03\x04rest", "Excel"),
        (b"%PDF-1.7 ...", "PDF"),
        (b"\x1f\x8b\x08\x00", "compressé"),
        (b"\xff\xfef\x00i\x00", "UTF-16"),
        (bytes(range(1, 32)) * 20, "binaire"),
    ],
)
def test_binary_files(content: bytes, words: str) -> None:
    with pytest.raises(IngestError, match=words):
        load(content)


@pytest.mark.parametrize("sep", [",", "\t"])
def test_wrong_separator_in_an_etalab_file(sep: str) -> None:
    text = b.EtalabFile(ets=[_et(1)]).text().replace(";", sep)
    with pytest.raises(IngestError, match="séparateur incorrect ligne 1"):
        load(text.encode())


def test_wrong_separator_after_a_correct_first_line() -> None:
    lines = b.EtalabFile(ets=[_et(1), _et(2)]).text().splitlines()
    text = "\n".join([lines[0]] + [line.replace(";", ",") for line in lines[1:]]) + "\n"
    with pytest.raises(IngestError, match="à partir de la ligne 2"):
        load(text.encode())


def test_unknown_format_and_json() -> None:
    with pytest.raises(IngestError, match=r"format non reconnu.*ligne 1"):
        load(b"nom,prenom\nDupont,Jean\n")
    with pytest.raises(IngestError, match="JSON"):
        load(b'{"structures": []}')


def test_huge_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "gros.csv"
    path.write_bytes(b"x" * 5000)
    with pytest.raises(IngestError, match="trop volumineux"):
        load(path, max_bytes=1000)

    class Stream(io.BytesIO):
        """Reads at most what is asked: a refused stream is not read to its end."""

        def __init__(self, data: bytes) -> None:
            super().__init__(data)
            self.asked: list[int] = []

        def read(self, size: int | None = -1) -> bytes:
            self.asked.append(size)
            return super().read(size)

    stream = Stream(b"y" * 5000)
    with pytest.raises(IngestError, match="trop volumineux"):
        load(stream, max_bytes=1000)
    assert stream.asked == [1001]
    with pytest.raises(IngestError, match="trop volumineux"):
        load(b"z" * 5000, max_bytes=1000)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="introuvable"):
        load(tmp_path / "absent.csv")


# ---- rows that are rejected, with their line and field --------------------------------


def test_truncated_lines() -> None:
    good, cut = _et(1), _et(2)
    text = b.EtalabFile(ets=[good, cut]).text()
    text = text.replace(cut.line(), ";".join(cut.line().split(";")[:20]))
    result = load(text.encode())
    reason = _only_reject(result, 3, "ligne")
    assert "20 champs au lieu de 32" in reason
    assert len(result.etablissements) == 1


def test_truncated_geolocalisation_line() -> None:
    et = _et(1)
    result = _load(et, geo=[f"geolocalisation;{et.et};619000"])
    assert "3 champs au lieu de 6" in _only_reject(result, 3, "ligne")


def test_unknown_section() -> None:
    result = _load(_et(1), geo=["equipementsocial;x;y"])
    assert "section inconnue" in _only_reject(result, 3, "section")


def test_unknown_but_well_formed_category_is_loaded_out_of_field_with_a_warning() -> None:
    result = _load(_et(1, cat="999"), _et(2), _et(3, cat="999"))
    table = result.etablissements.set_index("ligne")
    assert table.loc[2, "champ"] == "hors_champ"
    assert table.loc[2, "categorie_libelle"] == "libellé du fichier"
    assert not result.rejets
    warning = [w for w in result.warnings if "catégorie 999" in w]
    assert len(warning) == 1 and "lignes 2, 4" in warning[0]


@pytest.mark.parametrize("cat", ["50", "5000", "EHP", ""])
def test_malformed_category_is_rejected(cat: str) -> None:
    result = _load(_et(1), _et(2, cat=cat))
    assert "catégorie" in _only_reject(result, 3, "categorie")


def test_malformed_commune_is_rejected() -> None:
    result = _load(_et(1), _et(2, com="2X"))
    assert "commune" in _only_reject(result, 3, "commune")


def test_unknown_commune_without_coordinates_is_rejected() -> None:
    result = _load(_et(1), _et(2, com="999"))
    reason = _only_reject(result, 3, "commune")
    assert "impossible à localiser" in reason and "inconnu" in reason


def test_unknown_commune_with_good_coordinates_is_kept_with_a_warning() -> None:
    et = _et(2, com="999")
    result = _load(et, geo=[b.geoloc_line(et.et, 1.9, 47.9)])
    row = result.etablissements.iloc[0]
    assert (row["commune"], row["departement"], row["region"]) == ("45999", "45", "24")
    assert row["coord_source"] == "fichier"
    assert any("inconnu(s) du référentiel" in w for w in result.warnings)


@pytest.mark.parametrize(("field", "position"), [("finess_et", 1), ("finess_ej", 2)])
def test_bad_luhn_key_is_rejected(field: str, position: int) -> None:
    et = _et(2)
    cells = et.line().split(";")
    cells[position] = b.bad_key(cells[position])
    text = b.EtalabFile(ets=[_et(1)]).text() + ";".join(cells) + "\n"
    result = load(text.encode())
    reason = _only_reject(result, 3, field)
    assert "clé de contrôle" in reason
    assert result.rejets[0].value == cells[position]


@pytest.mark.parametrize("number", ["12345", "4500000AB", ""])
def test_malformed_finess_is_rejected(number: str) -> None:
    et = _et(2)
    et.et = number
    result = _load(_et(1), et)
    assert _only_reject(result, 3, "finess_et")


def test_duplicate_names_the_first_line() -> None:
    first = _et(1)
    result = _load(first, _et(2), first)
    reason = _only_reject(result, 4, "finess_et")
    assert "ligne 2" in reason and first.et in reason
    assert len(result.etablissements) == 2


def test_coordinates_out_of_france_use_the_centroid() -> None:
    et = _et(1)
    result = _load(
        et,
        geo=[
            f"geolocalisation;{et.et};100.0;200.0;1,ATLASANTE,96,BAN,"
            "EPSG:2154 RGF93 / Lambert-93 (Métropole);2026-01-01"
        ],
    )
    row = result.etablissements.iloc[0]
    assert row["coord_source"] == "centroide_commune"
    assert any("hors de France" in w and "ligne 2" in w for w in result.warnings)


def test_unreadable_coordinates_use_the_centroid() -> None:
    et = _et(1)
    result = _load(et, geo=[f"geolocalisation;{et.et};abc;;1,ATLASANTE;2026-01-01"])
    assert result.etablissements.iloc[0]["coord_source"] == "centroide_commune"
    assert any("illisibles" in w for w in result.warnings)


def test_geolocalisation_for_an_unknown_establishment() -> None:
    et = _et(1)
    stranger = b.finess("45999999")
    result = _load(et, geo=[b.geoloc_line(stranger, 1.9, 47.9)])
    reason = _only_reject(result, 3, "nofinesset")
    assert "aucune ligne structureet lue pour ce numéro" in reason
    assert result.rejets[0].value == stranger


def test_geolocalisation_of_a_rejected_establishment_and_duplicates() -> None:
    ok, bad = _et(1), _et(2, cat="XX")
    geo = [
        b.geoloc_line(ok.et, 1.9, 47.9),
        b.geoloc_line(bad.et, 1.9, 47.9),
        b.geoloc_line(ok.et, 1.91, 47.9),
    ]
    result = _load(ok, bad, geo=geo)
    rejects = {r.line: r for r in result.rejets}
    assert set(rejects) == {3, 5, 6}
    assert "rejeté (ligne 3)" in rejects[5].reason
    assert "en double" in rejects[6].reason and "ligne 4" in rejects[6].reason


def test_unclosed_quote_only_costs_its_own_line() -> None:
    ets = [_et(i) for i in range(1, 9)]
    text = b.EtalabFile(ets=ets).text()
    text = text.replace(f";{ets[1].et};", f';"{ets[1].et};', 1)
    result = load(text.encode())
    assert [(r.line, r.field) for r in result.rejets] == [(3, "ligne")]
    assert "guillemet" in result.rejets[0].reason
    assert len(result.etablissements) == 7


def test_template_row_of_the_wrong_width() -> None:
    et1, et2, ej = b.finess("45000001"), b.finess("45000002"), b.finess("45000100")
    text = f"finess_et;finess_ej;categorie;commune\n{et1};{ej};500;45234\n{et2};{ej};500\n"
    result = load(text.encode())
    reason = _only_reject(result, 3, "ligne")
    assert "3 champs au lieu de 4" in reason


def test_a_file_with_only_bad_rows_loads_nothing_but_lists_every_line() -> None:
    ets = [_et(1, cat="X"), _et(2, com="AB"), _et(3)]
    ets[2].et = "123"
    result = _load(*ets)
    assert result.etablissements.empty
    assert sorted(r.line for r in result.rejets) == [2, 3, 4]
