"""Draw what can wait once the browser has painted what cannot: the planner's page after its
headline figures (:func:`first_glance`), the map after the page.

Why (issue 20, item 9): when the map's JSON arrives, a new visitor's browser fetches,
parses and starts deck.gl and its base map (3 MB of script, then WebGL, in software on a
computer without a graphics card), and Streamlit reveals the elements of a run together:
the headline figures waited for the map. Measured with ``bench/profile_visit.py`` on a
quiet machine (new browser, warm server, median of 3): figures painted at 2.85 s with the
map in the first run, 2.08 s with it drawn after the first paint.

The map's place first holds a short line and an invisible signal: a custom component
(``st.components.v2``) whose script runs once the browser has drawn it, waits two animation
frames (the page painted) and sends a trigger. The trigger's callback marks the session,
then only this place reruns (an ``st.fragment``) and draws the map. Later runs of the
session (a picked grappe, another tab and back) draw it at once. The mark is set by the
callback, which runs before any script: a click that interrupts that rerun still finds
the map drawn by the next one.

The page itself (issue 20, item 9, a second visitor ≤ 1.5 s to the figures): a new
visitor's browser fetches and starts the code of every kind of element the first run
sends (selectboxes, tables, expanders...), and Streamlit reveals a run's elements
together. New visitors taken in turn (load 1.9–3.3, medians of 6): the whole first screen
at once, figures at 2.03 s; the figures alone first (title, tab bar, figures), 1.32 s,
against 1.31 s for the smallest Streamlit page with figures (``bench/ab_visitors.py``
compares checkouts so; ``bench/bench_app.py``, quiet: 1.18 s, floor 1.24 s). So a new
visitor's first run of the « Proposition » tab draws the figures alone and this signal,
outside any fragment: its trigger reruns the whole page, which draws the rest (sidebar,
tables, panels; the map after the next paint). The glance marks the session itself, so
that any next run (the signal's, or a click) draws the whole page.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

#: one trigger per drawn signal: after two animation frames (the page painted)
_SIGNAL_JS = """
export default function ({ parentElement, setTriggerValue }) {
  const host = parentElement.host || parentElement;
  if (host.dataset.grappesPainted) { return; }
  host.dataset.grappesPainted = "1";
  let sent = false;
  const send = () => { if (!sent) { sent = true; setTriggerValue("peint", true); } };
  requestAnimationFrame(() => requestAnimationFrame(send));
  // a page opened in a background tab gets no animation frame until it is shown
  setTimeout(send, 1000);
}
"""

_signal = st.components.v2.component(
    "grappes_apres_affichage", js=_SIGNAL_JS, isolate_styles=False)


#: the planner's page (:func:`first_glance`)
PAGE = "page"


def painted_key(key: str) -> str:
    """The session-state flag saying that this session's browser painted ``key``'s page."""
    return f"_peint_{key}"


def after_paint(draw: Callable[[], None], key: str, waiting: str) -> None:
    """``draw()`` here, once this session's browser has painted the page (at once after
    the first time); meanwhile ``waiting`` is shown in its place."""
    if st.session_state.get(painted_key(key)):
        draw()
        return
    _wait_then_draw(draw, key, waiting)


def first_glance(tab: str, source_is_sample: bool) -> bool:
    """This run is a new visitor's first of the « Proposition » tab on the sample: it draws
    the headline figures and :func:`then_the_rest`, nothing else (the sidebar's choices are
    their defaults; an upload needs the sidebar's file fields at once). Once per session:
    the next run draws the whole page, whether the browser's signal or a click asks for it
    (a browser that never sends the signal is never stuck on the figures)."""
    from grappes.ui.navigation import PROPOSAL

    if tab != PROPOSAL or not source_is_sample or st.session_state.get(painted_key(PAGE)):
        return False
    _mark(PAGE)
    return True


def then_the_rest() -> None:
    """The signal of a first glance: once painted, the whole page reruns and draws all."""
    _signal(key=f"_signal_{PAGE}", on_peint_change=lambda: None)


def _mark(key: str) -> None:
    st.session_state[painted_key(key)] = True


@st.fragment
def _wait_then_draw(draw: Callable[[], None], key: str, waiting: str) -> None:
    if not st.session_state.get(painted_key(key)):
        _signal(key=f"_signal_{key}", on_peint_change=lambda: _mark(key))
        st.caption(waiting)
        return
    draw()
