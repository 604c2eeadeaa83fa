"""Open one of the planner's tabs in an ``AppTest`` page: the tabs are lazy
(``grappes.ui.navigation``), only the open one is built, so a test opens the tab whose
widgets it uses, as a user clicks it."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from grappes.ui import navigation


def open_tab(at: AppTest, label: str) -> AppTest:
    """Click the tab ``label`` (one of ``navigation.TABS``) and rerun the page."""
    assert label in navigation.TABS, label
    at.session_state[navigation.TAB_KEY] = label
    at.run()
    assert not at.exception, at.exception
    return at
