"""Fixtures near the programme's thresholds: what the solver forms, and what it explains."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from solver_factories import make_etab, og_rows

from grappes.core.model import GroupingRules
from grappes.programme.validate import grouping_violations
from grappes.solver import Constraints, GraphWeights, GrappeSolver

RULES = GroupingRules()


def solve(etab: pd.DataFrame, rules: GroupingRules = RULES, **kwargs) -> object:
    locks = kwargs.pop("locks", None)
    champ = kwargs.pop("champ", None)
    solver = GrappeSolver(rules, time_limit=2.0, **kwargs)
    proposal = solver.solve(etab, champ=champ, locks=locks)
    # an ESMS the user excludes leaves its OG "split" on purpose: check the others
    kept = etab[~etab["finess_et"].isin(locks.excluded_esms if locks else [])]
    violations = grouping_violations(kept, proposal.assignment(), rules)
    assert all(not v for v in violations.values()), violations
    return proposal


def small_ogs(n_og: int, per_og: int, x0: float = 0.0, prefix: int = 10, **fields) -> list:
    rows = []
    for k in range(n_og):
        ej = f"{prefix}{k:07d}"
        rows += og_rows(ej, per_og, x=x0 + 3.0 * k, y=0.0, spread=0.5, **fields)
    return rows


def test_fourteen_esms_plus_one_far_away_form_no_grappe() -> None:
    # 14 ESMS of 7 small OGs within a few km, and a 15th OG 200 km away
    rows = small_ogs(7, 2) + og_rows("200000001", 1, x=200.0, y=0.0)
    p = solve(make_etab(rows))
    assert p.grappes == []
    near = p.unplaced[p.unplaced["finess_ej"].str.startswith("10")]
    assert set(near["code"]) == {"trop_peu_esms"}
    assert near["reason"].str.contains("14 à moins de 100,0 km, il en faut 15").all()
    far = p.unplaced[p.unplaced["finess_ej"] == "200000001"]
    assert far["code"].tolist() == ["aucun_partenaire"]
    assert "aucun autre OG du champ PA à moins de 100,0 km" in far["reason"].iloc[0]


def test_fifteen_esms_nearby_form_one_grappe() -> None:
    rows = small_ogs(7, 2) + og_rows("200000001", 1, x=10.0, y=5.0)
    p = solve(make_etab(rows))
    assert len(p.grappes) == 1
    g = p.grappes[0]
    assert g.n_esms == 15 and len(g.og) == 8
    # the single-ESMS OG is autonomous: +3; eight OGs: +2; one département: 0
    assert g.points == {"isole": 3, "multi_og": 2, "multi_departement": 0}
    assert g.metrics["max_km"] <= 50.0
    assert any("Aucun DUI en place" in r for r in g.reasons)
    assert p.stats["esms_small_og_placed"] == 15 == p.stats["upper_bound"]


def test_corsica_threshold_is_eight() -> None:
    corse = {"derogatoire": True, "departement": "2A", "region": "94"}
    eight = make_etab(small_ogs(4, 2, **corse))
    p = solve(eight)
    assert [g.n_esms for g in p.grappes] == [8]
    seven = make_etab(small_ogs(4, 2, **corse)[:7])
    p = solve(seven)
    assert p.grappes == []
    assert set(p.unplaced["code"]) == {"trop_peu_esms"}
    assert p.unplaced["reason"].str.contains("il en faut 8").all()


def test_mainland_partner_raises_corsica_threshold() -> None:
    # 8 Corsican ESMS and 2 mainland ones: together the grappe is not derogatory (15 needed)
    corse = {"derogatoire": True, "departement": "2A", "region": "94"}
    rows = small_ogs(4, 2, **corse) + og_rows("300000001", 2, x=5.0, y=0.0, region="94")
    p = solve(make_etab(rows))
    # the solver keeps the Corsican OGs together (valid at 8) and leaves the mainland OG out
    assert len(p.grappes) == 1
    assert p.grappes[0].n_esms == 8
    assert "300000001" not in p.grappes[0].og


def test_two_vendors_in_conflict_never_share_a_grappe() -> None:
    alpha = {"dui_editeur": "Alpha", "dui_statut": "conforme"}
    beta = {"dui_editeur": "Beta", "dui_statut": "a_mettre_a_niveau"}
    rows = small_ogs(8, 2, prefix=11, **alpha) + small_ogs(8, 2, x0=1.0, prefix=12, **beta)
    p = solve(make_etab(rows))
    assert len(p.grappes) == 2
    for g in p.grappes:
        prefixes = {og[:2] for og in g.og}
        assert len(prefixes) == 1
        assert any("Solution DUI commune" in r for r in g.reasons)


def test_vendor_conflict_is_explained() -> None:
    alpha = {"dui_editeur": "Alpha", "dui_statut": "conforme"}
    beta = {"dui_editeur": "Beta", "dui_statut": "conforme"}
    rows = small_ogs(7, 2, prefix=11, **alpha) + small_ogs(1, 2, x0=2.0, prefix=12, **beta)
    p = solve(make_etab(rows))
    assert p.grappes == []
    beta_rows = p.unplaced[p.unplaced["finess_ej"].str.startswith("12")]
    assert set(beta_rows["code"]) == {"conflit_dui"}
    assert beta_rows["reason"].str.contains("Alpha").all()


def test_unconformant_vendor_joins_with_a_vendor_change_warning() -> None:
    alpha = {"dui_editeur": "Alpha", "dui_statut": "conforme"}
    old = {"dui_editeur": "Vieux", "dui_statut": "non_conforme"}
    rows = small_ogs(7, 2, prefix=11, **alpha) + small_ogs(1, 2, x0=2.0, prefix=12, **old)
    p = solve(make_etab(rows))
    assert len(p.grappes) == 1
    g = p.grappes[0]
    assert g.n_esms == 16
    assert g.metrics["vendor_changes"] == 2
    assert any("2 ESMS devront changer d'éditeur DUI (vers Alpha)" in w for w in g.warnings)


def test_medium_og_stands_alone_and_attaches_isolated_ehpad() -> None:
    # an OG of 16 ESMS (medium: may apply alone) and two isolated autonomous EHPAD nearby
    rows = og_rows("400000001", 16, x=0.0, y=0.0, spread=1.0)
    rows += og_rows("500000001", 1, x=8.0, y=3.0) + og_rows("500000002", 1, x=-6.0, y=2.0)
    p = solve(make_etab(rows))
    assert len(p.grappes) == 1
    g = p.grappes[0]
    assert set(g.og) == {"400000001", "500000001", "500000002"}
    assert g.points["isole"] == 3
    assert g.porteur == "400000001"
    assert any("moyen ou gros, peut candidater seul" in r for r in g.reasons)


def test_medium_og_alone_when_nobody_is_near() -> None:
    rows = og_rows("400000001", 16) + og_rows("500000001", 1, x=150.0)
    p = solve(make_etab(rows))
    assert [g.og for g in p.grappes] == [["400000001"]]
    assert any("OG seul" in w for w in p.grappes[0].warnings)


def test_og_larger_than_the_nominal_size_stands_alone() -> None:
    # 000 caps the funding at 49 ESMS, not the project: the OG of 52 is its own grappe
    rows = og_rows("400000001", 52)
    p = solve(make_etab(rows))
    assert [g.og for g in p.grappes] == [["400000001"]]
    assert p.grappes[0].n_esms == 52
    assert p.unplaced.empty


def test_og_with_two_vendors_of_its_own_is_explained() -> None:
    rows = og_rows("400000001", 3, dui_editeur="Alpha", dui_statut="conforme")
    rows += og_rows("400000001", 3, start=3, dui_editeur="Beta", dui_statut="conforme")
    rows += small_ogs(7, 2)
    p = solve(make_etab(rows))
    conflicted = p.unplaced[p.unplaced["finess_ej"] == "400000001"]
    assert set(conflicted["code"]) == {"og_conflit_dui"}
    assert len(p.grappes) == 0 or all("400000001" not in g.og for g in p.grappes)


def test_og_is_never_split_and_counts_whole() -> None:
    # OGs of 5 ESMS: three of them make 15; the fourth must stay whole, outside
    rows = small_ogs(4, 5)
    p = solve(make_etab(rows))
    assert len(p.grappes) == 1
    assert p.grappes[0].n_esms == 20  # all four: 20 <= 49 and more ESMS placed


def test_ceiling_splits_into_two_grappes() -> None:
    rules = GroupingRules(max_esms=20)
    rows = small_ogs(6, 5)  # 30 ESMS, at most 20 per grappe: two grappes of 15
    p = solve(make_etab(rows), rules)
    assert sorted(g.n_esms for g in p.grappes) == [15, 15]


def test_already_funded_and_other_fields_are_set_aside_with_reasons() -> None:
    rows = small_ogs(8, 2)
    rows[0]["deja_finance"] = True
    rows[1]["champ"] = "hors_champ"
    rows[2]["sanitaire"] = True
    rows[2]["champ"] = "hors_champ"
    p = solve(make_etab(rows))
    codes = dict(zip(p.unplaced["finess_et"], p.unplaced["code"], strict=True))
    et = [r["finess_et"] for r in rows]
    assert codes[et[0]] == "deja_finance"
    assert codes[et[1]] == "hors_champ"
    assert codes[et[2]] == "sanitaire"


def test_far_member_rule_uses_max_km() -> None:
    rows = small_ogs(7, 2) + og_rows("200000001", 1, x=45.0, y=0.0)
    tight = solve(make_etab(rows), graph_weights=GraphWeights(max_km=20.0))
    loose = solve(make_etab(rows), graph_weights=GraphWeights(max_km=60.0))
    assert tight.grappes == []
    assert len(loose.grappes) == 1


def test_locks_together_apart_excluded_forced() -> None:
    rows = small_ogs(12, 2)  # 24 ESMS: one grappe of 24, or one of 15+ and leftovers
    etab = make_etab(rows)
    ogs = sorted(set(etab["finess_ej"]))
    # exclusion: the ESMS is left out with its reason
    excluded = str(etab["finess_et"].iloc[0])
    p = solve(etab, locks=Constraints(excluded_esms=[excluded]))
    row = p.unplaced[p.unplaced["finess_et"] == excluded]
    assert row["code"].tolist() == ["exclu"]
    # apart: two OGs never together
    p = solve(etab, locks=Constraints(apart=[(ogs[0], ogs[1])]))
    for g in p.grappes:
        assert not {ogs[0], ogs[1]} <= set(g.og)
    # together: the two OGs end up in the same grappe
    p = solve(etab, locks=Constraints(together=[(ogs[0], ogs[11])]))
    where = {og: g.id for g in p.grappes for og in g.og}
    assert where[ogs[0]] == where[ogs[11]]
    # forced: these OGs form one grappe of their own label (and it exists)
    p = solve(etab, locks=Constraints(forced={og: "A" for og in ogs[:8]}))
    where = {og: g.id for g in p.grappes for og in g.og}
    assert len({where[og] for og in ogs[:8]}) == 1


def test_impossible_forced_lock_is_reported_not_raised() -> None:
    rows = small_ogs(3, 2)  # 6 ESMS: no valid grappe at all
    etab = make_etab(rows)
    p = solve(etab, locks=Constraints(forced={og: "A" for og in set(etab["finess_ej"])}))
    assert p.grappes == []
    assert any("contrainte impossible" in w for w in p.stats["warnings"])


def test_bad_tables_raise_french_messages() -> None:
    etab = make_etab(small_ogs(2, 2))
    with pytest.raises(ValueError, match=r"colonne\(s\) manquante\(s\).*lon"):
        GrappeSolver().solve(etab.drop(columns=["lon"]))
    dup = pd.concat([etab, etab.iloc[[0]]], ignore_index=True)
    with pytest.raises(ValueError, match=r"en double \(lignes 1, 1\)"):
        GrappeSolver().solve(dup)
    with pytest.raises(ValueError, match="champ inconnu"):
        GrappeSolver().solve(etab, champ="XX")
    with pytest.raises(ValueError, match="limite de temps"):
        GrappeSolver(time_limit=0)


def test_links_side_file_gives_a_bonus_and_a_reason() -> None:
    rows = small_ogs(8, 2)
    etab = make_etab(rows)
    ogs = sorted(set(etab["finess_ej"]))
    links = pd.DataFrame({"finess_ej_a": [ogs[0]], "finess_ej_b": [ogs[1]]})
    p = solve(etab, links=links)
    assert any("Partenariat connu" in r for g in p.grappes for r in g.reasons)


def test_leftover_esms_of_another_field_join_their_og_grappe() -> None:
    # OG A: 12 PA + 2 PH; OG B: 3 PA. The 2 PH cannot form a PH grappe: they join A's PA
    # grappe (2 / 17 = 12 % of another field, at most 20 %)
    rows = og_rows("110000001", 12) + og_rows("110000001", 2, start=12, champ="PH")
    rows += og_rows("120000001", 3, x=4.0)
    etab = make_etab(rows)
    p = solve(etab)
    assert len(p.grappes) == 1
    g = p.grappes[0]
    assert g.n_esms == 17 and g.champ == "PA"
    assert any("2 ESMS du champ PH de ses OG rattachés" in r for r in g.reasons)
    assert p.stats["esms_placed"] == 17
    assert p.unplaced.empty or not p.unplaced["champ"].eq("PH").any()


def test_one_id_names_one_member_set_in_every_scope() -> None:
    """Issue 20, item 7: the PA grappe that receives its OG's PH ESMS on every field is
    another grappe than the PA view's, so it has another id (``PA+``); a grappe with the same
    members in both scopes keeps its id."""
    rows = og_rows("110000001", 12) + og_rows("110000001", 2, start=12, champ="PH")
    rows += og_rows("120000001", 3, x=4.0)
    far = og_rows("130000001", 15, x=300.0)  # another PA grappe, nothing to attach
    etab = make_etab(rows + far)
    every = {g.id: set(g.esms) for g in solve(etab).grappes}
    pa = {g.id: set(g.esms) for g in solve(etab, champ="PA").grappes}
    assert len(every) == len(pa) == 2
    same = {gid for gid in pa if pa[gid] in every.values()}
    assert len(same) == 1 and every[next(iter(same))] == pa[next(iter(same))]
    (grown,) = set(every) - set(pa)
    (alone,) = set(pa) - same
    assert grown == alone.replace("PA-", "PA+-", 1)  # same number, the « + » says more
    assert every[grown] > pa[alone] and len(every[grown] - pa[alone]) == 2
    # no id of one scope names another member set in the other
    assert all(every[gid] == pa[gid] for gid in set(every) & set(pa))


def test_other_field_share_is_capped() -> None:
    # 4 PH next to 15 PA would be 21 % of another field: left out, with a reason
    rows = og_rows("110000001", 12) + og_rows("110000001", 4, start=12, champ="PH")
    rows += og_rows("120000001", 3, x=4.0)
    p = solve(make_etab(rows))
    assert [g.n_esms for g in p.grappes] == [15]
    ph = p.unplaced[p.unplaced["champ"] == "PH"]
    assert len(ph) == 4 and (ph["reason"].str.len() > 0).all()


def test_solver_stats_are_typed_and_read_as_the_json_report() -> None:
    """Issue 24: ``Proposal.stats`` is a ``SolverStats`` (typed fields), which still reads as
    the mapping the JSON reports write, and reads back from it; an unknown key is refused."""
    from grappes.solver.proposal import SolverStats

    stats = SolverStats(esms_placed=17, warnings=["contrainte"], by_champ={"PA": {"grappes": 1}})
    assert stats["esms_placed"] == stats.esms_placed == 17
    assert "timings_s" not in stats and "liens_fichier" not in stats  # optional until set
    stats.liens_fichier = 0
    assert stats["liens_fichier"] == 0 and stats.get("precalcule") is None
    again = SolverStats.from_mapping(json.loads(json.dumps(stats.as_dict())))
    assert again == stats and dict(again) == stats.as_dict()
    with pytest.raises(ValueError, match="clé\\(s\\) inconnue\\(s\\) esms_plaçés"):
        SolverStats.from_mapping({"esms_plaçés": 3})
