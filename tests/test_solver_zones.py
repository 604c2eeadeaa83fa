"""Zone re-optimisation (issue 23): never worse than the solver before it, certificates honest.

The pinned numbers are what the solver placed before the zones existed (commit 71924d6, same
seed and time limit): ESMS of small OGs, then priority points. No instance may fall below
them, compared lexicographically as the objective does. The certificate test checks, on a
built instance, that an OG left out is certified only when its zone's units cannot place more
small-OG ESMS, and the zone test, that an OG without DUI changes solution to let one in.
"""

from __future__ import annotations

import pytest
from solver_factories import make_etab, og_rows, random_region

from grappes.core.model import GroupingRules
from grappes.programme.rules import DEFAULT_RULES, load_rules
from grappes.programme.validate import check_grouping
from grappes.solver import GrappeSolver
from grappes.solver.zones import certify, reoptimise_zones

#: (small-OG ESMS placed, points) before the zones, GrappeSolver(time_limit=3, seed=0).
BEFORE = {
    "sample-PH": (412, 216),
    "region-1": (465, 213),
    "region-2": (497, 191),
}


def _instance(name: str):
    if name == "sample-PH":
        from grappes.ingest.sample import load_sample

        return load_sample().etablissements, "PH"
    seed = int(name.rsplit("-", 1)[1])
    table = random_region(n_og=140, seed=seed, size_km=160.0, champs=("PA",), vendor_share=0.5)
    return table, "PA"


@pytest.mark.parametrize("name", sorted(BEFORE))
def test_zones_never_worse_than_before(name: str) -> None:
    rules = load_rules(DEFAULT_RULES).grouping
    table, champ = _instance(name)
    proposal = GrappeSolver(rules, time_limit=3).solve(table, champ=champ)
    stats = proposal.stats
    after = (stats["esms_small_og_placed"], stats["points"])
    assert after >= BEFORE[name], (name, after, BEFORE[name])
    assert stats["esms_small_og_placed"] <= stats["upper_bound"]
    # the grouping still meets every rule (the independent referee)
    assignment = {str(k): str(v) for k, v in proposal.assignment().items() if v}
    champ_of = {g.id: g.champ for g in proposal.grappes}
    assert not any(check_grouping(table, assignment, champ_of, rules).values())
    # per sub-problem report: placed / bound, proven when they meet
    for detail in stats["by_subproblem"]:
        assert detail["esms_small_og_placed"] <= detail["upper_bound"]
        assert detail["proven_optimal"] == (
            detail["esms_small_og_placed"] == detail["upper_bound"]
        )


def _built_sub(rows, rules):
    from grappes.solver.core import GrappeSolver as Solver
    from grappes.solver.units import prepare_esms

    table = make_etab(rows)
    esms, _ = prepare_esms(table, rules, ("PA",))
    (sub,) = Solver(rules)._subproblems(esms, ("PA",), None)
    return sub


def test_zone_regroups_across_dui_solutions() -> None:
    """An OG of solution A left out joins once an OG without DUI leaves a grappe of B.

    Start: the OG without DUI (8 ESMS) with the two B OGs; the A OGs (1 + 6 ESMS) left out.
    The zone frees that grappe and regroups: A + A + free (15 ESMS), B + B (16 ESMS).
    """
    rules = GroupingRules(min_esms=15, min_og=2, petit_og_max=14)
    sub = _built_sub(
        og_rows("370000001", 8, 0, 0, spread=0.3)
        + og_rows("370000002", 8, 8, 0, spread=0.3, dui_editeur="Beta", dui_statut="conforme")
        + og_rows("370000003", 8, 10, 3, spread=0.3, dui_editeur="Beta", dui_statut="conforme")
        + og_rows("370000004", 1, -6, 0, dui_editeur="Alpha", dui_statut="conforme")
        + og_rows("370000005", 6, -8, 2, spread=0.3, dui_editeur="Alpha", dui_statut="conforme"),
        rules,
    )
    start = [[0, 1, 2]]
    grappes, report = reoptimise_zones(sub.ev, sub.neighbours, sub.km, start, budget=5.0)
    assert sorted(grappes) == [[0, 3, 4], [1, 2]]
    assert report.improved == 1
    assert all(sub.ev.check(g) is None for g in grappes)
    # deterministic: same input, same result
    again, _ = reoptimise_zones(sub.ev, sub.neighbours, sub.km, start, budget=5.0)
    assert again == grappes


def test_certify_on_a_built_zone() -> None:
    """certify() records an OG left out when its zone's bound equals what the zone places.

    A full grappe of solution B and, 5 km away, an OG of solution A (2 ESMS): no OG without
    a DUI anywhere, so no regrouping of the B grappe can take the A OG in. A second A OG (6
    ESMS) out of the zone changes nothing: certified with 1 neighbouring grappe. Adding an
    OG without DUI (8 ESMS) next to it makes it placeable: not certified.
    """
    rules = GroupingRules(min_esms=15, min_og=2, petit_og_max=14)
    base = (
        og_rows("370000002", 8, 0, 0, spread=0.3, dui_editeur="Beta", dui_statut="conforme")
        + og_rows("370000003", 8, 3, 0, spread=0.3, dui_editeur="Beta", dui_statut="conforme")
        + og_rows("370000004", 2, 5, 0, dui_editeur="Alpha", dui_statut="conforme")
    )
    sub = _built_sub(base, rules)
    certified, zones = certify(sub.ev, sub.neighbours, sub.km, [[0, 1]])
    assert certified == {2: 1}
    assert zones == 1
    sub = _built_sub(
        base + og_rows("370000005", 8, 20, 0, spread=0.3) + og_rows("370000006", 6, 24, 0),
        rules,
    )
    certified, _ = certify(sub.ev, sub.neighbours, sub.km, [[0, 1]])
    assert 2 not in certified


def test_certified_zone_is_not_solved() -> None:
    """A zone whose bound equals what its grappes place is skipped, whatever its ring.

    The B grappe and the A OG of ``test_certify_on_a_built_zone``: no OG without a DUI, so
    no regrouping can take the A OG in; the zones neither pack nor spend budget there. With
    an OG without DUI next to it, the zone is solved and the A OG placed.
    """
    rules = GroupingRules(min_esms=15, min_og=2, petit_og_max=14)
    base = (
        og_rows("370000002", 8, 0, 0, spread=0.3, dui_editeur="Beta", dui_statut="conforme")
        + og_rows("370000003", 8, 3, 0, spread=0.3, dui_editeur="Beta", dui_statut="conforme")
        + og_rows("370000004", 2, 5, 0, dui_editeur="Alpha", dui_statut="conforme")
    )
    sub = _built_sub(base, rules)
    grappes, report = reoptimise_zones(sub.ev, sub.neighbours, sub.km, [[0, 1]], budget=5.0)
    assert grappes == [[0, 1]]
    assert (report.zones, report.dtime) == (0, 0.0)
    sub = _built_sub(base + og_rows("370000005", 14, 6, 1, spread=0.3), rules)
    grappes, report = reoptimise_zones(sub.ev, sub.neighbours, sub.km, [[0, 1]], budget=5.0)
    assert report.zones >= 1
    assert [2, 3] in grappes
