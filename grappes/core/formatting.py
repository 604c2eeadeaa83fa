"""How numbers read in French, on screen and in messages: one home for every formatter.

French typography puts a narrow no-break space (U+202F) between thousands and a no-break space
(U+00A0) before the unit; plain spaces are used here because terminals and CSV readers render
them everywhere, and the value stays readable when copied. Files written for Excel never use these
strings: they carry numbers (see ``grappes.exports``).
"""

from __future__ import annotations

import math


def euros(value: float, signed: bool = False) -> str:
    """'12 450 000 €' (thousands separated by spaces); '+30 000 €' when ``signed``; '—' for NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    text = f"{value:+,.0f} €" if signed else f"{value:,.0f} €"
    return text.replace(",", " ")


def euros_short(value: float) -> str:
    """'12,4 M€', '955 k€', '800 €': a headline figure that fits a narrow metric box."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    size = abs(value)
    if size >= 1_000_000:
        return f"{value / 1_000_000:.1f}".replace(".", ",") + " M€"
    if size >= 10_000:
        return f"{value / 1_000:.0f} k€"
    return euros(value)


def integer_fr(value: float) -> str:
    """'12 450': a whole number (rounded) with a space between thousands."""
    return f"{value:,.0f}".replace(",", " ")


def number_fr(value: float, digits: int = 1) -> str:
    """'1 234,5': a decimal number with spaces between thousands and a French comma."""
    return f"{value:,.{digits}f}".replace(",", " ").replace(".", ",")


def km_text(value: float) -> str:
    """'12,3 km' (French decimal comma)."""
    return f"{value:.1f}".replace(".", ",") + " km"


def decimal_fr(value: float, digits: int = 1) -> str:
    """'0,07', '28,8': a decimal number with a French comma."""
    return f"{value:.{digits}f}".replace(".", ",")


def percent_fr(share: float, digits: int = 0) -> str:
    """'40 %' from 0.4 (French puts a space before %)."""
    return f"{share * 100:.{digits}f}".replace(".", ",") + " %"


#: longest preview of a value shown in a message
PREVIEW_CHARS = 60


def preview(value: object, limit: int = PREVIEW_CHARS) -> str:
    """One line showing what a value from a file looks like, at most ``limit`` characters.

    Safe on anything read from a file: a list or an object is described by its size, never
    turned into text (a value nested 10,000 levels deep would make ``str()`` fail), control
    characters and lone surrogates are shown escaped.
    """
    if isinstance(value, dict):
        return f"{{…}} (objet de {len(value)} clé(s))"
    if isinstance(value, list | tuple):
        return f"[…] (liste de {len(value)} élément(s))"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = value[: limit * 4]
    elif isinstance(value, int) and value.bit_length() > 3 * limit:
        return f"(nombre de plus de {limit} chiffres)"
    elif isinstance(value, int | float):
        text = repr(value)[: limit * 4]
    else:
        text = type(value).__name__
    text = "".join(
        c if c.isprintable() and not 0xD800 <= ord(c) <= 0xDFFF else f"\\u{ord(c):04x}"
        for c in text
    )
    if len(text) > limit or (isinstance(value, str) and len(value) > limit * 4):
        text = text[: limit - 1] + "…"
    return text
