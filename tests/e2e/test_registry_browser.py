"""Real-browser journey of the « Mise en relation » page (headless Debian chromium, no
download): the admin creates accounts and uploads the registry's FINESS file; three
déclarants ask to be attached to their OG and the coordinator approves (issue 18); two
declare with « Rechercher mon établissement », the coordinator matches and invites, both
accept, each then sees the other's contact, and a third déclarant sees neither. Then an
impostor claims an OG: the claim is shown contested to the coordinator, the OG stays out of
matching, and the coordinator refuses the claim.
"""

from __future__ import annotations

import os
import re
import time

import pytest

from grappes.core.vocabulary import ROLE_LABELS
from grappes.registry import Registry
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
from tests.e2e.streamlit_server import login as registry_login
from tests.e2e.test_french_everywhere import foreign_words, visible_text

PASSWORD = "mot-de-passe-solide"
OG_A, OG_B, OG_C = "370016669", "371082033", "371114794"
FLUX = "finess-structures-journalier-20260512.json.gz"

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    db = tmp_path_factory.mktemp("registre") / "grappes.db"
    reg = Registry(str(db))
    reg.init()
    reg.creer_compte(None, "admin@test.fr", "admin", PASSWORD)  # as `compte ajouter` does
    reg.db.dispose()
    # no GRAPPES_FINESS: the search works out of the box on the bundled sample
    env = {"GRAPPES_DB_URL": f"sqlite:///{db}"}
    with streamlit_app("Mise_en_relation", env, timeout=30) as url:
        yield url


T = 60_000
#: registry state codes that must never reach the page (shown as French labels)
STATUS_CODES = re.compile(r"\b(en_attente|invitations_envoyees|acceptee|declinee|proposee|"
                          r"constituee|non_conforme|a_mettre_a_niveau)\b")


def in_french(page, url: str, tabs: tuple[str, ...] = (), where: str = "") -> None:
    """Issue 19, item 4 on the registry pages, logged in: each of ``tabs`` clicked in turn
    (or the page as it is), its visible text holds no word of the planner's English
    blocklist nor a snake_case code (``test_french_everywhere``), and no traceback."""
    for tab in tabs or ("",):
        if tab:
            page.get_by_role("tab", name=tab).click()
        wait_idle(page, url)
        page.wait_for_timeout(300)  # the tab's widgets are drawn
        text = visible_text(page)
        label = f"{where} {tab}".strip()
        assert "Traceback" not in text, f"{label} :{diagnose(page, url)}"
        assert foreign_words(text) == [], f"{label} : {foreign_words(text)[:10]}"


def shoot(page, name: str) -> None:
    """``docs/img/<name>.png`` when ``GRAPPES_SCREENSHOT`` is set (docs/registre.md)."""
    if os.environ.get("GRAPPES_SCREENSHOT"):
        page.screenshot(path=str(ROOT / "docs" / "img" / f"{name}.png"), full_page=True)


def login(browser, url: str, email: str):
    return registry_login(browser, url, email, PASSWORD, T)


def create_account(page, email: str, role: str, territoire: str = "") -> None:
    page.get_by_label("E-mail du compte").fill(email)
    page.get_by_label("Rôle").click()
    page.get_by_role("option", name=ROLE_LABELS[role], exact=True).click()
    page.get_by_label("Territoire (37,41 ou R24 ; vide pour un déclarant)").fill(territoire)
    page.get_by_label("Mot de passe initial").fill(PASSWORD)
    page.get_by_role("button", name="Créer le compte").click()
    page.get_by_text(f"Compte créé : {email}").wait_for(timeout=T)


def request_attachment(browser, url: str, email: str, ej: str) -> None:
    """The account asks to speak for ``ej`` (« Mes OG »)."""
    page = login(browser, url, email)
    page.get_by_label("FINESS EJ de l'OG pour lequel vous parlez").fill(ej)
    page.get_by_role("button", name="Demander le rattachement").click()
    page.get_by_text(f"Demande de rattachement à l'OG {ej} envoyée.").wait_for(timeout=T)
    page.context.close()


