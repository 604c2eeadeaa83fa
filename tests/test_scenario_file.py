"""The saved-scenario file (issue 12, "Saved scenarios"): propose, edit, save, load on the
same input -> the same grappes, costs and totals (and the same files); on a changed input
what no longer fits is said in French; a bad file gets a French message, never a traceback.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from typer.testing import CliRunner

from grappes.cli.main import app
from grappes.exports.dossier import csv_files
from grappes.ingest.sample import load_sample
from grappes.programme.rules import load_rules
from grappes.scenarios.scenario import Scenario
from grappes.scenarios.scenario_file import (
    ScenarioFileError,
    content_checksum,
    load_scenario,
    read_scenario_file,
    row_hashes,
    save_scenario,
    table_fingerprint,
)
from grappes.scenarios.whatif import WhatIf
from grappes.solver.propose import propose

runner = CliRunner()
TIME = 2.0


@pytest.fixture(scope="module")
def sample():
    return load_sample()


@pytest.fixture(scope="module")
def edited(sample):
    """The sample, field PA, after one edit of each kind."""
    report = propose(sample, None, champ="PA", time_limit=TIME)
    start = Scenario.from_report(report)
    w = WhatIf.from_report(report)
    g = w.grappe_ids
    declarable = [c.code for c in w.rules.grid.criteria if not c.computed]
    w.exclude_esms(w.members(g[0])[0])
    w.set_porteur(g[1], w.ogs(g[1])[-1])
    w.move_og(w.ogs(g[2])[0], g[3])
    w.declare(g[3], {declarable[0]: True, declarable[1]: True})
    w.lock_together([w.ogs(g[4])[0], w.ogs(g[5])[0]])
    apart = next(gid for gid in g[6:] if len(w.ogs(gid)) >= 2)
    w.keep_apart(w.ogs(apart)[0], w.ogs(apart)[1])
    w.move_og(w.ogs(g[7])[-1], "nouvelle", champ="PA")
    assert len(w.history) == 7 and any("nouvelle" in gid for gid in w.grappe_ids)
    data = save_scenario(w, sample, scope=start.scope, settings=start.settings)
    return w, start, data


def same_grouping(a: Scenario, b: Scenario) -> None:
    assert [(g.id, g.champ, g.esms, g.porteur) for g in a.grappes] == \
        [(g.id, g.champ, g.esms, g.porteur) for g in b.grappes]
    assert a.costs.keys() == b.costs.keys()
    for gid, cost in a.costs.items():
        other = b.costs[gid]
        assert (cost.total, cost.score.total, cost.porteur, cost.score.declared) == \
            (other.total, other.score.total, other.porteur, other.score.declared), gid
        assert [ln.as_dict() for ln in cost.lines] == [ln.as_dict() for ln in other.lines]
    assert {g: [v.message for v in vs] for g, vs in a.violations.items()} == \
        {g: [v.message for v in vs] for g, vs in b.violations.items()}
    assert a.totals() == b.totals()


def test_round_trip_restores_the_same_grappes_costs_totals_and_files(sample, edited):
    w, start, data = edited
    loaded = load_scenario(data, load_sample())
    assert loaded.notes == [] and loaded.same_input and loaded.same_rules
    assert loaded.scope == start.scope and loaded.settings == start.settings
    before = Scenario.from_whatif(w, start.scope, start.settings)
    after = loaded.scenario()
    same_grouping(before, after)
    assert csv_files(before) == csv_files(after)
    # the edits travel: locks, history, deltas against the same starting proposal
    lw = loaded.whatif
    assert lw.constraints == w.constraints and lw.history == w.history
    assert lw.declared == w.declared and lw.chosen_porteurs == w.chosen_porteurs
    assert lw.built_grappes == w.built_grappes
    assert lw.evaluate().grappes.equals(w.evaluate().grappes)
    assert lw.evaluate().totals == w.evaluate().totals
    # saving the loaded scenario gives the same bytes
    assert save_scenario(lw, sample, scope=loaded.scope, settings=loaded.settings) == data
    # and the next hand-made grappe does not reuse an id
    lw.move_og(w.ogs(w.grappe_ids[8])[-1], "nouvelle", champ="PA")
    assert len([g for g in lw.grappe_ids if "nouvelle" in g]) == 2


def test_the_file_says_what_it_holds(edited):
    w, start, data = edited
    payload = json.loads(data)
    assert payload["format"] == "grappes-scenario" and payload["version"] == 1
    assert payload["regles"]["nom"] == "amorcage-t2-2021"
    assert payload["perimetre"]["champs"] == ["PA"]
    assert payload["reglages"]["seed"] == 0 and payload["reglages"]["time_limit"] == TIME
    assert payload["donnees"]["fichiers"]["etablissements"].startswith("etalab-cs1100507")
    m = payload["modifications"]
    assert m["exclus"] and m["separes"] and m["ensemble"] and m["porteurs_choisis"]
    assert m["criteres_declares"] and m["grappes_construites"]
    assert len(payload["depart"]) == len(start.grappes) > 20
    assert len(payload["grappes"]) == len(w.grappe_ids)
    assert payload["totaux"]["financement"] == w.evaluate().totals["financement"]


def test_fingerprint_ignores_row_order_and_sees_a_change(sample):
    etab = sample.etablissements
    hashes = row_hashes(etab)
    shuffled = etab.sample(frac=1.0, random_state=3)
    assert table_fingerprint(row_hashes(shuffled)) == table_fingerprint(hashes)
    changed = etab.copy()
    changed.loc[changed.index[5], "raison_sociale_et"] = "AUTRE NOM"
    assert table_fingerprint(row_hashes(changed)) != table_fingerprint(hashes)


def test_same_rows_in_another_order_load_without_a_note(edited):
    w, start, data = edited
    result = load_sample()
    result.etablissements = result.etablissements.sample(frac=1.0, random_state=7)
    loaded = load_scenario(data, result)
    assert loaded.notes == [] and loaded.same_input
    same_grouping(Scenario.from_whatif(w, start.scope, start.settings), loaded.scenario())


def test_changed_input_loads_what_fits_and_says_what_does_not(edited):
    w, _, data = edited
    result = load_sample()
    etab = result.etablissements.copy()
    gids = w.grappe_ids
    dropped = w.members(gids[10])[0]
    halved = w.members(gids[11])[: len(w.members(gids[11])) // 2 + 1]
    moved = w.members(gids[12])[0]
    other_og = w.ogs(gids[13])[0]
    old_og = w.og_of(moved)
    etab = etab[~etab["finess_et"].isin([dropped, *halved])]
    etab.loc[etab["finess_et"] == moved, "finess_ej"] = other_og
    result.etablissements = etab
    loaded = load_scenario(data, result)
    text = "\n".join(loaded.notes)
    assert not loaded.same_input
    assert "Données différentes" in text
    assert "absent(s) des données, retiré(s)" in text and dropped in text
    assert f"{moved} ({old_og} → {other_og})" in text
    assert "ne le sont plus" in text and gids[11] in text
    lw = loaded.whatif
    assert dropped not in lw.assignment and not set(halved) & set(lw.assignment)
    assert lw.assignment[moved] == gids[12]  # kept in its grappe, OG change reported
    # everything else is as saved
    for gid in gids[14:]:
        assert lw.members(gid) == w.members(gid)


def test_other_rule_set_is_reported(edited):
    _, _, data = edited
    loaded = load_scenario(data, load_sample(), load_rules("generalisation-2022"))
    assert not loaded.same_rules
    assert any("generalisation-2022 au lieu de amorcage-t2-2021" in n for n in loaded.notes)
    assert any("financement ou aux points changés" in n for n in loaded.notes)


def test_a_rule_set_edited_since_saving_is_reported(edited):
    _, _, data = edited
    rules = load_rules("amorcage-t2-2021")
    changed = replace(rules, grouping=replace(rules.grouping, min_esms=rules.grouping.min_esms
                                              + 20))
    loaded = load_scenario(data, load_sample(), changed)
    assert any("le contenu du jeu de règles a changé" in n for n in loaded.notes)
    assert any("ne le sont plus" in n for n in loaded.notes)


def tampered(data: bytes, edit) -> bytes:
    payload = json.loads(data)
    edit(payload)
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


@pytest.mark.parametrize(("make", "expected"), [
    (lambda d: b"\x89PNG\r\n\x1a\n\x00\x00", "pas un fichier texte UTF-8"),
    (lambda d: b"", "vide"),
    (lambda d: b"grappe;esms\nPA-24-001;3\n", "JSON invalide ligne 1"),
    (lambda d: b'{"format": "autre"}', "n'est pas un scénario grappes"),
    (lambda d: b"[1, 2]", "n'est pas un scénario grappes"),
    (lambda d: tampered(d, lambda p: p.update(version=99)), "version de scénario 99"),
    (lambda d: tampered(d, lambda p: p["grappes"][0].update(financement=1)),
     "modifié ou abîmé"),
    (lambda d: tampered(d, lambda p: p["grappes"][0]["esms"].pop()), "modifié ou abîmé"),
    (lambda d: d[: len(d) // 2], "JSON invalide"),
])
def test_bad_files_get_a_french_message(edited, make, expected):
    _, _, data = edited
    with pytest.raises(ScenarioFileError, match=expected):
        load_scenario(make(data), load_sample())


def test_a_checksum_recomputed_over_a_broken_structure_names_the_field(edited):
    _, _, data = edited
    payload = json.loads(data)
    payload["grappes"][0]["esms"] = "370000100"
    payload["controle"] = content_checksum(payload)
    with pytest.raises(ScenarioFileError, match=r"« grappes\[0\]\.esms »"):
        load_scenario(json.dumps(payload).encode(), load_sample())
    assert read_scenario_file(data)["version"] == 1


# --------------------------------------------------------------------------- command line


def test_cli_restores_the_apps_scenario_and_writes_the_same_files(edited, tmp_path):
    w, start, data = edited
    path = tmp_path / "mon scénario.json"
    path.write_bytes(data)
    res = runner.invoke(app, ["proposer", "--exemple", "--scenario", str(path), "--json"])
    assert res.exit_code == 0, res.output
    got = json.loads(res.stdout)
    expected = Scenario.from_whatif(w, start.scope, start.settings)
    assert got["totals"]["financement"] == expected.totals().financement
    assert got["scenario_charge"]["notes"] == []
    assert [(g["id"], g["esms"], g["porteur"]) for g in got["grappes"]] == \
        [(g.id, g.esms, expected.costs[g.id].porteur) for g in expected.grappes]
    out = tmp_path / "sortie"
    res = runner.invoke(app, ["proposer", "--exemple", "--scenario", str(path),
                              "--sortie", str(out)])
    assert res.exit_code == 0, res.output
    assert "Scénario rétabli" in res.output
    for name, content in csv_files(expected).items():
        assert (out / name).read_bytes() == content, name
    assert (out / "scenario.json").read_bytes() == data


def test_cli_out_writes_a_scenario_that_loads_back(tmp_path, sample):
    first, second = tmp_path / "a", tmp_path / "b"
    res = runner.invoke(app, ["proposer", "--exemple", "--champ", "PA", "--limite-temps", str(TIME),
                              "--sortie", str(first),
                              "--enregistrer-scenario", str(tmp_path / "s.json")])
    assert res.exit_code == 0, res.output
    assert (first / "scenario.json").read_bytes() == (tmp_path / "s.json").read_bytes()
    res = runner.invoke(app, ["proposer", "--exemple", "--scenario", str(first / "scenario.json"),
                              "--sortie", str(second)])
    assert res.exit_code == 0, res.output
    for name in ("grappes.csv", "etablissements.csv", "financements.csv", "scenario.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_cli_bad_scenario_and_conflicting_scope_are_french_errors(edited, tmp_path):
    _, _, data = edited
    bad = tmp_path / "abime.json"
    bad.write_bytes(tampered(data, lambda p: p["totaux"].update(financement=0)))
    res = runner.invoke(app, ["proposer", "--exemple", "--scenario", str(bad)])
    assert res.exit_code != 0 and "modifié ou abîmé" in res.output
    assert "Traceback" not in res.output
    good = tmp_path / "s.json"
    good.write_bytes(data)
    res = runner.invoke(app, ["proposer", "--exemple", "--scenario", str(good), "--champ", "PH"])
    assert res.exit_code == 2 and "retirez --champ" in res.output
    res = runner.invoke(app, ["proposer", "--exemple", "--scenario", str(tmp_path / "absent")])
    assert res.exit_code == 2 and "fichier introuvable" in res.output


# --------------------------------------------------------------------------- issue 21: attacks


def _resealed(data: bytes, edit) -> bytes:
    payload = json.loads(data)
    edit(payload)
    payload["controle"] = content_checksum(payload)
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def test_a_scenario_nested_10000_levels_is_refused_in_french(edited):
    _, _, data = edited
    text = data.decode("utf-8").replace('"historique": [', '"historique": [' + "[" * 10_000
                                        + "]" * 10_000 + ",", 1)
    with pytest.raises(ScenarioFileError, match="plus de 64 niveaux"):
        read_scenario_file(text.encode("utf-8"))


def test_a_key_given_twice_in_a_scenario_is_refused_with_its_path(edited):
    _, _, data = edited
    text = data.decode("utf-8")
    assert '"champ": ' in text
    doubled = text.replace('"modifications": {', '"modifications": {"exclus": [], ', 1)
    with pytest.raises(ScenarioFileError, match=r"« modifications\.exclus »"):
        read_scenario_file(doubled.encode("utf-8"))


def test_a_member_in_two_grappes_and_an_og_number_are_listed_not_dropped(edited):
    _, _, data = edited
    payload = json.loads(data)
    first, second = payload["grappes"][0], payload["grappes"][1]
    twice = first["esms"][0]
    og = next(o for o in second.get("og", []) or [payload["esms"][second["esms"][0]][0]])

    def edit(p):
        p["grappes"][1]["esms"].append(twice)
        p["grappes"][1]["esms"].append(og)

    loaded = load_scenario(_resealed(data, edit), load_sample())
    text = " ".join(loaded.notes)
    assert f"{twice} listé deux fois" in text and "la première mention" in text
    assert f"{og} dans grappes[1].esms est un numéro d'OG" in text
    assert loaded.whatif.assignment[twice] == first["id"]
