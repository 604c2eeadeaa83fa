"""How numbers read in French, on screen and in messages: one home for every formatter.

French typography puts a narrow no-break space (U+202F) between thousands and a no-break space
(U+00A0) before the unit; plain spaces are used here because terminals and CSV readers render
them everywhere, and the value stays readable when copied. Files written for Excel never use these
strings: they carry numbers (see ``matching.exports``).
"""

from __future__ import annotations

import math


def euros(value: float, signed: bool = False) -> str:
    """'12 450 000 €' (thousands separated by spaces); '+30 000 €' when ``signed``; '—' for NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    text = f"{value:+,.0f} €" if signed else f"{value:,.0f} €"
    return text.replace(",", " ")


def km_text(value: float) -> str:
    """'12,3 km' (French decimal comma)."""
    return f"{value:.1f}".replace(".", ",") + " km"

