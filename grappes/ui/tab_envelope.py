"""The « Enveloppe ARS » tab: the form (envelope, windows, mode) and the funded grappes; the
choice itself is ``grappes.ui.envelope``."""

from __future__ import annotations

from typing import Any

import streamlit as st

from grappes.core.formatting import decimal_fr, euros, euros_short
from grappes.core.numbers import NumberError, parse_amount, parse_percent
from grappes.core.vocabulary import MODE_LABELS
from grappes.ui.proposalstate import shown_scenario
from grappes.ui.store import grouping_version, session_memo


def envelope_tab(scenario: Any, rules_name: str) -> None:
    from grappes.programme.funding_select import MODES
    from grappes.programme.rules import load_rules
    from grappes.ui.envelope import DEFAULT_WINDOWS, EnvelopeRequest, run_envelope

    data = shown_scenario(scenario)
    rule_set = load_rules(rules_name)
    st.markdown("Entrez l'enveloppe régionale et les fenêtres de sélection : l'outil choisit, "
                "parmi les grappes valides de la proposition affichée (modifications "
                "comprises), celles qui rapportent le plus de points sans dépasser l'enveloppe "
                "(optimum exact, comme la commande « grappes selectionner »).")
    default_env = float(round(scenario.current.totals["financement"] * 0.6, -3)) or 1_000_000.0
    shares = [w.share for w in rule_set.windows] or list(DEFAULT_WINDOWS)
    labels = [w.label for w in rule_set.windows] or None
    # no « Press Enter to submit form » (English): Enter does not submit, the button does
    with st.form("envelope_form", enter_to_submit=False):
        c1, c2, c3 = st.columns([2, 2, 2])
        envelope_text = c1.text_input(
            "Enveloppe régionale (€)", value=euros(default_env), key="env_amount",
            help="Écrivez le montant à la française : 6 000 000, 6 000 000,50 ou 6,5 M€.")
        windows_text = c2.text_input("Fenêtres : parts cumulées de l'enveloppe (%)",
                                     value=" ; ".join(decimal_fr(s * 100, 0) for s in shares),
                                     key="env_windows")
        mode = c3.radio("Mode", list(MODES), format_func=MODE_LABELS.get, key="env_mode",
                        help="Séquentiel : le processus des documents (000), fenêtre par "
                             "fenêtre. Global : comparaison a posteriori, toutes les "
                             "candidatures connues d'avance.")
        # the ARS's decisions by hand (issue 20, item 8): the rest is re-optimised exactly
        names = data.og_names()
        label = {g.id: f"{g.id} — {names.get(data.costs[g.id].porteur, '') or 'porteur ?'}"
                 for g in data.grappes if g.id in data.costs and data.valid(g.id)}
        d1, d2, d3 = st.columns([2, 2, 2])
        forced = d1.multiselect("Imposer ces grappes", list(label), format_func=label.get,
                                key="env_forced", placeholder="Aucune grappe imposée")
        excluded = d2.multiselect("Écarter ces grappes", list(label), format_func=label.get,
                                  key="env_excluded", placeholder="Aucune grappe écartée")
        motif = d3.text_input("Motif de ces choix (affiché dans la sélection)", key="env_motif")
        submitted = st.form_submit_button("Choisir les grappes financées", type="primary")
    try:
        envelope = parse_amount(envelope_text, "Enveloppe régionale")
        if envelope <= 0:
            raise NumberError("Enveloppe régionale : un montant positif est attendu.")
        windows = tuple(parse_percent(p, "Fenêtres") for p in windows_text.split(";")
                        if p.strip())
    except NumberError as exc:
        st.error(str(exc))
        return
    st.caption(f"Enveloppe lue : {euros(envelope)} ({euros_short(envelope)}).")
    if not submitted and "env_result" not in st.session_state:
        return
    both = sorted(set(forced) & set(excluded))
    if both:
        st.error(f"Une grappe ne peut être à la fois imposée et écartée : {', '.join(both)}.")
        return
    request = EnvelopeRequest(envelope=float(envelope), windows=windows, mode=mode,
                              forced=tuple((g, motif.strip()) for g in forced),
                              excluded=tuple((g, motif.strip()) for g in excluded))
    key = (grouping_version(scenario), request)
    try:
        with st.spinner("Choix des grappes financées…"):
            result = session_memo("envelope", key, lambda: run_envelope(
                data, request, labels if labels and len(labels) == len(windows) else None))
    except ValueError as exc:
        st.error(str(exc))
        return
    st.session_state["env_result"] = True
    st.success(result.summary)
    cols = st.columns(3)
    cols[0].metric("Engagé", euros_short(result.selection.total_cost),
                   help=euros(result.selection.total_cost))
    cols[1].metric("Reste", euros_short(result.remaining), help=euros(result.remaining))
    cols[2].metric("Points des grappes financées", result.selection.total_points)
    for note in result.notes:
        st.warning(note)
    if result.priorities:
        st.markdown("**Priorités de l'ARS et décisions**")
        st.markdown("\n".join(f"- {line}" for line in result.priorities))
    st.markdown("**Par fenêtre**")
    result.windows.show("env_windows_table")
    st.markdown("**Grappes financées**")
    result.funded.show("env_funded_table")
    st.markdown("**Grappes non financées, et pourquoi**")
    result.not_funded.show("env_not_funded_table")
    st.download_button("Télécharger la sélection (CSV)", result.csv(),
                       file_name="selection_enveloppe.csv", mime="text/csv",
                       key="dl_envelope", on_click="ignore")

