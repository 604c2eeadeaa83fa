"""The Suivi page's two views: the ARS's région (calendar, payments, grappes at risk, export)
and the porteur's grappe (tranches, milestone, verification, indicators, targets, monthly
import).

Moved out of ``pages/3_Suivi.py`` (issue 24: pages as thin as ``app.py``); everything goes
through ``grappes.followup.store.Suivi``, which applies the registry's policy.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from grappes.core.errors import GrappesError
from grappes.followup.charts import money_calendar, small_multiples
from grappes.followup.csv_import import template_csv
from grappes.followup.evaluate import STATE_LABELS, FollowupState
from grappes.followup.export import flags_frame, for_display, grappes_frame, tranches_frame
from grappes.followup.months import add_months, label, month_of
from grappes.followup.store import Suivi
from grappes.registry import RegistreError
from grappes.ui.suivi_payment import milestone_panel, payment_panel
from grappes.ui.suivi_registration import targets_panel


def ars_view(suivi: Suivi, jeton: str, states: list[FollowupState]) -> None:
    """(ARS) the région's funded grappes."""
    st.header("Vue ARS : ma région")
    paid = {s.grappe.grappe_id: suivi.versements(jeton, s.grappe.grappe_id) for s in states}
    st.altair_chart(money_calendar(states, paid), width="stretch")
    payment_panel(suivi, jeton, states, paid, suivi.registry.clock().date())
    table = grappes_frame(states, paid)
    st.subheader("Grappes à risque")
    at_risk = table[table["a_risque"] == "oui"]
    if at_risk.empty:  # an empty table would read « empty »
        st.caption("Aucune grappe à risque.")
    else:
        st.dataframe(for_display(at_risk), hide_index=True)
    st.subheader("Toutes les grappes")
    st.dataframe(for_display(table), hide_index=True)
    if st.button("Préparer l'export XLSX"):
        with tempfile.TemporaryDirectory() as tmp:
            path = suivi.exporter(jeton, tmp)
            st.download_button("Télécharger suivi-grappes.xlsx", Path(path).read_bytes(),
                               file_name="suivi-grappes.xlsx")


def porteur_view(suivi: Suivi, jeton: str, states: list[FollowupState]) -> None:
    """(Porteur) one grappe: its tranches and what moves them."""
    st.header("Mes grappes")
    codes = [s.grappe.grappe_id for s in states]
    code = st.selectbox("Grappe", codes)
    state = next(s for s in states if s.grappe.grappe_id == code)
    tranche_cards(state)
    milestone_panel(suivi, jeton, state)
    verification_panel(suivi, jeton, state)
    indicators_panel(state)
    monthly_import_panel(suivi, jeton, state)


def tranche_cards(state: FollowupState) -> None:
    """One card per tranche: paid, payable, or when it is expected and why."""
    cols = st.columns(len(state.tranches))
    for col, t in zip(cols, state.tranches, strict=True):
        # the date goes in plain text: a metric's delta would draw an arrow before it
        paid_on = state.grappe.versements.get(t.tranche.rang)
        col.metric(f"Tranche {t.tranche.rang} ({t.tranche.regle.share:.0%})",
                   "versée" if paid_on else STATE_LABELS[t.state])
        if paid_on:
            col.markdown(f"**Versée le {paid_on:%d/%m/%Y}**")
        elif t.payable_on:
            col.markdown(f"**Payable le {t.payable_on:%d/%m/%Y}**")
        elif t.expected_on:
            lo, hi = t.expected_earliest, t.expected_latest
            span = (f" (entre fin {lo:%m/%Y} et fin {hi:%m/%Y})" if lo and hi else
                    f" (au plus tôt fin {lo:%m/%Y})" if lo else "")
            col.markdown(f"**Prévue fin {t.expected_on:%m/%Y}**{span}")
        col.caption(t.reason)


