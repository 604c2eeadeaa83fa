"""Exports: the CSV set reads back in French Excel form, the XLSX holds one dossier per grappe."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from openpyxl import load_workbook
from test_app_factory import members, region

from grappes.core.model import LoadResult
from grappes.exports.dossier import CSV_FILES, XLSX_FILE, csv_files, workbook_bytes, write_exports
from grappes.exports.files import FILES, column_names
from grappes.exports.french_excel import EURO_FORMAT
from grappes.programme.costing import cost_grappe
from grappes.programme.validate import check_grouping
from grappes.scenarios.scenario import Scenario, Scope
from grappes.scenarios.whatif import WhatIf
from grappes.solver.settings import SolverSettings


def read_csv(data: bytes) -> pd.DataFrame:
    """A written CSV, its French headers checked and read back as the columns' names (as the
    tool's readers do: ``files.column_names``)."""
    frame = pd.read_csv(io.BytesIO(data), sep=";", encoding="utf-8-sig", dtype=str,
                        keep_default_na=False)
    headers = {c.header for columns in FILES.values() for c in columns}
    assert set(frame.columns) <= headers, set(frame.columns) - headers
    frame.columns = column_names(list(frame.columns), *FILES)
    return frame


@pytest.fixture(scope="module")
def data():
    r = region()
    etab = r.etab.copy()
    # a name that a spreadsheet would run as a formula
    etab.loc[etab["finess_ej"] == "370000013", "raison_sociale_ej"] = "=HYPERLINK(\"x\")"
    costs = {g.id: cost_grappe(members(etab, g.esms), r.rules, porteur=g.porteur)
             for g in r.grappes}
    unplaced = pd.DataFrame({"finess_et": [r.isolated], "code": ["aucun_partenaire"],
                             "reason": ["aucun partenaire"],
                             "near_miss": ["grappe PA-24-001 à 3 km"], "near_miss_km": [3.04]})
    violations = check_grouping(etab, {e: g.id for g in r.grappes for e in g.esms},
                                {g.id: g.champ for g in r.grappes}, r.rules.grouping)
    return r, Scenario(etab, r.rules, Scope(champs=("PA",)), SolverSettings(), r.grappes, costs,
                       violations, unplaced)


def test_csv_set_reads_back(data):
    r, export = data
    files = csv_files(export)
    assert list(files) == list(CSV_FILES)
    assert all(content.startswith(b"\xef\xbb\xbf") for content in files.values())
    grappes = read_csv(files["grappes.csv"])
    assert list(grappes["grappe"]) == ["PA-24-001", "PA-24-002"]
    for g in r.grappes:
        row = grappes.set_index("grappe").loc[g.id]
        # whole euros, no ".0"
        assert row["financement"] == str(int(export.costs[g.id].total))
        assert int(row["nb_esms"]) == len(g.esms) and row["valide"] == "oui"
        assert row["porteur"] == g.porteur
    etab = read_csv(files["etablissements.csv"])
    assert len(etab) == len(r.etab)
    assert set(etab["finess_et"]) == set(r.etab["finess_et"])  # codes stay text
    placed = etab[etab["grappe"] != ""]
    assert set(placed["finess_et"]) == {e for g in r.grappes for e in g.esms}
    porteur_rows = etab[etab["og_porteur"] == "oui"]
    assert set(porteur_rows["finess_ej"]) == {"370000011", "450000020"}
    assert set(etab.loc[etab["grappe"] != "", "porteur"]) == {"370000011", "450000020"}
    assert set(etab["og_porteur"]) == {"oui", "non"}
    isolated = etab.set_index("finess_et").loc[r.isolated]
    assert isolated["raison"] == "aucun partenaire" and isolated["grappe"] == ""
    assert isolated["raison_code"] == "aucun_partenaire"
    assert isolated["quasi_grappe"].startswith("grappe PA-24-001")
    assert isolated["quasi_grappe_km"] == "3"  # one decimal, decimal comma, no ",0"
    # labels in text columns, codes in their own column
    assert "à mettre à niveau" in set(etab["dui_statut"]) or "conforme" in set(etab["dui_statut"])
    assert set(etab["dui_statut_code"]) <= {"aucun", "non_conforme", "a_mettre_a_niveau",
                                            "conforme", "inconnu"}
    lines = read_csv(files["financements.csv"])
    lines["montant"] = lines["montant"].astype(float)
    grant = lines[lines["levier"] == "ESMS numérique"].groupby("grappe")["montant"].sum()
    for g in r.grappes:
        assert grant[g.id] == pytest.approx(export.costs[g.id].total)


def test_formula_names_are_neutralised(data):
    _, export = data
    etab = read_csv(csv_files(export)["etablissements.csv"])
    names = set(etab.loc[etab["finess_ej"] == "370000013", "raison_sociale_ej"])
    assert names == {"'=HYPERLINK(\"x\")"}
    wb = load_workbook(io.BytesIO(workbook_bytes(export)))
    ws = wb["dossier PA-24-001"]
    values = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert "'=HYPERLINK(\"x\")" in values and "=HYPERLINK(\"x\")" not in values


