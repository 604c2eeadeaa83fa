"""Each hard rule of ``grappes.programme.validate``: one grappe that passes, one that fails."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rules_factories import make_etab, make_og

from grappes.core.model import GroupingRules
from grappes.programme.validate import grappe_violations, grouping_violations

T2 = GroupingRules()  # amorçage t2 defaults: 15 / 8, max 49, >= 2 OG, small = at most 14


def codes(violations) -> list[str]:
    return [v.code for v in violations]


def three_small_ogs(**fields) -> pd.DataFrame:
    """17 ESMS in 3 small OGs (6 + 6 + 5): a textbook valid grappe."""
    return make_etab(
        make_og("370000001", 6, **fields)
        + make_og("370000002", 6, **fields)
        + make_og("370000003", 5, **fields)
    )


def test_valid_grappe_has_no_violation():
    assert grappe_violations(three_small_ogs(), T2) == []


def test_empty_grappe_is_reported_not_raised():
    assert codes(grappe_violations(make_etab([]), T2)) == ["vide"]


# ---------------------------------------------------------------- minimum / maximum ESMS


def test_min_esms_fails_with_14():
    etab = make_etab(make_og("370000001", 7) + make_og("370000002", 7))
    vs = grappe_violations(etab, T2)
    assert codes(vs) == ["trop_peu_esms"]
    assert "14 ESMS" in vs[0].message and "15" in vs[0].message


def test_min_esms_passes_with_15():
    etab = make_etab(make_og("370000001", 8) + make_og("370000002", 7))
    assert grappe_violations(etab, T2) == []


def test_corsica_threshold_is_8_when_all_members_derogatoire():
    rows = make_og("2A0000001", 4, departement="2A", region="94", derogatoire=True)
    rows += make_og("2A0000002", 4, departement="2A", region="94", derogatoire=True)
    assert grappe_violations(make_etab(rows), T2) == []
    vs = grappe_violations(make_etab(rows[:7]), T2)
    assert codes(vs) == ["trop_peu_esms"]
    assert "8" in vs[0].message and "Corse" in vs[0].message


def test_corsica_threshold_does_not_apply_to_a_mixed_grappe():
    rows = make_og("2A0000001", 4, departement="2A", region="94", derogatoire=True)
    rows += make_og("130000002", 4, departement="13", region="93")
    assert codes(grappe_violations(make_etab(rows), T2)) == ["trop_peu_esms"]


def test_max_esms_is_a_nominal_size_not_a_rule():
    ok = make_etab(make_og("370000001", 14) + make_og("370000002", 14) + make_og("370000003", 14)
                   + make_og("370000004", 7))  # 49
    assert grappe_violations(ok, T2) == []
    assert grappe_violations(ok, T2, nominal=True) == []
    too_many = make_etab(make_og("370000001", 14) + make_og("370000002", 14)
                         + make_og("370000003", 14) + make_og("370000004", 8))  # 50
    # 000 caps the funding (« dans la limite de 49 ESMS par projet »), not the project
    assert grappe_violations(too_many, T2) == []
    assert codes(grappe_violations(too_many, T2, nominal=True)) == ["trop_esms"]
    # one OG above the nominal size stands alone even for the solver
    assert grappe_violations(make_etab(make_og("370000001", 55)), T2, nominal=True) == []


def test_no_ceiling_when_max_esms_is_none():
    rules = GroupingRules(max_esms=None)
    etab = make_etab(make_og("370000001", 60))
    assert grappe_violations(etab, rules) == []


# ---------------------------------------------------------------- minimum OGs


def test_single_small_og_fails_min_og():
    # alone, an OG below the minimum fails both the size and the number of OGs
    etab = make_etab(make_og("370000001", 10))
    assert codes(grappe_violations(etab, T2)) == ["trop_peu_esms", "trop_peu_og"]
    # two small OGs below the minimum each, 16 together: fine with min_og 2, not with 3
    two = make_etab(make_og("370000001", 8) + make_og("370000002", 8))
    assert grappe_violations(two, T2) == []
    assert codes(grappe_violations(two, GroupingRules(min_og=3))) == ["trop_peu_og"]


def test_medium_og_may_stand_alone():
    etab = make_etab(make_og("370000001", 16))  # 16 > 14: moyen
    assert grappe_violations(etab, T2) == []


def test_an_og_of_15_stands_alone_even_where_it_is_small():
    # 2022: an OG of 15 is small for the funding (« OG < = 15 ESMS ») but reaches the
    # minimum of 15 alone (003 Q21 « au minimum 15 … n'est pas obligée de se regrouper »)
    rules_2022 = GroupingRules(petit_og_max=15, max_esms=None)
    etab = make_etab(make_og("370000001", 15))
    assert grappe_violations(etab, rules_2022) == []
    assert grappe_violations(etab, T2) == []  # "< 15": an OG of 15 is medium


def test_min_og_three_for_t1():
    rules = GroupingRules(min_og=3)
    etab = make_etab(make_og("370000001", 8) + make_og("370000002", 8))
    assert codes(grappe_violations(etab, rules)) == ["trop_peu_og"]
    assert grappe_violations(three_small_ogs(), rules) == []


# ---------------------------------------------------------------- field mix


def test_other_field_share_at_20_percent_passes_above_fails():
    ok = make_etab(make_og("370000001", 8) + make_og("370000002", 8)
                   + make_og("370000003", 4, champ="PH"))  # 4 / 20 = 20 %
    assert grappe_violations(ok, T2) == []
    bad = make_etab(make_og("370000001", 8) + make_og("370000002", 7)
                    + make_og("370000003", 5, champ="PH"))  # 5 / 20 = 25 %
    vs = grappe_violations(bad, T2)
    assert codes(vs) == ["champ_mixte"]
    assert len(vs[0].esms) == 5


def test_declared_champ_overrides_the_dominant_one():
    etab = three_small_ogs()
    assert codes(grappe_violations(etab, T2, champ="PH")) == ["champ_mixte"]


def test_non_eligible_field_is_reported_and_not_counted():
    rules_t1 = GroupingRules(eligible_champs=("PA", "PH"), min_og=3, max_esms=30)
    etab = make_etab(make_og("370000001", 6) + make_og("370000002", 6)
                     + make_og("370000003", 5, champ="DOM"))
    vs = grappe_violations(etab, rules_t1)
    assert set(codes(vs)) == {"non_eligible", "trop_peu_esms", "trop_peu_og"}
    assert grappe_violations(three_small_ogs(), rules_t1) == []


def test_medicalise_majority():
    rules = GroupingRules(medicalise_majority=True)
    half = make_etab(make_og("370000001", 8, medicalise=True)
                     + make_og("370000002", 8, medicalise=False))
    assert codes(grappe_violations(half, rules)) == ["medicalise_minoritaire"]
    most = make_etab(make_og("370000001", 9, medicalise=True)
                     + make_og("370000002", 8, medicalise=False))
    assert grappe_violations(most, rules) == []
    assert grappe_violations(half, T2) == []  # t2 has no such rule


# ---------------------------------------------------------------- DUI


def test_two_conformant_vendors_conflict():
    etab = make_etab(
        make_og("370000001", 8, dui_statut="conforme", dui_editeur="Alpha")
        + make_og("370000002", 8, dui_statut="a_mettre_a_niveau", dui_editeur="Beta")
    )
    vs = grappe_violations(etab, T2)
    assert codes(vs) == ["dui_multiple"]
    assert "Alpha" in vs[0].message and "Beta" in vs[0].message


def test_same_vendor_spelt_differently_and_no_dui_fit():
    etab = make_etab(
        make_og("370000001", 6, dui_statut="conforme", dui_editeur="Alpha Soft")
        + make_og("370000002", 6, dui_statut="a_mettre_a_niveau", dui_editeur=" ALPHA  soft")
        + make_og("370000003", 5, dui_statut="aucun", dui_editeur="")
    )
    assert grappe_violations(etab, T2) == []


def test_non_conforme_vendor_is_replaced_so_no_conflict():
    etab = make_etab(
        make_og("370000001", 8, dui_statut="conforme", dui_editeur="Alpha")
        + make_og("370000002", 8, dui_statut="non_conforme", dui_editeur="Beta")
    )
    assert grappe_violations(etab, T2) == []


# ---------------------------------------------------------------- already funded


def test_already_funded_not_counted():
    etab = make_etab(make_og("370000001", 8) + make_og("370000002", 7)
                     + make_og("370000003", 2, deja_finance=True))
    # 17 members, 15 counted: passes
    assert grappe_violations(etab, T2) == []
    etab.loc[0, "deja_finance"] = True  # 14 counted
    vs = grappe_violations(etab, T2)
    assert codes(vs) == ["trop_peu_esms"]
    assert "non comptés" in vs[0].message
    assert grappe_violations(etab, GroupingRules(exclude_deja_finance=False)) == []


# ---------------------------------------------------------------- OG split


def test_og_split_needs_all_esms():
    everything = make_etab(make_og("370000001", 8) + make_og("370000002", 8)
                           + make_og("370000003", 3, champ="PH"))
    members = everything.iloc[:15]  # OG 2 loses one of its PA ESMS
    vs = grappe_violations(members, T2, all_esms=everything)
    assert codes(vs) == ["og_scinde"]
    assert vs[0].esms == (everything.loc[15, "finess_et"],)
    # the OG's ESMS of another field are not required; without all_esms no check
    assert grappe_violations(everything.iloc[:16], T2, all_esms=everything) == []
    assert grappe_violations(members, T2) == []


def test_grouping_violations_reports_split_and_per_grappe_rules():
    etab = make_etab(
        make_og("370000001", 8) + make_og("370000002", 8)  # grappe A
        + make_og("370000003", 8) + make_og("370000004", 8)  # grappe B
    )
    assignment = pd.Series(["A"] * 16 + ["B"] * 16, index=etab["finess_et"].tolist())
    assert grouping_violations(etab, assignment, T2) == {"A": [], "B": []}

    moved = assignment.copy()
    moved.iloc[15] = "B"  # one ESMS of OG 2 goes to B
    moved.iloc[16] = ""  # one ESMS of OG 3 goes nowhere
    result = grouping_violations(etab, moved, T2)
    assert codes(result["A"]) == ["og_scinde"]
    assert sorted(codes(result["B"])) == ["og_scinde", "og_scinde"]
    assert any("hors de toute grappe" in v.message for v in result["B"])

    # same result with an assignment aligned on etab's index
    aligned = pd.Series(moved.to_numpy(), index=etab.index)
    assert grouping_violations(etab, aligned, T2) == result


@pytest.mark.parametrize("value", [pd.NA, None])
def test_unknown_flags_do_not_raise(value):
    etab = three_small_ogs()
    etab["deja_finance"] = pd.array([value] * len(etab), dtype="boolean")
    etab["derogatoire"] = pd.array([value] * len(etab), dtype="boolean")
    assert grappe_violations(etab, T2) == []


# ---------------------------------------------------------------- one checker, two entry points

og_strategy = st.fixed_dictionaries({
    "n": st.integers(1, 9),
    "champ": st.sampled_from(["PA", "PA", "PH", "DOM"]),
    "vendor": st.sampled_from(["", "Alpha", "Beta"]),
    "grappe": st.sampled_from(["A", "B", "C", ""]),
    "split": st.booleans(),
    "deja": st.booleans(),
})


@settings(max_examples=50, deadline=None)
@given(ogs=st.lists(og_strategy, min_size=1, max_size=8),
       rules=st.sampled_from([T2, GroupingRules(min_og=3, max_esms=30, medicalise_majority=True,
                                                eligible_champs=("PA", "PH"))]))
def test_grouping_and_single_grappe_checks_agree(ogs, rules):
    rows, grappes = [], []
    for k, og in enumerate(ogs):
        statut = "conforme" if og["vendor"] else "aucun"
        members = make_og(f"3700000{k:02d}", og["n"], champ=og["champ"],
                          dui_editeur=og["vendor"], dui_statut=statut,
                          medicalise=k % 2 == 0)
        members[0]["deja_finance"] = og["deja"]
        rows += members
        for i in range(og["n"]):
            # a split OG sends its last ESMS elsewhere
            grappes.append("B" if og["split"] and i == og["n"] - 1 and og["grappe"] != "B"
                           else og["grappe"])
    etab = make_etab(rows)
    assignment = pd.Series(grappes, index=etab["finess_et"].tolist())
    result = grouping_violations(etab, assignment, rules)
    assert set(result) == {g for g in grappes if g}
    for gid, vs in result.items():
        members = etab[[g == gid for g in grappes]]
        single = grappe_violations(members, rules, all_esms=etab)
        assert sorted(v.code for v in single) == sorted(v.code for v in vs)
        assert {v.esms for v in single if v.code == "og_scinde"} == {
            v.esms for v in vs if v.code == "og_scinde"}
