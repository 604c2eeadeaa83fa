"""What-if edits: each one re-validates and re-costs the grouping, checked independently."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_app_factory import members, region

from grappes.programme.costing import cost_grappe
from grappes.programme.validate import grouping_violations
from grappes.scenarios.whatif import WhatIf


@pytest.fixture(scope="module")
def base():
    r = region()
    return r, WhatIf.from_grappes(r.etab, r.rules, r.grappes, champ="PA")


@pytest.fixture
def scenario(base):
    return base[1].copy()


def independent_cost(r, scenario, gid):
    rows = members(r.etab, scenario.members(gid))
    porteur = scenario.porteurs.get(gid) or None
    return cost_grappe(rows, r.rules, porteur=porteur, declared=scenario.declared.get(gid))


def test_baseline_is_valid_and_unchanged(base):
    r, scenario = base
    ev = scenario.baseline
    assert ev.grappes["valide"].all()
    assert not ev.grappes["modifiee"].any()
    assert (ev.grappes["delta_financement"] == 0).all()
    total = sum(cost_grappe(members(r.etab, g.esms), r.rules, porteur=g.porteur).total
                for g in r.grappes)
    assert ev.totals["financement"] == pytest.approx(total)
    assert ev.totals["esms_places"] == 31


def test_moving_an_og_out_breaks_the_minimum_and_recosts(base, scenario):
    r, _ = base
    ev = scenario.move_og("370000013", "")
    row = ev.grappes.set_index("grappe").loc["PA-24-001"]
    assert row["n_esms"] == 10 and not row["valide"] and row["modifiee"]
    assert any(g == "PA-24-001" and "10 ESMS comptés" in m for g, m in ev.new_violations)
    assert ev.totals["delta_valides"] == -1
    assert row["financement"] == pytest.approx(independent_cost(r, scenario, "PA-24-001").total)
    assert row["delta_financement"] < 0
    other = ev.grappes.set_index("grappe").loc["PA-24-002"]
    assert not other["modifiee"] and other["delta_financement"] == 0


def test_adding_the_isolated_esms_earns_the_isolated_points(base, scenario):
    r, _ = base
    before = scenario.baseline.grappes.set_index("grappe").loc["PA-24-001", "points_grille"]
    ev = scenario.move_og("370000099", "PA-24-001")
    row = ev.grappes.set_index("grappe").loc["PA-24-001"]
    assert row["valide"] and row["n_esms"] == 16
    assert row["points_grille"] == independent_cost(r, scenario, "PA-24-001").score.total
    assert row["delta_points_grille"] == row["points_grille"] - before
    assert row["delta_points_grille"] == r.rules.grid.points_of("isole")


def test_lock_together_joins_the_grappe_holding_most_and_recosts(base, scenario):
    r, _ = base
    ev = scenario.lock_together(["370000011", "450000020"])
    assert scenario.assignment[members(r.etab, ["450000400"])["finess_et"].iloc[0]] == "PA-24-001"
    rows = ev.grappes.set_index("grappe")
    assert rows.loc["PA-24-001", "n_esms"] == 19 and rows.loc["PA-24-002", "n_esms"] == 12
    codes = {v.code for v in ev.violations["PA-24-001"]}
    assert "dui_multiple" in codes  # Alpha and Beta now share a grappe
    assert {v.code for v in ev.violations["PA-24-002"]} == {"trop_peu_esms"}
    for gid in ("PA-24-001", "PA-24-002"):
        assert rows.loc[gid, "financement"] == pytest.approx(
            independent_cost(r, scenario, gid).total)
    assert ("370000011", "450000020") in scenario.constraints.together
    assert ev.lock_issues == []
    # a later move splits the locked OGs again: reported
    ev = scenario.move_og("450000020", "PA-24-002")
    assert any("verrouillés ensemble" in i for i in ev.lock_issues)


def test_keep_apart_sends_the_tied_larger_ej_out(base, scenario):
    r, _ = base
    ev = scenario.keep_apart("370000012", "370000011")
    gone = r.etab[r.etab["finess_ej"] == "370000012"]["finess_et"]
    assert not any(e in scenario.assignment for e in gone)
    assert all(scenario.assignment.get(e) == "PA-24-001"
               for e in r.etab[r.etab["finess_ej"] == "370000011"]["finess_et"])
    assert not ev.grappes.set_index("grappe").loc["PA-24-001", "valide"]
    assert ev.lock_issues == []


def test_excluded_esms_is_out_and_not_a_split(base, scenario):
    r, _ = base
    et = r.grappes[0].esms[0]
    ev = scenario.exclude_esms(et)
    assert et not in scenario.assignment
    codes = {v.code for v in ev.violations["PA-24-001"]}
    assert codes == {"trop_peu_esms"}  # 14 left; the excluded one is not an OG split
    with pytest.raises(ValueError, match="inconnu"):
        scenario.exclude_esms("999999999")


def test_porteur_and_declared_criteria(base, scenario):
    r, _ = base
    ev = scenario.set_porteur("PA-24-001", "370000013")
    assert ev.costs["PA-24-001"].porteur == "370000013"
    with pytest.raises(ValueError, match="n'est pas un OG de la grappe"):
        scenario.set_porteur("PA-24-001", "450000020")
    before = ev.grappes.set_index("grappe").loc["PA-24-001", "points_grille"]
    dpo = next(c for c in r.rules.grid.criteria if not c.computed)
    ev = scenario.declare("PA-24-001", {dpo.code: True})
    after = ev.grappes.set_index("grappe").loc["PA-24-001", "points_grille"]
    assert after - before == dpo.points
    computed = next(c for c in r.rules.grid.criteria if c.computed)
    with pytest.raises(ValueError, match="non déclarable"):
        scenario.declare("PA-24-001", {computed.code: True})


def test_copy_is_independent(base, scenario):
    clone = scenario.copy()
    clone.move_og("370000013", "")
    assert scenario.members("PA-24-001") != clone.members("PA-24-001")
    assert scenario.history == [] and len(clone.history) == 1


def test_rerun_honours_the_locks(base, scenario):
    r, _ = base
    scenario.keep_apart("370000011", "370000012")
    excluded = r.grappes[1].esms[0]
    scenario.exclude_esms(excluded)
    ev = scenario.rerun(time_limit=1.0)
    assert excluded not in scenario.assignment
    grappe_of = {}
    for e, g in scenario.assignment.items():
        grappe_of.setdefault(r.etab.set_index("finess_et").at[e, "finess_ej"], set()).add(g)
    assert not (grappe_of.get("370000011", set()) & grappe_of.get("370000012", set()))
    assert ev.lock_issues == []
    table = r.etab[r.etab["finess_et"] != excluded]
    independent = grouping_violations(table, pd.Series(scenario.assignment), r.rules.grouping)
    assert all(not vs for vs in independent.values())


def test_typed_costs_and_invalid_grappes_totalled_apart(base):
    r, start = base
    scenario = start.copy()
    cost = scenario.cost("PA-24-001")
    # typed costs carry the per-ESMS project types, for exactly the members
    assert set(cost.esms_types) == set(scenario.members("PA-24-001"))
    assert cost.total == cost_grappe(members(r.etab, scenario.members("PA-24-001")),
                                     r.rules, porteur=cost.porteur).total
    ev = scenario.move_og("370000013", "")  # leaves PA-24-001 below the minimum
    frame = ev.grappes.set_index("grappe")
    assert not frame.at["PA-24-001", "valide"] and frame.at["PA-24-001", "financement"] > 0
    valid = frame[frame["valide"]]
    assert ev.totals["financement"] == pytest.approx(valid["financement"].sum())
    assert ev.totals["financement_invalides"] == pytest.approx(
        frame.at["PA-24-001", "financement"])


EDITS = st.lists(
    st.tuples(st.sampled_from(["move", "exclude", "porteur"]), st.integers(0, 10_000)),
    min_size=1, max_size=3,
)


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=EDITS)
def test_evaluation_matches_independent_checks(base, edits):
    r, start = base
    scenario = start.copy()
    ogs = sorted(set(r.etab["finess_ej"].astype(str)))
    for kind, k in edits:
        gids = scenario.grappe_ids
        if kind == "move":
            targets = [*gids, "", "nouvelle"]
            try:
                scenario.move_og(ogs[k % len(ogs)], targets[(k // 7) % len(targets)],
                                 champ="PA")
            except ValueError as exc:  # every ESMS of that OG was excluded before
                assert "aucun ESMS" in str(exc)
        elif kind == "exclude":
            placed = sorted(scenario.assignment)
            if placed:
                scenario.exclude_esms(placed[k % len(placed)])
        elif gids:
            gid = gids[k % len(gids)]
            scenario.set_porteur(gid, scenario.ogs(gid)[(k // 3) % len(scenario.ogs(gid))])
    ev = scenario.evaluate()
    table = r.etab[~r.etab["finess_et"].isin(scenario.constraints.excluded_esms)]
    expected = grouping_violations(table, pd.Series(scenario.assignment, dtype="string"),
                                   r.rules.grouping, champ="PA")
    got = {g: sorted(v.message for v in vs) for g, vs in ev.violations.items()}
    assert got == {g: sorted(v.message for v in vs) for g, vs in expected.items()}
    for gid in scenario.grappe_ids:
        row = ev.grappes.set_index("grappe").loc[gid]
        assert row["financement"] == pytest.approx(independent_cost(r, scenario, gid).total)
        assert row["valide"] == (not expected[gid])
    assert ev.totals["esms_places"] == len(scenario.assignment)


def test_rerun_keeps_a_valid_grappe_built_by_hand(base, scenario):
    r, _ = base
    scenario.move_og("370000099", "PA-24-001")
    forced = scenario.solver_constraints().forced
    assert forced["370000099"] == forced["370000011"] == "PA-24-001"
    scenario.rerun(time_limit=1.0)
    assert scenario.assignment.get(r.isolated)
    together = scenario.assignment[r.isolated]
    tours = r.etab.loc[r.etab["finess_ej"] == "370000011", "finess_et"]
    assert all(scenario.assignment.get(e) == together for e in tours)
