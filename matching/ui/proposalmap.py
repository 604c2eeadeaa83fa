"""The proposal's map in the page (offline, swatch legend), shared by the proposal tab and the
partner finder; the map itself is drawn by ``matching.ui.mapview``."""

from __future__ import annotations

from typing import Any

import streamlit as st

from matching.ui.store import grouping_version, session_memo
from matching.ui.views import og_labels


def proposal_map(scenario: Any, report: Any, highlight: str | None, key: str,
                 height: int = 520) -> None:
    """The map (offline, swatch legend) with the picked grappe outlined and zoomed to."""
    from matching.ui.mapview import build_map

    evaluation = scenario.current
    porteurs = {gid: c.porteur for gid, c in evaluation.costs.items()}
    names = og_labels(scenario.etab)
    labels = {gid: names.get(p, p) for gid, p in porteurs.items()}
    champs = [report.champ] if report.champ else None
    drawn = scenario.etab[~scenario.etab["finess_et"].isin(
        list(scenario.out_of_scope)).to_numpy()]
    pmap = session_memo(f"map_{key}", (grouping_version(scenario), highlight), lambda: build_map(
        drawn, scenario.assignment, porteurs, champs, height=height, highlight=highlight,
        grappe_labels=labels))
    left, right = st.columns([3, 1])
    left.pydeck_chart(pmap.deck, height=height, key=key)
    right.markdown(pmap.legend, unsafe_allow_html=True)

