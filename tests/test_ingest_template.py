"""Reading the user CSV template as French Excel saves it."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

from grappes.core.model import ETAB_COLUMNS
from grappes.ingest import IngestError, load

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "ingest"))
import builders as b

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"
REQUIRED = ["finess_et", "finess_ej", "categorie", "commune"]
ET1, ET2, ET3 = b.finess("45000001"), b.finess("37000002"), b.finess("18000003")
EJ1, EJ2 = b.finess("45000100"), b.finess("37000200")


def _rows() -> list[dict[str, str]]:
    return [
        {
            "finess_et": ET1,
            "finess_ej": EJ1,
            "categorie": "500",
            "commune": "45234",
            "raison_sociale": "EHPAD FICTIF LES TILLEULS",
            "raison_sociale_ej": "ASSO FICTIVE",
            "statut_juridique": "60",
            "lon": "1,9092",
            "lat": "47,9025",
            "capacite": "84,5",
            "dui_editeur": "Éditeur Fictif Alpha",
            "dui_statut": "conforme",
            "editeur_segur": "oui",
            "deja_finance": "non",
        },
        {
            "finess_et": ET2,
            "finess_ej": EJ2,
            "categorie": "183",
            "commune": "37261",
            "raison_sociale": "IME FICTIF",
            "statut_juridique": "95",
            "lon": "",
            "lat": "",
            "capacite": "1 200",
            "dui_statut": "À mettre à niveau",
            "editeur_segur": "NON",
            "deja_finance": "oui",
        },
        {
            "finess_et": ET3,
            "finess_ej": EJ2,
            "categorie": "355",
            "commune": "18033",
            "raison_sociale": "CH FICTIF",
            "statut_juridique": "13",
        },
    ]


ALL = [
    *REQUIRED,
    "raison_sociale",
    "raison_sociale_ej",
    "statut_juridique",
    "lon",
    "lat",
    "capacite",
    "dui_editeur",
    "dui_statut",
    "editeur_segur",
    "deja_finance",
]


def test_semicolon_bom_and_decimal_commas() -> None:
    text = b.template(_rows(), ALL, ";")
    result = load(text.encode("utf-8-sig"))
    assert result.kind == "modele_csv" and result.encoding == "utf-8-sig"
    table = result.etablissements.set_index("finess_et")
    assert list(result.etablissements.columns) == list(ETAB_COLUMNS)
    assert table.loc[ET1, "lon"] == pytest.approx(1.9092)
    assert table.loc[ET1, "coord_source"] == "fichier"
    assert table.loc[ET2, "coord_source"] == "centroide_commune"
    assert table.loc[ET1, "capacite"] == pytest.approx(84.5)
    assert table.loc[ET2, "capacite"] == pytest.approx(1200)
    assert pd.isna(table.loc[ET3, "capacite"])
    assert table.loc[ET1, "dui_statut"] == "conforme"
    assert table.loc[ET2, "dui_statut"] == "a_mettre_a_niveau"
    assert table.loc[ET3, "dui_statut"] == "inconnu"
    assert bool(table.loc[ET1, "editeur_segur"]) and not bool(table.loc[ET2, "editeur_segur"])
    assert pd.isna(table.loc[ET3, "editeur_segur"])
    assert table["deja_finance"].tolist() == [False, True, False]
    assert table.loc[ET1, "statut_agrege"] == "prive_non_lucratif"
    assert table.loc[ET2, "statut_agrege"] == "prive_commercial"
    assert table.loc[ET1, "raison_sociale_ej"] == "ASSO FICTIVE"
    assert not result.rejets


def test_comma_separated_latin1_with_quoted_decimals() -> None:
    text = b.template(_rows(), ALL, ",")
    result = load(text.encode("latin-1"))
    table = result.etablissements.set_index("finess_et")
    assert result.encoding == "cp1252"
    assert table.loc[ET1, "lat"] == pytest.approx(47.9025)
    assert table.loc[ET1, "dui_editeur"] == "Éditeur Fictif Alpha"
    assert result.meta["separateur"] == ","


def test_fixture_file_as_excel_saves_it() -> None:
    result = load(FIXTURES / "modele_excel.csv")
    assert len(result.etablissements) == 3
    assert result.encoding == "cp1252"
    table = result.etablissements.set_index("finess_et")
    assert table.loc["2A0000015", "departement"] == "2A"
    assert bool(table.loc["2A0000015", "derogatoire"])
    assert table.loc["010000024", "commune_nom"] == "Viriat"  # leading zeros restored
    assert any("zéro initial" in w for w in result.warnings)


def test_header_is_case_and_space_tolerant_and_extra_columns_are_ignored() -> None:
    rows = [
        {
            "finess_et": ET1,
            "finess_ej": EJ1,
            "categorie": "500",
            "commune": "45234",
            "commentaire": "à rappeler",
        }
    ]
    text = b.template(rows, [*REQUIRED, "commentaire"]).replace("finess_et", " FINESS_ET ")
    result = load(text.encode())
    assert len(result.etablissements) == 1
    assert any("commentaire" in w and "ignorée" in w for w in result.warnings)


def test_minimal_template_warns_once_for_status_and_dui() -> None:
    rows = [{"finess_et": ET1, "finess_ej": EJ1, "categorie": "500", "commune": "45234"}]
    result = load(b.template(rows, REQUIRED).encode())
    row = result.etablissements.iloc[0]
    assert row["statut_agrege"] == "inconnu" and row["dui_statut"] == "inconnu"
    assert row["coord_source"] == "centroide_commune"
    assert sum("entités juridiques" in w for w in result.warnings) == 1
    assert sum("Pas de données DUI" in w for w in result.warnings) == 1


def test_leading_zeros_eaten_by_excel_are_restored() -> None:
    et, ej = b.finess("01000002"), b.finess("01078005")
    rows = [
        {
            "finess_et": et.lstrip("0"),
            "finess_ej": ej.lstrip("0"),
            "categorie": "500",
            "commune": "1451",
            "statut_juridique": "3",
        }
    ]
    result = load(b.template(rows, [*REQUIRED, "statut_juridique"]).encode())
    row = result.etablissements.iloc[0]
    assert (row["finess_et"], row["finess_ej"], row["commune"]) == (et, ej, "01451")
    assert row["statut_juridique"] == "03" and row["statut_agrege"] == "public"


def test_invalid_optional_values_are_ignored_with_a_warning_naming_the_line() -> None:
    rows = [
        {
            "finess_et": ET1,
            "finess_ej": EJ1,
            "categorie": "500",
            "commune": "45234",
            "dui_statut": "peut-être",
            "editeur_segur": "bof",
            "capacite": "beaucoup",
            "lon": "abc",
            "lat": "47.9",
        }
    ]
    cols = [*REQUIRED, "dui_statut", "editeur_segur", "capacite", "lon", "lat"]
    result = load(b.template(rows, cols).encode())
    row = result.etablissements.iloc[0]
    assert row["dui_statut"] == "inconnu" and pd.isna(row["editeur_segur"])
    assert pd.isna(row["capacite"]) and row["coord_source"] == "centroide_commune"
    text = " | ".join(result.warnings)
    for field in ("dui_statut", "editeur_segur", "capacite", "lon"):
        assert field in text
    assert "ligne 2" in text


def test_lambert_coordinates_given_as_lon_lat_are_not_used() -> None:
    rows = [
        {
            "finess_et": ET1,
            "finess_ej": EJ1,
            "categorie": "500",
            "commune": "45234",
            "lon": "619000",
            "lat": "6754000",
        }
    ]
    result = load(b.template(rows, [*REQUIRED, "lon", "lat"]).encode())
    row = result.etablissements.iloc[0]
    assert row["coord_source"] == "centroide_commune"
    assert any("hors de France" in w for w in result.warnings)


@pytest.mark.parametrize("missing", REQUIRED)
def test_missing_required_column_is_an_ingest_error(missing: str) -> None:
    cols = [c for c in REQUIRED if c != missing] + (["finess_et"] if missing != "finess_et" else [])
    cols = list(dict.fromkeys(cols))
    rows = [{"finess_et": ET1, "finess_ej": EJ1, "categorie": "500", "commune": "45234"}]
    if missing == "finess_et":
        with pytest.raises(IngestError, match="format non reconnu"):
            load(b.template(rows, cols).encode())
    else:
        with pytest.raises(IngestError, match=f"obligatoire.*{missing}"):
            load(b.template(rows, cols).encode())


def test_duplicate_header_and_tab_separator_are_refused() -> None:
    with pytest.raises(IngestError, match="en double"):
        load(b"finess_et;finess_ej;categorie;commune;commune\n")
    with pytest.raises(IngestError, match="tabulation"):
        load(b"finess_et\tfiness_ej\tcategorie\tcommune\n")


def test_blank_lines_and_trailing_empty_cells_are_tolerated() -> None:
    rows = [{"finess_et": ET1, "finess_ej": EJ1, "categorie": "500", "commune": "45234"}]
    text = b.template(rows, REQUIRED) + ";;;\r\n\r\n"
    text = text.replace("45234\r\n", "45234;;\r\n", 1)
    result = load(text.encode())
    assert len(result.etablissements) == 1 and not result.rejets
