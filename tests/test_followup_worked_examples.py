"""Worked examples of issue 14: rates, month each target is met, tranche states, forecast.

Figures are hand-written in tests/followup_factories.py; every expected value below is
computed by hand in the comments.
"""

from __future__ import annotations

from datetime import date

import pytest

from grappes.followup import FollowupRules, evaluate
from grappes.followup.evaluate import TrancheState
from grappes.followup.forecast import Outlook, project
from grappes.followup.rates import esms_rates, grappe_rates
from grappes.programme.costing import split_schedule
from grappes.programme.rules import load_rules
from tests.followup_factories import (
    FINESS_A,
    FINESS_B,
    FINESS_C,
    FINESS_D,
    g2022_grappe,
    linear_c,
    steady_d,
    t2_figures,
    t2_grappe,
)

T2 = FollowupRules.from_ruleset(load_rules("amorcage-t2-2021"))
G22 = FollowupRules.from_ruleset(load_rules("generalisation-2022"))


def _rate(rates, finess, indicator, month):
    return next(r.taux for r in rates if r.finess_et == finess and r.indicator == indicator
                and r.mois == date(2024, month, 1))


def _met(state, finess, indicator):
    a = next(a for a in state.attainments if a.finess_et == finess and a.indicator == indicator)
    return a.first_met


def test_rule_files_give_the_targets_and_the_choice():
    assert [(t.code, t.target, t.perimetre, t.first_window_months) for t in G22.targets] == [
        ("mssante", 0.7, "esms", 3), ("dmp", 0.7, "esms", 3), ("dossiers_actifs", 0.9, "esms", 1),
        ("projet_personnalise", 0.9, "esms", 1), ("evenement", 0.9, "esms", 1)]
    r = load_rules("generalisation-2022")
    assert "dans la structure" in r.citations["cibles_usage[1].perimetre"]
    assert "Par ESMS" in r.choices["cibles_usage[1].perimetre"]
    assert FollowupRules.from_ruleset(r, perimetre="grappe").targets[0].perimetre == "grappe"
    with pytest.raises(ValueError, match="périmètre inconnu"):
        FollowupRules.from_ruleset(r, perimetre="region")


def test_t2_rates_follow_the_seed_definitions():
    rates = esms_rates(t2_figures(), T2)
    # MSSanté: no rate in the first two months, then the 3 months together, then monthly
    assert not [r for r in rates if r.indicator == "mssante" and r.mois < date(2024, 3, 1)]
    assert _rate(rates, FINESS_A, "mssante", 3) == pytest.approx(210 / 300)
    assert _rate(rates, FINESS_A, "mssante", 4) == pytest.approx(0.72)
    assert _rate(rates, FINESS_B, "dmp", 3) == pytest.approx(75 / 150)
    # monthly indicators from the first month; subsets over active files
    assert _rate(rates, FINESS_A, "dossiers_actifs", 1) == pytest.approx(0.60)
    assert _rate(rates, FINESS_B, "projet_personnalise", 4) == pytest.approx(38 / 44)
    assert _rate(rates, FINESS_B, "evenement", 4) == pytest.approx(40 / 44)
    g = grappe_rates(rates)
    mss_mar = next(r for r in g if r.indicator == "mssante" and r.mois == date(2024, 3, 1))
    assert (mss_mar.numerateur, mss_mar.denominateur, mss_mar.n_esms) == (315, 450, 2)


def test_t2_month_each_target_is_met_and_tranches():
    state = evaluate(t2_grappe(jalon=date(2024, 4, 30)), t2_figures(), T2, date(2024, 7, 5))
    expected = {
        (FINESS_A, "mssante"): date(2024, 3, 1),  # 210/300 = 70 %
        (FINESS_A, "dmp"): date(2024, 4, 1),  # 70/100
        (FINESS_A, "dossiers_actifs"): date(2024, 3, 1),  # 92/100
        (FINESS_A, "projet_personnalise"): date(2024, 3, 1),  # 84/92
        (FINESS_A, "evenement"): date(2024, 3, 1),  # 85/92
        (FINESS_B, "mssante"): date(2024, 3, 1),  # 105/150
        (FINESS_B, "dmp"): date(2024, 4, 1),  # 36/50
        (FINESS_B, "dossiers_actifs"): date(2024, 5, 1),  # 46/50 (April 44/50)
        (FINESS_B, "projet_personnalise"): date(2024, 5, 1),  # 42/46 (April 38/44)
        (FINESS_B, "evenement"): date(2024, 4, 1),  # 40/44
    }
    for (finess, ind), month in expected.items():
        assert _met(state, finess, ind) == month, (finess, ind)
    assert state.usage_met == date(2024, 5, 1)
    t1, t2, t3 = state.tranches
    assert [t.tranche.montant for t in state.tranches] == [40_000, 40_000, 20_000]
    assert (t1.state, t1.payable_on) == (TrancheState.PAYABLE, date(2024, 1, 10))
    assert (t2.state, t2.payable_on) == (TrancheState.PAYABLE, date(2024, 4, 30))
    assert (t3.state, t3.payable_on) == (TrancheState.PAYABLE, date(2024, 5, 31))
    assert state.amount_payable == 100_000
    assert state.flags == ()


