"""The sample's precomputed proposals (``grappes.scenarios.precomputed``): the stored default
view is what the solver gives now, and any change of input, rules or view makes the app solve.

Only the default view (default rule set, field PA, seed 0, the app's budget) is solved here
(a few seconds); the other stored views are rebuilt by the same command.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from grappes.ingest.sample import load_sample
from grappes.programme.rules import DEFAULT_RULES, load_rules, rules_dir
from grappes.scenarios import precomputed as pre
from grappes.scenarios.view import View
from grappes.solver.propose import propose
from grappes.ui import datapanel, proposalstate

REBUILD = ("proposition précalculée absente ou périmée : relancer "
           "`python -m grappes.scenarios.precomputed` et committer data/sample/"
           f"{pre.FILE_NAME}")


@pytest.fixture(scope="module")
def sample():
    return load_sample()


@pytest.fixture(scope="module")
def default_view(sample):
    views = pre.sample_views(sample, [DEFAULT_RULES], 0, pre.APP_TIME_LIMIT,
                             every_field=False)
    assert len(views) == 1
    return views[0]


def test_the_app_budget_is_the_precomputed_one():
    assert datapanel.APP_TIME_LIMIT == pre.APP_TIME_LIMIT
    assert datapanel.DEFAULT_CHAMP == "PA"


def built_prints(sample) -> pre.Prints:
    """This checkout's fingerprints, with the library versions of the build: a fresh virtualenv
    may install other versions (the app then solves, which is always right); what is checked
    here is the stored grouping against a solve with the libraries installed now."""
    prints = pre.Prints(sample)
    prints.versions = pre.stored_versions() or prints.versions
    return prints


def test_stored_default_view_is_what_the_solver_gives_now(sample, default_view):
    entries = pre.read_entries()
    stored = pre.stored_report(sample, default_view, entries, built_prints(sample))
    assert stored is not None, REBUILD
    fresh = propose(sample, default_view.rules, region=default_view.region,
                    champ=default_view.champ, seed=default_view.seed,
                    time_limit=default_view.time_limit)
    # same grappes, members, porteurs, reasons (the whole Grappe, metrics included)
    assert [dataclasses.asdict(g) for g in stored.grappes] == \
        [dataclasses.asdict(g) for g in fresh.grappes], REBUILD
    pd.testing.assert_frame_equal(stored.proposal.unplaced, fresh.proposal.unplaced)
    pd.testing.assert_series_equal(stored.proposal.assignment(), fresh.proposal.assignment())
    assert stored.out_of_scope == fresh.out_of_scope
    # costed and checked now, by the same code: the same amounts and breaches
    assert {g: c.total for g, c in stored.costs.items()} == \
        {g: c.total for g, c in fresh.costs.items()}
    assert {g: [v.message for v in vs] for g, vs in stored.violations.items()} == \
        {g: [v.message for v in vs] for g, vs in fresh.violations.items()}
    assert stored.stats["precalcule"] is True
    timing = ("runtime_s", "timings_s", "precalcule")
    assert {k: v for k, v in stored.stats.items() if k not in timing} == \
        {k: v for k, v in fresh.stats.items() if k not in timing}


def test_a_changed_input_rule_file_or_view_is_not_served(sample, default_view, tmp_path):
    entries = pre.read_entries()
    prints = built_prints(sample)
    assert pre.stored_report(sample, default_view, entries, prints) is not None, REBUILD
    # one letter of one name in the input table
    etab = sample.etablissements.copy()
    etab.loc[etab.index[0], "raison_sociale"] = str(etab.loc[etab.index[0], "raison_sociale"]) + "x"
    changed = dataclasses.replace(sample, etablissements=etab)
    assert pre.stored_report(changed, default_view, entries, pre.Prints(changed)) is None
    # the same rule set's file, with one threshold changed, given by its path
    text = (rules_dir() / f"{DEFAULT_RULES}.toml").read_text(encoding="utf-8")
    assert "min_esms = { valeur = 15" in text
    other = tmp_path / f"{DEFAULT_RULES}.toml"
    other.write_text(text.replace("min_esms = { valeur = 15", "min_esms = { valeur = 16", 1),
                     encoding="utf-8")
    view = dataclasses.replace(default_view, rules=str(other))
    assert pre.stored_report(sample, view, entries, prints) is None
    # the same name and view, another content: another fingerprint
    rules = load_rules(DEFAULT_RULES)
    edited = dataclasses.replace(rules, grouping=dataclasses.replace(rules.grouping,
                                                                     min_esms=16))
    assert prints.of(default_view, edited) != prints.of(default_view, rules)
    # another seed, another budget
    for view in (dataclasses.replace(default_view, seed=1),
                 dataclasses.replace(default_view, time_limit=3.0)):
        assert pre.stored_report(sample, view, entries, prints) is None


def test_the_code_fingerprint_follows_the_solver_source(tmp_path):
    for package in pre.CODE_PACKAGES:
        (tmp_path / package).mkdir(parents=True)
        (tmp_path / package / "a.py").write_text("x = 1\n", encoding="utf-8")
    before = pre.code_fingerprint(tmp_path)
    (tmp_path / "grappes/solver/a.py").write_text("x = 2\n", encoding="utf-8")
    assert pre.code_fingerprint(tmp_path) != before


def test_the_app_solves_when_the_fingerprint_does_not_match(sample, default_view,
                                                            monkeypatch):
    import grappes.solver.propose as propose_module

    calls = []

    def fake_propose(result, rules_name, **kwargs):
        calls.append(rules_name)
        return "solved"

    monkeypatch.setattr(propose_module, "propose", fake_propose)
    etab = sample.etablissements.copy()
    etab.loc[etab.index[0], "raison_sociale"] = "autre nom"
    changed = dataclasses.replace(sample, etablissements=etab)
    monkeypatch.setattr(proposalstate, "cached", lambda key, compute, max_items=16: compute())
    # the build's library versions (see built_prints): a fresh virtualenv may have others
    monkeypatch.setattr(pre, "library_versions", pre.stored_versions)
    view = View(default_view.rules, default_view.region, (), "PA", 0, pre.APP_TIME_LIMIT)
    assert proposalstate.compute_report("sample", changed, view) == "solved"
    assert calls == [default_view.rules]
    # the sample as bundled: the stored proposal, no solve
    report = proposalstate.compute_report("sample", sample, view)
    assert report != "solved", REBUILD
    assert report.stats["precalcule"] is True
    assert calls == [default_view.rules]


def test_the_app_and_the_cli_give_the_same_figures_on_the_sample(sample, monkeypatch):
    """Issue 20, item 7: « Tous les champs » placed 1 682 ESMS of the sample in the app
    against 1 706 with ``grappes proposer --exemple``. Same loader, same scope: the cause was
    the app's own smaller time budget. Here the app's path (its sample loader, its sidebar
    defaults, its report: precomputed or solved) and the CLI's (``propose --exemple --json``
    with its defaults) are run on the default field and must give the same figures, grappe
    by grappe."""
    import json

    from typer.testing import CliRunner

    from grappes.cli.main import app
    from grappes.exports.json_values import json_default
    from grappes.scenarios.scenario import Scenario

    monkeypatch.setattr(proposalstate, "cached", lambda key, compute, max_items=16: compute())
    monkeypatch.setattr(datapanel, "cached", lambda key, compute, max_items=16: compute())
    loaded = datapanel.sample_result()
    regions, _ = datapanel.territory_choices(loaded)
    report = proposalstate.compute_report("sample", loaded, View(
        DEFAULT_RULES, regions[0], (), datapanel.DEFAULT_CHAMP, 0, datapanel.APP_TIME_LIMIT))
    in_app = json.loads(json.dumps(Scenario.from_report(report).to_json(),
                                   default=json_default))
    run = CliRunner().invoke(app, ["proposer", "--exemple", "--champ", datapanel.DEFAULT_CHAMP,
                                   "--json"])
    assert run.exit_code == 0, run.output
    in_cli = json.loads(run.stdout)

    def figures(data: dict) -> list[tuple]:
        return [(g["id"], g["esms"], g["porteur"], g["funding"]["total"], g["valide"])
                for g in data["grappes"]]

    assert in_app["settings"] == in_cli["settings"]
    assert in_app["totals"] == in_cli["totals"]
    assert figures(in_app) == figures(in_cli)
    assert len(in_app["unplaced"]) == len(in_cli["unplaced"])
