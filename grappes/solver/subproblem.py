"""One sub-problem (field x région) of a solve: its units, evaluator and working state.

Shared by the solver's stages (``core`` drives them, ``attach`` extends grappes across
fields), so it lives in its own module rather than as a private class of ``core``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from grappes.solver.evaluate import Evaluator
from grappes.solver.units import Units
from grappes.solver.zones import ZoneReport


@dataclass
class Subproblem:
    """One sub-problem (field x région) during a solve."""

    champ: str
    region: str
    units: Units
    ev: Evaluator
    neighbours: list[np.ndarray]
    km: list[np.ndarray]
    candidates: list[tuple[int, ...]] = field(default_factory=list)
    greedy: list[list[int]] = field(default_factory=list)
    grappes: list[list[int]] = field(default_factory=list)
    bound_small: int = 0
    alive: np.ndarray | None = None
    level1_done: bool = False
    candidate_bound: int = 0
    optimal: int = 0
    groups: int = 0
    zones: ZoneReport = field(default_factory=ZoneReport)
