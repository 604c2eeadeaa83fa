"""FINESS numbers (format, Luhn key) and the nomenclature tables."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from grappes.core.finess import (
    REASON_FORMAT,
    REASON_KEY,
    REASON_MISSING,
    check_finess,
    check_finess_series,
    luhn_key,
    luhn_keys,
    luhn_ok,
    normalise_finess,
)
from grappes.core.model import CHAMPS, HORS_CHAMP
from grappes.core.nomenclature import (
    categorie_info,
    categories,
    medicalise_from_mft,
    statut_agrege,
    statut_libelle,
    statuts,
)

# Real numbers quoted in the project reference (finess.md, section 3): all pass Luhn.
REAL = [
    "010000024",
    "010780054",
    "750100125",
    "750712184",
    "970102018",
    "970400024",
    "980501506",
    "980600027",
]


def _reference_key(body: str) -> str:
    """Textbook Luhn key, written independently of the module (a letter counts as 0)."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) if ch.isdigit() else 0
        if i % 2 == 0:  # the rightmost digit of the body is doubled
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return str((10 - total % 10) % 10)


@pytest.mark.parametrize("number", REAL)
def test_luhn_key_completes_real_numbers(number: str) -> None:
    assert luhn_key(number[:-1]) == number[-1]
    assert luhn_keys([number[:-1]]).tolist() == [number[-1]]


@given(st.lists(st.text("0123456789", min_size=13, max_size=13), min_size=1, max_size=30))
def test_luhn_keys_for_siret_bodies_match_the_reference(bodies: list[str]) -> None:
    assert luhn_keys(bodies).tolist() == [_reference_key(b) for b in bodies]


@pytest.mark.parametrize("width", [1, 2, 8, 9, 13, 20])
def test_luhn_keys_any_width_agree_with_the_scalar_key(width: int) -> None:
    bodies = [f"{(7919 * i + 13) % 10**width:0{width}d}" for i in range(300)]
    keys = luhn_keys(bodies)
    assert keys.tolist() == [luhn_key(b) for b in bodies] == [_reference_key(b) for b in bodies]


def test_made_keys_pass_the_readers_check() -> None:
    """The generator's keys (luhn_keys) and the readers' check (luhn_ok) agree on FINESS."""
    bodies = [f"45{i * 104_729 % 10**6:06d}" for i in range(500)]
    numbers = [b + k for b, k in zip(bodies, luhn_keys(bodies), strict=True)]
    assert all(luhn_ok(n) for n in numbers)
    assert (check_finess_series(pd.Series(numbers, dtype="string")) == "").all()


def test_corsican_letters_count_as_zero() -> None:
    """The generator's documented choice for 2A/2B numbers (the register's rule is unknown)."""
    assert luhn_key("2A000001") == luhn_key("20000001") == _reference_key("2A000001")
    assert luhn_key("2B123456") == luhn_key("20123456")


def test_luhn_keys_refuses_mixed_widths_and_accepts_nothing() -> None:
    with pytest.raises(ValueError, match="même longueur"):
        luhn_keys(["12345678", "1234567"])
    with pytest.raises(ValueError, match="même longueur"):
        luhn_keys(["1234", "12", "123456"])  # same total length, other widths
    assert len(luhn_keys([])) == 0


@pytest.mark.parametrize("number", REAL)
def test_real_numbers_pass_luhn(number: str) -> None:
    assert luhn_ok(number)
    assert check_finess(number) is None


@pytest.mark.parametrize("number", REAL)
def test_changing_the_key_breaks_luhn(number: str) -> None:
    for key in "0123456789":
        if key != number[8]:
            assert not luhn_ok(number[:8] + key)
            assert check_finess(number[:8] + key) == REASON_KEY


def test_a_single_digit_swap_is_caught() -> None:
    assert not luhn_ok("100000024")  # first two digits swapped
    assert check_finess("100000024") == REASON_KEY


@pytest.mark.parametrize("number", ["2A0000015", "2B0000013", "2A1234567"])
def test_corsican_numbers_are_checked_for_format_only(number: str) -> None:
    assert check_finess(number) is None
    assert not luhn_ok(number)


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("", REASON_MISSING),
        ("01000002", REASON_FORMAT),
        ("0100000245", REASON_FORMAT),
        ("A10000024", REASON_FORMAT),
        ("01000002X", REASON_FORMAT),
        ("2AA000015", REASON_FORMAT),
        ("01 000002", REASON_FORMAT),
    ],
)
def test_malformed_numbers(number: str, reason: str) -> None:
    assert check_finess(number) == reason


def test_vectorised_check_agrees_with_the_scalar_one() -> None:
    values = pd.Series([*REAL, "010000025", "2A0000015", "x", "", "1000002"], dtype="string")
    reasons = check_finess_series(values)
    expected = [check_finess(v) or "" for v in values]
    assert reasons.tolist() == expected


def test_normalise_trims_and_uppercases() -> None:
    values = normalise_finess(pd.Series([" 2a0000015 ", None, "010000024"]))
    assert values.tolist() == ["2A0000015", "", "010000024"]


