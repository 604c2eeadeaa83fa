"""Partner finder: search, ranking, and what joining changes, checked independently."""

from __future__ import annotations

import json

import pytest
from test_app_factory import TOURS, members, region
from typer.testing import CliRunner

from grappes.cli.main import app as cli_app
from grappes.core.finess import luhn_key
from grappes.exports.french_excel import write_csv
from grappes.geo.distances import centre, haversine_km
from grappes.programme.costing import cost_grappe
from grappes.programme.validate import grappe_violations
from grappes.scenarios.partners import find_partners, search_esms
from grappes.scenarios.whatif import WhatIf


@pytest.fixture(scope="module")
def setting():
    r = region()
    etab = r.etab.copy()
    etab.loc[etab["finess_et"] == r.isolated, "raison_sociale"] = "EHPAD FICTIF LES PRÉS FLEURIS"
    scenario = WhatIf.from_grappes(etab, r.rules, r.grappes, champ="PA")
    return r, etab, scenario


def test_search_by_name_without_accents_finess_and_commune(setting):
    r, etab, scenario = setting
    found = search_esms(etab, "les pres fleuris", scenario.assignment)
    assert list(found["finess_et"]) == [r.isolated]
    assert bool(found["autonome"].iloc[0]) and found["grappe"].iloc[0] == ""
    assert r.isolated in set(search_esms(etab, r.isolated[:7])["finess_et"])
    by_commune = search_esms(etab, "37261", limit=100)
    assert set(by_commune["finess_et"]) == set(etab.loc[etab["commune"] == "37261", "finess_et"])
    assert bool(by_commune["autonome"].iloc[0])  # autonomous ESMS first
    in_grappe = search_esms(etab, r.grappes[0].esms[0], scenario.assignment)
    assert in_grappe["grappe"].iloc[0] == "PA-24-001"
    assert search_esms(etab, "zzz introuvable").empty


def test_isolated_esms_ranks_the_compatible_grappe_first(setting):
    r, etab, scenario = setting
    report = find_partners(scenario, r.isolated, top=5, max_km=200)
    first = report.options[0]
    assert (first.type, first.cible) == ("grappe", "PA-24-001")
    assert first.valide_apres and first.editeur_compatible and first.valide_avant
    assert first.editeur.startswith("même éditeur")
    # the one distance: from the unit (here the isolated ESMS alone) to the grappe's centre
    # (spherical mean of its ESMS), computed independently with grappes.geo.distances
    me = etab[etab["finess_et"] == r.isolated].iloc[0]
    rows = members(etab, r.grappes[0].esms)
    c_lon, c_lat = centre(rows["lon"].to_numpy(), rows["lat"].to_numpy())
    km = float(haversine_km(me["lon"], me["lat"], c_lon, c_lat))
    assert first.distance_km == pytest.approx(km, abs=0.05)
    # what joining changes: re-validated and re-costed with the isolated ESMS added
    after = members(etab, [*r.grappes[0].esms, r.isolated])
    cost = cost_grappe(after, r.rules, porteur="370000011")
    assert first.financement_apres == pytest.approx(cost.total)
    assert first.points_apres == cost.score.total
    assert first.points_apres - first.points_avant == r.rules.grid.points_of("isole")
    assert first.n_esms_apres == 16
    # the others: the unplaced OG nearby (too small), then Orléans (other vendor)
    kinds = [(o.type, o.cible) for o in report.options]
    assert ("og", "370000050") in kinds
    orleans = next(o for o in report.options if o.cible == "PA-24-002")
    assert not orleans.valide_apres and not orleans.editeur_compatible
    assert any("solutions DUI" in m for m in orleans.regles_enfreintes)
    keys = [o.rank_key() for o in report.options]
    assert keys == sorted(keys)
    assert [o.rang for o in report.options] == list(range(1, len(report.options) + 1))
    assert report.grappe_actuelle == "" and report.depart is None


def test_options_are_limited_by_distance_and_top(setting):
    r, _, scenario = setting
    near = find_partners(scenario, r.isolated, top=5, max_km=50)
    assert "PA-24-002" not in {o.cible for o in near.options}  # Orléans is ~100 km away
    assert all(o.distance_km <= 50 for o in near.options)
    assert len(find_partners(scenario, r.isolated, top=1, max_km=200).options) == 1
    assert find_partners(scenario, r.far_isolated, top=5, max_km=30).options == []


