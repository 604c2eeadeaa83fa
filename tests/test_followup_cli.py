"""``grappes suivi`` end to end on a SQLite registry: record, import (good and bad), state
as JSON, XLSX export — as the ARS and as the porteur."""

from __future__ import annotations

import json
from datetime import datetime

import openpyxl
import pytest
from rich.console import Console
from typer.testing import CliRunner

from grappes.cli import suivi as suivi_cli
from grappes.cli.main import app
from grappes.followup.csv_import import COLUMNS
from grappes.registry import Registry
from tests.followup_exports import GRAPPE, propose_out, read_written_csv
from tests.followup_factories import T2_A, T2_B

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


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """A real ``propose --sortie --xlsx`` folder (16 ESMS, one grappe ``PA-24-001``)."""
    return propose_out(tmp_path_factory.mktemp("propose") / "sortie")


def _members(export) -> list[str]:
    etab = read_written_csv(export / "etablissements.csv")
    return sorted(etab.loc[etab["grappe"] == GRAPPE, "finess_et"])


def _rows(export):
    """First half of the members on T2_A's figures (100 persons), the rest on T2_B's (50):
    every target holds from May 2024."""
    members = _members(export)
    half = len(members) // 2
    return ([(f, 100, x) for f in members[:half] for x in T2_A]
            + [(f, 50, x) for f in members[half:] for x in T2_B])


def _run(*args, compte="ars@t.fr"):
    return runner.invoke(app, ["suivi", *args, "--compte", compte], input=PW + "\n")


