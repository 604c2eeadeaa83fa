"""The ARS's selection as 000 and 004 describe it (issue 22), and its decisions by hand
(issue 20, item 8): windows per project type, priorities from the rule file, ties settled by
balance, grappes forced in or out with the exact re-optimisation of the rest.

Every expected selection is worked out by hand in the docstring, from the figures of the test.
"""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from grappes.cli.main import app
from grappes.programme.funding_select import ArsDecisions, select_funding
from grappes.programme.rules import load_rules

G22 = load_rules("generalisation-2022")
N22 = load_rules("normandie-2022")


def frame(rows: list[tuple]) -> pd.DataFrame:
    """(grappe, total, points, champ, departement) rows."""
    return pd.DataFrame(rows, columns=["grappe", "total", "points", "champ", "departements"])


def funded(sel) -> dict[str, int]:
    return dict(zip(sel.funded["grappe"], sel.funded["fenetre"], strict=True))


def reason(sel, gid: str) -> str:
    return str(sel.not_funded.set_index("grappe").loc[gid, "raison"])


def test_pds_pde_grappe_offered_in_window_1_waits_for_window_2():
    """004: PA/PH/DOM « ÉLIGIBLE EN FENETRE 1 », PDS/PDE « ÉLIGIBLE EN FENETRE 2 ».
    Envelope 1 000 000, 2022 windows 50 % / 100 %. Both applied in window 1: PA 300 000
    (5 points), PDE 200 000 (8 points). Window 1 (cap 500 000): only the PA grappe may be
    chosen; window 2 (700 000 left): the PDE grappe. Without the types both go in window 1."""
    df = frame([("PA-1", 300_000, 5, "PA", "14"), ("PDE-1", 200_000, 8, "PDE", "14")])
    df["fenetre"] = 1
    shares = [w.share for w in G22.windows]
    sel = select_funding(df, 1_000_000, shares, typologies=G22.typologies)
    assert sel.mode == "sequentiel"  # the documents' process by default
    assert funded(sel) == {"PA-1": 1, "PDE-1": 2}
    why = sel.funded.set_index("grappe").loc["PDE-1", "raison"]
    assert "éligible à partir de la fenêtre 2" in why
    assert funded(select_funding(df, 1_000_000, shares)) == {"PA-1": 1, "PDE-1": 1}


def test_at_least_one_pds_pde_funds_the_best_one_at_a_loss_of_points_and_says_so():
    """Envelope 1 000 000, one window. A PA 600 000 (10), B PA 400 000 (6), C PDE 500 000 (7),
    D PDS 400 000 (3). On points alone: A + B = 16 points. « Au moins un projet PDS / PDE »:
    the sets with C or D that fit: A + D = 13 (1 000 000), B + C = 13 (900 000), C + D = 10,
    B + D = 9. At 13 points, same départements and as many fields (2 each): the cheaper
    B + C. The priority costs 16 - 13 = 3 points, and the selection says so."""
    df = frame([("A", 600_000, 10, "PA", "14"), ("B", 400_000, 6, "PA", "14"),
                ("C", 500_000, 7, "PDE", "14"), ("D", 400_000, 3, "PDS", "14")])
    rule = [p for p in N22.priorities if p.rank == 4]
    sel = select_funding(df, 1_000_000, [1.0], priorities=rule, typologies=G22.typologies)
    assert set(sel.funded["grappe"]) == {"B", "C"} and sel.total_points == 13
    assert "priorité 4" in sel.funded.set_index("grappe").loc["C", "raison"]
    report = " ".join(sel.priorities)
    assert "Au moins un projet PDS / PDE" in report and "tenue" in report and "C" in report
    assert "coûtent 3 point(s)" in report and "16" in report
    # A would still allow the priority (A + D, 13 points) but costs 100 000 more
    assert "à points égaux" in reason(sel, "A") and "100 000" in reason(sel, "A")
    assert "point" in reason(sel, "D")
    plain = select_funding(df, 1_000_000, [1.0], typologies=G22.typologies)
    assert set(plain.funded["grappe"]) == {"A", "B"} and plain.total_points == 16


