"""The Streamlit app's main flows with ``streamlit.testing.v1.AppTest`` (no browser).

Each test runs its own fresh ``AppTest`` (no shared mutable page, so any order works); the
sample region's proposal is cached by the app per process, so only the first run pays for
the solver.
"""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from openpyxl import load_workbook
from streamlit.testing.v1 import AppTest

from grappes.core.formatting import euros, euros_short
from grappes.exports.dossier import csv_files, workbook_bytes
from grappes.ingest import IngestError
from grappes.programme.costing import cost_grappe
from grappes.scenarios.scenario import Scenario
from grappes.ui import afterpaint, navigation
from grappes.ui import upload as ui_upload
from grappes.ui.datapanel import SAMPLE_LABEL, UPLOAD_LABEL
from tests.app_tabs import APP, TIMEOUT, new_visitor, open_tab
from tests.followup_exports import read_written_csv


@pytest.fixture()
def at():
    """A fresh app page for each test (its own session state)."""
    return new_visitor()


def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert found, f"aucun tableau avec la colonne {column}"
    return found[0]


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_a_new_visitor_sees_the_figures_first_then_the_page():
    """The first run draws the headline figures alone (no sidebar choice, no table, no
    panel) and the paint signal; the next run, which the browser's signal asks for (or any
    click: a browser that never sends it is not stuck), draws the whole page with the same
    figures (grappes.ui.afterpaint.first_glance)."""
    first = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not first.exception, first.exception
    figures = [(m.label, m.value) for m in first.metric]
    assert [label for label, _ in figures] == [
        "Grappes", "Grappes valides", "ESMS placés", "Points grille", "Financement"]
    assert not first.dataframe and not first.selectbox and not first.radio
    assert not first.expander and not first.get("deck_gl_json_chart")
    assert [c.value for c in first.sidebar.caption] == ["Chargement des choix…"]
    assert paint_signals(first) == ["_signal_page"]
    first.run()  # no signal here: the rerun alone draws the whole page
    assert not first.exception, first.exception
    assert [(m.label, m.value) for m in first.metric] == figures
    assert first.radio(key="source").value == SAMPLE_LABEL
    assert first.selectbox(key="champ").value == "PA"
    assert frame_with(first, "detail") is not None
    assert "Chargement des choix…" not in [c.value for c in first.sidebar.caption]


def paint_signals(at: AppTest) -> list[str]:
    """The keys of the paint signals of the run (``grappes.ui.afterpaint``)."""
    return [e.proto.id.rsplit("-", 1)[-1] for e in at.get("bidi_component")
            if e.proto.component_name == "grappes_apres_affichage"]


def test_a_failed_glance_still_asks_for_the_page(monkeypatch):
    """A proposal that cannot be made at the first glance shows its message and still sends
    the paint signal: the sidebar's choices follow, to change them."""
    from grappes.core.errors import GrappesError
    from grappes.ui import proposalstate

    def fails(*_args, **_kwargs):
        raise GrappesError("essai d'échec")

    monkeypatch.setattr(proposalstate, "compute_report", fails)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == ["Proposition impossible : essai d'échec"]
    assert paint_signals(at) == ["_signal_page"] and not at.radio
    at.run()
    assert at.radio(key="source").value == SAMPLE_LABEL and not paint_signals(at)


@pytest.mark.parametrize("how", ["autre onglet", "mes fichiers"])
def test_the_figures_alone_only_for_the_proposal_of_the_sample(how):
    """A link to another tab, or a session on its own files, draws its whole page at once:
    that tab and the file fields are needed at once."""
    test = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if how == "autre onglet":
        test.query_params[navigation.TAB_KEY] = navigation.EXPORTS
    else:
        test.session_state["source"] = UPLOAD_LABEL
    test.run()
    assert not test.exception, test.exception
    assert test.radio(key="source").value == (
        SAMPLE_LABEL if how == "autre onglet" else UPLOAD_LABEL)
    assert test.get("download_button") if how == "autre onglet" else test.get("file_uploader")


def test_sample_opens_with_a_proposal(at):
    assert not at.error
    n = int(metric(at, "Grappes"))
    assert n > 0
    table = frame_with(at, "detail")
    assert len(table) == n
    # the map waits for the browser's paint (grappes.ui.afterpaint): a line in its place,
    # then, once the browser's signal has marked the session, the map
    assert not at.get("deck_gl_json_chart")
    assert any("Carte en cours d'affichage" in c.value for c in at.caption)
    at.session_state[afterpaint.painted_key("carte")] = True
    at.run()
    charts = at.get("deck_gl_json_chart")
    assert len(charts) == 1
    assert not any("Carte en cours d'affichage" in c.value for c in at.caption)
    spec = json.loads(charts[0].proto.json)
    ids = [layer["id"] for layer in spec["layers"]]
    assert [i for i in ids if i in ("departements", "non_places", "grappes")] == [
        "departements", "non_places", "grappes"]
    scenario = at.session_state["scenario"]
    assert sorted(table["grappe"]) == scenario.grappe_ids
    unplaced = frame_with(at, "quasi")
    assert (unplaced["raison"].astype(str) != "").all()


