"""Issue 11: every command answers bad input with a French message and an exit code
(1 bad data, 2 bad usage), never a traceback; outputs are written safely."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from grappes.cli.main import app
from grappes.exports.french_excel import write_csv
from grappes.exports.safe_write import OutputError, write_bytes_safely

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "ingest"))
sys.path.insert(0, str(Path(__file__).parent))
import builders as b
from rules_factories import make_etab, make_og

runner = CliRunner()
EJ = b.finess("45000100")


def _template(path: Path, rows: list[dict[str, str]] | None = None, extra: str = "") -> Path:
    columns = ["finess_et", "finess_ej", "categorie", "commune", "dui_statut"]
    rows = rows or [
        {"finess_et": b.finess("45" + str(i).zfill(6)), "finess_ej": EJ, "categorie": "500",
         "commune": "45234", "dui_statut": "aucun"}
        for i in range(1, 5)
    ]
    path.write_text(b.template(rows, columns) + extra, encoding="utf-8")
    return path


def _out(result) -> str:
    """The output with rich's line wrapping undone."""
    return " ".join(result.output.split())


def _no_traceback(result) -> None:
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)


# ---- check --json with a wrong-width row (numpy int64 in the JSON) ----------------------


def test_check_json_with_a_wrong_width_template_row(tmp_path: Path) -> None:
    path = _template(tmp_path / "modele.csv", extra="450000019;450001003;500\n")
    result = runner.invoke(app, ["verifier", str(path), "--json"])
    _no_traceback(result)
    payload = json.loads(result.stdout)
    assert [r["line"] for r in payload["rejected"]] == [6]


def test_check_json_with_a_wrong_width_dui_row(tmp_path: Path) -> None:
    path = _template(tmp_path / "modele.csv")
    dui = tmp_path / "dui.csv"
    dui.write_text("finess_et;dui_statut\n450000001;aucun;en trop\n", encoding="utf-8")
    result = runner.invoke(app, ["verifier", str(path), "--dui", str(dui), "--json"])
    _no_traceback(result)
    assert any(r["source"] == "dui" for r in json.loads(result.stdout)["rejected"])


# ---- --sortie: existing file, directory in the way, symlink, system folders -----------------


@pytest.mark.parametrize("command", ["check", "cost", "select"])
def test_out_pointing_to_an_existing_file_is_bad_usage(tmp_path: Path, command: str) -> None:
    target = tmp_path / "occupe.txt"
    target.write_text("x")
    args = {
        "check": ["verifier", str(_template(tmp_path / "m.csv"))],
        "cost": ["chiffrer", str(_grouping(tmp_path))],
        "select": ["selectionner", str(_grouping(tmp_path)), "--enveloppe", "1000000"],
    }[command]
    result = runner.invoke(app, [*args, "--sortie", str(target)])
    _no_traceback(result)
    assert result.exit_code == 2
    assert "est un fichier, pas un dossier" in _out(result)
    assert target.read_text() == "x"


def test_a_directory_named_like_an_output_file(tmp_path: Path) -> None:
    out = tmp_path / "sortie"
    (out / "rejets.csv").mkdir(parents=True)
    result = runner.invoke(app, ["verifier", str(_template(tmp_path / "m.csv")),
                                 "--sortie", str(out)])
    _no_traceback(result)
    assert result.exit_code == 2 and "un dossier porte déjà ce nom" in _out(result)


def test_a_symlink_in_the_output_folder_is_never_followed(tmp_path: Path) -> None:
    victim = tmp_path / "precieux.txt"
    victim.write_text("ne pas écraser")
    out = tmp_path / "sortie"
    out.mkdir()
    (out / "rejets.csv").symlink_to(victim)
    result = runner.invoke(app, ["verifier", str(_template(tmp_path / "m.csv")),
                                 "--sortie", str(out)])
    _no_traceback(result)
    assert result.exit_code == 2 and "lien symbolique" in _out(result)
    assert victim.read_text() == "ne pas écraser"


def test_overwritten_files_are_named(tmp_path: Path) -> None:
    out = tmp_path / "sortie"
    out.mkdir()
    (out / "etablissements.csv").write_text("ancien")
    result = runner.invoke(app, ["verifier", str(_template(tmp_path / "m.csv")),
                                 "--sortie", str(out)])
    assert result.exit_code == 0, result.output
    assert "remplacé" in _out(result) and "etablissements.csv" in _out(result)
    assert (out / "etablissements.csv").read_text(encoding="utf-8-sig").startswith("finess_et")
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp file left


