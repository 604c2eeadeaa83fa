"""Issue 20, item 4: the planner speaks French on every tab, Streamlit's own words included.

One server, one browser: the page opens on the sample region, each tab is clicked in turn and
its visible text (sidebar included, icon ligatures removed) must hold no word of a small
English blocklist (Streamlit's « Drag and drop », « Upload », « Choose options », « Press
Enter »…) and no snake_case token (a column name or a code leaking to the screen). The
uploader of « Mes fichiers FINESS » is checked as the user sees it in the sidebar, then the
*Suivi* page.

With ``GRAPPES_SCREENSHOT=1`` each tab is saved as ``docs/img/planificateur-<onglet>.png``
for the user guide (docs/guide-utilisateur.md).
"""

from __future__ import annotations

import os
import re

from tests.e2e.streamlit_server import (
    BROWSER_ARGS,
    BROWSER_MARKS,
    CHROMIUM,
    ROOT,
    diagnose,
    streamlit_app,
    wait_idle,
)

pytestmark = BROWSER_MARKS

TABS = {  # tab label → screenshot name
    "Proposition": "proposition",
    "Trouver des partenaires": "partenaires",
    "Et si…": "et-si",
    "Enveloppe ARS": "enveloppe",
    "Comparer les appels": "comparer",
    "Exports": "exports",
}
# Streamlit's own English (uploader, placeholders, form hints, status) and two words a
# half-translated screen shows first
ENGLISH = re.compile(
    r"Drag and drop|Browse files|per file|Choose (an )?options?|No options|Press Enter"
    r"|\bUpload\b|\bRunning\b|\bempty\b|\bLimit\b|\bShow more\b|\bDownload\b",
    re.IGNORECASE)
SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")
SNAKE_ALLOWED: set[str] = set()  # file names with an underscore would go here

VISIBLE_TEXT = """(sel) => {
    const app = document.querySelector(sel).cloneNode(true);
    app.querySelectorAll('[data-testid=stIconMaterial]').forEach(e => e.remove());
    app.style.position = 'absolute'; app.style.left = '-99999px';
    document.body.appendChild(app);
    const text = app.innerText; app.remove(); return text; }"""


def visible_text(page, where: str = "[data-testid=stApp]") -> str:
    """What a reader sees in ``where`` (by default the sidebar and the main area), hidden
    tabs and icon ligatures (``keyboard_arrow_down``) excluded: innerText skips what is not
    displayed."""
    return page.evaluate(VISIBLE_TEXT, where)


def foreign_words(text: str) -> list[str]:
    english = [m.group(0) for m in ENGLISH.finditer(text)]
    snake = [w for w in SNAKE.findall(text) if w not in SNAKE_ALLOWED]
    return english + snake


def test_every_tab_and_the_uploader_in_french():
    from playwright.sync_api import sync_playwright

    shots = bool(os.environ.get("GRAPPES_SCREENSHOT"))
    with streamlit_app(timeout=60) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(url, timeout=30_000)
            wait_idle(page, url)
            try:
                page.locator("[data-testid=stMetricLabel]:visible").first.wait_for(
                    timeout=120_000)
            except Exception as exc:
                raise AssertionError(f"pas de proposition : {exc}{diagnose(page, url)}") \
                    from None
            for label, name in TABS.items():
                tab = page.get_by_role("tab", name=label)
                tab.click()
                wait_idle(page, url)
                page.wait_for_timeout(500)  # the tab's widgets are drawn
                text = visible_text(page)
                assert "Traceback" not in text, f"onglet « {label} » :{diagnose(page, url)}"
                found = foreign_words(text)
                assert found == [], f"onglet « {label} » : {found[:10]}"
                if shots:
                    tab.scroll_into_view_if_needed()
                    page.evaluate("window.scrollBy(0, -120)")
                    page.screenshot(
                        path=str(ROOT / "docs" / "img" / f"planificateur-{name}.png"))
            # the uploaders as the user sees them: French text, no English word nor icon name
            page.get_by_text("Mes fichiers FINESS").click()
            wait_idle(page, url)
            zone = page.locator("[data-testid=stFileUploaderDropzone]").first
            zone.wait_for(timeout=30_000)
            side = visible_text(page, "[data-testid=stSidebar]")
            assert foreign_words(side) == [], foreign_words(side)
            assert "upload" not in side.lower(), side
            button = zone.locator("button").first
            assert button.inner_text().strip() == ""  # its words come from the CSS below
            assert button.evaluate("b => getComputedStyle(b, '::after').content") \
                == '"Choisir un fichier"'
            assert zone.evaluate("z => getComputedStyle(z, '::before').content") \
                .startswith('"Déposez le fichier ici')
            # the sidebar names the main page « Proposer des grappes », never « app »
            nav = visible_text(page, "[data-testid=stSidebarNav]")
            assert not re.search(r"\bapp\b", nav), nav
            assert "Proposer des grappes" in nav, nav
            if shots:
                page.screenshot(path=str(ROOT / "docs" / "img" / "planificateur-fichiers.png"))
            # the Suivi page wears the same French dress (here without a registry: its
            # login or setup screen)
            page.goto(url + "Suivi", timeout=30_000)
            wait_idle(page, url)
            text = visible_text(page)
            assert "Suivi des grappes financées" in text and "Traceback" not in text, \
                diagnose(page, url)
            assert foreign_words(text) == [], foreign_words(text)
            nav = visible_text(page, "[data-testid=stSidebarNav]")
            assert "Proposer des grappes" in nav, nav
        finally:
            browser.close()
