"""Issue 21 item 4 / issue 24 item 4: one exit-code table for every command, and one error root.

0 done; 1 input unusable or nothing to do; 2 usage error; 3 internal error (French message,
crash report written, no traceback on screen). Every file is built in the test.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grappes.cli.main import app
from grappes.core.errors import GrappesError

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "ingest"))
import builders as b

runner = CliRunner()
EJ = b.finess("45000100")
COLUMNS = ["finess_et", "finess_ej", "categorie", "commune", "dui_statut"]


def _template(path: Path, n: int = 4, categorie: str = "500") -> Path:
    rows = [{"finess_et": b.finess("45" + str(i).zfill(6)), "finess_ej": EJ,
             "categorie": categorie, "commune": "45234", "dui_statut": "aucun"}
            for i in range(1, n + 1)]  # fmt: skip
    path.write_text(b.template(rows, COLUMNS) if n else ";".join(COLUMNS) + "\n",
                    encoding="utf-8")
    return path


def _out(result) -> str:
    return " ".join(result.output.split())


def test_exit_0_when_done(tmp_path: Path) -> None:
    result = runner.invoke(app, ["verifier", str(_template(tmp_path / "m.csv"))])
    assert result.exit_code == 0, result.output


def test_propose_on_a_header_only_file_exits_1(tmp_path: Path) -> None:
    result = runner.invoke(app, ["proposer", str(_template(tmp_path / "m.csv", n=0))])
    assert result.exit_code == 1, result.output
    assert "rien à proposer" in _out(result)


def test_propose_with_every_line_rejected_exits_1_and_writes_the_rejects(tmp_path: Path) -> None:
    path = _template(tmp_path / "m.csv", categorie="5X0")
    out = tmp_path / "sortie"
    result = runner.invoke(app, ["proposer", str(path), "--sortie", str(out)])
    assert result.exit_code == 1, result.output
    assert "ont toutes été rejetées" in _out(result)
    assert (out / "rejets.csv").is_file()
    assert not (out / "grappes.csv").exists()


@pytest.mark.parametrize("args", [["verifier", "--option-inconnue"], ["proposer", "--graine", "-1"],
                                  ["verifier", "/nulle/part/absent.csv"]])
def test_exit_2_on_bad_usage(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output


def test_exit_3_on_an_internal_error_with_a_crash_report(tmp_path: Path, monkeypatch) -> None:
    import grappes.cli.check as check

    def broken(*_args, **_kwargs):
        return {}["bug"]  # a KeyError: a bug of grappes, not of the data

    monkeypatch.setattr(check, "summarise", broken)
    monkeypatch.setenv("GRAPPES_RAPPORTS", str(tmp_path / "rapports"))
    result = runner.invoke(app, ["verifier", str(_template(tmp_path / "m.csv"))])
    assert result.exit_code == 3
    assert "Traceback" not in result.output
    text = _out(result)
    assert "Erreur interne de grappes (KeyError)" in text
    (report,) = (tmp_path / "rapports").iterdir()
    assert str(report.name) in text.replace(" ", "")
    content = report.read_text(encoding="utf-8")
    assert "Traceback" in content and "KeyError" in content and "check" in content


def test_a_value_error_from_a_bug_is_internal_not_bad_data(tmp_path: Path, monkeypatch) -> None:
    """An internal ValueError (pandas, numpy) is no longer shown as a data problem."""
    import grappes.cli.check as check

    def broken(*_args, **_kwargs):
        raise ValueError("cannot reindex on an axis with duplicate labels")

    monkeypatch.setattr(check, "summarise", broken)
    monkeypatch.setenv("GRAPPES_RAPPORTS", str(tmp_path / "rapports"))
    result = runner.invoke(app, ["verifier", str(_template(tmp_path / "m.csv"))])
    assert result.exit_code == 3
    assert "Erreur interne" in _out(result)


def test_every_domain_error_derives_from_grappes_error() -> None:
    from grappes.cli.propose import CommandError
    from grappes.cli.support import UsageError
    from grappes.core.errors import UnusableInput
    from grappes.exports.gis import GisError
    from grappes.exports.readback import InputError
    from grappes.exports.safe_write import OutputError
    from grappes.ingest.errors import IngestError
    from grappes.programme.rules import RulesError
    from grappes.registry.errors import RegistreError, SaisieInvalide
    from grappes.scenarios.scenario_file import ScenarioFileError

    for cls in (CommandError, InputError, UsageError, UnusableInput, GisError, OutputError,
                IngestError, RulesError, RegistreError, SaisieInvalide, ScenarioFileError):
        assert issubclass(cls, GrappesError), cls


def test_links_unknown_og_and_bad_key_are_warned_and_counted(tmp_path: Path) -> None:
    from grappes.cli.propose import read_links_file
    from grappes.ingest import load

    result = load(_template(tmp_path / "m.csv"))
    other = b.finess("45000200")
    wrong = b.bad_key(b.finess("45000300"))
    links = tmp_path / "liens.csv"
    links.write_text(f"finess_ej_a;finess_ej_b\n{EJ};{other}\n{EJ};{wrong}\n", encoding="utf-8")
    frame = read_links_file(links, result)
    assert len(frame) == 0
    text = " ".join(result.warnings)
    assert "1 paire(s) avec un numéro FINESS invalide" in text and wrong in text
    assert "1 paire(s) nommant un OG absent" in text and other in text
