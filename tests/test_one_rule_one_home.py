"""Computed points are one rule (``matching.programme.scoring``) wherever they are computed.

The solver scores thousands of candidate sets at once (``Evaluator.batch``), one set at a
time in local search (``Evaluator.single``), and describes its grappes from their rows
(``scoring.grappe_points``); the costing scores the grid with ``scoring.score_arrays``. On
random sets of OGs spread over two régions and an unnamed one, all of them must agree.
"""

from __future__ import annotations

import numpy as np
import pytest

from matching.core.model import GroupingRules
from matching.programme.rules import DEFAULT_RULES, load_rules
from matching.programme.scoring import (
    computed_points,
    criteria_met,
    grappe_points,
    main_region,
    main_region_index,
    score_arrays,
)
from matching.solver.evaluate import Evaluator
from matching.solver.graph import GraphWeights
from matching.solver.units import build_units, prepare_esms
from tests.solver_factories import make_etab, og_rows

RULES = GroupingRules()
CRITERIA = ("isole", "multi_og", "multi_departement")


def test_main_region_most_esms_ties_lowest_code_unnamed_last() -> None:
    assert main_region(np.array(["52", "24", "52", "24"], dtype=object)) == "24"
    assert main_region(np.array(["52", "52", "24"], dtype=object)) == "52"
    # the unnamed région only when no named one holds an ESMS
    assert main_region(np.array(["", "", "", "53"], dtype=object)) == "53"
    assert main_region(np.array(["", ""], dtype=object)) == ""
    assert main_region(np.array([], dtype=object)) == ""
    counts = np.array([[3, 1, 1], [0, 2, 2], [4, 0, 0]])
    named = np.array([False, True, True])
    assert main_region_index(counts, named).tolist() == [1, 1, 0]


def test_computed_points_numbers_and_arrays_agree() -> None:
    auto, ogs, deps = np.array([0, 1, 2, 0]), np.array([1, 2, 3, 2]), np.array([2, 1, 1, 3])
    batch = computed_points(auto, ogs, deps, RULES)
    for i in range(len(auto)):
        one = computed_points(int(auto[i]), int(ogs[i]), int(deps[i]), RULES)
        assert {k: int(batch[k][i]) for k in CRITERIA} == one
    assert computed_points(1, 2, 2, RULES) == {"isole": 3, "multi_og": 2, "multi_departement": 2}
    assert criteria_met(0, 1, 1) == {"isole": False, "multi_og": False,
                                      "multi_departement": False}


def _mixed_etab(seed: int):
    """OGs of 1-6 ESMS in régions 24 / 52 / unnamed, three départements, a few autonomous."""
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(18):
        ej = f"37{k:07d}"
        n = int(rng.choice([1, 1, 2, 3, 6]))
        region = str(rng.choice(["24", "24", "52", ""]))
        for row in og_rows(ej, n, x=float(rng.uniform(0, 40)), y=float(rng.uniform(0, 40)),
                           start=0):
            row["region"] = region if rng.random() < 0.8 else str(rng.choice(["24", "52"]))
            row["departement"] = str(rng.choice(["18", "37", "41"]))
            rows.append(row)
    etab = make_etab(rows)
    etab["autonome"] = etab["og_nb_esms"] == 1
    return etab


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_solver_batch_single_and_rows_agree(seed: int) -> None:
    etab = _mixed_etab(seed)
    esms, _ = prepare_esms(etab, RULES, ("PA",))
    units = build_units(esms, RULES, "PA")
    ev = Evaluator(units, RULES, GraphWeights())
    rng = np.random.default_rng(seed)
    sets = [sorted(rng.choice(len(units), size=int(rng.integers(1, 6)), replace=False).tolist())
            for _ in range(60)]
    batch = ev.batch(sets)
    for i, members in enumerate(sets):
        single = ev.single(members)
        rows = etab.iloc[np.concatenate([units.esms["_row"].to_numpy()[units.rows[m]]
                                         for m in members])]
        expected = grappe_points(rows, RULES)
        assert {k: int(batch[k][i]) for k in CRITERIA} == expected, members
        assert {k: int(single[k]) for k in CRITERIA} == expected, members
        assert ev.points(members) == expected


def test_costing_grid_uses_the_same_criteria() -> None:
    rules = load_rules(DEFAULT_RULES)
    etab = _mixed_etab(3)
    region = etab["region"].astype(str).to_numpy(dtype=object)
    score = score_arrays(region, etab["finess_ej"].astype(str).to_numpy(dtype=object),
                         etab["departement"].astype(str).to_numpy(dtype=object),
                         etab["autonome"].to_numpy(dtype=bool), rules)
    expected = grappe_points(etab, rules.grouping)
    by_kind = {c.computed: score.computed[c.code] for c in rules.grid.criteria if c.computed}
    assert by_kind == expected
    assert score.region == main_region(region)


# ---------------------------------------------------------------- reason codes, reach, size


def test_reason_codes_have_one_list_and_one_label_each() -> None:
    from matching.core import vocabulary
    from matching.programme.validate import Violation

    assert set(vocabulary.UNIT_CHECK_CODES) - {"separes"} <= set(vocabulary.VIOLATION_CODES)
    assert set(vocabulary.VIOLATION_CODES) | {"separes"} == set(vocabulary.VIOLATION_LABELS)
    with pytest.raises(ValueError, match="code de règle inconnu"):
        Violation("distance", "un code que validate ne connaît pas")


def test_solver_check_codes_are_the_vocabulary_ones() -> None:
    from matching.core.vocabulary import UNIT_CHECK_CODES

    # two far-apart OGs of 8 ESMS: together big enough, but out of reach
    rows = og_rows("370000001", 8, x=0) + og_rows("370000002", 8, x=300)
    etab = make_etab(rows)
    esms, _ = prepare_esms(etab, RULES, ("PA",))
    ev = Evaluator(build_units(esms, RULES, "PA"), RULES, GraphWeights())
    assert ev.check([0, 1]) == "trop_loin" and "trop_loin" in UNIT_CHECK_CODES
    assert ev.check([0]) == "trop_peu_esms"


def test_reach_and_solver_size_come_from_one_place() -> None:
    from matching.programme.reach import DEFAULT_MAX_KM
    from matching.solver.settings import SolverSettings

    assert GraphWeights().max_km == DEFAULT_MAX_KM == SolverSettings().max_km
    etab = _mixed_etab(0)
    esms, _ = prepare_esms(etab, RULES, ("PA",))
    units = build_units(esms, RULES, "PA")
    no_size = GroupingRules(max_esms=None, solver_max_esms=20)
    assert Evaluator(units, no_size, GraphWeights()).cap == 20
    assert Evaluator(units, GroupingRules(max_esms=30), GraphWeights()).cap == 30
