"""Issue 11: a quick run of the input fuzz harness (``bench/fuzz_inputs.py``) in the suite.

About 200 seeded mutations of a slice of the sample (etalab, template, EJ, DUI) go through
load -> check (summary + JSON) -> CSV of the table and of the rejects; one input in twenty also
goes through ``propose`` and every export of the scenario (JSON, CSV set, XLSX workbook,
GeoPackage), so the whole chain is exercised in about 30 s of CPU. The full campaign
(3,000 inputs, ``propose`` on each) is ``python bench/fuzz_inputs.py``.
Every input must be clean: loaded with exact accounting and no silent change, or refused
with a French message.
"""

from __future__ import annotations

import pytest

from bench import fuzz_inputs as fuzz

N_INPUTS = 200
SEED = 11


@pytest.fixture(scope="module")
def baseline():
    # the sample is bundled: never missing; 25 rows per département: one grappe proposed
    return fuzz.Baseline(fuzz.build_base(n_rows=50))


def test_mutated_inputs_are_loaded_exactly_or_refused_clearly(baseline) -> None:
    outcomes = [
        fuzz.run_one(baseline, fuzz.mutate(baseline.base, SEED, i), with_propose=i % 20 == 0)
        for i in range(N_INPUTS)
    ]
    bad = [o for o in outcomes if o.outcome not in ("clean_loaded", "clean_refused")]
    assert not bad, "\n".join(f"#{o.index} {o.kind} {o.mutations}: {o.detail}" for o in bad[:5])
    kinds = {o.kind for o in outcomes}
    assert kinds == set(fuzz.KINDS)  # every input kind was exercised
    assert any(o.outcome == "clean_refused" for o in outcomes)
    assert sum(o.outcome == "clean_loaded" for o in outcomes) > N_INPUTS // 2
    # propose and every export of the scenario really ran on some inputs, with grappes
    assert sum(o.grappes > 0 for o in outcomes) >= 4


def test_the_same_seed_gives_the_same_inputs(baseline) -> None:
    first = fuzz.mutate(baseline.base, SEED, 17)
    again = fuzz.mutate(baseline.base, SEED, 17)
    assert first.data == again.data and first.mutations == again.mutations
    other = [fuzz.mutate(baseline.base, SEED + 1, i).data for i in range(5)]
    assert other != [fuzz.mutate(baseline.base, SEED, i).data for i in range(5)]