@pytest.mark.parametrize("folder", ["/", "/etc", "/usr/lib"])
def test_system_folders_are_refused(tmp_path: Path, folder: str) -> None:
    result = runner.invoke(app, ["verifier", str(_template(tmp_path / "m.csv")),
                                 "--sortie", folder])
    _no_traceback(result)
    assert result.exit_code == 2 and "dossier du système" in _out(result)


@pytest.mark.skipif(os.geteuid() == 0, reason="root écrit partout")
def test_a_folder_the_user_cannot_write(tmp_path: Path) -> None:
    out = tmp_path / "ferme"
    out.mkdir(mode=0o500)
    result = runner.invoke(app, ["verifier", str(_template(tmp_path / "m.csv")),
                                 "--sortie", str(out)])
    assert result.exit_code == 2 and "pas le droit" in _out(result)


def test_safe_write_replaces_atomically_and_refuses_links(tmp_path: Path) -> None:
    path = write_csv(pd.DataFrame({"a": [1]}), tmp_path / "x.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    link = tmp_path / "lien.csv"
    link.symlink_to(tmp_path / "absent.csv")  # even a broken link
    with pytest.raises(OutputError, match="lien symbolique"):
        write_bytes_safely(link, b"data")
    assert not (tmp_path / "absent.csv").exists()


# ---- select: envelope, time limit, totals ----------------------------------------------------


def _grouping(tmp_path: Path, edit=None) -> Path:
    rows = make_og("370000001", 6) + make_og("370000002", 6) + make_og("370000003", 5)
    etab = make_etab(rows)
    etab["grappe"] = "A"
    if edit:
        edit(etab)
    path = tmp_path / "etablissements.csv"
    write_csv(etab, path)
    return path


@pytest.mark.parametrize("value", ["inf", "1e308", "nan", "-5", "0"])
def test_select_envelope_must_be_a_finite_positive_amount(tmp_path: Path, value: str) -> None:
    result = runner.invoke(app, ["selectionner", str(_grouping(tmp_path)), "--enveloppe", value])
    _no_traceback(result)
    assert result.exit_code == 2 and "--enveloppe" in _out(result)


@pytest.mark.parametrize("value", ["0", "-1", "nan"])
def test_select_time_limit(tmp_path: Path, value: str) -> None:
    result = runner.invoke(app, ["selectionner", str(_grouping(tmp_path)), "--enveloppe", "1e6",
                                 "--limite-temps", value])
    _no_traceback(result)
    assert result.exit_code == 2 and "--limite-temps" in _out(result)


def test_select_refuses_an_infinite_grappe_total(tmp_path: Path) -> None:
    path = tmp_path / "grappes.csv"
    path.write_text("grappe;total;points\nG1;inf;3\nG2;1000;2\n", encoding="utf-8")
    result = runner.invoke(app, ["selectionner", str(path), "--enveloppe", "1e6"])
    _no_traceback(result)
    assert result.exit_code == 1 and "ligne 2, champ total" in _out(result)


# ---- cost: impossible values of a grouping file (item 5) -------------------------------------


@pytest.mark.parametrize(
    ("column", "value", "words"),
    [
        ("og_nb_esms", -5, "og_nb_esms"),
        ("og_nb_esms", 2.5, "entier"),
        ("og_nb_esms", 1, "inférieur au nombre d'ESMS"),
        ("capacite", -3, "capacite"),
        ("champ", "XX", "champ"),
        ("dui_statut", "peut-être", "dui_statut"),
        ("departement", "00", "departement"),
        ("derogatoire", True, "derogatoire"),
        ("og_typologie", "gros", "og_typologie"),
        ("lat", float("inf"), "lat"),
    ],
)
def test_cost_refuses_values_that_change_the_money(
    tmp_path: Path, column: str, value: object, words: str
) -> None:
    def edit(etab: pd.DataFrame) -> None:
        etab[column] = etab[column].astype(object)
        etab.loc[etab.index[0], column] = value

    result = runner.invoke(app, ["chiffrer", str(_grouping(tmp_path, edit)), "--json"])
    _no_traceback(result)
    assert result.exit_code == 1, result.output
    assert "ligne 2" in _out(result) and words in _out(result)


def test_cost_accepts_the_unedited_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["chiffrer", str(_grouping(tmp_path)), "--json"])
    assert result.exit_code == 0, result.output


