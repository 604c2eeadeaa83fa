"""Grappe ids survive "Relancer le solveur" (issue 12, State item 8): a new grappe keeps the id
of the old grappe it shares most ESMS with; a retired id is never handed to another grappe."""

from __future__ import annotations

from dataclasses import replace

from test_app_factory import region

from grappes.scenarios.ids import fresh_id, rename_in_text, stable_ids
from grappes.scenarios.whatif import WhatIf


def test_max_overlap_keeps_ids_even_when_the_greedy_choice_is_wrong():
    old = {"PA-24-001": ["a", "b", "c", "d"], "PA-24-002": ["e", "f", "g"]}
    # the solver numbered them the other way round: the ids follow the ESMS
    new = {"PA-24-001": ["e", "f", "h"], "PA-24-002": ["a", "b", "c", "g"]}
    ids = stable_ids(old, new)
    assert ids == {"PA-24-002": "PA-24-001", "PA-24-001": "PA-24-002"}
    # the assignment maximises the total, not each grappe greedily
    old = {"A-1": ["a", "b", "c"], "A-2": ["d", "e"]}
    new = {"N-1": ["a", "b", "d", "e"], "N-2": ["c", "x", "y"]}
    ids = stable_ids(old, new)
    assert ids["N-1"] in {"A-1", "A-2"} and ids["N-2"] != ids["N-1"]
    total = sum(len(set(old[ids[n]]) & set(new[n])) for n in new if ids[n] in old)
    assert total == 3  # N-1 -> A-2 (2) + N-2 -> A-1 (1) beats N-1 -> A-1 (2) + nothing


def test_new_grappes_get_fresh_ids_never_a_retired_one():
    old = {"PA-24-001": ["a", "b"], "PA-24-002": ["c", "d"]}
    new = {"PA-24-001": ["c", "d"], "PA-24-002": ["x", "y"], "PA-24-003": ["z"]}
    issued = {"PA-24-001", "PA-24-002", "PA-24-003", "PA-24-004"}  # 003, 004 retired earlier
    ids = stable_ids(old, new, issued)
    assert ids["PA-24-001"] == "PA-24-002"
    assert ids["PA-24-002"] == "PA-24-005" and ids["PA-24-003"] == "PA-24-006"
    assert len(set(ids.values())) == 3
    assert fresh_id("PH-multi-002", {"PH-multi-001", "PH-multi-009"}) == "PH-multi-010"
    assert fresh_id("PA-24-001", set()) == "PA-24-001"


def test_ids_in_the_solver_text_are_renamed_whole():
    ids = {"PA-24-001": "PA-24-002", "PA-24-002": "PA-24-007"}
    text = "grappe PA-24-001 à 3 km ; voir PA-24-002, pas PA-24-0011"
    assert rename_in_text(text, ids) == "grappe PA-24-002 à 3 km ; voir PA-24-007, pas PA-24-0011"


def swapped_start():
    """The factory's two grappes with their ids swapped: the solver, which numbers by the
    smallest FINESS ET, names them the other way round on every run."""
    r = region()
    tours, orleans = r.grappes
    grappes = [replace(tours, id="PA-24-002"), replace(orleans, id="PA-24-001")]
    return r, WhatIf.from_grappes(r.etab, r.rules, grappes, champ="PA")


def test_rerun_keeps_ids_porteur_and_declared_criteria():
    r, scenario = swapped_start()
    tours = set(r.grappes[0].esms)
    crit = next(c.code for c in r.rules.grid.criteria if not c.computed)
    scenario.set_porteur("PA-24-002", "370000013")
    scenario.declare("PA-24-002", {crit: True})
    scenario.set_porteur("PA-24-001", "450000023")
    ev = scenario.rerun(time_limit=1.0)
    # without the matching, the solver calls the Tours grappe PA-24-001
    assert {e for e, g in scenario.assignment.items() if g == "PA-24-002"} >= tours
    assert scenario.porteurs["PA-24-002"] == "370000013"
    assert ev.costs["PA-24-002"].porteur == "370000013"
    assert scenario.declared["PA-24-002"] == {crit: True}
    assert crit in ev.costs["PA-24-002"].score.declared
    assert scenario.porteurs["PA-24-001"] == "450000023"
    assert set(scenario.grappe_ids) == {"PA-24-001", "PA-24-002"}
    # the deltas compare each grappe with itself before the run (Tours with Tours)
    rows = ev.grappes.set_index("grappe")
    base = scenario.baseline
    assert set(base.members["PA-24-002"]) == tours
    assert rows.at["PA-24-002", "delta_financement"] == (
        ev.costs["PA-24-002"].total - base.costs["PA-24-002"].total)
    assert rows.at["PA-24-001", "delta_financement"] == 0
    assert "2 grappe(s) gardent leur identifiant" in scenario.history[-1]


def test_rerun_after_a_grappe_vanishes_gives_a_fresh_id_not_the_retired_one():
    r, scenario = swapped_start()
    for og in ("450000020", "450000021", "450000022", "450000023"):
        scenario.move_og(og, "")  # Orléans empties: PA-24-001 retires
    assert "PA-24-001" not in scenario.grappe_ids
    scenario.constraints.forced.clear()
    scenario.rerun(time_limit=1.0)  # the solver builds Orléans again
    orleans = set(r.grappes[1].esms)
    new_id = scenario.assignment[sorted(orleans)[0]]
    assert new_id not in {"PA-24-001", "PA-24-002"}
    assert new_id == "PA-24-003"
    assert scenario.assignment[r.grappes[0].esms[0]] == "PA-24-002"


def test_a_grappe_built_by_hand_keeps_its_id_across_a_rerun():
    r, scenario = swapped_start()
    scenario.move_og("370000099", "nouvelle", champ="PA")
    scenario.move_og("370000050", "PA-nouvelle-1")
    built = set(scenario.members("PA-nouvelle-1"))
    scenario.rerun(time_limit=1.0)
    # the hand-built pair is too small to stand: the solver places its ESMS elsewhere or not
    # at all, and whatever grappe holds Tours is still PA-24-002
    assert scenario.assignment[r.grappes[0].esms[0]] == "PA-24-002"
    assert "PA-24-001" in scenario.grappe_ids
    holders = {scenario.assignment.get(e) for e in built} - {None}
    assert holders <= {"PA-24-001", "PA-24-002", "PA-nouvelle-1"}


def test_ids_stay_stable_after_saving_loading_and_rerunning():
    from grappes.core.model import LoadResult
    from grappes.scenarios.scenario_file import load_scenario, save_scenario

    r, scenario = swapped_start()
    for og in ("450000020", "450000021", "450000022", "450000023"):
        scenario.move_og(og, "")  # PA-24-001 retires before saving
    scenario.constraints.forced.clear()
    scenario.set_porteur("PA-24-002", "370000012")
    loaded = load_scenario(save_scenario(scenario, LoadResult(r.etab)), LoadResult(r.etab))
    assert loaded.notes == []
    whatif = loaded.whatif
    assert "PA-24-001" in whatif.issued_ids and "PA-24-001" not in whatif.grappe_ids
    whatif.rerun(time_limit=1.0)
    assert whatif.assignment[r.grappes[1].esms[0]] == "PA-24-003"  # not the retired 001
    assert whatif.assignment[r.grappes[0].esms[0]] == "PA-24-002"
    assert whatif.porteurs["PA-24-002"] == "370000012"
