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
import pyarrow as pa

FINESS_RE = re.compile(r"^[0-9][0-9A-Z][0-9]{7}\Z")
_DIGITS_RE = re.compile(r"^[0-9]{9}\Z")

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
_ZERO_BODY_RE = re.compile(r"^2[AB]0{6}.\Z")


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


#: reasons by code, as :func:`check_finess_series` numbers them (0: valid)
_REASONS = ("", REASON_MISSING, REASON_FORMAT, REASON_DEPARTEMENT, REASON_ZERO, REASON_KEY)
#: first two characters (as bytes) of an allotted number, see ``_DEPARTEMENT_RE``
_DEPARTEMENT_PAIRS = frozenset(
    [f"0{d}" for d in "123456789"]
    + [f"{a}{b}" for a in "1345678" for b in "0123456789"]
    + [f"2{d}" for d in "123456789AB"]
    + [f"9{d}" for d in "01234578"]
)
_DIGIT = np.zeros(256, dtype=bool)
_DIGIT[list(b"0123456789")] = True
_UPPER = np.zeros(256, dtype=bool)
_UPPER[list(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ")] = True
_PAIR_OK = np.zeros(1 << 16, dtype=bool)
_PAIR_OK[[(ord(p[0]) << 8) | ord(p[1]) for p in _DEPARTEMENT_PAIRS]] = True


def check_finess_series(values: pd.Series) -> pd.Series:
    """Vectorised :func:`check_finess`: '' where the number is valid, else the reason.

    Used on whole national files (100,000 rows): the numbers of 9 ASCII characters (the
    only ones that can be well formed) are laid out as a numpy array of 9 bytes per row, on
    which the format, the département, the zero body and the Luhn key are checked at once;
    the reasons are then put together from one array of small codes. ``values`` should
    already be normalised strings. The same rules as :func:`check_finess`
    (``tests/test_numbers.py`` compares them).
    """
    text = values.astype("string").fillna("")
    lengths = text.str.len().to_numpy(dtype="int64", na_value=0)
    code = np.where(lengths == 0, 1, 2)  # missing, else malformed until shown otherwise
    nine = lengths == 9
    chars = _ascii_bytes(text[nine])
    if chars is None:  # a non-ASCII character: never well formed
        candidates = text[nine].tolist()
        ascii_only = np.array([v.isascii() for v in candidates], dtype=bool)
        nine[nine] = ascii_only
        joined = "".join(v for v, ok in zip(candidates, ascii_only, strict=True) if ok)
        chars = np.frombuffer(joined.encode("ascii"), dtype=np.uint8).reshape(-1, 9)
    if nine.any():
        well_formed = (
            _DIGIT[chars[:, 0]]
            & (_DIGIT[chars[:, 1]] | _UPPER[chars[:, 1]])
            & _DIGIT[chars[:, 2:]].all(axis=1)
        )
        pair = (chars[:, 0].astype(np.int64) << 8) | chars[:, 1]
        bad_dep = well_formed & ~_PAIR_OK[pair]
        corsica = (chars[:, 0] == ord("2")) & np.isin(chars[:, 1], (ord("A"), ord("B")))
        zero = well_formed & ~bad_dep & corsica & (chars[:, 2:8] == ord("0")).all(axis=1)
        checked = well_formed & ~bad_dep & ~zero
        digits_only = checked & _DIGIT[chars[:, 1]]
        bad_key = np.zeros(len(chars), dtype=bool)
        if digits_only.any():
            digits = chars[digits_only] - ord("0")
            bad_key[digits_only] = (_luhn_sums(digits, has_key=True) % 10) != 0
        sub = np.select([~well_formed, bad_dep, zero, bad_key], [2, 3, 4, 5], 0)
        code[nine] = sub
    reasons = pd.array(list(_REASONS), dtype="string").take(code)
    return pd.Series(reasons, index=values.index, dtype="string")


def _ascii_bytes(nine: pd.Series) -> np.ndarray | None:
    """The texts of ``nine`` (9 characters each) as an n x 9 byte array; None when one is
    not ASCII. Read from the Arrow buffers when the column has them (no Python string)."""
    try:
        arr = nine.array.__arrow_array__()
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        arr = arr.cast(pa.large_string())
        ends = np.frombuffer(arr.buffers()[1], dtype=np.int64)
        ends = ends[arr.offset : arr.offset + len(arr) + 1]
        data = np.frombuffer(arr.buffers()[2] or b"", dtype=np.uint8)[ends[0] : ends[-1]]
    except (AttributeError, TypeError, pa.ArrowException):  # not Arrow-backed: via Python
        data = np.frombuffer("".join(nine.tolist()).encode("utf-8"), dtype=np.uint8)
    if len(data) != 9 * len(nine):
        return None
    return data.reshape(-1, 9)


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
