"""Worked examples computed by hand from the source documents, one rule set at a time.

Each amount below is written with its arithmetic; the unit amounts come from the documents
(000 for amorçage t2, 002/003 for t1, 004 for généralisation 2022), not from the code.
"""

from __future__ import annotations

import json

import pytest
from rules_factories import make_etab, make_og

from grappes.programme.costing import cost_grappe, default_porteur
from grappes.programme.rules import load_rules

T1 = load_rules("amorcage-t1-2021")
T2 = load_rules("amorcage-t2-2021")
G22 = load_rules("generalisation-2022")


def amounts(cost) -> dict[str, float]:
    return {ln.code: ln.amount for ln in cost.lines}


def small_ogs(*sizes: int, start: int = 1, **fields):
    rows = []
    for k, n in enumerate(sizes):
        rows += make_og(f"3700000{start + k:02d}", n, **fields)
    return rows


# ---------------------------------------------------------------- amorçage temps 2 (000)


def test_t2_three_small_ogs_17_esms_all_acquisition():
    cost = cost_grappe(make_etab(small_ogs(6, 6, 5)), T2)
    # 17 × 25 000 + 17 × 20 000 + 15 000 + 100 000 = 880 000
    assert cost.total == 880_000
    assert amounts(cost) == {"acquisition": 425_000, "equipement_petits_og": 340_000,
                             "amoa_marche": 15_000, "amoa_pilotage": 100_000}
    # 40 / 40 / 20 : 352 000 / 352 000 / 176 000
    assert [i.amount for i in cost.schedule] == [352_000, 352_000, 176_000]
    assert cost.project_type == "acquisition" and cost.vendor is None
    assert cost.by_region == {"24": 880_000}
    assert cost.sons_vendor == 0 and cost.eligibility == []


def test_t2_cap_of_49_funded_esms_on_a_52_esms_grouping():
    cost = cost_grappe(make_etab(small_ogs(13, 13, 13, 13)), T2)
    # 49 funded: 49 × 25 000 + 49 × 20 000 + 15 000 + 100 000 = 2 320 000
    assert cost.n_esms == 52 and cost.n_funded == 49
    assert cost.total == 2_320_000
    assert any("3 ESMS au-delà du plafond de 49" in f for f in cost.eligibility)


def test_t2_cap_keeps_the_esms_that_bring_the_most():
    rows = small_ogs(13, 13, 13, 13)
    for r in rows[-7:]:
        r.update(dui_statut="a_mettre_a_niveau", dui_editeur="Alpha")
    cost = cost_grappe(make_etab(rows), T2)
    # 45 acquisitions (45 000 each with equipment) kept before 4 of the 7 upgrades (30 000):
    # 45 × 25 000 + 4 × 10 000 + 49 × 20 000 + 115 000 = 2 260 000
    assert cost.total == 2_260_000
    assert amounts(cost)["conformite"] == 40_000
    assert cost.project_type == "mixte"


def test_t2_mixed_project_same_vendor():
    rows = small_ogs(6, 6, 6)
    for r in rows[:8]:
        r.update(dui_statut="a_mettre_a_niveau", dui_editeur="Alpha", editeur_segur=True)
    cost = cost_grappe(make_etab(rows), T2)
    # 10 × 25 000 + 8 × 10 000 + 18 × 20 000 + 15 000 + 100 000 = 805 000
    assert cost.total == 805_000
    assert cost.project_type == "mixte"
    assert cost.vendor == "Alpha" and cost.vendor_segur is True


def test_t2_member_with_another_vendor_is_costed_as_an_acquisition():
    rows = (make_og("370000001", 8, dui_statut="a_mettre_a_niveau", dui_editeur="Alpha")
            + make_og("370000002", 5, dui_statut="a_mettre_a_niveau", dui_editeur="Beta")
            + make_og("370000003", 4, dui_statut="aucun"))
    cost = cost_grappe(make_etab(rows), T2)
    # Alpha (8 users) is kept; Beta's 5 ESMS change software:
    # 9 × 25 000 + 8 × 10 000 + 17 × 20 000 + 115 000 = 760 000
    assert cost.vendor == "Alpha"
    assert cost.total == 760_000
    assert any("Changement d'éditeur vers Alpha" in f for f in cost.eligibility)


def test_t2_medium_og_with_isolated_autonomous_esms():
    rows = [
        *make_og("370000001", 16),
        {"finess_ej": "370000091", "finess_et": "370009100", "autonome": True},
        {"finess_ej": "370000092", "finess_et": "370009200", "autonome": True},
    ]
    etab = make_etab(rows)
    etab["autonome"] = etab["og_nb_esms"] == 1
    cost = cost_grappe(etab, T2)
    # no AMOA (not a grappe of small structures), equipment only for the 2 autonomous ESMS:
    # 18 × 25 000 + 2 × 20 000 = 490 000
    assert cost.total == 490_000
    assert cost.porteur == "370000001"
    assert cost.score.computed == {"esms_autonomes_isoles": 3, "plusieurs_og_region": 2,
                                   "plusieurs_departements": 0}


