"""``propose()`` and ``grappes proposer``: tables, JSON shape, CSV files, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from solver_factories import km_to_lonlat, make_etab, og_rows
from typer.testing import CliRunner

from grappes.cli.main import app
from grappes.core.model import LoadResult
from grappes.exports.tables import etablissements_table, grappes_table
from grappes.scenarios.scenario import Scenario
from grappes.solver.propose import propose
from tests.followup_exports import read_written_csv

runner = CliRunner()


def luhn_number(body: str) -> str:
    """A FINESS number: 8 digits + Luhn key (finess.md §3)."""
    digits = [int(c) for c in body]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return body + str((10 - total % 10) % 10)


def small_table() -> pd.DataFrame:
    rows = []
    for k in range(8):
        rows += og_rows(f"11000000{k}", 2, x=3.0 * k, y=0.0, region="24")
    rows += og_rows("120000001", 3, x=0.0, y=300.0, region="28", departement="28")
    return make_etab(rows)


def test_propose_report_tables_and_json() -> None:
    etab = small_table()
    report = propose(LoadResult(etablissements=etab), "amorcage-t2-2021", seed=1, time_limit=2)
    assert [g.n_esms for g in report.grappes] == [16]
    scenario = Scenario.from_report(report)
    grappes = grappes_table(scenario)
    assert grappes.loc[0, "nb_og"] == 8 and grappes.loc[0, "criteres_calcules"] == 2
    assert grappes.loc[0, "points_grille"] >= grappes.loc[0, "criteres_calcules"]
    assert grappes.loc[0, "financement"] > 0 and bool(grappes.loc[0, "valide"])
    table = etablissements_table(scenario)
    assert len(table) == len(etab)
    assert (table["grappe"] != "").sum() == 16
    far = table[table["finess_ej"] == "120000001"]
    assert (far["grappe"] == "").all() and (far["raison"] != "").all()
    data = scenario.to_json()
    json.dumps(data)  # serialisable
    assert set(data) >= {"rules", "grappes", "unplaced", "stats"}
    g = data["grappes"][0]
    for key in (
        "id",
        "champ",
        "og",
        "esms",
        "n_esms",
        "departements",
        "regions",
        "criteres_calcules",
        "points_grille",
        "points_max",
        "valide",
        "distance_moyenne_km",
        "warnings",
        "funding",
        "score",
        "project_type",
        "vendor",
        "porteur",
        "eligibility",
    ):
        assert key in g
    assert g["criteres_calcules"]["detail"] == {"isole": 0, "multi_og": 2,
                                                "multi_departement": 0}
    assert g["funding"]["total"] == grappes.loc[0, "financement"]
    assert data["totals"]["financement"] == grappes.loc[0, "financement"]
    assert {u["finess_et"] for u in data["unplaced"]} == set(far["finess_et"])
    assert data["stats"]["esms_placed"] == 16
    assert data["rules"]["name"] == "amorcage-t2-2021" and data["rules"]["min_esms"] == 15


def test_region_filter_reports_rows_out_of_scope() -> None:
    etab = small_table()
    report = propose(LoadResult(etablissements=etab), None, region="24", time_limit=1)
    table = etablissements_table(Scenario.from_report(report))
    out = table[table["region"] == "28"]
    assert out["raison"].str.contains("hors de la région étudiée").all()
    assert len(report.unplaced_frame()) == len(etab) - 16
    with pytest.raises(ValueError, match="aucun établissement"):
        propose(LoadResult(etablissements=etab), None, region="93")


def template_csv(path) -> None:
    """A user template file: 8 small OGs of 2 EHPAD around Tours."""
    lines = ["finess_et;finess_ej;categorie;commune;lon;lat;dui_statut"]
    for k in range(8):
        ej = luhn_number(f"3709000{k}")
        for j in range(2):
            et = luhn_number(f"37000{k}{j}0")
            lon, lat = km_to_lonlat(2.0 * k, 1.0 * j)
            lines.append(f"{et};{ej};500;37261;{lon:.5f};{lat:.5f};aucun")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_cli_json_on_a_constructed_file(tmp_path) -> None:
    src = tmp_path / "etablissements.csv"
    template_csv(src)
    result = runner.invoke(app, ["proposer", str(src), "--json", "--limite-temps", "2"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["grappes"]) == 1
    assert data["grappes"][0]["n_esms"] == 16
    assert data["stats"]["esms_eligible"] == 16


def test_cli_writes_french_excel_csv(tmp_path) -> None:
    src = tmp_path / "etablissements.csv"
    template_csv(src)
    out = tmp_path / "out"
    result = runner.invoke(app, ["proposer", str(src), "--sortie", str(out), "--limite-temps", "2"])
    assert result.exit_code == 0, result.output
    assert "valide(s)" in result.output and "Financement (grappes valides)" in result.output
    raw = (out / "grappes.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    grappes = read_written_csv(out / "grappes.csv", keep_default_na=True)
    documented = (Path(__file__).resolve().parents[1] / "docs" / "formats-sorties.md").read_text(
        encoding="utf-8")
    assert all(f"`{c}`" in documented for c in grappes.columns)
    assert set(grappes["valide"]) == {"oui"}
    assert (out / "financements.csv").is_file()
    per_og = read_written_csv(out / "financements_og.csv", decimal=",",
                              dtype={"grappe": str, "finess_ej": str}, keep_default_na=True)
    sums = per_og.groupby("grappe")["financement_og"].sum()
    totals = grappes.set_index("grappe")["financement"].astype(float)
    assert sums.reindex(totals.index).tolist() == pytest.approx(totals.tolist())
    table = read_written_csv(out / "etablissements.csv")
    assert {"grappe", "raison", "quasi_grappe"} <= set(table.columns)
    assert (table["grappe"] != "").sum() == 16


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        (["proposer"], "fichier manquant", 2),
        (["proposer", "nulle-part.csv"], "introuvable", 2),
        (["proposer", "--exemple", "--champ", "XX"], "--champ", 2),
        (["proposer", "--exemple", "--limite-temps", "0"], "--limite-temps", 2),
        (["proposer", "--exemple", "--xlsx"], "--xlsx demande --sortie", 2),
        (["proposer", "--exemple", "--regles", "inexistant"], "Erreur", 1),
    ],
)
def test_cli_errors_are_french_messages(args: list[str], message: str, code: int) -> None:
    """Exit codes (issue 11): 1 bad data, 2 bad usage."""
    result = runner.invoke(app, args)
    assert result.exit_code == code
    assert message in result.output
    assert "Traceback" not in result.output


def test_cli_bad_links_file(tmp_path) -> None:
    src = tmp_path / "etablissements.csv"
    template_csv(src)
    links = tmp_path / "liens.csv"
    links.write_text("finess_ej_a;finess_ej_b\n370900001;pas-un-finess\n", encoding="utf-8")
    result = runner.invoke(app, ["proposer", str(src), "--liens", str(links)])
    assert result.exit_code == 1
    assert "ligne 2, champ finess_ej_b" in result.output


def test_cli_runs_on_the_sample_with_json() -> None:
    result = runner.invoke(
        app, ["proposer", "--exemple", "--champ", "PA", "--json", "--limite-temps", "3"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["grappes"]
    assert data["stats"]["esms_placed"] > 0


def test_cli_unplaced_summary_names_reasons_in_french(tmp_path) -> None:
    """The « ESMS sans grappe, par motif » table shows a French label per reason, not the
    code (the codes stay in etablissements.csv and the JSON)."""
    src = tmp_path / "etablissements.csv"
    template_csv(src)
    ej = luhn_number("13090099")
    with src.open("a", encoding="utf-8") as handle:
        for j in range(2):  # a lone small OG in Marseille: no partner of its field near it
            handle.write(f"{luhn_number(f'130099{j}0')};{ej};500;13055;{5.37 + 0.01 * j:.5f};"
                         "43.30000;aucun\n")
    wide = CliRunner(env={"COLUMNS": "200"})
    result = wide.invoke(app, ["proposer", str(src), "--limite-temps", "2"])
    assert result.exit_code == 0, result.output
    assert "aucun partenaire proche" in result.output
    assert "aucun_partenaire" not in result.output
    data = json.loads(runner.invoke(app, ["proposer", str(src), "--json", "--limite-temps",
                                          "2"]).stdout)
    assert {u["code"] for u in data["unplaced"]} == {"aucun_partenaire"}
    # in 80 columns, each figure of the summary on its own line: an amount is never cut
    narrow = CliRunner(env={"COLUMNS": "80"}).invoke(app, ["proposer", str(src),
                                                            "--limite-temps", "2"])
    assert narrow.exit_code == 0, narrow.output
    funding = next(line for line in narrow.output.splitlines()
                   if line.startswith("Financement (grappes valides)"))
    assert funding.rstrip().endswith("€") and funding.split()[-2].replace(" ", "").isdigit()


def test_every_unplaced_reason_code_has_a_label() -> None:
    from grappes.core.vocabulary import (
        SET_ASIDE_CODES,
        SET_ASIDE_TEXT,
        UNPLACED_LABELS,
        UNPLACED_SOLVER_CODES,
    )

    codes = {*SET_ASIDE_CODES, *SET_ASIDE_TEXT, *UNPLACED_SOLVER_CODES}
    assert set(UNPLACED_LABELS) == codes
    assert all(label and "_" not in label for label in UNPLACED_LABELS.values())
