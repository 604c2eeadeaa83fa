"""The planner's tabs, lazy: only the open tab is built and sent to the browser.

Why (issue 20, item 9, a second visitor ≤ 1.5 s to the figures): with plain ``st.tabs`` every
tab's elements were built on the server and drawn by the browser at each run, the hidden
ones included (the partner finder, the what-if selectors, the envelope form, the CSV
downloads' bytes...): on a loaded machine the browser spent seconds on elements nobody
looked at. ``st.tabs(..., bind="query-params")`` tracks the open tab, reruns the page when
another one is clicked, and keeps the open tab in the page address (« ?onglet=Exports »):
a reload or a copied link opens the same tab.

A widget Streamlit does not draw in a run loses its value; the choices a user makes in a
tab (the grappe shown in detail, the searched ESMS, the envelope typed...) are kept while
another tab is open by :func:`keep_choices`, so coming back finds them as they were left.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import streamlit as st

PROPOSAL = "Proposition"
PARTNERS = "Trouver des partenaires"
WHATIF = "Et si…"
ENVELOPE = "Enveloppe ARS"
COMPARE = "Comparer les appels"
EXPORTS = "Exports"
#: the tabs in page order; the labels are also the address's values (« ?onglet=Exports »)
TABS = (PROPOSAL, PARTNERS, WHATIF, ENVELOPE, COMPARE, EXPORTS)
#: the session key and the page address's parameter naming the open tab
TAB_KEY = "onglet"

#: the widgets whose choice survives a visit to another tab (widgets drawn in a tab, with
#: a fixed key); dynamic keys (a grid's selection keyed on the edit serial, a grappe's
#: checkboxes) are left out on purpose: they belong to one state of the proposal
KEPT_CHOICES = (
    # Proposition
    "detail_grappe",
    # Trouver des partenaires (and Mon OG)
    "partner_query", "partner_esms", "partner_top", "my_og_query", "my_og_pick",
    # Et si…
    "lock_ogs", "apart_a", "apart_b", "move_og", "move_to", "exclude_et",
    "porteur_grappe", "porteur_og", "declare_grappe",
    # Enveloppe ARS
    "env_amount", "env_windows", "env_mode", "env_forced", "env_excluded", "env_motif",
)


def keep_choices() -> None:
    """Keep the tabs' choices for the next runs, drawn or not (call once per run, before
    the tabs). Writing a widget's value back through the Session State API makes it a
    value Streamlit keeps when the widget is not drawn, and gives it back to the widget
    when it is drawn again (Streamlit's documented way to keep a value across pages)."""
    state = st.session_state
    for key in KEPT_CHOICES:
        if key in state:
            state[key] = state[key]


def lazy_tabs(labels: Sequence[str], key: str, **tracking: Any) -> tuple[str, Any]:
    """A tracked tab bar (the planner's, the registry's): only the open tab is to be
    built. Returns the open tab's label and its container; ``tracking`` says how a click
    reruns the page (``bind="query-params"`` keeps the tab in the address, or
    ``on_change="rerun"``). A test opens a tab by setting ``st.session_state[key]`` to its
    label, as a click does."""
    tabs = st.tabs(list(labels), key=key, **tracking)
    for label, tab in zip(labels, tabs, strict=True):
        if tab.open:
            return label, tab
    return labels[0], tabs[0]  # not reached: a tracked tab bar has one open tab


def requested_tab() -> str:
    """The tab this run will open, before the tab bar is drawn: the one clicked (kept in the
    session), else the one named in the page address, else « Proposition »."""
    tab = st.session_state.get(TAB_KEY) or st.query_params.get(TAB_KEY) or PROPOSAL
    return tab if tab in TABS else PROPOSAL


def open_tab() -> tuple[str, Any]:
    """Draw the planner's tab bar (kept in the page address); returns the open tab's
    label and its container (the only one the page fills). The first screen is the
    « Proposition » tab: the headline figures and the grappes table."""
    return lazy_tabs(TABS, TAB_KEY, bind="query-params", default=PROPOSAL)


@contextmanager
def lazy_expander(label: str, key: str, expanded: bool = False) -> Iterator[bool]:
    """A folded panel whose content is built only while it is open: ``with
    lazy_expander(...) as opened: if opened: ...``. A click on its title reruns the page.

    Why (issue 20, item 9): Streamlit draws a folded expander's content in the browser all
    the same; on the planner's first screen the file check (five metrics, two tables,
    alerts), « Comment ça marche ? » and a grappe's reasons were 24 of the 57 elements a new
    visitor's browser had to build before the headline figures showed. A test opens one by
    setting ``st.session_state[key] = True``, as a click does."""
    with st.expander(label, expanded=expanded, key=key, on_change="rerun") as box:
        yield bool(box.open)
