"""grappes — the Streamlit app: data, proposal map and table, partner finder, what-if, the ARS
envelope, a comparison of the calls, exports.

Run with ``streamlit run app.py``. This file only lays the page out; what it shows is computed
in ``matching.ui`` (``upload``: reading files and templates; ``views``: French tables, counts
and headline figures; ``envelope``: the ARS envelope; ``compare``: the calls side by side;
``edits``: the what-if log kept in the page address; ``store``: caching; ``page``: French
texts and styles) and in the library (``matching.solver.propose``, ``matching.scenarios``,
``matching.exports``). It opens on the bundled synthetic sample region.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from matching.core.formatting import decimal_fr, euros, euros_short, km_text
from matching.core.model import CHAMPS, LoadResult
from matching.core.vocabulary import CHAMP_LABELS as CHAMP_NAMES
from matching.core.vocabulary import MODE_LABELS
from matching.exports.french_excel import csv_bytes
from matching.ingest import IngestError
from matching.ingest.check import summarise
from matching.ui import edits as edit_log
from matching.ui import scenfile
from matching.ui.page import DATA_SOURCES, FRENCH_SCRIPT, HOW_IT_WORKS, PAGE_CSS
from matching.ui.store import cached, grouping_version, session_memo
from matching.ui.upload import (
    MAX_UPLOAD_MB,
    dui_template,
    establishment_template,
    files_key,
    read_upload,
    rejects_frame,
)
from matching.ui.views import (
    changes_view,
    count_view,
    counts,
    esms_labels,
    funding_view,
    grappes_view,
    headline,
    members_view,
    og_labels,
    partners_view,
    points_text,
    unplaced_view,
    with_names,
)

#: CP-SAT budget of the first proposal (seconds): a quick answer first, more on demand
DEFAULT_TIME_LIMIT = 2.0
DEFAULT_CHAMP = "PA"
SAMPLE_LABEL = "Région exemple (synthétique, Centre-Val de Loire)"
UPLOAD_LABEL = "Mes fichiers FINESS"
ALL_CHAMPS = scenfile.ALL_CHAMPS
CHAMP_LABELS: dict[str, str] = {
    **{c: f"{c} — {CHAMP_NAMES[c]}" for c in CHAMPS},
    ALL_CHAMPS: "Tous les champs (plus long)",
}


# --------------------------------------------------------------------------- data


def region_label(code: str) -> str:
    """'24 — Centre-Val de Loire' (the code alone when the name is unknown)."""
    from geo.territories import get_territoires

    name = get_territoires().region_nom(code)
    return f"{code} — {name}" if name else str(code)


def territory_choices(result: LoadResult) -> tuple[list[str], dict[str, list[str]]]:
    """Régions present (most ESMS first) and their départements."""
    table = result.etablissements
    esms = table[table["champ"].isin(list(CHAMPS))]
    counts_ = esms["region"].astype("string").fillna("").value_counts()
    regions = [str(r) for r in counts_.index if str(r)]
    deps = {r: sorted({str(d) for d in esms.loc[esms["region"] == r, "departement"]})
            for r in regions}
    return regions, deps


def champ_choices(result: LoadResult, rules_name: str) -> list[str]:
    """Fields present in the file and eligible under the rule set (programme order)."""
    from matching.programme.rules import load_rules

    eligible = load_rules(rules_name).grouping.eligible_champs
    present = set(result.etablissements["champ"].astype("string").fillna(""))
    return [c for c in CHAMPS if c in present and c in eligible]


def sample_result() -> LoadResult:
    from matching.ingest.sample import load_sample

    return cached("sample", load_sample)


def compute_report(data_key: str, result: LoadResult, rules_name: str, region: str | None,
                   departements: tuple[str, ...], champ: str | None, seed: int,
                   time_limit: float, progress: Callable[[str, float], None] | None = None):
    """The ``matching.solver.propose`` report for these inputs (cached). On the bundled
    sample, a proposal precomputed for exactly these inputs, rules, settings and solver code
    is costed and checked instead of solving again (``matching.scenarios.precomputed``)."""

    def compute() -> Any:
        if data_key == "sample":
            report = precomputed_report(result, rules_name, region, departements, champ,
                                        seed, time_limit)
            if report is not None:
                return report
        from matching.solver.propose import propose

        return propose(result, rules_name, region=region, champ=champ, seed=seed,
                       time_limit=time_limit, departements=list(departements) or None,
                       progress=progress)

    key = f"report|{data_key}|{rules_name}|{region}|{departements}|{champ}|{seed}|{time_limit}"
    return cached(key, compute)


def precomputed_report(result: LoadResult, rules_name: str, region: str | None,
                       departements: tuple[str, ...], champ: str | None, seed: int,
                       time_limit: float) -> Any:
    """The sample's stored proposal for this view when its fingerprint matches (else None)."""
    from matching.scenarios import precomputed as pre

    entries = cached("precomputed|entries", pre.read_entries)
    if not entries:
        return None
    prints = cached("precomputed|prints", lambda: pre.Prints(result))
    view = pre.View(rules_name, region, tuple(departements), champ, int(seed), float(time_limit))
    return pre.stored_report(result, view, entries, prints)


