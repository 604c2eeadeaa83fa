"""Saved scenarios in the app (issue 12): "Enregistrer le scénario" then "Charger un scénario"
in a fresh page gives back the same grappes and the same total; a bad file is refused in
French; the sidebar follows the file (else the page would rebuild the proposal)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from grappes.ingest.sample import load_sample
from grappes.scenarios.scenario_file import ScenarioFileError
from grappes.ui import navigation, scenfile
from tests.app_tabs import new_visitor, open_tab

fresh = new_visitor


def shown(at: AppTest) -> tuple[list[tuple[str, bool, float]], str]:
    """The grappes table (id, valid, funding) and the headline funding, as the user sees."""
    table = next(d.value for d in at.dataframe if "detail" in d.value.columns)
    rows = sorted((str(r.grappe), bool(r.valide), float(r.financement))
                  for r in table.itertuples())
    funding = next(m.value for m in at.metric if m.label == "Financement")
    return rows, funding


def uploader(at: AppTest):
    return next(u for u in at.get("file_uploader") if u.key == "scenario_upload")


def test_save_after_edit_then_load_in_a_fresh_page():
    at = open_tab(fresh(), navigation.WHATIF)
    scenario = at.session_state["scenario"]
    gid = scenario.grappe_ids[0]
    et = scenario.members(gid)[0]
    at.selectbox(key="exclude_et").set_value(et).run()
    next(b for b in at.button if (b.key or "").startswith("act_exclude_")).click().run()
    assert not at.exception, at.exception
    edited = at.session_state["scenario"]
    assert et in edited.constraints.excluded_esms
    open_tab(at, navigation.PROPOSAL)
    before, funding = shown(at)
    errors = [e.value for e in at.error]  # the edit may break a grappe: same messages after
    total = edited.current.totals["financement"]
    assert any(b.key == "dl_scenario" for b in open_tab(at, navigation.EXPORTS).get(
        "download_button"))
    data = scenfile.scenario_bytes(edited, load_sample(), at.session_state["scenario_meta"])

    again = fresh()
    assert shown(again) != (before, funding)  # a fresh page shows the plain proposal
    uploader(open_tab(again, navigation.EXPORTS)).upload("mon-scenario.json", data,
                                                         "application/json")
    again.run()
    assert not again.exception, again.exception
    assert any("mon-scenario.json" in s.value for s in again.success)
    open_tab(again, navigation.PROPOSAL)
    assert [e.value for e in again.error] == errors
    loaded = again.session_state["scenario"]
    assert loaded is not scenario
    assert et in loaded.constraints.excluded_esms
    assert et not in loaded.assignment
    assert shown(again) == (before, funding)
    assert loaded.current.totals["financement"] == pytest.approx(total)
    assert loaded.history == edited.history
    assert again.session_state[scenfile.FROM_FILE] == "mon-scenario.json"
    assert [w.value for w in again.warning if "Règles" in w.value or "Données" in w.value] == []
    # the page keeps it on the next run (the sidebar and the key follow the file)
    again.run()
    assert again.session_state["scenario"] is loaded
    assert shown(again) == (before, funding)
    # the address holds no edit log (it would be replayed on the plain proposal), and the
    # "Et si…" tab does not say it does
    assert "modifs" not in again.query_params
    texts = " ".join(m.value for m in open_tab(again, navigation.WHATIF).markdown)
    assert "sont gardées dans l'adresse de la page" not in texts
    assert "ne sont pas gardées dans l'adresse de la page" in texts
    # while on the plain proposal it says they are
    assert "Les modifications sont gardées dans l'adresse de la page" in " ".join(
        m.value for m in open_tab(at, navigation.WHATIF).markdown)


def test_a_damaged_file_is_refused_in_french():
    at = fresh()
    data = scenfile.scenario_bytes(at.session_state["scenario"], load_sample(),
                                   at.session_state["scenario_meta"])
    damaged = data.replace(b'"financement"', b'"financement_"', 1)
    uploader(open_tab(at, navigation.EXPORTS)).upload("scenario.json", damaged, "application/json")
    at.run()
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert any(e.startswith("Scénario refusé :") and "somme de contrôle" in e for e in errors)
    assert scenfile.FROM_FILE not in at.session_state


def test_prepare_load_lines_up_the_sidebar_or_refuses():
    at = fresh()
    result = load_sample()
    data = scenfile.scenario_bytes(at.session_state["scenario"], result,
                                   at.session_state["scenario_meta"])
    rules = at.session_state["rules"]
    region = at.session_state["region"]
    champs = at.session_state["champ"]
    load = scenfile.prepare_load(data, "s.json", result, "sample", rule_names=[rules],
                                 territories=([region], {region: []}),
                                 champs_for=lambda r: [champs])
    assert load.key == at.session_state["scenario_key"]
    assert load.widgets["region"] == region and load.widgets["champ"] == champs
    with pytest.raises(ScenarioFileError, match="absente des données"):
        scenfile.prepare_load(data, "s.json", result, "sample", rule_names=[rules],
                              territories=(["99"], {"99": []}), champs_for=lambda r: [champs])
    with pytest.raises(ScenarioFileError, match="jeu de règles"):
        scenfile.prepare_load(data, "s.json", result, "sample", rule_names=["autre"],
                              territories=([region], {region: []}),
                              champs_for=lambda r: [champs])
