"""The state of a funded grappe at a date: tranches payable / pending / at risk, forecasts,
and the ESMS that hold the usage tranche back (what to fix first).

Tranche rules (``declencheur`` in the rule file):

- ``signature``: payable from the signature date;
- ``jalon``: payable once its milestone date is declared (e.g. t2's « fin du paramétrage de la
  solution sur l'ensemble des ESMS de la grappe », 000); no forecast, nothing to measure;
- ``cibles_usage``: payable at the end of the first month every target holds
  (``attainment``), a month counting only once it has ended; otherwise pending with a
  forecast, or at risk when the deadline (9 or 18 months after signature, 004) has passed,
  the forecast falls after it, or an indicator does not progress.

An ESMS is flagged when one of its indicators, at its trend, reaches the target after the
ESMS's own deadline or never; the flag names the indicator that holds it back the most.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from grappes.followup.attainment import (
    TargetAttainment,
    attainments,
    rate_index,
    usage_met_month,
)
from grappes.followup.forecast import Outlook, Projection, project_many
from grappes.followup.indicators import INDICATORS, MonthlyFigures
from grappes.followup.model import FollowupRules, FundedGrappe, Tranche, Verification
from grappes.followup.months import add_months, label, month_end
from grappes.followup.rates import GRAPPE, Rate, esms_rates, grappe_rates


class TrancheState(StrEnum):
    PAYABLE = "payable"
    PENDING = "en_attente"
    AT_RISK = "a_risque"
    #: targets met, « vérification de service régulier » not recorded yet (004)
    AWAITING_CHECK = "attente_verification"


STATE_LABELS: dict[str, str] = {
    TrancheState.PAYABLE: "payable",
    TrancheState.PENDING: "en attente",
    TrancheState.AT_RISK: "à risque",
    TrancheState.AWAITING_CHECK: "en attente de vérification",
}


@dataclass(frozen=True)
class TrancheStatus:
    tranche: Tranche
    state: TrancheState
    #: the date it became payable
    payable_on: date | None = None
    #: forecast of the date it becomes payable (end of the projected month), with interval
    expected_on: date | None = None
    expected_earliest: date | None = None
    expected_latest: date | None = None
    deadline: date | None = None
    reason: str = ""
    #: the recorded « vérification de service régulier », when the tranche needs one
    verification: Verification | None = None


@dataclass(frozen=True)
class EsmsFlag:
    """An ESMS that puts the usage deadline at risk, and the indicator holding it back."""

    finess_et: str
    raison_sociale: str
    indicator: str
    last_rate: float | None
    target: float
    expected: date | None
    deadline: date | None
    reason: str

    @property
    def indicator_label(self) -> str:
        return INDICATORS[self.indicator].label


@dataclass(frozen=True)
class FollowupState:
    grappe: FundedGrappe
    as_of: date
    rates: tuple[Rate, ...]
    grappe_rates: tuple[Rate, ...]
    attainments: tuple[TargetAttainment, ...]
    #: (finess_et or "" for the grappe, indicator) -> projection
    projections: dict[tuple[str, str], Projection]
    tranches: tuple[TrancheStatus, ...]
    flags: tuple[EsmsFlag, ...]
    usage_met: date | None

    @property
    def at_risk(self) -> bool:
        return any(t.state == TrancheState.AT_RISK for t in self.tranches)

    @property
    def amount_payable(self) -> float:
        return sum(t.tranche.montant for t in self.tranches if t.state == TrancheState.PAYABLE)


def _rank(p: Projection) -> tuple[int, date]:
    """Order projections from the least to the most worrying."""
    far = date(9999, 12, 1)
    match p.outlook:
        case Outlook.MET:
            return (0, p.month or far)
        case Outlook.PROJECTED:
            return (1, p.month or far)
        case Outlook.TOO_FEW:
            return (2, far)
    return (3, far)


def evaluate(grappe: FundedGrappe, figures: Iterable[MonthlyFigures], rules: FollowupRules,
             as_of: date) -> FollowupState:
    """Everything the porteur and the ARS see about ``grappe`` on ``as_of``."""
    finess = grappe.finess
    members = sorted(finess)
    # a month counts once it has ended (004: « mesuré à chaque fin de mois »): on 15/07,
    # July's figures say nothing yet, and the usage tranche cannot be payable on 31/07
    figs = [f for f in figures if f.finess_et in finess and month_end(f.mois) <= as_of]
    rates = esms_rates(figs, rules)
    g_rates = grappe_rates(rates)
    index = rate_index([*rates, *g_rates])
    att = attainments(rates, g_rates, members, rules, index)
    met = usage_met_month(rates, g_rates, members, rules, index)
    series = {k: list(v.items()) for k, v in index.items()}
    keys = [(f, t.code) for t in rules.targets for f in [*members, GRAPPE]]
    targets = {t.code: t.target for t in rules.targets}
    fitted = project_many([series.get(k, []) for k in keys], [targets[k[1]] for k in keys],
                          min_points=rules.min_points, window=rules.trend_months)
    projections: dict[tuple[str, str], Projection] = dict(zip(keys, fitted, strict=True))
    statuses = tuple(_tranche(tr, grappe, rules, projections, met, as_of, members)
                     for tr in grappe.tranches)
    flags = _flags(grappe, rules, projections, as_of)
    return FollowupState(grappe, as_of, tuple(rates), tuple(g_rates), tuple(att), projections,
                         statuses, flags, met)


def _tranche(tr: Tranche, grappe: FundedGrappe, rules: FollowupRules,
             projections: dict[tuple[str, str], Projection], met: date | None, as_of: date,
             members: list[str]) -> TrancheStatus:
    if tr.regle.trigger == "signature":
        if grappe.signature <= as_of:
            return TrancheStatus(tr, TrancheState.PAYABLE, grappe.signature,
                                 reason="convention signée")
        return TrancheStatus(tr, TrancheState.PENDING, expected_on=grappe.signature,
                             reason="signature à venir")
    if tr.regle.trigger == "jalon":
        when = grappe.jalons.get(tr.rang)
        if when is not None and when <= as_of:
            return TrancheStatus(tr, TrancheState.PAYABLE, when, reason="jalon déclaré atteint")
        return TrancheStatus(tr, TrancheState.PENDING,
                             reason=f"jalon à déclarer : {tr.regle.label}")
    deadline = grappe.deadline(tr)
    if not rules.targets:
        return TrancheStatus(tr, TrancheState.PENDING, deadline=deadline,
                             reason="aucune cible d'usage dans le jeu de règles")
    check = grappe.verifications.get(tr.rang) if tr.regle.service_check else None
    if check is not None and check.le > as_of:
        check = None  # recorded for a later date: not signed yet on ``as_of``
    if met is not None:
        reached = f"toutes les cibles atteintes fin {label(met)}"
        if not tr.regle.service_check:
            return TrancheStatus(tr, TrancheState.PAYABLE, month_end(met), deadline=deadline,
                                 reason=reached)
        if check is None:
            return TrancheStatus(tr, TrancheState.AWAITING_CHECK, deadline=deadline,
                                 reason=f"{reached} ; vérification de service régulier "
                                        "à enregistrer par le porteur")
        return TrancheStatus(tr, TrancheState.PAYABLE, max(month_end(met), check.le),
                             deadline=deadline, verification=check,
                             reason=f"{reached}, vérification de service régulier "
                                    f"signée le {check.le:%d/%m/%Y}")
    scope = [(f, t.code) for t in rules.targets
             for f in ([GRAPPE] if t.perimetre == "grappe" else members)]
    projs = [projections[k] for k in scope]
    worst = max(projs, key=_rank)
    expected = earliest = latest = None
    if all(p.outlook in (Outlook.MET, Outlook.PROJECTED) for p in projs):
        expected = month_end(max(p.month for p in projs if p.month))
        earliest = month_end(max(p.earliest for p in projs if p.earliest))
        lates = [p.latest for p in projs]
        latest = month_end(max(lates)) if all(lates) else None  # type: ignore[type-var]
    passed = deadline is not None and as_of > deadline
    if worst.outlook == Outlook.NO_PROGRESS:
        reason = "au moins un indicateur ne progresse pas"
        state = TrancheState.AT_RISK
    elif worst.outlook == Outlook.TOO_FEW:
        n = sum(1 for p in projs if p.outlook == Outlook.TOO_FEW)
        reason = f"données insuffisantes pour projeter ({n} indicateur(s) avec moins de " \
                 f"{rules.min_points} mois mesurés)"
        state = TrancheState.AT_RISK if passed else TrancheState.PENDING
    elif expected is not None and expected < as_of:
        # the trend crossed the target before today but the months since show no
        # attainment (or were not declared): never show a past date as a forecast
        reason = f"en retard : cibles non atteintes au {as_of:%d/%m/%Y}"
        expected = earliest = latest = None
        state = TrancheState.AT_RISK if passed else TrancheState.PENDING
    else:
        reason = f"date projetée : fin {label(expected)}"
        late = deadline is not None and expected is not None and expected > deadline
        state = TrancheState.AT_RISK if late or passed else TrancheState.PENDING
        if late:
            reason += f", après l'échéance du {deadline:%d/%m/%Y}"
    if passed:
        reason = f"échéance du {deadline:%d/%m/%Y} dépassée ; " + reason
    if tr.regle.service_check:
        reason += (" ; vérification de service régulier signée le "
                   f"{check.le:%d/%m/%Y}" if check else
                   " ; puis vérification de service régulier à enregistrer")
    return TrancheStatus(tr, state, None, expected, earliest, latest, deadline, reason,
                         check)


def _flags(grappe: FundedGrappe, rules: FollowupRules,
           projections: dict[tuple[str, str], Projection], as_of: date) -> tuple[EsmsFlag, ...]:
    usage = [t for t in grappe.tranches if t.regle.trigger == "cibles_usage"]
    if not usage or not rules.targets:
        return ()
    tr = usage[0]
    grace = add_months(grappe.signature, rules.min_points)
    out: list[EsmsFlag] = []
    for m in grappe.members:
        deadline = grappe.deadline(tr, m)
        worst_key, worst = None, None
        for t in rules.targets:
            p = projections[(m.finess_et, t.code)]
            if worst is None or _rank(p) > _rank(worst):
                worst_key, worst = t.code, p
        if worst is None or worst_key is None:
            continue
        target = rules.target(worst_key).target
        ind = INDICATORS[worst_key].short
        reason = ""
        expected = worst.month
        if worst.outlook == Outlook.NO_PROGRESS:
            reason = f"{ind} ne progresse pas ({_pct(worst.last_rate)} pour {_pct(target)})"
        elif worst.outlook == Outlook.TOO_FEW and as_of >= grace:
            reason = f"{ind} : pas assez de mois déclarés pour projeter"
        elif (worst.outlook == Outlook.PROJECTED and worst.month is not None
              and month_end(worst.month) < as_of):
            reason = f"{ind} en retard : sous {_pct(target)} au {as_of:%d/%m/%Y}"
            expected = None
        elif (worst.outlook == Outlook.PROJECTED and deadline is not None
              and worst.month is not None and month_end(worst.month) > deadline):
            reason = (f"{ind} atteindrait {_pct(target)} fin {label(worst.month)}, "
                      f"après l'échéance du {deadline:%d/%m/%Y}")
        elif (worst.outlook != Outlook.MET and deadline is not None and as_of > deadline):
            reason = f"{ind} sous la cible à l'échéance du {deadline:%d/%m/%Y}"
        if reason:
            out.append(EsmsFlag(m.finess_et, m.raison_sociale, worst_key, worst.last_rate,
                                target, expected, deadline, reason))
    out.sort(key=lambda f: (-_rank(projections[(f.finess_et, f.indicator)])[0],
                            (f.last_rate or 0) - f.target, f.finess_et))
    return tuple(out)


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.0f} %".replace(".", ",")
