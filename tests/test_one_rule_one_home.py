"""Computed points are one rule (``grappes.programme.scoring``) wherever they are computed.

The solver scores thousands of candidate sets at once (``Evaluator.batch``), one set at a
time in local search (``Evaluator.single``), and describes its grappes from their rows
(``scoring.grappe_points``); the costing scores the grid with ``scoring.score_arrays``. On
random sets of OGs spread over two régions and an unnamed one, all of them must agree.
"""

from __future__ import annotations

import ast

import numpy as np
import pandas as pd
import pytest

from grappes.core.model import GroupingRules
from grappes.programme.rules import DEFAULT_RULES, load_rules
from grappes.programme.scoring import (
    computed_points,
    criteria_met,
    grappe_points,
    main_region,
    main_region_index,
    score_arrays,
)
from grappes.solver.evaluate import Evaluator
from grappes.solver.graph import GraphWeights
from grappes.solver.units import build_units, prepare_esms
from tests.solver_factories import make_etab, og_rows
from tests.test_architecture import project_files

RULES = GroupingRules()
CRITERIA = ("isole", "multi_og", "multi_departement")


def test_main_region_most_esms_ties_lowest_code_unnamed_last() -> None:
    assert main_region(np.array(["52", "24", "52", "24"], dtype=object)) == "24"
    assert main_region(np.array(["52", "52", "24"], dtype=object)) == "52"
    # the unnamed région only when no named one holds an ESMS
    assert main_region(np.array(["", "", "", "53"], dtype=object)) == "53"
    assert main_region(np.array(["", ""], dtype=object)) == ""
    assert main_region(np.array([], dtype=object)) == ""
    counts = np.array([[3, 1, 1], [0, 2, 2], [4, 0, 0]])
    named = np.array([False, True, True])
    assert main_region_index(counts, named).tolist() == [1, 1, 0]


def test_computed_points_numbers_and_arrays_agree() -> None:
    auto, ogs, deps = np.array([0, 1, 2, 0]), np.array([1, 2, 3, 2]), np.array([2, 1, 1, 3])
    batch = computed_points(auto, ogs, deps, RULES)
    for i in range(len(auto)):
        one = computed_points(int(auto[i]), int(ogs[i]), int(deps[i]), RULES)
        assert {k: int(batch[k][i]) for k in CRITERIA} == one
    assert computed_points(1, 2, 2, RULES) == {"isole": 3, "multi_og": 2, "multi_departement": 2}
    assert criteria_met(0, 1, 1) == {"isole": False, "multi_og": False,
                                      "multi_departement": False}


def _mixed_etab(seed: int):
    """OGs of 1-6 ESMS in régions 24 / 52 / unnamed, three départements, a few autonomous."""
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(18):
        ej = f"37{k:07d}"
        n = int(rng.choice([1, 1, 2, 3, 6]))
        region = str(rng.choice(["24", "24", "52", ""]))
        for row in og_rows(ej, n, x=float(rng.uniform(0, 40)), y=float(rng.uniform(0, 40)),
                           start=0):
            row["region"] = region if rng.random() < 0.8 else str(rng.choice(["24", "52"]))
            row["departement"] = str(rng.choice(["18", "37", "41"]))
            rows.append(row)
    etab = make_etab(rows)
    etab["autonome"] = etab["og_nb_esms"] == 1
    return etab


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_solver_batch_single_and_rows_agree(seed: int) -> None:
    etab = _mixed_etab(seed)
    esms, _ = prepare_esms(etab, RULES, ("PA",))
    units = build_units(esms, RULES, "PA")
    ev = Evaluator(units, RULES, GraphWeights())
    rng = np.random.default_rng(seed)
    sets = [sorted(rng.choice(len(units), size=int(rng.integers(1, 6)), replace=False).tolist())
            for _ in range(60)]
    batch = ev.batch(sets)
    for i, members in enumerate(sets):
        single = ev.single(members)
        rows = etab.iloc[np.concatenate([units.esms["_row"].to_numpy()[units.rows[m]]
                                         for m in members])]
        expected = grappe_points(rows, RULES)
        assert {k: int(batch[k][i]) for k in CRITERIA} == expected, members
        assert {k: int(single[k]) for k in CRITERIA} == expected, members
        assert ev.points(members) == expected


def test_costing_grid_uses_the_same_criteria() -> None:
    rules = load_rules(DEFAULT_RULES)
    etab = _mixed_etab(3)
    region = etab["region"].astype(str).to_numpy(dtype=object)
    score = score_arrays(region, etab["finess_ej"].astype(str).to_numpy(dtype=object),
                         etab["departement"].astype(str).to_numpy(dtype=object),
                         etab["autonome"].to_numpy(dtype=bool), rules)
    expected = grappe_points(etab, rules.grouping)
    by_kind = {c.computed: score.computed[c.code] for c in rules.grid.criteria if c.computed}
    assert by_kind == expected
    assert score.region == main_region(region)


