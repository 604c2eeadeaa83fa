"""Propose grappes: OGs grouped under the programme's hard rules, scoring the most points.

Public API::

    from grappes.solver import GrappeSolver, SolverWeights, Constraints, greedy_baseline
    proposal = GrappeSolver(rules, seed=0, time_limit=30).solve(etab, champ="PA")
    proposal.grappes, proposal.unplaced, proposal.stats, proposal.assignment()

See ``docs/solveur.md`` for the method and the weights.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

#: public name -> module; loaded on first use (PEP 562), so that importing a light
#: submodule (``settings``, ``proposal``, ``propose``) does not load OR-Tools and the search
_HOMES = {
    "CandidateParams": "grappes.solver.candidates",
    "Constraints": "grappes.solver.units",
    "GraphWeights": "grappes.solver.graph",
    "GrappeSolver": "grappes.solver.core",
    "Proposal": "grappes.solver.proposal",
    "SolverWeights": "grappes.solver.core",
    "greedy_baseline": "grappes.solver.core",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        msg = f"module 'grappes.solver' has no attribute {name!r}"
        raise AttributeError(msg)
    return getattr(import_module(_HOMES[name]), name)

__all__ = [
    "CandidateParams",
    "Constraints",
    "GraphWeights",
    "GrappeSolver",
    "Proposal",
    "SolverWeights",
    "greedy_baseline",
]
