"""Monthly rates per ESMS and per grappe, as 000 and 004 define them.

« Sur le mois écoulé mesuré à chaque fin de mois (avec une période de 3 mois pour la
première mesure) » (004): for an indicator whose rule has a first window of ``w`` months,
an ESMS has no rate during its first ``w - 1`` reported months; its first rate is the rate
of those ``w`` months together (numerators summed over denominators summed, so a subset
such as DMP fed never exceeds 100 % and the first measure is no easier than a monthly
one); afterwards each month stands alone. The grappe's rate for a
month adds the numerators and the denominators of the ESMS that have a rate that month.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from grappes.followup.indicators import INDICATORS, MonthlyFigures
from grappes.followup.model import FollowupRules
from grappes.followup.months import months_between

GRAPPE = ""  # finess_et of a grappe-level rate


@dataclass(frozen=True)
class Rate:
    """One indicator for one ESMS (or the grappe: ``finess_et == ""``) at one month end."""

    finess_et: str
    indicator: str
    mois: date
    numerateur: int
    denominateur: int
    #: number of ESMS added up (1 for an ESMS)
    n_esms: int = 1

    @property
    def taux(self) -> float | None:
        return self.numerateur / self.denominateur if self.denominateur > 0 else None


def esms_rates(figures: Iterable[MonthlyFigures], rules: FollowupRules) -> list[Rate]:
    """Every rate of every ESMS for every month it can be measured (sorted)."""
    by_esms: dict[str, list[MonthlyFigures]] = defaultdict(list)
    for f in figures:
        by_esms[f.finess_et].append(f)
    out: list[Rate] = []
    for finess in sorted(by_esms):
        rows = sorted(by_esms[finess], key=lambda f: f.mois)
        out.extend(_rates_of(rows, rules))
    return out


def _rates_of(rows: Sequence[MonthlyFigures], rules: FollowupRules) -> list[Rate]:
    first = rows[0].mois
    ranks = [months_between(first, r.mois) + 1 for r in rows]  # 1 = first reported month
    out: list[Rate] = []
    for t in rules.targets:
        ind = INDICATORS[t.code]
        w = t.first_window_months
        nums = [r.count(ind.numerator) for r in rows]
        dens = [r.count(ind.denominator) for r in rows]
        for k, row in enumerate(rows):
            rank = ranks[k]
            if rank < w:
                continue
            if rank == w and w > 1:
                window = [i for i in range(k + 1) if rank - ranks[i] < w]
                num = sum(nums[i] for i in window)
                den = sum(dens[i] for i in window)
            else:
                num, den = nums[k], dens[k]
            out.append(Rate(row.finess_et, t.code, row.mois, num, den))
    return out


def grappe_rates(rates: Iterable[Rate]) -> list[Rate]:
    """The grappe's rate per indicator and month: summed numerators over summed denominators."""
    acc: dict[tuple[str, date], list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in rates:
        if r.finess_et == GRAPPE:
            continue
        a = acc[(r.indicator, r.mois)]
        a[0] += r.numerateur
        a[1] += r.denominateur
        a[2] += 1
    return [
        Rate(GRAPPE, ind, mois, a[0], a[1], a[2])
        for (ind, mois), a in sorted(acc.items(), key=lambda kv: (kv[0][0], kv[0][1]))
    ]
