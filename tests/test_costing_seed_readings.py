"""Worked examples for the seven readings of issue 10, computed by hand from the seeds.

Every amount is written with its arithmetic from the seeds' own figures, never from the code:

- 000 (amorçage temps 2, ARS Centre-Val de Loire): acquisition 25 000 €/ESMS and mise en
  conformité 10 000 €/ESMS « dans la limite de 49 ESMS par projet »; small OGs (« moins de 15
  établissements »): equipment 20 000 €/ESMS, AMOA 15 000 € + 100 000 € per project;
  déploiement (« 50 ESMS ou plus ») 5 000 €/ESMS; payments 40 / 40 / 20 %.
- 002 / 003 (amorçage temps 1): 25 000 € for « ESMS NON EQUIPES », 10 000 € for « ESMS DEJA
  EQUIPES » (« montée en version (ou le changement de solution) »), 20 000 € equipment for OGs
  of fewer than 15, « Un financement limité à 30 structures par projet »; payments reused
  from 000 (40 / 40 / 20 %).
- 004 (généralisation 2022): acquisition < 50 ESMS: usages 7 000 €, equipment 14 500 € (Ségur)
  or 12 000 € (not Ségur); ≥ 50: 3 000 €, 3 000 € / 1 000 €; montée de version 5 000 € (Ségur
  only, « Non éligible » otherwise); OGs « < = 15 ESMS ou 8 pour les Outre-Mer et la Corse »:
  20 000 €/ESMS, 15 000 € + 100 000 € per porteur; payments 50 / 50 %.
"""

from __future__ import annotations

import pandas as pd
from rules_factories import make_etab, make_og

from grappes.core.model import GroupingRules
from grappes.programme.costing import cost_grappe
from grappes.programme.rules import load_rules
from grappes.programme.validate import grappe_violations
from grappes.solver import GrappeSolver

T1 = load_rules("amorcage-t1-2021")
T2 = load_rules("amorcage-t2-2021")
G22 = load_rules("generalisation-2022")

CORSE = {"departement": "2A", "region": "94", "derogatoire": True, "lon": 8.74, "lat": 41.93}


def amounts(cost) -> dict[str, float]:
    return {ln.code: ln.amount for ln in cost.lines}


def schedule(cost) -> list[float]:
    return [i.amount for i in cost.schedule]


def codes(rows: pd.DataFrame, rules: GroupingRules, **kw) -> list[str]:
    return [v.code for v in grappe_violations(rows, rules, **kw)]


def ogs(*sizes: int, prefix: str = "3700000", **fields) -> list[dict]:
    rows = []
    for k, n in enumerate(sizes, 1):
        rows += make_og(f"{prefix}{k:02d}", n, **fields)
    return rows


# ------------------------------------------------- 1. already funded, amorçage temps 2 (000)


def test_t2_a_temps_1_grappe_of_small_ogs_gets_the_small_og_lines():
    """000 3): « Les projets portés par des grappes de petites structures retenus dans le
    cadre du temps 1 de la phase d'amorçage pourront également bénéficier de ces
    financements. » A temps 1 grappe of 6 + 5 + 4 = 15 ESMS, all already funded:
    no acquisition, no conformité; equipment 15 × 20 000 = 300 000; AMOA 15 000 + 100 000;
    total 415 000; 40 / 40 / 20 %: 166 000 / 166 000 / 83 000. They count toward the 15."""
    etab = make_etab(ogs(6, 5, 4, deja_finance=True))
    cost = cost_grappe(etab, T2)
    assert amounts(cost) == {"equipement_petits_og": 300_000, "amoa_marche": 15_000,
                             "amoa_pilotage": 100_000}
    assert cost.total == 415_000
    assert schedule(cost) == [166_000, 166_000, 83_000]
    assert cost.n_esms == 15 and cost.n_funded == 15
    assert cost.project_type == "deja_finance"
    assert grappe_violations(etab, T2.grouping) == []


