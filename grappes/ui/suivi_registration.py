"""The Suivi page's parts for issue 19: the ARS registers a funded grappe without editing a
file (from a constituted grappe of the registry, or from an uploaded export of the tool),
and the month each ESMS met each target.

The page (``pages/3_Suivi.py``) only calls :func:`registration_panel` and
:func:`targets_panel`; the work is done by ``grappes.followup.store.Suivi`` (policy,
audit) and ``grappes.followup.dossier_import`` (the exports' vocabulary). The functions
without ``st`` are tested without a page.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import date

import pandas as pd

from grappes.core.formatting import euros
from grappes.followup.dossier_import import funded_codes, read_funded_grappe
from grappes.followup.evaluate import FollowupState
from grappes.followup.export import targets_frame
from grappes.followup.indicators import INDICATORS
from grappes.followup.store import RegistryCandidate, Suivi
from grappes.programme.rules import available_rules

#: « no choice »: the rule set the export names
RULES_FROM_EXPORT = "celui de l'export"


def candidate_label(c: RegistryCandidate) -> str:
    """How a constituted registry grappe reads in the choice list."""
    sent = "soumise à l'ARS" if c.soumise_ars else "constituée"
    return (f"{c.code} — {c.n_esms} ESMS, {euros(c.total)}, porteur {c.porteur_ej} "
            f"({sent})")


def emails(text: str) -> list[str]:
    """Porteur e-mails typed one per line or separated by commas or semicolons."""
    parts = text.replace(";", ",").replace("\n", ",").split(",")
    return [p.strip() for p in parts if p.strip()]


def register_from_registry(suivi: Suivi, jeton: str, registre_grappe_id: int,
                           signature: date, porteurs: Sequence[str] = ()) -> str:
    """Register a constituted registry grappe; porteurs default to its porteur's accounts."""
    return suivi.enregistrer_depuis_registre(jeton, registre_grappe_id, signature,
                                             list(porteurs) or None)


def register_from_upload(suivi: Suivi, jeton: str, data: bytes, name: str, code: str,
                         signature: date, porteurs: Sequence[str],
                         regles: str | None = None) -> str:
    """Register grappe ``code`` of an uploaded workbook (``grappes.xlsx`` of the command,
    of the app or of the registry export). Raises ``IngestError`` / ``RegistreError``."""
    funded = read_funded_grappe(data, code, signature, regles, name=name)
    return suivi.enregistrer(jeton, funded, list(porteurs))


def targets_table(state: FollowupState) -> pd.DataFrame:
    """One row per ESMS (then the grappe), one column per indicator: the month its target
    was first met (``AAAA-MM``), « non atteinte » otherwise. A month counts once ended."""
    frame = targets_frame([state])
    if frame.empty:
        return pd.DataFrame()
    frame = frame.assign(atteinte=frame["atteinte"].replace("", "non atteinte"))
    names = {m.finess_et: m.raison_sociale for m in state.grappe.members}
    frame["ESMS"] = [("Grappe (chiffres additionnés)" if f == "grappe"
                      else f"{names.get(f) or f} ({f})") for f in frame["finess_et"]]
    order = {name: k for k, name in enumerate(dict.fromkeys(frame["ESMS"]))}
    table = frame.pivot(index="ESMS", columns="indicateur", values="atteinte")
    columns = [INDICATORS[c].short for c in INDICATORS if INDICATORS[c].short in table.columns]
    table = table[columns].sort_index(key=lambda idx: idx.map(order))
    return table.reset_index().rename_axis(columns=None)


def targets_panel(state: FollowupState) -> None:
    """« Cibles atteintes » on the page: the table of :func:`targets_table`."""
    import streamlit as st

    st.subheader("Mois où chaque cible est atteinte")
    st.caption("Un mois compte une fois terminé (004 : mesure « à chaque fin de mois »).")
    table = targets_table(state)
    if table.empty:
        st.info("Aucun chiffre mensuel importé.")
    else:
        st.dataframe(table, hide_index=True)


