"""The proposal's map in the page (offline, swatch legend), shared by the proposal tab and the
partner finder; the map itself is drawn by ``grappes.ui.mapview``."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from grappes.exports.naming import og_labels
from grappes.ui.store import cached, grouping_version, session_memo


class SerialisedDeck:
    """A pydeck deck turned into compact JSON once (issue 20's warm start).

    ``st.pydeck_chart`` serialises the deck it is given on every run (0.4 s for the sample
    région's map), indented by two spaces: 545 kB sent to every visitor, the largest
    message of the page, which the browser parses before it draws the grappes table. The
    same JSON without the indentation is 267 kB, and a map shared by the visitors of a view
    is serialised once. Streamlit reads only ``to_json()``, the tooltip and the layers (for
    pandas DataFrames, none here)."""

    def __init__(self, deck: Any) -> None:
        self._json = json.dumps(json.loads(deck.to_json()), separators=(",", ":"),
                                ensure_ascii=False)
        self._tooltip = getattr(deck, "_tooltip", None)
        self.layers = None  # already serialised: nothing for Streamlit to prepare
        self.mapbox_key = getattr(deck, "mapbox_key", None)

    def to_json(self) -> str:
        return self._json


def map_fingerprint(drawn: Any, scenario: Any, labels: dict[str, str]) -> str:
    """What the map is drawn from (points, grouping, porteurs' names), as a short hash: two
    sessions showing the same unedited proposal share one map."""
    import hashlib

    import pandas as pd

    digest = hashlib.sha256()
    points = drawn[["finess_et", "lon", "lat"]] if {"lon", "lat"} <= set(drawn.columns) \
        else drawn[["finess_et"]]
    digest.update(pd.util.hash_pandas_object(points, index=False).to_numpy().tobytes())
    digest.update(repr(sorted(scenario.assignment.items())).encode("utf-8"))
    digest.update(repr(sorted(labels.items())).encode("utf-8"))
    return digest.hexdigest()[:24]


def proposal_map(scenario: Any, report: Any, highlight: str | None, key: str,
                 height: int = 520) -> None:
    """The map (offline, swatch legend) with the picked grappe outlined and zoomed to."""
    from grappes.ui.mapview import build_map

    evaluation = scenario.current
    porteurs = {gid: c.porteur for gid, c in evaluation.costs.items()}
    names = og_labels(scenario.etab)
    labels = {gid: names.get(p, p) for gid, p in porteurs.items()}
    champs = [report.champ] if report.champ else None
    drawn = scenario.etab[~scenario.etab["finess_et"].isin(
        list(scenario.out_of_scope)).to_numpy()]
    def build() -> tuple[Any, SerialisedDeck]:
        pmap = build_map(drawn, scenario.assignment, porteurs, champs, height=height,
                         highlight=highlight, grappe_labels=labels)
        return pmap, SerialisedDeck(pmap.deck)

    if scenario.history:  # an edited proposal: this session's own map
        pmap, deck = session_memo(f"map_{key}", (grouping_version(scenario), highlight), build)
    else:  # the proposal as computed: one map for every visitor of the same view
        pmap, deck = cached(
            f"map|{key}|{highlight}|{height}|{map_fingerprint(drawn, scenario, labels)}", build)
    left, right = st.columns([3, 1])
    left.pydeck_chart(deck, height=height, key=key)
    right.markdown(pmap.legend, unsafe_allow_html=True)