def test_t2_already_funded_esms_of_a_small_og_joins_a_new_grappe():
    """6 + 6 + 5 ESMS of small OGs without DUI, the third OG's 5 already funded in temps 1:
    12 × 25 000 = 300 000 acquisition; 17 × 20 000 = 340 000 equipment; AMOA 115 000;
    total 755 000: 302 000 / 302 000 / 151 000.
    An already-funded ESMS of a MEDIUM OG (16 ESMS) is neither counted nor funded."""
    rows = ogs(6, 6) + make_og("370000003", 5, deja_finance=True)
    cost = cost_grappe(make_etab(rows), T2)
    assert amounts(cost) == {"acquisition": 300_000, "equipement_petits_og": 340_000,
                             "amoa_marche": 15_000, "amoa_pilotage": 100_000}
    assert cost.total == 755_000
    assert schedule(cost) == [302_000, 302_000, 151_000]
    assert cost.project_type == "acquisition"

    medium = make_og("370000009", 16)
    medium[0]["deja_finance"] = True
    cost = cost_grappe(make_etab(medium), T2)
    # 15 counted acquisitions, no small-OG line: 15 × 25 000 = 375 000
    assert cost.n_esms == 15 and cost.total == 375_000
    assert any("non financés ni comptés" in f for f in cost.eligibility)


def test_already_funded_esms_stay_out_under_t1_and_2022():
    """Only 000 (temps 2) carries them over; 004 excludes any ESMS that « perçu de
    financement dans le cadre du programme ESMS numérique » : 15 ESMS, 5 of them already
    funded: 10 counted, below 15 under both."""
    rows = ogs(6, 4) + make_og("370000003", 5, deja_finance=True)
    for rules in (T1, G22):
        cost = cost_grappe(make_etab(rows), rules)
        assert cost.n_esms == 10
        assert "trop_peu_esms" in codes(make_etab(rows), rules.grouping)


# ------------------------------------------------- 2. temps 1: already equipped = conformité


def test_t1_non_conforme_dui_is_a_mise_en_conformite():
    """002: 10 k€ for « ESMS DEJA EQUIPES d'un DUI ». 6 + 6 + 5 ESMS with a non-conformant
    DUI: 17 × 10 000 + 17 × 20 000 = 510 000 (not 17 × 25 000 + 17 × 20 000 = 765 000);
    40 / 40 / 20 %: 204 000 / 204 000 / 102 000."""
    cost = cost_grappe(make_etab(ogs(6, 6, 5, dui_statut="non_conforme", dui_editeur="Vieux")),
                       T1)
    assert amounts(cost) == {"conformite": 170_000, "equipement_petits_og": 340_000}
    assert cost.total == 510_000
    assert schedule(cost) == [204_000, 204_000, 102_000]
    assert cost.project_type == "conformite"


def test_t1_vendor_switch_is_a_mise_en_conformite():
    """002: « montée en version (ou le changement de solution) » at 10 k€. 8 ESMS upgrading
    Alpha, 5 upgrading Beta (switch to Alpha), 4 without DUI:
    (8 + 5) × 10 000 + 4 × 25 000 + 17 × 20 000 = 130 000 + 100 000 + 340 000 = 570 000;
    228 000 / 228 000 / 114 000. The same grappe under 000 (t2) counts the switch as an
    acquisition (« en remplacement d'un DUI existant »): 9 × 25 000 + 8 × 10 000
    + 17 × 20 000 + 115 000 = 760 000."""
    rows = (make_og("370000001", 8, dui_statut="a_mettre_a_niveau", dui_editeur="Alpha")
            + make_og("370000002", 5, dui_statut="a_mettre_a_niveau", dui_editeur="Beta")
            + make_og("370000003", 4))
    cost = cost_grappe(make_etab(rows), T1)
    assert amounts(cost) == {"acquisition": 100_000, "conformite": 130_000,
                             "equipement_petits_og": 340_000}
    assert cost.total == 570_000
    assert schedule(cost) == [228_000, 228_000, 114_000]
    assert any("chiffré comme une mise en conformité" in f for f in cost.eligibility)
    assert cost_grappe(make_etab(rows), T2).total == 760_000


# ------------------------------------------------- 3. caps limit funding, not grouping


