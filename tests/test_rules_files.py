"""The bundled rule files load with the documents' figures; malformed files name the key."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grappes.cli.main import app
from grappes.core.model import GroupingRules
from grappes.core.paths import rules_dir
from grappes.programme.rules import (
    DEFAULT_RULES,
    RulesError,
    available_rules,
    load_all,
    load_rules,
)

BUNDLED = ("amorcage-t1-2021", "amorcage-t2-2021", "generalisation-2022")


def test_bundled_rule_sets_are_installed():
    assert set(BUNDLED) <= set(available_rules())
    assert DEFAULT_RULES == "amorcage-t2-2021"


@pytest.mark.parametrize("name", BUNDLED)
def test_every_figure_cites_a_source_document(name):
    r = load_rules(name)
    codes = {s.code for s in r.sources}
    assert codes and all(re.fullmatch(r"\d{3}", c) for c in codes)
    for key, citation in r.citations.items():
        cited = set(re.findall(r"\b(\d{3})\b", citation))
        assert cited & codes or "choix" in citation, f"{name} {key}: {citation}"
    for line in r.lines:
        assert re.search(r"\b\d{3}\b", line.source), line.code
    assert sum(i.share for i in r.schedule) == pytest.approx(1.0)
    assert r.grid.max == sum(c.points for c in r.grid.criteria)


def test_t2_figures_match_the_call_000():
    r = load_rules("amorcage-t2-2021")
    # the model's defaults are the t2 call, except keeping the already-funded ESMS of small
    # OGs (000 3) « pourront également bénéficier »), off by default for the other calls
    assert r.grouping == replace(GroupingRules(), deja_finance_small_og_counts=True)
    assert r.capped_types == ("acquisition", "conformite")  # not the déploiement of 000 4)
    assert r.switch_type == "acquisition"
    assert r.max_funded_esms == 49
    amounts = {ln.code: ln.amount for ln in r.lines}
    assert amounts == {"acquisition": 25000, "conformite": 10000, "deploiement": 5000,
                       "equipement_petits_og": 20000, "amoa_marche": 15000,
                       "amoa_pilotage": 100000}
    assert [i.share for i in r.schedule] == [0.4, 0.4, 0.2]
    assert [w.share for w in r.windows] == [0.5, 0.7, 1.0]
    assert r.grid.max == 20
    assert (r.grouping.points_isole, r.grouping.points_multi_og,
            r.grouping.points_multi_departement) == (3, 2, 2)


def test_t1_figures_match_002_003():
    r = load_rules("amorcage-t1-2021")
    g = r.grouping
    assert (g.min_esms, g.min_esms_derogatoire, g.max_esms, g.min_og) == (15, 8, 30, 3)
    # 003 Q1 « dont quelques-uns peuvent déroger à la règle »: any field as a minority
    assert g.dominant_champs == ("PA", "PH") and g.grappe_champs == ("PA", "PH")
    assert "DOM" in g.eligible_champs and g.medicalise_majority
    assert r.type_by_statut["non_conforme"] == "conformite"  # 002 « déjà équipés »
    assert r.switch_type == "conformite"  # 002 « (ou le changement de solution) »
    assert g.petit_og_max == 14  # "moins de 15"
    assert r.max_funded_esms == 30
    assert r.line("conformite").cap == 30
    assert not any(ln.code.startswith("amoa") for ln in r.lines)
    assert r.type_by_statut["conforme"] == "aucun"


def test_2022_figures_match_the_synoptic_004():
    r = load_rules("generalisation-2022")
    assert r.grouping.petit_og_max == 15  # "au plus 15"
    assert r.petit_og_max_derogatoire == 8
    assert r.grouping.max_esms is None and r.max_funded_esms is None
    # no nominal size: the solver's working size is data too (the « < 50 ESMS » tier)
    assert r.grouping.solver_max_esms == 49 and r.grouping.solver_cap == 49
    assert "regroupement.taille_travail_solveur" in r.citations
    assert r.line("usages_acquisition").amount == 7000
    assert r.line("usages_acquisition").size_max == 49
    assert r.line("usages_acquisition_50").size_min == 50
    assert r.line("equipement_segur").amount == 14500
    assert r.line("equipement_non_segur").amount == 12000
    assert r.line("equipement_segur_50").amount == 3000
    assert r.line("equipement_non_segur_50").amount == 1000
    assert r.line("usages_montee_version").segur is True
    assert r.line("sons_prestation_segur").lever == "sons"
    assert r.line("sons_prestation_segur").amount == 2413
    assert [i.share for i in r.schedule] == [0.5, 0.5]
    assert "conformite_non_segur" in r.eligibility_codes
    assert [u.target for u in r.usage_targets] == [0.7, 0.7, 0.9, 0.9, 0.9]


def test_ambiguities_are_recorded_as_choices():
    r = load_rules("generalisation-2022")
    assert "regroupement.petit_og" in r.choices
    assert "au plus 15" in r.choices["regroupement.petit_og"]
    assert "financement.type_par_statut" in load_rules("amorcage-t2-2021").choices


# ---------------------------------------------------------------- malformed files


def _variant(tmp_path: Path, text: str, name: str = "variante") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _t2_with(tmp_path: Path, old: str, new: str) -> Path:
    text = (rules_dir() / "amorcage-t2-2021.toml").read_text(encoding="utf-8")
    assert old in text
    return _variant(tmp_path, text.replace(old, new, 1), "casse")


def test_wrong_amount_names_file_and_key(tmp_path):
    path = _t2_with(tmp_path, "montant = 10000", 'montant = "dix mille"')
    with pytest.raises(RulesError) as err:
        load_rules(path)
    assert "casse.toml" in str(err.value)
    assert "financement.lignes[2].montant: nombre attendu" in str(err.value)


def test_missing_key_and_unknown_key_are_named(tmp_path):
    path = _t2_with(tmp_path, "montant = 25000\n", "montnat = 25000\n")
    with pytest.raises(RulesError) as err:
        load_rules(path)
    text = str(err.value)
    assert "financement.lignes[1].montant: clé manquante" in text
    assert "financement.lignes[1].montnat: clé inconnue" in text


def test_figure_without_source_is_refused(tmp_path):
    path = _t2_with(tmp_path, 'min_og = { valeur = 2, source = "000 « Critères de priorisation » '
                    ': « au moins deux organismes gestionnaires distincts en région »"',
                    "min_og = { valeur = 2")
    with pytest.raises(RulesError, match=r"regroupement\.min_og\.source: clé manquante"):
        load_rules(path)


def test_schedule_must_add_up_and_thresholds_parse(tmp_path):
    path = _t2_with(tmp_path, "part = 0.2", "part = 0.3")
    with pytest.raises(RulesError, match=r"versements: la somme des parts vaut 1\.1"):
        load_rules(path)
    path = _t2_with(tmp_path, 'valeur = "< 15"', 'valeur = "moins de 15"')
    with pytest.raises(RulesError, match=r"regroupement\.petit_og\.valeur: seuil attendu"):
        load_rules(path)


def test_no_nominal_size_needs_a_solver_working_size(tmp_path):
    text = (rules_dir() / "generalisation-2022.toml").read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if x.startswith("taille_travail_solveur"))
    with pytest.raises(RulesError, match=r"regroupement\.taille_travail_solveur: obligatoire"):
        load_rules(_variant(tmp_path, text.replace(line + "\n", ""), "sans_taille"))
    smaller = load_rules(_variant(tmp_path, text.replace("valeur = 49", "valeur = 30", 1), "t30"))
    assert smaller.grouping.solver_cap == 30
    # with a nominal size, the solver uses it
    assert load_rules("amorcage-t1-2021").grouping.solver_cap == 30


def test_unreadable_toml(tmp_path):
    path = _variant(tmp_path, "schema = 1\nnom = [\n", "illisible")
    with pytest.raises(RulesError, match=r"illisible\.toml: fichier TOML illisible"):
        load_rules(path)


def test_unknown_name_lists_installed_sets():
    with pytest.raises(RulesError, match="amorcage-t2-2021"):
        load_rules("amorcage-t9")


def test_region_variant_inherits_and_overrides(tmp_path):
    path = _variant(tmp_path, """
