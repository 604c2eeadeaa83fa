"""The solver's settings that change the answer, carried with every scenario.

Same input, rule set, scope and settings: same grouping, same ids. ``grappes proposer``,
``grappes partenaires`` and the app all start from :data:`DEFAULT_TIME_LIMIT` unless told
otherwise. The app once started from 2 s: « Tous les champs » then placed 1 682 ESMS of the
sample in the app against 1 706 with ``grappes proposer --exemple`` (issue 20, item 7: the same
words must give the same figures). The sample's proposals are precomputed at this budget, so
the app's first screen on the sample does not pay for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from grappes.programme.reach import DEFAULT_MAX_KM

#: Default deterministic budget of the exact selection, seconds.
DEFAULT_TIME_LIMIT = 20.0
#: The app's first proposal, seconds: its sidebar's default, and the budget of the sample's
#: precomputed proposals (``grappes.scenarios.precomputed``), which must be the same. The
#: commands' budget: a smaller one gave other grappes under the same id and field.
APP_TIME_LIMIT = DEFAULT_TIME_LIMIT
#: A solver built in code without a budget (``GrappeSolver(rules)``): a library default,
#: more generous than the commands' since nobody is waiting at a prompt.
LIBRARY_TIME_LIMIT = 30.0
#: The envelope's funding selection (``grappes selectionner``, the app's « Enveloppe ARS »).
FUNDING_TIME_LIMIT = 10.0
#: A re-solve around the user's edits (the app's « Relancer ») and the registry's matching.
RERUN_TIME_LIMIT = 10.0

#: Zone re-optimisation around an ESMS left out (``grappes.solver.zones``): the grappes
#: with a member within this distance of the left-out OG are freed (km)...
ZONE_RADIUS_KM = 25.0
#: ... at most this many of them, nearest first (the pattern measured in issue 23: placing
#: one left-out OG means rebuilding 10 to 14 neighbouring grappes together).
ZONE_GRAPPES = 12
#: Zone sizes tried in turn (radius km, grappes at most): the wider ring only for the OGs
#: still left out once the first reaches its fixed point. Measured (issue 23): on the sample's
#: PH field the single-ESMS OGs of one DUI solution left out side by side need the 50 km
#: ring (4 to 7 grappes lie within 25 km of them); PA is served by the first ring.
ZONE_TIERS: tuple[tuple[float, int], ...] = ((ZONE_RADIUS_KM, ZONE_GRAPPES), (50.0, 14))
#: Share of the time budget given to the zones (deterministic time of their CP-SAT packings).
ZONE_BUDGET_SHARE = 0.3
#: Cap on one sub-problem's zone budget (deterministic seconds): each sub-problem has its own
#: budget (a field's grappes must not depend on the other fields solved), so without a cap
#: a run over every field would spend 30 % of the budget once per field.
ZONE_BUDGET_CAP = 1.5


@dataclass(frozen=True)
class SolverSettings:
    """Seed, time budget, multi-région grappes and the reach rule (km)."""

    seed: int = 0
    time_limit: float = DEFAULT_TIME_LIMIT
    allow_multi_region: bool = False
    #: the reach rule: every OG within this distance of its grappe's centre (km)
    max_km: float = DEFAULT_MAX_KM
