"""The planner's page in ``AppTest``: a new visitor (:func:`new_visitor`), and one of its
tabs opened (:func:`open_tab`). The tabs are lazy (``grappes.ui.navigation``), only the
open one is built, so a test opens the tab whose widgets it uses, as a user clicks it."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from grappes.ui import navigation

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 300


def new_visitor(tab: str | None = None) -> AppTest:
    """A new visitor's page once their browser has painted the first run (with ``tab``,
    arriving by a link naming that tab, « ?onglet=… »). The first run of the « Proposition »
    tab draws the headline figures alone; the browser's signal reruns the page, which is
    drawn whole (``grappes.ui.afterpaint.first_glance``): the second run here."""
    test = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if tab is not None:
        test.query_params[navigation.TAB_KEY] = tab
    test.run()
    assert not test.exception, test.exception
    test.run()
    assert not test.exception, test.exception
    return test


def open_tab(at: AppTest, label: str) -> AppTest:
    """Click the tab ``label`` (one of ``navigation.TABS``) and rerun the page."""
    assert label in navigation.TABS, label
    at.session_state[navigation.TAB_KEY] = label
    at.run()
    assert not at.exception, at.exception
    return at
