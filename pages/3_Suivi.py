"""Suivi après financement (issue 14): porteur view and ARS view, on the registry's accounts.

The page only calls ``matching.followup.store.Suivi`` (which applies the registry policy);
it never queries the database itself.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from matching.followup.charts import money_calendar, small_multiples
from matching.followup.evaluate import STATE_LABELS
from matching.followup.export import flags_frame, for_display, grappes_frame, tranches_frame
from matching.followup.store import Suivi
from matching.registry import RegistreError, Registry

st.set_page_config(page_title="Suivi des grappes financées", layout="wide")
st.title("Suivi des grappes financées")


@st.cache_resource
def _suivi() -> Suivi:
    reg = Registry()
    reg.init()
    return Suivi(reg)


suivi = _suivi()
if "suivi_jeton" not in st.session_state:
    with st.form("connexion"):
        email = st.text_input("E-mail")
        password = st.text_input("Mot de passe", type="password")
        if st.form_submit_button("Se connecter"):
            try:
                st.session_state["suivi_jeton"] = suivi.registry.connexion(email, password).jeton
                st.rerun()
            except RegistreError as exc:
                st.error(str(exc))
    st.stop()

jeton = st.session_state["suivi_jeton"]
try:
    me = suivi.registry.moi(jeton)
    states = suivi.mes_grappes(jeton)
except RegistreError as exc:
    st.session_state.pop("suivi_jeton", None)
    st.error(str(exc))
    st.stop()

if not states:
    st.info("Aucune grappe suivie visible par ce compte.")
    st.stop()

if me.role == "ars":
    st.header("Vue ARS : ma région")
    paid = {s.grappe.grappe_id: suivi.versements(jeton, s.grappe.grappe_id) for s in states}
    st.altair_chart(money_calendar(states, paid), width="stretch")
    table = grappes_frame(states, paid)
    st.subheader("Grappes à risque")
    st.dataframe(for_display(table[table["a_risque"] == "oui"]), hide_index=True)
    st.subheader("Toutes les grappes")
    st.dataframe(for_display(table), hide_index=True)
    if st.button("Préparer l'export XLSX"):
        with tempfile.TemporaryDirectory() as tmp:
            path = suivi.exporter(jeton, tmp)
            st.download_button("Télécharger suivi-grappes.xlsx", Path(path).read_bytes(),
                               file_name="suivi-grappes.xlsx")
    st.stop()

st.header("Mes grappes")
codes = [s.grappe.grappe_id for s in states]
code = st.selectbox("Grappe", codes)
state = next(s for s in states if s.grappe.grappe_id == code)
cols = st.columns(len(state.tranches))
for col, t in zip(cols, state.tranches, strict=True):
    when = t.payable_on or t.expected_on
    col.metric(f"Tranche {t.tranche.rang} ({t.tranche.part:.0%})", STATE_LABELS[t.state],
               f"{when:%d/%m/%Y}" if when else None, delta_color="off")
    col.caption(t.reason)
st.subheader("Indicateurs par ESMS")
st.altair_chart(small_multiples(state), width="content")
st.subheader("À corriger en premier")
flags = flags_frame([state])
if flags.empty:
    st.success("Aucun ESMS ne met l'échéance en danger.")
else:
    st.dataframe(for_display(flags.drop(columns=["grappe"])), hide_index=True)
st.dataframe(for_display(tranches_frame([state]).drop(columns=["grappe"])), hide_index=True)

st.subheader("Importer les chiffres du mois")
# the import reruns the page so that the tranches and the chart above show the new month;
# its confirmation is kept in the session to be shown after that rerun, not lost in it
done = st.session_state.pop("suivi_import_fait", None)
if done:
    st.success(done)
with st.form("import"):
    upload = st.file_uploader("CSV des indicateurs (modèle : data/suivi/modele-indicateurs.csv)",
                              type=["csv"])
    replace = st.checkbox("Remplacer les mois déjà enregistrés")
    submitted = st.form_submit_button("Importer")
    if submitted and upload is None:
        st.warning("Choisissez d'abord le fichier CSV des indicateurs.")
    elif submitted:
        try:
            result = suivi.importer(jeton, code, upload.getvalue(), replace)
        except (RegistreError, ValueError) as exc:
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