# ---------------------------------------------------------------- reason codes, reach, size


def test_reason_codes_have_one_list_and_one_label_each() -> None:
    from grappes.core import vocabulary
    from grappes.programme.validate import Violation

    assert set(vocabulary.UNIT_CHECK_CODES) - {"separes"} <= set(vocabulary.VIOLATION_CODES)
    assert set(vocabulary.VIOLATION_CODES) | {"separes"} == set(vocabulary.VIOLATION_LABELS)
    with pytest.raises(ValueError, match="code de règle inconnu"):
        Violation("distance", "un code que validate ne connaît pas")


def test_solver_check_codes_are_the_vocabulary_ones() -> None:
    from grappes.core.vocabulary import UNIT_CHECK_CODES

    # two far-apart OGs of 8 ESMS: together big enough, but out of reach
    rows = og_rows("370000001", 8, x=0) + og_rows("370000002", 8, x=300)
    etab = make_etab(rows)
    esms, _ = prepare_esms(etab, RULES, ("PA",))
    ev = Evaluator(build_units(esms, RULES, "PA"), RULES, GraphWeights())
    assert ev.check([0, 1]) == "trop_loin" and "trop_loin" in UNIT_CHECK_CODES
    assert ev.check([0]) == "trop_peu_esms"


def test_reach_and_solver_size_come_from_one_place() -> None:
    from grappes.programme.reach import DEFAULT_MAX_KM
    from grappes.solver.settings import SolverSettings

    assert GraphWeights().max_km == DEFAULT_MAX_KM == SolverSettings().max_km
    etab = _mixed_etab(0)
    esms, _ = prepare_esms(etab, RULES, ("PA",))
    units = build_units(esms, RULES, "PA")
    no_size = GroupingRules(max_esms=None, solver_max_esms=20)
    assert Evaluator(units, no_size, GraphWeights()).cap == 20
    assert Evaluator(units, GroupingRules(max_esms=30), GraphWeights()).cap == 30


# ---------------------------------------------------------------- one home, found by reading
#
# Each rule below was written more than once and the copies drifted (issue 24). Each test
# names the rule's home, checks that it behaves, and reads the project's source (ast) so that
# a second copy written anywhere else fails the test, naming the file and the line.


def _project_trees():
    for module, path in sorted(project_files().items()):
        yield module, ast.parse(path.read_text(encoding="utf-8"))


def _string_sets(tree) -> list[tuple[int, set[str]]]:
    """Every set, list or tuple literal of strings in a module, with its line."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Set | ast.List | ast.Tuple) and node.elts:
            values = [e.value for e in node.elts if isinstance(e, ast.Constant)]
            if len(values) == len(node.elts) and all(isinstance(v, str) for v in values):
                found.append((node.lineno, set(values)))
    return found


def test_truth_words_have_one_home() -> None:
    """Home: ``grappes.core.columns.TRUE_WORDS`` / ``FALSE_WORDS``. « x » (a ticked box) is
    yes in the template, in a declaration and through ``flag_column`` alike."""
    from grappes.core.columns import FALSE_WORDS, TRUE_WORDS, flag_column
    from grappes.registry.declarations import parse_bool

    cells = pd.DataFrame({"f": ["x", " X ", "oui", "Vrai", "1", "non", "faux", "", None]})
    assert flag_column(cells, "f").tolist() == [True] * 5 + [False] * 4
    assert all(parse_bool(w, "f") is True for w in TRUE_WORDS)
    assert all(parse_bool(w.upper(), "f") is False for w in FALSE_WORDS)
    assert parse_bool("", "f") is None
    copies = [
        f"{module}:{line}"
        for module, tree in _project_trees()
        for line, words in _string_sets(tree)
        if module != "grappes.core.columns" and len(words & (TRUE_WORDS | FALSE_WORDS)) >= 4
    ]
    assert not copies, f"une autre liste de mots oui/non : {copies}"


def test_template_reads_the_same_truth_words(tmp_path) -> None:
    """The template reader (a user's CSV) takes its yes / no from the same home."""
    from grappes.core.columns import FALSE_WORDS, TRUE_WORDS
    from grappes.core.finess import luhn_key
    from grappes.ingest import load

    words = [*sorted(TRUE_WORDS), *sorted(FALSE_WORDS)]
    ej = "37000001" + luhn_key("37000001")
    rows = ["finess_et;raison_sociale;categorie;commune;finess_ej;deja_finance"]
    for i, word in enumerate(words):
        body = f"37010{i:03d}"
        rows.append(f"{body}{luhn_key(body)};ESMS {word};500;37261;{ej};{word}")
    path = tmp_path / "esms.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    table = load(path).etablissements
    assert len(table) == len(words)
    read = dict(zip(table["raison_sociale"], table["deja_finance"].astype(bool), strict=True))
    assert read == {f"ESMS {w}": w in TRUE_WORDS for w in words}


def test_unit_vectors_have_one_home() -> None:
    """Home: ``grappes.geo.distances.unit_vectors``; the grappe centre (``programme.reach``) and the
    solver's units use it, and no other module defines its own."""
    from grappes.geo.distances import unit_vectors
    from grappes.programme.reach import centre_vector

    vec = unit_vectors([0.0, 90.0, np.nan], [0.0, 0.0, 45.0])
    assert np.allclose(vec[:2], [[1, 0, 0], [0, 1, 0]]) and np.isnan(vec[2]).any()
    rows = pd.DataFrame({"lon": [1.0, 3.0], "lat": [47.0, 47.0]})
    centre = centre_vector(rows)
    assert np.allclose(centre, unit_vectors([2.0], [47.0])[0], atol=1e-4)
    copies = [
        f"{module}:{node.lineno}"
        for module, tree in _project_trees()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef)
        and "unit_vector" in node.name
        and module != "grappes.geo.distances"
    ]
    assert not copies, f"une autre conversion en vecteurs unitaires : {copies}"


