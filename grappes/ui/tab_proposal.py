"""The « Proposition » tab: headline figures, the map, the grappes table, one grappe's detail,
and the ESMS without a grappe (a picked row opens its partner finder in place)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from grappes.core.formatting import decimal_fr, euros
from grappes.exports.naming import og_labels, with_names
from grappes.ui import actions, deferred, scenfile
from grappes.ui.afterpaint import after_paint
from grappes.ui.navigation import lazy_expander
from grappes.ui.proposalmap import proposal_map
from grappes.ui.proposalstate import shown_scenario, view_memo
from grappes.ui.store import grouping_version, session_memo
from grappes.ui.tab_partners import partner_panel
from grappes.ui.views import (
    counts,
    funding_view,
    grappes_view,
    headline,
    members_view,
    points_text,
    unplaced_view,
)


def headline_figures(scenario: Any) -> dict[str, Any]:
    """The five headline figures and what « placés » means; returns the totals."""
    totals = scenario.current.totals
    n = counts(scenario)
    for column, m in zip(st.columns(5), headline(totals, n), strict=True):
        column.metric(m.label, m.value, delta=m.delta, help=m.help)
    st.caption(n.definition)
    return totals


def proposal_tab(scenario: Any, report: Any) -> None:
    data = shown_scenario(scenario)
    totals = headline_figures(scenario)
    if totals.get("financement_invalides"):
        st.warning(f"Grappes invalides, hors total : "
                   f"{euros(totals['financement_invalides'])} (détail dans le tableau).")
    loaded_from = st.session_state.get(scenfile.FROM_FILE)
    if loaded_from:
        st.info(f"Scénario chargé depuis « {loaded_from} » ({len(scenario.history)} "
                "modification(s)) ; un rechargement de la page revient à la proposition : "
                "enregistrez le scénario (onglet « Exports ») pour garder vos modifications.")
    elif scenario.history:
        st.info(f"Proposition modifiée ({len(scenario.history)} modification(s), onglet "
                "« Et si… ») ; les modifications sont gardées dans l'adresse de la page.")
    for text in st.session_state.get("replay_dropped", []):
        st.warning(text)
    ids = [g.id for g in data.grappes]
    gid = st.session_state.get("detail_grappe") if st.session_state.get(
        "detail_grappe") in ids else None
    # the map's place comes first on the page, but it is drawn at the end of the run
    # (grappes.ui.deferred): the figures and the table reach the browser, and are drawn,
    # before the map's JSON arrives and deck.gl starts
    map_slot = st.container()
    st.subheader("Grappes")
    view_memo("grappes_view", scenario, lambda: grappes_view(data)).show("grappes_table")

    def draw_map() -> None:
        with map_slot:  # once the figures and tables are painted (grappes.ui.afterpaint)
            after_paint(lambda: proposal_map(scenario, report, gid, "carte"), "carte",
                        "Carte en cours d'affichage…")

    deferred.later(draw_map)
    if ids:
        grappe_detail(data, scenario, ids)
    st.subheader("ESMS sans grappe")
    unplaced_section(data, scenario, report)


def grappe_detail(data: Any, scenario: Any, ids: list[str]) -> None:
    from grappes.exports.tables import TYPE_LABELS

    gid = st.selectbox("Détail d'une grappe (entourée et centrée sur la carte)", ids,
                       key="detail_grappe")
    grappe = next(g for g in data.grappes if g.id == gid)
    cost = scenario.cost_detail(gid)
    # built once for every visitor of an unedited proposal (``view_memo``), like the table
    names = view_memo("og_labels", scenario, lambda: og_labels(scenario.etab))
    st.markdown(f"**Porteur** : {names.get(cost.porteur, cost.porteur)} · "
                f"**type de projet** : {TYPE_LABELS.get(cost.project_type, '')} · "
                f"**éditeur** : {cost.vendor or 'à choisir'}")
    left, right = st.columns([3, 2])
    with left:
        # per session and grappe (one entry: the process store is a small LRU that a
        # visitor browsing every grappe must not fill, it holds the reports)
        session_memo("members_view", (grouping_version(scenario), gid),
                     lambda: members_view(scenario, gid)).show("members_table")
    with right:
        st.markdown(f"**Plan de financement** — total {euros(cost.total)}")
        session_memo("funding_view", (grouping_version(scenario), gid),
                     lambda: funding_view(data, gid)).show("funding_table")
        st.markdown("**Échéancier** : " + " ; ".join(
            f"{decimal_fr(i.share * 100, 0)} % {euros(i.amount)} ({i.label})"
            for i in cost.schedule))
        st.markdown(f"**Points grille** : {cost.score.total} / {cost.score.max} — "
                    + (points_text(cost.score.computed, cost.score.declared) or "aucun"))
    for v in data.violations.get(gid, []):
        st.error(with_names(v.message, names))  # « OG Nom (FINESS) à 51,9 km », not a number
    with lazy_expander("Éligibilité, avertissements et pourquoi ces membres",
                       key="detail_pourquoi") as opened:
        if opened:
            for text in [*cost.eligibility, *grappe.warnings, *grappe.reasons]:
                st.markdown(f"- {with_names(text, names)}")


def unplaced_section(data: Any, scenario: Any, report: Any) -> None:
    """The ESMS of the field without a grappe; picking a row opens its partner finder here."""
    view = view_memo("unplaced_view", scenario, lambda: unplaced_view(data, scenario))
    st.caption(f"{len(view.frame)} ESMS du champ sans grappe (même définition que « ESMS "
               "placés » ci-dessus), avec la raison et la grappe la plus proche. Cliquez une "
               "ligne (case à gauche) pour chercher ses partenaires.")
    if view.frame.empty:
        st.caption("Aucune ligne.")
        return
    # the grid's key changes with each edit (``actions.serial``): its row selection is
    # cleared, so the row that slides into place after a move is never picked silently
    with st.container(key="unplaced_table"):
        event = st.dataframe(view.frame, hide_index=True, column_config=view.config,
                             column_order=[c for c in view.frame.columns if c != "finess_et"],
                             key=f"unplaced_grid_{actions.serial()}", on_select="rerun",
                             selection_mode="single-row")
    rows = event.selection.rows if event is not None else []
    if rows:
        et = str(view.frame["finess_et"].iloc[rows[0]])
        st.markdown("#### Partenaires possibles")
        partner_panel(scenario, report, et, "unplaced")