def scenario_for(report_key: str, report: Any):
    """The what-if scenario of the session for this report, with the edits kept in the page
    address replayed (a reload keeps them; see ``matching.ui.edits``)."""
    from matching.scenarios.scenario import Scenario
    from matching.scenarios.whatif import WhatIf

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
        state["scenario"] = scenario
        state["scenario_key"] = report_key
        state["edit_tag"] = tag
        state["edit_log"] = kept
        state["replay_dropped"] = dropped
        start = cached(f"start|{report_key}", lambda: Scenario.from_report(report))
        state["scenario_meta"] = (start.scope, start.settings)
        state["undo"] = []
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


def shown_scenario(whatif: Any):
    """The typed ``Scenario`` of the grouping as displayed (edits included)."""
    from matching.scenarios.scenario import Scenario

    scope, settings = st.session_state.get("scenario_meta", (None, None))
    return session_memo("shown", grouping_version(whatif),
                        lambda: Scenario.from_whatif(whatif, scope, settings))


def apply_edit(scenario: Any, edit: dict[str, Any], where: Any) -> bool:
    """Apply one what-if edit, log it (address), keep an undo copy; False with a French
    message when the edit is refused."""
    state = st.session_state
    before = scenario.copy()
    try:
        edit_log.apply(scenario, edit)
    except ValueError as exc:
        where.error(with_names(str(exc), og_labels(scenario.etab)))
        return False
    state["undo"].append((before, list(state["edit_log"])))
    state["edit_log"] = [*state["edit_log"], edit]
    save_log(state["edit_log"])
    return True


# --------------------------------------------------------------------------- page parts


def sidebar() -> dict[str, Any]:
    """Data source, call; returns the choices."""
    from matching.programme.rules import DEFAULT_RULES, available_rules, load_rules

    sb = st.sidebar
    sb.header("1. Données")
    source = sb.radio("Source", [SAMPLE_LABEL, UPLOAD_LABEL], key="source",
                      label_visibility="collapsed")
    choice: dict[str, Any] = {"source": source}
    if source == UPLOAD_LABEL:
        help_size = f"Au plus {MAX_UPLOAD_MB} Mo par fichier."
        etab_file = sb.file_uploader(
            "Établissements : FINESS+ (finess-structures-….json.gz), extrait FINESS "
            "cs1100507 ou modèle CSV", type=["gz", "json", "csv", "txt"], key="etab_file",
            help=help_size)
        ej_file = sb.file_uploader("Entités juridiques (cs1100501), facultatif",
                                   type=["csv", "txt"], key="ej_file", help=help_size)
        dui_file = sb.file_uploader("Fichier DUI (éditeurs et statuts), facultatif",
                                    type=["csv", "txt"], key="dui_file", help=help_size)
        sb.caption(f"Fichiers CSV, TXT, JSON ou JSON.GZ, au plus {MAX_UPLOAD_MB} Mo chacun.")
        choice["files"] = (etab_file, ej_file, dui_file)
    rules = available_rules()
    sb.header("2. Appel à projets")
    # a loaded scenario sets the value (matching.ui.scenfile): no default beside it then
    if st.session_state.get("rules") not in rules:
        st.session_state["rules"] = DEFAULT_RULES if DEFAULT_RULES in rules else rules[0]
    choice["rules"] = sb.selectbox(
        "Appel à projets (jeu de règles)", rules, key="rules",
        format_func=lambda n: load_rules(n).title or n)
    return choice


