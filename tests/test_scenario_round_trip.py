"""Every file the tool writes reads back with the same totals, and every command gives the
same answer for the same scenario (issue 9 "one truth", issue 10 "French Excel").

Round trip: ``propose --sortie --xlsx`` writes the CSV set and the workbook; each is read back
(pandas with ``decimal=","``: amounts are numbers), re-costed by ``grappes chiffrer`` and
``grappes selectionner``, and the totals compared with the scenario's.

Consistency: ``propose --json``, ``partenaires --json``, the app's downloads (a what-if
session with no edit) and ``cost`` agree on ids, members, points, distances and amounts,
on the bundled sample and on a generated région.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from grappes.cli.main import app
from grappes.core.model import LoadResult
from grappes.exports.dossier import csv_files, workbook_bytes, write_exports
from grappes.exports.files import FILES, GRAPPES_CSV, column_names, sheet_of
from grappes.exports.formats_doc import render
from grappes.exports.french_excel import EURO_FORMAT, KM_FORMAT
from grappes.ingest.sample import load_sample
from grappes.programme.reach import distance_to_grappe_km, grappe_distances
from grappes.scenarios.scenario import Scenario
from grappes.scenarios.whatif import WhatIf
from grappes.solver.propose import propose
from tests.followup_exports import read_written_csv

runner = CliRunner()
TIME = 2.0


@pytest.fixture(scope="module")
def sample_pa():
    """The sample région, field PA (the app's and partenaires' default scope)."""
    report = propose(load_sample(), None, champ="PA", time_limit=TIME)
    return report, Scenario.from_report(report)


@pytest.fixture(scope="module")
def written(sample_pa, tmp_path_factory):
    _, scenario = sample_pa
    out = tmp_path_factory.mktemp("sortie")
    write_exports(scenario, out, xlsx=True)
    return scenario, out


def read(path: Path, **kw) -> pd.DataFrame:
    """A written CSV by its columns' names (its French headers checked)."""
    return read_written_csv(path, **{"dtype": None, "keep_default_na": True, **kw})


# --------------------------------------------------------------------------- round trip


