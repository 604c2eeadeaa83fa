"""The « Et si… » tab: lock, separate, move, exclude, change the porteur, tick declared grid
criteria, undo, reset, and run the solver again under the locks; each edit is revalidated and
costed at once (``grappes.scenarios.whatif``)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from grappes.core.formatting import decimal_fr, euros
from grappes.exports.naming import esms_labels, og_labels, with_names
from grappes.solver.settings import APP_TIME_LIMIT
from grappes.ui import actions, scenfile
from grappes.ui.proposalstate import edit_button, save_log, show_edit_errors
from grappes.ui.views import changes_view


def table_rows(scenario: Any) -> tuple[list[tuple[str, str, str]], dict[str, str],
                                          dict[str, str]]:
    """The scenario's table read once per table (an edit keeps it: ``WhatIf.copy`` shares
    it): (ET, EJ, field) per row, the OGs' and the ESMS' names. Each « Et si… » run used to
    read them again from the table, about a third of the tab's server time (issue 20,
    item 9: a what-if edit ≤ 0.5 s end to end)."""
    state = st.session_state
    memo = state.get("_whatif_table")
    if memo is None or memo[0] is not scenario.etab:
        etab = scenario.etab
        columns = [etab[c].astype("string").fillna("") if c in etab.columns
                   else [""] * len(etab) for c in ("finess_et", "finess_ej", "champ")]
        rows = list(zip(*columns, strict=True))
        memo = (etab, rows, og_labels(etab), esms_labels(etab))
        state["_whatif_table"] = memo
    return memo[1], memo[2], memo[3]


def scope_ogs(scenario: Any) -> list[str]:
    """OGs with ESMS that can take part (field studied, in scope, not set aside)."""
    rows, _, _ = table_rows(scenario)
    out = scenario.set_aside | set(scenario.constraints.excluded_esms)
    champs = ({scenario.champ} if scenario.champ
              else set(scenario.rules.grouping.eligible_champs))
    return sorted({ej for et, ej, champ in rows
                   if et not in out and champ in champs} - {""})


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


def undo(drawn: int) -> None:
    """Back to the scenario before the last edit (callback; once per click)."""
    state = st.session_state
    if actions.serial() != drawn or not state["undo"]:
        return
    *rest, (previous, log) = state["undo"]
    actions.commit(scenario=previous, edit_log=log, undo=rest,
                   **{actions.SERIAL: actions.serial() + 1})
    save_log(log)


def reset(drawn: int) -> None:
    """Back to the proposal (callback): the page rebuilds it, without the address's log."""
    if actions.serial() != drawn:
        return
    actions.commit(scenario_key=None, **{actions.SERIAL: actions.serial() + 1})
    st.query_params.pop("modifs", None)


def act(name: str, label: str, keys: list[str], entry: dict[str, Any] | None) -> None:
    """One action button: disabled until its target is chosen, named after it; its edit is
    made once, then its choices are cleared (``proposalstate.edit_button``)."""
    edit_button(label, name, [entry] if entry else None, keys)


def grappe_text(t: str) -> str:
    return {"nouvelle": "une nouvelle grappe", "": "hors de toute grappe"}.get(
        t, f"la grappe {t}")


@st.fragment
def whatif_fragment() -> None:
    """The tab as a fragment: a choice or an edit made here reruns this tab only, not the
    page (sidebar, file check, tab bar...; issue 20, item 9: a what-if edit ≤ 0.5 s end to
    end). The scenario is read from the session at each run: the one the page passed to
    the fragment's first run is stale after an edit. « Revenir à la proposition » needs
    the page: the proposal is rebuilt there."""
    state = st.session_state
    if state.get("scenario_key") is None or "scenario" not in state:
        st.rerun(scope="app")
    show_edit_errors()  # refused edits (the page's top is not redrawn by this run)
    scenario = state["scenario"]
    if scenario.current is None:  # as the page does before its tabs
        scenario.evaluate()
    whatif_tab(scenario)


def whatif_tab(scenario: Any) -> None:
    _, names, labels = table_rows(scenario)
    st.markdown("Chaque modification est revalidée et rechiffrée tout de suite ; le solveur "
                "peut ensuite chercher à nouveau en respectant les verrous. " + kept_text())
    if scenario.current is not None:  # first: what the user looks for after a click
        _results(scenario, names)
    placed_ogs = sorted({scenario.og_of(e) for e in scenario.assignment} - {""})
    field_ogs = scope_ogs(scenario)
    c1, c2 = st.columns(2)
    with c1:
        _lock_action(field_ogs, names)
    with c2:
        _apart_action(placed_ogs, names)
    c3, c4 = st.columns(2)
    with c3:
        _move_action(scenario, field_ogs, names)
    with c4:
        _exclude_action(scenario, labels)
    c5, c6 = st.columns(2)
    with c5:
        _porteur_action(scenario, names)
    with c6:
        _declare_action(scenario)
    _history_buttons(st.session_state, scenario)


def _lock_action(field_ogs: list[str], names: dict[str, str]) -> None:
    st.markdown("**Verrouiller des OG ensemble** (partenariat existant)")
    ogs = st.multiselect("OG", field_ogs, format_func=names.get, key="lock_ogs",
                         placeholder="Choisir au moins deux OG")
    act("lock", "Verrouiller ensemble : " + ", ".join(names.get(o, o) for o in ogs)
        if len(ogs) >= 2 else "Verrouiller (choisir au moins deux OG)", ["lock_ogs"],
        {"op": "lock", "ogs": list(ogs)} if len(ogs) >= 2 else None)


