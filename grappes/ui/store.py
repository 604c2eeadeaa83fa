"""Caching for the app: a process-wide store of expensive results, and per-session memos.

Why not ``st.cache_data`` alone: the proposal's computation updates a progress bar created by
the page, which Streamlit's cache would replay; a small LRU keyed by the inputs (shared by all
sessions, like ``st.cache_resource``) runs the computation once and lets it draw its progress.
Downloads read from here too, keyed by the scenario's version, so a file is built on the
click and never served from a deferred media file that may have expired.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import streamlit as st


@st.cache_resource(show_spinner=False)
def _store() -> dict[str, Any]:
    """Process-wide store (shared by sessions): results keyed by their inputs."""
    return {"lock": threading.Lock(), "items": OrderedDict()}


def cached(key: str, compute: Callable[[], Any], max_items: int = 48) -> Any:
    """``compute()`` once per key (a small LRU: a view keeps up to three entries, its
    report, its evaluated what-if start and its ``Scenario``)."""
    store = _store()
    with store["lock"]:
        if key in store["items"]:
            store["items"].move_to_end(key)
            return store["items"][key]
    value = compute()
    with store["lock"]:
        store["items"][key] = value
        while len(store["items"]) > max_items:
            store["items"].popitem(last=False)
    return value


def holds(key: str) -> bool:
    """The store has ``key``'s value (a page draws no progress bar for it)."""
    store = _store()
    with store["lock"]:
        return key in store["items"]


def session_memo(name: str, key: Any, compute: Callable[[], Any]) -> Any:
    """Keep the last value of ``compute()`` per name in the session while ``key`` is unchanged
    (the map and the partner list are rebuilt only when the grouping or the query changes)."""
    memo = st.session_state.setdefault("_memo", {})
    if name not in memo or memo[name][0] != key:
        memo[name] = (key, compute())
    return memo[name][1]


def grouping_version(scenario: Any) -> tuple[int, int]:
    """Changes whenever the scenario object or its edits change."""
    return id(scenario), len(scenario.history)
