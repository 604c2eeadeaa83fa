"""grappes — the Streamlit app: data, proposal map and table, partner finder, what-if, the ARS
envelope, a comparison of the calls, exports.

Run with ``streamlit run app.py``. This file only wires the page together; each part lives in
``grappes.ui`` (``datapanel``: sidebar, loading, file check; ``proposalstate``: the proposal
and its edits in the session; ``tab_*``: one module per tab) over the library
(``grappes.solver.propose``, ``grappes.scenarios``, ``grappes.exports``). It opens on the
bundled synthetic sample region.
"""

from __future__ import annotations

import streamlit as st

from grappes.ui import afterpaint, deferred, navigation, scenfile
from grappes.ui.datapanel import (
    champ_choices,
    check_panel,
    first_screen,
    load_data,
    sample_chosen,
    sidebar,
    territory_and_field,
)
from grappes.ui.page import dress_in_french
from grappes.ui.proposalstate import report_with_progress, scenario_for, show_edit_errors
from grappes.ui.tab_compare import compare_tab
from grappes.ui.tab_envelope import envelope_tab
from grappes.ui.tab_exports import exports_tab, scenario_file_panel
from grappes.ui.tab_partners import partners_tab
from grappes.ui.tab_proposal import headline_figures, proposal_tab
from grappes.ui.tab_whatif import whatif_fragment


def main() -> None:
    """Sidebar → data → file check → territory → proposal → scenario → tabs.

    A new visitor's first run draws the headline figures alone; the whole page follows once
    the browser has painted them (``grappes.ui.afterpaint``). In every other run, what a
    visitor does not need first (the folded « Comment ça marche » and file-check panels,
    the solver settings, the map) keeps its place but is drawn at the end of the run
    (``grappes.ui.deferred``): the headline figures come right after the sidebar's choices."""
    st.set_page_config(page_title="grappes — ESMS numérique", layout="wide")
    dress_in_french()
    st.title("grappes — former des grappes d'ESMS pour ESMS numérique")
    deferred.start()
    try:
        page()
    finally:  # also after st.stop(): the kept places are filled
        deferred.finish()


def page() -> None:
    show_edit_errors()
    navigation.keep_choices()
    # a new visitor's first run: the headline figures alone, the rest once they are
    # painted (grappes.ui.afterpaint.first_glance)
    glance = afterpaint.first_glance(navigation.requested_tab(), sample_chosen())
    choice = sidebar(glance)
    deferred.placed(lambda: first_screen(expanded=choice.waiting_for_upload))
    loaded = load_data(choice)
    if loaded is None:
        return
    data_key, result = loaded
    deferred.placed(lambda: check_panel(result, data_key))
    view = territory_and_field(result, choice.rules, glance)
    report = report_with_progress(data_key, result, view)
    if report is None:
        if glance:  # the message is shown; the sidebar's choices follow, to change them
            afterpaint.then_the_rest()
        return
    scenario = scenario_for(scenfile.report_key(data_key, view), report)
    if scenario.current is None:
        scenario.evaluate()
    tab, place = navigation.open_tab()  # lazy: only the open tab is built
    with place:
        if glance:  # the places kept above stay empty until the next run
            headline_figures(scenario)
            afterpaint.then_the_rest()
            deferred.drop()
        elif tab == navigation.PROPOSAL:
            proposal_tab(scenario, report)
        elif tab == navigation.PARTNERS:
            partners_tab(scenario, report, champ_choices(result, view.rules))
        elif tab == navigation.WHATIF:
            whatif_fragment()  # an edit reruns this tab only
        elif tab == navigation.ENVELOPE:
            envelope_tab(scenario, view.rules)
        elif tab == navigation.COMPARE:
            compare_tab(data_key, result, view)
        else:
            exports_tab(scenario)
            scenario_file_panel(scenario, data_key, result)


if __name__ == "__main__":
    main()
