"""« Mon OG », in the partners tab: an OG director finds their OG (name, FINESS EJ or ET,
commune), sees its grappe, partners and distances, what it would receive line by line
(``grappes.scenarios.og_view``), and downloads the one-page fiche
(``grappes.exports.og_sheet``)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from grappes.core.formatting import euros, km_text
from grappes.ui.proposalstate import shown_scenario
from grappes.ui.store import grouping_version, session_memo


def _km(value: float) -> str:
    return "—" if value != value else km_text(value)  # NaN: no coordinates


def _lines_frame(share: Any) -> pd.DataFrame:
    from grappes.exports.tables import BASIS_LABELS

    return pd.DataFrame([{
        "Ligne": ln.label,
        "ESMS": f"{ln.esms_name} ({ln.finess_et})" if ln.finess_et else "projet (porteur)",
        "Base": BASIS_LABELS.get(ln.basis, ln.basis),
        "Montant (€)": ln.amount,
    } for ln in share.lines], columns=["Ligne", "ESMS", "Base", "Montant (€)"])


def _partners_frame(share: Any) -> pd.DataFrame:
    return pd.DataFrame([{
        "OG partenaire": f"{p.name} ({p.finess_ej})" + (" · porteur" if p.porteur else ""),
        "ESMS": p.n_esms,
        "Distance (km)": p.distance_km,
        "Financement (€)": p.amount,
    } for p in sorted(share.partners, key=lambda p: p.distance_km)],
        columns=["OG partenaire", "ESMS", "Distance (km)", "Financement (€)"])


def my_og_section(whatif: Any) -> None:
    """Search an OG and show its share of the funding, with the fiche to download."""
    from grappes.exports.og_sheet import og_sheet_bytes
    from grappes.scenarios.og_view import og_shares, search_ogs

    st.markdown("Dirigeant d'un OG : retrouvez votre grappe, vos partenaires et ce que votre "
                "OG recevrait, ligne par ligne.")
    query = st.text_input("Mon OG (nom, numéro FINESS de l'OG ou d'un de ses ESMS, commune)",
                          key="my_og_query", placeholder="ex. CCAS de Dun, 180000028, Bourges")
    if not query:
        return
    scenario = shown_scenario(whatif)
    version = grouping_version(whatif)
    found = session_memo("my_og_search", (version, query), lambda: search_ogs(scenario, query))
    if found.empty:
        st.warning("Aucun OG ne correspond (essayez le nom de l'OG, son numéro FINESS ou la "
                   "commune d'un de ses ESMS).")
        return
    labels = {r.finess_ej: f"{r.raison_sociale_ej} ({r.finess_ej}) — {r.communes}"
              + (f" · {r.grappes}" if r.grappes else " · sans grappe")
              for r in found.itertuples()}
    og = st.selectbox("OG", list(labels), format_func=labels.get, key="my_og_pick")
    shares = session_memo("my_og_shares", (version, og), lambda: og_shares(scenario, og))
    if not shares:
        st.info("Cet OG n'est dans aucune grappe de la proposition (voir « ESMS sans grappe » "
                "et la recherche de partenaires ci-dessous).")
        return
    for share in shares:
        state = "valide" if share.valid else "invalide (" + " ; ".join(share.violations) + ")"
        role = "porteur du projet" if share.porteur else f"porteur : {share.porteur_name}"
        st.markdown(f"**Grappe {share.grappe}** ({share.champ}), {state} — {role} — "
                    f"{share.grappe_n_esms} ESMS, financement de la grappe "
                    f"{euros(share.grappe_total)}.")
        far = share.farthest_partner
        cols = st.columns(3)
        cols[0].metric("Financement pour mon OG", euros(share.amount))
        cols[1].metric("Distance au centre de la grappe", _km(share.distance_centre_km))
        cols[2].metric("Partenaire le plus éloigné",
                       _km(far.distance_km) if far else "—",
                       help=f"{far.name} ({far.finess_ej})" if far else None)
        st.dataframe(_lines_frame(share), hide_index=True, width="stretch", column_config={
            "Ligne": st.column_config.TextColumn(width="large"),
            "Montant (€)": st.column_config.NumberColumn(format="%.0f €")})
        st.dataframe(_partners_frame(share), hide_index=True, width="stretch", column_config={
            "OG partenaire": st.column_config.TextColumn(width="large"),
            "Distance (km)": st.column_config.NumberColumn(format="%.1f"),
            "Financement (€)": st.column_config.NumberColumn(format="%.0f €")})
        st.download_button("Télécharger la fiche de mon OG",
                           og_sheet_bytes(share, scenario.rules.name),
                           file_name=f"fiche-og-{share.finess_ej}-{share.grappe}.xlsx",
                           mime="application/vnd.openxmlformats-officedocument."
                                "spreadsheetml.sheet",
                           key=f"my_og_sheet_{share.grappe}", on_click="ignore")
