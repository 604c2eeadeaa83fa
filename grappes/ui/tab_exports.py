"""The « Exports » tab: the CSV files, the XLSX workbook and the GeoPackage of the scenario as
shown, and the scenario file (save it; load one back, see ``grappes.ui.scenfile``)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from grappes.core.model import LoadResult
from grappes.ui import scenfile
from grappes.ui.datapanel import champ_choices, territory_choices
from grappes.ui.proposalstate import shown_scenario, view_memo
from grappes.ui.store import grouping_version


def exports_tab(scenario: Any) -> None:
    from grappes.exports.dossier import CSV_FILES, csv_files, workbook_bytes

    st.markdown("Exports de la proposition telle qu'affichée (modifications comprises), pour "
                "Excel en français (séparateur « ; »). Le classeur XLSX reprend les trois "
                "tableaux et ajoute une feuille « dossier » par grappe. Le GeoPackage s'ouvre "
                "dans QGIS : ESMS, contour de chaque grappe, ESMS sans grappe avec la raison.")
    data = shown_scenario(scenario)
    invalid = data.totals().invalides
    if invalid:
        st.warning(f"{len(invalid)} grappe(s) invalide(s) figurent dans les exports, marquées "
                   "« non » dans la colonne « valide » et hors du total financé : "
                   + ", ".join(invalid) + ". Corrigez-les (onglet « Et si… ») ou "
                   "signalez-les comme telles.")
    labels = {"grappes.csv": "Grappes (CSV)", "etablissements.csv": "Établissements (CSV)",
              "financements.csv": "Lignes de financement (CSV)",
              "financements_og.csv": "Financement par OG (CSV)"}
    version = grouping_version(scenario)
    # files are bytes built from the scenario as shown and kept per version; a click does
    # not rerun the page (on_click="ignore"), so the file it points to is still there
    # (a deferred callable could be dropped by a rerun: MediaFileStorageError)
    files = view_memo("csv_files", scenario, lambda: csv_files(shown_scenario(scenario)))
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
    from grappes.programme.rules import available_rules
    from grappes.scenarios.scenario_file import FILE_NAME

    state = st.session_state
    st.markdown("**Scénario** : enregistrez la proposition et toutes vos modifications dans "
                "un fichier, pour la reprendre plus tard, la partager ou l'ouvrir en ligne de "
                "commande (grappes proposer --scenario). Le charger sur les mêmes données "
                "redonne les mêmes grappes et les mêmes montants.")
    data = view_memo("scenario_file", scenario, lambda: scenfile.scenario_bytes(
        scenario, result, state.get("scenario_meta")))
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
    rule set, région, field and settings (see ``grappes.ui.scenfile``)."""
    from grappes.scenarios.scenario_file import ScenarioFileError

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
    from grappes.exports.gis import gpkg_bytes, gpkg_inputs

    return gpkg_bytes(*gpkg_inputs(shown_scenario(scenario)))

