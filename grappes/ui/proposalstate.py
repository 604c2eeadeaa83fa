"""The proposal and its edits in the session: the solver's report (cached, or the sample's
precomputed one), the what-if scenario built from it with the page address's edits replayed,
and one edit applied, logged and undoable.

Why apart from the tabs: the proposal, partner and what-if tabs all change the same scenario;
they go through ``apply_edit`` and ``save_log`` so the log in the address stays the truth.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from grappes.core.errors import GrappesError, internal_message, write_crash_report
from grappes.core.model import LoadResult
from grappes.exports.naming import og_labels, with_names
from grappes.scenarios.view import View
from grappes.ui import actions, scenfile
from grappes.ui import edits as edit_log
from grappes.ui.store import cached, grouping_version, holds, session_memo


def compute_report(data_key: str, result: LoadResult, view: View,
                   progress: Callable[[str, float], None] | None = None):
    """The ``grappes.solver.propose`` report for these inputs (cached). On the bundled
    sample, a proposal precomputed for exactly these inputs, rules, settings and solver code
    is costed and checked instead of solving again (``grappes.scenarios.precomputed``)."""

    def compute() -> Any:
        if data_key == "sample":
            report = precomputed_report(result, view)
            if report is not None:
                return report
        from grappes.solver.propose import propose

        return propose(result, view.rules, region=view.region, champ=view.champ,
                       seed=view.seed, time_limit=view.time_limit,
                       departements=list(view.departements) or None, progress=progress)

    return cached(report_store_key(data_key, view), compute)


def report_store_key(data_key: str, view: View) -> str:
    """Where the process store keeps the report of these inputs."""
    return f"report|{data_key}|{view.key()}"


def report_with_progress(data_key: str, result: LoadResult, view: View) -> Any:
    """``compute_report`` for the sidebar's view (rules, région, départements, field, seed,
    time limit) under a progress bar; None, with a French message, when no proposal can be
    made."""
    # the bar's place; the bar shows only while a proposal is computed (a proposal already
    # computed for another visitor sends no bar, whose code a new browser would fetch)
    bar = st.empty()
    if not holds(report_store_key(data_key, view)):
        bar.progress(0.0, text="Calcul de la proposition…")
    try:
        report = compute_report(data_key, result, view,
                                progress=lambda text, share: bar.progress(share, text=text))
    except GrappesError as exc:
        bar.empty()
        st.error(f"Proposition impossible : {exc}")
        return None
    except Exception as exc:
        bar.empty()
        st.error(internal_message(exc, write_crash_report(exc)))
        return None
    bar.empty()
    return report


def precomputed_report(result: LoadResult, view: View) -> Any:
    """The sample's stored proposal for this view when its fingerprint matches (else None)."""
    from grappes.scenarios import precomputed as pre

    entries = cached("precomputed|entries", pre.read_entries)
    if not entries:
        return None
    prints = cached("precomputed|prints", lambda: pre.Prints(result))
    return pre.stored_report(result, view, entries, prints)


def scenario_for(report_key: str, report: Any):
    """The what-if scenario of the session for this report, with the edits kept in the page
    address replayed (a reload keeps them; see ``grappes.ui.edits``)."""
    from grappes.scenarios.scenario import Scenario
    from grappes.scenarios.whatif import WhatIf

    state = st.session_state
    if state.get("scenario_key") != report_key:
        scenfile.forget(state)
        # the evaluated starting point is shared by the sessions (a second visitor does not
        # evaluate it again); each session edits its own copy (costs cache shared on purpose)
        scenario = cached(f"whatif|{report_key}", lambda: evaluated(WhatIf.from_report(report)))
        scenario = scenario.copy()
        tag = edit_log.proposal_tag(report_key)
        log = edit_log.decode(st.query_params.get("modifs"), tag)
        kept, dropped = edit_log.replay(scenario, log) if log else ([], [])
        start = cached(f"start|{report_key}", lambda: Scenario.from_report(report))
        actions.commit(scenario=scenario, scenario_key=report_key, edit_tag=tag,
                       edit_log=kept, replay_dropped=dropped,
                       scenario_meta=(start.scope, start.settings), undo=[])
        save_log(kept)
    return state["scenario"]