def test_member_of_a_grappe_sees_what_leaving_does(setting):
    r, etab, scenario = setting
    et = etab.loc[etab["finess_ej"] == "370000013", "finess_et"].iloc[0]
    report = find_partners(scenario, et, top=5, max_km=200)
    assert report.grappe_actuelle == "PA-24-001"
    assert len(report.unite) == 5  # the whole OG moves
    assert report.depart["valide_apres"] is False
    rest = [e for e in r.grappes[0].esms if e not in set(report.unite)]
    assert report.depart["financement_apres"] == pytest.approx(
        cost_grappe(members(etab, rest), r.rules, porteur="370000011").total)
    assert "PA-24-001" not in {o.cible for o in report.options}
    orleans = next(o for o in report.options if o.cible == "PA-24-002")
    rows = members(etab, [*r.grappes[1].esms, *report.unite])
    assert orleans.valide_apres == (not grappe_violations(rows, r.rules.grouping, "PA"))


def test_bad_requests_are_explained(setting):
    _, _, scenario = setting
    with pytest.raises(ValueError, match="introuvable"):
        find_partners(scenario, "999999999")


# --------------------------------------------------------------------------- command line


def _template(tmp_path, r) -> tuple:
    """The region as a user CSV template with valid FINESS numbers (Luhn keys)."""
    etab = r.etab.copy()
    et_map = {e: (lambda b: b + luhn_key(b))(f"{e[:2]}{i:06d}")
              for i, e in enumerate(etab["finess_et"])}
    ejs = sorted(set(etab["finess_ej"]))
    ej_map = {e: (lambda b: b + luhn_key(b))(f"{e[:2]}9{i:05d}") for i, e in enumerate(ejs)}
    communes = {"37": "37261", "45": "45234", "36": "36044"}
    out = etab[["raison_sociale", "raison_sociale_ej", "categorie", "lon", "lat",
                "dui_editeur", "dui_statut"]].copy()
    out.insert(0, "finess_et", etab["finess_et"].map(et_map))
    out.insert(1, "finess_ej", etab["finess_ej"].map(ej_map))
    out["commune"] = etab["departement"].map(communes)
    out["statut_juridique"] = etab["statut_juridique"]
    out["editeur_segur"] = etab["dui_editeur"].map(lambda v: "oui" if v else "")
    out["deja_finance"] = "non"
    path = write_csv(out, tmp_path / "etablissements.csv")
    return path, et_map[r.isolated]


def test_cli_partenaires_json_and_errors(tmp_path):
    r = region()
    path, isolated = _template(tmp_path, r)
    runner = CliRunner()
    res = runner.invoke(cli_app, ["partenaires", isolated, str(path), "--json", "--nombre", "3",
                                  "--limite-temps", "1"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["esms"]["finess_et"] == isolated and data["esms"]["autonome"] is True
    assert 1 <= len(data["options"]) <= 3
    assert [o["rang"] for o in data["options"]] == list(range(1, len(data["options"]) + 1))
    assert all(o["distance_km"] <= 100 for o in data["options"])
    bad = runner.invoke(cli_app, ["partenaires", "999999999", str(path)])
    assert bad.exit_code == 2 and "introuvable" in bad.output  # bad usage (issue 11)
    assert "Traceback" not in bad.output
    nothing = runner.invoke(cli_app, ["partenaires", isolated])
    assert nothing.exit_code == 2 and "--exemple" in nothing.output


def test_template_round_trip_keeps_the_isolated_esms(tmp_path):
    from grappes.ingest import load

    r = region()
    path, isolated = _template(tmp_path, r)
    result = load(path)
    assert result.rejets == []
    row = result.etablissements[result.etablissements["finess_et"] == isolated].iloc[0]
    assert bool(row["autonome"])
    assert haversine_km(row["lon"], row["lat"], TOURS[0], TOURS[1]) < 10


def test_search_by_og_name_or_ej_number(setting):
    """An OG director types their OG's name or FINESS EJ number (issue 20: « Aucun ESMS du
    champ étudié ne correspond »): every ESMS of that OG is found."""
    r, etab, _ = setting
    og = etab.loc[etab["finess_et"] == r.isolated].iloc[0]
    mine = set(etab.loc[etab["finess_ej"] == og["finess_ej"], "finess_et"])
    assert set(search_esms(etab, str(og["finess_ej"]), limit=500)["finess_et"]) >= mine
    etab = etab.copy()
    etab.loc[etab["finess_ej"] == og["finess_ej"], "raison_sociale_ej"] = "CCAS FICTIF DE DUN"
    assert set(search_esms(etab, "ccas fictif de dun", limit=500)["finess_et"]) == mine
