"""Builders for the follow-up tests: hand-written monthly figures, funded grappes."""

from __future__ import annotations

from datetime import date

from grappes.followup.indicators import MonthlyFigures
from grappes.followup.model import FundedGrappe, Member, Verification, build_funded_grappe
from grappes.programme.rules import load_rules

FINESS_A = "180000001"
FINESS_B = "180000019"
FINESS_C = "450000013"
FINESS_D = "450000021"


def fig(finess: str, year: int, month: int, personnes: int, mss: int, dmp: int, actifs: int,
        projet: int, evenement: int) -> MonthlyFigures:
    return MonthlyFigures(finess, date(year, month, 1), personnes, mss, dmp, actifs, projet,
                          evenement)


def t2_grappe(jalon: date | None = None) -> FundedGrappe:
    """A t2 grappe (40/40/20): A is an acquisition (18 months), B an upgrade (9 months)."""
    members = [Member(FINESS_A, "EHPAD A", "180000100", "acquisition", "18"),
               Member(FINESS_B, "SSIAD B", "180000100", "conformite", "18")]
    return build_funded_grappe("T2-TEST", load_rules("amorcage-t2-2021"), date(2024, 1, 10),
                               members, 100_000, region="24", porteur="180000100",
                               jalons={2: jalon} if jalon else None)


# (month, mss, dmp, actifs, projet, evenement), persons 100 for A and 50 for B
T2_A = [(1, 60, 50, 60, 30, 40), (2, 70, 60, 80, 60, 70), (3, 80, 70, 92, 84, 85),
        (4, 72, 70, 95, 90, 90), (5, 75, 72, 95, 90, 90), (6, 80, 75, 96, 90, 92)]
T2_B = [(1, 30, 20, 20, 10, 10), (2, 35, 30, 30, 20, 20), (3, 40, 25, 40, 30, 30),
        (4, 36, 36, 44, 38, 40), (5, 38, 37, 46, 42, 42), (6, 40, 40, 47, 44, 45)]


def t2_figures(last_month: int = 6) -> list[MonthlyFigures]:
    out = [fig(FINESS_A, 2024, m, 100, *rest) for m, *rest in T2_A if m <= last_month]
    out += [fig(FINESS_B, 2024, m, 50, *rest) for m, *rest in T2_B if m <= last_month]
    return out


def g2022_grappe(types: tuple[str, str] = ("conformite", "conformite"),
                 verifie_le: date | None = None) -> FundedGrappe:
    """A 2022 grappe (50/50) of two ESMS, upgrades by default (9-month deadline);
    ``verifie_le``: date of its « vérification de service régulier » (2nd tranche)."""
    members = [Member(FINESS_C, "EHPAD C", "450000005", types[0], "45"),
               Member(FINESS_D, "FAM D", "450000005", types[1], "45")]
    checks = {2: Verification(verifie_le, "porteur@og.fr")} if verifie_le else None
    return build_funded_grappe("G22-TEST", load_rules("generalisation-2022"), date(2023, 1, 5),
                               members, 60_000, region="24", porteur="450000005",
                               verifications=checks)


def linear_c(months: int, start: int = 50, step: int = 5) -> list[MonthlyFigures]:
    """C: active files start% + step% a month (100 persons); every other indicator met."""
    out = []
    for k in range(months):
        actifs = min(100, start + step * k)
        out.append(fig(FINESS_C, 2023 + k // 12, k % 12 + 1, 100, 80, 75, actifs, actifs, actifs))
    return out


def steady_d(months: int) -> list[MonthlyFigures]:
    return [fig(FINESS_D, 2023 + k // 12, k % 12 + 1, 40, 35, 30, 38, 36, 37)
            for k in range(months)]