def test_partner_finder_ranks(at):
    scenario = at.session_state["scenario"]
    etab = scenario.etab
    alone = etab[(etab["champ"] == "PA") & etab["autonome"].astype(bool)]
    target = sorted(set(alone["finess_et"]) - set(scenario.assignment) - scenario.set_aside)[0]
    open_tab(at, navigation.PARTNERS).text_input(key="partner_query").input(target).run()
    assert not at.exception
    ranked = frame_with(at, "rang")
    assert list(ranked["rang"]) == list(range(1, len(ranked) + 1))
    assert (ranked["distance"] <= 100).all()
    valid = ranked["valide_apres"].astype(bool).tolist()
    assert valid == sorted(valid, reverse=True)  # valid targets first


def test_whatif_lock_recosts(at):
    scenario = at.session_state["scenario"]
    g1, g2 = scenario.grappe_ids[:2]
    ogs = [scenario.ogs(g1)[0], scenario.ogs(g2)[0]]
    open_tab(at, navigation.WHATIF).multiselect(key="lock_ogs").set_value(ogs).run()
    button = next(b for b in at.button if (b.key or "").startswith("act_lock_"))
    assert button.label.startswith("Verrouiller ensemble : ")
    assert all(f"({o})" in button.label for o in ogs)
    button.click().run()
    assert not at.exception
    scenario = at.session_state["scenario"]
    assert scenario.history[-1].startswith("OG verrouillés ensemble")
    changed = frame_with(at, "delta_financement")
    assert set(changed["grappe"]) == {g1, g2}
    for row in changed.itertuples():
        rows = scenario.rows_of(scenario.members(row.grappe))
        expected = cost_grappe(rows, scenario.rules, porteur=scenario.porteurs.get(row.grappe)
                               or None, declared=scenario.declared.get(row.grappe))
        assert row.financement == pytest.approx(expected.total)
    evaluation = scenario.current
    valid = evaluation.grappes[evaluation.grappes["valide"]]
    assert evaluation.totals["financement"] == pytest.approx(valid["financement"].sum())
    assert metric(open_tab(at, navigation.PROPOSAL), "Financement") == euros_short(
        evaluation.totals["financement"])
    # undo restores the proposal
    open_tab(at, navigation.WHATIF)
    next(b for b in at.button if (b.key or "").startswith("act_undo_")).click().run()
    assert at.session_state["scenario"].history == []


def test_exclude_names_its_target_then_clears_the_choice(at):
    """The button names the ESMS and its grappe; after the edit the choice is empty and the
    button disabled: a second click makes no second edit (issue 20)."""
    scenario = open_tab(at, navigation.WHATIF).session_state["scenario"]
    exclude = next(b for b in at.button if (b.key or "").startswith("act_exclude_"))
    assert exclude.disabled
    gid = scenario.grappe_ids[0]
    et = scenario.members(gid)[0]
    at.selectbox(key="exclude_et").set_value(et).run()
    exclude = next(b for b in at.button if (b.key or "").startswith("act_exclude_"))
    assert not exclude.disabled
    assert et in exclude.label and f"la grappe {gid}" in exclude.label
    exclude.click().run()
    assert not at.exception, at.exception
    assert len(at.session_state["scenario"].history) == 1
    assert at.selectbox(key="exclude_et").value is None
    again = next(b for b in at.button if (b.key or "").startswith("act_exclude_"))
    assert again.disabled and again.key != exclude.key  # the old button is gone


def test_exports_parse_back(at):
    scenario = at.session_state["scenario"]
    files = csv_files(Scenario.from_whatif(scenario))
    grappes = read_written_csv(files["grappes.csv"])
    assert sorted(grappes["grappe"]) == scenario.grappe_ids
    etab = read_written_csv(files["etablissements.csv"])
    assert len(etab) == len(scenario.etab)
    assert (etab["finess_et"].str.len() == 9).all()
    wb = load_workbook(io.BytesIO(workbook_bytes(Scenario.from_whatif(scenario))))
    assert len([n for n in wb.sheetnames if n.startswith("dossier ")]) == len(grappes)


