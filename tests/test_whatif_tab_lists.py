"""The « Et si… » tab's lists, read from the scenario's table once per table (issue 20,
item 9: a what-if edit ≤ 0.5 s): the OGs that can take part follow the edits (an OG whose
ESMS are all excluded leaves the list), the names are those of the table."""

from __future__ import annotations

from test_app_factory import region

from grappes.exports.naming import esms_labels, og_labels
from grappes.scenarios.whatif import WhatIf


def lists(scenario: WhatIf) -> tuple[list[str], dict[str, str], dict[str, str], bool]:
    """``scope_ogs`` and the names (Streamlit's session without a page: bare mode), the
    second read from the memo."""
    from grappes.ui.tab_whatif import scope_ogs, table_rows

    _, names, labels = table_rows(scenario)
    return scope_ogs(scenario), names, labels, table_rows(scenario)[1] is names


def field_ogs(etab, champs: set[str], out: set[str]) -> list[str]:
    """The definition, read straight from the table."""
    rows = etab[etab["champ"].isin(list(champs)) & ~etab["finess_et"].isin(list(out))]
    return sorted(set(rows["finess_ej"].astype(str)) - {""})


def test_the_ogs_of_the_field_follow_the_exclusions():
    r = region()
    scenario = WhatIf.from_grappes(r.etab, r.rules, r.grappes, champ="PA")
    ogs, names, labels, memo = lists(scenario)
    assert ogs == field_ogs(r.etab, {"PA"}, set(scenario.set_aside)) and ogs
    assert names == og_labels(r.etab) and labels == esms_labels(r.etab)
    assert memo  # read once per table
    pa = r.etab[r.etab["champ"] == "PA"]
    og = min(ogs, key=lambda o: (int((pa["finess_ej"] == o).sum()), o))  # fewest ESMS
    scenario = scenario.copy()
    for et in pa.loc[pa["finess_ej"] == og, "finess_et"]:
        if et in scenario.assignment:
            scenario.exclude_esms(et)
    out = set(scenario.set_aside) | set(scenario.constraints.excluded_esms)
    after, *_ = lists(scenario)
    assert after == field_ogs(r.etab, {"PA"}, out)
    assert og not in after or set(pa.loc[pa["finess_ej"] == og, "finess_et"]) - out


def test_every_eligible_field_when_no_field_is_chosen():
    r = region()
    scenario = WhatIf.from_grappes(r.etab, r.rules, r.grappes, champ=None)
    ogs, *_ = lists(scenario)
    eligible = set(r.rules.grouping.eligible_champs)
    assert ogs == field_ogs(r.etab, eligible, set(scenario.set_aside)) and ogs