def test_a_tie_in_points_is_decided_by_balance_and_said_so():
    """Envelope 500 000. A (14) 300 000, 5 points; B (14) 200 000, 4; C (27) 200 000, 4.
    A + B and A + C both give 9 points for 500 000; A + C covers two départements (000:
    « favoriser l'équilibre entre les différents territoires »): A + C. B's reason says
    « à points égaux »."""
    df = frame([("A", 300_000, 5, "PA", "14"), ("B", 200_000, 4, "PA", "14"),
                ("C", 200_000, 4, "PA", "27")])
    for mode in ("sequentiel", "global"):
        sel = select_funding(df, 500_000, [1.0], mode=mode)
        assert set(sel.funded["grappe"]) == {"A", "C"}, mode
        assert "à points égaux" in reason(sel, "B") and "départements" in reason(sel, "B")
    # equal points, equal balance: the cheaper set, said « à points égaux » too
    cheap = frame([("A", 300_000, 5, "PA", "14"), ("B", 250_000, 4, "PA", "14"),
                   ("C", 200_000, 4, "PA", "14")])
    sel = select_funding(cheap, 550_000, [1.0])
    assert set(sel.funded["grappe"]) == {"A", "C"}
    assert "à points égaux" in reason(sel, "B") and "50 000" in reason(sel, "B")


def test_the_ars_forces_a_grappe_in_or_out_and_the_rest_is_re_optimised():
    """Same three grappes, envelope 500 000 (best: A + C).
    Forcing B in: B first, then the best of the rest within 300 000 left: A (5) beats C (4):
    A + B. C's reason: with C imposed, B + C = 8 points < 9.
    Forcing A out: B + C (400 000, 8 points), A « écartée par l'ARS » with the reason given."""
    df = frame([("A", 300_000, 5, "PA", "14"), ("B", 200_000, 4, "PA", "14"),
                ("C", 200_000, 4, "PA", "27")])
    sel = select_funding(df, 500_000, [1.0],
                         decisions=ArsDecisions(forced={"B": "projet structurant"}))
    assert set(sel.funded["grappe"]) == {"A", "B"}
    assert sel.funded.set_index("grappe").loc["B", "raison"].startswith(
        "imposée par l'ARS : projet structurant")
    assert "point" in reason(sel, "C")
    assert any("imposées par l'ARS" in line for line in sel.priorities)
    out = select_funding(df, 500_000, [1.0],
                         decisions=ArsDecisions(excluded={"A": "DSR non abouti"}))
    assert set(out.funded["grappe"]) == {"B", "C"} and out.total_points == 8
    assert reason(out, "A") == "écartée par l'ARS : DSR non abouti"
    assert any("coûtent 1 point(s)" in line for line in out.priorities)


def test_a_priority_without_its_column_is_not_applied_and_said_so():
    df = frame([("A", 300_000, 5, "PA", "14")])
    sel = select_funding(df, 500_000, [1.0], priorities=N22.priorities[:1])
    assert "non appliquée" in sel.priorities[0] and "« note »" in sel.priorities[0]
    df["note"] = ["12,5"]
    sel = select_funding(df, 500_000, [1.0], priorities=N22.priorities[:1])
    assert "1 grappe(s) financée(s) sur 1" in sel.priorities[0]


def test_regional_tier_applies_in_window_1_only():
    """« 100% normands » in window 1 (priority 6). Envelope 1 000 000, windows 50 % / 100 %.
    R (one région) 400 000, 3 points; X (two régions) 400 000, 9 points. Window 1 (cap
    500 000, only one fits): the tier prefers R despite fewer points. Window 2: X."""
    df = frame([("R", 400_000, 3, "PA", "14"), ("X", 400_000, 9, "PA", "14")])
    df["regions"] = ["28", "28,11"]
    rule = [p for p in N22.priorities if p.rank == 6]
    sel = select_funding(df, 1_000_000, [0.5, 1.0], priorities=rule)
    assert funded(sel) == {"R": 1, "X": 2}
    assert "priorité 6" in sel.funded.set_index("grappe").loc["R", "raison"]


