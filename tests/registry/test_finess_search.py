"""« Rechercher mon établissement » (issue 19, item 4) on the bundled sample: by a name
fragment, a commune name with or without accents, an INSEE code, an ET or EJ number."""

from __future__ import annotations

import pytest

from grappes.registry.adapters import load_finess
from grappes.registry.finess_search import IndexRecherche, normaliser
from tests.registry.conftest import OG_A


@pytest.fixture(scope="module")
def finess():
    return load_finess("sample")


@pytest.fixture(scope="module")
def index(finess):
    return IndexRecherche(finess)


def test_normaliser_drops_case_accents_and_punctuation():
    assert normaliser("  Mehun-sur-Yèvre ") == "mehun sur yevre"
    assert normaliser("SAINT-ÉTIENNE") == "saint etienne"


def test_name_fragment(index, finess):
    found = index.rechercher("verger de MEHUN")
    expected = finess[finess["raison_sociale"].str.contains("VERGER DE MEHUN")]
    assert found.total == len(expected) >= 1
    assert {e.finess_et for e in found.esms} == set(expected["finess_et"])
    first = found.esms[0]
    assert first.og_nom and first.commune_nom == "Mehun-sur-Yèvre"


def test_commune_name_with_or_without_accents(index, finess):
    with_accents = index.rechercher("Mehun-sur-Yèvre")
    without = index.rechercher("mehun sur yevre")
    assert with_accents == without
    expected = finess[finess["commune_nom"] == "Mehun-sur-Yèvre"]
    assert with_accents.total == len(expected) >= 2
    assert all(e.commune_nom == "Mehun-sur-Yèvre" for e in with_accents.esms)
    # the INSEE code finds the same ESMS
    code = str(expected["commune"].iloc[0])
    assert {e.finess_et for e in index.rechercher(code).esms} == set(expected["finess_et"])


def test_et_number_gives_that_esms(index, finess):
    row = finess.iloc[10]
    found = index.rechercher(f" {row['finess_et']} ")
    assert [e.finess_et for e in found.esms] == [row["finess_et"]]
    assert found.esms[0].finess_ej == row["finess_ej"]


def test_ej_number_gives_every_esms_of_the_og(index, finess):
    found = index.rechercher(OG_A)
    expected = set(finess.loc[finess["finess_ej"] == OG_A, "finess_et"])
    assert {e.finess_et for e in found.esms} == expected and len(expected) >= 5
    og = index.og(OG_A)
    assert og is not None and og.finess_ej == OG_A
    assert {e.finess_et for e in og.esms} == expected
    assert og.nom == finess.loc[finess["finess_ej"] == OG_A, "raison_sociale_ej"].iloc[0]


def test_no_match_is_empty(index):
    assert index.rechercher("zzqx introuvable").total == 0
    assert index.rechercher("").esms == ()
    assert index.rechercher("999999999").total == 0
    assert index.og("999999999") is None


def test_many_matches_are_capped_but_counted(index, finess):
    found = index.rechercher("ehpad", limite=5)
    assert len(found.esms) == 5 and found.total > 5


def test_form_table_round_trip_ticks_hand_rows_and_communes(index, finess):
    """The form's ESMS table: an OG's ESMS from the search (the chosen one ticked), a row
    added by hand with a commune typed by name, read back as the declaration's ESMS."""
    import pandas as pd

    from grappes.ui import declaration_esms as de

    og = index.og(OG_A)
    chosen = og.esms[1].finess_et
    table = de.lignes_og(og.esms, {chosen})
    assert list(table.columns) == ["inclure", "FINESS ET", "nom", "champ", "commune"]
    assert table["inclure"].tolist() == [e.finess_et == chosen for e in og.esms]
    assert table["commune"].iloc[0].endswith(f"({og.esms[0].commune})")
    hand = pd.DataFrame([{"inclure": None, "FINESS ET": " 370000000 ", "nom": "Foyer à la main",
                          "champ": "ph", "commune": "mehun sur yèvre"}])
    out = de.saisies(pd.concat([table, hand], ignore_index=True), index)
    assert [e.finess_et for e in out] == [chosen, "370000000"]
    assert out[0].commune == og.esms[1].commune and out[0].champ == og.esms[1].champ
    mehun = str(finess.loc[finess["commune_nom"] == "Mehun-sur-Yèvre", "commune"].iloc[0])
    assert (out[1].champ, out[1].commune, out[1].raison_sociale) == (
        "PH", mehun, "Foyer à la main")
    assert de.code_commune("Tours (37261)") == "37261"
    assert de.code_commune("2a004") == "2A004"
    assert de.code_commune("Nulle-Part") == "Nulle-Part"  # the declaration's check names it