def first_screen(expanded: bool) -> None:
    """What a grappe is, where the files come from, the templates."""
    with st.expander("Comment ça marche ? Grappe, porteur, points, fichiers à fournir",
                     expanded=expanded):
        left, right = st.columns([3, 2])
        left.markdown(HOW_IT_WORKS)
        with right:
            st.markdown(DATA_SOURCES)
            st.download_button("Modèle : liste des établissements (CSV)",
                               establishment_template(), file_name="modele_etablissements.csv",
                               mime="text/csv", key="dl_template_etab", on_click="ignore")
            st.download_button("Modèle : fichier DUI (CSV)", dui_template(),
                               file_name="modele_dui.csv", mime="text/csv",
                               key="dl_template_dui", on_click="ignore")


def load_data(choice: dict[str, Any]) -> tuple[str, LoadResult] | None:
    """The loaded table for the chosen source, with a progress bar for uploads."""
    if choice["source"] == SAMPLE_LABEL:
        with st.spinner("Lecture de la région exemple…"):
            return "sample", sample_result()
    etab_file, ej_file, dui_file = choice["files"]
    if etab_file is None:
        st.info("Déposez un extrait FINESS des établissements dans le panneau de gauche "
                f"(au plus {MAX_UPLOAD_MB} Mo), ou revenez à la région exemple.")
        return None
    key = "upload|" + files_key(etab_file, ej_file, dui_file)
    bar = st.progress(0.0, text="Lecture du fichier…")

    def progress(done: int, total: int) -> None:
        share = done / total if total else 1.0
        bar.progress(min(share, 1.0), text=f"Lecture du fichier : {done:,} / {total:,} lignes"
                     .replace(",", " "))

    try:
        result = cached(key, lambda: read_upload(etab_file, ej_file, dui_file, progress))
    except IngestError as exc:
        bar.empty()
        st.error(f"Fichier refusé : {exc}")
        return None
    bar.empty()
    return key, result


def check_panel(result: LoadResult) -> None:
    """The file check, folded under one line so the proposal stays on the first screen."""
    summary = summarise(result)
    rejects = rejects_frame(result)
    title = (f"Contrôle du fichier : {summary['lignes_chargees']} établissements chargés, "
             f"{summary['esms']} ESMS, {summary['og']} OG, {len(rejects)} ligne(s) rejetée(s)")
    if len(rejects):
        st.warning(f"{len(rejects)} ligne(s) du fichier rejetée(s) : détail et téléchargement "
                   "dans « Contrôle du fichier » ci-dessous.")
    with st.expander(title, expanded=False):
        cols = st.columns(5)
        cols[0].metric("Établissements", summary["lignes_chargees"])
        cols[1].metric("ESMS du programme", summary["esms"])
        cols[2].metric("OG", summary["og"])
        cols[3].metric("ESMS autonomes", summary["autonomes"])
        cols[4].metric("Lignes rejetées", len(rejects))
        left, right = st.columns(2)
        with left:
            count_view(summary["by_field"], "champ", "établissements",
                       CHAMP_NAMES).show("by_field_table")
        with right:
            count_view(summary["by_departement"], "département", "ESMS").show("by_dep_table")
        for w in summary["warnings"]:
            st.warning(w)
        if len(rejects):
            st.markdown("**Lignes rejetées** (numéro de ligne du fichier, champ, raison)")
            st.dataframe(rejects, hide_index=True, key="rejects_table")
            st.download_button("Télécharger les lignes rejetées (CSV)", csv_bytes(rejects),
                               file_name="rejets.csv", mime="text/csv", key="dl_rejects",
                               on_click="ignore")
        else:
            st.success("Aucune ligne rejetée.")