def decide_attachments(page, url: str, n: int, name: str = "Approuver") -> None:
    """Click ``name`` on ``n`` requests of the « Rattachements » tab, one page run each."""
    page.get_by_role("tab", name="Rattachements").click()
    buttons = page.get_by_role("button", name=name, exact=True)
    buttons.first.wait_for(timeout=T)
    wait_idle(page, url)  # the tab's rows are drawn one by one: count them once all are there
    for _ in range(100):
        if buttons.count() >= n:
            break
        page.wait_for_timeout(100)
    assert buttons.count() == n, (buttons.count(), n)
    for left in range(n - 1, -1, -1):
        buttons.first.click()
        for _ in range(600):  # the decision reruns the page: one button fewer
            page.wait_for_timeout(100)
            if buttons.count() == left:
                break
        assert buttons.count() == left, (buttons.count(), left)
        wait_idle(page, url)


def expect(locator):
    from playwright.sync_api import expect as _expect

    return _expect(locator)


def declare(browser, url: str, email: str, ej: str, nom: str, contact: str,
            refuses: str = "", edit_text: str = "", check: bool = False) -> None:
    page = login(browser, url, email)
    # « Rechercher mon établissement » by the OG's number: the OG and all its ESMS
    page.get_by_label("Rechercher mon établissement").fill(ej)
    page.get_by_label("Rechercher mon établissement").press("Enter")
    page.get_by_role("button", name="Choisir cet établissement").click()
    page.get_by_text("ESMS dans le FINESS ; cochez ceux à déclarer").wait_for(timeout=T)
    expect(page.get_by_label("FINESS EJ de l'OG", exact=True)).to_have_value(ej, timeout=T)
    if check:  # the form with its search results and ESMS table, in French
        in_french(page, url, where="formulaire de déclaration")
        shoot(page, "registre-declaration")
    if refuses:
        page.get_by_label("Partenaires refusés (FINESS EJ, séparés par des virgules)").fill(
            refuses)
    page.get_by_label("Personne à contacter").fill(nom)
    page.get_by_label("E-mail de contact").fill(contact)
    page.get_by_text("J'accepte le traitement de ces données").click()
    page.get_by_role("button", name="Enregistrer ma déclaration").click()
    page.get_by_text("Retirer ma déclaration").wait_for(timeout=T)
    if edit_text:  # « modifier sa déclaration à tout moment »: the form comes back filled
        # the blank form of the run before stays on screen until the run ends: click on the
        # settled page, then wait for the edit form the click builds (a lazy expander)
        wait_idle(page, url)
        page.get_by_text("Modifier ma déclaration").click()
        page.get_by_role("button", name="Enregistrer les modifications").wait_for(timeout=T)
        expect(page.get_by_label("Personne à contacter")).to_have_value(nom, timeout=T)
        page.get_by_label("Texte libre").fill(edit_text)
        page.get_by_text("J'accepte le traitement de ces données").click()
        page.get_by_role("button", name="Enregistrer les modifications").click()
        page.get_by_text(edit_text).first.wait_for(timeout=T)
    assert page.get_by_text("Traceback").count() == 0
    page.context.close()


def metrics(page, labels: tuple[str, ...] = ("Validité", "Montant", "Points de la grille")
            ) -> dict[str, str]:
    """The figures of the what-if edit (label -> value), once the page has settled.

    Streamlit re-renders in several passes after a click: read until every expected label is
    there and two reads in a row agree, so a half-drawn page is never taken for the answer.
    """
    deadline = time.monotonic() + T / 1000
    previous: dict[str, str] | None = None
    while True:
        out: dict[str, str] = {}
        boxes = page.locator('[data-testid="stMetric"]:visible')
        boxes.first.wait_for(timeout=T)
        try:
            for i in range(boxes.count()):
                box = boxes.nth(i)
                label = box.locator('[data-testid="stMetricLabel"]').inner_text(timeout=2_000)
                value = box.locator('[data-testid="stMetricValue"]').inner_text(timeout=2_000)
                out[label.strip()] = value.strip()
        except Exception:  # a box vanished mid-read: read again
            out = {}
        if all(k in out for k in labels) and out == previous:
            return out
        if time.monotonic() > deadline:
            raise AssertionError(f"les indicateurs ne se stabilisent pas : {out}")
        previous = out
        page.wait_for_timeout(300)


