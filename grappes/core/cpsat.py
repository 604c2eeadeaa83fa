"""The one staged (lexicographic) CP-SAT solve of the project: reproducible under any load.

Two parts of the tool solve a CP-SAT model objective after objective: the ARS envelope
selection (``grappes.programme.funding_select``: most points, then ...) and the solver's
set packing (``grappes.solver.select``: small OGs, points, cost). Both need the same three
guarantees, so they live here once:

- **lexicographic stages**: each stage optimises one objective, then its value is fixed as
  a constraint (``>= best`` for a maximum, ``<= best`` for a minimum) and the solution is
  given as a hint to the next stage;
- **reproducibility**: a fixed ``random_seed`` and worker count, and a *deterministic* time
  limit (``max_deterministic_time``, CP-SAT's own work counter) as the limit meant to bind.
  A wall-clock limit would make a decision depend on the machine's load (issue 22: « an ARS
  decision can change with the machine's load »). With more than one worker the search is
  interleaved, the only reproducible parallel mode (or-tools issue #4946);
- **a safety net**: a generous wall-clock limit (``WALL_CLOCK_FACTOR`` × the deterministic
  budget + ``WALL_CLOCK_MARGIN`` seconds), which only stops a solve gone wrong; on a healthy
  machine the deterministic limit is always reached first.

The snake_case CP-SAT API is used throughout.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

#: safety-net wall clock = factor × deterministic budget + margin (seconds); never decisive
WALL_CLOCK_FACTOR = 10.0
WALL_CLOCK_MARGIN = 5.0
#: smallest deterministic budget given to a stage (CP-SAT needs a little to load the model)
MIN_DETERMINISTIC_TIME = 0.05

Tuner = Callable[[object], None]


def new_solver(dtime: float, seed: int = 0, workers: int = 1,
               tune: Tuner | None = None) -> cp_model.CpSolver:
    """A CP-SAT solver limited by deterministic time, seeded, with a fixed worker count.

    ``tune`` may set model-specific parameters (probing level...) on ``solver.parameters``;
    it must not touch the limits, the seed or the workers.
    """
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.random_seed = int(seed)
    p.num_workers = int(workers)
    # parallel workers share solutions in whatever order the threads run: only the
    # interleaved search is reproducible run to run (or-tools issue #4946)
    p.interleave_search = int(workers) > 1
    p.max_deterministic_time = max(float(dtime), MIN_DETERMINISTIC_TIME)
    # wall-clock safety net only; the deterministic limit is the one meant to bind
    p.max_time_in_seconds = WALL_CLOCK_FACTOR * max(float(dtime), 0.0) + WALL_CLOCK_MARGIN
    p.log_search_progress = False
    if tune is not None:
        tune(p)
    return solver


@dataclass
class StageResult:
    """One stage: its status, the variables' values (None: no solution), the objective value
    found and CP-SAT's bound on it, and the deterministic time it used."""

    status: object
    values: list[int] | None
    best: int | None
    bound: float
    dtime: float

    @property
    def solved(self) -> bool:
        return self.values is not None

    @property
    def optimal(self) -> bool:
        return self.status == cp_model.OPTIMAL

    @property
    def infeasible(self) -> bool:
        return self.status == cp_model.INFEASIBLE


