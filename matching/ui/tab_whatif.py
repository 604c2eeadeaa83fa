"""The « Et si… » tab: lock, separate, move, exclude, change the porteur, tick declared grid
criteria, undo, reset, and run the solver again under the locks; each edit is revalidated and
costed at once (``matching.scenarios.whatif``)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from matching.core.formatting import decimal_fr, euros
from matching.solver.settings import APP_TIME_LIMIT
from matching.ui import scenfile
from matching.ui.proposalstate import apply_edit, save_log
from matching.ui.views import changes_view, esms_labels, og_labels, with_names


def scope_ogs(scenario: Any) -> list[str]:
    """OGs with ESMS that can take part (field studied, in scope, not set aside)."""
    etab = scenario.etab
    et = etab["finess_et"].astype("string")
    ok = ~et.isin(list(scenario.set_aside | set(scenario.constraints.excluded_esms)))
    if scenario.champ:
        ok &= etab["champ"].astype("string") == scenario.champ
    else:
        ok &= etab["champ"].isin(list(scenario.rules.grouping.eligible_champs))
    return sorted(set(etab.loc[ok.to_numpy(), "finess_ej"].astype("string")) - {""})


def kept_text() -> str:
    """Where the edits are kept: in the page address for the proposal, not for a scenario
    loaded from a file (its log is not written there, see ``save_log``)."""
    loaded_from = st.session_state.get(scenfile.FROM_FILE)
    if loaded_from:
        return (f"Scénario chargé depuis « {loaded_from} » : ses modifications et les "
                "vôtres ne sont pas gardées dans l'adresse de la page (un rechargement revient "
                "à la proposition) ; enregistrez le scénario (onglet « Exports ») pour les "
                "garder.")
    return ("Les modifications sont gardées dans l'adresse de la page : un rechargement ou un "
            "lien copié les conserve.")


def whatif_tab(scenario: Any) -> None:
    state = st.session_state
    names = og_labels(scenario.etab)
    placed_ogs = sorted({scenario.og_of(e) for e in scenario.assignment} - {""})
    field_ogs = scope_ogs(scenario)
    grappes = scenario.grappe_ids
    st.markdown("Chaque modification est revalidée et rechiffrée tout de suite ; le solveur "
                "peut ensuite chercher à nouveau en respectant les verrous. " + kept_text())
    results = st.container()

    def edit(entry: dict[str, Any]) -> None:
        apply_edit(scenario, entry, results)

    c1, c2 = st.columns(2)
    with c1.form("lock_form"):
        st.markdown("**Verrouiller des OG ensemble** (partenariat existant)")
        ogs = st.multiselect("OG", field_ogs, format_func=names.get, key="lock_ogs",
                             placeholder="choisir au moins deux OG")
        if st.form_submit_button("Verrouiller"):
            edit({"op": "lock", "ogs": list(ogs)})
    with c2.form("apart_form"):
        st.markdown("**Séparer deux OG**")
        # options keep their order and the widgets their key: the choice stays put
        a = st.selectbox("OG A", placed_ogs, format_func=names.get, key="apart_a")
        if state.get("apart_b") not in placed_ogs:
            state["apart_b"] = placed_ogs[min(1, len(placed_ogs) - 1)] if placed_ogs else None
        b = st.selectbox("OG B", placed_ogs, format_func=names.get, key="apart_b")
        if st.form_submit_button("Séparer"):
            edit({"op": "apart", "a": a, "b": b})
    c3, c4 = st.columns(2)
    with c3.form("move_form"):
        st.markdown("**Déplacer un OG**")
        og = st.selectbox("OG", field_ogs, format_func=names.get, key="move_og")
        targets = [*grappes, "nouvelle", ""]
        to = st.selectbox("Vers", targets, key="move_to", format_func=lambda t: {
            "nouvelle": "une nouvelle grappe", "": "hors de toute grappe"}.get(t, t))
        if st.form_submit_button("Déplacer"):
            edit({"op": "move", "og": og, "to": to})
    with c4.form("exclude_form"):
        st.markdown("**Exclure un ESMS**")
        placed = sorted(scenario.assignment)
        labels = esms_labels(scenario.etab)
        et = st.selectbox("ESMS", placed, key="exclude_et", format_func=labels.get)
        if st.form_submit_button("Exclure"):
            edit({"op": "exclude", "et": et})
    c5, c6 = st.columns(2)
    with c5:
        st.markdown("**Changer le porteur**")
        gid = st.selectbox("Grappe", grappes, key="porteur_grappe")
        if gid:
            current = scenario.current.costs[gid].porteur if scenario.current else ""
            members = scenario.ogs(gid)
            new = st.selectbox("Porteur", members, format_func=names.get, key="porteur_og",
                               index=members.index(current) if current in members else 0)
            if st.button("Changer le porteur", key="porteur_btn"):
                edit({"op": "porteur", "g": gid, "og": new})
    with c6:
        st.markdown("**Critères déclarés de la grille**")
        gid2 = st.selectbox("Grappe ", grappes, key="declare_grappe")
        declarable = [c for c in scenario.rules.grid.criteria if not c.computed]
        ticked = scenario.declared.get(gid2, {}) if gid2 else {}
        with st.form("declare_form"):
            values = {c.code: st.checkbox(f"{c.label} ({c.points} pt)",
                                          value=bool(ticked.get(c.code)),
                                          key=f"decl_{gid2}_{c.code}") for c in declarable}
            if st.form_submit_button("Enregistrer les critères") and gid2:
                edit({"op": "declare", "g": gid2, "c": values})

    b1, b2, b3 = st.columns(3)
    if b1.button("Annuler la dernière modification", disabled=not state["undo"],
                 key="undo_btn"):
        state["scenario"], state["edit_log"] = state["undo"].pop()
        save_log(state["edit_log"])
        st.rerun()
    if b2.button("Revenir à la proposition", disabled=not scenario.history, key="reset_btn"):
        state["scenario_key"] = None
        st.query_params.pop("modifs", None)
        st.rerun()
    if b3.button("Relancer le solveur avec les verrous", key="rerun_btn"):
        with st.spinner("Nouvelle recherche sous contraintes…"):
            edit({"op": "rerun", "seed": int(state.get("seed", 0)),
                  "t": float(state.get("time_limit", APP_TIME_LIMIT))})

    evaluation = scenario.current
    if evaluation is None:
        return
    with results:
        if state.get("last_move"):
            st.success(with_names(state.pop("last_move"), names))
        if not scenario.history:
            st.caption("Aucune modification pour l'instant.")
            return
        totals = evaluation.totals
        st.markdown(
            f"**Après {len(scenario.history)} modification(s)** : "
            f"{int(totals['valides'])}/{int(totals['grappes'])} grappes valides "
            f"({int(totals.get('delta_valides', 0)):+d}), points grille "
            f"{int(totals['points_grille'])} ({int(totals.get('delta_points_grille', 0)):+d}), "
            "financement des grappes valides "
            f"{euros(totals['financement'])} "
            f"({euros(totals.get('delta_financement', 0.0), signed=True)}) — "
            f"revalidé et rechiffré en {decimal_fr(evaluation.elapsed_s, 2)} s.")
        for text in scenario.history:
            st.markdown(f"- {with_names(text, names)}")
        for issue in evaluation.lock_issues:
            st.warning(with_names(issue, names))
        for gid, message in evaluation.new_violations:
            st.error(f"{gid} : {message}")
        changed = evaluation.grappes[evaluation.grappes["modifiee"]]
        changes_view(changed, names).show("whatif_table")