def verification_panel(suivi: Suivi, jeton: str, state: FollowupState) -> None:
    """(004) The « vérification de service régulier »: its dates, and the form to record one."""
    code = state.grappe.grappe_id
    checks = [t for t in state.tranches if t.tranche.regle.service_check]
    if not checks:
        return
    st.subheader("Vérification de service régulier")
    st.caption("Généralisation 2022 (004) : la tranche des cibles d'usage est versée à "
               "l'« Atteinte des cibles d'usages après la signature de la vérification de "
               "service régulier ». Le porteur enregistre ici la date de signature ; l'ARS la "
               "voit avant de payer.")
    done_check = st.session_state.pop("suivi_verification_faite", None)
    if done_check:
        st.success(done_check)
    for t in checks:
        if t.verification:
            by = f" par {t.verification.par}" if t.verification.par else ""
            st.write(f"Tranche {t.tranche.rang} : vérification signée le "
                     f"{t.verification.le:%d/%m/%Y} (enregistrée{by}).")
        else:
            st.write(f"Tranche {t.tranche.rang} : vérification à enregistrer.")
    with st.form("verification", enter_to_submit=False):
        rang = st.selectbox("Tranche", [t.tranche.rang for t in checks])
        signed = st.date_input("Date de signature de la vérification", format="DD/MM/YYYY",
                               value=None)
        if st.form_submit_button("Enregistrer la vérification"):
            if signed is None:
                st.warning("Indiquez la date de signature.")
            else:
                try:
                    suivi.declarer_verification(jeton, code, int(rang), signed)
                except RegistreError as exc:
                    st.error(str(exc))
                else:
                    st.session_state["suivi_verification_faite"] = (
                        f"Vérification de service régulier de la tranche {rang} enregistrée "
                        f"(signée le {signed:%d/%m/%Y}).")
                    st.rerun()


def indicators_panel(state: FollowupState) -> None:
    """The usage rates per ESMS, the targets, the ESMS to correct first and the tranches."""
    st.subheader("Indicateurs par ESMS")
    st.caption("Le taux MSSanté peut dépasser 100 % : il compte des messages envoyés par "
               "personne accompagnée (004 : « nombre de messages envoyés via la MS Santé / nombre "
               "de personnes accompagnées »), et une personne peut en recevoir plusieurs. Les "
               "autres taux comptent une partie de leur dénominateur et ne dépassent jamais 100 %.")
    if state.rates:
        st.altair_chart(small_multiples(state), width="content")
    else:  # an empty chart would show a lone legend title
        st.info("Aucun chiffre mensuel importé : importez le premier mois ci-dessous.")
    targets_panel(state)
    st.subheader("À corriger en premier")
    flags = flags_frame([state])
    if flags.empty:
        st.success("Aucun ESMS ne met l'échéance en danger.")
    else:
        st.dataframe(for_display(flags.drop(columns=["grappe"])), hide_index=True)
    st.dataframe(for_display(tranches_frame([state]).drop(columns=["grappe"])), hide_index=True)


def monthly_import_panel(suivi: Suivi, jeton: str, state: FollowupState) -> None:
    """The month's figures: a pre-filled template to download, then the CSV to import."""
    code = state.grappe.grappe_id
    st.subheader("Importer les chiffres du mois")
    # the import reruns the page so that the tranches and the chart above show the new month;
    # its confirmation is kept in the session to be shown after that rerun, not lost in it
    done = st.session_state.pop("suivi_import_fait", None)
    if done:
        st.success(done)
    last_month = add_months(month_of(suivi.registry.clock().date()), -1)  # the last ended month
    st.download_button(
        f"Télécharger le modèle pré-rempli ({len(state.grappe.members)} ESMS, "
        f"mois {label(last_month)})",
        template_csv([(m.finess_et, m.raison_sociale) for m in state.grappe.members], last_month),
        file_name=f"indicateurs-{code}-{label(last_month)}.csv", mime="text/csv")
    st.caption("Une ligne par ESMS : complétez les six nombres tirés de votre DUI (la colonne "
               "« nom » n'est pas lue), enregistrez en CSV et importez le fichier ci-dessous.")
    with st.form("import", enter_to_submit=False):
        upload = st.file_uploader("CSV des indicateurs (le modèle ci-dessus, ou l'export de "
                                  "votre éditeur)", type=["csv"])
        replace = st.checkbox("Remplacer les mois déjà enregistrés")
        submitted = st.form_submit_button("Importer")
        if submitted and upload is None:
            st.warning("Choisissez d'abord le fichier CSV des indicateurs.")
        elif submitted:
            try:
                result = suivi.importer(jeton, code, upload.getvalue(), replace)
            except GrappesError as exc:  # registry refusals and unreadable files alike
                st.error(str(exc))
            else:
                if result.ok:
                    st.session_state["suivi_import_fait"] = (
                        f"{result.written} ligne(s) importée(s) dans {code} "
                        f"({upload.name}) : tranches et graphique à jour.")
                    st.rerun()
                else:
                    st.error("Rien n'a été importé : corrigez ces lignes.")
                    st.dataframe([r.as_dict() for r in result.report.rejects], hide_index=True)
