"""The data side of the page: the sidebar (source, call, territory, field, solver settings),
the first screen (how it works, templates), loading the sample or the uploaded files, and the
file check folded under one line.

Why one module: these parts decide *which* data and view the proposal is computed for; the
tabs below only read the scenario they produce.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import streamlit as st

from grappes.core.formatting import integer_fr
from grappes.core.model import CHAMPS, LoadResult
from grappes.core.vocabulary import CHAMP_LABELS as CHAMP_NAMES
from grappes.exports.french_excel import csv_bytes
from grappes.ingest import IngestError
from grappes.ingest.check import summarise
from grappes.scenarios.view import View
from grappes.solver.settings import APP_TIME_LIMIT
from grappes.ui import deferred, scenfile
from grappes.ui.navigation import lazy_expander
from grappes.ui.page import DATA_SOURCES, HOW_IT_WORKS
from grappes.ui.store import cached
from grappes.ui.upload import (
    MAX_UPLOAD_MB,
    dui_template,
    establishment_template,
    files_key,
    read_upload,
    rejects_frame,
)
from grappes.ui.views import count_view

#: the field the app starts on (the commands start on every field: ``CHAMP_HELP``)
DEFAULT_CHAMP = "PA"
SAMPLE_LABEL = "Région exemple (synthétique, Centre-Val de Loire)"
UPLOAD_LABEL = "Mes fichiers FINESS"
ALL_CHAMPS = scenfile.ALL_CHAMPS
CHAMP_LABELS: dict[str, str] = {
    **{c: f"{c} — {CHAMP_NAMES[c]}" for c in CHAMPS},
    ALL_CHAMPS: "Tous les champs (plus long)",
}


#: the sidebar's word on the starting scope: the README and ``grappes proposer --help`` say the
#: same (issue 20, item 7)
CHAMP_HELP = ("L'application démarre sur le champ PA. « Tous les champs » couvre tous les "
              "champs d'un coup, comme la commande grappes proposer sans choix de champ : mêmes "
              "grappes, mêmes montants.")


def without_cli_options(message: str) -> str:
    """A loading message without the command line's option names (« (--ej) », « --dui ou »):
    the page's user never typed them; the CLI keeps its own wording."""
    message = re.sub(r" ?\(--[a-z-]+\)", "", message)
    message = re.sub(r"\(--dui ou ", "(fichier DUI ou ", message)
    return re.sub(r"--[a-z-]+ ", "", message)


def region_label(code: str) -> str:
    """'24 — Centre-Val de Loire' (the code alone when the name is unknown)."""
    from grappes.geo.territories import get_territoires

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
    from grappes.programme.rules import load_rules

    # read once per process (each run read and checked the TOML file again: 25-70 ms)
    eligible = cached(f"eligible_champs|{rules_name}",
                      lambda: load_rules(rules_name).grouping.eligible_champs)
    present = set(result.etablissements["champ"].astype("string").fillna(""))
    return [c for c in CHAMPS if c in present and c in eligible]


def sample_result() -> LoadResult:
    from grappes.ingest.sample import load_sample

    return cached("sample", load_sample)


@dataclass(frozen=True)
class DataChoice:
    """The sidebar's first two sections: where the data come from, and the call's rule set."""

    source: str
    rules: str
    #: the uploaded establishments, EJ and DUI files (``UPLOAD_LABEL`` only; None: not given)
    files: tuple[Any, Any, Any] = (None, None, None)

    @property
    def waiting_for_upload(self) -> bool:
        """The user chose their own files and has not given the establishments' one yet."""
        return self.source == UPLOAD_LABEL and self.files[0] is None


def sample_chosen() -> bool:
    """The sidebar's source is the sample region (its default, before the choice is drawn)."""
    return st.session_state.get("source", SAMPLE_LABEL) == SAMPLE_LABEL


def sidebar(glance: bool = False) -> DataChoice:
    """Data source, call; returns the choices. At a first glance
    (``grappes.ui.afterpaint.first_glance``) nothing is drawn but a waiting line: the
    choices are their defaults, the next run draws them."""
    from grappes.programme.rules import DEFAULT_RULES, available_rules, load_rules

    sb = st.sidebar
    rules = available_rules()
    # a loaded scenario sets the value (grappes.ui.scenfile): no default beside it then
    if st.session_state.get("rules") not in rules:
        st.session_state["rules"] = DEFAULT_RULES if DEFAULT_RULES in rules else rules[0]
    if glance:
        sb.caption("Chargement des choix…")
        return DataChoice(source=SAMPLE_LABEL, rules=st.session_state["rules"])
    sb.header("1. Données")
    source = sb.radio("Source", [SAMPLE_LABEL, UPLOAD_LABEL], key="source",
                      label_visibility="collapsed")
    files: tuple[Any, Any, Any] = (None, None, None)
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
        files = (etab_file, ej_file, dui_file)
    sb.header("2. Appel à projets")
    # the titles read once per process: each TOML read and checked on every run (every
    # visitor, every click) was 0.2 s of a warm run (issue 20, item 9)
    titles = cached("rule_titles|" + "|".join(rules),
                    lambda: {n: load_rules(n).title or n for n in rules})
    chosen = sb.selectbox("Appel à projets (jeu de règles)", rules, key="rules",
                          format_func=lambda n: titles.get(n, n))
    return DataChoice(source=source, rules=chosen, files=files)