def test_t1_og_of_35_is_valid_and_funded_for_30():
    """002: « Pas de regroupement obligatoire pour les OG de plus de 15 structures » and
    « Un financement limité à 30 structures par projet ». One OG of 35 ESMS without DUI:
    valid alone; 30 × 25 000 = 750 000 (medium OG: no equipment);
    300 000 / 300 000 / 150 000."""
    etab = make_etab(make_og("370000001", 35))
    assert grappe_violations(etab, T1.grouping) == []
    cost = cost_grappe(etab, T1)
    assert cost.n_esms == 35 and cost.n_funded == 30
    assert amounts(cost) == {"acquisition": 750_000}
    assert schedule(cost) == [300_000, 300_000, 150_000]
    assert any("projet recevable, financement limité au plafond" in f for f in cost.eligibility)


def test_t1_solver_proposes_the_og_of_35_alone():
    """The solver keeps 30 as its nominal size for grappes of several OGs, but an OG above
    it is its own grappe instead of being left out (« og_trop_grand » before)."""
    etab = make_etab(make_og("370000001", 35))
    proposal = GrappeSolver(T1.grouping, time_limit=2.0).solve(etab)
    assert [g.og for g in proposal.grappes] == [["370000001"]]
    assert proposal.unplaced.empty


def test_t2_deploiement_of_55_esms_is_reachable_and_not_capped_at_49():
    """000 4): « des organismes gestionnaires ou des groupements de 50 ESMS ou plus […] un
    financement forfaitaire de 5k€ par ESMS »; the 49 limit is written for 1) and 2) only.
    One large OG of 55 ESMS with a conformant solution: 55 × 5 000 = 275 000;
    110 000 / 110 000 / 55 000. Valid (no « trop_esms »)."""
    etab = make_etab(make_og("370000001", 55, dui_statut="conforme", dui_editeur="Alpha"))
    assert grappe_violations(etab, T2.grouping) == []
    cost = cost_grappe(etab, T2)
    assert amounts(cost) == {"deploiement": 275_000}
    assert schedule(cost) == [110_000, 110_000, 55_000]
    assert cost.project_type == "deploiement" and cost.n_funded == 55


def test_t2_deploiement_with_a_small_og_brought_in():
    """50 conformant ESMS of a large OG + a small OG of 5 without DUI joining the solution
    (« les petits gestionnaires qui seraient intégrés à un projet de déploiement
    généralisé »): 50 × 5 000 + 5 × 25 000 + 5 × 20 000 = 250 000 + 125 000 + 100 000
    = 475 000 (no AMOA: not a grappe of small structures); 190 000 / 190 000 / 95 000."""
    rows = (make_og("370000001", 50, dui_statut="conforme", dui_editeur="Alpha")
            + make_og("370000002", 5))
    cost = cost_grappe(make_etab(rows), T2)
    assert amounts(cost) == {"acquisition": 125_000, "deploiement": 250_000,
                             "equipement_petits_og": 100_000}
    assert cost.total == 475_000
    assert schedule(cost) == [190_000, 190_000, 95_000]


def test_t2_grappe_above_49_is_valid_with_funding_capped():
    """Four small OGs of 13 = 52 ESMS without DUI: valid (the solver would not propose it,
    its nominal size is 49); 49 × 25 000 + 49 × 20 000 + 115 000 = 2 320 000."""
    etab = make_etab(ogs(13, 13, 13, 13))
    assert grappe_violations(etab, T2.grouping) == []
    assert codes(etab, T2.grouping, nominal=True) == ["trop_esms"]
    cost = cost_grappe(etab, T2)
    assert cost.total == 2_320_000 and cost.n_funded == 49


# ------------------------------------------------- 4. Corsica and overseas, one OG


def test_corsican_og_of_10_stands_alone_under_every_rule_set():
    """003 Q6: « Nous ne finançons pas de DUI pour un OG qui a moins de 15 structures en
    métropole et 8 structures en territoires ultramarins »: an OG of 10 ESMS in Corsica
    reaches 8 alone.
    t2: small OG (« moins de 15 »): 10 × 25 000 + 10 × 20 000 + 115 000 = 565 000.
    2022: not small (« 8 pour les Outre-Mer et la Corse »): 10 × (7 000 + 14 500) = 215 000,
    50 / 50 %: 107 500 / 107 500.
    t1: 10 × 25 000 + 10 × 20 000 = 450 000 (no AMOA amount in 002)."""
    etab = make_etab(make_og("2A0000001", 10, **CORSE))
    for rules in (T1, T2, G22):
        assert grappe_violations(etab, rules.grouping) == [], rules.name
    assert cost_grappe(etab, T2).total == 565_000
    cost = cost_grappe(etab, G22)
    assert amounts(cost) == {"usages_acquisition": 70_000, "equipement_segur": 145_000}
    assert schedule(cost) == [107_500, 107_500]
    assert cost_grappe(etab, T1).total == 450_000