def test_workbook_has_one_dossier_per_grappe(data):
    r, export = data
    wb = load_workbook(io.BytesIO(workbook_bytes(export)))
    assert wb.sheetnames == ["grappes", "etablissements", "financements", "financements_og",
                             "dossier PA-24-001", "dossier PA-24-002"]
    assert wb["etablissements"].max_row == len(r.etab) + 1
    for g in r.grappes:
        ws = wb[f"dossier {g.id}"]
        cells = [[c.value for c in row] for row in ws.iter_rows()]
        width = max(len(row) for row in cells)
        cells = [row + [None] * (width - len(row)) for row in cells]
        flat = [v for row in cells for v in row if v is not None]
        assert cells[0][0] == f"Dossier de candidature — grappe {g.id}"
        assert ws.cell(1, 1).font.bold
        assert g.porteur in flat
        assert all(e in flat for e in g.esms)
        assert all(og in flat for og in g.og)
        cost = export.costs[g.id]
        total_row = next(i for i, row in enumerate(cells, 1) if row[0] == "Total ESMS numérique")
        assert ws.cell(total_row, 5).value == pytest.approx(cost.total)
        assert ws.cell(total_row, 5).number_format == EURO_FORMAT
        start = next(i for i, row in enumerate(cells) if row[0] == "Échéancier de versement")
        amounts = [row[2] for row in cells[start + 2: start + 2 + len(cost.schedule)]]
        assert sum(amounts) == pytest.approx(cost.total)
        assert "Typologie de projet" in flat and "Grappe de petites structures" in flat


def test_write_exports_from_an_edited_scenario(tmp_path):
    r = region()
    whatif = WhatIf.from_grappes(r.etab, r.rules, r.grappes, champ="PA")
    whatif.move_og("370000013", "")
    scenario = Scenario.from_whatif(whatif)
    paths = write_exports(scenario, tmp_path / "sortie", xlsx=False)
    assert [p.name for p in paths] == list(CSV_FILES)
    grappes = read_csv((tmp_path / "sortie" / "grappes.csv").read_bytes()).set_index("grappe")
    assert grappes.loc["PA-24-001", "nb_esms"] == "10"
    assert grappes.loc["PA-24-001", "valide"] == "non"
    assert "10 ESMS comptés" in grappes.loc["PA-24-001", "regles_enfreintes"]
    etab = read_csv((tmp_path / "sortie" / "etablissements.csv").read_bytes())
    moved = etab[etab["finess_ej"] == "370000013"]
    assert (moved["grappe"] == "").all()
    assert moved["raison"].str.contains("modification").all()
    assert not (tmp_path / "sortie" / XLSX_FILE).exists()


def test_exports_of_a_propose_report(tmp_path):
    from grappes.solver.propose import propose

    r = region()
    report = propose(LoadResult(etablissements=r.etab), "amorcage-t2-2021", champ="PA",
                     time_limit=1.0)
    scenario = Scenario.from_report(report)
    assert [g.id for g in scenario.grappes] == [g.id for g in report.grappes]
    paths = write_exports(scenario, tmp_path, xlsx=True)
    assert [p.name for p in paths] == [*CSV_FILES, XLSX_FILE]
    grappes = read_csv((tmp_path / "grappes.csv").read_bytes())
    assert len(grappes) == len(report.grappes)
    totals = dict(zip(grappes["grappe"], grappes["financement"].astype(float), strict=True))
    for gid, cost in report.costs.items():
        assert totals[gid] == pytest.approx(cost.total)
    wb = load_workbook(tmp_path / XLSX_FILE)
    assert [n for n in wb.sheetnames if n.startswith("dossier")] == [
        f"dossier {g.id}" for g in report.grappes]
    with pytest.raises(ValueError, match="dossier de sortie"):
        write_exports(scenario, tmp_path / "grappes.csv" / "x", xlsx=False)


def test_dossier_sheets_name_ogs_and_never_show_codes(tmp_path):
    """Issue 20.4, on the tool's own output (``propose`` then ``write_exports``): the dossier
    sheets show the DUI status as words (« à mettre à niveau », not ``a_mettre_a_niveau``),
    each ESMS's OG as « Nom (FINESS) », and no snake_case code nor bare « OG 123456789 »."""
    import re

    from grappes.solver.propose import propose

    r = region()
    report = propose(LoadResult(etablissements=r.etab), "amorcage-t2-2021", champ="PA",
                     time_limit=1.0)
    write_exports(Scenario.from_report(report), tmp_path, xlsx=True)
    wb = load_workbook(tmp_path / XLSX_FILE)
    names = dict(zip(r.etab["finess_ej"], r.etab["raison_sociale_ej"], strict=True))
    dossiers = [wb[n] for n in wb.sheetnames if n.startswith("dossier")]
    known = sorted({*r.etab["raison_sociale"], *r.etab["raison_sociale_ej"]}, key=len,
                   reverse=True)

    def unnamed(text: str) -> str:  # the factory's names hold numbers: leave them out
        for name in known:
            text = text.replace(name, "")
        return text

    assert dossiers
    texts = [str(c.value) for ws in dossiers for row in ws.iter_rows() for c in row
             if isinstance(c.value, str)]
    assert [t for t in texts if re.search(r"\b[a-z]+_[a-z_]+\b", t)] == []
    assert [t for t in texts if re.search(r"\bOG \d{9}", t)] == []
    assert any(t.startswith("à mettre à niveau") for t in texts)
    for ws in dossiers:
        rows = [[c.value for c in row] for row in ws.iter_rows()]
        head = next(i for i, row in enumerate(rows) if row[0] == "FINESS ET")
        assert rows[head][4] == "OG (FINESS EJ)"
        for row in rows[head + 1:]:
            if not row[0]:
                break
            ej = re.fullmatch(r"(.+) \((\d{9})\)", str(row[4]))
            assert ej and names[ej.group(2)] == ej.group(1), row[4]
        # the sentences (attention points, reasons: one cell per row) name what they cite
        notes = [str(row[0]) for row in rows
                 if row[0] and not any(row[1:]) and str(row[0]).endswith(".")]
        bare = [t for t in notes if re.search(r"(?<!\()\b\d{9}\b(?!\))", unnamed(t))]
        assert bare == []
