"""``grappes verifier`` and ``grappes.ingest.check.summarise``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import typer
from typer.testing import CliRunner

from grappes.cli.check import MAX_REJECTS_SHOWN, register
from grappes.ingest import load
from grappes.ingest.check import summarise

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "ingest"))
import builders as b

EJ_A, EJ_B = b.finess("45000100"), b.finess("37000200")


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """grappes (test)"""

    register(app)
    return app


def _etalab(tmp_path: Path, bad_rows: int = 0) -> Path:
    f = b.EtalabFile()
    for i in range(6):
        place = [b.ORLEANS, b.TOURS][i % 2]
        et = b.Et(
            b.finess(place[1] + str(i).zfill(6)),
            [EJ_A, EJ_B][i % 2],
            ["500", "183", "355"][i % 3],
            place[1],
            place[2],
        )
        f.ets.append(et)
        if i % 2 == 0:
            f.geo.append(b.geoloc_line(et.et, place[3], place[4]))
    for i in range(bad_rows):
        f.ets.append(b.Et(b.finess("45" + str(100 + i).zfill(6)), EJ_A, "XX", "45", "234"))
    path = tmp_path / "etalab-cs1100507-stock.csv"
    path.write_bytes(f.bytes())
    return path


def test_summarise_counts(tmp_path: Path) -> None:
    summary = summarise(load(_etalab(tmp_path, bad_rows=2)))
    assert summary["usable"] is True
    assert summary["lignes_chargees"] == 6
    assert summary["esms"] == 4  # two 355 hospitals are out of field
    assert summary["og"] == 2
    assert summary["sanitaires"] == 2
    assert summary["by_field"]["PA"] == 2 and summary["by_field"]["PH"] == 2
    assert summary["by_field"]["hors_champ"] == 2
    assert summary["by_departement"] == {"37": 2, "45": 2}
    assert summary["by_categorie"]["500"]["n"] == 2
    assert summary["by_categorie"]["355"]["champ"] == "hors_champ"
    # both OGs run a hospital: 2 ESMS each, petit, not autonomous
    assert summary["by_og_typologie"]["petit"] == {"og": 2, "esms": 4}
    assert summary["autonomes"] == 0
    assert summary["by_statut"]["inconnu"] == {"og": 2, "esms": 4}
    assert summary["coord_source"] == {"fichier": 3, "centroide_commune": 3, "aucune": 0}
    assert [(r["line"], r["field"]) for r in summary["rejected"]] == [
        (8, "categorie"),
        (9, "categorie"),
    ]
    assert set(summary["rejected"][0]) >= {"line", "field", "reason", "source"}
    assert summary["warnings"]
    json.dumps(summary)  # plain types only


def test_cli_check_table_output_and_exit_code(tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(), ["verifier", str(_etalab(tmp_path, bad_rows=1))])
    assert result.exit_code == 0, result.output
    out = result.output
    for words in (
        "Établissements par champ",
        "ESMS par département",
        "OG par typologie",
        "Origine des coordonnées",
        "Lignes rejetées",
        "Données utilisables",
    ):
        assert words in out
    assert "catégorie" in out


def test_cli_check_json(tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(), ["verifier", str(_etalab(tmp_path)), "--json"])
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    for key in (
        "esms",
        "og",
        "by_field",
        "by_departement",
        "by_categorie",
        "by_og_typologie",
        "by_statut",
        "coord_source",
        "rejected",
        "warnings",
    ):
        assert key in payload
    assert payload["esms"] == 4


def test_cli_check_out_writes_the_table_and_all_rejects(tmp_path: Path) -> None:
    out = tmp_path / "sortie"
    n_bad = MAX_REJECTS_SHOWN + 5
    result = CliRunner().invoke(
        _app(), ["verifier", str(_etalab(tmp_path, bad_rows=n_bad)), "--sortie", str(out)]
    )
    assert result.exit_code == 0
    assert f"sur {n_bad}" in result.output and "rejets.csv" in result.output
    etab = pd.read_csv(out / "etablissements.csv", sep=";", dtype=str, encoding="utf-8-sig")
    assert len(etab) == 6 and "finess_et" in etab.columns
    rejets = pd.read_csv(out / "rejets.csv", sep=";", dtype=str, encoding="utf-8-sig")
    assert len(rejets) == n_bad
    assert list(rejets.columns) == ["fichier", "ligne", "champ", "motif", "valeur"]


def test_cli_check_unusable_file_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "vide.csv"
    path.write_bytes(b"")
    result = CliRunner().invoke(_app(), ["verifier", str(path)])
    assert result.exit_code == 1
    assert "vide" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(_app(), ["verifier", str(path), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout.splitlines()[0])["usable"] is False


def test_cli_check_no_programme_esms_exits_1(tmp_path: Path) -> None:
    f = b.EtalabFile(ets=[b.Et(b.finess("45000001"), EJ_A, "355", "45", "234")])
    path = tmp_path / "hopital.csv"
    path.write_bytes(f.bytes())
    result = CliRunner().invoke(_app(), ["verifier", str(path)])
    assert result.exit_code == 1
    assert "inutilisables" in result.output


def test_cli_check_needs_a_file_or_sample() -> None:
    result = CliRunner().invoke(_app(), ["verifier"])
    assert result.exit_code == 2  # bad usage (issue 11)
    assert "--exemple" in result.output


def test_cli_check_sample() -> None:
    result = CliRunner().invoke(_app(), ["verifier", "--exemple", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["esms"] > 1000
    assert payload["by_statut"]["inconnu"]["og"] == 0  # the sample comes with its EJ file
    assert not [r for r in payload["rejected"] if r["source"] == ""]
