"""Streamlit page « Mise en relation »: the registry's screens for each role.

Thin UI: every read and write goes through ``grappes.registry.Registry`` (the API checks
the policy and writes the audit log); this page never touches the database. User text is
shown with ``st.text``, in tables, or escaped (``affichage.echapper``) before Markdown.

Settings: ``GRAPPES_DB_URL`` (default ``grappes.db``); the FINESS file of the declaration
form's search is the registry's (``grappes.registry.finess_source``: ``GRAPPES_FINESS``,
else ``registre init --finess``, else the bundled sample).

Each role's view lives in ``grappes.ui``: ``registre_declarant``, ``registre_coordinateur``,
``registre_ars``, ``registre_admin`` (shared parts: ``registre_commun``); the page only signs
in and dispatches.
"""

from __future__ import annotations

import streamlit as st

from grappes.registry import RegistreError, Registry
from grappes.ui import registre_session
from grappes.ui.page import dress_in_french
from grappes.ui.registre_admin import admin
from grappes.ui.registre_ars import ars
from grappes.ui.registre_coordinateur import coordinateur
from grappes.ui.registre_declarant import declarant

st.set_page_config(page_title="grappes — mise en relation", layout="wide")
dress_in_french()


@st.cache_resource
def registry() -> Registry:
    """One registry per app process; its views' cache is filled once, at creation
    (``prechauffer``): the first readers do not all start on a cold cache. A base not yet
    initialised or unreachable is reported by ``check_schema`` below, not here."""
    reg = Registry(None)
    try:
        reg.db.check_schema()
        reg.prechauffer()
    except RegistreError:
        pass
    return reg


def main() -> None:
    st.title("Mise en relation")
    reg = registry()
    try:
        reg.db.check_schema()
    except RegistreError as exc:
        st.error(str(exc))
        st.stop()
    jeton = registre_session.jeton_ou_connexion(reg)
    if not jeton:
        return
    moi = registre_session.barre_laterale(reg, jeton)
    if moi is None:
        return
    if moi.role == "declarant":
        declarant(reg, jeton)
    elif moi.role == "coordinateur":
        coordinateur(reg, jeton, moi)
    elif moi.role == "ars":
        ars(reg, jeton, moi)
    elif moi.role == "admin":
        admin(reg, jeton)


main()
