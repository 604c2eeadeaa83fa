"""Numbers typed by a person, read the French way: one parser for amounts, km and shares.

Why one home: « 6 000 000,50 » typed in the envelope field once became 600 000 050 € without a
word (issue 20). Every place a person types a number (the app's fields, the CLI options that
take amounts) goes through :func:`parse_number` and its three faces, so they all accept the
same spellings and refuse the same ambiguous ones, with the same French message.

Accepted: « 6000000 », « 6 000 000 » (plain, no-break or narrow no-break spaces between groups
of three), « 6 000 000,50 » (decimal comma), « 6.5 » (a dot followed by one, two or four and
more digits is a decimal point), « 6.000.000 » (two dots or more: thousands), « 1e6 » (as
scripts write it), a unit the field expects (« € », « euros », « km », « % ») and, for amounts,
an explicit multiplier
« k€ » / « M€ » (« 6,5 M€ » = 6 500 000 €). Refused, never guessed: « 6,000 » or « 6.000 »
(thousands or decimals?), « 6 00 000 » (badly grouped), two decimal separators, letters.
"""

from __future__ import annotations

import re

from grappes.core.errors import EXIT_USAGE, GrappesError

#: the spaces people (and copy-paste from Excel or a PDF) put between digit groups
SPACES = " \u00a0\u202f\u2009\u2007"
MULTIPLIERS = {"k": 1_000.0, "m": 1_000_000.0, "md": 1_000_000_000.0, "mds": 1_000_000_000.0}
UNITS = {"€": "€", "eur": "€", "euro": "€", "euros": "€", "km": "km", "%": "%"}
_TAIL = re.compile(r"^(?P<num>.*?)(?P<mult>k|m|md|mds)?\s*(?P<unit>€|eur|euros?|km|%)?$")
_GROUPED = re.compile(r"^\d{1,3}( \d{3})+$")


class NumberError(GrappesError, ValueError):
    """A typed number that cannot be read without guessing (the message is in French; a
    usage error on the command line: exit code 2)."""

    exit_code = EXIT_USAGE


def _refuse(field: str, text: str, why: str) -> NumberError:
    return NumberError(f"{field} : « {text} » n'est pas un nombre lisible ({why}). Exemples "
                       "acceptés : 6000000, 6 000 000, 6 000 000,50, 6,5 M€.")


def parse_number(text: str | float | int, field: str = "nombre", unit: str = "",
                 multipliers: bool = False) -> float:
    """The number in ``text``; ``unit`` is the unit the field allows (« € », « km », « % »),
    ``multipliers`` allows « k€ » and « M€ ». Raises :class:`NumberError` in French."""
    if isinstance(text, bool):
        raise _refuse(field, str(text), "ni oui ni non ne sont des nombres")
    if isinstance(text, int | float):
        return float(text)
    raw = str(text)
    s = raw.strip().lower()
    for space in SPACES[1:]:
        s = s.replace(space, " ")
    s = re.sub(r" +", " ", s)
    if not s:
        raise _refuse(field, raw, "rien n'est saisi")
    if re.fullmatch(r"[+-]?\d+(\.\d+)?e[+-]?\d+", s):  # « 1e6 »: scripts write it
        return float(s)
    match = _TAIL.match(s)
    num, mult, unit_word = match["num"].strip(), match["mult"], match["unit"]
    if unit_word and UNITS.get(unit_word) != unit:
        raise _refuse(field, raw, f"unité « {unit_word} » inattendue ici")
    if mult and not (multipliers and (unit_word or mult in ("k", "m"))):
        raise _refuse(field, raw, "multiplicateur non permis ici")
    sign = -1.0 if num.startswith("-") else 1.0
    num = num.lstrip("+-").strip()
    if not num or not re.fullmatch(r"[\d ,.]+", num) or not num[0].isdigit():
        raise _refuse(field, raw, "des chiffres sont attendus")
    if num.count(",") > 1:
        raise _refuse(field, raw, "une seule virgule décimale")
    whole, _, decimals = num.partition(",")
    if "." in whole and decimals:
        if not re.fullmatch(r"\d{1,3}(\.\d{3})+", whole):
            raise _refuse(field, raw, "point et virgule mêlés")
        whole = whole.replace(".", "")
    elif whole.count(".") >= 2:
        if not re.fullmatch(r"\d{1,3}(\.\d{3})+", whole):
            raise _refuse(field, raw, "groupes de trois chiffres attendus")
        whole = whole.replace(".", "")
    elif whole.count(".") == 1:
        head, tail = whole.split(".")
        if len(tail) == 3:
            raise _refuse(field, raw, "« . » suivi de trois chiffres : milliers ou décimales ? "
                          "écrivez 6 000 ou 6,0")
        whole, decimals = head, tail
    if " " in whole and not _GROUPED.fullmatch(whole):
        raise _refuse(field, raw, "groupes de trois chiffres attendus après le premier")
    whole = whole.replace(" ", "")
    if decimals and not decimals.isdigit():
        raise _refuse(field, raw, "des chiffres sont attendus après la virgule")
    if decimals and len(decimals) == 3 and "," in num and " " not in num and len(whole) <= 3 \
            and not mult:
        raise _refuse(field, raw, "« , » suivie de trois chiffres : milliers ou décimales ? "
                      "écrivez 6 000 ou 6,0")
    if not whole.isdigit():
        raise _refuse(field, raw, "des chiffres sont attendus")
    value = float(f"{whole}.{decimals or 0}")
    return sign * value * (MULTIPLIERS[mult] if mult else 1.0)


def parse_amount(text: str | float | int, field: str = "montant") -> float:
    """An amount in euros: « 6 000 000 », « 6 000 000,50 € », « 6,5 M€ », « 800 k€ »."""
    return parse_number(text, field, unit="€", multipliers=True)


def parse_km(text: str | float | int, field: str = "distance") -> float:
    """A distance in km: « 50 », « 12,5 km »."""
    return parse_number(text, field, unit="km")


def parse_percent(text: str | float | int, field: str = "part") -> float:
    """A share typed as a percentage (« 40 », « 40 % », « 12,5 % ») returned as 0..1; refused
    outside 0–100 %."""
    value = parse_number(text, field, unit="%")
    if not 0 <= value <= 100:
        raise NumberError(f"{field} : « {text} » doit être un pourcentage entre 0 et 100.")
    return value / 100