def test_t2_before_the_targets_and_the_milestone():
    state = evaluate(t2_grappe(), t2_figures(last_month=4), T2, date(2024, 5, 2))
    t1, t2, t3 = state.tranches
    assert t1.state == TrancheState.PAYABLE
    assert t2.state == TrancheState.PENDING and "jalon" in t2.reason
    assert t3.state == TrancheState.PENDING and t3.payable_on is None
    assert t3.deadline == date(2025, 7, 10)  # 18 months: A is an acquisition


def test_t2_perimeter_override_grappe_pays_a_month_earlier():
    rules = FollowupRules.from_ruleset(load_rules("amorcage-t2-2021"), perimetre="grappe")
    state = evaluate(t2_grappe(), t2_figures(), rules, date(2024, 7, 5))
    # April: MSSanté 108/150, DMP 106/150, actifs 139/150, projet 128/139, événement 130/139
    assert state.usage_met == date(2024, 4, 1)
    assert state.tranches[2].payable_on == date(2024, 4, 30)


def test_2022_linear_series_forecast_within_a_month_of_the_true_crossing():
    grappe = g2022_grappe()
    # C: active files 50 % + 5 points a month from January: 90 % in September (k = 8)
    state = evaluate(grappe, [*linear_c(6), *steady_d(6)], G22, date(2023, 7, 2))
    t1, t2 = state.tranches
    assert [t.tranche.montant for t in state.tranches] == [30_000, 30_000]
    assert t1.state == TrancheState.PAYABLE
    assert t2.state == TrancheState.PENDING
    assert t2.deadline == date(2023, 10, 5)  # 9 months: both are upgrades
    true_crossing = date(2023, 9, 30)
    assert abs((t2.expected_on - true_crossing).days) <= 31
    assert t2.expected_earliest <= t2.expected_on <= t2.expected_latest
    # the months come: every target holds at the end of September; 2022 then waits for the
    # « vérification de service régulier » (004), recorded in October: payable on that date
    state = evaluate(grappe, [*linear_c(9), *steady_d(9)], G22, date(2023, 10, 3))
    assert _met(state, FINESS_C, "dossiers_actifs") == date(2023, 9, 1)
    assert state.usage_met == date(2023, 9, 1)
    assert state.tranches[1].state == TrancheState.AWAITING_CHECK
    assert state.tranches[1].payable_on is None and state.amount_payable == 30_000
    checked = g2022_grappe(verifie_le=date(2023, 10, 12))
    state = evaluate(checked, [*linear_c(10), *steady_d(10)], G22, date(2023, 10, 13))
    assert state.tranches[1].state == TrancheState.PAYABLE
    assert state.tranches[1].payable_on == date(2023, 10, 12)
    assert state.amount_payable == 60_000


def test_2022_slow_esms_puts_the_deadline_at_risk_and_is_flagged():
    grappe = g2022_grappe()
    # C: +2 points a month from 50 %: 90 % at k = 20 (September 2024), deadline October 2023
    state = evaluate(grappe, [*linear_c(6, step=2), *steady_d(6)], G22, date(2023, 7, 2))
    tranche = state.tranches[1]
    assert tranche.state == TrancheState.AT_RISK
    assert tranche.expected_on == date(2024, 9, 30)
    assert [(f.finess_et, f.indicator) for f in state.flags] == [(FINESS_C, "dossiers_actifs")]
    assert "échéance" in state.flags[0].reason
    # an acquisition has 18 months: the same trend is no longer late for C alone
    relaxed = evaluate(g2022_grappe(("acquisition", "conformite")),
                       [*linear_c(6, step=2), *steady_d(6)], G22, date(2023, 7, 2))
    assert relaxed.tranches[1].deadline == date(2024, 7, 5)
    assert relaxed.tranches[1].state == TrancheState.AT_RISK  # September 2024 > July 2024


def test_flat_series_does_not_progress_and_few_months_cannot_be_projected():
    grappe = g2022_grappe()
    flat = evaluate(grappe, [*linear_c(6, start=60, step=0), *steady_d(6)], G22, date(2023, 7, 2))
    assert flat.tranches[1].state == TrancheState.AT_RISK
    assert flat.projections[(FINESS_C, "dossiers_actifs")].outlook == Outlook.NO_PROGRESS
    assert flat.flags[0].finess_et == FINESS_C
    few = evaluate(grappe, [*linear_c(2), *steady_d(2)], G22, date(2023, 3, 2))
    assert few.tranches[1].state == TrancheState.PENDING
    assert "insuffisantes" in few.tranches[1].reason
    assert few.tranches[1].expected_on is None
    assert few.projections[(FINESS_D, "mssante")].outlook == Outlook.TOO_FEW