def test_corsica_small_and_alone_agree_in_2022():
    """An OG of 8 in Corsica is both small for 004's additional lines and big enough to stand
    alone: 8 × (7 000 + 14 500 + 20 000) + 15 000 + 100 000 = 332 000 + 115 000 = 447 000.
    An OG of 7 is neither alone-able nor enough: trop_peu_esms and trop_peu_og."""
    etab = make_etab(make_og("2A0000001", 8, **CORSE))
    assert grappe_violations(etab, G22.grouping) == []
    assert cost_grappe(etab, G22).total == 447_000
    seven = make_etab(make_og("2A0000001", 7, **CORSE))
    assert codes(seven, G22.grouping) == ["trop_peu_esms", "trop_peu_og"]


def test_lone_og_of_15_accepted_under_t2_and_2022():
    """003 Q21: « Une association qui a au minimum 15 établissements et services
    médico-sociaux n'est pas obligée de se regrouper ». 2022 (004) sets no grouping rule:
    the OG of 15 stands alone, and is small for the funding (« OG < = 15 ESMS »):
    15 × (7 000 + 14 500 + 20 000) + 115 000 = 622 500 + 115 000 = 737 500.
    t2: medium OG (« moins de 15 » is small): 15 × 25 000 = 375 000."""
    etab = make_etab(make_og("370000001", 15))
    assert grappe_violations(etab, G22.grouping) == []
    assert grappe_violations(etab, T2.grouping) == []
    assert cost_grappe(etab, G22).total == 737_500
    assert cost_grappe(etab, T2).total == 375_000


# ------------------------------------------------- 5. 2022: non-Ségur upgrade


def test_2022_non_segur_upgrade_counts_neither_toward_15_nor_the_tier():
    """004: Montée de version, éditeur NON Ségur: « Non éligible ». A medium OG of 45 ESMS
    without DUI + a small OG of 10 upgrading Alpha (not Ségur), the grappe's solution:
    counted 45, not 55, so the < 50 tier with the non-Ségur equipment:
    45 × (7 000 + 12 000) = 855 000 (the ≥ 50 tier would give 45 × (3 000 + 1 000) = 180 000);
    no AMOA (the porteur, the OG of 45, is not small); 427 500 / 427 500."""
    rows = (make_og("370000001", 45)
            + make_og("370000002", 10, dui_statut="a_mettre_a_niveau", dui_editeur="Alpha",
                      editeur_segur=False))
    etab = make_etab(rows)
    cost = cost_grappe(etab, G22)
    assert cost.n_esms == 45
    assert amounts(cost) == {"usages_acquisition": 315_000, "equipement_non_segur": 540_000}
    assert cost.total == 855_000
    assert schedule(cost) == [427_500, 427_500]
    assert grappe_violations(etab, G22.grouping) == []


def test_2022_non_segur_upgrades_do_not_reach_the_threshold():
    """10 acquisitions + 10 non-Ségur upgrades: 10 counted < 15, for cost and validate.
    The 10 acquisitions are still costed: 10 × (7 000 + 12 000) + 10 × 20 000 + 115 000
    = 505 000."""
    rows = (ogs(5, 5) + make_og("370000003", 10, dui_statut="a_mettre_a_niveau",
                                 dui_editeur="Alpha", editeur_segur=False))
    etab = make_etab(rows)
    cost = cost_grappe(etab, G22)
    assert cost.n_esms == 10 and cost.total == 505_000
    assert any("10 ESMS comptés après exclusions, il en faut au moins 15" in f
               for f in cost.eligibility)
    assert codes(etab, G22.grouping) == ["trop_peu_esms"]


# ------------------------------------------------- 6. temps 1: a few ESMS of another field