def evaluated(whatif: Any) -> Any:
    whatif.evaluate()
    return whatif


def save_log(log: list[dict[str, Any]]) -> None:
    """Keep the edit log in the page address (or drop it when there is none). Not for a
    scenario loaded from a file: its log would be replayed on the plain proposal."""
    if log and not st.session_state.get(scenfile.FROM_FILE):
        st.query_params["modifs"] = edit_log.encode(log, st.session_state["edit_tag"])
    elif "modifs" in st.query_params:
        del st.query_params["modifs"]


def view_memo(name: str, whatif: Any, compute: Callable[[], Any]) -> Any:
    """``compute()`` for the grouping shown: once per session and version of an edited
    grouping, and once for every visitor of the same unedited proposal (issue 20: a second
    visitor rebuilt the shown scenario, the grappes table and the CSV files, about 1.5 s of
    the warm start's server time, for exactly the bytes the first visitor had).

    Unedited: the session's scenario is the proposal of ``scenario_key`` as computed (no
    edit replayed, not loaded from a scenario file), so the key names its content."""
    state = st.session_state
    if (whatif.history or state.get(scenfile.FROM_FILE) or "scenario_key" not in state
            or whatif is not state.get("scenario")):
        return session_memo(name, grouping_version(whatif), compute)
    return cached(f"{name}|{state['scenario_key']}", compute)


def shown_scenario(whatif: Any):
    """The typed ``Scenario`` of the grouping as displayed (edits included)."""
    from grappes.scenarios.scenario import Scenario

    scope, settings = st.session_state.get("scenario_meta", (None, None))
    return view_memo("shown", whatif, lambda: Scenario.from_whatif(whatif, scope, settings))


EditStep = dict[str, Any] | Callable[[Any], dict[str, Any]]


def apply_edit(scenario: Any, edit: dict[str, Any]) -> Any:
    """Apply one what-if edit on a copy, log it (address), keep the previous scenario for
    undo; returns the edited scenario (now the session's), or None when the edit is refused
    (its French message is kept for the page: ``edit_errors``)."""
    state = st.session_state
    work = scenario.copy()
    try:
        edit_log.apply(work, edit)
    except ValueError as exc:
        state["edit_errors"] = [*state.get("edit_errors", []),
                                with_names(str(exc), og_labels(scenario.etab))]
        return None
    log = [*state["edit_log"], edit]
    actions.commit(scenario=work, edit_log=log,
                   undo=[*state["undo"], (scenario, list(state["edit_log"]))],
                   **{actions.SERIAL: actions.serial() + 1})
    save_log(log)
    return work


def _on_edit(drawn: int, steps: list[EditStep], clear: list[str],
             done: Callable[[Any], None] | None) -> None:
    """The action button's callback: the edit(s), once, then the choices cleared."""
    state = st.session_state
    if actions.serial() != drawn:  # a click on a button drawn before another edit
        return
    scenario = state["scenario"]
    for step in steps:
        scenario = apply_edit(scenario, step(scenario) if callable(step) else step)
        if scenario is None:
            return
    for key in clear:  # an empty choice (popping the key would leave the browser's one)
        if key in state:
            state[key] = [] if isinstance(state[key], list) else None
    if done is not None:
        done(scenario)


def edit_button(label: str, name: str, steps: list[EditStep] | None, clear: list[str],
                where: Any = None, done: Callable[[Any], None] | None = None) -> None:
    """An action button (``grappes.ui.actions``): disabled without a target, keyed on the
    edit serial and its target, its edit made in its callback."""
    ready = bool(steps)
    (where or st).button(
        label, key=actions.action_key(name, *(s for s in steps or [] if not callable(s))),
        disabled=not ready, type="primary" if ready else "secondary",
        on_click=_on_edit, args=(actions.serial(), list(steps or []), clear, done))


def show_edit_errors() -> None:
    """The French messages of the edits refused since the last run, and of the ESMS added
    from a partner panel (at the top of the page: the tabs are lazy, the « Et si… » tab
    that used to show it is not drawn while another tab is open)."""
    for message in st.session_state.pop("edit_errors", []):
        st.error(message)
    moved = st.session_state.pop("last_move", None)
    if moved:
        st.success(moved)
