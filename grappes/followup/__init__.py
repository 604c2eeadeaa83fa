"""After funding (issue 14): usage targets, payment tranches and their forecast.

Pure domain code, no storage: a funded grappe (``model``), monthly usage figures per ESMS
(``indicators``), rates as the seeds define them (``rates``), attainment of the rule set's
targets (``attainment``), a robust trend forecast (``forecast``) and the tranche states
(``milestones``). ``csv_import`` and ``dossier_import`` read the inputs, checked like every
input of the tool. Storage, access rules and views build on these objects.
"""

from grappes.followup.evaluate import FollowupState, evaluate
from grappes.followup.indicators import INDICATORS, MonthlyFigures
from grappes.followup.model import (
    FollowupRules,
    FundedGrappe,
    Member,
    Tranche,
    build_funded_grappe,
)

__all__ = [
    "INDICATORS",
    "FollowupRules",
    "FollowupState",
    "FundedGrappe",
    "Member",
    "MonthlyFigures",
    "Tranche",
    "build_funded_grappe",
    "evaluate",
]
