"""Check FINESS numbers: 9-character format and Luhn check key.

A FINESS number (établissement or entité juridique) has 9 characters ``[0-9][0-9A-Z][0-9]{7}``:
the first two name the département of registration (``2A``/``2B`` in Corsica), the 9th is a
check key. For all-digit numbers the key makes the Luhn (mod 10) sum of the 9 digits a multiple
of 10; how the key of a Corsican number is computed is not documented, so those are checked
for their format only (see the project reference finess.md, section 3).
"""

from __future__ import annotations

import re

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

#: weights of the Luhn sum from the left for 9 digits: the 2nd, 4th, 6th and 8th are doubled
_DOUBLED = np.array([False, True, False, True, False, True, False, True, False])


def luhn_ok(number: str) -> bool:
    """True when ``number`` is 9 digits whose Luhn (mod 10) sum is a multiple of 10.

    Any other input (letters, other length, None) gives False.
    """
    if not isinstance(number, str) or not _DIGITS_RE.match(number):
        return False
    digits = np.frombuffer(number.encode("ascii"), dtype=np.uint8) - ord("0")
    return int(_luhn_sums(digits.reshape(1, 9))[0]) % 10 == 0


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
        bad_key = (_luhn_sums(digits) % 10) != 0
        bad_index = text[digits_only].index[bad_key]
        reasons[bad_index] = REASON_KEY
    return reasons


def _luhn_sums(digits: np.ndarray) -> np.ndarray:
    """Luhn sums of an n x 9 array of digits (doubled digits above 9 lose 9)."""
    values = digits.astype(np.int64)
    doubled = values[:, _DOUBLED] * 2
    doubled = np.where(doubled > 9, doubled - 9, doubled)
    return values[:, ~_DOUBLED].sum(axis=1) + doubled.sum(axis=1)