def _apart_action(placed_ogs: list[str], names: dict[str, str]) -> None:
    st.markdown("**Séparer deux OG**")
    a = st.selectbox("OG A", placed_ogs, format_func=names.get, key="apart_a", index=None,
                     placeholder="Choisir un OG")
    b = st.selectbox("OG B", placed_ogs, format_func=names.get,
                     key="apart_b", index=None, placeholder="Choisir un autre OG")
    ready = a is not None and b is not None and a != b
    act("apart", f"Séparer {names.get(a, a)} et {names.get(b, b)}" if ready
        else "Séparer (choisir deux OG)", ["apart_a", "apart_b"],
        {"op": "apart", "a": a, "b": b} if ready else None)


def _move_action(scenario: Any, field_ogs: list[str], names: dict[str, str]) -> None:
    st.markdown("**Déplacer un OG**")
    og = st.selectbox("OG", field_ogs, format_func=names.get, key="move_og", index=None,
                      placeholder="Choisir un OG")
    to = st.selectbox("Vers", [*scenario.grappe_ids, "nouvelle", ""], key="move_to", index=None,
                      format_func=grappe_text, placeholder="Choisir la destination")
    ready = og is not None and to is not None
    act("move", f"Déplacer {names.get(og, og)} vers {grappe_text(to)}" if ready
        else "Déplacer (choisir l'OG et la destination)", ["move_og", "move_to"],
        {"op": "move", "og": og, "to": to} if ready else None)


def _exclude_action(scenario: Any, labels: dict[str, str]) -> None:
    st.markdown("**Exclure un ESMS**")
    et = st.selectbox("ESMS", sorted(scenario.assignment), key="exclude_et",
                      format_func=labels.get, index=None, placeholder="Choisir un ESMS placé")
    act("exclude", f"Exclure {labels.get(et, et)} de la grappe "
        f"{scenario.assignment.get(et, '')}" if et else "Exclure (choisir un ESMS)",
        ["exclude_et"], {"op": "exclude", "et": et} if et else None)


def _porteur_action(scenario: Any, names: dict[str, str]) -> None:
    st.markdown("**Changer le porteur**")
    gid = st.selectbox("Grappe", scenario.grappe_ids, key="porteur_grappe", index=None,
                       placeholder="Choisir une grappe")
    new = None
    if gid:
        current = scenario.current.costs[gid].porteur if scenario.current else ""
        members = [o for o in scenario.ogs(gid) if o != current]
        new = st.selectbox("Nouveau porteur", members, format_func=names.get,
                           key="porteur_og", index=None, placeholder="Choisir un OG")
    act("porteur", f"Nommer {names.get(new, new)} porteur de la grappe {gid}" if new
        else "Changer le porteur (choisir la grappe et l'OG)",
        ["porteur_grappe", "porteur_og"],
        {"op": "porteur", "g": gid, "og": new} if gid and new else None)


def _declare_action(scenario: Any) -> None:
    st.markdown("**Critères déclarés de la grille**")
    gid = st.selectbox("Grappe ", scenario.grappe_ids, key="declare_grappe", index=None,
                       placeholder="Choisir une grappe")
    declarable = [c for c in scenario.rules.grid.criteria if not c.computed]
    ticked = scenario.declared.get(gid, {}) if gid else {}
    values = {c.code: st.checkbox(f"{c.label} ({c.points} pt)",
                                  value=bool(ticked.get(c.code)),
                                  key=f"decl_{gid}_{c.code}", disabled=not gid)
              for c in declarable}
    changed = gid and any(bool(ticked.get(k)) != v for k, v in values.items())
    act("declare", f"Enregistrer les critères de la grappe {gid}" if changed
        else "Enregistrer les critères (choisir une grappe, cocher)", ["declare_grappe"],
        {"op": "declare", "g": gid, "c": values} if changed else None)


def _history_buttons(state: Any, scenario: Any) -> None:
    """Undo, back to the proposal, and the solver again with the locks."""
    b1, b2, b3 = st.columns(3)
    b1.button("Annuler la dernière modification", disabled=not state["undo"],
              key=actions.action_key("undo", len(state["undo"])), on_click=undo,
              args=(actions.serial(),))
    b2.button("Revenir à la proposition", disabled=not scenario.history,
              key=actions.action_key("reset"), on_click=reset, args=(actions.serial(),))
    with b3:
        edit_button("Relancer le solveur avec les verrous", "rerun",
                    [{"op": "rerun", "seed": int(state.get("seed", 0)),
                      "t": float(state.get("time_limit", APP_TIME_LIMIT))}], [])


def _results(scenario: Any, names: dict[str, str]) -> None:
    """What the edits changed: totals and their deltas, the edits, the new broken rules and
    the changed grappes."""
    evaluation = scenario.current
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
        st.error(with_names(f"{gid} : {message}", names))
    changed = evaluation.grappes[evaluation.grappes["modifiee"]]
    changes_view(changed, names).show("whatif_table")
