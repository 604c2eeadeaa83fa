"""The « Comparer les appels » tab: one proposal per rule set for the same view, side by side
(``grappes.ui.compare``)."""

from __future__ import annotations

import streamlit as st

from grappes.core.model import LoadResult
from grappes.scenarios.view import View
from grappes.ui.proposalstate import compute_report


def compare_tab(data_key: str, result: LoadResult, view: View) -> None:
    from grappes.programme.rules import available_rules
    from grappes.ui.compare import compare_rules

    st.markdown("Les appels à projets côte à côte pour le même territoire et le même champ : "
                "une proposition par jeu de règles, lue avec les mêmes définitions.")
    if not st.button("Comparer les appels", key="compare_btn") and not st.session_state.get(
            "compare_on"):
        st.caption("Une proposition par appel : quelques secondes chacune la première fois.")
        return
    st.session_state["compare_on"] = True
    with st.spinner("Propositions pour chaque appel…"):
        table = compare_rules(available_rules(), lambda name: compute_report(
            data_key, result, view.with_rules(name)))
    table.show("compare_table")