BAD_TEMPLATE = (
    b"finess_et;finess_ej;categorie;commune;raison_sociale\r\n"
    b"370000010;370009011;500;37261;EHPAD FICTIF BON\r\n"
    b"370000018;370009011;500;37261;EHPAD FICTIF MAUVAISE CLE\r\n"
    b"370000028;370009011;;37261;EHPAD FICTIF SANS CATEGORIE\r\n"
)


def test_bad_upload_shows_the_rejects():
    upload = io.BytesIO(BAD_TEMPLATE)
    upload.name = "etablissements.csv"
    result = ui_upload.read_upload(upload)
    assert len(result.rejets) == 2
    assert {r.line for r in result.rejets} == {3, 4}

    def page(result):
        from grappes.ui.datapanel import check_panel

        check_panel(result)

    test = AppTest.from_function(page, args=(result,), default_timeout=60).run()
    assert not test.exception
    # folded, the panel's content is not built (grappes.ui.navigation.lazy_expander): only
    # the warning above it says that lines were rejected
    assert "2 ligne(s) du fichier rejetée(s)" in test.warning[0].value
    assert not test.metric and not test.dataframe
    test.session_state["controle_fichier"] = True  # as a click on its title does
    test.run()
    assert metric(test, "Lignes rejetées") == "2"
    rejects = frame_with(test, "raison")
    assert sorted(rejects["ligne"].tolist()) == [3, 4]
    assert set(rejects["champ fautif"]) == {"finess_et", "categorie"}


def test_upload_limit_and_unusable_files():
    class Huge(io.BytesIO):
        name = "national.csv"
        size = 350_000_000  # above the limit shared with the CLI (300 Mo, issue 11)

        def read(self, *args):  # never read: refused on its stated size
            raise AssertionError

    with pytest.raises(IngestError, match=r"trop volumineux.*300 Mo"):
        ui_upload.read_upload(Huge())
    binary = io.BytesIO(b"\x00\x01\x02\x03" * 100)
    binary.name = "image.png"
    with pytest.raises(IngestError):
        ui_upload.read_upload(binary)
    assert ui_upload.files_key(io.BytesIO(b"a")) != ui_upload.files_key(io.BytesIO(b"b"))


def test_partner_search_stays_in_the_field_and_offers_a_switch(at):
    scenario = at.session_state["scenario"]
    etab = scenario.etab
    dom = etab[(etab["champ"] == "DOM") & ~etab["finess_et"].isin(list(scenario.out_of_scope))]
    target = str(dom["finess_et"].iloc[0])
    open_tab(at, navigation.PARTNERS).text_input(key="partner_query").input(target).run()
    assert not at.exception
    assert any("Aucun ESMS du champ étudié" in w.value for w in at.warning)
    switch = at.button(key="switch_DOM")
    switch.click().run()
    assert not at.exception
    assert at.session_state["champ"] == "DOM"


def test_envelope_in_the_page(at):
    scenario = at.session_state["scenario"]
    total = scenario.current.totals["financement"]
    half = round(total / 2, -3)
    typed = f"{int(half):,}".replace(",", "\u202f") + ",50"  # « 6 000 000,50 », French
    open_tab(at, navigation.ENVELOPE).text_input(key="env_amount").set_value(typed)
    next(b for b in at.button if "envelope_form" in (b.key or "")).click().run()
    assert not at.exception
    summary = next(s.value for s in at.success if "financée(s) sur" in s.value)
    assert "€ engagés" in summary
    funded = next(d.value for d in at.dataframe
                  if {"fenetre", "financement"} <= set(d.value.columns))
    assert 0 < funded["financement"].sum() <= half + 0.5
    assert any(euros(half + 0.5) in c.value for c in at.caption)  # read as typed, not x100


def test_envelope_refuses_an_ambiguous_amount(at):
    open_tab(at, navigation.ENVELOPE).text_input(key="env_amount").set_value("6.000")
    next(b for b in at.button if "envelope_form" in (b.key or "")).click().run()
    assert any("milliers ou décimales" in e.value for e in at.error)


def test_folded_panels_are_built_only_once_opened(at):
    """The file check and a grappe's reasons are folded on the first screen: their content
    is neither built nor sent until opened (grappes.ui.navigation.lazy_expander)."""
    labels = {e.label.split(" :")[0] for e in at.expander}
    assert {"Contrôle du fichier", "Éligibilité, avertissements et pourquoi ces membres"} \
        <= labels
    assert "Lignes rejetées" not in [m.label for m in at.metric]
    reasons = [m.value for m in at.markdown if m.value.startswith("- ")]
    assert reasons == []
    at.session_state["controle_fichier"] = True
    at.session_state["detail_pourquoi"] = True
    at.run()
    assert not at.exception
    assert metric(at, "Lignes rejetées") == "0"
    assert [m.value for m in at.markdown if m.value.startswith("- ")]
