"""Properties on random instances: rules always hold, nobody twice, everybody explained."""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from solver_factories import random_region

from grappes.core.model import GroupingRules
from grappes.geo.distances import centre, haversine_km
from grappes.programme.validate import counted_mask, grouping_violations
from grappes.solver import GrappeSolver, greedy_baseline
from grappes.solver.graph import GraphWeights

RULE_SETS = [
    GroupingRules(),
    GroupingRules(max_esms=25, min_og=3),
    GroupingRules(max_esms=None, petit_og_max=15, medicalise_majority=True),
]


def check_proposal(etab: pd.DataFrame, proposal, rules: GroupingRules, max_km: float) -> None:
    # hard rules, by the independent checker, for the whole grouping (OG split included)
    violations = grouping_violations(etab, proposal.assignment(), rules)
    assert all(not v for v in violations.values()), violations
    # the solver's geographic rule: every OG within max_km of the grappe's centre
    for g in proposal.grappes:
        members = etab[etab["finess_et"].isin(g.esms)]
        c_lon, c_lat = centre(members["lon"], members["lat"])
        for _, rows in members.groupby("finess_ej"):
            o_lon, o_lat = centre(rows["lon"], rows["lat"])
            assert float(haversine_km(o_lon, o_lat, c_lon, c_lat)) <= max_km + 1e-6
        assert set(g.og) == set(members["finess_ej"])
        assert g.porteur in g.og
    # nobody twice
    placed = [et for g in proposal.grappes for et in g.esms]
    assert len(placed) == len(set(placed))
    ogs = [(g.champ, og) for g in proposal.grappes for og in g.og]
    assert len(ogs) == len(set(ogs))
    # everybody placed or explained, exactly once
    unplaced = proposal.unplaced
    assert not set(placed) & set(unplaced["finess_et"])
    assert set(placed) | set(unplaced["finess_et"]) == set(etab["finess_et"])
    assert unplaced["finess_et"].is_unique
    assert (unplaced["reason"].str.len() > 0).all()
    assert (unplaced["code"].str.len() > 0).all()
    # eligible ESMS of small OGs, unplaced: a reason that is not a set-aside code
    counted = counted_mask(etab, rules)
    small = etab[counted & (etab["og_nb_esms"] <= rules.petit_og_max)]
    left = unplaced[unplaced["finess_et"].isin(small["finess_et"])]
    assert not left["code"].isin(["hors_champ", "deja_finance", "sanitaire"]).any()
    # statistics agree with the grappes
    stats = proposal.stats
    assert stats["grappes"] == len(proposal.grappes)
    assert stats["esms_placed"] == len(placed)
    assert stats["esms_small_og_placed"] <= stats["upper_bound"] <= stats["esms_small_og"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_og=st.integers(5, 45),
    seed=st.integers(0, 10_000),
    size_km=st.floats(10, 150),
    rules_index=st.integers(0, len(RULE_SETS) - 1),
    vendor_share=st.floats(0, 0.8),
    mixed_share=st.sampled_from([0.0, 0.3]),
)
def test_random_instances_respect_every_rule(
    n_og: int,
    seed: int,
    size_km: float,
    rules_index: int,
    vendor_share: float,
    mixed_share: float,
) -> None:
    rules = RULE_SETS[rules_index]
    etab = random_region(
        n_og=n_og,
        seed=seed,
        size_km=size_km,
        vendor_share=vendor_share,
        mixed_share=mixed_share,
    )
    weights = GraphWeights(max_km=40.0)
    proposal = GrappeSolver(rules, graph_weights=weights, time_limit=1.0, seed=seed).solve(etab)
    check_proposal(etab, proposal, rules, 40.0)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n_og=st.integers(5, 40), seed=st.integers(0, 10_000))
def test_solver_places_at_least_as_many_as_greedy(n_og: int, seed: int) -> None:
    rules = GroupingRules()
    etab = random_region(n_og=n_og, seed=seed, size_km=80)
    solved = GrappeSolver(rules, time_limit=1.0).solve(etab)
    greedy = greedy_baseline(etab, rules)
    check_proposal(etab, greedy, rules, 50.0)
    a, b = solved.stats, greedy.stats
    assert (a["esms_small_og_placed"], a["esms_placed"]) >= (
        b["esms_small_og_placed"],
        b["esms_placed"],
    )
    if (a["esms_small_og_placed"], a["esms_placed"]) == (
        b["esms_small_og_placed"],
        b["esms_placed"],
    ):
        assert a["points"] >= b["points"]


def test_multi_region_only_when_asked() -> None:
    # two half-grappes on each side of a région border, 20 km apart
    left = random_region(n_og=8, seed=1, size_km=10, champs=("PA",), vendor_share=0)
    right = random_region(n_og=8, seed=2, size_km=10, champs=("PA",), vendor_share=0)
    right["finess_et"] = "9" + right["finess_et"].str[1:]
    right["finess_ej"] = "9" + right["finess_ej"].str[1:]
    right["region"] = "28"
    right["lon"] = right["lon"] + 0.25
    etab = pd.concat([left, right], ignore_index=True)
    rules = GroupingRules(min_esms=max(len(left), len(right)) + 1)
    alone = GrappeSolver(rules, time_limit=1.0).solve(etab)
    assert all(len(g.regions) == 1 for g in alone.grappes)
    joint = GrappeSolver(rules, time_limit=1.0, allow_multi_region=True).solve(etab)
    assert any(len(g.regions) == 2 for g in joint.grappes)
    assert any("interrégionale" in w for g in joint.grappes for w in g.warnings)