def territory_and_field(result: LoadResult, rules_name: str) -> dict[str, Any]:
    regions, deps = territory_choices(result)
    sb = st.sidebar
    sb.header("3. Territoire et champ")
    if not regions:
        st.error("Aucun ESMS d'un champ du programme dans le fichier.")
        st.stop()
    region = sb.selectbox("Région", regions, key="region", format_func=region_label)
    chosen = sb.multiselect("Départements (vide : toute la région)", deps[region],
                            key=f"departements_{region}", placeholder="toute la région")
    champs = champ_choices(result, rules_name)
    if not champs:
        st.error("Aucun champ éligible à cet appel dans le fichier.")
        st.stop()
    options = [*champs, ALL_CHAMPS]
    if st.session_state.get("champ") not in options:
        st.session_state["champ"] = DEFAULT_CHAMP if DEFAULT_CHAMP in options else options[0]
    champ = sb.selectbox("Champ", options, key="champ",
                         format_func=lambda c: CHAMP_LABELS.get(c, c))
    with sb.expander("Réglages du solveur"):
        st.session_state.setdefault("seed", 0)
        st.session_state.setdefault("time_limit", DEFAULT_TIME_LIMIT)
        seed = int(st.number_input("Graine", min_value=0, step=1, key="seed"))
        low, high = scenfile.TIME_LIMIT_BOUNDS
        time_limit = float(st.number_input("Temps de sélection exacte (s)", min_value=low,
                                           max_value=high, step=0.5, key="time_limit",
                                           format="%.1f"))
    return {"region": region, "departements": tuple(chosen),
            "champ": None if champ == ALL_CHAMPS else champ, "seed": seed,
            "time_limit": time_limit, "champs": champs}


def proposal_map(scenario: Any, report: Any, highlight: str | None, key: str,
                 height: int = 520) -> None:
    """The map (offline, swatch legend) with the picked grappe outlined and zoomed to."""
    from matching.ui.mapview import build_map

    evaluation = scenario.current
    porteurs = {gid: c.porteur for gid, c in evaluation.costs.items()}
    names = og_labels(scenario.etab)
    labels = {gid: names.get(p, p) for gid, p in porteurs.items()}
    champs = [report.champ] if report.champ else None
    drawn = scenario.etab[~scenario.etab["finess_et"].isin(
        list(scenario.out_of_scope)).to_numpy()]
    pmap = session_memo(f"map_{key}", (grouping_version(scenario), highlight), lambda: build_map(
        drawn, scenario.assignment, porteurs, champs, height=height, highlight=highlight,
        grappe_labels=labels))
    left, right = st.columns([3, 1])
    left.pydeck_chart(pmap.deck, height=height, key=key)
    right.markdown(pmap.legend, unsafe_allow_html=True)


def proposal_tab(scenario: Any, report: Any) -> None:
    data = shown_scenario(scenario)
    evaluation = scenario.current
    totals = evaluation.totals
    n = counts(scenario)
    for column, m in zip(st.columns(5), headline(totals, n), strict=True):
        column.metric(m.label, m.value, delta=m.delta, help=m.help)
    st.caption(n.definition)
    if totals.get("financement_invalides"):
        st.warning(f"Grappes invalides, hors total : "
                   f"{euros(totals['financement_invalides'])} (détail dans le tableau).")
    loaded_from = st.session_state.get(scenfile.FROM_FILE)
    if loaded_from:
        st.info(f"Scénario chargé depuis « {loaded_from} » ({len(scenario.history)} "
                "modification(s)) ; un rechargement de la page revient à la proposition : "
                "enregistrez le scénario (onglet « Exports ») pour garder vos modifications.")
    elif scenario.history:
        st.info(f"Proposition modifiée ({len(scenario.history)} modification(s), onglet "
                "« Et si… ») ; les modifications sont gardées dans l'adresse de la page.")
    for text in st.session_state.get("replay_dropped", []):
        st.warning(text)
    ids = [g.id for g in data.grappes]
    gid = st.session_state.get("detail_grappe") if st.session_state.get(
        "detail_grappe") in ids else None
    proposal_map(scenario, report, gid, "carte")

    st.subheader("Grappes")
    grappes_view(data).show("grappes_table")
    if ids:
        grappe_detail(data, scenario, ids)
    st.subheader("ESMS sans grappe")
    unplaced_section(data, scenario, report)