def test_t2_two_region_grappe_split_pro_rata_in_cents():
    rows = small_ogs(5, 5) + make_og("280000003", 7, region="28", departement="28")
    cost = cost_grappe(make_etab(rows), T2)
    # 17 × 45 000 + 115 000 = 880 000, split 10 / 7:
    # 880 000 × 10 / 17 = 517 647.0588… and 880 000 × 7 / 17 = 362 352.9411…;
    # rounded to the cent, the spare cent goes to the larger fraction: 517 647.06 + 362 352.94
    assert cost.total == 880_000
    assert cost.by_region == {"24": 517_647.06, "28": 362_352.94}
    assert sum(cost.by_region.values()) == pytest.approx(880_000, abs=1e-6)
    # main region 24 has 2 OGs there: 2 points; one département in region 24: 0
    assert cost.score.computed["plusieurs_og_region"] == 2
    assert cost.score.region == "24"


def test_t2_corsica_threshold_is_8():
    corse = {"departement": "2A", "region": "94", "derogatoire": True}
    cost = cost_grappe(make_etab(small_ogs(4, 4, **corse)), T2)
    # 8 × 25 000 + 8 × 20 000 + 115 000 = 475 000, eligible with 8 ESMS
    assert cost.total == 475_000
    assert not any("il en faut au moins" in f for f in cost.eligibility)
    seven = cost_grappe(make_etab(small_ogs(4, 3, **corse)), T2)
    assert any("7 ESMS comptés après exclusions, il en faut au moins 8" in f
               for f in seven.eligibility)
    mainland = cost_grappe(make_etab(small_ogs(4, 4)), T2)
    assert any("il en faut au moins 15" in f for f in mainland.eligibility)


def test_t2_already_funded_and_conformant_esms_bring_nothing():
    rows = small_ogs(6, 6, 5)
    rows[0]["deja_finance"] = True
    rows[1]["deja_finance"] = True
    rows[2].update(dui_statut="conforme", dui_editeur="Alpha")
    cost = cost_grappe(make_etab(rows), T2)
    # 000 3): the two already-funded ESMS belong to small OGs, so they stay in the project
    # (17 counted) with the small-OG lines only; the conformant one has no line under 50:
    # 14 × 25 000 + (14 + 2) × 20 000 + 115 000 = 785 000
    assert cost.n_esms == 17 and cost.n_funded == 16
    assert cost.total == 785_000
    text = " ".join(cost.eligibility)
    assert "Déjà financés, d'un petit OG" in text and "Rien à financer" in text


def test_t2_porteur_override_and_centrality_tie_break():
    rows = (make_og("370000001", 5, lon=0.0, lat=47.0)
            + make_og("370000002", 5, lon=2.0, lat=47.0)
            + make_og("370000003", 5, lon=1.0, lat=47.0))
    etab = make_etab(rows)
    assert default_porteur(etab) == "370000003"  # tie 5 / 5 / 5, the middle one
    assert cost_grappe(etab, T2, porteur="370000002").porteur == "370000002"
    et = etab.loc[0, "finess_et"]
    assert cost_grappe(etab, T2, porteur=et).porteur == "370000001"
    with pytest.raises(ValueError, match="n'est pas un OG"):
        cost_grappe(etab, T2, porteur="999999999")


# ---------------------------------------------------------------- amorçage temps 1 (002, 003)


def test_t1_three_small_ogs_acquisition_without_amoa_amount():
    cost = cost_grappe(make_etab(small_ogs(6, 6, 5)), T1)
    # 17 × 25 000 + 17 × 20 000 = 765 000 (002 gives no AMOA amount)
    assert cost.total == 765_000
    assert [i.amount for i in cost.schedule] == [306_000, 306_000, 153_000]
    # no AMOA funded: "ressources dédiées" stays declarative
    assert cost.score.declared["ressources_dediees"] == 0


def test_t1_cap_of_30_structures():
    cost = cost_grappe(make_etab(small_ogs(11, 11, 11)), T1)
    # 33 ESMS, 30 funded: 30 × 25 000 + 30 × 20 000 = 1 350 000
    assert cost.n_funded == 30 and cost.total == 1_350_000


def test_t1_upgrade_with_two_esms_of_another_field():
    rows = small_ogs(6, 6, 5, dui_statut="a_mettre_a_niveau", dui_editeur="Alpha")
    rows += make_og("370000009", 2, champ="DOM")
    cost = cost_grappe(make_etab(rows), T1)
    # 003 Q1 « dont quelques-uns peuvent déroger à la règle »: the 2 DOM ESMS (2 / 19 ≤ 20 %)
    # count and are funded, as acquisitions (no DUI):
    # 17 × 10 000 + 2 × 25 000 + 19 × 20 000 = 170 000 + 50 000 + 380 000 = 600 000
    assert cost.total == 600_000
    assert cost.project_type == "mixte"
    assert not any("Champ non éligible" in f for f in cost.eligibility)


# ---------------------------------------------------------------- généralisation 2022 (004)


