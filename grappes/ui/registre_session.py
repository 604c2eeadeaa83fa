"""One sign-in for the registry's pages (« Mise en relation », « Suivi »): the same
session token in ``st.session_state``, the same login form, and the same sidebar (who is
connected, password change, logout) on both pages.

Every user-supplied string goes through ``grappes.registry.affichage.echapper`` before
Streamlit renders it as Markdown (error messages may quote what the user typed).
"""

from __future__ import annotations

import streamlit as st

from grappes.core.vocabulary import ROLE_LABELS
from grappes.registry import RegistreError, Registry, SaisieInvalide
from grappes.registry.affichage import echapper
from grappes.registry.vues import CompteVue

#: the session token's key, shared by every registry page of the app
JETON = "jeton"


def erreur(exc: Exception) -> None:
    """A registry error, escaped (its message may quote user text)."""
    if isinstance(exc, SaisieInvalide):
        st.error("Saisie invalide : " + " ; ".join(
            f"{echapper(champ)} : {echapper(raison)}" for champ, raison in exc.erreurs))
    else:
        st.error(echapper(str(exc)))


def jeton_ou_connexion(reg: Registry) -> str | None:
    """The session token, or the login form (then None: the page stops there)."""
    jeton = st.session_state.get(JETON)
    if jeton:
        return jeton
    st.subheader("Connexion")
    with st.form("connexion", enter_to_submit=False):
        email = st.text_input("Adresse e-mail")
        password = st.text_input("Mot de passe", type="password")
        ok = st.form_submit_button("Se connecter")
    if ok:
        try:
            c = reg.connexion(email, password)
        except RegistreError as exc:
            erreur(exc)
            return None
        st.session_state[JETON] = c.jeton
        st.rerun()
    return None


def barre_laterale(reg: Registry, jeton: str) -> CompteVue | None:
    """Who is connected, the password change and the logout, in the sidebar; None (and
    back to the login) when the session is over."""
    try:
        moi = reg.moi(jeton)
    except RegistreError as exc:
        st.session_state.pop(JETON, None)
        erreur(exc)
        return None
    st.sidebar.text(f"Connecté : {moi.email} ({ROLE_LABELS.get(moi.role, moi.role)})")
    if st.sidebar.button("Se déconnecter", key="deconnexion"):
        try:
            reg.deconnexion(jeton)
        finally:
            st.session_state.pop(JETON, None)
        st.rerun()
    with st.sidebar.expander("Changer mon mot de passe"), \
            st.form("mot_de_passe", enter_to_submit=False):
        actuel = st.text_input("Mot de passe actuel", type="password")
        nouveau = st.text_input("Nouveau mot de passe (12 caractères au moins)",
                                type="password")
        if st.form_submit_button("Changer le mot de passe"):
            try:
                reg.changer_mot_de_passe(jeton, actuel, nouveau)
            except RegistreError as exc:
                erreur(exc)
            else:
                st.success("Mot de passe changé ; vos autres sessions sont fermées.")
    return moi