def test_t1_ssiad_in_a_pa_grappe_within_the_share_rule():
    """003 Q1: « Ces critères s'apprécient à l'échelle de la grappe de 15 à 30 ESMS (dont
    quelques-uns peuvent déroger à la règle) ». 6 + 6 + 5 PA ESMS + a SSIAD (field DOM) of
    its own OG: 1 / 18 ≤ 20 %, valid; 18 × 25 000 + 18 × 20 000 = 810 000;
    324 000 / 324 000 / 162 000."""
    ssiad = {"finess_ej": "370000009", "finess_et": "370009000", "champ": "DOM",
             "categorie": "354", "categorie_libelle": "SSIAD"}
    etab = make_etab([*ogs(6, 6, 5), ssiad])
    assert grappe_violations(etab, T1.grouping) == []
    cost = cost_grappe(etab, T1)
    assert cost.n_esms == 18 and cost.total == 810_000
    assert schedule(cost) == [324_000, 324_000, 162_000]


def test_t1_share_rule_and_dominant_field_still_hold():
    """5 DOM out of 20 is 25 % > 20 %: champ_mixte. A grappe made mostly of DOM is not a
    t1 grappe (003 Q5 « dominante PA ou dominante PH »); it is under t2."""
    too_many = make_etab(ogs(8, 7) + make_og("370000009", 5, champ="DOM"))
    assert codes(too_many, T1.grouping) == ["champ_mixte"]
    dom = make_etab(ogs(6, 6, 5, champ="DOM"))
    assert codes(dom, T1.grouping) == ["non_eligible"]
    assert grappe_violations(dom, T2.grouping) == []


# ------------------------------------------------- 7. cap ranking: most funding


def test_cap_keeps_the_most_funding():
    """t2, 55 ESMS: a medium OG of 16 without DUI (25 000 each) and three small OGs of 13
    upgrading Alpha (10 000 + 20 000 = 30 000 each). Cap 49: the 39 upgrades, then 10 of
    the 16 acquisitions: 39 × 30 000 + 10 × 25 000 = 1 170 000 + 250 000 = 1 420 000
    (acquisitions first would give 16 × 25 000 + 33 × 30 000 = 1 390 000). No AMOA (a medium
    OG). 568 000 / 568 000 / 284 000."""
    rows = make_og("370000001", 16) + ogs(13, 13, 13, prefix="3800000",
                                         dui_statut="a_mettre_a_niveau", dui_editeur="Alpha")
    cost = cost_grappe(make_etab(rows), T2)
    assert amounts(cost) == {"acquisition": 250_000, "conformite": 390_000,
                             "equipement_petits_og": 780_000}
    assert cost.total == 1_420_000
    assert schedule(cost) == [568_000, 568_000, 284_000]
    assert cost.n_funded == 49
    # the words say what the code does
    assert "le plus de financement" in T2.choices["financement.plafond_esms"]
    assert "le plus de financement" in T1.choices["financement.plafond_esms"]
    assert "acquisition avant" not in T2.choices["financement.plafond_esms"]


# ------------------------------------------------- smaller: « 50 ou plus »


def test_fifty_or_more_cites_both_sentences_of_000():
    source = T2.citations["regroupement.gros_og"]
    assert "50 ESMS ou plus" in source and "plus de 50 ESMS" in source
    assert T2.grouping and T2.gros_og_min == 50
    assert T2.line("deploiement").size_min == 50


# ------------------------------------------------- docs/choix-ambiguites.md lists every choice


