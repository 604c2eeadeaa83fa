"""The ARS's view of « Mise en relation »: aggregates, the planner's map, the grappes and
their members, partners suggested to an isolated ESMS.

Moved out of ``pages/2_Mise_en_relation.py`` (issue 24: pages as thin as ``app.py``); every
read and write still goes through ``grappes.registry.Registry``.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from grappes.core.formatting import euros
from grappes.core.vocabulary import (
    CHAMP_LABELS,
)
from grappes.registry import (
    RegistreError,
    Registry,
    parse_territoire,
)
from grappes.registry.affichage import (
    echapper,
    etat_grappe,
)
from grappes.ui import ars_map
from grappes.ui.registre_commun import (
    call,
    members_table,
    rattachements_territoire,
    territory_input,
)


def ars(reg: Registry, jeton: str, moi) -> None:
    territoire = territory_input(moi)
    with st.expander("Rattachements des OG de la région"):
        rattachements_territoire(reg, jeton, territoire)
    data = call(reg.agregats, jeton, territoire)
    if data is None:
        return
    st.markdown("**Déclarations par département et champ**")
    par_dep = data["par_departement"]
    st.dataframe(pd.DataFrame({
        "département": par_dep["departement"],
        "champ": [CHAMP_LABELS.get(c, c) for c in par_dep["champ"]],
        "déclarations": par_dep["declarations"], "ESMS": par_dep["esms"]}),
        hide_index=True)  # fmt: skip
    st.markdown("**Grappes**")
    gr = data["grappes"]
    st.dataframe(pd.DataFrame({
        "grappe": gr["grappe"], "état": [etat_grappe(x) for x in gr["statut"]],
        "champ": [CHAMP_LABELS.get(c, c) for c in gr["champ"]],
        "départements": [str(x).replace(",", ", ") for x in gr["departements"]],
        "ESMS": gr["n_esms"],
        "financement": [euros(x) if pd.notna(x) else "—" for x in gr["total"]]}),
        hide_index=True)  # fmt: skip
    st.markdown("**Carte des ESMS déclarés**")
    try:
        deps = sorted(parse_territoire(territoire)[0])
    except RegistreError:
        deps = sorted(set(par_dep["departement"].astype(str)))
    if ars_map.ars_map(data["carte"], deps, key="carte_ars") is None:
        st.info("Aucun ESMS déclaré avec une position dans ce territoire.")
    st.markdown("**Grappes constituées et leurs membres**")
    constituees = call(reg.grappes, jeton, territoire) or []  # the ARS reads only those
    if not constituees:
        st.caption("Aucune grappe constituée dans ce territoire pour l'instant : les membres "
                   "d'une grappe s'afficheront ici quand son coordinateur l'aura marquée "
                   "constituée.")
    for g in constituees:
        st.markdown(f"Grappe {echapper(g.code)} — {g.n_esms} ESMS — "
                    f"{euros(g.total) if g.total else 'financement non calculé'} — état : "
                    f"**{etat_grappe(g.statut, g.soumise_ars)}**")
        st.dataframe(members_table(g), hide_index=True)
    st.markdown("**Suggérer des partenaires à un ESMS isolé**")
    did = st.number_input("Déclaration n°", min_value=1, max_value=2**31 - 1, value=None,
                          step=1, placeholder="numéro de la déclaration")
    if did and st.button("Chercher des partenaires"):
        st.session_state["suggestions"] = (int(did), call(reg.suggerer_partenaires, jeton,
                                                          int(did)) or [])
    # the suggestions are kept in the session: the « Inviter » buttons below are not nested
    # in the search button (a nested button's click reruns the page without the outer one)
    done = st.session_state.pop("suggestion_faite", None)
    if done:
        st.success(echapper(done))
    found = st.session_state.get("suggestions")
    if found and did and found[0] == int(did):
        for s in found[1]:
            st.text(f"{s.rang}. {s.texte}")
            if s.grappe_id and st.button(f"Inviter dans {echapper(s.libelle)}",
                                         key=f"sug{s.grappe_id}"):
                g = call(reg.inviter_suggestion, jeton, int(did), s.grappe_id)
                if g is not None:
                    st.session_state.pop("suggestions", None)
                    st.session_state["suggestion_faite"] = (
                        f"Déclaration {int(did)} invitée dans la grappe {g.code} : en attente "
                        "de sa réponse.")
                    st.rerun()
