"""The « Trouver des partenaires » tab: search an ESMS of the field, see the grappes and OG it
could join (``grappes.scenarios.partners``) and add it in one click. ``partner_panel`` is
also the panel the proposal tab opens for an ESMS without a grappe."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from grappes.core.formatting import euros, km_text
from grappes.exports.naming import og_labels, with_names
from grappes.ui.datapanel import CHAMP_LABELS
from grappes.ui.my_og import my_og_section
from grappes.ui.proposalmap import proposal_map
from grappes.ui.proposalstate import edit_button
from grappes.ui.store import grouping_version, session_memo
from grappes.ui.views import partners_view


def partner_panel(scenario: Any, report: Any, et: str, prefix: str, top: int = 5) -> None:
    """One ESMS's ranked options, its candidates on the map, and "add it to this grappe"."""
    from grappes.scenarios.partners import find_partners

    try:
        with st.spinner("Évaluation des partenaires…"):
            result = session_memo(f"partners_{prefix}", (grouping_version(scenario), et, top),
                                  lambda: find_partners(scenario, et, top=top))
    except ValueError as exc:
        st.error(str(exc))
        return
    info = result.esms
    names = og_labels(scenario.etab)
    st.markdown(f"**{info['raison_sociale']}** ({info['finess_et']}), {info['categorie']}, "
                f"{info['commune']} — OG {names.get(info['finess_ej'], info['finess_ej'])}"
                + (" — ESMS autonome" if info["autonome"] else ""))
    if result.grappe_actuelle:
        d = result.depart or {}
        st.info(f"Actuellement dans la grappe {result.grappe_actuelle}. La quitter : "
                f"{'grappe toujours valide' if d.get('valide_apres') else 'grappe invalide'}"
                f", financement {euros(d.get('financement_avant', 0))} → "
                f"{euros(d.get('financement_apres', 0))}.")
    frame = result.frame()
    if frame.empty:
        st.warning("Aucune grappe ni OG du même champ à moins de 100 km.")
        return
    partners_view(frame, names).show(f"partners_table_{prefix}")
    options = {f"{r.type}|{r.cible}": f"{r.rang}. {r.libelle} — "
               + ("valide après" if r.valide_apres else with_names(
                   f"invalide après ({r.regles_enfreintes or 'règles de l’appel'})", names))
               + f", {euros(r.financement_apres)}, {km_text(r.distance_km)}"
               for r in frame.itertuples()}
    pick = st.selectbox("Cible", list(options), format_func=options.get,
                        key=f"partner_pick_{prefix}")
    kind, target = pick.split("|", 1)
    if kind == "grappe":
        proposal_map(scenario, report, target, f"carte_{prefix}", height=380)
    og = info["finess_ej"]
    row = next(r for r in frame.itertuples() if f"{r.type}|{r.cible}" == pick)
    esms = f"{info['raison_sociale']} ({info['finess_et']})"
    label = (f"Ajouter {esms} à la grappe {target}" if kind == "grappe" else
             f"Former une nouvelle grappe : {esms} avec {names.get(target, target)}")
    if not row.valide_apres:
        st.warning(with_names(f"Après cet ajout la grappe serait invalide "
                              f"({row.regles_enfreintes or 'règles de l’appel'}) : elle "
                              "resterait marquée invalide dans les exports.", names))
    if kind == "grappe":
        steps: list[Any] = [{"op": "move", "og": og, "to": target}]
    else:  # a new grappe with this ESMS's OG, then the target OG joins it
        steps = [{"op": "move", "og": og, "to": "nouvelle"},
                 lambda s: {"op": "move", "og": target, "to": s.assignment.get(et, "")}]
    clear = ([f"partner_pick_{prefix}", "partner_esms", "partner_query"]
             if prefix == "search" else [f"partner_pick_{prefix}"])

    def done(edited: Any) -> None:
        # shown at the top of the page by the next run, in whichever tab is open
        st.session_state["last_move"] = with_names(f"{esms} ajouté : {edited.history[-1]}",
                                                   og_labels(edited.etab))

    edit_button(label, f"partner_{prefix}_{et}_{pick}", steps, clear, done=done)


def partners_tab(scenario: Any, report: Any, field_choices: Sequence[str]) -> None:
    from grappes.scenarios.partners import search_esms

    with st.expander("Mon OG : ma grappe, mes partenaires, mon financement", expanded=True):
        my_og_section(scenario)
    champs = [scenario.champ] if scenario.champ else list(
        scenario.rules.grouping.eligible_champs)
    st.markdown("Cherchez un ESMS du champ étudié (nom de l'ESMS ou de son OG, numéro FINESS "
                "de l'établissement ou de l'OG, commune) pour voir les grappes et OG qu'il "
                "pourrait rejoindre, et ce que cela changerait.")
    query = st.text_input("ESMS ou OG recherché", key="partner_query",
                          placeholder="ex. EHPAD Tours, CCAS de Dun, 370012345, Vierzon")
    if not query:
        return
    found_all = search_esms(scenario.etab, query, scenario.assignment, limit=50)
    found = found_all[found_all["champ"].isin(champs)].head(20)
    other = found_all[~found_all["champ"].isin(champs)]
    if len(other):
        fields = sorted(set(other["champ"]) & set(field_choices))
        st.caption(f"{len(other)} ESMS d'un autre champ correspondent aussi "
                   f"({', '.join(sorted(set(other['champ'])))}).")
        for c in fields:
            st.button(f"Passer au champ {CHAMP_LABELS.get(c, c)}", key=f"switch_{c}",
                      on_click=lambda c=c: st.session_state.update(champ=c))
    if found.empty:
        st.warning("Aucun ESMS du champ étudié ne correspond.")
        return
    labels = {r.finess_et: f"{r.raison_sociale} — {r.commune_nom} ({r.finess_et})"
              + (" · autonome" if r.autonome else "") + (f" · {r.grappe}" if r.grappe else "")
              for r in found.itertuples()}
    et = st.selectbox("ESMS", list(labels), format_func=labels.get, key="partner_esms")
    top = st.slider("Nombre de propositions", 3, 15, 5, key="partner_top")
    partner_panel(scenario, report, et, "search", top=top)

