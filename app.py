"""grappes — the Streamlit app: data, proposal map and table, partner finder, what-if, exports.

Run with ``streamlit run app.py``. The page only lays things out and calls the library
(``matching.ingest``, ``matching.solver.propose``, ``matching.scenarios.whatif``,
``matching.scenarios.partners``,
``matching.ui.mapview``, ``matching.exports.dossier``); it opens on the bundled synthetic sample
region with a proposal already computed. Expensive steps (reading files, solving) are
cached across sessions in a store kept by ``st.cache_resource``.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from matching.core.model import CHAMPS, LoadResult
from matching.exports.french_excel import csv_bytes
from matching.ingest import DEFAULT_MAX_MO, IngestError, load
from matching.ingest.check import summarise

#: uploads above this size are refused with a French message (the national etalab
#: establishments file is about 45 Mo). The same limit as the command line (``--max-mo``),
#: in the same unit: 1 Mo = 10^6 octets. ``.streamlit/config.toml`` lets 300 MiB through.
MAX_UPLOAD_MB = DEFAULT_MAX_MO
#: CP-SAT budget of the first proposal (seconds): a quick answer first, more on demand
DEFAULT_TIME_LIMIT = 2.0
DEFAULT_CHAMP = "PA"
SAMPLE_LABEL = "Région exemple (synthétique, Centre-Val de Loire)"
UPLOAD_LABEL = "Mes fichiers FINESS"
ALL_CHAMPS = "tous les champs"
CHAMP_LABELS: dict[str, str] = {
    "PA": "PA — personnes âgées",
    "PH": "PH — personnes handicapées",
    "DOM": "DOM — aide et soin à domicile",
    "PDS": "PDS — difficultés spécifiques",
    "PDE": "PDE — protection de l'enfance",
    "AHI": "AHI — accueil, hébergement, insertion",
    "PJM": "PJM — protection juridique des majeurs",
    ALL_CHAMPS: "Tous les champs (plus long)",
}


# --------------------------------------------------------------------------- logic (no UI)


def check_size(name: str, size: int, limit_mb: int = MAX_UPLOAD_MB) -> None:
    """Refuse a file above the stated limit, before reading it."""
    if size > limit_mb * 1_000_000:
        msg = (f"Fichier {name} trop volumineux : {size / 1_000_000:.0f} Mo, au plus "
               f"{limit_mb} Mo. Découpez l'extrait par région ou utilisez la ligne de "
               "commande (grappes propose).")
        raise IngestError(msg)


def read_upload(
    etab_file: Any,
    ej_file: Any = None,
    dui_file: Any = None,
    progress: Callable[[int, int], None] | None = None,
    limit_mb: int = MAX_UPLOAD_MB,
) -> LoadResult:
    """Read uploaded files (Streamlit ``UploadedFile`` or any binary stream with ``name``).

    Raises ``IngestError`` (French message) for a file too big or unusable; rows with
    problems come back as ``LoadResult.rejets``.
    """
    for f in (etab_file, ej_file, dui_file):
        if f is not None:
            size = getattr(f, "size", None)
            if size is None:
                size = len(f.getvalue()) if hasattr(f, "getvalue") else 0
            check_size(getattr(f, "name", "?"), int(size), limit_mb)
            if hasattr(f, "seek"):
                f.seek(0)
    return load(etab_file, ej=ej_file, dui=dui_file, progress=progress,
                max_bytes=limit_mb * 1_000_000)


def files_key(*files: Any) -> str:
    """A content hash of the uploaded files, to cache what was read from them."""
    digest = hashlib.sha1()
    for f in files:
        if f is None:
            digest.update(b"-")
            continue
        digest.update(str(getattr(f, "name", "")).encode())
        digest.update(f.getvalue() if hasattr(f, "getvalue") else bytes(f))
    return digest.hexdigest()


def rejects_frame(result: LoadResult) -> pd.DataFrame:
    """Rejected rows with their reason, for display and download."""
    has_path = any(getattr(r, "path", "") for r in result.rejets)  # FINESS+ JSON path
    frame = pd.DataFrame([r.as_dict() for r in result.rejets],
                         columns=["line", *(["path"] if has_path else []), "field", "reason",
                                  "value", "source"])
    return frame.rename(columns={"line": "ligne", "path": "chemin_json",
                                 "field": "champ_fautif", "reason": "raison",
                                 "value": "valeur", "source": "fichier"})


def territory_choices(result: LoadResult) -> tuple[list[str], dict[str, list[str]]]:
    """Régions present (most ESMS first) and their départements."""
    table = result.etablissements
    esms = table[table["champ"].isin(list(CHAMPS))]
    counts = esms["region"].astype("string").fillna("").value_counts()
    regions = [str(r) for r in counts.index if str(r)]
    deps = {r: sorted({str(d) for d in esms.loc[esms["region"] == r, "departement"]})
            for r in regions}
    return regions, deps


def region_label(code: str) -> str:
    """'24 — Centre-Val de Loire' (the code alone when the name is unknown)."""
    from geo.territories import get_territoires

    name = get_territoires().region_nom(code)
    return f"{code} — {name}" if name else str(code)


def champ_choices(result: LoadResult, rules_name: str) -> list[str]:
    """Fields present in the file and eligible under the rule set (programme order)."""
    from matching.programme.rules import load_rules

    eligible = load_rules(rules_name).grouping.eligible_champs
    present = set(result.etablissements["champ"].astype("string").fillna(""))
    return [c for c in CHAMPS if c in present and c in eligible]


# --------------------------------------------------------------------------- caching


@st.cache_resource(show_spinner=False)
def _store() -> dict[str, Any]:
    """Process-wide store (shared by sessions): results keyed by their inputs."""
    return {"lock": threading.Lock(), "items": OrderedDict()}


def cached(key: str, compute: Callable[[], Any], max_items: int = 12) -> Any:
    """``compute()`` once per key (a small LRU), without Streamlit's element replay, so the
    computation may update a progress bar created by the page."""
    store = _store()
    with store["lock"]:
        if key in store["items"]:
            store["items"].move_to_end(key)
            return store["items"][key]
    value = compute()
    with store["lock"]:
        store["items"][key] = value
        while len(store["items"]) > max_items:
            store["items"].popitem(last=False)
    return value


def session_memo(name: str, key: Any, compute: Callable[[], Any]) -> Any:
    """Keep the last value of ``compute()`` per name in the session while ``key`` is unchanged
    (the map and the partner list are rebuilt only when the grouping or the query changes)."""
    memo = st.session_state.setdefault("_memo", {})
    if name not in memo or memo[name][0] != key:
        memo[name] = (key, compute())
    return memo[name][1]


def grouping_version(scenario: Any) -> tuple[int, int]:
    """Changes whenever the scenario object or its edits change."""
    return id(scenario), len(scenario.history)


def sample_result() -> LoadResult:
    from matching.ingest.sample import load_sample

    return cached("sample", load_sample)


def compute_report(data_key: str, result: LoadResult, rules_name: str, region: str | None,
                   departements: tuple[str, ...], champ: str | None, seed: int,
                   time_limit: float, progress: Callable[[str, float], None] | None = None):
    """The ``matching.solver.propose`` report for these inputs (cached)."""
    from matching.solver.propose import propose

    key = f"report|{data_key}|{rules_name}|{region}|{departements}|{champ}|{seed}|{time_limit}"
    return cached(key, lambda: propose(
        result, rules_name, region=region, champ=champ, seed=seed, time_limit=time_limit,
        departements=list(departements) or None, progress=progress))


def scenario_for(report_key: str, report: Any):
    """The what-if scenario of the session for this report (rebuilt when the report changes)."""
    from matching.scenarios.scenario import Scenario
    from matching.scenarios.whatif import WhatIf

    state = st.session_state
    if state.get("scenario_key") != report_key:
        state["scenario"] = WhatIf.from_report(report)
        state["scenario_key"] = report_key
        start = Scenario.from_report(report)
        state["scenario_meta"] = (start.scope, start.settings)
        state["undo"] = []
    return state["scenario"]


def shown_scenario(whatif: Any):
    """The typed ``Scenario`` of the grouping as displayed (edits included): what the
    tables, totals and downloads read."""
    from matching.scenarios.scenario import Scenario

    scope, settings = st.session_state.get("scenario_meta", (None, None))
    return session_memo("shown", grouping_version(whatif),
                        lambda: Scenario.from_whatif(whatif, scope, settings))


# --------------------------------------------------------------------------- formatting


def euros(value: float, signed: bool = False) -> str:
    """'12 450 000 €' (French thousands separator); '+30 000 €' when ``signed``."""
    text = f"{value:+,.0f} €" if signed else f"{value:,.0f} €"
    return text.replace(",", " ")


def og_label(etab: pd.DataFrame) -> dict[str, str]:
    """FINESS EJ -> 'name (EJ)'."""
    frame = etab[["finess_ej", "raison_sociale_ej"]].astype("string").fillna("")
    frame = frame[frame["finess_ej"] != ""].drop_duplicates("finess_ej")
    return {ej: f"{name or 'OG'} ({ej})" for ej, name in zip(frame["finess_ej"],
                                                            frame["raison_sociale_ej"],
                                                            strict=True)}


# --------------------------------------------------------------------------- page parts


def sidebar() -> dict[str, Any]:
    """Data source, territory, field, rule set; returns the choices."""
    from matching.programme.rules import DEFAULT_RULES, available_rules

    sb = st.sidebar
    sb.header("1. Données")
    source = sb.radio("Source", [SAMPLE_LABEL, UPLOAD_LABEL], key="source",
                      label_visibility="collapsed")
    choice: dict[str, Any] = {"source": source}
    if source == UPLOAD_LABEL:
        help_size = f"Au plus {MAX_UPLOAD_MB} Mo par fichier."
        etab_file = sb.file_uploader(
            "Établissements : flux FINESS+ (finess-structures-…json.gz), extrait FINESS "
            "etalab (cs1100507 / cs1100502) ou modèle CSV",
            type=["gz", "json", "csv", "txt"], key="etab_file", help=help_size)
        ej_file = sb.file_uploader("Entités juridiques (cs1100501), facultatif",
                                   type=["csv", "txt"], key="ej_file", help=help_size)
        dui_file = sb.file_uploader("Fichier DUI (finess_et;dui_editeur;…), facultatif",
                                    type=["csv", "txt"], key="dui_file", help=help_size)
        choice["files"] = (etab_file, ej_file, dui_file)
    rules = available_rules()
    sb.header("2. Appel à projets")
    choice["rules"] = sb.selectbox("Appel à projets (jeu de règles)", rules,
                                   index=rules.index(DEFAULT_RULES) if DEFAULT_RULES in rules
                                   else 0, key="rules")
    return choice


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


def check_panel(result: LoadResult, expanded: bool) -> None:
    """The ``check`` summary: counts, rejected rows with reasons (downloadable), warnings."""
    summary = summarise(result)
    rejects = rejects_frame(result)
    title = (f"Contrôle du fichier : {summary['lignes_chargees']} établissements chargés, "
             f"{summary['esms']} ESMS, {summary['og']} OG, {len(rejects)} ligne(s) rejetée(s)")
    with st.expander(title, expanded=expanded):
        cols = st.columns(5)
        cols[0].metric("Établissements", summary["lignes_chargees"])
        cols[1].metric("ESMS du programme", summary["esms"])
        cols[2].metric("OG", summary["og"])
        cols[3].metric("ESMS autonomes", summary["autonomes"])
        cols[4].metric("Lignes rejetées", len(rejects))
        left, right = st.columns(2)
        left.dataframe(pd.DataFrame({"champ": list(summary["by_field"]),
                                     "établissements": list(summary["by_field"].values())}),
                       hide_index=True)
        right.dataframe(pd.DataFrame({"département": list(summary["by_departement"]),
                                      "ESMS": list(summary["by_departement"].values())}),
                        hide_index=True)
        for w in summary["warnings"]:
            st.warning(w)
        if len(rejects):
            st.markdown("**Lignes rejetées** (numéro de ligne du fichier, champ, raison)")
            st.dataframe(rejects, hide_index=True, key="rejects_table")
            st.download_button("Télécharger les lignes rejetées (CSV)", csv_bytes(rejects),
                               file_name="rejets.csv", mime="text/csv", key="dl_rejects")
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
    default = options.index(DEFAULT_CHAMP) if DEFAULT_CHAMP in options else 0
    champ = sb.selectbox("Champ", options, index=default, key="champ",
                         format_func=lambda c: CHAMP_LABELS.get(c, c))
    with sb.expander("Réglages du solveur"):
        seed = int(st.number_input("Graine", min_value=0, value=0, step=1, key="seed"))
        time_limit = float(st.number_input("Temps de sélection exacte (s)", min_value=0.5,
                                           max_value=120.0, value=DEFAULT_TIME_LIMIT,
                                           step=0.5, key="time_limit"))
    return {"region": region, "departements": tuple(chosen),
            "champ": None if champ == ALL_CHAMPS else champ, "seed": seed,
            "time_limit": time_limit}


def proposal_tab(scenario: Any, report: Any) -> None:
    from matching.exports.tables import grappes_table
    from matching.ui.mapview import LEGEND_MARKDOWN, build_deck

    data = shown_scenario(scenario)
    evaluation = scenario.current
    totals = evaluation.totals
    stats = report.stats
    cols = st.columns(5)
    cols[0].metric("Grappes", int(totals["grappes"]), delta=_delta(totals, "grappes"))
    cols[1].metric("Grappes valides", int(totals["valides"]), delta=_delta(totals, "valides"))
    cols[2].metric("ESMS placés", f"{int(totals['esms_places'])} / {stats['esms_groupable']}",
                   delta=_delta(totals, "esms_places"))
    cols[3].metric("Points grille (grappes valides)", int(totals["points_grille"]),
                   delta=_delta(totals, "points_grille"))
    cols[4].metric("Financement (grappes valides)", euros(totals["financement"]),
                   delta=euros(totals["delta_financement"], signed=True)
                   if totals.get("delta_financement") else None)
    if totals.get("financement_invalides"):
        st.warning(f"Grappes invalides, hors total : "
                   f"{euros(totals['financement_invalides'])} (détail dans le tableau).")
    if scenario.history:
        st.info(f"Proposition modifiée ({len(scenario.history)} modification(s), onglet "
                "« Et si… »).")
    porteurs = {gid: c.porteur for gid, c in evaluation.costs.items()}
    champs = [report.champ] if report.champ else None
    deck = session_memo("deck", grouping_version(scenario), lambda: build_deck(
        scenario.etab[~scenario.etab["finess_et"].isin(list(scenario.out_of_scope)).to_numpy()],
        scenario.assignment, porteurs, champs, height=560))
    st.pydeck_chart(deck, height=560, key="carte")
    st.caption(LEGEND_MARKDOWN)

    st.subheader("Grappes")
    table = grappes_table(data)
    shown = table[["grappe", "champ", "nb_esms", "nb_og", "departements", "valide",
                   "criteres_calcules", "points_grille", "financement", "porteur_nom",
                   "editeur", "detail_points", "alertes", "regles_enfreintes"]].rename(columns={
        "nb_esms": "ESMS", "nb_og": "OG", "departements": "départements",
        "criteres_calcules": "critères calculés", "points_grille": "points grille",
        "detail_points": "détail des points", "financement": "financement (€)",
        "porteur_nom": "porteur", "editeur": "éditeur DUI", "alertes": "avertissements",
        "regles_enfreintes": "règles enfreintes"})
    st.dataframe(shown, hide_index=True, key="grappes_table")
    if len(table):
        grappe_detail(data, scenario)
    st.subheader("ESMS sans grappe")
    unplaced_view(data, scenario)


def _delta(totals: dict[str, float], key: str) -> int | None:
    value = totals.get(f"delta_{key}")
    return int(value) if value else None


def grappe_detail(data: Any, scenario: Any) -> None:
    from matching.exports.tables import TYPE_LABELS, financements_table

    ids = [g.id for g in data.grappes]
    gid = st.selectbox("Détail d'une grappe", ids, key="detail_grappe")
    grappe = next(g for g in data.grappes if g.id == gid)
    cost = scenario.cost_detail(gid)
    rows = scenario.rows_of(grappe.esms)
    names = og_label(scenario.etab)
    left, right = st.columns([3, 2])
    with left:
        st.markdown(f"**Porteur** : {names.get(cost.porteur, cost.porteur)} · "
                    f"**type de projet** : {TYPE_LABELS.get(cost.project_type, '')} · "
                    f"**éditeur** : {cost.vendor or 'à choisir'}")
        members = pd.DataFrame({
            "FINESS ET": rows["finess_et"], "établissement": rows["raison_sociale"],
            "catégorie": rows["categorie_libelle"], "OG": rows["finess_ej"].map(names),
            "typologie OG": rows["og_typologie"], "statut": rows["statut_agrege"],
            "DUI": rows["dui_statut"].astype("string") + " " + rows["dui_editeur"].astype(
                "string"), "commune": rows["commune_nom"],
            "type de projet": rows["finess_et"].astype("string").map(
                {e: TYPE_LABELS.get(t, t) for e, t in cost.esms_types.items()}).fillna(""),
        })
        st.dataframe(members, hide_index=True, key="members_table")
    with right:
        lines = financements_table(data)
        lines = lines[lines["grappe"] == gid][["ligne", "quantite", "montant_unitaire",
                                               "montant", "levier"]]
        st.markdown(f"**Plan de financement** — total {euros(cost.total)}")
        st.dataframe(lines, hide_index=True, key="funding_table")
        st.markdown("**Échéancier** : " + " ; ".join(
            f"{i.share:.0%} {euros(i.amount)} ({i.label})" for i in cost.schedule))
        st.markdown(f"**Points grille** : {cost.score.total} / {cost.score.max} · "
                    f"**critères calculés** : {sum(grappe.points.values())}")
    violations = data.violations.get(gid, [])
    for v in violations:
        st.error(v.message)
    with st.expander("Éligibilité, avertissements et pourquoi ces membres", expanded=False):
        for text in [*cost.eligibility, *grappe.warnings]:
            st.markdown(f"- {text}")
        for text in grappe.reasons:
            st.markdown(f"- {text}")


def unplaced_view(data: Any, scenario: Any) -> None:
    etab = data.etablissements
    un = data.unplaced if data.unplaced is not None else pd.DataFrame(columns=["finess_et"])
    champs = [scenario.champ] if scenario.champ else list(
        scenario.rules.grouping.eligible_champs)
    champ_of = dict(zip(etab["finess_et"], etab["champ"], strict=True))
    keep = un["finess_et"].map(champ_of).isin(champs) & ~un["finess_et"].isin(
        list(scenario.out_of_scope))
    un = un[keep.to_numpy()]
    names = dict(zip(etab["finess_et"], etab["raison_sociale"], strict=True))
    view = pd.DataFrame({
        "FINESS ET": un["finess_et"],
        "établissement": un["finess_et"].map(names),
        "raison": un["reason"] if "reason" in un.columns else "",
        "quasi-grappe": un["near_miss"] if "near_miss" in un.columns else "",
    })
    st.caption(f"{len(view)} ESMS du champ sans grappe, avec la raison et la grappe la plus "
               "proche qu'ils auraient presque pu rejoindre.")
    st.dataframe(view, hide_index=True, key="unplaced_table")


def partners_tab(scenario: Any) -> None:
    from matching.scenarios.partners import find_partners, search_esms

    st.markdown("Cherchez un ESMS (nom, FINESS ou commune) pour voir les grappes et OG qu'il "
                "pourrait rejoindre, et ce que cela changerait.")
    query = st.text_input("ESMS recherché", key="partner_query",
                          placeholder="ex. EHPAD Tours, 370012345, Vierzon")
    if not query:
        return
    found = search_esms(scenario.etab, query, scenario.assignment)
    if found.empty:
        st.warning("Aucun ESMS ne correspond.")
        return
    labels = {r.finess_et: f"{r.raison_sociale} — {r.commune_nom} ({r.finess_et})"
              + (" · autonome" if r.autonome else "") + (f" · {r.grappe}" if r.grappe else "")
              for r in found.itertuples()}
    et = st.selectbox("ESMS", list(labels), format_func=labels.get, key="partner_esms")
    top = st.slider("Nombre de propositions", 3, 15, 5, key="partner_top")
    try:
        with st.spinner("Évaluation des partenaires…"):
            result = session_memo("partners", (grouping_version(scenario), et, top),
                                  lambda: find_partners(scenario, et, top=top))
    except ValueError as exc:
        st.error(str(exc))
        return
    info = result.esms
    st.markdown(f"**{info['raison_sociale']}** ({info['finess_et']}), {info['categorie']}, "
                f"{info['commune']} — OG {info['raison_sociale_ej'] or info['finess_ej']}"
                + (" — ESMS autonome" if info["autonome"] else "")
                + f" — DUI : {info['dui_statut']} {info['dui_editeur']}")
    if result.grappe_actuelle:
        d = result.depart or {}
        st.info(f"Actuellement dans la grappe {result.grappe_actuelle}. La quitter : "
                f"{'grappe toujours valide' if d.get('valide_apres') else 'grappe invalide'}"
                f", financement {euros(d.get('financement_avant', 0))} → "
                f"{euros(d.get('financement_apres', 0))}.")
    frame = result.frame()
    if frame.empty:
        st.warning("Aucune grappe ni OG du même champ à proximité.")
        return
    shown = {
        "rang": "rang", "libelle": "cible", "distance_km": "distance au centre (km)",
        "champ": "champ",
        "editeur": "éditeur DUI",
        "statut": "statuts des OG", "valide_avant": "valide avant",
        "valide_apres": "valide après", "regles_enfreintes": "règles enfreintes après",
        "n_esms_apres": "ESMS après", "points_avant": "points grille avant",
        "points_apres": "points grille après", "financement_avant": "financement avant (€)",
        "financement_apres": "financement après (€)"}
    st.dataframe(frame[list(shown)].rename(columns=shown), hide_index=True,
                 key="partners_table")


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


def whatif_tab(scenario: Any) -> None:
    state = st.session_state
    etab = scenario.etab
    names = og_label(etab)
    placed_ogs = sorted({scenario.og_of(e) for e in scenario.assignment} - {""})
    field_ogs = scope_ogs(scenario)
    grappes = scenario.grappe_ids
    st.markdown("Chaque modification est revalidée et rechiffrée tout de suite ; le solveur "
                "peut ensuite chercher à nouveau en respectant les verrous.")
    results = st.container()

    def apply(action: Callable[[], Any]) -> None:
        before = scenario.copy()
        try:
            action()
        except ValueError as exc:
            results.error(str(exc))
            return
        state["undo"].append(before)

    c1, c2 = st.columns(2)
    with c1.form("lock_form"):
        st.markdown("**Verrouiller des OG ensemble** (partenariat existant)")
        ogs = st.multiselect("OG", field_ogs, format_func=names.get, key="lock_ogs",
                             placeholder="choisir au moins deux OG")
        if st.form_submit_button("Verrouiller"):
            apply(lambda: scenario.lock_together(ogs))
    with c2.form("apart_form"):
        st.markdown("**Séparer deux OG**")
        a = st.selectbox("OG A", placed_ogs, format_func=names.get, key="apart_a")
        b = st.selectbox("OG B", placed_ogs, format_func=names.get, key="apart_b",
                         index=min(1, max(len(placed_ogs) - 1, 0)))
        if st.form_submit_button("Séparer"):
            apply(lambda: scenario.keep_apart(a, b))
    c3, c4 = st.columns(2)
    with c3.form("move_form"):
        st.markdown("**Déplacer un OG**")
        og = st.selectbox("OG", field_ogs, format_func=names.get, key="move_og")
        targets = [*grappes, "nouvelle", ""]
        to = st.selectbox("Vers", targets, key="move_to", format_func=lambda t: {
            "nouvelle": "une nouvelle grappe", "": "hors de toute grappe"}.get(t, t))
        if st.form_submit_button("Déplacer"):
            apply(lambda: scenario.move_og(og, to, champ=scenario.champ))
    with c4.form("exclude_form"):
        st.markdown("**Exclure un ESMS**")
        placed = sorted(scenario.assignment)
        labels = dict(zip(etab["finess_et"], etab["raison_sociale"], strict=True))
        et = st.selectbox("ESMS", placed, key="exclude_et",
                          format_func=lambda e: f"{labels.get(e, '')} ({e})")
        if st.form_submit_button("Exclure"):
            apply(lambda: scenario.exclude_esms(et))
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
                apply(lambda: scenario.set_porteur(gid, new))
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
                apply(lambda: scenario.declare(gid2, values))

    b1, b2, b3 = st.columns(3)
    if b1.button("Annuler la dernière modification", disabled=not state["undo"],
                 key="undo_btn"):
        state["scenario"] = state["undo"].pop()
        st.rerun()
    if b2.button("Revenir à la proposition", disabled=not scenario.history, key="reset_btn"):
        state["scenario_key"] = None
        st.rerun()
    if b3.button("Relancer le solveur avec les verrous", key="rerun_btn"):
        with st.spinner("Nouvelle recherche sous contraintes…"):
            apply(lambda: scenario.rerun(
                seed=int(state.get("seed", 0)),
                time_limit=float(state.get("time_limit", DEFAULT_TIME_LIMIT))))

    evaluation = scenario.current
    if evaluation is None:
        return
    with results:
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
            f"revalidé et rechiffré en {evaluation.elapsed_s:.2f} s.")
        for text in scenario.history:
            st.markdown(f"- {text}")
        for issue in evaluation.lock_issues:
            st.warning(issue)
        for gid, message in evaluation.new_violations:
            st.error(f"{gid} : {message}")
        changed = evaluation.grappes[evaluation.grappes["modifiee"]]
        if len(changed):
            st.dataframe(changed, hide_index=True, key="whatif_table")


def exports_tab(scenario: Any) -> None:
    from matching.exports.dossier import CSV_FILES, csv_files, workbook_bytes

    st.markdown("Exports de la proposition telle qu'affichée (modifications comprises), pour "
                "Excel en français (séparateur « ; »). Le classeur XLSX reprend les trois "
                "tableaux et ajoute une feuille « dossier » par grappe : porteur, ESMS avec "
                "FINESS, catégorie et typologie, OG, plan de financement et échéancier.")
    labels = {"grappes.csv": "Grappes (CSV)", "etablissements.csv": "Établissements (CSV)",
              "financements.csv": "Lignes de financement (CSV)"}
    cols = st.columns(len(CSV_FILES) + 1)
    for col, name in zip(cols, CSV_FILES, strict=False):
        # built on click: the page stays fast while the user edits the grouping
        col.download_button(labels.get(name, name),
                            lambda n=name: csv_files(shown_scenario(scenario))[n],
                            file_name=name, mime="text/csv", key=f"dl_{name}")
    cols[-1].download_button(
        "Classeur XLSX (dossiers)", lambda: workbook_bytes(shown_scenario(scenario)),
        file_name="grappes.xlsx", key="dl_xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


# --------------------------------------------------------------------------- page


def main() -> None:
    st.set_page_config(page_title="grappes — ESMS numérique", layout="wide")
    st.title("grappes — former des grappes d'ESMS pour ESMS numérique")
    choice = sidebar()
    loaded = load_data(choice)
    if loaded is None:
        return
    data_key, result = loaded
    check_panel(result, expanded=choice["source"] == UPLOAD_LABEL)
    params = territory_and_field(result, choice["rules"])
    report_key = (f"{data_key}|{choice['rules']}|{params['region']}|{params['departements']}"
                  f"|{params['champ']}|{params['seed']}|{params['time_limit']}")
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
    tabs = st.tabs(["Proposition", "Trouver des partenaires", "Et si…", "Exports"])
    with tabs[2]:
        whatif_tab(scenario)
    with tabs[0]:
        proposal_tab(scenario, report)
    with tabs[1]:
        partners_tab(scenario)
    with tabs[3]:
        exports_tab(scenario)


if __name__ == "__main__":
    main()