def test_csv_amounts_are_numbers_for_french_excel(written):
    scenario, out = written
    raw = (out / "grappes.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert ".0;" not in text and "True" not in text and "False" not in text
    grappes = read(out / "grappes.csv", decimal=",", dtype={"porteur": str})
    assert pd.api.types.is_numeric_dtype(grappes["financement"])
    assert pd.api.types.is_float_dtype(grappes["distance_moyenne_km"])
    by_id = grappes.set_index("grappe")
    for g in scenario.grappes:
        assert by_id.at[g.id, "financement"] == pytest.approx(scenario.costs[g.id].total)
        mean_km, max_km = grappe_distances(scenario.members(g.id))
        assert by_id.at[g.id, "distance_max_km"] == pytest.approx(max_km)
        assert by_id.at[g.id, "distance_moyenne_km"] == pytest.approx(mean_km)
    assert grappes["financement"].sum() == pytest.approx(scenario.totals().financement)
    etab = read(out / "etablissements.csv", decimal=",", dtype=str, keep_default_na=False)
    assert set(etab["og_porteur"]) <= {"oui", "non"}
    lon = pd.to_numeric(etab["lon"].str.replace(",", "."), errors="coerce")
    assert lon.notna().mean() > 0.9 and not etab["lon"].str.contains(r"\.").any()
    lines = read(out / "financements.csv", decimal=",")
    grant = lines[lines["levier_code"] == "esms_numerique"].groupby("grappe")["montant"].sum()
    for g in scenario.grappes:
        assert grant[g.id] == pytest.approx(scenario.costs[g.id].total)


def test_etablissements_csv_reads_back_into_cost_and_select(written):
    scenario, out = written
    result = runner.invoke(app, ["chiffrer", str(out / "etablissements.csv"), "--json"])
    assert result.exit_code == 0, result.output
    costed = {g["id"]: g for g in json.loads(result.stdout)["grappes"]}
    assert set(costed) == {g.id for g in scenario.grappes}
    for g in scenario.grappes:
        cost = scenario.costs[g.id]
        assert costed[g.id]["total"] == pytest.approx(cost.total)
        assert costed[g.id]["porteur"] == cost.porteur
        assert costed[g.id]["score"]["total"] == cost.score.total
        assert [v["code"] for v in costed[g.id]["violations"]] == [
            v.code for v in scenario.violations[g.id]]
    envelope = str(int(scenario.totals().financement) + 1)
    for name in ("etablissements.csv", "grappes.csv"):
        result = runner.invoke(app, ["selectionner", str(out / name), "--enveloppe", envelope,
                                     "--fenetres", "1.0", "--json"])
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert data["total_cost"] == pytest.approx(scenario.totals().financement), name
        assert data["total_points"] == scenario.totals().points_grille, name


def test_cost_and_select_accept_point_decimals_and_true_false(written, tmp_path):
    scenario, out = written
    etab = read(out / "etablissements.csv", dtype=str, keep_default_na=False)
    etab["lon"] = etab["lon"].str.replace(",", ".")
    etab["lat"] = etab["lat"].str.replace(",", ".")
    for col in ("medicalise", "autonome", "deja_finance", "og_porteur"):
        etab[col] = etab[col].map({"oui": "True", "non": "False", "": ""})
    etab = etab.drop(columns=[c for c in etab.columns if c.endswith("_code")])
    # written as before issue 20: first row = the columns' names, not the French headers
    etab.to_csv(tmp_path / "old.csv", sep=";", index=False, encoding="utf-8-sig")
    assert (tmp_path / "old.csv").read_text(encoding="utf-8-sig").startswith("finess_et;")
    result = runner.invoke(app, ["chiffrer", str(tmp_path / "old.csv"), "--json"])
    assert result.exit_code == 0, result.output
    total = sum(g["total"] for g in json.loads(result.stdout)["grappes"] if not g["violations"])
    assert total == pytest.approx(scenario.totals().financement)
    grappes = read(out / "grappes.csv", dtype=str, keep_default_na=False)
    grappes["valide"] = grappes["valide"].map({"oui": "True", "non": "False"})
    grappes["financement"] = grappes["financement"] + ".0"
    grappes.to_csv(tmp_path / "g.csv", sep=";", index=False, encoding="utf-8-sig")
    result = runner.invoke(app, ["selectionner", str(tmp_path / "g.csv"), "--enveloppe", "1e9",
                                 "--fenetres", "1.0", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["total_cost"] == pytest.approx(scenario.totals().financement)
    # and the file as written now (French headers, code columns last)
    result = runner.invoke(app, ["selectionner", str(out / "grappes.csv"), "--enveloppe", "1e9",
                                 "--fenetres", "1.0", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["total_cost"] == pytest.approx(scenario.totals().financement)


def test_cost_names_a_bad_value_by_the_files_own_header(written, tmp_path):
    """A value broken by hand in the written ``etablissements.csv``: ``grappes chiffrer`` names
    the line and the column as the file shows it (« ESMS gérés par l'OG »), and the old name
    (``og_nb_esms``) in a file written before the French headers."""
    _, out = written
    lines = (out / "etablissements.csv").read_bytes().decode("utf-8-sig").split("\r\n")
    head = lines[0].split(";")
    where = head.index("ESMS gérés par l'OG")
    cells = lines[1].split(";")
    cells[where] = "-5"
    broken = [lines[0], ";".join(cells), *lines[2:]]
    (tmp_path / "new.csv").write_bytes("\r\n".join(broken).encode("utf-8-sig"))
    result = runner.invoke(app, ["chiffrer", str(tmp_path / "new.csv"), "--json"])
    assert result.exit_code != 0
    assert "ligne 2, champ ESMS gérés par l'OG" in " ".join(result.output.split())
    old = [";".join(column_names(head, "etablissements.csv")), *broken[1:]]
    (tmp_path / "old.csv").write_bytes("\r\n".join(old).encode("utf-8-sig"))
    result = runner.invoke(app, ["chiffrer", str(tmp_path / "old.csv"), "--json"])
    assert result.exit_code != 0 and "ligne 2, champ og_nb_esms" in result.output


def test_workbook_tables_are_numbers_with_formats_filters_and_frozen_header(written):
    scenario, out = written
    wb = load_workbook(out / "grappes.xlsx")
    for sheet in ("grappes", "etablissements", "financements"):
        ws = wb[sheet]
        assert ws.freeze_panes == "A2" and ws.auto_filter.ref, sheet
    ws = wb["grappes"]
    header = column_names([c.value for c in ws[1]], GRAPPES_CSV)
    fin, km, valid = (header.index(n) + 1 for n in ("financement", "distance_max_km", "valide"))
    assert ws.cell(2, fin).number_format == EURO_FORMAT
    assert isinstance(ws.cell(2, fin).value, int | float)
    assert ws.cell(2, km).number_format == KM_FORMAT
    assert ws.cell(2, valid).value == "oui"
    sheets = pd.read_excel(out / "grappes.xlsx", sheet_name=None)
    for name, sheet in sheets.items():
        if name in {sheet_of(f) for f in FILES}:
            sheet.columns = column_names(list(sheet.columns), *FILES)
    assert sheets["grappes"]["financement"].sum() == pytest.approx(scenario.totals().financement)
    csv = read(out / "grappes.csv", decimal=",", dtype={"porteur": str}, keep_default_na=False)
    assert list(sheets["grappes"].columns) == list(csv.columns)
    assert len(sheets["etablissements"]) == len(scenario.etablissements)


def test_every_written_column_is_documented():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "formats-sorties.md").read_text(
        encoding="utf-8")
    assert doc == render(), "docs/formats-sorties.md à régénérer (python -m " \
                            "grappes.exports.formats_doc)"
    for name, columns in FILES.items():
        section = doc.split(f"## `{name}`")[1].split("\n## ")[0]
        assert all(f"| `{c.name}` |" in section for c in columns), name


# --------------------------------------------------------------------------- consistency


def test_propose_out_and_the_app_download_write_the_same_bytes(sample_pa, tmp_path):
    report, scenario = sample_pa
    app_files = csv_files(Scenario.from_whatif(WhatIf.from_report(report), scenario.scope,
                                               scenario.settings))
    write_exports(scenario, tmp_path / "a", xlsx=False)
    write_exports(scenario, tmp_path / "b", xlsx=True)
    for name, content in app_files.items():
        assert (tmp_path / "a" / name).read_bytes() == content, name
        assert (tmp_path / "b" / name).read_bytes() == content, name


def test_cli_propose_json_partenaires_and_files_agree(sample_pa, tmp_path):
    report, scenario = sample_pa
    args = ["--exemple", "--champ", "PA", "--limite-temps", str(TIME)]
    result = runner.invoke(app, ["proposer", *args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    by_id = {g["id"]: g for g in data["grappes"]}
    assert list(by_id) == [g.id for g in scenario.grappes]
    for g in scenario.grappes:
        item = by_id[g.id]
        cost = scenario.costs[g.id]
        assert item["esms"] == list(g.esms)
        assert item["funding"]["total"] == cost.total
        assert item["points_grille"] == cost.score.total
        assert item["criteres_calcules"]["total"] == sum(g.points.values())
        assert item["valide"] is True
    assert data["totals"]["financement"] == pytest.approx(scenario.totals().financement)
    # partenaires, for an autonomous ESMS left out: same proposal, same figures
    whatif = WhatIf.from_report(report)
    etab = whatif.etab
    alone = etab[(etab["champ"] == "PA") & etab["autonome"].astype(bool)]
    target = sorted(set(alone["finess_et"]) - set(whatif.assignment) - whatif.set_aside)[0]
    result = runner.invoke(app, ["partenaires", target, "--exemple", "--limite-temps", str(TIME),
                                 "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    unit = whatif.rows_of(sorted(set(whatif.og_esms(str(etab.set_index("finess_et").at[
        target, "finess_ej"]), "PA")) | {target}))
    seen = 0
    for o in found["options"]:
        if o["type"] != "grappe":
            continue
        seen += 1
        cost = scenario.costs[o["cible"]]
        assert o["points_avant"] == cost.score.total
        assert o["financement_avant"] == cost.total
        km = distance_to_grappe_km(unit, scenario.members(o["cible"]))
        assert o["distance_km"] == pytest.approx(km, abs=0.05)
        # "valide après" is validate's verdict, the 50 km reach included
        if o["valide_apres"]:
            assert km <= scenario.settings.max_km + 1
    assert seen
    # the unplaced ESMS's near miss speaks of the same kilometres
    near = scenario.unplaced.set_index("finess_et").loc[target]
    if isinstance(near["near_miss"], str) and near["near_miss"].startswith("grappe "):
        gid = near["near_miss"].split()[1]
        assert near["near_miss_km"] == pytest.approx(
            distance_to_grappe_km(unit, scenario.members(gid)), abs=0.05)


def test_ids_do_not_depend_on_the_other_fields_solved(sample_pa):
    """One id names one member set in every scope (issue 20, item 7): a PA grappe has the
    same id on « tous les champs » when it has the same members, and ``PA+-…`` (same
    number) when ESMS of another field of its OGs join it there."""
    _, pa_only = sample_pa
    every = Scenario.from_report(propose(load_sample(), None, time_limit=TIME))
    pa_every = {g.id: g for g in every.grappes if g.champ == "PA"}
    assert len(pa_every) == len(pa_only.grappes)
    etab = every.etablissements.set_index("finess_et")
    grown = 0
    for g in pa_only.grappes:
        other = pa_every.get(g.id) or pa_every[g.id.replace("PA-", "PA+-", 1)]
        # same grappe: the same PA members; with every field solved, leftovers of another
        # field of its OGs may be attached (at most 20 %), and they are of another field
        assert {e for e in other.esms if etab.at[e, "champ"] == "PA"} == set(g.esms)
        assert set(other.og) >= set(g.og)
        # the same id, the same members; other members, another id
        assert (other.id == g.id) == (set(other.esms) == set(g.esms))
        grown += other.id != g.id
    assert grown  # the sample has grappes that grow on every field
    assert not every.totals().invalides


def test_generated_region_is_consistent_across_commands(tmp_path):
    from grappes.synthetic import generate, normalise

    etab = normalise(generate(["27"], seed=4, scale=0.5, include_overseas=False))
    report = propose(LoadResult(etablissements=etab), None, champ="PA", time_limit=1.0)
    scenario = Scenario.from_report(report)
    assert scenario.grappes
    assert not scenario.totals().invalides  # the solver's grappes pass validate (reach too)
    files = csv_files(Scenario.from_whatif(WhatIf.from_report(report), scenario.scope,
                                           scenario.settings))
    assert files == csv_files(scenario)
    (tmp_path / "etablissements.csv").write_bytes(files["etablissements.csv"])
    result = runner.invoke(app, ["chiffrer", str(tmp_path / "etablissements.csv"), "--json"])
    assert result.exit_code == 0, result.output
    costed = {g["id"]: g["total"] for g in json.loads(result.stdout)["grappes"]}
    assert costed == pytest.approx({g: c.total for g, c in scenario.costs.items()})
    grappes = read_written_csv(files["grappes.csv"], decimal=",", dtype={"porteur": str},
                               keep_default_na=True)
    assert grappes["financement"].sum() == pytest.approx(scenario.totals().financement)
    wb = load_workbook(io.BytesIO(workbook_bytes(scenario)))
    assert [n for n in wb.sheetnames if n.startswith("dossier ")] == [
        f"dossier {g.id}" for g in scenario.grappes]