herite = "amorcage-t2-2021"
nom = "cvl-variante"
titre = "Variante régionale"
[regroupement]
max_esms = { valeur = 40, source = "000 (variante régionale de test)" }
[financement]
plafond_esms = { valeur = 40, source = "000 (variante régionale de test)" }
""")
    r = load_rules(path)
    assert r.name == "cvl-variante" and r.parent == "amorcage-t2-2021"
    assert r.grouping.max_esms == 40 and r.max_funded_esms == 40
    assert r.grouping.min_esms == 15  # inherited
    assert len(r.lines) == 6  # inherited funding lines
    assert r.line("acquisition").amount == 25000


def test_load_all_keeps_good_files_and_reports_bad_ones(tmp_path):
    good = (rules_dir() / "amorcage-t2-2021.toml").read_text(encoding="utf-8")
    (tmp_path / "bon.toml").write_text(good, encoding="utf-8")
    (tmp_path / "mauvais.toml").write_text(good.replace("part = 0.4", "part = -1", 1),
                                           encoding="utf-8")
    loaded, failed = load_all(tmp_path)
    assert [r.path.name for r in loaded] == ["bon.toml"]
    assert "mauvais" in failed and "versements[1].part" in failed["mauvais"]


def test_cli_rules_lists_and_reports_malformed(tmp_path, monkeypatch):
    folder = tmp_path / "rules"
    folder.mkdir()
    good = (rules_dir() / "amorcage-t2-2021.toml").read_text(encoding="utf-8")
    (folder / "amorcage-t2-2021.toml").write_text(good, encoding="utf-8")
    (folder / "zz-casse.toml").write_text(good.replace("total = 20", "total = 21"),
                                          encoding="utf-8")
    monkeypatch.setenv("GRAPPES_DATA", str(tmp_path))
    result = CliRunner().invoke(app, ["regles"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "amorcage-t2-2021" in result.output
    assert "zz-casse.toml" in result.output and "grille.total" in result.output


def test_cli_rules_show_prints_sources_and_choices():
    result = CliRunner().invoke(app, ["regles", "--afficher", "generalisation-2022"],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "14 500 €" in result.output and "2 413 €" in result.output
    assert "Choix faits" in result.output
    bad = CliRunner().invoke(app, ["regles", "--afficher", "inexistant"])
    assert bad.exit_code == 1 and "Jeu de règles inconnu" in bad.output


def test_cli_rules_list_fits_an_80_column_terminal():
    """The list of rule sets read in 80 columns: titles wrapped under the names, never cut
    (« priori… », « sélect… » before), no line wider than the terminal."""
    from rich.cells import cell_len

    result = CliRunner().invoke(app, ["regles"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert max(cell_len(line) for line in result.output.splitlines()) <= 80
    assert "…" not in result.output
    for r in (load_rules(n) for n in ("amorcage-t2-2021", "generalisation-2022")):
        assert r.name in result.output
        assert " ".join(r.title.split()[:2]) in " ".join(result.output.split())