def registration_panel(suivi: Suivi, jeton: str) -> None:
    """(ARS) « Enregistrer une grappe financée »: from the registry or from an export."""
    import streamlit as st

    from grappes.ingest.errors import IngestError
    from grappes.registry import RegistreError

    st.subheader("Enregistrer une grappe financée")
    done = st.session_state.pop("suivi_enregistrement_fait", None)
    if done:
        st.success(done)
    from_registry, from_file = st.tabs(["Depuis le registre", "Depuis un export"])
    with from_registry:
        try:
            candidates = suivi.financables(jeton)
        except RegistreError as exc:
            st.error(str(exc))
            candidates = []
        if not candidates:
            st.info("Aucune grappe constituée du registre à enregistrer dans votre région.")
        else:
            with st.form("enregistrer_registre", enter_to_submit=False):
                choice = st.selectbox("Grappe constituée", candidates,
                                      format_func=candidate_label)
                signed = st.date_input("Date de signature de la convention",
                                       format="DD/MM/YYYY", value=None, key="sig_registre")
                extra = st.text_area("Comptes porteurs (e-mails ; vide : les comptes du "
                                     "porteur dans le registre)", key="porteurs_registre")
                if st.form_submit_button("Enregistrer la grappe"):
                    if signed is None:
                        st.warning("Indiquez la date de signature.")
                    else:
                        try:
                            code = register_from_registry(suivi, jeton,
                                                          choice.registre_grappe_id, signed,
                                                          emails(extra))
                        except (RegistreError, ValueError) as exc:
                            st.error(str(exc))
                        else:
                            st.session_state["suivi_enregistrement_fait"] = (
                                f"Grappe {code} enregistrée (signature le {signed:%d/%m/%Y}).")
                            st.rerun()
    with from_file:
        upload = st.file_uploader("Classeur de l'outil (grappes.xlsx : grappes proposer --xlsx, "
                                  "onglet Exports de l'application ou export du registre)",
                                  type=["xlsx"], key="suivi_export")
        if upload is None:
            return
        try:
            codes = funded_codes(upload.getvalue(), upload.name)
        except IngestError as exc:
            st.error(str(exc))
            return
        if not codes:
            st.warning("Aucune grappe valide dans ce classeur.")
            return
        with st.form("enregistrer_export", enter_to_submit=False):
            code = st.selectbox("Grappe", codes)
            signed = st.date_input("Date de signature de la convention", format="DD/MM/YYYY",
                                   value=None, key="sig_export")
            porteurs = st.text_area("Comptes porteurs (e-mails, un par ligne)",
                                    key="porteurs_export")
            rules = st.selectbox("Jeu de règles", [RULES_FROM_EXPORT, *available_rules()])
            if st.form_submit_button("Enregistrer la grappe"):
                if signed is None:
                    st.warning("Indiquez la date de signature.")
                    return
                try:
                    register_from_upload(suivi, jeton, upload.getvalue(), upload.name, code,
                                         signed, emails(porteurs),
                                         None if rules == RULES_FROM_EXPORT else rules)
                except (IngestError, RegistreError, ValueError) as exc:
                    st.error(str(exc))
                else:
                    st.session_state["suivi_enregistrement_fait"] = (
                        f"Grappe {code} enregistrée (signature le {signed:%d/%m/%Y}).")
                    st.rerun()


def mail_panel(suivi: Suivi, jeton: str) -> None:
    """« Mes messages »: the notifications addressed to the account (the outbox). Without
    ``GRAPPES_SMTP_URL`` they are not e-mailed, and this is where they are read."""
    import streamlit as st

    from grappes.registry.outbox import SMTP_ENV, mes_courriels

    messages = mes_courriels(suivi.registry, jeton)
    if not messages:
        return
    waiting = sum(1 for m in messages if m.envoye_le is None)
    unsent = (f", dont {waiting} non envoyé{'s' if waiting > 1 else ''} par courriel"
              if waiting else "")
    with st.expander(f"Mes messages ({len(messages)}{unsent})"):
        if os.environ.get(SMTP_ENV) is None:
            st.caption("Aucun serveur de courriel configuré (GRAPPES_SMTP_URL) : les "
                       "messages restent ici.")
        st.dataframe(messages_frame(messages), hide_index=True)


def messages_frame(messages) -> pd.DataFrame:
    """The messages as the page lists them (French headers, dates « 02/03/2026 »)."""
    return pd.DataFrame({
        "Reçu le": [f"{m.cree_le:%d/%m/%Y %H:%M}" for m in messages],
        "Objet": [m.sujet.removeprefix("[grappes] ") for m in messages],
        "Message": [m.corps.strip() for m in messages],
        "Courriel": [f"envoyé le {m.envoye_le:%d/%m/%Y}" if m.envoye_le else "en attente"
                     for m in messages],
    })
