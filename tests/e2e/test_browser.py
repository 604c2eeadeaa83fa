"""End to end: ``streamlit run app.py`` in a real headless Chromium (Playwright, no download).

The page must load on the sample region with its proposal, show the map and the grappes
table, serve the CSV download, and never call a server other than localhost (no tile
server, no usage statistics): the app has to work offline.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd
import pytest

from tests.e2e.streamlit_server import (
    BROWSER_ARGS,
    BROWSER_MARKS,
    CHROMIUM,
    ROOT,
    diagnose,
    streamlit_app,
    upload,
    wait_idle,
)
from tests.followup_exports import read_written_csv

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def server():
    with streamlit_app(timeout=30) as url:
        yield url


SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")
ROOT_DATA = ROOT / "data" / "sample"


def visible_text(page) -> str:
    """The main area's visible text, without the icon ligatures (``keyboard_arrow_right``)."""
    return page.evaluate("""() => {
        const main = document.querySelector('[data-testid=stMain]').cloneNode(true);
        main.querySelectorAll('[data-testid=stIconMaterial]').forEach(e => e.remove());
        document.body.appendChild(main);
        main.style.position = 'absolute'; main.style.left = '-99999px';
        const text = main.innerText; main.remove(); return text; }""")


def grid_headers(grid) -> list[str]:
    """The headers of a drawn table, in order (the grid's accessible header row: the grid
    itself is a canvas)."""
    texts = [" ".join(t.split()) for t in
             grid.locator("[role=columnheader]").all_text_contents()]
    return [t for t in texts if t]  # the row selection column has no header


def assert_first_columns(page, wanted: list[str]) -> None:
    """Issue 20 item 5: a table of the page starts with the decisive columns ``wanted``
    (read tables carry no key class: found by their headers)."""
    page.locator("[role=columnheader]", has_text=wanted[-1]).first.wait_for(
        state="attached", timeout=60_000)
    tables = [grid_headers(g) for g in page.locator("[data-testid=stDataFrame]").all()]
    assert any(h[:len(wanted)] == wanted for h in tables), tables


def metrics_fit(page) -> list[str]:
    """Metric values cut by an ellipsis (text wider than its box)."""
    return page.evaluate("""() => Array.from(document.querySelectorAll(
        '[data-testid=stMetricValue]')).filter(e => e.offsetParent !== null).flatMap(
        e => [e, ...e.querySelectorAll('*')]).filter(e => e.scrollWidth > e.clientWidth + 1)
        .map(e => e.textContent)""")


#: when the figures, a table and the sidebar's source choice were first in the page
#: (milliseconds since the navigation), watched from before the page's own scripts
FIRST_SEEN = """
window.__vu = {chiffres: 0, tableau: 0, choix: 0};
new MutationObserver(() => {
  const now = performance.now(), v = window.__vu;
  if (!v.chiffres && document.querySelector('[data-testid=stMetricValue]')) v.chiffres = now;
  if (!v.tableau && document.querySelector('[data-testid=stDataFrame]')) v.tableau = now;
  if (!v.choix && document.querySelector('.st-key-source')) v.choix = now;
}).observe(document, {childList: true, subtree: true});
"""


def wait_page(page, url: str) -> None:
    """The page has finished its run and shows a proposal (metrics and the map)."""
    wait_idle(page, url)
    try:
        page.locator("[data-testid=stMetricLabel]:visible").first.wait_for(timeout=60_000)
        page.locator("[data-testid='stDeckGlJsonChart'] canvas").first.wait_for(timeout=60_000)
    except Exception as exc:
        raise AssertionError(f"pas de proposition à l'écran : {exc}"
                             f"{diagnose(page, url)}") from None


def open_browser(p):
    browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
    return browser


def watch_requests(page, server: str) -> list[str]:
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url)
            if not r.url.startswith((server, "data:", "blob:")) else None)
    return outside


