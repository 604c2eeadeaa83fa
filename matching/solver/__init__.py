"""Propose grappes: OGs grouped under the programme's hard rules, scoring the most points.

Public API::

    from matching.solver import GrappeSolver, SolverWeights, Constraints, greedy_baseline
    proposal = GrappeSolver(rules, seed=0, time_limit=30).solve(etab, champ="PA")
    proposal.grappes, proposal.unplaced, proposal.stats, proposal.assignment()

See ``docs/solveur.md`` for the method and the weights.
"""

from __future__ import annotations

from matching.solver.candidates import CandidateParams
from matching.solver.core import GrappeSolver, Proposal, SolverWeights, greedy_baseline
from matching.solver.graph import GraphWeights
from matching.solver.units import Constraints

__all__ = [
    "CandidateParams",
    "Constraints",
    "GraphWeights",
    "GrappeSolver",
    "Proposal",
    "SolverWeights",
    "greedy_baseline",
]
