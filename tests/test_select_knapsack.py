"""Choosing what to fund: exact against brute force, windows with carry-over, balance limits."""

from __future__ import annotations

import itertools
import json

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from grappes.cli.main import app
from grappes.programme.funding_select import (
    BalanceLimits,
    balance_groups,
    prepare_candidates,
    select_funding,
    window_caps,
)


def frame(costs, points, deps=None, fenetres=None, champs=None) -> pd.DataFrame:
    n = len(costs)
    return pd.DataFrame({
        "grappe": [f"G{i:02d}" for i in range(n)],
        "total": costs,
        "points": points,
        "departements": deps or ["37"] * n,
        "fenetre": fenetres or [1] * n,
        "champ": champs or ["PA"] * n,
    })


def brute_force(df, envelope, shares, limits=None, only=None):
    """Best (points, -cost, spent by window 1, by window 2, ...) over every assignment.

    ``only``: the rows that must be funded (and no other), to check the window assignment
    of a given set.
    """
    cands = prepare_candidates(df)
    caps = window_caps(envelope, shares)
    groups = balance_groups(cands, limits, envelope)
    k_count = len(shares)
    costs, points, first = list(cands["cout"]), list(cands["points"]), list(cands["fenetre"])
    best = None
    for choice in itertools.product(range(-1, k_count), repeat=len(cands)):
        if only is not None and {i for i, k in enumerate(choice) if k >= 0} != only:
            continue
        if any(k >= 0 and k + 1 < first[i] for i, k in enumerate(choice)):
            continue
        spent = [sum(costs[i] for i, k in enumerate(choice) if 0 <= k <= kk)
                 for kk in range(k_count)]
        if any(s > c for s, c in zip(spent, caps, strict=True)):
            continue
        if any(sum(coefs[i] for i, k in enumerate(choice) if k >= 0 and i in coefs) > cap
               for _, _, coefs, cap in groups):
            continue
        pts = sum(points[i] for i, k in enumerate(choice) if k >= 0)
        cost = sum(costs[i] for i, k in enumerate(choice) if k >= 0)
        # at equal points, the balance of 000: most départements, fields, statuses covered
        cover = [len({v for i, k in enumerate(choice) if k >= 0
                      for v in (cands.at[i, key] if key == "departements"
                                else [cands.at[i, key]]) if v})
                 for key in ("departements", "champ", "statut")]
        key = (pts, *cover, -cost, *spent)
        if best is None or key > best:
            best = key
    return best


instance = st.integers(1, 6).flatmap(lambda n: st.fixed_dictionaries({
    "costs": st.lists(st.integers(1, 60).map(lambda k: k * 10_000), min_size=n, max_size=n),
    "points": st.lists(st.integers(0, 20), min_size=n, max_size=n),
    "deps": st.lists(st.sampled_from(["37", "41", "37,41", "18"]), min_size=n, max_size=n),
    "fenetres": st.lists(st.integers(1, 3), min_size=n, max_size=n),
    "envelope": st.integers(10, 200).map(lambda k: k * 10_000),
    "shares": st.sampled_from([[1.0], [0.5, 1.0], [0.5, 0.7, 1.0], [0.3, 0.6, 0.9]]),
    "dep_share": st.sampled_from([None, 0.4, 0.6]),
}))


@settings(max_examples=80, deadline=None)
@given(inst=instance)
def test_global_selection_matches_brute_force(inst):
    k_count = len(inst["shares"])
    fenetres = [min(f, k_count) for f in inst["fenetres"]]
    df = frame(inst["costs"], inst["points"], inst["deps"], fenetres)
    limits = BalanceLimits(max_share_departement=inst["dep_share"])
    sel = select_funding(df, inst["envelope"], inst["shares"], limits, mode="global")
    assert sel.optimal
    pts, _deps, _champs, _statuts, neg_cost, *_ = brute_force(df, inst["envelope"],
                                                              inst["shares"], limits)
    assert sel.total_points == pts
    assert sel.total_cost == -neg_cost
    # for the chosen set, the windows commit the money as early as possible
    rows = {int(g[1:]) for g in sel.funded["grappe"]}
    spent = [w["depense_cumulee"] for w in sel.windows]
    assert spent == list(brute_force(df, inst["envelope"], inst["shares"], limits,
                                     only=rows)[5:])
    # every cumulative cap holds
    for w in sel.windows:
        assert w["depense_cumulee"] <= w["plafond_cumule"]
        assert w["report"] >= 0


def test_windows_cap_cumulative_spending_and_carry_over():
    # envelope 1 000 000, windows 50 % / 70 % / 100 %
    df = frame([300_000, 300_000, 250_000, 150_000], [9, 8, 5, 1], fenetres=[1, 2, 2, 3])
    sel = select_funding(df, 1_000_000, [0.5, 0.7, 1.0], mode="sequentiel")
    win = {w["fenetre"]: w for w in sel.windows}
    # window 1: only G00 is in (300 000 <= 500 000); 200 000 carried over
    assert list(sel.funded.loc[sel.funded["fenetre"] == 1, "grappe"]) == ["G00"]
    assert win[1]["report"] == 200_000
    # window 2: cap 700 000 cumulated: 400 000 left, G01 (300 000, 9 > 5 points) fits, not both
    assert list(sel.funded.loc[sel.funded["fenetre"] == 2, "grappe"]) == ["G01"]
    assert win[2]["depense_cumulee"] == 600_000 and win[2]["report"] == 100_000
    # window 3: 400 000 left: G02 (still in the running) and G03 both fit (250 000 + 150 000)
    assert sorted(sel.funded.loc[sel.funded["fenetre"] == 3, "grappe"]) == ["G02", "G03"]
    assert sel.total_cost == 1_000_000 and sel.total_points == 23