def test_cli_select_forces_excludes_and_names_the_porteur(tmp_path):
    path = tmp_path / "grappes.csv"
    pd.DataFrame({"grappe": ["G1", "G2", "G3"], "financement": ["300000", "200000", "200000"],
                  "points_grille": ["5", "4", "4"], "departements": ["14", "14", "27"],
                  "champ": ["PA", "PA", "PA"], "regions": ["28", "28", "28"],
                  "porteur_nom": ["ASSOCIATION FICTIVE A", "CCAS FICTIF B", "EHPAD FICTIF C"],
                  "note": ["12", "9", "11"]}).to_csv(path, sep=";", index=False,
                                                    encoding="utf-8-sig")
    run = CliRunner().invoke(app, ["selectionner", str(path), "--enveloppe", "500000", "--fenetres",
                                   "1.0", "--regles", "normandie-2022", "--json",
                                   "--forcer", "G2:projet structurant", "--exclure", "G3"])
    assert run.exit_code == 0, run.output
    data = json.loads(run.stdout)
    assert data["mode"] == "sequentiel"
    names = {g["grappe"]: g["nom"] for g in data["funded"]}
    assert names == {"G1": "ASSOCIATION FICTIVE A", "G2": "CCAS FICTIF B"}
    assert data["not_funded"][0]["raison"] == "écartée par l'ARS"
    assert any("Priorité 1" in line and "2 grappe(s) financée(s) sur 2" not in line
               for line in data["priorities"])
    text = CliRunner().invoke(app, ["selectionner", str(path), "--enveloppe", "500000",
                                    "--fenetres", "1.0", "--forcer", "G9"])
    assert text.exit_code != 0 and "G9" in text.output


def test_app_envelope_forces_and_excludes_with_names_and_reasons():
    """The envelope tab's computation (``grappes.ui.envelope``) on a real proposal: the
    funded grappe the ARS sets aside is replaced by the exact re-optimisation of the rest,
    an unfunded one it imposes is funded, each with its reason, and the porteur named."""
    from test_app_factory import region

    from grappes.scenarios.scenario import Scenario
    from grappes.scenarios.whatif import WhatIf
    from grappes.ui.envelope import EnvelopeRequest, run_envelope

    r = region()
    data = Scenario.from_whatif(WhatIf.from_grappes(r.etab, r.rules, r.grappes, champ="PA"))
    totals = sorted((data.costs[g.id].total, g.id) for g in data.grappes if data.valid(g.id))
    assert len(totals) >= 2
    envelope = totals[-1][0]  # the dearest fits alone; never all of them
    base = run_envelope(data, EnvelopeRequest(envelope=envelope, windows=(1.0,)))
    assert base.selection.mode == "sequentiel"
    assert (base.funded.frame["porteur"] != "").all()
    chosen = set(base.funded.frame["grappe"])
    first = sorted(chosen)[0]
    out = run_envelope(data, EnvelopeRequest(envelope=envelope, windows=(1.0,),
                                             excluded=((first, "dossier incomplet"),)))
    assert first not in set(out.funded.frame["grappe"])
    why = out.not_funded.frame.set_index("grappe").loc[first, "raison"]
    assert why == "écartée par l'ARS : dossier incomplet"
    unfunded = next(g for _, g in totals if g not in chosen)
    forced = run_envelope(data, EnvelopeRequest(envelope=envelope, windows=(1.0,),
                                                forced=((unfunded, ""),)))
    row = forced.funded.frame.set_index("grappe").loc[unfunded]
    assert row["raison"].startswith("imposée par l'ARS") and row["porteur"]
    assert any("imposées par l'ARS" in line for line in forced.priorities)


def test_cost_and_select_on_a_grouping_with_its_hospital(tmp_path):
    """003 Q18 through the CLI: a hospital's row and the 16 EHPAD of its EJ in grappe H.
    ``grappes chiffrer`` says the hospital carries the project, judges H valid (16 ESMS:
    16 × 7 000 + 16 × 14 500 = 344 000 in 2022); ``select`` can fund it."""
    from rules_factories import make_etab, make_og

    from grappes.exports.french_excel import write_csv

    hospital = {"finess_ej": "370000301", "finess_et": "370000300", "champ": "hors_champ",
                "sanitaire": True, "categorie": "101", "og_nb_esms": 16}
    etab = make_etab([hospital, *make_og("370000301", 16, champ="PA", og_nb_esms=16)])
    etab["grappe"] = "H"
    path = tmp_path / "etablissements.csv"
    write_csv(etab, path)
    cost = CliRunner().invoke(app, ["chiffrer", str(path), "--regles", "generalisation-2022",
                                    "--json"])
    assert cost.exit_code == 0, cost.output
    grappe = json.loads(cost.stdout)["grappes"][0]
    assert grappe["violations"] == [] and grappe["total"] == 344_000
    assert any("porte le projet" in f for f in grappe["eligibility"])
    run = CliRunner().invoke(app, ["selectionner", str(path), "--enveloppe", "400000", "--regles",
                                   "generalisation-2022", "--json"])
    assert run.exit_code == 0, run.output
    assert [g["grappe"] for g in json.loads(run.stdout)["funded"]] == ["H"]
