"""Calendar months, the unit of every usage measure (« mesuré à chaque fin de mois », 004).

A month is the ``date`` of its first day; helpers convert from the forms a French export
uses and count months between two dates.
"""

from __future__ import annotations

import calendar
import re
from datetime import date

_ISO = re.compile(r"^\s*(\d{4})[-/](\d{1,2})(?:[-/](\d{1,2}))?\s*$")
_FR = re.compile(r"^\s*(?:(\d{1,2})/)?(\d{1,2})/(\d{4})\s*$")


def month_of(d: date) -> date:
    """The month holding ``d`` (its first day)."""
    return date(d.year, d.month, 1)


def parse_month(text: str) -> date | None:
    """``2024-03``, ``2024-03-31``, ``03/2024``, ``31/03/2024`` -> 2024-03-01, else None."""
    m = _ISO.match(text)
    if m:
        year, month, day = int(m.group(1)), int(m.group(2)), m.group(3)
    else:
        m = _FR.match(text)
        if not m:
            return None
        day, month, year = m.group(1), int(m.group(2)), int(m.group(3))
    if not 1 <= month <= 12 or not 1900 <= year <= 2200:
        return None
    if day is not None and not 1 <= int(day) <= calendar.monthrange(year, month)[1]:
        return None
    return date(year, month, 1)


def add_months(d: date, n: int) -> date:
    """``d`` moved by ``n`` months, the day clipped to the month's length."""
    total = d.year * 12 + d.month - 1 + n
    year, month = divmod(total, 12)
    day = min(d.day, calendar.monthrange(year, month + 1)[1])
    return date(year, month + 1, day)


def months_between(a: date, b: date) -> int:
    """Whole calendar months from the month of ``a`` to the month of ``b`` (b - a)."""
    return (b.year - a.year) * 12 + b.month - a.month


def month_end(m: date) -> date:
    """Last day of the month of ``m``: a month's measure is known at its end."""
    return date(m.year, m.month, calendar.monthrange(m.year, m.month)[1])


def label(m: date | None) -> str:
    """``2024-03`` (empty for None), the form used in files and tables."""
    return "" if m is None else f"{m.year:04d}-{m.month:02d}"
