"""Check FINESS numbers: 9-character format and Luhn check key.

A FINESS number (établissement or entité juridique) has 9 characters ``[0-9][0-9A-Z][0-9]{7}``:
the first two name the département of registration (``2A``/``2B`` in Corsica), the 9th is a
check key. For all-digit numbers the key makes the Luhn (mod 10) sum of the 9 digits a multiple
of 10; how the key of a Corsican number is computed is not documented, so those are checked
for their format only (see the project reference finess.md, section 3).

This module is the one home of the Luhn sum: readers check keys with :func:`luhn_ok` /
:func:`check_finess_series`; the synthetic generator makes them with :func:`luhn_key` /
:func:`luhn_keys` (FINESS, SIREN and SIRET numbers alike).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

FINESS_RE = re.compile(r"^[0-9][0-9A-Z][0-9]{7}$")
_DIGITS_RE = re.compile(r"^[0-9]{9}$")

REASON_MISSING = "numéro FINESS manquant"
REASON_FORMAT = (
    "format invalide : 9 caractères attendus, chiffres sauf 2A/2B en tête pour la Corse "
    "(ex. 010000024)"
)
REASON_KEY = "clé de contrôle invalide (le 9e chiffre ne correspond pas au numéro)"
REASON_DEPARTEMENT = (
    "numéro FINESS impossible : les 2 premiers caractères ne sont pas un département "
    "(01 à 95, 2A, 2B, 97 ou 98)"
)
REASON_ZERO = "numéro FINESS impossible : que des zéros entre le département et la clé"

#: first two characters of an allotted number: a département of registration (20 is not
#: one since 1976: Corsica is 2A/2B), or 97/98 overseas (project reference finess.md, §3)
_DEPARTEMENT_RE = re.compile(r"^(0[1-9]|1[0-9]|[3-8][0-9]|9[0-5]|2[1-9]|2A|2B|97|98)")
#: a Corsican number has no check key we can verify, so a placeholder such as 2A0000001
#: (all zeros between the département and the key) would pass the format alone: refused
_ZERO_BODY_RE = re.compile(r"^2[AB]0{6}.$")


def luhn_ok(number: str) -> bool:
    """True when ``number`` is 9 digits whose Luhn (mod 10) sum is a multiple of 10.

    Any other input (letters, other length, None) gives False.
    """
    if not isinstance(number, str) or not _DIGITS_RE.match(number):
        return False
    digits = np.frombuffer(number.encode("ascii"), dtype=np.uint8) - ord("0")
    return int(_luhn_sums(digits.reshape(1, 9), has_key=True)[0]) % 10 == 0


def luhn_key(body: str) -> str:
    """The Luhn check digit to append to ``body`` (digits; a letter counts as 0).

    How the key of a Corsican FINESS number (``2A``/``2B``) is computed is not documented:
    counting the letter as 0 is the synthetic generator's arbitrary but fixed choice (readers
    check those numbers' format only, see :func:`check_finess`).
    """
    return str(luhn_keys([body])[0])


def luhn_keys(bodies: Sequence[str] | np.ndarray) -> np.ndarray:
    """Vectorised :func:`luhn_key` over equal-length bodies of any width (object array of keys).

    FINESS bodies have 8 characters, SIREN bodies 8 digits, SIRET bodies 13; letters count as 0.

    Raises
    ------
    ValueError
        When the bodies do not all have the same length or are not ASCII.
    """
    if len(bodies) == 0:
        return np.array([], dtype=object)
    width = len(bodies[0])
    if width == 0 or any(len(body) != width for body in bodies):
        msg = "clés de Luhn : les numéros doivent tous avoir la même longueur"
        raise ValueError(msg)
    raw = np.frombuffer("".join(bodies).encode("ascii"), dtype=np.uint8).reshape(-1, width)
    digits = np.where((raw >= ord("0")) & (raw <= ord("9")), raw - ord("0"), 0)
    keys = (10 - _luhn_sums(digits, has_key=False) % 10) % 10
    return keys.astype(str).astype(object)


def check_finess(number: str) -> str | None:
    """None when ``number`` is a valid FINESS number, else the French reason why not.

    The value is taken as given (no trimming): normalise it first with
    :func:`normalise_finess` when it comes from a user file.
    """
    if not isinstance(number, str) or number == "":
        return REASON_MISSING
    if not FINESS_RE.match(number):
        return REASON_FORMAT
    if not _DEPARTEMENT_RE.match(number):
        return REASON_DEPARTEMENT
    if _ZERO_BODY_RE.match(number):
        return REASON_ZERO
    if _DIGITS_RE.match(number) and not luhn_ok(number):
        return REASON_KEY
    return None


def normalise_finess(values: pd.Series) -> pd.Series:
    """Trimmed, upper-cased strings (``2a`` -> ``2A``); missing values become ''."""
    return values.astype("string").fillna("").str.strip().str.upper()


def check_finess_series(values: pd.Series) -> pd.Series:
    """Vectorised :func:`check_finess`: '' where the number is valid, else the reason.

    Used on whole national files (100,000 rows), hence the numpy Luhn sum instead of a
    Python loop. ``values`` should already be normalised strings.
    """
    text = values.astype("string").fillna("")
    reasons = pd.Series("", index=values.index, dtype="string")
    reasons[text == ""] = REASON_MISSING
    well_formed = text.str.fullmatch(FINESS_RE.pattern).fillna(False).astype(bool)
    reasons[(text != "") & ~well_formed] = REASON_FORMAT
    bad_dep = well_formed & ~text.str.match(_DEPARTEMENT_RE.pattern).fillna(False).astype(bool)
    reasons[bad_dep] = REASON_DEPARTEMENT
    zero = well_formed & ~bad_dep & text.str.match(_ZERO_BODY_RE.pattern).fillna(False)
    zero = zero.astype(bool)
    reasons[zero] = REASON_ZERO
    well_formed = well_formed & ~bad_dep & ~zero
    digits_only = well_formed & text.str.fullmatch(_DIGITS_RE.pattern).fillna(False).astype(bool)
    if digits_only.any():
        joined = "".join(text[digits_only].tolist()).encode("ascii")
        digits = (np.frombuffer(joined, dtype=np.uint8) - ord("0")).reshape(-1, 9)
        bad_key = (_luhn_sums(digits, has_key=True) % 10) != 0
        bad_index = text[digits_only].index[bad_key]
        reasons[bad_index] = REASON_KEY
    return reasons


def _luhn_sums(digits: np.ndarray, has_key: bool) -> np.ndarray:
    """Luhn sums of an n x width array of digits (doubled digits above 9 lose 9).

    Every second digit counting from the right of the full number is doubled, the key not: in
    a number with its key the doubled digits are the 2nd, 4th... from the right; in a body
    without it, the 1st, 3rd...
    """
    values = digits.astype(np.int64)
    width = values.shape[1]
    from_right = np.arange(width)[::-1] + (0 if has_key else 1)
    doubled = from_right % 2 == 1
    twice = values[:, doubled] * 2
    twice = np.where(twice > 9, twice - 9, twice)
    return values[:, ~doubled].sum(axis=1) + twice.sum(axis=1)
