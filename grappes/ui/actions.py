"""Action buttons that make exactly the edit their label names, once.

Why: a button that stays on screen after its edit, with a selection that slid to the next row,
made a second edit nobody chose (issue 20: a double click on « l'ajouter à cette grappe »
moved two ESMS). Three guards, one home:

- every action button's key carries the session's *edit serial* and its target
  (``action_key``): once an edit is applied the serial changes, so a second click on the old
  button (a double click, a click queued while the page reran) names a button that no longer
  exists and Streamlit drops it;
- the label names the ESMS or OG and the grappe the edit acts on (built by the caller);
- after an edit the selections that chose its target are cleared (in the callback,
  ``proposalstate.edit_button``): the next edit starts from an empty choice, never from the
  row that slid into place.

The edit itself runs in the button's callback (``on_click``): Streamlit runs callbacks
before the page and keeps what they write even when a second click stops the run that
follows, whereas values a *stopped* run assigned in ``st.session_state`` are dropped (an edit
applied by the page body was then half kept: the scenario changed, its log entry lost). The
callback also checks the serial it was drawn with, so a click queued on an old button is a
no-op.
"""

from __future__ import annotations

import hashlib
from collections.abc import MutableMapping
from typing import Any

import streamlit as st

SERIAL = "edit_serial"


def commit(state: MutableMapping[str, Any] | None = None, **values: Any) -> None:
    """Write these values in the session (from a callback, or before any widget)."""
    state = st.session_state if state is None else state
    for key, value in values.items():
        state[key] = value


def serial() -> int:
    """The number of changes applied in this session (edits, undos, resets)."""
    return int(st.session_state.get(SERIAL, 0))


def action_key(name: str, *target: Any) -> str:
    """The key of an action button: its name, the edit serial and a digest of its target."""
    digest = hashlib.sha1("|".join(map(str, target)).encode()).hexdigest()[:10]
    return f"act_{name}_{serial()}_{digest}"