def test_docs_rules_md_lists_every_ambiguity_choice():
    """Every ``choix`` of the three rule files is named in docs/choix-ambiguites.md (by its key, or
    for
    an array of tables by its table and the entry's code)."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "choix-ambiguites.md").read_text("utf-8")
    missing = []
    for rules in (T1, T2, G22, load_rules("normandie-2022")):
        for key in rules.choices:
            table, _, rest = key.partition("[")
            if not rest:
                token = f"`{key}`"
            else:
                index = int(rest.split("]")[0]) - 1
                if table == "financement.lignes":
                    token = f"`{table}` `{rules.lines[index].code}`"
                elif table == "eligibilite":
                    token = f"`{table}` `{rules.eligibility[index].code}`"
                else:
                    token = f"`{table}`"
            if token not in doc:
                missing.append(f"{rules.name}: {key} ({token})")
    assert missing == []


# ------------------------------------------------- issue 22: 004's « Typologies de projet »
#
# 004 « Typologies de projet et procédures d'achat », acquisition columns: « Projet PA/PH/DOM »
# « Passage obligatoire par le SAD », « Editeur doit être référencé Ségur ou SAD »; « Projet
# PDS/PDE » « Pas de passage par le SAD, utilisation possible du MP en cours » (no
# prerequisite written); « Projet AHI/PJM » « Pas de passage par le SAD », « Editeur doit être
# référencé Ségur ». « Synoptique des financements »: « AMOA et conduite du marché via le SAD
# 15k€/porteur » for « OG < = 15 ESMS ».


def test_2022_sad_line_only_for_pa_ph_dom_acquisitions():
    """Three small OGs (6 + 5 + 4 = 15 ESMS, no DUI: acquisitions, vendor unknown so Ségur).
    PA: usages 15 × 7 000 = 105 000; equipment 15 × 14 500 = 217 500; small-OG equipment
    15 × 20 000 = 300 000; AMOA SAD 15 000 (« Passage obligatoire par le SAD »); AMOA projet
    100 000: total 737 500, 50 / 50 %: 368 750 + 368 750.
    PDE and PJM: « Pas de passage par le SAD »: the same without the 15 000 = 722 500,
    361 250 + 361 250."""
    pa = cost_grappe(make_etab(ogs(6, 5, 4, champ="PA")), G22)
    assert amounts(pa) == {"usages_acquisition": 105_000, "equipement_segur": 217_500,
                           "equipement_petits_og": 300_000, "amoa_sad": 15_000,
                           "amoa_projet": 100_000}
    assert pa.total == 737_500 and schedule(pa) == [368_750, 368_750]
    for champ in ("PDE", "PDS", "AHI", "PJM"):
        cost = cost_grappe(make_etab(ogs(6, 5, 4, champ=champ)), G22)
        assert "amoa_sad" not in amounts(cost), champ
        assert cost.total == 722_500 and schedule(cost) == [361_250, 361_250], champ
    assert "Passage obligatoire par le SAD" in G22.citations["financement.lignes[11].montant"]


def test_2022_acquisition_prerequisite_per_project_type():
    """Two small OGs of 8: the first's ESMS run vendor « Logi » (conforme), known NOT
    referenced Ségur; the second's 8 have no DUI (acquisitions).
    AHI: « Editeur doit être référencé Ségur »: the 8 acquisitions are neither funded nor
    counted: 8 counted ESMS (< 15), total 0.
    PDS: no prerequisite written: the acquisitions are funded with a non-Ségur vendor:
    usages 8 × 7 000 = 56 000; equipment « Editeur NON Ségur » 8 × 12 000 = 96 000;
    small-OG equipment 8 × 20 000 = 160 000; AMOA projet 100 000 (no SAD line): 412 000."""
    def grappe(champ: str) -> pd.DataFrame:
        return make_etab(make_og("370000101", 8, champ=champ, dui_statut="conforme",
                                 dui_editeur="Logi", editeur_segur=False)
                         + make_og("370000102", 8, champ=champ))

    ahi = cost_grappe(grappe("AHI"), G22)
    assert ahi.total == 0 and ahi.n_esms == 8
    assert any("prérequis du type de projet" in f for f in ahi.eligibility)
    pds = cost_grappe(grappe("PDS"), G22)
    assert amounts(pds) == {"usages_acquisition": 56_000, "equipement_non_segur": 96_000,
                            "equipement_petits_og": 160_000, "amoa_projet": 100_000}
    assert pds.total == 412_000 and pds.n_esms == 16


def test_2022_fields_mix_within_a_project_type_not_across():
    """9 PA + 8 PH is one « Projet PA/PH/DOM »: valid in 2022 (no 2022 sentence sets a share;
    the 20 % of 003 Q5 is 2021's). Cost: 17 acquisitions, usages 17 × 7 000 = 119 000;
    equipment 17 × 14 500 = 246 500; small-OG equipment 17 × 20 000 = 340 000; AMOA SAD
    15 000 + projet 100 000: 820 500 (410 250 + 410 250).
    9 PA + 8 PDE mixes two project types: champ_mixte (8 of 17, 47 %). In 2021 (t2),
    9 PA + 8 PH is still champ_mixte (47 % > 20 %)."""
    mixed = make_etab(make_og("370000201", 9, champ="PA") + make_og("370000202", 8, champ="PH"))
    assert grappe_violations(mixed, G22.grouping) == []
    cost = cost_grappe(mixed, G22)
    assert cost.total == 820_500 and schedule(cost) == [410_250, 410_250]
    across = make_etab(make_og("370000201", 9, champ="PA") + make_og("370000202", 8, champ="PDE"))
    found = grappe_violations(across, G22.grouping)
    assert [v.code for v in found] == ["champ_mixte"]
    assert "type de projet PA/PH/DOM" in found[0].message and "47 %" in found[0].message
    assert codes(mixed, T2.grouping) == ["champ_mixte"]
    assert "Aucune phrase" not in G22.choices["regroupement.part_autre_champ_max"]
    assert "libre" in G22.choices["regroupement.part_autre_champ_max"]


def test_2022_windows_per_project_type():
    """« ÉLIGIBLE EN FENETRE 1 (15 mars – 30 mai) » for PA/PH/DOM, « ÉLIGIBLE EN FENETRE 2
    (1 er juin – 30 septembre) » for PDS/PDE and AHI/PJM."""
    first = {t.code: t.first_window for t in G22.typologies}
    assert first == {"PA/PH/DOM": 1, "PDS/PDE": 2, "AHI/PJM": 2}
    assert [w.share for w in G22.windows] == [0.5, 1.0]


# ------------------------------------------------- issue 22: health establishments (003 Q18)


def _hospital_grappe(clinic_of_other_og: bool) -> pd.DataFrame:
    hospital = {"finess_ej": "370000301", "finess_et": "370000300", "champ": "hors_champ",
                "sanitaire": True, "categorie": "101", "categorie_libelle": "CH",
                "statut_agrege": "public", "og_nb_esms": 16}
    if clinic_of_other_og:
        hospital = hospital | {"finess_ej": "370000399", "og_nb_esms": 0}
    return make_etab([hospital, *make_og("370000301", 16, champ="PA", og_nb_esms=16,
                                         statut_agrege="public")])


def test_2022_hospital_carrying_its_ehpad_is_the_porteur():
    """003 Q18: « Un GHT peut en effet porter un projet pour les établissements et services
    médico-sociaux qui lui sont rattachés ». A hospital and the 16 EHPAD of its EJ: the
    hospital's row is the porteur's, neither counted nor funded; the grappe is judged on its
    16 EHPAD: valid; 16 acquisitions, an OG of 16 (not small): usages 16 × 7 000 = 112 000,
    equipment 16 × 14 500 = 232 000: 344 000, 172 000 + 172 000."""
    etab = _hospital_grappe(clinic_of_other_og=False)
    assert grappe_violations(etab, G22.grouping) == []
    cost = cost_grappe(etab, G22)
    assert cost.porteur == "370000301" and cost.n_esms == 16 and cost.n_funded == 16
    assert cost.total == 344_000 and schedule(cost) == [172_000, 172_000]
    said = " ".join(cost.eligibility)
    assert "porte le projet" in said and "003 Q18" in said and "370000300" in said


def test_2022_health_establishment_of_another_og_is_set_aside_with_its_reason():
    """A clinic of another EJ listed in the same grappe: set aside (« hors du champ
    médico-social du programme et pas porteur du projet »), the grappe judged without it:
    valid, the same 344 000."""
    etab = _hospital_grappe(clinic_of_other_og=True)
    assert grappe_violations(etab, G22.grouping) == []
    cost = cost_grappe(etab, G22)
    assert cost.porteur == "370000301" and cost.total == 344_000
    said = " ".join(cost.eligibility)
    assert "écarté" in said and "pas porteur" in said and "370000300" in said
    # a non-health row of an ineligible field is still a fault of the grappe
    odd = etab.copy()
    odd.loc[0, "sanitaire"] = False
    assert "non_eligible" in codes(odd, G22.grouping)
