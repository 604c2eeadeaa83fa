"""The planner's lazy tabs (issue 20, item 9: a second visitor ≤ 1.5 s to the figures): only
the open tab is built, the first screen is still the headline figures and the grappes
table, the open tab is kept in the page address, and a tab's choices survive a visit to
another tab (``grappes.ui.navigation``)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from grappes.ui import navigation
from tests.app_tabs import new_visitor, open_tab

fresh = new_visitor


def keys(at: AppTest) -> set[str]:
    """The keys of the widgets the run built (buttons, inputs, downloads...)."""
    found = {w.key for w in at.get("button")} | {w.key for w in at.get("download_button")}
    for kind in ("text_input", "selectbox", "multiselect", "slider", "checkbox"):
        found |= {w.key for w in at.get(kind)}
    return {k for k in found if k}


def test_first_screen_is_the_proposal_only():
    at = fresh()
    assert [t.label for t in at.tabs] == list(navigation.TABS)
    labels = [m.label for m in at.metric]
    assert "Grappes valides" in labels and "Financement" in labels
    table = next(d.value for d in at.dataframe if "detail" in d.value.columns)
    assert sorted(table["grappe"]) == at.session_state["scenario"].grappe_ids
    built = keys(at)
    assert "detail_grappe" in built
    # the other tabs' widgets are not built: nothing for the browser to draw
    assert not built & {"partner_query", "lock_ogs", "exclude_et", "env_amount",
                        "compare_btn", "dl_grappes.csv", "dl_scenario"}, built


@pytest.mark.parametrize(("tab", "own", "absent"), [
    (navigation.EXPORTS, "dl_grappes.csv", "detail_grappe"),
    (navigation.WHATIF, "exclude_et", "dl_grappes.csv"),
])
def test_a_link_opens_its_tab(tab, own, absent):
    """A reload or a copied address (« ?onglet=Exports ») opens the same tab, built alone."""
    at = fresh(tab)
    assert at.session_state[navigation.TAB_KEY] == tab
    built = keys(at)
    assert own in built and absent not in built, built
    assert not [m for m in at.metric if m.label == "Grappes valides"]


def test_an_unknown_tab_in_the_address_opens_the_proposal():
    at = fresh("Onglet disparu")
    assert at.session_state[navigation.TAB_KEY] == navigation.PROPOSAL
    assert any(m.label == "Grappes valides" for m in at.metric)


def test_choices_survive_a_visit_to_another_tab():
    at = fresh()
    ids = at.session_state["scenario"].grappe_ids
    at.selectbox(key="detail_grappe").set_value(ids[1]).run()
    open_tab(at, navigation.PARTNERS).text_input(key="partner_query").input("Vierzon").run()
    open_tab(at, navigation.WHATIF).selectbox(key="move_to").set_value(ids[0]).run()
    open_tab(at, navigation.EXPORTS)
    assert "detail_grappe" not in keys(at)  # not drawn, yet kept
    open_tab(at, navigation.PROPOSAL)
    assert at.selectbox(key="detail_grappe").value == ids[1]
    assert open_tab(at, navigation.PARTNERS).text_input(key="partner_query").value == "Vierzon"
    assert open_tab(at, navigation.WHATIF).selectbox(key="move_to").value == ids[0]


def test_a_partner_added_from_its_tab_is_reported_on_the_page():
    """The message of an ESMS added from a partner panel is shown at the top of the page,
    in the tab where the click was made, with names, not numbers."""
    at = open_tab(fresh(), navigation.PARTNERS)
    scenario = at.session_state["scenario"]
    etab = scenario.etab
    alone = etab[(etab["champ"] == "PA") & etab["autonome"].astype(bool)]
    target = sorted(set(alone["finess_et"]) - set(scenario.assignment) - scenario.set_aside)[0]
    at.text_input(key="partner_query").input(target).run()
    add = next(b for b in at.button if b.label.startswith(("Ajouter ", "Former ")))
    assert not add.disabled
    add.click().run()
    assert not at.exception, at.exception
    assert at.session_state[navigation.TAB_KEY] == navigation.PARTNERS
    assert len(at.session_state["scenario"].history) >= 1
    told = [s.value for s in at.success if " ajouté : " in s.value]
    assert len(told) == 1 and target in told[0], [s.value for s in at.success]
    assert "OG 1" not in told[0] and "OG 3" not in told[0]  # OGs named, not numbered
    at.run()  # said once
    assert not [s for s in at.success if " ajouté : " in s.value]
