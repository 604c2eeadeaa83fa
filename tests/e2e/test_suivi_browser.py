"""Real-browser journey of the « Suivi » page (issue 14; headless Debian chromium, no
download): a porteur logs in, sees the usage tranche pending, imports the month that meets
the targets from a CSV, and sees the chart gain that month and the tranche become payable.

The grappe is set up through the Python API (ARS + porteur accounts, funded grappe with four
months of figures). Its dates are relative to today, because the streamlit server evaluates
the tranches on the real clock: signed six months ago, so that the deadlines are still ahead
and the usage tranche is « en attente » (not « à risque ») before the import.
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

import pytest

from grappes.followup.csv_import import COLUMNS
from grappes.followup.evaluate import TrancheState
from grappes.followup.model import Member, build_funded_grappe
from grappes.followup.months import add_months, label, month_of
from grappes.followup.store import Suivi
from grappes.programme.rules import load_rules
from grappes.registry import Registry
from tests.e2e.streamlit_server import BROWSER_ARGS, BROWSER_MARKS, CHROMIUM, streamlit_app
from tests.followup_factories import FINESS_A, FINESS_B, T2_A, T2_B

PASSWORD = "mot-de-passe-solide"
CODE = "T2-E2E"
T = 90_000  # generous: the machine is shared
MONTH = re.compile(r"\d{4}-\d{2}")

pytestmark = BROWSER_MARKS


def _months(signature: date) -> list[date]:
    """Month k of the factories' series (1-based) is the k-th month from the signature."""
    return [add_months(month_of(signature), k) for k in range(len(T2_A))]


def _csv(signature: date, first: int, last: int) -> bytes:
    """Hand-written figures of the factories (A: 100 persons, B: 50), months first..last."""
    months = _months(signature)
    lines = [";".join(COLUMNS)]
    for finess, persons, rows in ((FINESS_A, 100, T2_A), (FINESS_B, 50, T2_B)):
        for m, *counts in rows[first - 1:last]:
            lines.append(";".join([finess, label(months[m - 1]), str(persons),
                                   *map(str, counts)]))
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A database with admin, ARS (R24) and porteur accounts, and a funded t2 grappe
    (40/40/20) whose first two tranches are payable and the usage one pending."""
    tmp = tmp_path_factory.mktemp("suivi")
    db = tmp / "grappes.db"
    reg = Registry(f"sqlite:///{db}")
    reg.init()
    reg.creer_compte(None, "admin@test.fr", "admin", PASSWORD)
    admin = reg.connexion("admin@test.fr", PASSWORD).jeton
    reg.creer_compte(admin, "ars@test.fr", "ars", PASSWORD, ["R24"])
    reg.creer_compte(admin, "porteur@test.fr", "declarant", PASSWORD)
    # six months ago: month 5 of the series (the one meeting the targets) is last month at
    # the latest, never in the future; both deadlines (9 and 18 months) are still ahead
    signature = add_months(month_of(date.today()), -6).replace(day=10)
    members = [Member(FINESS_A, "EHPAD Les Tilleuls", "180000100", "acquisition", "18"),
               Member(FINESS_B, "SSIAD du Cher", "180000100", "conformite", "18")]
    grappe = build_funded_grappe(CODE, load_rules("amorcage-t2-2021"), signature, members,
                                 100_000, region="24", porteur="180000100",
                                 jalons={2: add_months(signature, 3)})
    suivi = Suivi(reg)
    suivi.enregistrer(reg.connexion("ars@test.fr", PASSWORD).jeton, grappe,
                      ["porteur@test.fr"])
    porteur = reg.connexion("porteur@test.fr", PASSWORD).jeton
    assert suivi.importer(porteur, CODE, _csv(signature, 1, 4)).ok
    states = [t.state for t in suivi.etat(porteur, CODE).tranches]
    reg.db.dispose()
    csv_path = tmp / "indicateurs-mois-5.csv"
    csv_path.write_bytes(_csv(signature, 5, 5))
    return db, signature, states, csv_path


@pytest.fixture(scope="module")
def server(world):
    db = world[0]
    env = {"GRAPPES_DB_URL": f"sqlite:///{db}", "GRAPPES_FINESS": "sample"}
    with streamlit_app("Suivi", env, timeout=60) as url:
        yield url


def _metric_values(page) -> list[str]:
    return [t.strip() for t in
            page.locator("[data-testid=stMetricValue]:visible").all_inner_texts()]


def _chart_months(page, wait_for: str) -> set[str]:
    """The months vega draws on the indicators chart's axes, once ``wait_for`` is one."""
    chart = page.locator("[data-testid=stVegaLiteChart]").first
    chart.locator("svg text", has_text=wait_for).first.wait_for(timeout=T)
    return {t.strip() for t in chart.locator("svg text").all_text_contents()
            if MONTH.fullmatch(t.strip())}


def test_porteur_imports_a_month_and_the_tranche_becomes_payable(world, server):
    from playwright.sync_api import sync_playwright

    _, signature, before, csv_path = world
    assert before == [TrancheState.PAYABLE, TrancheState.PAYABLE, TrancheState.PENDING], before
    months = _months(signature)
    fourth, fifth = label(months[3]), label(months[4])
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 2400}).new_page()
            page.goto(server, timeout=T)
            page.get_by_label("E-mail").fill("porteur@test.fr")
            page.get_by_label("Mot de passe").fill(PASSWORD)
            page.get_by_role("button", name="Se connecter").click()
            page.get_by_text("Mes grappes").wait_for(timeout=T)
            page.get_by_text("Tranche 3 (20%)").wait_for(timeout=T)
            assert _metric_values(page) == ["payable", "payable", "en attente"]
            shown = [label(m) for m in months[:4]]
            assert _chart_months(page, fourth) == set(shown)

            upload = page.locator("[data-testid=stFileUploaderDropzoneInput]").first
            upload.wait_for(state="attached", timeout=T)
            upload.set_input_files(str(csv_path))
            page.get_by_text("mois-5.csv").wait_for(timeout=T)  # name shown shortened
            page.get_by_role("button", name="Importer").click()

            # the page reruns: the usage tranche is payable, the chart has the fifth month
            page.get_by_text(f"toutes les cibles atteintes fin {fifth}").wait_for(timeout=T)
            assert _metric_values(page) == ["payable", "payable", "payable"]
            assert _chart_months(page, fifth) == {*shown, fifth}
            # and the confirmation survives that rerun
            page.get_by_text(f"2 ligne(s) importée(s) dans {CODE}").wait_for(timeout=T)
            assert page.get_by_text("Traceback").count() == 0
            if os.environ.get("GRAPPES_SCREENSHOT"):  # docs/suivi.md's picture
                page.screenshot(path=str(Path(__file__).resolve().parents[2] / "docs" / "img"
                                         / "suivi.png"), full_page=True)
            page.context.close()
        finally:
            browser.close()