def test_sequential_is_myopic_global_sees_ahead():
    # a big project worth many points only fits in the last window
    df = frame([600_000, 300_000, 200_000], [10, 6, 2])
    seq = select_funding(df, 1_000_000, [0.5, 0.7, 1.0], mode="sequentiel")
    glob = select_funding(df, 1_000_000, [0.5, 0.7, 1.0], mode="global")
    assert glob.total_points == 16  # G00 in window 3 + G01 (300 000) in window 1
    assert seq.total_points == 8  # window 1 takes G01 + G02 (500 000): G00 no longer fits
    assert set(glob.funded["grappe"]) == {"G00", "G01"}
    assert dict(zip(glob.funded["grappe"], glob.funded["fenetre"], strict=True)) == {
        "G01": 1, "G00": 3}


def test_ties_prefer_less_money_then_earlier_and_are_deterministic():
    # caps: 200 000 by window 1, 400 000 by window 2; only one grappe fits, 5 points each
    df = frame([400_000, 300_000, 300_000], [5, 5, 5])
    sel = select_funding(df, 400_000, [0.5, 1.0], mode="global")
    assert sel.total_points == 5 and sel.total_cost == 300_000  # the cheaper one
    assert sel.funded["fenetre"].tolist() == [2]  # 300 000 > 200 000: not in window 1
    runs = {tuple(select_funding(df, 400_000, [0.5, 1.0], mode="global").funded["grappe"])
            for _ in range(3)}
    assert len(runs) == 1
    # with room in window 1, the same project is funded as early as possible
    early = select_funding(frame([300_000, 100_000], [5, 1]), 600_000, [0.5, 1.0],
                           mode="global")
    assert dict(zip(early.funded["grappe"], early.funded["fenetre"], strict=True)) == {
        "G00": 1, "G01": 2}


def test_balance_limits_per_departement_champ_and_statut():
    df = frame([500_000, 400_000, 300_000], [9, 8, 7], deps=["37", "37", "41,37"],
               champs=["PA", "PA", "PH"])
    free = select_funding(df, 1_200_000)
    assert free.total_points == 24
    # 37 may take at most 600 000; G02 is split 150 000 in 37 / 150 000 in 41:
    # G00 + G01 = 900 000 and G00 + G02 = 650 000 in 37 break it; G01 + G02 = 550 000: 15 points
    dep = select_funding(df, 1_200_000, limits=BalanceLimits(max_share_departement=0.5))
    assert dep.total_points == 15
    assert set(dep.funded["grappe"]) == {"G01", "G02"}
    champ = select_funding(df, 1_200_000, limits=BalanceLimits(max_share_champ=0.6))
    assert set(champ.funded["grappe"]) == {"G00", "G02"}  # PA at most 720 000
    df["statut"] = ["public", "prive_non_lucratif", "public"]
    stat = select_funding(df, 1_200_000, limits=BalanceLimits(max_share_statut=0.5))
    assert set(stat.funded["grappe"]) == {"G00", "G01"}  # public at most 600 000


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="Ligne 3, champ total"):
        select_funding(pd.DataFrame({"grappe": ["A", "B"], "total": ["10", "dix"],
                                     "points": [1, 2]}), 100)
    with pytest.raises(ValueError, match="Colonne"):
        select_funding(pd.DataFrame({"grappe": ["A"]}), 100)
    with pytest.raises(ValueError, match="croissantes"):
        select_funding(frame([1], [1]), 100, [0.7, 0.5])
    with pytest.raises(ValueError, match="en double"):
        select_funding(pd.DataFrame({"grappe": ["A", "A"], "total": [1, 2], "points": [1, 2]}),
                       100)


def test_cli_select_on_grappes_csv(tmp_path):
    path = tmp_path / "grappes.csv"
    pd.DataFrame({"grappe": ["G1", "G2", "G3"], "total": ["880000", "600000", "300000"],
                  "points": ["7", "5", "2"], "departements": ["37,41", "18", "37"],
                  "champ": ["PA", "PH", "PA"]}).to_csv(path, sep=";", index=False,
                                                       encoding="utf-8-sig")
    result = CliRunner().invoke(app, ["selectionner", str(path), "--enveloppe", "1200000", "--json",
                                      "--mode", "global", "--sortie", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    # t2 windows by default: 600 000 / 840 000 / 1 200 000 cumulated
    assert [w["plafond_cumule"] for w in data["windows"]] == [600_000, 840_000, 1_200_000]
    assert data["total_points"] == 9
    assert {g["grappe"] for g in data["funded"]} == {"G1", "G3"}
    assert (tmp_path / "out" / "selection.csv").exists()
    bad = CliRunner().invoke(app, ["selectionner", str(path), "--enveloppe", "1000",
                                   "--fenetres", "0.5,x"])
    assert bad.exit_code == 2 and "--fenetres" in bad.output  # bad usage (issue 11)