def test_theil_sen_ignores_one_bad_month():
    months = [date(2023, m, 1) for m in range(1, 8)]
    rates = [0.50, 0.55, 0.60, 0.10, 0.70, 0.75, 0.80]  # April: a broken export
    p = project(list(zip(months, rates, strict=True)), 0.9, window=7)
    assert p.outlook == Outlook.PROJECTED
    assert p.month == date(2023, 9, 1)  # 0.80 + 0.05 * 2


def test_tranche_amounts_add_up_to_the_cent():
    t2 = load_rules("amorcage-t2-2021")  # 40 / 40 / 20
    assert split_schedule(100_000.01, t2) == [40_000.0, 40_000.0, 20_000.01]
    assert sum(split_schedule(123_457.89, t2)) == pytest.approx(123_457.89)


def test_2022_verification_de_service_regulier_month_by_month():
    """Targets met in September (M), VSR signed on 12 October (M+1): payable 12/10/2023."""
    figures = [*linear_c(10), *steady_d(10)]
    vsr = date(2023, 10, 12)
    rows = []
    for as_of in (date(2023, 8, 31), date(2023, 10, 3), date(2023, 10, 11), date(2023, 10, 12),
                  date(2023, 11, 2)):
        state = evaluate(g2022_grappe(verifie_le=vsr), figures, G22, as_of)
        t = state.tranches[1]
        rows.append((as_of, t.state, t.payable_on))
    assert rows == [
        (date(2023, 8, 31), TrancheState.PENDING, None),  # August 85 %: not yet
        (date(2023, 10, 3), TrancheState.AWAITING_CHECK, None),  # met end of September
        (date(2023, 10, 11), TrancheState.AWAITING_CHECK, None),  # VSR not signed yet
        (date(2023, 10, 12), TrancheState.PAYABLE, vsr),
        (date(2023, 11, 2), TrancheState.PAYABLE, vsr),
    ]
    # a VSR signed before the targets are met: payable at the end of the month they are met
    early = evaluate(g2022_grappe(verifie_le=date(2023, 6, 1)), figures, G22, date(2023, 11, 2))
    assert early.tranches[1].payable_on == date(2023, 9, 30)
    # the t2 schedule (000) asks no such verification: payable at the month end
    assert not any(t.regle.service_check for t in t2_grappe().tranches)
    assert load_rules("generalisation-2022").schedule[1].service_check
    assert "qui signe" in load_rules("generalisation-2022").choices[
        "versements[2].verification_service_regulier"]


def test_forecast_never_shows_a_past_date():
    """Figures stop in June; on 2 December the trend's crossing (September) is past."""
    state = evaluate(g2022_grappe(), [*linear_c(6), *steady_d(6)], G22, date(2023, 12, 2))
    t = state.tranches[1]
    assert t.expected_on is None and t.expected_earliest is None
    assert "en retard : cibles non atteintes au 02/12/2023" in t.reason
    assert all(f.expected is None or f.expected >= date(2023, 12, 1) for f in state.flags)


def test_a_month_counts_only_once_it_has_ended():
    """004 measures « à chaque fin de mois ». The t2 grappe meets every target with May's
    figures: on 15/05 May has not ended, so the usage tranche is not payable (it used to
    say « payable le 31/05 »); on 31/05 it is, from that day. The import refuses May's
    figures before its end."""
    from grappes.followup.csv_import import COLUMNS, read_monthly_csv

    g = t2_grappe(date(2024, 4, 30))
    mid = evaluate(g, t2_figures(5), T2, date(2024, 5, 15))
    assert mid.usage_met is None
    assert mid.tranches[2].state != TrancheState.PAYABLE and mid.tranches[2].payable_on is None
    end = evaluate(g, t2_figures(5), T2, date(2024, 5, 31))
    assert (end.tranches[2].state, end.tranches[2].payable_on) == (
        TrancheState.PAYABLE, date(2024, 5, 31))
    row = f"{FINESS_A};2024-05;100;75;72;95;90;90\n"
    early = read_monthly_csv((";".join(COLUMNS) + "\n" + row).encode(), {FINESS_A},
                             today=date(2024, 5, 15))
    assert [(r.field, "pas encore terminé" in r.reason) for r in early.rejects] == [
        ("mois", True)]
    assert read_monthly_csv((";".join(COLUMNS) + "\n" + row).encode(), {FINESS_A},
                            today=date(2024, 5, 31)).ok