def first_screen(expanded: bool) -> None:
    """What a grappe is, where the files come from, the templates."""
    with lazy_expander("Comment ça marche ? Grappe, porteur, points, fichiers à fournir",
                       key=f"comment_ca_marche_{int(expanded)}", expanded=expanded) as opened:
        if not opened:
            return
        left, right = st.columns([3, 2])
        left.markdown(HOW_IT_WORKS)
        with right:
            st.markdown(DATA_SOURCES)
            st.download_button("Modèle : liste des établissements (CSV)",
                               cached("template|etab", establishment_template),
                               file_name="modele_etablissements.csv",
                               mime="text/csv", key="dl_template_etab", on_click="ignore")
            st.download_button("Modèle : fichier DUI (CSV)", cached("template|dui", dui_template),
                               file_name="modele_dui.csv", mime="text/csv",
                               key="dl_template_dui", on_click="ignore")


def load_data(choice: DataChoice) -> tuple[str, LoadResult] | None:
    """The loaded table for the chosen source, with a progress bar for uploads."""
    if choice.source == SAMPLE_LABEL:
        with st.spinner("Lecture de la région exemple…"):
            return "sample", sample_result()
    etab_file, ej_file, dui_file = choice.files
    if etab_file is None:
        st.info("Déposez un extrait FINESS des établissements dans le panneau de gauche "
                f"(au plus {MAX_UPLOAD_MB} Mo), ou revenez à la région exemple.")
        return None
    key = "upload|" + files_key(etab_file, ej_file, dui_file)
    bar = st.progress(0.0, text="Lecture du fichier…")

    def progress(done: int, total: int) -> None:
        share = done / total if total else 1.0
        bar.progress(min(share, 1.0), text=f"Lecture du fichier : {integer_fr(done)} / "
                     f"{integer_fr(total)} lignes")

    try:
        result = cached(key, lambda: read_upload(etab_file, ej_file, dui_file, progress))
    except IngestError as exc:
        bar.empty()
        st.error(f"Fichier refusé : {exc}")
        return None
    bar.empty()
    return key, result


def check_panel(result: LoadResult, data_key: str | None = None) -> None:
    """The file check, folded under one line so the proposal stays on the first screen.
    With the loaded data's key, the check is read once for every visitor of the same data."""
    def check() -> tuple[dict[str, Any], Any]:
        return summarise(result), rejects_frame(result)

    summary, rejects = cached(f"check|{data_key}", check) if data_key else check()
    title = (f"Contrôle du fichier : {summary['lignes_chargees']} établissements chargés, "
             f"{summary['esms']} ESMS, {summary['og']} OG, {len(rejects)} ligne(s) rejetée(s)")
    if len(rejects):
        st.warning(f"{len(rejects)} ligne(s) du fichier rejetée(s) : détail et téléchargement "
                   "dans « Contrôle du fichier » ci-dessous.")
    with lazy_expander(title, key="controle_fichier") as opened:
        if not opened:
            return
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
            st.warning(without_cli_options(w))
        if len(rejects):
            st.markdown("**Lignes rejetées** (numéro de ligne du fichier, champ, raison)")
            st.dataframe(rejects, hide_index=True, key="rejects_table")
            st.download_button("Télécharger les lignes rejetées (CSV)", csv_bytes(rejects),
                               file_name="rejets.csv", mime="text/csv", key="dl_rejects",
                               on_click="ignore")
        else:
            st.success("Aucune ligne rejetée.")


def solver_settings() -> None:
    """The sidebar's « Réglages du solveur » (seed and time limit, kept under their keys)."""
    with st.expander("Réglages du solveur"):
        st.number_input("Graine", min_value=0, step=1, key="seed")
        low, high = scenfile.TIME_LIMIT_BOUNDS
        st.number_input("Temps de sélection exacte (s)", min_value=low, max_value=high,
                        step=0.5, key="time_limit", format="%.1f")


def territory_and_field(result: LoadResult, rules_name: str, glance: bool = False) -> View:
    """The sidebar's third section: région, départements, field and solver settings, as the
    one typed request the page computes (``grappes.scenarios.view.View``). At a first glance
    (:func:`sidebar`) the same request is read from the session and defaults, undrawn."""
    regions, deps = territory_choices(result)
    sb = st.sidebar
    if not glance:
        sb.header("3. Territoire et champ")
    if not regions:
        st.error("Aucun ESMS d'un champ du programme dans le fichier.")
        st.stop()
    if glance:  # a selectbox's default: its first option
        region = st.session_state.get("region") if st.session_state.get(
            "region") in regions else regions[0]
    else:
        region = sb.selectbox("Région", regions, key="region", format_func=region_label)
    # the départements and the solver settings are read from the session (a widget's key
    # holds its value from the start of the run) and drawn at the end of the run in their
    # place (``grappes.ui.deferred``): the headline figures do not wait for their code
    dep_key = f"departements_{region}"
    chosen = [d for d in st.session_state.get(dep_key) or [] if d in deps[region]]
    if not glance:
        deferred.placed(lambda: st.multiselect(
            "Départements (vide : toute la région)", deps[region], key=dep_key,
            placeholder="toute la région"), where=sb)
    champs = champ_choices(result, rules_name)
    if not champs:
        st.error("Aucun champ éligible à cet appel dans le fichier.")
        st.stop()
    options = [*champs, ALL_CHAMPS]
    if st.session_state.get("champ") not in options:
        st.session_state["champ"] = DEFAULT_CHAMP if DEFAULT_CHAMP in options else options[0]
    champ = st.session_state["champ"] if glance else sb.selectbox(
        "Champ", options, key="champ", help=CHAMP_HELP,
        format_func=lambda c: CHAMP_LABELS.get(c, c))
    st.session_state.setdefault("seed", 0)
    st.session_state.setdefault("time_limit", APP_TIME_LIMIT)
    seed = int(st.session_state["seed"])
    time_limit = float(st.session_state["time_limit"])
    if not glance:
        deferred.placed(solver_settings, where=sb)
    return View(rules_name, region, tuple(chosen), None if champ == ALL_CHAMPS else champ,
                seed, time_limit)

