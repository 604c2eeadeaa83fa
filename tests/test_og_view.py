"""The OG director's view (issue 20, item 3): each OG's share of its grappe's funding, its
partners and distances, and the OG search; the shares add up to every grappe's total."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from grappes.exports.dossier import write_exports
from grappes.exports.files import written_columns
from grappes.exports.french_excel import EURO_FORMAT, KM_FORMAT
from grappes.ingest.sample import load_sample
from grappes.programme.reach import distance_to_grappe_km
from grappes.scenarios.og_view import og_shares, search_ogs
from grappes.scenarios.scenario import Scenario
from grappes.solver.propose import propose
from tests.followup_exports import read_written_csv


@pytest.fixture(scope="module")
def sample_pa() -> Scenario:
    """The sample région, field PA, as the app opens it."""
    return Scenario.from_report(propose(load_sample(), None, champ="PA", time_limit=2.0))


def test_shares_add_up_to_every_grappe_total_line_by_line(sample_pa):
    shares = og_shares(sample_pa)
    assert shares
    for g in sample_pa.grappes:
        cost = sample_pa.costs[g.id]
        mine = [s for s in shares if s.grappe == g.id]
        assert sorted(s.finess_ej for s in mine) == sorted(set(g.og))
        assert sum(s.amount for s in mine) == pytest.approx(cost.total, abs=0.01)
        for ln in cost.lines:
            parts = [p for s in mine for p in s.lines if p.code == ln.code and p.label == ln.label]
            assert sum(p.amount for p in parts) == pytest.approx(ln.amount, abs=0.01)
            assert sum(p.quantity for p in parts) == ln.quantity
        # exactly one porteur, who carries the per-project lines
        porteurs = [s for s in mine if s.porteur]
        assert [s.finess_ej for s in porteurs] == [cost.porteur]
        assert all(p.basis != "per_project" for s in mine if not s.porteur for p in s.lines)
        # each OG's ESMS are its members in that grappe
        assert sum(len(s.esms) for s in mine) == len(g.esms)


def test_per_esms_lines_name_an_esms_of_the_og(sample_pa):
    for share in og_shares(sample_pa):
        ets = {e.finess_et for e in share.esms}
        for ln in share.lines:
            if ln.basis != "per_project" and ln.finess_et:
                assert ln.finess_et in ets
                assert share.esms and ln.quantity == 1
    # the per-ESMS money reaches the OGs that are not porteur
    assert any(ln.finess_et for s in og_shares(sample_pa)
               if not s.porteur for ln in s.lines)


def test_partners_and_distances(sample_pa):
    g = next(g for g in sample_pa.grappes if len(set(g.og)) >= 3)
    og = sorted(set(g.og))[0]
    share = next(s for s in og_shares(sample_pa, og) if s.grappe == g.id)
    assert share.grappe == g.id
    assert {p.finess_ej for p in share.partners} == set(g.og) - {og}
    assert 0 <= share.distance_centre_km <= sample_pa.settings.max_km + 1
    far = share.farthest_partner
    assert far is not None and far.distance_km == max(p.distance_km for p in share.partners)
    assert sum(p.amount for p in share.partners) + share.amount == pytest.approx(
        share.grappe_total, abs=0.01)


def test_distances_are_the_reach_rule_between_the_ogs_own_esms(sample_pa):
    """Centres are read once per grappe (the export was quadratic in its OGs): the km must
    still be ``reach.distance_to_grappe_km`` between each OG's own ESMS, and to the grappe."""
    g = max(sample_pa.grappes, key=lambda g: len(set(g.og)))
    rows = sample_pa.members(g.id)
    of = rows["finess_ej"].astype(str)
    shares = [s for s in og_shares(sample_pa) if s.grappe == g.id]
    assert len(shares) >= 3
    for share in shares[:3]:
        mine = rows[of == share.finess_ej]
        assert share.distance_centre_km == round(distance_to_grappe_km(mine, rows), 1)
        for p in share.partners:
            assert p.n_esms == int((of == p.finess_ej).sum())
            assert p.distance_km == round(
                distance_to_grappe_km(mine, rows[of == p.finess_ej]), 1)


def test_search_finds_an_og_by_name_ej_et_and_commune(sample_pa):
    g = sample_pa.grappes[0]
    og = sorted(set(g.og))[0]
    rows = sample_pa.og_rows(og)
    name = str(rows["raison_sociale_ej"].iloc[0])
    et = str(rows["finess_et"].iloc[0])
    commune = str(rows["commune_nom"].iloc[0])
    for query in (name, name.lower(), og, et, commune):
        found = search_ogs(sample_pa, query, limit=500)
        assert og in set(found["finess_ej"]), query
        assert g.id in found.set_index("finess_ej").loc[og, "grappes"]
    assert search_ogs(sample_pa, "zzz introuvable").empty


def test_financements_og_written_by_the_exports_reads_back(sample_pa, tmp_path):
    """``financements_og.csv`` and the ``financements_og`` sheet, as ``propose --out --xlsx``
    writes them: numbers in French Excel form, shares adding up to ``grappes.csv``."""
    paths = write_exports(sample_pa, tmp_path, xlsx=True)
    assert tmp_path / "financements_og.csv" in paths
    raw = (tmp_path / "financements_og.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    per_og = read_written_csv(tmp_path / "financements_og.csv", decimal=",",
                              dtype={"grappe": str, "finess_ej": str})
    grappes = read_written_csv(tmp_path / "grappes.csv", decimal=",", dtype={"grappe": str},
                               keep_default_na=True)
    sums = per_og.groupby("grappe")["financement_og"].sum()
    expected = grappes.set_index("grappe")["financement"].astype(float)
    assert sums.reindex(expected.index).tolist() == pytest.approx(expected.tolist())
    parts = per_og[["par_esms", "equipement_petits_og", "par_projet"]].sum(axis=1)
    assert parts.tolist() == pytest.approx(per_og["financement_og"].tolist())
    assert set(per_og["porteur"]) == {"oui", "non"}
    assert (per_og["porteur"] == "oui").sum() == len(sample_pa.grappes)
    assert per_og["distance_centre_km"].dtype.kind == "f"
    assert b"\xc2\xa0" not in raw and "acquisition" in " ".join(per_og["detail_lignes"]).lower()
    sheet = load_workbook(tmp_path / "grappes.xlsx", read_only=True)["financements_og"]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    # the sheet holds the CSV's columns: French headers, code columns last
    assert header == [c.header for c in written_columns("financements_og.csv")]
    assert list(per_og.columns) == [c.name for c in written_columns("financements_og.csv")]
    first = next(sheet.iter_rows(min_row=2, max_row=2))
    names = list(per_og.columns)
    amount = first[names.index("financement_og")]
    assert isinstance(amount.value, (int, float)) and amount.number_format == EURO_FORMAT
    assert first[names.index("distance_centre_km")].number_format == KM_FORMAT
