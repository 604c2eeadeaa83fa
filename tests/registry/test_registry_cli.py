"""``grappes registre …`` end to end on a SQLite file (the API is tested on both backends)."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from grappes.cli.main import app
from grappes.registry.db import head_revision
from tests.registry.conftest import OG_A, OG_B, PASSWORD, sample_esms

runner = CliRunner()


def test_registre_cli(tmp_path, monkeypatch):
    db = str(tmp_path / "grappes.db")
    monkeypatch.delenv("GRAPPES_DB_URL", raising=False)
    monkeypatch.delenv("GRAPPES_COMPTE", raising=False)
    monkeypatch.setenv("GRAPPES_FINESS", "sample")

    def run(*args, input=None, env=None):
        return runner.invoke(app, ["registre", *args, "--base", db], input=input, env=env)

    # before init: a clear message, not a traceback
    r = run("compte", "ajouter", "admin@test.fr", "--role", "admin", "--mot-de-passe-stdin",
            input=PASSWORD + "\n")
    assert r.exit_code == 1 and "grappes registre init" in r.output
    assert f"révision {head_revision()}" in run("init").output.replace("\n", "")
    r = run("compte", "ajouter", "admin@test.fr", "--role", "admin", "--mot-de-passe-stdin",
            input=PASSWORD + "\n")
    assert r.exit_code == 0, r.output
    # no second "first admin"
    r = run("compte", "ajouter", "evil@test.fr", "--role", "admin", "--mot-de-passe-stdin",
            input=PASSWORD + "\n")
    assert r.exit_code == 1 and "existe déjà" in r.output
    admin = {"GRAPPES_COMPTE": "admin@test.fr", "GRAPPES_MOT_DE_PASSE": PASSWORD}
    r = run("compte", "ajouter", "coord@test.fr", "--role", "coordinateur", "--territoire",
            "37", input=PASSWORD + "\n", env=admin)
    assert r.exit_code == 0 and "coordinateur, territoire 37" in r.output, r.output
    r = run("compte", "ajouter", "x@test.fr", "--role", "coordinateur", "--territoire", "37",
            input="court\n", env=admin)
    assert r.exit_code == 1 and "au moins 12 caractères" in r.output

    rows = [{"finess_ej": ej, "finess_et": e.finess_et, "contact_nom": f"Contact {ej}",
             "contact_email": f"{ej}@og.fr", "consentement": "oui"}
            for ej in (OG_A, OG_B) for e in sample_esms(ej)]
    rows.append({"finess_ej": "371114794", "finess_et": "371114795", "contact_nom": "Z",
                 "contact_email": "z@og.fr", "consentement": "oui"})
    csv = tmp_path / "declarations.csv"
    pd.DataFrame(rows).to_csv(csv, sep=";", index=False, encoding="utf-8-sig")
    coord = {"GRAPPES_COMPTE": "coord@test.fr", "GRAPPES_MOT_DE_PASSE": PASSWORD}
    r = run("importer", str(csv), "--rejets", str(tmp_path / "rejets.csv"), env=coord)
    assert r.exit_code == 0, r.output
    assert "2 déclaration(s) chargée(s), 1 ligne(s) rejetée(s)" in r.output
    rejets = pd.read_csv(tmp_path / "rejets.csv", sep=";", encoding="utf-8-sig", dtype=str)
    assert rejets.to_dict("records")[0]["ligne"] == str(len(rows) + 1)
    assert rejets.to_dict("records")[0]["champ"] == "finess_et"

    r = run("apparier", "--territoire", "37", "--limite-temps", "5", env=coord)
    assert r.exit_code == 0, r.output
    assert "1 grappe(s) proposée(s)" in r.output
    r = run("apparier", "--territoire", "45", env=coord)
    assert r.exit_code == 1 and "non autorisée" in r.output
    r = run("exporter", str(tmp_path / "out"), "--territoire", "37", env=coord)
    assert r.exit_code == 1 and "aucune grappe constituée" in r.output
    r = run("purger", env=admin)
    assert r.exit_code == 0 and "0 déclaration(s)" in r.output
    r = run("purger", env=coord)
    assert r.exit_code == 1
    r = run("journal", env=admin)
    assert r.exit_code == 0 and "import" in r.output
    r = run("journal", env={"GRAPPES_COMPTE": "admin@test.fr",
                            "GRAPPES_MOT_DE_PASSE": "mauvais-mot-de-passe"})
    assert r.exit_code == 1 and "incorrect" in r.output
