"""Suivi après financement (issue 14): porteur view and ARS view, on the registry's accounts.

The page only calls ``grappes.followup.store.Suivi`` (which applies the registry policy);
it never queries the database itself.
"""

from __future__ import annotations

import streamlit as st

from grappes.followup.store import Suivi
from grappes.registry import RegistreError, Registry
from grappes.ui import registre_session
from grappes.ui.page import dress_in_french
from grappes.ui.suivi_registration import mail_panel, registration_panel
from grappes.ui.suivi_views import ars_view, porteur_view

st.set_page_config(page_title="Suivi des grappes financées", layout="wide")
dress_in_french()
st.title("Suivi des grappes financées")


@st.cache_resource
def _suivi() -> Suivi:
    reg = Registry()
    reg.init()
    return Suivi(reg)


suivi = _suivi()
# one sign-in with the « Mise en relation » page (the same session token), logout on both
jeton = registre_session.jeton_ou_connexion(suivi.registry)
if not jeton:
    st.stop()
me = registre_session.barre_laterale(suivi.registry, jeton)
if me is None:
    st.stop()
try:
    states = suivi.mes_grappes(jeton)
except RegistreError as exc:
    registre_session.erreur(exc)
    st.stop()

mail_panel(suivi, jeton)
if me.role == "ars":
    registration_panel(suivi, jeton)
if not states:
    st.info("Aucune grappe suivie visible par ce compte.")
    st.stop()

if me.role == "ars":
    ars_view(suivi, jeton, states)
else:
    porteur_view(suivi, jeton, states)
