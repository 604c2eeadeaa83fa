"""The solver's settings that change the answer, carried with every scenario.

Same input, rule set, scope and settings: same grouping, same ids. ``grappes propose``,
``grappes partenaires`` and the app start from :data:`DEFAULT_TIME_LIMIT` unless told
otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

from matching.programme.reach import DEFAULT_MAX_KM

#: Default deterministic budget of the exact selection, seconds.
DEFAULT_TIME_LIMIT = 20.0
#: The app's first proposal, seconds: its sidebar's default, and the budget of the sample's
#: precomputed proposals (``matching.scenarios.precomputed``), which must be the same.
APP_TIME_LIMIT = 2.0


@dataclass(frozen=True)
class SolverSettings:
    """Seed, time budget, multi-région grappes and the reach rule (km)."""

    seed: int = 0
    time_limit: float = DEFAULT_TIME_LIMIT
    allow_multi_region: bool = False
    #: the reach rule: every OG within this distance of its grappe's centre (km)
    max_km: float = DEFAULT_MAX_KM