def grappe_detail(data: Any, scenario: Any, ids: list[str]) -> None:
    from matching.exports.tables import TYPE_LABELS

    gid = st.selectbox("Détail d'une grappe (entourée et centrée sur la carte)", ids,
                       key="detail_grappe")
    grappe = next(g for g in data.grappes if g.id == gid)
    cost = scenario.cost_detail(gid)
    names = og_labels(scenario.etab)
    st.markdown(f"**Porteur** : {names.get(cost.porteur, cost.porteur)} · "
                f"**type de projet** : {TYPE_LABELS.get(cost.project_type, '')} · "
                f"**éditeur** : {cost.vendor or 'à choisir'}")
    left, right = st.columns([3, 2])
    with left:
        members_view(scenario, gid).show("members_table")
    with right:
        st.markdown(f"**Plan de financement** — total {euros(cost.total)}")
        funding_view(data, gid).show("funding_table")
        st.markdown("**Échéancier** : " + " ; ".join(
            f"{decimal_fr(i.share * 100, 0)} % {euros(i.amount)} ({i.label})"
            for i in cost.schedule))
        st.markdown(f"**Points grille** : {cost.score.total} / {cost.score.max} — "
                    + (points_text(cost.score.computed, cost.score.declared) or "aucun"))
    for v in data.violations.get(gid, []):
        st.error(v.message)
    with st.expander("Éligibilité, avertissements et pourquoi ces membres", expanded=False):
        for text in [*cost.eligibility, *grappe.warnings, *grappe.reasons]:
            st.markdown(f"- {with_names(text, names)}")


def unplaced_section(data: Any, scenario: Any, report: Any) -> None:
    """The ESMS of the field without a grappe; picking a row opens its partner finder here."""
    view = unplaced_view(data, scenario)
    st.caption(f"{len(view.frame)} ESMS du champ sans grappe (même définition que « ESMS "
               "placés » ci-dessus), avec la raison et la grappe la plus proche. Cliquez une "
               "ligne (case à gauche) pour chercher ses partenaires.")
    if view.frame.empty:
        st.caption("Aucune ligne.")
        return
    event = st.dataframe(view.frame, hide_index=True, column_config=view.config,
                         column_order=[c for c in view.frame.columns if c != "finess_et"],
                         key="unplaced_table", on_select="rerun",
                         selection_mode="single-row")
    rows = event.selection.rows if event is not None else []
    if rows:
        et = str(view.frame["finess_et"].iloc[rows[0]])
        st.markdown("#### Partenaires possibles")
        partner_panel(scenario, report, et, "unplaced")


