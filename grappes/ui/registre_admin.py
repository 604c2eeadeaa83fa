"""The admin's view of « Mise en relation »: accounts, audit log, retention, the registry's
FINESS file.

Moved out of ``pages/2_Mise_en_relation.py`` (issue 24: pages as thin as ``app.py``); every
read and write still goes through ``grappes.registry.Registry``.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from grappes.core.vocabulary import (
    ROLE_LABELS,
)
from grappes.registry import (
    Registry,
)
from grappes.registry.affichage import (
    CIBLE_LABELS,
    action_libelle,
    echapper,
)
from grappes.ui.registre_commun import (
    call,
)


def fichier_finess(reg: Registry, jeton: str) -> None:
    """The admin chooses the FINESS file of « Rechercher mon établissement » and of the
    declarations' checks, as ``registre init --finess`` does on the server."""
    if fait := st.session_state.pop("finess_enregistre", None):
        st.success(fait)
    source = reg.source_finess()
    st.markdown(f"**Fichier FINESS utilisé :** {echapper(source.libelle)}")
    if source.origine == "environnement":
        st.warning("La variable GRAPPES_FINESS du serveur l'emporte sur un fichier choisi ici : "
                   "demandez à l'hébergeur de la retirer pour utiliser le fichier téléversé.")
    st.caption("Extraction FINESS (etalab, FiNESS+ JSON, modèle CSV de grappes ; compressée "
               "en .gz ou non). Une fois enregistré, tout ESMS déclaré doit y figurer et "
               "dépendre de l'OG déclaré.")
    with st.form("fichier_finess", clear_on_submit=True):
        fichier = st.file_uploader("Fichier FINESS", key="finess_admin")
        ok = st.form_submit_button("Utiliser ce fichier")
    if ok:
        if fichier is None:
            st.warning("Choisissez d'abord un fichier.")
            return
        with st.spinner("Lecture et contrôle du fichier FINESS…"):
            res = call(reg.televerser_finess, jeton, fichier.name, fichier.getvalue())
        if res is not None:
            st.session_state["finess_enregistre"] = (
                f"Fichier FINESS enregistré : {res[1]} ESMS. La recherche « Rechercher mon "
                "établissement » et le contrôle des déclarations l'utilisent désormais.")
            st.rerun()


def admin(reg: Registry, jeton: str) -> None:
    tab_c, tab_j, tab_p, tab_f = st.tabs(["Comptes", "Journal d'audit", "Conservation",
                                          "Fichier FINESS"])
    with tab_f:
        fichier_finess(reg, jeton)
    with tab_c:
        with st.form("compte"):
            email = st.text_input("E-mail du compte")
            role = st.selectbox("Rôle", ["declarant", "coordinateur", "ars", "admin"],
                                format_func=lambda r: ROLE_LABELS.get(r, r))
            terr = st.text_input("Territoire (37,41 ou R24 ; vide pour un déclarant)")
            password = st.text_input("Mot de passe initial", type="password")
            ok = st.form_submit_button("Créer le compte")
        if ok:
            v = call(reg.creer_compte, jeton, email, role, password, [terr] if terr else [])
            if v is not None:
                st.success(f"Compte créé : {echapper(v.email)} "
                           f"({ROLE_LABELS.get(v.role, v.role)})")
        comptes = call(reg.comptes, jeton) or []
        st.dataframe(pd.DataFrame([{"e-mail": c.email, "rôle": c.role,
                                    "territoire": ", ".join(c.territoires),
                                    "actif": "oui" if c.actif else "non"} for c in comptes]),
                     hide_index=True)
    with tab_j:
        journal = call(reg.journal, jeton, 300) or []
        st.dataframe(pd.DataFrame([{
            "date": a.le.strftime("%d/%m/%Y %H:%M:%S"), "action": action_libelle(a.action),
            "compte n°": a.compte_id if a.compte_id is not None else "—",
            "rôle": ROLE_LABELS.get(a.role, a.role or "—"),
            "objet": CIBLE_LABELS.get(a.cible, a.cible), "n°": a.cible_id,
            "détail": a.detail} for a in journal],
            columns=["date", "action", "compte n°", "rôle", "objet", "n°", "détail"]),
            hide_index=True)  # fmt: skip
    with tab_p:
        if st.button("Appliquer la durée de conservation"):
            rep = call(reg.purger, jeton)
            if rep is not None:
                st.success(f"{len(rep.declarations_effacees)} déclaration(s) effacée(s), "
                           f"{rep.sessions_supprimees} session(s) expirée(s) supprimée(s).")
