"""``grappes chiffrer`` re-costs a hand-edited etablissements.csv and reports broken rules."""

from __future__ import annotations

import json

import pandas as pd
from rules_factories import make_etab, make_og
from typer.testing import CliRunner

from grappes.cli.main import app
from grappes.exports.french_excel import write_csv
from grappes.exports.readback import read_grouping_csv


def grouping_file(tmp_path, edit=None):
    """A: 3 small OGs, 17 ESMS (valid). B: two vendors in conflict, and one ESMS of OG 5
    moved to A by hand (so the OG is split between A and B)."""
    rows = (make_og("370000001", 6) + make_og("370000002", 6) + make_og("370000003", 5)
            + make_og("370000004", 8, dui_statut="conforme", dui_editeur="Alpha",
                      departement="41")
            + make_og("370000005", 8, dui_statut="conforme", dui_editeur="Beta",
                      departement="41"))
    etab = make_etab(rows)
    etab["grappe"] = ["A"] * 17 + ["B"] * 16
    etab.loc[etab.index[-1], "grappe"] = "A"
    etab["raison"] = ""
    if edit:
        edit(etab)
    path = tmp_path / "etablissements.csv"
    write_csv(etab, path)
    return path


def test_reader_keeps_codes_as_strings(tmp_path):
    etab = read_grouping_csv(grouping_file(tmp_path))
    assert etab["finess_et"].dtype == "string"
    assert etab["finess_ej"].iloc[0] == "370000001"
    assert etab["og_nb_esms"].iloc[0] == 6
    assert etab["deja_finance"].dtype == "boolean"
    assert set(etab["grappe"]) == {"A", "B"}


def test_cost_reports_violations_instead_of_failing(tmp_path):
    path = grouping_file(tmp_path)
    result = CliRunner().invoke(app, ["chiffrer", str(path), "--regles", "amorcage-t2-2021",
                                      "--json", "--sortie", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    by_id = {g["id"]: g for g in data["grappes"]}
    codes_a = [v["code"] for v in by_id["A"]["violations"]]
    codes_b = sorted(v["code"] for v in by_id["B"]["violations"])
    assert codes_a == ["og_scinde"]
    assert codes_b == ["dui_multiple", "og_scinde"]  # 8 + 7 = 15 ESMS: enough
    # A: 18 ESMS of 4 small OGs, all acquisition but the one moved (conforme, vendor Beta):
    # 17 × 25 000 + 17 × 20 000 + 15 000 + 100 000 = 880 000 (a conformant DUI brings nothing)
    assert by_id["A"]["total"] == 880_000
    assert by_id["A"]["schedule"][0]["amount"] == 352_000
    out = tmp_path / "out"
    for name in ("couts.csv", "lignes_financement.csv", "versements.csv", "violations.csv",
                 "eligibilite.csv"):
        assert (out / name).exists()
    violations = pd.read_csv(out / "violations.csv", sep=";", encoding="utf-8-sig", dtype=str)
    assert set(violations["grappe"]) == {"A", "B"}


def test_cost_prints_a_french_table(tmp_path):
    result = CliRunner().invoke(app, ["chiffrer", str(grouping_file(tmp_path))],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Coût des grappes" in result.output
    assert "solutions DUI différentes" in result.output


def test_bad_boolean_names_line_and_field(tmp_path):
    def edit(etab):
        etab["deja_finance"] = etab["deja_finance"].astype("string")
        etab.loc[4, "deja_finance"] = "peut-être"

    result = CliRunner().invoke(app, ["chiffrer", str(grouping_file(tmp_path, edit))])
    assert result.exit_code == 1
    assert "ligne 6, champ deja_finance" in result.output
    assert "Traceback" not in result.output


def test_missing_grappe_column_is_explained(tmp_path):
    path = tmp_path / "sans.csv"
    write_csv(make_etab(make_og("370000001", 3)), path)
    result = CliRunner().invoke(app, ["chiffrer", str(path)])
    assert result.exit_code == 1 and "grappe" in result.output


def test_declarations_and_porteur_column(tmp_path):
    def edit(etab):
        etab["porteur"] = ""
        etab.loc[0, "porteur"] = "370000002"

    path = grouping_file(tmp_path, edit)
    decl = tmp_path / "declarations.csv"
    decl.write_text("grappe;critere;valeur\nA;interoperabilite;oui\nA;fonction_dpo;non\n",
                    encoding="utf-8")
    result = CliRunner().invoke(app, ["chiffrer", str(path), "--declarations", str(decl), "--json"])
    assert result.exit_code == 0, result.output
    a = next(g for g in json.loads(result.stdout)["grappes"] if g["id"] == "A")
    assert a["porteur"] == "370000002"
    assert a["score"]["declared"]["interoperabilite"] == 5
    assert a["score"]["declared"]["fonction_dpo"] == 0


def test_select_reads_an_etablissements_file(tmp_path):
    def keep_og_5_in_b(etab):
        etab.loc[etab.index[-1], "grappe"] = "B"

    path = grouping_file(tmp_path, keep_og_5_in_b)
    result = CliRunner().invoke(app, ["selectionner", str(path), "--enveloppe", "10000000",
                                      "--fenetres", "1.0", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    # A (17 ESMS of 3 small OGs, valid): 17 × 25 000 + 17 × 20 000 + AMOA 115 000 = 880 000.
    # B breaks a hard rule (two DUI solutions in place): it is no candidate, even though the
    # envelope would pay for both, and is reported apart.
    assert [g["grappe"] for g in data["funded"]] == ["A"]
    assert data["total_cost"] == 880_000
    assert data["invalides_non_candidates"] == ["B"]