def partner_panel(scenario: Any, report: Any, et: str, prefix: str, top: int = 5) -> None:
    """One ESMS's ranked options, its candidates on the map, and "add it to this grappe"."""
    from matching.scenarios.partners import find_partners

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
    partners_view(frame).show(f"partners_table_{prefix}")
    options = {f"{r.type}|{r.cible}": f"{r.rang}. {r.libelle} — "
               f"{'valide' if r.valide_apres else 'invalide'} après, "
               f"{euros(r.financement_apres)}, {km_text(r.distance_km)}"
               for r in frame.itertuples()}
    pick = st.selectbox("Cible", list(options), format_func=options.get,
                        key=f"partner_pick_{prefix}")
    kind, target = pick.split("|", 1)
    if kind == "grappe":
        proposal_map(scenario, report, target, f"carte_{prefix}", height=380)
    og = info["finess_ej"]
    if st.button("L'ajouter à cette grappe" if kind == "grappe" else
                 "Former une nouvelle grappe avec cet OG", key=f"partner_add_{prefix}",
                 type="primary"):
        where = st.container()
        if kind == "grappe":
            ok = apply_edit(scenario, {"op": "move", "og": og, "to": target}, where)
        else:
            ok = apply_edit(scenario, {"op": "move", "og": og, "to": "nouvelle"}, where)
            if ok:
                new = scenario.assignment.get(et, "")
                ok = apply_edit(scenario, {"op": "move", "og": target, "to": new}, where)
        if ok:
            st.session_state["last_move"] = (f"{info['raison_sociale']} ajouté : "
                                             f"{scenario.history[-1]}")
            st.rerun()


def partners_tab(scenario: Any, report: Any, params: dict[str, Any]) -> None:
    from matching.scenarios.partners import search_esms

    champs = [scenario.champ] if scenario.champ else list(
        scenario.rules.grouping.eligible_champs)
    st.markdown("Cherchez un ESMS du champ étudié (nom, FINESS ou commune) pour voir les "
                "grappes et OG qu'il pourrait rejoindre, et ce que cela changerait.")
    query = st.text_input("ESMS recherché", key="partner_query",
                          placeholder="ex. EHPAD Tours, 370012345, Vierzon")
    if not query:
        return
    found_all = search_esms(scenario.etab, query, scenario.assignment, limit=50)
    found = found_all[found_all["champ"].isin(champs)].head(20)
    other = found_all[~found_all["champ"].isin(champs)]
    if len(other):
        fields = sorted(set(other["champ"]) & set(params["champs"]))
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
                  "t": float(state.get("time_limit", DEFAULT_TIME_LIMIT))})

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


def envelope_tab(scenario: Any, rules_name: str) -> None:
    from matching.programme.rules import load_rules
    from matching.ui.envelope import DEFAULT_WINDOWS, EnvelopeRequest, run_envelope

    data = shown_scenario(scenario)
    rule_set = load_rules(rules_name)
    st.markdown("Entrez l'enveloppe régionale et les fenêtres de sélection : l'outil choisit, "
                "parmi les grappes valides de la proposition affichée (modifications "
                "comprises), celles qui rapportent le plus de points sans dépasser l'enveloppe "
                "(optimum exact, comme la commande « grappes select »).")
    default_env = float(round(scenario.current.totals["financement"] * 0.6, -3)) or 1_000_000.0
    shares = [w.share for w in rule_set.windows] or list(DEFAULT_WINDOWS)
    labels = [w.label for w in rule_set.windows] or None
    with st.form("envelope_form"):
        c1, c2, c3 = st.columns([2, 2, 2])
        envelope = c1.number_input("Enveloppe régionale (€)", min_value=1_000.0,
                                   value=default_env, step=10_000.0, format="%.0f",
                                   key="env_amount")
        windows_text = c2.text_input("Fenêtres : parts cumulées de l'enveloppe (%)",
                                     value=" ; ".join(decimal_fr(s * 100, 0) for s in shares),
                                     key="env_windows")
        mode = c3.radio("Mode", ["global", "sequentiel"], format_func=MODE_LABELS.get,
                        key="env_mode")
        submitted = st.form_submit_button("Choisir les grappes financées", type="primary")
    st.caption(f"Enveloppe saisie : {euros(envelope)} ({euros_short(envelope)}).")
    if not submitted and "env_result" not in st.session_state:
        return
    try:
        windows = tuple(float(p.strip().replace(",", ".")) / 100
                        for p in windows_text.replace(";", " ").split() if p.strip())
    except ValueError:
        st.error("Fenêtres : des pourcentages séparés par « ; » sont attendus, ex. 50 ; 70 ; 100.")
        return
    request = EnvelopeRequest(envelope=float(envelope), windows=windows, mode=mode)
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
    st.markdown("**Par fenêtre**")
    result.windows.show("env_windows_table")
    st.markdown("**Grappes financées**")
    result.funded.show("env_funded_table")
    st.markdown("**Grappes non financées, et pourquoi**")
    result.not_funded.show("env_not_funded_table")
    st.download_button("Télécharger la sélection (CSV)", result.csv(),
                       file_name="selection_enveloppe.csv", mime="text/csv",
                       key="dl_envelope", on_click="ignore")