# ---- propose -------------------------------------------------------------------------------


def test_propose_with_a_binary_links_file(tmp_path: Path) -> None:
    links = tmp_path / "liens.csv"
    links.write_bytes(bytes(range(256)) * 4)
    result = runner.invoke(app, ["proposer", "--exemple", "--liens", str(links)])
    _no_traceback(result)
    assert result.exit_code == 1 and "liens" in _out(result)


@pytest.mark.parametrize("seed", ["9223372036854775807", "-1"])
def test_propose_with_an_out_of_range_seed(seed: str) -> None:
    result = runner.invoke(app, ["proposer", "--exemple", "--graine", seed])
    _no_traceback(result)
    assert result.exit_code == 2 and "--graine" in _out(result)


@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
def test_propose_time_limit(value: str) -> None:
    result = runner.invoke(app, ["proposer", "--exemple", "--limite-temps", value])
    _no_traceback(result)
    assert result.exit_code == 2 and "--limite-temps" in _out(result)


def test_propose_reports_the_rejected_rows(tmp_path: Path) -> None:
    rows = [
        {"finess_et": b.finess("45" + str(i).zfill(6)), "finess_ej": EJ, "categorie": "500",
         "commune": "45234", "dui_statut": "aucun"}
        for i in range(1, 5)
    ]
    rows.append({"finess_et": "000000000", "finess_ej": EJ, "categorie": "500",
                 "commune": "45234", "dui_statut": "aucun"})
    path = _template(tmp_path / "m.csv", rows)
    out = tmp_path / "sortie"
    result = runner.invoke(app, ["proposer", str(path), "--limite-temps", "1",
                                 "--sortie", str(out)])
    assert result.exit_code == 0, result.output
    assert "1 ligne(s) rejetée(s)" in _out(result) and "rejets.csv" in _out(result)
    assert (out / "rejets.csv").read_text(encoding="utf-8-sig").count("000000000") == 1
    as_json = runner.invoke(app, ["proposer", str(path), "--limite-temps", "1", "--json"])
    assert json.loads(as_json.stdout)["lecture"]["lignes_rejetees"] == 1


# ---- small options ---------------------------------------------------------------------------


def test_check_max_mo_must_be_positive(tmp_path: Path) -> None:
    result = runner.invoke(app, ["verifier", str(_template(tmp_path / "m.csv")), "--max-mo", "-1"])
    assert result.exit_code == 2 and "--max-mo" in _out(result)


@pytest.mark.parametrize("value", ["-5", "nan", "inf"])
def test_partenaires_max_km(value: str) -> None:
    result = runner.invoke(app, ["partenaires", "450000001", "--exemple", "--max-km", value])
    _no_traceback(result)
    assert result.exit_code == 2 and "--max-km" in _out(result)


def test_a_missing_file_is_bad_usage_and_an_unreadable_one_is_bad_data(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["verifier", str(tmp_path / "absent.csv")])
    assert missing.exit_code == 2 and "introuvable" in _out(missing)
    binary = tmp_path / "image.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    bad = runner.invoke(app, ["verifier", str(binary)])
    _no_traceback(bad)
    assert bad.exit_code == 1 and "binaire" in _out(bad)



def test_a_reader_that_closes_the_pipe_gets_no_crash_report(tmp_path: Path) -> None:
    """``grappes proposer --help | head -50``: when the reader leaves while the command is
    writing, the command stops quietly (it printed « Erreur interne » and wrote a crash
    report). The write's failure is raised on purpose here: the real one depends on timing."""
    import subprocess

    code = ("import sys\nfrom grappes.cli import main as m\n"
            "@m.app.command('ecrire')\ndef ecrire():\n"
            "    raise BrokenPipeError(32, 'Broken pipe')\n"
            "sys.argv = ['grappes', 'ecrire']\nm.main()\n")
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "Erreur interne" not in done.stderr and "Traceback" not in done.stderr, done.stderr
