"""Elements drawn at the end of the page's run, into a place kept for them earlier.

Why (issue 20, warm start): a second visitor's server run takes about a second, so the map
(a 267 kB deck.gl JSON) reached the browser right after the grappes table, and the browser
spent its time starting deck.gl (software WebGL on a server without GPU) before drawing the
table: the figures and the table were visible after 6.9 s, against 3.5 s when the map is
sent last (same machine, load 4). The map keeps its place above the table (an
``st.container`` made first) and is filled in after every tab has been sent.

The same holds for what a new visitor does not need first: the folded « Comment ça marche »
and file-check panels and the sidebar's solver settings (:func:`placed`). The browser
fetches the code of each kind of element (selectbox, metric, table, map...) from the server
when the first one arrives, while the server is still running the page (issue 20, item 9:
a 10 kB chunk took 2 s then on a loaded machine); what comes before the headline figures
decides how many of those fetches the figures wait behind.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

_KEY = "_deferred_draws"


def start() -> None:
    """A new run: later draws are kept until :func:`finish` (a run stopped midway by a
    click leaves none behind: the next run starts empty)."""
    st.session_state[_KEY] = []


def later(draw: Callable[[], None]) -> None:
    """Draw at the end of the run; at once when no run keeps draws (a page without
    :func:`start`), so nothing is ever lost."""
    pending = st.session_state.get(_KEY)
    if isinstance(pending, list):
        pending.append(draw)
    else:
        draw()


def placed(draw: Callable[[], None], where: Any = None) -> None:
    """Keep a place here (in ``where``, e.g. ``st.sidebar``, else the current container)
    and fill it with ``draw()`` at the end of the run (:func:`later`)."""
    slot = (where if where is not None else st).container()

    def fill() -> None:
        with slot:
            draw()

    later(fill)


def drop() -> None:
    """Forget what was kept: its places stay empty this run (a first glance,
    ``grappes.ui.afterpaint.first_glance``: the next run fills them)."""
    st.session_state[_KEY] = []


def finish() -> None:
    """Draw what was kept, in order."""
    for draw in st.session_state.pop(_KEY, None) or []:
        draw()