def _csv(path, rows):
    lines = [";".join(COLUMNS)]
    for finess, persons, (m, *counts) in rows:
        lines.append(";".join([finess, f"2024-{m:02d}", str(persons), *map(str, counts)]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_cli_journey(db, tmp_path, export):
    r = _run("enregistrer", str(export), "--grappe", GRAPPE, "--signature", "2024-01-10",
             "--porteur", "porteur@t.fr", "--base", db)
    assert r.exit_code == 0, r.output
    assert "16 ESMS" in r.output
    rows = _rows(export)
    last = rows[-1][0]
    bad = _csv(tmp_path / "bad.csv", [*rows[:2], (last, 50, (1, 30, 20, 99, 10, 10))])
    r = _run("importer", str(bad), "--grappe", GRAPPE, "--base", db, compte="porteur@t.fr")
    assert r.exit_code == 1  # unusable data (docs/formats-entree.md), not a usage error
    assert "dossiers_actifs" in r.output and "rien n'a été importé" in r.output
    good = _csv(tmp_path / "ok.csv", rows)
    r = _run("importer", str(good), "--grappe", GRAPPE, "--base", db, compte="porteur@t.fr")
    assert r.exit_code == 0, r.output
    assert "96 ligne(s) importée(s)" in r.output
    r = _run("importer", str(good), "--grappe", GRAPPE, "--base", db, compte="ars@t.fr")
    assert r.exit_code == 1 and "non autorisée" in r.output  # the ARS does not write figures
    r = _run("etat", "--json", "--region", "24", "--base", db)
    assert r.exit_code == 0, r.output
    data = json.loads(r.output[r.output.index("{"):])
    states = [t["etat"] for t in data["tranches"]]
    assert states == ["payable", "en attente", "payable"]
    assert data["tranches"][2]["payable_le"] == "2024-05-31"  # a plain ISO date
    assert data["grappes"][0]["signature"] == "2024-01-10"
    # the month each ESMS met each target: T2_A members meet DMP in 2024-04 (first
    # 3-month measure 60 %, then 70 %), T2_B members in 2024-04 too; active files: A in
    # 2024-03, B (88 % in April) in 2024-05
    met = {(c["finess_et"], c["indicateur_code"]): c["atteinte"] for c in data["cibles"]}
    first, last = _members(export)[0], _members(export)[-1]
    assert met[(first, "dmp")] == "2024-04" and met[(first, "dossiers_actifs")] == "2024-03"
    assert met[(last, "dossiers_actifs")] == "2024-05"
    assert len(data["cibles"]) == (16 + 1) * 5  # every ESMS and the grappe, 5 indicators
    r = _run("versement", "--grappe", GRAPPE, "--tranche", "2", "--date", "2024-07-01",
             "--base", db)
    assert r.exit_code == 1 and "pas payable" in r.output  # no milestone declared
    r = _run("versement", "--grappe", GRAPPE, "--tranche", "3", "--date", "2024-07-01",
             "--base", db, compte="porteur@t.fr")
    assert r.exit_code == 1 and "non autorisée" in r.output  # the ARS records payments
    r = _run("versement", "--grappe", GRAPPE, "--tranche", "3", "--date", "2024-07-01",
             "--base", db)
    assert r.exit_code == 0, r.output
    r = _run("versement", "--grappe", GRAPPE, "--tranche", "3", "--date", "2024-07-02",
             "--base", db)
    assert r.exit_code == 1 and "déjà versée le 01/07/2024" in r.output
    r = _run("versement", "--grappe", GRAPPE, "--tranche", "3", "--date", "01/07/2024",
             "--base", db)
    assert r.exit_code == 2 and "AAAA-MM-JJ" in r.output
    r = _run("etat", "--json", "--base", db)
    data = json.loads(r.output[r.output.index("{"):])
    assert data["tranches"][2]["versee_le"] == "2024-07-01"
    r = _run("exporter", str(tmp_path / "out"), "--base", db)
    assert r.exit_code == 0, r.output
    wb = openpyxl.load_workbook(tmp_path / "out" / "suivi-grappes.xlsx")
    assert wb.sheetnames == ["grappes", "tranches", "esms_signales", "cibles", "calendrier",
                             "taux_mensuels"]
    assert wb["tranches"]["E2"].number_format.endswith("€")
    r = _run("exporter", str(tmp_path / "out2"), "--base", db, compte="porteur@t.fr")
    assert r.exit_code == 1


def test_cli_verification_de_service_regulier(db, tmp_path, monkeypatch, export):
    """2022 grappe: targets met end of May 2024; the porteur records the VSR signed on
    12 June 2024 with ``grappes suivi verification``: the 2nd tranche is payable that day."""
    monkeypatch.setattr(suivi_cli, "console", Console(width=250))  # table cells unwrapped
    r = _run("enregistrer", str(export / "grappes.xlsx"), "--grappe", GRAPPE, "--signature",
             "2024-01-10", "--regles", "generalisation-2022", "--porteur", "porteur@t.fr",
             "--base", db)
    assert r.exit_code == 0, r.output
    rows = _rows(export)
    r = _run("importer", str(_csv(tmp_path / "ok.csv", rows)), "--grappe", GRAPPE,
             "--base", db, compte="porteur@t.fr")
    assert r.exit_code == 0, r.output
    r = _run("etat", "--base", db)
    assert r.exit_code == 0, r.output
    assert "en attente de vérification" in r.output and "à enregistrer" in r.output
    r = _run("verification", "--grappe", GRAPPE, "--date", "2024-06-12", "--base", db)
    assert r.exit_code == 1 and "non autorisée" in r.output  # the ARS reads it only
    r = _run("verification", "--grappe", GRAPPE, "--date", "2024-06-12", "--base", db,
             compte="porteur@t.fr")
    assert r.exit_code == 0, r.output
    assert "tranche 2 enregistrée (signée le 12/06/2024)" in r.output.replace("\n", " ")
    r = _run("etat", "--json", "--base", db)
    data = json.loads(r.output[r.output.index("{"):])
    usage = data["tranches"][1]
    assert (usage["etat"], usage["payable_le"][:10]) == ("payable", "2024-06-12")
    assert usage["verification_service_regulier"] == "signée"
    assert usage["verification_par"] == "porteur@t.fr"


def _failures(db: str, email: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(db)
    with engine.connect() as c:
        n = c.execute(text("SELECT echecs FROM comptes WHERE email = :e"), {"e": email}).scalar()
    engine.dispose()
    return int(n)


def test_both_groups_sign_in_from_the_environment(db, tmp_path):
    """``grappes registre`` and ``grappes suivi`` run non-interactively (no stdin) with
    GRAPPES_COMPTE and GRAPPES_MOT_DE_PASSE, and share the exit codes: 0 done, 1 refused
    (wrong password, unusable import), 2 usage (no password: no attempt counted)."""
    def run(*args, compte, password=PW):
        env = {"GRAPPES_COMPTE": compte, "GRAPPES_MOT_DE_PASSE": password}
        return runner.invoke(app, [*args, "--base", db], env=env)

    r = run("registre", "compte", "liste", compte="admin@t.fr")
    assert r.exit_code == 0 and "ars@t.fr" in r.output, r.output
    r = run("suivi", "etat", "--json", compte="ars@t.fr")
    assert r.exit_code == 0 and json.loads(r.output)["grappes"] == [], r.output
    bad = tmp_path / "declarations.csv"
    bad.write_text("finess_ej;finess_et;contact_nom;contact_email;consentement\n"
                   "123;456;X;x@og.fr;oui\n", encoding="utf-8")
    r = run("registre", "importer", str(bad), compte="admin@t.fr")
    assert r.exit_code == 1 and "1 ligne(s) rejetée(s)" in r.output, r.output
    r = run("suivi", "importer", str(bad), "--grappe", "X", compte="ars@t.fr")
    assert r.exit_code == 1 and "non autorisée" in r.output
    for group in (("registre", "compte", "liste"), ("suivi", "etat")):
        r = run(*group, compte="admin@t.fr", password="mauvais-mot-de-passe")
        assert r.exit_code == 1 and "incorrect" in r.output, r.output
    before = _failures(db, "ars@t.fr")
    for group in (("registre", "journal"), ("suivi", "etat")):
        r = run(*group, compte="ars@t.fr", password="")
        assert r.exit_code == 2 and "mot de passe manquant" in r.output, r.output
    assert _failures(db, "ars@t.fr") == before
