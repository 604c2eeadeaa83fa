"""Grappe ids in natural order (issue 20): by field, then number, in every grappes table and
export; as text « PA+-24-003 » came before « PA-24-001 » and « PA-nouvelle-10 » before
« PA-nouvelle-2 » (``grappes.scenarios.ids.grappe_sort_key``)."""

from __future__ import annotations

import re

import pytest

from grappes.core.model import CHAMPS
from grappes.exports.tables import financements_table, grappes_table
from grappes.ingest.sample import load_sample
from grappes.scenarios.ids import grappe_sort_key, sorted_ids
from grappes.scenarios.scenario import Scenario
from grappes.scenarios.whatif import WhatIf
from grappes.solver.settings import APP_TIME_LIMIT
from grappes.ui.views import grappes_view

ID = re.compile(r"^(?P<champ>[A-Z]+)\+?-24-(?P<number>\d{3})$")


def test_field_then_number_then_the_rest():
    ids = ["PA-nouvelle-10", "PH-24-001", "PA+-24-003", "PA-24-010", "autre", "PA-24-002",
           "PA-nouvelle-2", "DOM-24-001", "PA-24-001", "PA+-24-004", "PA-nouvelle-1"]
    assert sorted_ids(ids) == [
        "PA-24-001", "PA-24-002", "PA+-24-003", "PA+-24-004", "PA-24-010",
        "PA-nouvelle-1", "PA-nouvelle-2", "PA-nouvelle-10",
        "PH-24-001", "DOM-24-001", "autre"]
    assert sorted(ids, key=grappe_sort_key) == sorted_ids(reversed(ids))  # a total order


@pytest.fixture(scope="module")
def all_fields_report():
    """The sample's proposal on every field, as ``grappes proposer --exemple`` makes it: the
    stored one when current (what the app shows), else solved now."""
    from grappes.scenarios import precomputed as pre
    from grappes.solver.propose import propose

    sample = load_sample()
    view = pre.View("amorcage-t2-2021", "24", (), None, 0, APP_TIME_LIMIT)
    report = pre.stored_report(sample, view, pre.read_entries(), pre.Prints(sample))
    return report or propose(sample, "amorcage-t2-2021", region="24", time_limit=5)


def natural(ids: list[str]) -> bool:
    """Field in programme order, then number (a « + » grappe at its number's place)."""
    keys = []
    for gid in ids:
        match = ID.match(gid)
        assert match, gid
        keys.append((CHAMPS.index(match["champ"]), int(match["number"])))
    return keys == sorted(keys)


def test_a_real_proposal_is_listed_in_natural_order(all_fields_report):
    solver_order = [g.id for g in all_fields_report.grappes]
    plus = [g for g in solver_order if "+" in g]
    assert plus and len({ID.match(g)["champ"] for g in solver_order}) >= 2  # a real test
    assert sorted(solver_order) != sorted_ids(solver_order)  # text order is wrong here
    scenario = Scenario.from_report(all_fields_report)
    shown = [g.id for g in scenario.grappes]
    assert natural(shown) and sorted(shown) == sorted(solver_order)
    # the exports' rows (grappes.csv and financements.csv, the XLSX sheets: the same
    # tables) and the app's grappes table follow it
    assert list(grappes_table(scenario)["grappe"]) == shown
    funding = list(dict.fromkeys(financements_table(scenario)["grappe"]))
    assert funding == [g for g in shown if g in set(funding)] and len(funding) > 1
    assert list(grappes_view(scenario).frame["grappe"]) == shown
    # the what-if scenario's choices (the app's selectboxes, « Détail d'une grappe »)
    assert WhatIf.from_report(all_fields_report).grappe_ids == shown


def test_the_map_legend_and_the_envelope_tables_follow_it(all_fields_report):
    from grappes.ui.envelope import EnvelopeRequest, run_envelope
    from grappes.ui.mapcolours import legend_html

    scenario = Scenario.from_report(all_fields_report)
    shown = [g.id for g in scenario.grappes]
    legend = legend_html({g: (10, 20, 30) for g in reversed(shown)})
    at = [legend.index(f"{g}<") if f"{g}<" in legend else legend.index(f"{g} ") for g in shown]
    assert at == sorted(at)
    total = scenario.totals().financement
    result = run_envelope(scenario, EnvelopeRequest(envelope=total * 0.5))
    funded, passed = result.funded.frame, result.not_funded.frame
    assert len(funded) > 1 and len(passed) > 1
    for window, rows in funded.groupby("fenetre", sort=False):
        assert list(rows["grappe"]) == sorted_ids(rows["grappe"]), window
    valid = [g for g in passed["grappe"] if scenario.valid(g)]
    assert valid == sorted_ids(valid)