def pick(page, label: str, option_start: str) -> None:
    """Choose the option starting with ``option_start`` in the multiselect ``label``.

    Only among elements not marked stale: while a fragment is drawn again, Streamlit keeps
    the previous copy of its widgets on the page (``data-stale="true"``) until the new one is
    complete, and the same label then names two elements (seen on a loaded machine)."""
    fresh = page.locator('[data-testid="stElementContainer"]:not([data-stale="true"])')
    fresh.get_by_label(label).click()
    page.get_by_role("option").filter(has_text=option_start).first.click()
    page.keyboard.press("Escape")


def invitations(browser, url: str, email: str):
    page = login(browser, url, email)
    page.get_by_role("tab", name="Mes invitations").click()
    return page


def test_registry_journey(server):
    from playwright.sync_api import sync_playwright

    url = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            # 1. the admin creates the accounts
            page = login(browser, url, "admin@test.fr")
            create_account(page, "coord@test.fr", "coordinateur", "37")
            for who in ("a", "b", "c", "imposteur"):
                create_account(page, f"{who}@test.fr", "declarant")
            create_account(page, "ars@test.fr", "ars", "R24")
            in_french(page, url, ("Comptes", "Journal d'audit", "Conservation",
                                  "Fichier FINESS"), "admin")
            # the admin gives the registry its FINESS file in the page (the sample's FiNESS+
            # flow): the declarations below are searched and checked against it
            page.get_by_text("région exemple intégrée (fichier d'exemple intégré").wait_for(
                timeout=T)
            upload(page, url, 0, ROOT / "data" / "sample" / FLUX)
            page.get_by_role("button", name="Utiliser ce fichier").click()
            page.get_by_text("Fichier FINESS enregistré : 2138 ESMS").wait_for(timeout=T)
            page.get_by_text("finess-structures-journalier-20260512-").first.wait_for(
                timeout=T)  # the file now in force, under its safe name
            page.context.close()

            # 2. three déclarants ask to speak for their OG; the coordinator approves
            for who, ej in (("a", OG_A), ("b", OG_B), ("c", OG_C)):
                request_attachment(browser, url, f"{who}@test.fr", ej)
            page = login(browser, url, "coord@test.fr")
            decide_attachments(page, url, 3)
            page.context.close()

            # 3. two déclarants declare (FINESS look-up), a third one too, refusing them
            declare(browser, url, "a@test.fr", OG_A, "Alice Martin", "alice@og-a.fr",
                    edit_text="Disponible dès janvier", check=True)
            declare(browser, url, "b@test.fr", OG_B, "Bruno Petit", "bruno@og-b.fr")
            declare(browser, url, "c@test.fr", OG_C, "Chloé Durand", "chloe@og-c.fr",
                    refuses=f"{OG_A}, {OG_B}")

            # 3. the coordinator matches and invites
            page = login(browser, url, "coord@test.fr")
            page.get_by_role("tab", name="Appariement").click()
            page.get_by_role("button", name="Lancer l'appariement").click()
            page.get_by_text("grappe(s) proposée(s)").wait_for(timeout=180_000)
            page.get_by_role("tab", name="Grappes et invitations").click()
            # the what-if edit before inviting: remove A (too small), then add A back
            before = metrics(page)
            assert before["Validité"] == "valide", before
            # the edit form (shown only before the invitations) in French too
            in_french(page, url, where="coordinateur, modifier une grappe")
            pick(page, "Membres à retirer", f"OG {OG_A}")
            page.get_by_role("button", name="Enregistrer la modification").click()
            page.get_by_text("non valide").first.wait_for(timeout=T)
            removed = metrics(page)
            assert removed["Montant"] != before["Montant"], (before, removed)
            assert page.get_by_text("trop petit :").count() >= 1
            pick(page, "Déclarations à ajouter (même champ, dans aucune grappe)", f"OG {OG_A}")
            page.get_by_role("button", name="Enregistrer la modification").click()
            page.get_by_text("modifiée : 16 ESMS, 2 OG").wait_for(timeout=T)
            assert metrics(page) == before
            page.get_by_role("button", name="Envoyer les invitations").first.click()
            page.get_by_text("état : invitations envoyées").first.wait_for(timeout=T)
            assert not STATUS_CODES.search(page.locator("body").inner_text())
            in_french(page, url, ("Déclarations", "Rattachements", "Appariement",
                                  "Grappes et invitations"), "coordinateur")
            page.context.close()

            # 4. both accept; before that, no contact of the other
            page = invitations(browser, url, "a@test.fr")
            page.get_by_text("invitation : en attente de réponse").wait_for(timeout=T)
            assert not STATUS_CODES.search(page.locator("body").inner_text())
            in_french(page, url, ("Mes invitations", "Ma déclaration"), "déclarant")
            page.get_by_role("tab", name="Mes invitations").click()
            assert page.get_by_text("bruno@og-b.fr").count() == 0
            page.get_by_role("button", name="Accepter").click()
            page.get_by_text("invitation : acceptée").wait_for(timeout=T)
            assert page.get_by_text("bruno@og-b.fr").count() == 0
            page.context.close()
            page = invitations(browser, url, "b@test.fr")
            page.get_by_role("button", name="Accepter").click()
            # 5. contacts appear to each other...
            page.get_by_text(f"OG {OG_A} : Alice Martin — alice@og-a.fr").wait_for(timeout=T)
            page.context.close()
            page = invitations(browser, url, "a@test.fr")
            page.get_by_text(f"OG {OG_B} : Bruno Petit — bruno@og-b.fr").wait_for(timeout=T)
            if os.environ.get("GRAPPES_SCREENSHOT"):  # docs/registre.md's picture, drawn
                wait_idle(page, url)
                page.locator('[data-testid="stMetricValue"]:visible').first.wait_for(timeout=T)
                page.wait_for_timeout(1500)
                shoot(page, "registre")
            page.context.close()
            # ... and not to the third déclarant
            page = invitations(browser, url, "c@test.fr")
            page.get_by_text("Aucune invitation pour l'instant.").wait_for(timeout=T)
            body = page.content()
            assert "alice@og-a.fr" not in body and "bruno@og-b.fr" not in body
            assert "Traceback" not in body
            page.context.close()

            # 6. an impostor claims C's OG: contested, shown to the coordinator, C's
            # declaration stays out of matching; the coordinator refuses the claim
            request_attachment(browser, url, "imposteur@test.fr", OG_C)
            page = login(browser, url, "coord@test.fr")
            page.get_by_role("tab", name="Rattachements").click()
            page.get_by_text(f"Revendication contestée : l'OG {OG_C} est réclamé par 2 "
                             "comptes").first.wait_for(timeout=T)
            page.get_by_role("tab", name="Appariement").click()
            page.get_by_role("button", name="Lancer l'appariement").click()
            page.get_by_text(f"(OG {OG_C}) hors appariement : revendication "
                             "contestée").first.wait_for(timeout=180_000)
            decide_attachments(page, url, 1, name="Refuser")
            assert page.get_by_text("Revendication contestée").count() == 0
            assert "Traceback" not in page.content()
            page.context.close()

            # 7. the ARS view (the planner's map: boundaries, legend, names), then the
            # Suivi page in the same session: French only
            page = login(browser, url, "ars@test.fr")
            page.get_by_text("Carte des ESMS déclarés").wait_for(timeout=T)
            page.locator("[data-testid=stDeckGlJsonChart]").first.wait_for(timeout=T)
            page.get_by_text("Légende").first.wait_for(timeout=T)
            page.get_by_text("limite et nom de département").first.wait_for(timeout=T)
            # none constituted yet: the ARS reads why the members' section is empty
            page.get_by_text("Aucune grappe constituée dans ce territoire").first.wait_for(
                timeout=T)
            in_french(page, url, where="ARS")
            page.get_by_text("Carte des ESMS déclarés").scroll_into_view_if_needed()
            page.wait_for_timeout(1500)  # the map's canvas is drawn
            if os.environ.get("GRAPPES_SCREENSHOT"):
                page.screenshot(path=str(ROOT / "docs" / "img" / "registre-carte-ars.png"))
            page.get_by_role("link", name="Suivi").first.click()
            page.get_by_text("Suivi des grappes financées").first.wait_for(timeout=T)
            in_french(page, url, where="Suivi (ARS)")
            page.context.close()
        finally:
            browser.close()