def test_numbers_are_formatted_in_one_home() -> None:
    """Home: ``grappes.core.formatting`` (``integer_fr``, ``number_fr``, ``euros``…). No
    module formats a number with ``f"{n:,}"`` and swaps the commas itself."""
    from grappes.core.formatting import euros, integer_fr, number_fr

    assert integer_fr(2_147_483_647) == "2 147 483 647" and integer_fr(999.6) == "1 000"
    assert number_fr(1234.5) == "1 234,5" and number_fr(0.25, 2) == "0,25"
    assert euros(40_000) == "40 000 €"
    copies = []
    for module, tree in _project_trees():
        if module == "grappes.core.formatting":
            continue
        for node in ast.walk(tree):
            thousands = isinstance(node, ast.FormattedValue) and isinstance(
                node.format_spec, ast.JoinedStr) and any(
                isinstance(v, ast.Constant) and "," in str(v.value)
                for v in node.format_spec.values)
            swap = (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "replace" and len(node.args) == 2
                    and all(isinstance(a, ast.Constant) for a in node.args)
                    and [a.value for a in node.args] == [",", " "])
            if thousands or swap:
                copies.append(f"{module}:{node.lineno}")
    assert not copies, f"des nombres formatés hors de core.formatting : {sorted(set(copies))}"


def test_time_limit_defaults_have_one_home() -> None:
    """Home: ``grappes.solver.settings`` (``DEFAULT_TIME_LIMIT`` for the commands,
    ``APP_TIME_LIMIT`` for the app and its precomputed proposals, the same budget: issue 20
    item 7; ``FUNDING_TIME_LIMIT``, ``RERUN_TIME_LIMIT``, ``LIBRARY_TIME_LIMIT``). No other
    module sets a ``*TIME_LIMIT*`` constant or gives a ``time_limit`` parameter or field a
    number of its own, and no two constants share a name."""
    from grappes.scenarios import precomputed
    from grappes.solver import settings
    from grappes.ui import datapanel

    assert precomputed.APP_TIME_LIMIT is settings.APP_TIME_LIMIT is datapanel.APP_TIME_LIMIT
    assert settings.APP_TIME_LIMIT == settings.DEFAULT_TIME_LIMIT
    assert settings.SolverSettings().time_limit == settings.DEFAULT_TIME_LIMIT
    homes: dict[str, list[str]] = {}
    for module, tree in _project_trees():
        for node in tree.body:
            targets = node.targets if isinstance(node, ast.Assign) else (
                [node.target] if isinstance(node, ast.AnnAssign) and node.value else [])
            for target in targets:
                if (isinstance(target, ast.Name) and "TIME_LIMIT" in target.id
                        and isinstance(node.value, ast.Constant)
                        and isinstance(node.value.value, int | float)):
                    homes.setdefault(target.id, []).append(f"{module}:{node.lineno}")
        # a parameter ``time_limit=10.0`` is a default too: it must name a settings constant
        for node in ast.walk(tree):
            if isinstance(node, ast.arguments):
                args = [*node.posonlyargs, *node.args, *node.kwonlyargs]
                defaults = [None] * (len(node.posonlyargs) + len(node.args) - len(
                    node.defaults)) + list(node.defaults) + list(node.kw_defaults)
                for arg, default in zip(args, defaults, strict=True):
                    if ("time_limit" in arg.arg and isinstance(default, ast.Constant)
                            and isinstance(default.value, int | float)):
                        homes.setdefault(f"{arg.arg}=", []).append(f"{module}:{default.lineno}")
            elif (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                  and "time_limit" in node.target.id and isinstance(node.value, ast.Constant)
                  and isinstance(node.value.value, int | float)):
                homes.setdefault(f"{node.target.id}=", []).append(f"{module}:{node.lineno}")
    elsewhere = {n: w for n, w in homes.items() if any(
        not x.startswith("grappes.solver.settings:") for x in w)}
    assert set(homes) >= {"DEFAULT_TIME_LIMIT"}
    assert not elsewhere, f"des délais par défaut hors de solver.settings : {elsewhere}"
    assert all(len(w) == 1 for w in homes.values()), homes


