"""The one staged CP-SAT solve (``grappes.core.cpsat``): lexicographic, and reproducible under
load because its limit is CP-SAT's deterministic time, not the clock (issue 22)."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
from ortools.sat.python import cp_model

from grappes.core.cpsat import StagedSolve, new_solver, solve_lexicographic
from grappes.programme.funding_select import select_funding


def test_stages_fix_each_optimum_in_turn():
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{i}") for i in range(4)]
    model.add(sum(x) <= 2)
    # stage 1: most of x0..x2 (2); stage 2 at that level: least x0 + x1 -> x2 and x3? no: x3
    # does not count in stage 1, so stage 1 takes two of x0..x2 and stage 2 keeps x2 + one
    values, optimal = solve_lexicographic(model, x, [([1, 1, 1, 0], True), ([5, 3, 0, 0], False)],
                                          dtime=1.0)
    assert optimal
    assert values == [0, 1, 1, 0]


def test_solver_limits_are_deterministic_with_a_wall_clock_safety_net():
    solver = new_solver(2.0, seed=7, workers=1)
    p = solver.parameters
    assert p.max_deterministic_time == 2.0 and p.random_seed == 7 and p.num_workers == 1
    assert p.max_time_in_seconds > 10 * 2.0  # the clock never decides first
    assert not p.interleave_search
    assert new_solver(1.0, workers=2).parameters.interleave_search


def test_staged_solve_reports_an_impossible_model():
    model = cp_model.CpModel()
    x = model.new_bool_var("x")
    model.add(x == 1)
    model.add(x == 0)
    run = StagedSolve(model, [x])
    result = run.stage([1], True, 1.0)
    assert result.infeasible and not result.solved and not run.optimal


def _hard_candidates(n: int = 70) -> pd.DataFrame:
    rng = np.random.default_rng(22)
    costs = rng.integers(50, 900, n) * 1_000
    points = (costs // 50_000 + rng.integers(0, 3, n)).astype(int)
    return pd.DataFrame({"grappe": [f"G{i:03d}" for i in range(n)], "total": costs,
                         "points": points,
                         "departements": rng.choice(["14", "27", "50", "61", "76"], n),
                         "champ": rng.choice(["PA", "PH"], n),
                         "fenetre": rng.integers(1, 4, n)})


def _select(df: pd.DataFrame) -> tuple:
    sel = select_funding(df, 9_000_000, (0.5, 0.7, 1.0), mode="global", time_limit=0.05,
                         explain=False)
    return tuple(zip(sel.funded["grappe"], sel.funded["fenetre"], strict=True))


def test_same_selection_under_a_cpu_hogging_thread():
    df = _hard_candidates()
    idle = _select(df)
    stop = threading.Event()

    def hog() -> None:
        a = np.random.default_rng(0).random((300, 300))
        while not stop.is_set():
            a = np.tanh(a @ a)  # numpy releases the GIL: a real competitor for the CPU

    threads = [threading.Thread(target=hog) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        loaded = _select(df)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert loaded == idle
    assert idle  # something was funded


def test_one_home_for_the_cp_sat_solver():
    """Only ``grappes.core.cpsat`` makes a CP-SAT solver (issue 24: one staged helper)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    makers = sorted(str(p.relative_to(root)) for p in (root / "grappes").rglob("*.py")
                    if "CpSolver(" in p.read_text(encoding="utf-8"))
    assert makers == ["grappes/core/cpsat.py"]


def _proto_text(build) -> str:
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{i}") for i in range(6)]
    build(model, x)
    return str(model.proto)


def test_bulk_hints_and_objective_write_the_same_model_as_one_call_per_variable():
    """``set_hint`` and the C++-built expressions of ``StagedSolve`` (speed, issue 23) give the
    model proto the per-variable Python calls gave: CP-SAT sees the same model, the same search."""
    from grappes.core.cpsat import _expr, set_hint

    coefficients = [3, 0, -2, 7, 0, 1]
    values = [1, 0, 0, 1, 1, 0]

    def by_python(model, x):
        for v, s in zip(x, values, strict=True):
            model.add_hint(v, s)
        expr = sum(c * v for c, v in zip(coefficients, x, strict=True))
        model.maximize(expr)
        model.add(expr >= 4)

    def in_bulk(model, x):
        set_hint(model, x, values)
        expr = _expr(coefficients, x)
        model.maximize(expr)
        model.add(expr >= 4)

    assert _proto_text(by_python) == _proto_text(in_bulk)
    assert _expr([], []) == 0


def test_stage_values_read_from_the_solution_match_the_variables():
    model = cp_model.CpModel()
    y = model.new_bool_var("unused")  # a variable outside the staged ones shifts the indices
    x = [model.new_bool_var(f"x{i}") for i in range(4)]
    model.add(sum(x) <= 2)
    model.add(y == 1)
    run = StagedSolve(model, x)
    result = run.stage([1, 5, 3, 0], True, 1.0)
    assert result.values == [0, 1, 1, 0] and result.best == 8
