"""Draw a heavy element once the browser has painted the page around it (the map).

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
  requestAnimationFrame(() => requestAnimationFrame(() => setTriggerValue("peint", true)));
}
"""

_signal = st.components.v2.component(
    "grappes_apres_affichage", js=_SIGNAL_JS, isolate_styles=False)


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


def _mark(key: str) -> None:
    st.session_state[painted_key(key)] = True


@st.fragment
def _wait_then_draw(draw: Callable[[], None], key: str, waiting: str) -> None:
    if not st.session_state.get(painted_key(key)):
        _signal(key=f"_signal_{key}", on_peint_change=lambda: _mark(key))
        st.caption(waiting)
        return
    draw()