def choose(page, key: str, index: int) -> str:
    """Pick the ``index``-th option of the selectbox with this key; returns its text."""
    box = page.locator(f".st-key-{key} [data-testid=stSelectbox]")
    box.scroll_into_view_if_needed()
    box.click()
    option = page.get_by_role("option").nth(index)
    option.wait_for(timeout=30_000)
    text = option.inner_text()
    option.click()
    wait_idle(page, page.url)
    return text


def double_click(page, button) -> None:
    """Two clicks 80 ms apart at the button's place (as a hurried user does)."""
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    page.mouse.dblclick(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, delay=80)


def open_tab(page, url: str, label: str) -> None:
    """Click a tab of the planner and wait for its content: the tabs are lazy
    (``grappes.ui.navigation``), a click reruns the page to build the open tab."""
    page.get_by_role("tab", name=label).click()
    wait_idle(page, url)
    page.get_by_role("tab", name=label, selected=True).wait_for(timeout=30_000)


def edits_made(page) -> int:
    """How many edits the « Et si… » tab reports (0 before the first)."""
    found = re.search(r"Après (\d+) modification", page.locator("body").inner_text())
    return int(found.group(1)) if found else 0


def test_double_click_makes_one_edit_per_action(server):
    """Each what-if action names its target; a double click on it makes exactly one edit and
    leaves the choice empty (issue 20: a second click moved another ESMS)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = open_browser(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(server, timeout=30_000)
            wait_page(page, server)
            # ESMS sans grappe -> its partner finder -> « Ajouter X à la grappe Y »
            grid = page.locator(".st-key-unplaced_table [data-testid=stDataFrame]")
            grid.scroll_into_view_if_needed()
            page.wait_for_timeout(1_500)
            box = grid.bounding_box()
            page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)
            add = page.get_by_role("button", name=re.compile(r"^(Ajouter .+ à la grappe "
                                                              r"|Former une nouvelle grappe)"))
            add.wait_for(timeout=60_000)
            double_click(page, add)
            wait_idle(page, server)
            page.wait_for_timeout(1_000)
            wait_idle(page, server)
            assert page.get_by_text("Partenaires possibles").count() == 0  # selection cleared
            open_tab(page, server, "Et si…")
            assert edits_made(page) == 1
            steps = [("exclude_et", [], r"^Exclure .+ \(\d{9}\) de la grappe "),
                     ("move_og", [("move_to", 0)], r"^Déplacer .+ \(\d{9}\) vers la grappe "),
                     ("apart_a", [("apart_b", 1)], r"^Séparer .+ \(\d{9}\) et .+ \(\d{9}\)$")]
            for n, (key, more, name) in enumerate(steps, start=2):
                choose(page, key, 0)
                for other, index in more:
                    choose(page, other, index)
                button = page.get_by_role("button", name=re.compile(name))
                button.wait_for(timeout=30_000)
                double_click(page, button)
                wait_idle(page, server)
                page.wait_for_timeout(1_000)
                wait_idle(page, server)
                assert edits_made(page) == n, (key, edits_made(page), page.locator(
                    "[data-testid=stAlert]").all_inner_texts())
            assert page.get_by_text("Traceback").count() == 0
        finally:
            browser.close()


def test_page_map_table_and_csv_download(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = open_browser(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000},
                                    accept_downloads=True)
            outside = watch_requests(page, server)
            page.add_init_script(FIRST_SEEN)
            page.goto(server, timeout=30_000)
            page.get_by_text("Grappes valides", exact=True).first.wait_for(timeout=120_000)
            page.locator("[data-testid='stDeckGlJsonChart'] canvas").first.wait_for(
                timeout=30_000)
            # a new visitor: the figures alone first, then, without any click, the sidebar's
            # choices and the tables (grappes.ui.afterpaint.first_glance)
            seen = page.evaluate("() => window.__vu")
            assert seen["chiffres"] and seen["tableau"] and seen["choix"], seen
            assert seen["chiffres"] < seen["tableau"] and seen["chiffres"] < seen["choix"], seen
            grid = page.locator("[data-testid='stDataFrame']:visible")
            grid.first.wait_for(timeout=30_000)
            assert grid.count() >= 2  # grappes (+ members of one grappe) and unplaced ESMS
            assert_first_columns(page, ["grappe", "valide", "points grille", "financement",
                                        "porteur"])
            assert_first_columns(page, ["établissement (FINESS)", "pourquoi sans grappe"])
            assert page.get_by_text("Traceback").count() == 0
            # zoom buttons over the offline base map, titled in French (issue 20, item 6);
            # a click zooms in, nothing is fetched (``outside`` below)
            zoom_in = page.locator("[data-testid=stDeckGlJsonChartZoomButton] "
                                   ".mapboxgl-ctrl-zoom-in")
            zoom_in.wait_for(timeout=30_000)
            page.wait_for_function(
                "() => [...document.querySelectorAll('.mapboxgl-ctrl-zoom-in')]"
                ".every(b => b.title === 'Zoomer')", timeout=10_000)
            assert page.locator(".mapboxgl-ctrl-zoom-out").first.get_attribute("title") \
                == "Dézoomer"
            zoom_in.click()

            open_tab(page, server, "Exports")
            button = page.get_by_role("button", name="Grappes (CSV)")
            button.wait_for(timeout=30_000)
            with page.expect_download(timeout=60_000) as info:
                button.click()
            download = info.value
            assert download.suggested_filename == "grappes.csv"
            data = Path(download.path()).read_bytes()
        finally:
            browser.close()
    assert data.startswith(b"\xef\xbb\xbf")
    table = read_written_csv(data)  # French headers, read back by the columns' names
    assert len(table) > 0 and {"grappe", "nb_esms", "financement"} <= set(table.columns)
    assert outside == [], f"requêtes hors de localhost : {outside[:5]}"


def test_french_page_readable_figures_no_snake_case(server):
    """lang="fr", French number formats, no ellipsis in the metrics, no snake_case token, the
    uploader in French; screenshot for the README (docs/img/app.png, 1400x900)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = open_browser(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            outside = watch_requests(page, server)
            page.goto(server, timeout=30_000)
            wait_page(page, server)
            page.wait_for_timeout(2_000)
            assert page.evaluate("document.documentElement.lang") == "fr"
            assert page.evaluate("navigator.languages")[0] == "fr-FR"
            assert metrics_fit(page) == []
            values = page.locator("[data-testid=stMetricValue]:visible").all_inner_texts()
            assert any(v.endswith("M€") or v.endswith("k€") for v in values), values
            text = visible_text(page)
            assert re.search(r"total \d{1,3}( \d{3})+ €", text), "montant sans séparateur"
            assert SNAKE.findall(text) == [], SNAKE.findall(text)[:10]
            assert "--ej" not in text and "--dui" not in text
            # the main page's name in the sidebar: « Proposer des grappes », not « app »
            first = page.locator("[data-testid=stSidebarNav] li").first
            first.get_by_text("Proposer des grappes").wait_for(timeout=10_000)
            assert first.bounding_box()["height"] > 10
            if os.environ.get("GRAPPES_SCREENSHOT"):
                page.screenshot(path=str(ROOT / "docs" / "img" / "app.png"))
            # uploader: Streamlit's English replaced by French
            page.get_by_text("Mes fichiers FINESS").click()
            page.locator("[data-testid=stFileUploaderDropzone]").first.wait_for(timeout=30_000)
            side = page.locator("[data-testid=stSidebar]").inner_text()
            assert "Drag and drop" not in side and "200MB" not in side
            assert "300 Mo" in side
        finally:
            browser.close()
    assert outside == [], f"requêtes hors de localhost : {outside[:5]}"


def test_upload_proposal_detail_envelope_export(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = open_browser(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000},
                                    accept_downloads=True)
            outside = watch_requests(page, server)
            page.goto(server, timeout=30_000)
            page.get_by_text("Mes fichiers FINESS").first.wait_for(timeout=120_000)
            page.get_by_text("Mes fichiers FINESS").click()
            wait_idle(page, server)
            upload(page, server, 0, ROOT_DATA / "etalab-cs1100507-stock-20260512-0000.csv")
            wait_page(page, server)
            upload(page, server, 1, ROOT_DATA / "etalab-cs1100501-stock-20260512-0000.csv")
            wait_page(page, server)
            # the check panel is folded: the proposal is on the first screen
            metric = page.locator("[data-testid=stMetricLabel]:visible").first
            assert metric.bounding_box()["y"] < 1000
            # detail of another grappe: its funding plan
            page.get_by_text("Plan de financement").first.wait_for(timeout=30_000)
            # envelope
            open_tab(page, server, "Enveloppe ARS")
            page.get_by_role("button", name="Choisir les grappes financées").click()
            done = page.get_by_text(re.compile(r"grappe\(s\) financée\(s\) sur"))
            done.wait_for(timeout=120_000)
            assert re.search(r"\d{1,3}( \d{3})+ € engagés", done.inner_text())
            assert_first_columns(page, ["grappe — porteur", "pourquoi non financée"])
            assert_first_columns(page, ["grappe — porteur", "fenêtre", "financement"])
            with page.expect_download(timeout=60_000) as info:
                page.get_by_role("button", name="Télécharger la sélection (CSV)").click()
            selection = Path(info.value.path()).read_bytes().decode("utf-8-sig")
            assert selection.splitlines()[0].startswith("Grappe;Porteur;Décision;Financement")
            # export
            open_tab(page, server, "Exports")
            with page.expect_download(timeout=60_000) as info:
                page.get_by_role("button", name="Grappes (CSV)").click()
            grappes = pd.read_csv(info.value.path(), sep=";", encoding="utf-8-sig", dtype=str)
            assert len(grappes) > 0
            assert page.get_by_text("Traceback").count() == 0
        finally:
            browser.close()
    assert outside == [], f"requêtes hors de localhost : {outside[:5]}"


def test_unplaced_to_partner_move_recost_and_reload(server):
    """A row of "ESMS sans grappe" opens its partner finder; "l'ajouter à cette grappe" moves
    it and re-costs; a page reload keeps the edit (address)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = open_browser(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            outside = watch_requests(page, server)
            page.goto(server, timeout=30_000)
            wait_page(page, server)
            grid = page.locator(".st-key-unplaced_table [data-testid=stDataFrame]")
            grid.scroll_into_view_if_needed()
            page.wait_for_timeout(1_500)
            box = grid.bounding_box()
            page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # first row's selection box
            page.get_by_text("Partenaires possibles").wait_for(timeout=60_000)
            add = page.get_by_role("button", name=re.compile(r"^Ajouter .+ à la grappe "))
            add.wait_for(timeout=60_000)
            assert_first_columns(page, ["rang", "grappe ou OG cible", "valide après",
                                        "pourquoi invalide après"])
            before = page.locator("[data-testid=stMetricValue]:visible").all_inner_texts()
            add.click()
            page.get_by_text(re.compile(r"Proposition modifiée \(\d+ modification")).first \
                .wait_for(timeout=60_000)
            after = page.locator("[data-testid=stMetricValue]:visible").all_inner_texts()
            assert after != before
            assert "modifs=" in page.url
            page.reload()
            wait_page(page, server)
            page.get_by_text(re.compile(r"Proposition modifiée \(\d+ modification")).first \
                .wait_for(timeout=60_000)
            again = page.locator("[data-testid=stMetricValue]:visible").all_inner_texts()
            assert again[:5] == after[:5]
        finally:
            browser.close()
    assert outside == [], f"requêtes hors de localhost : {outside[:5]}"


def test_edit_save_scenario_reload_and_load_it_back(server, tmp_path):
    """Exclude an ESMS, download "Enregistrer le scénario", reload the page without the
    address's edit log (fresh proposal), upload the file: the same headline figures."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = open_browser(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000},
                                    accept_downloads=True)
            outside = watch_requests(page, server)
            page.goto(server, timeout=30_000)
            wait_page(page, server)
            plain = page.locator("[data-testid=stMetricValue]:visible").all_inner_texts()
            open_tab(page, server, "Et si…")
            choose(page, "exclude_et", 0)
            page.get_by_role("button", name=re.compile(r"^Exclure .+ de la grappe")).click()
            page.get_by_text(re.compile(r"Après 1 modification")).first \
                .wait_for(timeout=60_000)
            open_tab(page, server, "Proposition")
            wait_idle(page, server)
            edited = page.locator("[data-testid=stMetricValue]:visible").all_inner_texts()
            assert edited[:5] != plain[:5]
            open_tab(page, server, "Exports")
            with page.expect_download(timeout=60_000) as info:
                page.get_by_role("button", name="Enregistrer le scénario").click()
            assert info.value.suggested_filename == "scenario.json"
            saved = tmp_path / info.value.suggested_filename  # the uploader wants .json
            info.value.save_as(saved)
            assert saved.read_bytes().startswith(b"{")

            page.goto(server, timeout=30_000)  # no "modifs" in the address: a fresh page
            wait_page(page, server)
            fresh = page.locator("[data-testid=stMetricValue]:visible").all_inner_texts()
            assert fresh[:5] == plain[:5]
            open_tab(page, server, "Exports")
            chooser = page.locator(".st-key-scenario_upload "
                                   "[data-testid=stFileUploaderDropzoneInput]")
            chooser.wait_for(state="attached", timeout=30_000)
            chooser.set_input_files(str(saved))
            page.get_by_text(re.compile(r"Scénario « .+ » chargé\.")).first \
                .wait_for(timeout=120_000)
            open_tab(page, server, "Proposition")
            page.get_by_text(re.compile(r"Scénario chargé depuis")).first \
                .wait_for(timeout=60_000)
            wait_idle(page, server)
            loaded = page.locator("[data-testid=stMetricValue]:visible").all_inner_texts()
            assert loaded[:5] == edited[:5]
            assert page.get_by_text("Scénario refusé").count() == 0
            assert page.get_by_text("Traceback").count() == 0
        finally:
            browser.close()
    assert outside == [], f"requêtes hors de localhost : {outside[:5]}"


