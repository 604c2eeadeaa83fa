"""The planner's old English commands and options (before December 2026) still work for one
release, hidden from the help (``grappes.cli.old_names``; docs/architecture.md, « Two
languages, one rule »)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from grappes.cli.main import app
from grappes.cli.old_names import OLD_COMMANDS, OLD_OPTIONS, modern_args

runner = CliRunner()


def test_old_spellings_are_rewritten_before_parsing():
    args, renamed = modern_args(["propose", "--sample", "--out=res", "--time-limit", "2",
                                 "--champ", "PA", "--", "--out"])
    assert args == ["proposer", "--exemple", "--sortie=res", "--limite-temps", "2",
                    "--champ", "PA", "--", "--out"]
    assert ("propose", "proposer") in renamed and ("--out", "--sortie") in renamed
    # only the command position is a command: a file called « check » stays a file
    assert modern_args(["propose", "check"])[0] == ["proposer", "check"]
    assert modern_args(["registre", "init", "--db", "x.db"])[0] == [
        "registre", "init", "--base", "x.db"]


def test_an_old_script_still_runs_and_the_help_shows_only_the_new_names(tmp_path):
    old = runner.invoke(app, ["rules", "--json"])
    new = runner.invoke(app, ["regles", "--json"])
    assert old.exit_code == new.exit_code == 0, old.output
    assert json.loads(old.stdout) == json.loads(new.stdout)
    assert "nouveaux noms" not in old.output  # no terminal: an old script's output unchanged
    out = tmp_path / "sortie"
    r = runner.invoke(app, ["sample", "--out", str(out)])
    assert r.exit_code == 0 and (out / "dui.csv").is_file(), r.output
    help_text = runner.invoke(app, ["--help"], env={"COLUMNS": "120"}).output
    for old_name, new_name in OLD_COMMANDS.items():
        assert f" {new_name} " in help_text and f" {old_name} " not in help_text, old_name
    propose_help = runner.invoke(app, ["proposer", "--help"], env={"COLUMNS": "120"}).output
    assert "--sortie" in propose_help and "--limite-temps" in propose_help
    assert not [o for o in OLD_OPTIONS if f"{o} " in propose_help]