class StagedSolve:
    """Solve ``model`` stage after stage over ``variables`` (see the module docstring).

    ``stage`` solves one objective given as integer coefficients over ``variables`` and fixes
    its optimum (or the best value found) before the next stage. ``used`` adds up the
    deterministic time of the stages, ``optimal`` stays True while every stage was proven.
    """

    def __init__(self, model: cp_model.CpModel, variables: Sequence[cp_model.IntVar],
                 seed: int = 0, workers: int = 1, tune: Tuner | None = None) -> None:
        self.model = model
        self.variables = list(variables)
        self.seed = int(seed)
        self.workers = int(workers)
        self.tune = tune
        self.used = 0.0
        self.optimal = True
        self.results: list[StageResult] = []
        self._indices = [v.index for v in self.variables]

    def hint(self, values: Sequence[int]) -> None:
        """Replace the hint by ``values`` (one per variable)."""
        self.model.clear_hints()
        set_hint(self.model, self.variables, values)

    def fix(self, coefficients: Sequence[int], maximise: bool, value: int) -> None:
        """Keep the objective at least (maximum) or at most (minimum) ``value`` from now on."""
        expr = _expr(coefficients, self.variables)
        if isinstance(expr, int):  # no variable in the objective: nothing to fix
            return
        if maximise:
            self.model.add(expr >= int(value))
        else:
            self.model.add(expr <= int(value))

    def stage(self, coefficients: Sequence[int], maximise: bool, dtime: float,
              seed_offset: int = 0) -> StageResult:
        """Optimise one objective within ``dtime`` deterministic seconds and fix its value."""
        expr = _expr(coefficients, self.variables)
        if maximise:
            self.model.maximize(expr)
        else:
            self.model.minimize(expr)
        solver = new_solver(dtime, self.seed + seed_offset, self.workers, self.tune)
        status = solver.solve(self.model)
        used = float(solver.response_proto.deterministic_time)
        self.used += used
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            self.optimal = False
            result = StageResult(status, None, None, float("nan"), used)
            self.results.append(result)
            return result
        if status != cp_model.OPTIMAL:
            self.optimal = False
        # one copy of the solution, read by index: per-variable ``solver.value`` calls cost
        # more than the search on the solver's thousands of small models
        solution = list(solver.response_proto.solution)
        values = [solution[i] for i in self._indices]
        best = sum(map(operator.mul, (int(c) for c in coefficients), values))
        self.hint(values)
        self.fix(coefficients, maximise, best)
        result = StageResult(status, values, best, float(solver.best_objective_bound), used)
        self.results.append(result)
        return result


def set_hint(model: cp_model.CpModel, variables: Sequence[cp_model.IntVar],
             values: Sequence[int]) -> None:
    """Add ``variables == values`` as hints, written into the model in one go.

    The same proto as one ``model.add_hint`` per variable (tested), at a twentieth of the
    cost: the solver's selection hints tens of thousands of candidates per model. The
    variables are plain (non-negated) ones.
    """
    values = list(values)
    if len(values) != len(variables):
        msg = f"{len(variables)} variables, {len(values)} valeurs d'indication"
        raise ValueError(msg)
    hint = model.proto.solution_hint
    hint.vars.extend(v.index for v in variables)
    hint.values.extend(int(x) for x in values)


def _expr(coefficients: Sequence[int], variables: Sequence[cp_model.IntVar]):
    """The linear expression ``sum(c * v)``, built in C++ (``weighted_sum``): the same
    flattened terms as a Python ``sum`` of products (zero terms dropped by both, tested),
    so the model CP-SAT sees and its search are unchanged, at a fraction of the cost."""
    coefficients = [int(c) for c in coefficients]
    if len(coefficients) != len(variables):
        msg = f"{len(variables)} variables, {len(coefficients)} coefficients"
        raise ValueError(msg)
    if not variables:
        return 0
    return cp_model.LinearExpr.weighted_sum(list(variables), coefficients)


def solve_lexicographic(model: cp_model.CpModel, variables: Sequence[cp_model.IntVar],
                        stages: Sequence[tuple[Sequence[int], bool]], dtime: float,
                        seed: int = 0, workers: int = 1) -> tuple[list[int], bool]:
    """Every stage in turn with the same deterministic budget; the last solution and whether
    every stage was proven optimal. Raises ``RuntimeError`` when a stage finds nothing (a
    model with no solution is an internal error for the callers of this function)."""
    run = StagedSolve(model, variables, seed=seed, workers=workers)
    values: list[int] | None = None
    for coefficients, maximise in stages:
        result = run.stage(coefficients, maximise, dtime)
        if not result.solved:
            msg = "Le solveur n'a trouvé aucune solution (problème interne)."
            raise RuntimeError(msg)
        values = result.values
    if values is None:  # no stage: any solution of the constraints
        result = run.stage([0] * len(run.variables), True, dtime)
        if not result.solved:
            msg = "Le solveur n'a trouvé aucune solution (problème interne)."
            raise RuntimeError(msg)
        values = result.values
    return list(values or []), run.optimal