def test_rule_set_comparison_and_gis_download(server, tmp_path):
    """The two features a browser must reach too: the calls side by side, and the GeoPackage
    an ARS opens in QGIS (read back with geopandas: three layers, grappes and ESMS)."""
    import geopandas as gpd
    import pyogrio
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = open_browser(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000},
                                    accept_downloads=True)
            outside = watch_requests(page, server)
            page.goto(server, timeout=30_000)
            wait_page(page, server)

            open_tab(page, server, "Comparer les appels")
            compare = page.get_by_role("button", name="Comparer les appels")
            compare.wait_for(timeout=60_000)
            compare.click()
            panel = page.get_by_role("tabpanel", name="Comparer les appels")
            panel.locator("[data-testid='stDataFrame']").first.wait_for(timeout=240_000)
            assert_first_columns(page, ["appel à projets", "financement", "ESMS placés"])

            open_tab(page, server, "Exports")
            page.get_by_role("button", name="Préparer le classeur XLSX et le GeoPackage").click()
            button = page.get_by_role("button", name="Carte SIG (GeoPackage)")
            button.wait_for(timeout=180_000)
            with page.expect_download(timeout=120_000) as info:
                button.click()
            download = info.value
            assert download.suggested_filename == "grappes.gpkg"
            target = tmp_path / "grappes.gpkg"
            download.save_as(target)
            assert page.get_by_text("Traceback").count() == 0
        finally:
            browser.close()
    layers = {name for name, _ in pyogrio.list_layers(target)}
    assert layers == {"esms", "grappes", "esms_sans_grappe"}
    grappes = gpd.read_file(target, layer="grappes")
    esms = gpd.read_file(target, layer="esms")
    assert len(grappes) > 0 and len(esms) > len(grappes)
    assert grappes.crs.to_epsg() == 4326
    assert outside == [], f"requêtes hors de localhost : {outside[:5]}"