def test_2022_acquisition_under_50_vendor_not_chosen_uses_segur_amounts():
    cost = cost_grappe(make_etab(small_ogs(6, 6, 5)), G22)
    # usages 17 × 7 000 + équipement Ségur 17 × 14 500 + petits OG 17 × 20 000
    # + AMOA SAD 15 000 + AMOA projet 100 000 = 119 000 + 246 500 + 340 000 + 115 000 = 820 500
    assert cost.total == 820_500
    assert [i.amount for i in cost.schedule] == [410_250, 410_250]
    assert any("Référencement Ségur inconnu" in f for f in cost.eligibility)


def test_2022_tier_of_50_esms_or_more():
    etab = make_etab(make_og("760000001", 52))  # one large OG
    cost = cost_grappe(etab, G22)
    # usages 52 × 3 000 + équipement Ségur 52 × 3 000 = 312 000, no small-OG lines
    assert cost.total == 312_000
    assert set(amounts(cost)) == {"usages_acquisition_50", "equipement_segur_50"}


def test_2022_mixed_project_with_segur_vendor_and_sons_apart():
    rows = small_ogs(7, 7, 6)
    for r in rows[:10]:
        r.update(dui_statut="a_mettre_a_niveau", dui_editeur="Alpha", editeur_segur=True)
    cost = cost_grappe(make_etab(rows), G22)
    # acquisition 10 × (7 000 + 14 500) = 215 000 ; montée de version 10 × 5 000 = 50 000
    # petits OG 20 × 20 000 = 400 000 ; AMOA 15 000 + 100 000 = 115 000 ; total 780 000
    assert cost.total == 780_000
    # SONS 10 × 2 413 = 24 130 paid to the vendor, not in the total
    assert cost.sons_vendor == 24_130
    assert cost.project_type == "mixte" and cost.vendor_segur is True


def test_2022_upgrade_with_non_segur_vendor_is_not_eligible():
    rows = small_ogs(7, 7, 6)
    for r in rows[:10]:
        r.update(dui_statut="a_mettre_a_niveau", dui_editeur="Alpha", editeur_segur=False)
    cost = cost_grappe(make_etab(rows), G22)
    # only the 10 acquisitions are funded, with the non-Ségur equipment amount:
    # 10 × (7 000 + 12 000) + 10 × 20 000 + 15 000 + 100 000 = 505 000
    assert cost.total == 505_000
    assert cost.sons_vendor == 0
    assert cost.vendor_segur is False
    assert any("non référencé Ségur" in f and "non éligible" in f for f in cost.eligibility)


def test_2022_an_og_of_15_is_small_but_not_in_2021():
    etab = make_etab(make_og("370000001", 15) + make_og("370000002", 5))
    # 2022: both small: 20 × (7 000 + 14 500 + 20 000) + 115 000 = 945 000
    assert cost_grappe(etab, G22).total == 945_000
    # t2: the OG of 15 is medium: 20 × 25 000 + 5 × 20 000 = 600 000, no AMOA
    assert cost_grappe(etab, T2).total == 600_000


def test_2022_small_og_threshold_is_8_overseas():
    rows = make_og("971000001", 9, departement="971", region="01", derogatoire=True)
    etab = make_etab(rows)
    # OG of 9 ESMS in Guadeloupe is not small (at most 8): 9 × (7 000 + 14 500) = 193 500
    assert cost_grappe(etab, G22).total == 193_500


def test_2022_porteur_condition_on_amoa():
    etab = make_etab(make_og("370000001", 20) + make_og("370000002", 5))
    default = cost_grappe(etab, G22)  # porteur: the OG of 20, not small: no AMOA
    assert "amoa_projet" not in amounts(default)
    small_porteur = cost_grappe(etab, G22, porteur="370000002")
    # + 15 000 + 100 000 when the porteur is the small OG
    assert small_porteur.total - default.total == 115_000


# ---------------------------------------------------------------- scoring


def test_score_declared_criteria_and_amoa_implies_dedicated_resources():
    rows = small_ogs(6, 6) + make_og("410000003", 5, departement="41")
    cost = cost_grappe(make_etab(rows), T2, declared={"interoperabilite": True,
                                                      "fonction_dpo": True})
    # computed: 2 OGs of the region (2) + 2 départements (2) = 4 ;
    # declared: interopérabilité 5 + DPO 1 ; AMOA funded -> ressources dédiées 1 ; total 11
    assert cost.score.total == 11 and cost.score.max == 20
    assert cost.score.declared["ressources_dediees"] == 1
    assert "esms_autonomes_isoles" in cost.score.missing
    assert "interoperabilite" not in cost.score.missing
    with pytest.raises(ValueError, match="inconnu"):
        cost_grappe(make_etab(rows), T2, declared={"pas_un_critere": True})


def test_as_dict_is_json_ready_with_the_keys_propose_needs():
    data = cost_grappe(make_etab(small_ogs(6, 6, 5)), T2).as_dict()
    json.dumps(data)
    for key in ("total", "lines", "by_region", "schedule", "sons_vendor", "score",
                "project_type", "vendor", "porteur", "eligibility"):
        assert key in data
    assert set(data["score"]) >= {"computed", "declared", "total", "max", "missing"}
