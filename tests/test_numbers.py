"""The one parser of typed numbers (``grappes.core.numbers``): French spellings read right,
the ambiguous refused in French, never a silent change of scale (issue 20)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grappes.core.formatting import euros
from grappes.core.numbers import NumberError, parse_amount, parse_km, parse_percent

SPACES = [" ", "\u00a0", "\u202f"]


def grouped(n: int, space: str) -> str:
    return f"{n:,}".replace(",", space)


@pytest.mark.parametrize(("text", "value"), [
    ("6 000 000", 6_000_000), ("6 000 000,50", 6_000_000.5), ("6\u202f000\u202f000,50",
                                                              6_000_000.5),
    ("6,5 M€", 6_500_000), ("6000000", 6_000_000), ("800 k€", 800_000),
    ("6 000 000 €", 6_000_000), ("6000000.0", 6_000_000), ("6.000.000,50", 6_000_000.5),
])
def test_french_spellings(text, value):
    assert parse_amount(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["6,000", "6.000", "6 00 000", "6,5,0", "six", "", "6 km",
                                  "6,000.50", "1.5 %"])
def test_ambiguous_or_wrong_is_refused_in_french(text):
    with pytest.raises(NumberError, match="n'est pas un nombre lisible"):
        parse_amount(text, "Enveloppe")


@given(st.integers(0, 10**11), st.integers(0, 99), st.sampled_from(SPACES))
def test_grouped_with_cents_round_trip(n, cents, space):
    text = grouped(n, space) + (f",{cents:02d}" if cents else "")
    assert parse_amount(text) == pytest.approx(n + cents / 100)


@given(st.integers(0, 10**11))
def test_what_the_tool_writes_it_reads_back(n):
    assert parse_amount(euros(n)) == n  # « 6 000 000 € » as the app shows it


@given(st.integers(1000, 10**9), st.sampled_from(SPACES))
def test_never_scaled_silently(n, space):
    """Whatever the spacing, the value is the one written, or a refusal: never x10, x100."""
    for text in (grouped(n, space), str(n), grouped(n, space) + ",5"):
        value = parse_amount(text)
        assert int(value) == n


def test_km_and_shares():
    assert parse_km("12,5 km") == 12.5
    assert parse_percent("40 %") == pytest.approx(0.4)
    assert parse_percent("12,5") == pytest.approx(0.125)
    with pytest.raises(NumberError, match="entre 0 et 100"):
        parse_percent("140")
    with pytest.raises(NumberError):
        parse_km("12 €")


def _grouping(tmp_path):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from rules_factories import make_etab, make_og

    from grappes.exports.french_excel import write_csv

    etab = make_etab(make_og("370000001", 6) + make_og("370000002", 6) + make_og("370000003", 5))
    etab["grappe"] = "A"
    path = tmp_path / "etablissements.csv"
    write_csv(etab, path)
    return path


def test_cli_select_reads_the_envelope_the_french_way(tmp_path):
    """`grappes selectionner --enveloppe « 6 000 000,50 »` is 6 000 000,50 €, « 6.000 » is refused
    (usage error, French message), « 6000000 » keeps working."""
    import json

    from typer.testing import CliRunner

    from grappes.cli.main import app

    path = _grouping(tmp_path)
    runner = CliRunner()
    for typed in ("6\u202f000\u202f000,50", "6000000", "6,5 M€"):
        result = runner.invoke(app, ["selectionner", str(path), "--enveloppe", typed, "--json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["envelope"] == pytest.approx(parse_amount(typed))
    refused = runner.invoke(app, ["selectionner", str(path), "--enveloppe", "6.000"])
    assert refused.exit_code == 2
    assert "milliers ou décimales" in refused.output
