"""Side-by-side comparison of the rule sets (calls) for one territory and field.

Each rule set gets its own proposal (the caller passes a cached ``report_for``), read with the
same definitions as the page (``grappes.ui.views.counts``, funding and points of valid
grappes only), so the columns compare like with like.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from grappes.programme.rules import load_rules
from grappes.scenarios.whatif import WhatIf
from grappes.ui import columns as col
from grappes.ui.columns import TableView
from grappes.ui.views import counts


def compare_rules(rule_names: Sequence[str], report_for: Callable[[str], Any]) -> TableView:
    """One row per rule set: grappes, valid ones, ESMS placed / of the field, points, funding."""
    rows = []
    for name in rule_names:
        report = report_for(name)
        scenario = WhatIf.from_report(report)
        totals = scenario.current.totals if scenario.current else scenario.evaluate().totals
        n = counts(scenario)
        rows.append({
            "appel": load_rules(name).title or name,
            "grappes": int(totals["grappes"]),
            "valides": int(totals["valides"]),
            "places": n.places,
            "champ": n.champ,
            "part": n.places / n.champ if n.champ else 0.0,
            "points": int(totals["points_grille"]),
            "financement": float(totals["financement"]),
        })
    # decisive first: the call, its funding and how many ESMS it places
    frame = pd.DataFrame(rows, columns=["appel", "financement", "places", "part", "valides",
                                        "grappes", "champ", "points"])
    return TableView(frame, {
        "appel": col.text("appel à projets", width="large"),
        "financement": col.euros("financement", width="medium"),
        "grappes": col.integer("grappes"),
        "valides": col.integer("grappes valides"),
        "places": col.integer("ESMS placés"),
        "champ": col.integer("ESMS du champ"),
        "part": col.percent("part placée"),
        "points": col.integer("points grille"),
    })