def test_field_labels_have_one_home() -> None:
    """Home: ``grappes.core.vocabulary.CHAMP_LABELS``. ``grappes verifier`` used its own copy,
    which had drifted (« difficultés spécifiques » against « publics en difficulté
    spécifique »); no other module spells a field's label."""
    from grappes.cli.check import CHAMP_LABELS as CHECK_LABELS
    from grappes.core.vocabulary import CHAMP_LABELS

    assert set(CHECK_LABELS) == set(CHAMP_LABELS)
    assert all(label in CHECK_LABELS[code] for code, label in CHAMP_LABELS.items())
    labels = set(CHAMP_LABELS.values()) - {"hors champ"}
    copies = [
        f"{module}:{node.lineno}"
        for module, tree in _project_trees()
        if module != "grappes.core.vocabulary"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        and (node.value in labels or node.value.endswith(tuple(f"({x})" for x in labels)))
    ]
    assert not copies, f"un libellé de champ écrit ailleurs : {copies}"


def test_schedule_split_has_one_home() -> None:
    """Home: ``grappes.programme.costing.split_schedule``. The follow-up's tranches are the
    costing's instalments to the cent (``followup.model`` re-implemented the split before),
    and no other module splits a total by the schedule's shares."""
    from datetime import date

    from grappes.followup.model import Member, build_funded_grappe
    from grappes.programme.costing import _schedule, split_schedule
    from grappes.programme.rules import load_rules

    for name in ("amorcage-t2-2021", "generalisation-2022"):
        rules = load_rules(name)
        for total in (100_000.01, 123_457.89, 835_000.0):
            funded = build_funded_grappe("G", rules, date(2024, 1, 10),
                                         [Member("370000001")], total)
            costed = [i.amount for i in _schedule(total, rules)]
            assert [t.montant for t in funded.tranches] == costed == \
                split_schedule(total, rules)
            assert round(sum(costed), 2) == total
    copies = [
        f"{module}:{node.lineno}"
        for module, tree in _project_trees()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and module != "grappes.programme.costing"
        and all(x in ast.unparse(node) for x in ("* 100)", "round(", "share"))
    ]  # the split's signature: a total in cents, rounded per share
    assert not copies, f"un autre partage d'un montant en tranches : {copies}"


def test_instalment_rules_have_one_home() -> None:
    """Home: ``grappes.programme.rules.InstalmentRule``. ``followup.Tranche`` mirrored it field
    by field in the other language (``libelle``/``label``, ``declencheur``/``trigger``…);
    a funded grappe's tranche now carries the rule set's own rule, and no other dataclass of
    the project declares the rule's fields again."""
    import dataclasses
    from datetime import date

    from grappes.followup.model import Member, Tranche, build_funded_grappe
    from grappes.programme.rules import InstalmentRule

    assert [f.name for f in dataclasses.fields(Tranche)] == ["rang", "regle", "montant"]
    rules = load_rules("amorcage-t2-2021")
    funded = build_funded_grappe("G", rules, date(2024, 1, 10), [Member("370000001")], 100_000)
    assert [t.regle for t in funded.tranches] == list(rules.schedule)
    rule_words = {"declencheur", "delai_acquisition_mois", "delai_conformite_mois", "trigger",
                  "deadline_acquisition_months", "deadline_conformite_months"}
    mirrors = [
        f"{module}:{node.lineno} {node.name}"
        for module, tree in _project_trees()
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef) and node.name != InstalmentRule.__name__
        and any(d for d in node.decorator_list if "dataclass" in ast.unparse(d))
        and len(rule_words & {ast.unparse(s.target) for s in node.body
                              if isinstance(s, ast.AnnAssign)}) >= 2
    ]
    assert not mirrors, f"une autre copie de la règle de versement : {mirrors}"