def compare_tab(data_key: str, result: LoadResult, params: dict[str, Any]) -> None:
    from matching.programme.rules import available_rules
    from matching.ui.compare import compare_rules

    st.markdown("Les appels à projets côte à côte pour le même territoire et le même champ : "
                "une proposition par jeu de règles, lue avec les mêmes définitions.")
    if not st.button("Comparer les appels", key="compare_btn") and not st.session_state.get(
            "compare_on"):
        st.caption("Une proposition par appel : quelques secondes chacune la première fois.")
        return
    st.session_state["compare_on"] = True
    with st.spinner("Propositions pour chaque appel…"):
        view = compare_rules(available_rules(), lambda name: compute_report(
            data_key, result, name, params["region"], params["departements"], params["champ"],
            params["seed"], params["time_limit"]))
    view.show("compare_table")


def exports_tab(scenario: Any) -> None:
    from matching.exports.dossier import CSV_FILES, csv_files, workbook_bytes

    st.markdown("Exports de la proposition telle qu'affichée (modifications comprises), pour "
                "Excel en français (séparateur « ; »). Le classeur XLSX reprend les trois "
                "tableaux et ajoute une feuille « dossier » par grappe. Le GeoPackage s'ouvre "
                "dans QGIS : ESMS, contour de chaque grappe, ESMS sans grappe avec la raison.")
    labels = {"grappes.csv": "Grappes (CSV)", "etablissements.csv": "Établissements (CSV)",
              "financements.csv": "Lignes de financement (CSV)"}
    version = grouping_version(scenario)
    # files are bytes built from the scenario as shown and kept per version; a click does
    # not rerun the page (on_click="ignore"), so the file it points to is still there
    # (a deferred callable could be dropped by a rerun: MediaFileStorageError)
    files = session_memo("csv_files", version, lambda: csv_files(shown_scenario(scenario)))
    cols = st.columns(len(CSV_FILES))
    for col, name in zip(cols, CSV_FILES, strict=False):
        col.download_button(labels.get(name, name), files[name], file_name=name,
                            mime="text/csv", key=f"dl_{name}", on_click="ignore")
    st.markdown("**Classeur et carte SIG** (quelques secondes pour une région entière)")
    heavy = st.session_state.get("heavy_files")
    if heavy is None or heavy[0] != version:
        if st.button("Préparer le classeur XLSX et le GeoPackage", key="prepare_files"):
            with st.spinner("Préparation des fichiers…"):
                heavy = (version, workbook_bytes(shown_scenario(scenario)), gpkg(scenario))
            st.session_state["heavy_files"] = heavy
        else:
            return
    c1, c2 = st.columns(2)
    c1.download_button(
        "Classeur XLSX (dossiers)", heavy[1], file_name="grappes.xlsx", key="dl_xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        on_click="ignore")
    c2.download_button("Carte SIG (GeoPackage)", heavy[2], file_name="grappes.gpkg",
                       key="dl_gpkg", mime="application/geopackage+sqlite3", on_click="ignore")


def scenario_file_panel(scenario: Any, data_key: str, result: LoadResult) -> None:
    """Save the scenario as shown to a file; load one back (same grappes and amounts)."""
    from matching.programme.rules import available_rules
    from matching.scenarios.scenario_file import FILE_NAME

    state = st.session_state
    st.markdown("**Scénario** : enregistrez la proposition et toutes vos modifications dans "
                "un fichier, pour la reprendre plus tard, la partager ou l'ouvrir en ligne de "
                "commande (grappes propose --scenario). Le charger sur les mêmes données "
                "redonne les mêmes grappes et les mêmes montants.")
    data = session_memo("scenario_file", grouping_version(scenario), lambda: scenfile
                        .scenario_bytes(scenario, result, state.get("scenario_meta")))
    left, right = st.columns(2)
    left.download_button("Enregistrer le scénario", data, file_name=FILE_NAME,
                         mime="application/json", key="dl_scenario", on_click="ignore")
    right.file_uploader("Charger un scénario (scenario.json)", type=["json"],
                        key="scenario_upload", on_change=load_scenario_file,
                        args=(data_key, result, available_rules()))
    error = state.pop("scenario_load_error", None)
    if error:
        st.error(f"Scénario refusé : {error}")
    if state.get(scenfile.FROM_FILE):
        st.success(f"Scénario « {state[scenfile.FROM_FILE]} » chargé.")
        for note in state.get(scenfile.NOTES, []):
            st.warning(note)


def load_scenario_file(data_key: str, result: LoadResult, rule_names: list[str]) -> None:
    """The uploader's callback: runs before the page, so the sidebar can take the file's
    rule set, région, field and settings (see ``matching.ui.scenfile``)."""
    from matching.scenarios.scenario_file import ScenarioFileError

    upload = st.session_state.get("scenario_upload")
    if upload is None:
        return
    try:
        load = scenfile.prepare_load(
            upload.getvalue(), upload.name, result, data_key, rule_names=rule_names,
            territories=territory_choices(result),
            champs_for=lambda rules: champ_choices(result, rules))
    except ScenarioFileError as exc:
        st.session_state["scenario_load_error"] = str(exc)
        return
    scenfile.install(st.session_state, load)
    st.query_params.pop("modifs", None)


def gpkg(scenario: Any) -> bytes:
    from matching.exports.gis import gpkg_bytes, gpkg_inputs

    return gpkg_bytes(*gpkg_inputs(shown_scenario(scenario)))


# --------------------------------------------------------------------------- page


def main() -> None:
    st.set_page_config(page_title="grappes — ESMS numérique", layout="wide")
    st.html(FRENCH_SCRIPT + PAGE_CSS, unsafe_allow_javascript=True)
    st.title("grappes — former des grappes d'ESMS pour ESMS numérique")
    choice = sidebar()
    first_screen(expanded=choice["source"] == UPLOAD_LABEL
                 and choice.get("files", (None,))[0] is None)
    loaded = load_data(choice)
    if loaded is None:
        return
    data_key, result = loaded
    check_panel(result)
    params = territory_and_field(result, choice["rules"])
    report_key = scenfile.report_key(data_key, choice["rules"], params["region"],
                                     params["departements"], params["champ"], params["seed"],
                                     params["time_limit"])
    bar = st.progress(0.0, text="Calcul de la proposition…")
    try:
        report = compute_report(
            data_key, result, choice["rules"], params["region"], params["departements"],
            params["champ"], params["seed"], params["time_limit"],
            progress=lambda text, share: bar.progress(share, text=text))
    except ValueError as exc:
        bar.empty()
        st.error(f"Proposition impossible : {exc}")
        return
    bar.empty()
    scenario = scenario_for(report_key, report)
    if scenario.current is None:
        scenario.evaluate()
    tabs = st.tabs(["Proposition", "Trouver des partenaires", "Et si…", "Enveloppe ARS",
                    "Comparer les appels", "Exports"])
    with tabs[2]:
        whatif_tab(scenario)
    scenario = st.session_state["scenario"]
    with tabs[0]:
        proposal_tab(scenario, report)
    with tabs[1]:
        partners_tab(scenario, report, params)
    with tabs[3]:
        envelope_tab(scenario, choice["rules"])
    with tabs[4]:
        compare_tab(data_key, result, params)
    with tabs[5]:
        exports_tab(scenario)
        scenario_file_panel(scenario, data_key, result)


if __name__ == "__main__":
    main()
