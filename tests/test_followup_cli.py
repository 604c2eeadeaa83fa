"""``grappes suivi`` end to end on a SQLite registry: record, import (good and bad), state
as JSON, XLSX export — as the ARS and as the porteur."""

from __future__ import annotations

import json
from datetime import datetime

import openpyxl
import pytest
from rich.console import Console
from typer.testing import CliRunner

from matching.cli import suivi as suivi_cli
from matching.cli.main import app
from matching.followup.csv_import import COLUMNS
from matching.registry import Registry
from tests.followup_factories import FINESS_A, FINESS_B, T2_A, T2_B
from tests.test_followup_import import _export

PW = "mot-de-passe-solide"
runner = CliRunner()


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'g.db'}"
    reg = Registry(url, clock=lambda: datetime(2024, 7, 15, 9, 0))
    reg.init()
    reg.creer_compte(None, "admin@t.fr", "admin", PW)
    admin = reg.connexion("admin@t.fr", PW).jeton
    reg.creer_compte(admin, "ars@t.fr", "ars", PW, ["R24"])
    reg.creer_compte(admin, "porteur@t.fr", "declarant", PW)
    reg.db.dispose()
    return url


def _run(*args, compte="ars@t.fr"):
    return runner.invoke(app, ["suivi", *args, "--compte", compte], input=PW + "\n")


def _csv(path, rows):
    lines = [";".join(COLUMNS)]
    for finess, persons, (m, *counts) in rows:
        lines.append(";".join([finess, f"2024-{m:02d}", str(persons), *map(str, counts)]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_cli_journey(db, tmp_path):
    (tmp_path / "export").mkdir()
    export = _export(tmp_path / "export")
    r = _run("enregistrer", str(export), "--grappe", "PA-24-001", "--signature", "2024-01-10",
             "--regles", "amorcage-t2-2021", "--porteur", "porteur@t.fr", "--db", db)
    assert r.exit_code == 0, r.output
    assert "2 ESMS" in r.output
    rows = [(FINESS_A, 100, x) for x in T2_A] + [(FINESS_B, 50, x) for x in T2_B]
    bad = _csv(tmp_path / "bad.csv", [*rows[:2], (FINESS_B, 50, (1, 30, 20, 99, 10, 10))])
    r = _run("importer", str(bad), "--grappe", "PA-24-001", "--db", db, compte="porteur@t.fr")
    assert r.exit_code == 2
    assert "dossiers_actifs" in r.output and "rien n'a été importé" in r.output
    good = _csv(tmp_path / "ok.csv", rows)
    r = _run("importer", str(good), "--grappe", "PA-24-001", "--db", db, compte="porteur@t.fr")
    assert r.exit_code == 0, r.output
    assert "12 ligne(s) importée(s)" in r.output
    r = _run("importer", str(good), "--grappe", "PA-24-001", "--db", db, compte="ars@t.fr")
    assert r.exit_code == 1 and "non autorisée" in r.output  # the ARS does not write figures
    r = _run("etat", "--json", "--region", "24", "--db", db)
    assert r.exit_code == 0, r.output
    data = json.loads(r.output[r.output.index("{"):])
    states = [t["etat"] for t in data["tranches"]]
    assert states == ["payable", "en attente", "payable"]
    assert data["tranches"][2]["payable_le"].startswith("2024-05-31")
    r = _run("exporter", str(tmp_path / "out"), "--db", db)
    assert r.exit_code == 0, r.output
    wb = openpyxl.load_workbook(tmp_path / "out" / "suivi-grappes.xlsx")
    assert wb.sheetnames == ["grappes", "tranches", "esms_signales", "calendrier",
                             "taux_mensuels"]
    assert wb["tranches"]["E2"].number_format.endswith("€")
    r = _run("exporter", str(tmp_path / "out2"), "--db", db, compte="porteur@t.fr")
    assert r.exit_code == 1


def test_cli_verification_de_service_regulier(db, tmp_path, monkeypatch):
    """2022 grappe: targets met end of May 2024; the porteur records the VSR signed on
    12 June 2024 with ``grappes suivi verification``: the 2nd tranche is payable that day."""
    monkeypatch.setattr(suivi_cli, "console", Console(width=250))  # table cells unwrapped
    (tmp_path / "export").mkdir()
    export = _export(tmp_path / "export")
    r = _run("enregistrer", str(export), "--grappe", "PA-24-001", "--signature", "2024-01-10",
             "--regles", "generalisation-2022", "--porteur", "porteur@t.fr", "--db", db)
    assert r.exit_code == 0, r.output
    rows = [(FINESS_A, 100, x) for x in T2_A] + [(FINESS_B, 50, x) for x in T2_B]
    r = _run("importer", str(_csv(tmp_path / "ok.csv", rows)), "--grappe", "PA-24-001",
             "--db", db, compte="porteur@t.fr")
    assert r.exit_code == 0, r.output
    r = _run("etat", "--db", db)
    assert r.exit_code == 0, r.output
    assert "en attente de vérification" in r.output and "à enregistrer" in r.output
    r = _run("verification", "--grappe", "PA-24-001", "--date", "2024-06-12", "--db", db)
    assert r.exit_code == 1 and "non autorisée" in r.output  # the ARS reads it only
    r = _run("verification", "--grappe", "PA-24-001", "--date", "2024-06-12", "--db", db,
             compte="porteur@t.fr")
    assert r.exit_code == 0, r.output
    assert "tranche 2 enregistrée (signée le 12/06/2024)" in r.output.replace("\n", " ")
    r = _run("etat", "--json", "--db", db)
    data = json.loads(r.output[r.output.index("{"):])
    usage = data["tranches"][1]
    assert (usage["etat"], usage["payable_le"][:10]) == ("payable", "2024-06-12")
    assert usage["verification_service_regulier"] == "signée"
    assert usage["verification_par"] == "porteur@t.fr"