def test_category_table_covers_the_reference_codes() -> None:
    table = categories()
    # every social and medico-social code of finess.md section 5, and key health codes
    social = [
        "500",
        "501",
        "502",
        "202",
        "207",
        "381",
        "183",
        "188",
        "186",
        "192",
        "194",
        "195",
        "196",
        "390",
        "396",
        "238",
        "182",
        "189",
        "190",
        "221",
        "377",
        "255",
        "437",
        "448",
        "449",
        "395",
        "370",
        "246",
        "247",
        "198",
        "249",
        "445",
        "446",
        "464",
        "354",
        "209",
        "460",
        "462",
        "177",
        "175",
        "176",
        "172",
        "166",
        "236",
        "411",
        "241",
        "441",
        "286",
        "295",
        "344",
        "643",
        "644",
        "378",
        "440",
        "214",
        "443",
        "442",
        "219",
        "216",
        "256",
        "257",
        "258",
        "259",
        "197",
        "178",
        "180",
        "213",
        "165",
        "608",
        "340",
        "341",
        "342",
    ]
    health = ["101", "106", "109", "122", "127", "128", "129", "355", "362", "365", "292"]
    assert set(social + health) <= set(table.index)
    assert table["champ"].isin([*CHAMPS, HORS_CHAMP]).all()
    assert not table.index.duplicated().any()


@pytest.mark.parametrize(
    ("code", "champ", "medicalise", "sanitaire"),
    [
        ("500", "PA", True, False),
        ("502", "PA", False, False),
        ("255", "PH", True, False),
        ("449", "PH", False, False),
        ("354", "DOM", True, False),
        ("460", "DOM", False, False),
        ("177", "PDE", False, False),
        ("214", "AHI", False, False),
        ("197", "PDS", True, False),
        ("340", "PJM", False, False),
        ("355", "hors_champ", False, True),
        ("101", "hors_champ", False, True),
        ("620", "hors_champ", False, True),
        ("167", "hors_champ", False, False),
    ],
)
def test_categorie_info(code: str, champ: str, medicalise: bool, sanitaire: bool) -> None:
    info = categorie_info(code)
    assert info is not None
    assert (info.champ, info.medicalise, info.sanitaire) == (champ, medicalise, sanitaire)
    assert info.libelle


def test_unknown_category_is_none() -> None:
    assert categorie_info("999") is None
    assert categorie_info("") is None


@pytest.mark.parametrize(
    ("code", "agrege"),
    [
        ("01", "public"),
        ("17", "public"),
        ("21", "public"),
        ("60", "prive_non_lucratif"),
        ("63", "prive_non_lucratif"),
        ("89", "prive_non_lucratif"),
        ("73", "prive_commercial"),
        ("95", "prive_commercial"),
        ("90", "etranger"),
        ("", "inconnu"),
        ("zz", "inconnu"),
        ("09", "public"),
        ("99", "inconnu"),
    ],
)
def test_statut_agrege(code: str, agrege: str) -> None:
    assert statut_agrege(code) == agrege


def test_statut_table_and_labels() -> None:
    assert len(statuts()) > 60
    assert statut_libelle("61") == "Association Loi 1901 reconnue d'utilité publique"
    assert statut_libelle("42x") == ""


def test_medicalise_from_libmft() -> None:
    labels = pd.Series(
        [
            "ARS/PCD, Tarif global, habilité aide sociale",
            "ARS établissements Publics de santé dotation globale",
            "Président du Conseil Départemental",
            "PJJ",
            "",
            None,
            "Autre",
        ]
    )
    assert medicalise_from_mft(labels).tolist() == [True, True, False, False, pd.NA, pd.NA, pd.NA]


def test_vectorised_check_agrees_with_the_scalar_one_on_random_numbers() -> None:
    """The vectorised check lays the 9-character numbers out as bytes: every reason, the
    non-ASCII and missing values, and both input dtypes agree with ``check_finess``."""
    import random

    rng = random.Random(21)
    heads = ["01", "2A", "2B", "20", "97", "98", "96", "99", "00", "9A", "10", "35", "95", "2C"]
    values: list[str | None] = [None, "", "2A0000001", "2B000000A", "٠١٠٠٠٠٠٢٤"]
    for _ in range(1500):
        if rng.random() < 0.6:
            body = rng.choice(heads) + "".join(rng.choice("0000123456789") for _ in range(6))
            values.append(body + (luhn_key(body) if rng.random() < 0.6 else rng.choice("09A")))
        else:
            size = rng.choice([0, 8, 9, 9, 10])
            values.append("".join(rng.choice("0129AZé -") for _ in range(size)))
    expected = [check_finess(v if v is not None else "") or "" for v in values]
    for dtype in ("string", object):
        series = pd.Series(values, dtype=dtype, index=range(5, 5 + len(values)))
        reasons = check_finess_series(series)
        assert str(reasons.dtype) == "string"
        assert reasons.index.equals(series.index)
        assert reasons.tolist() == expected


@pytest.mark.parametrize("suffix", ["\n", "\r\n", " "])
def test_a_trailing_newline_is_a_format_error_not_a_crash(suffix: str) -> None:
    """``$`` matches before a final newline: the check must see the tenth character."""
    assert check_finess("010000024") is None
    assert check_finess("010000024" + suffix) == REASON_FORMAT
    assert check_finess("2A0000001" + suffix) == REASON_FORMAT
