"""A funded grappe: members, rule set, amounts, payment tranches and start date (signature).

Built from a rule set (``versements``, ``cibles_usage``) and the grappe's members and total,
whether they come from the registry, from the dossier files the tool writes
(``dossier_import``) or from a test.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from grappes.core.errors import UnusableInput
from grappes.followup.indicators import INDICATORS
from grappes.followup.months import add_months
from grappes.programme.costing import split_schedule
from grappes.programme.rules import PERIMETRES, InstalmentRule, RuleSet

#: project types with the 18-month deadline (everything else: the 9-month one, 004)
LONG_DEADLINE_TYPES: frozenset[str] = frozenset({"acquisition"})


@dataclass(frozen=True)
class Member:
    """One ESMS of a funded grappe; ``type_projet`` sets its usage deadline (9 or 18 months)."""

    finess_et: str
    raison_sociale: str = ""
    finess_ej: str = ""
    type_projet: str = "acquisition"
    departement: str = ""


@dataclass(frozen=True)
class Tranche:
    """One payment tranche of a funded grappe: its rank, its amount and the rule it follows.

    The rule is the rule set's own ``InstalmentRule`` (label, share, trigger, deadlines,
    service check: one home, ``grappes.programme.rules``), as it stood when the grappe was
    registered: the follow-up stores that copy, so a later edit of the rule file does not
    change a grappe already funded."""

    rang: int
    regle: InstalmentRule
    montant: float

    def deadline_months(self, type_projet: str) -> int | None:
        if type_projet in LONG_DEADLINE_TYPES:
            return self.regle.deadline_acquisition_months
        return self.regle.deadline_conformite_months


@dataclass(frozen=True)
class Verification:
    """A recorded « vérification de service régulier »: signature date, who recorded it."""

    le: date
    par: str = ""


@dataclass(frozen=True)
class TargetRule:
    """One usage target: indicator code, threshold, perimeter, first-measure window."""

    code: str
    label: str
    target: float
    perimetre: str = "esms"
    first_window_months: int = 1


@dataclass(frozen=True)
class FollowupRules:
    """The usage targets of a rule set, with an optional perimeter override."""

    targets: tuple[TargetRule, ...]
    min_points: int = 3
    trend_months: int = 6

    @classmethod
    def from_ruleset(cls, rules: RuleSet, perimetre: str | None = None) -> FollowupRules:
        """Targets of ``rules``; ``perimetre`` ("esms"/"grappe") overrides the file's choice."""
        if perimetre is not None and perimetre not in PERIMETRES:
            msg = f"périmètre inconnu : {perimetre} (attendu : {', '.join(PERIMETRES)})"
            raise UnusableInput(msg)
        targets = []
        for t in rules.usage_targets:
            if t.code not in INDICATORS:
                msg = f"{rules.name} : cible « {t.label} » sans code d'indicateur connu"
                raise UnusableInput(msg)
            targets.append(TargetRule(t.code, t.label, t.target, perimetre or t.perimetre,
                                      t.first_window_months))
        return cls(tuple(targets))

    def target(self, code: str) -> TargetRule:
        for t in self.targets:
            if t.code == code:
                return t
        raise KeyError(code)


@dataclass(frozen=True)
class FundedGrappe:
    """A grappe from signature to payment."""

    grappe_id: str
    regles: str
    signature: date
    members: tuple[Member, ...]
    montant_total: float
    tranches: tuple[Tranche, ...]
    region: str = ""
    porteur: str = ""
    porteur_nom: str = ""
    #: declared milestone dates (tranche rank -> date), e.g. end of set-up for t2's 2nd tranche
    jalons: Mapping[int, date] = field(default_factory=dict)
    #: recorded « vérifications de service régulier » (tranche rank -> verification)
    verifications: Mapping[int, Verification] = field(default_factory=dict)
    #: payments recorded by the ARS (tranche rank -> date paid)
    versements: Mapping[int, date] = field(default_factory=dict)

    def member(self, finess_et: str) -> Member | None:
        for m in self.members:
            if m.finess_et == finess_et:
                return m
        return None

    @property
    def finess(self) -> frozenset[str]:
        return frozenset(m.finess_et for m in self.members)

    def deadline(self, tranche: Tranche, member: Member | None = None) -> date | None:
        """Date by which the usage targets must be met: the member's own, or the grappe's
        (the longest of its members': 18 months as soon as one ESMS is an acquisition)."""
        if member is not None:
            months = tranche.deadline_months(member.type_projet)
        else:
            options = [tranche.deadline_months(m.type_projet) for m in self.members]
            known = [o for o in options if o is not None]
            months = max(known) if known else None
        return None if months is None else add_months(self.signature, months)


def build_funded_grappe(
    grappe_id: str,
    rules: RuleSet,
    signature: date,
    members: Sequence[Member],
    montant_total: float,
    *,
    region: str = "",
    porteur: str = "",
    porteur_nom: str = "",
    jalons: Mapping[int, date] | None = None,
    verifications: Mapping[int, Verification] | None = None,
) -> FundedGrappe:
    """A funded grappe with the tranches of ``rules`` applied to ``montant_total``."""
    amounts = split_schedule(montant_total, rules)  # the costing's own split
    tranches = tuple(
        Tranche(k, rule, amounts[k - 1]) for k, rule in enumerate(rules.schedule, 1)
    )
    return FundedGrappe(grappe_id, rules.name, signature, tuple(members), montant_total,
                        tranches, region, porteur, porteur_nom, dict(jalons or {}),
                        dict(verifications or {}))
