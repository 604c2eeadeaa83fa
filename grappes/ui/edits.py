"""The what-if edits as a replayable log, and its compact text form for the page's address.

Why a log: a page reload starts a new Streamlit session and loses ``st.session_state``. The
edits are kept in the address instead (``st.query_params["modifs"]``): a reload, a bookmark
or a link sent to a colleague opens the same grouping, with no file left on the server and
nothing shared between users. Replaying the log on the (cached, deterministic) proposal gives
back the same grappes and amounts. The log is tied to the proposal it was made on by a short
key (``proposal_tag``): a log made for another territory, field or rule set is ignored.

Each entry is a small dict: ``{"op": "lock", "ogs": [...]}``, ``{"op": "apart", "a", "b"}``,
``{"op": "move", "og", "to"}``, ``{"op": "exclude", "et"}``, ``{"op": "porteur", "g", "og"}``,
``{"op": "declare", "g", "c": {code: bool}}``, ``{"op": "rerun", "seed", "t"}``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from typing import Any

#: the edit operations a log may hold
OPS: tuple[str, ...] = ("lock", "apart", "move", "exclude", "porteur", "declare", "rerun")


def proposal_tag(report_key: str) -> str:
    """A short key of the proposal a log belongs to."""
    return hashlib.sha1(report_key.encode()).hexdigest()[:10]


def encode(log: list[dict[str, Any]], tag: str) -> str:
    """The log as URL-safe text (compressed JSON)."""
    raw = json.dumps({"p": tag, "e": log}, ensure_ascii=False, separators=(",", ":"),
                     sort_keys=True).encode()
    return base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


def decode(text: str | None, tag: str) -> list[dict[str, Any]]:
    """The log from its text, or ``[]`` when absent, unreadable or made on another proposal."""
    if not text:
        return []
    try:
        raw = zlib.decompress(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        data = json.loads(raw)
    except (ValueError, zlib.error):
        return []
    if not isinstance(data, dict) or data.get("p") != tag or not isinstance(data.get("e"), list):
        return []
    return [e for e in data["e"] if isinstance(e, dict) and e.get("op") in OPS]


def apply(scenario: Any, edit: dict[str, Any]) -> None:
    """Apply one logged edit to a ``WhatIf`` (raises ``ValueError`` in French if it no longer
    fits, e.g. an OG that left the file)."""
    op = edit["op"]
    if op == "lock":
        scenario.lock_together(list(edit["ogs"]))
    elif op == "apart":
        scenario.keep_apart(edit["a"], edit["b"])
    elif op == "move":
        scenario.move_og(edit["og"], edit["to"], champ=scenario.champ)
    elif op == "exclude":
        scenario.exclude_esms(edit["et"])
    elif op == "porteur":
        scenario.set_porteur(edit["g"], edit["og"])
    elif op == "declare":
        scenario.declare(edit["g"], {str(k): bool(v) for k, v in edit["c"].items()})
    elif op == "rerun":
        scenario.rerun(seed=int(edit["seed"]), time_limit=float(edit["t"]))


def replay(scenario: Any, log: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """Apply the log in order; returns the edits kept and a French message per edit dropped."""
    kept, dropped = [], []
    for edit in log:
        try:
            apply(scenario, edit)
        except (ValueError, KeyError, TypeError) as exc:
            dropped.append(f"Modification « {edit.get('op')} » non rejouée : {exc}")
            continue
        kept.append(edit)
    return kept, dropped
