"""« Mon OG » in the app (issue 20, item 3): an OG director finds their OG by name, number
or commune, sees its amount with its lines, and gets the one-page fiche."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from grappes.core.formatting import euros
from grappes.exports.french_excel import EURO_FORMAT, KM_FORMAT
from grappes.exports.og_sheet import SHEET, og_sheet_bytes
from grappes.scenarios.og_view import og_shares
from grappes.scenarios.scenario import Scenario
from grappes.ui import navigation
from tests.app_tabs import new_visitor, open_tab


@pytest.fixture(scope="module")
def at():
    return open_tab(new_visitor(), navigation.PARTNERS)


def offered(at, finess_ej: str) -> bool:
    """The OG is among the choices (options read as shown: « Nom (FINESS) — … »)."""
    return any(f"({finess_ej})" in o for o in at.selectbox(key="my_og_pick").options)


def _shown(at) -> Scenario:
    whatif = at.session_state["scenario"]
    return Scenario.from_whatif(whatif)


def test_my_og_by_name_shows_its_amount_lines_and_fiche(at):
    scenario = _shown(at)
    # a non-porteur OG of a multi-OG grappe: its amount is its ESMS' lines only
    share = next(s for s in og_shares(scenario) if not s.porteur and s.lines)
    at.text_input(key="my_og_query").input(share.name.lower()).run()
    assert not at.exception
    assert offered(at, share.finess_ej)
    at.selectbox(key="my_og_pick").set_value(share.finess_ej).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Financement pour mon OG"] == euros(share.amount)
    lines = next(d.value for d in at.dataframe if "Ligne" in d.value.columns)
    assert lines["Montant (€)"].sum() == pytest.approx(share.amount)
    assert set(lines["ESMS"]) == {f"{ln.esms_name} ({ln.finess_et})" for ln in share.lines}
    partners = next(d.value for d in at.dataframe if "OG partenaire" in d.value.columns)
    assert len(partners) == len(share.partners)
    buttons = [b for b in at.get("download_button")
               if "Télécharger la fiche de mon OG" in str(b.proto.label)]
    assert buttons


def test_my_og_by_number_and_commune(at):
    scenario = _shown(at)
    share = next(s for s in og_shares(scenario) if s.porteur)
    esms = share.esms[0]
    for query in (share.finess_ej, esms.finess_et, esms.commune):
        at.text_input(key="my_og_query").input(query).run()
        assert not at.exception
        assert offered(at, share.finess_ej), query
    at.text_input(key="my_og_query").input("zzz introuvable").run()
    assert any("Aucun OG ne correspond" in w.value for w in at.warning)


def test_fiche_is_one_page_with_numbers(at):
    scenario = _shown(at)
    share = next(s for s in og_shares(scenario) if s.porteur and len(s.partners) >= 2)
    book = load_workbook(io.BytesIO(og_sheet_bytes(share, scenario.rules.name)))
    assert book.sheetnames == [SHEET]
    ws = book[SHEET]
    # fit to one page (1 x 1: the default, which the file leaves implicit)
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.page_setup.fitToHeight in (None, 1) and ws.page_setup.fitToWidth in (None, 1)
    cells = {str(r[0].value): r[1] for r in ws.iter_rows(min_col=1, max_col=2) if r[0].value}
    mine = cells["Financement pour cet OG (ESMS numérique)"]
    assert mine.value == pytest.approx(share.amount) and mine.number_format == EURO_FORMAT
    assert cells["Distance au centre de la grappe (km)"].number_format == KM_FORMAT
    header = next(r for r in ws.iter_rows() if r[0].value == "Ligne")
    assert [c.value for c in header] == ["Ligne", "ESMS", "Base", "Montant (€)", "Levier"]
    amounts = []
    for r in ws.iter_rows(min_row=header[0].row + 1):
        if r[0].value is None:  # the lines table ends at the first empty row
            break
        assert r[3].number_format == EURO_FORMAT
        amounts.append(r[3].value)
    assert sum(amounts) == pytest.approx(share.amount + share.sons)
    assert share.lines and any(ln.basis == "per_project" for ln in share.lines)
