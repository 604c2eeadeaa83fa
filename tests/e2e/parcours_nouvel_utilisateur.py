"""A new user's walk (issue 19, « done when »): docs/registre.md then docs/suivi.md from an
empty folder — the CLI as the docs say (`registre init`, the first admin), then only the
browser: accounts, attachments, declarations by « Rechercher mon établissement », matching,
invitations, acceptances, constitution, submission to the ARS, registration of the funded
grappe from the registry, a payment, a milestone, a second payment. No file is edited.

Not a test (2 to 3 minutes): run it by hand after a change of the pages,

    python tests/e2e/parcours_nouvel_utilisateur.py [DOSSIER]

It prints each command with its output and time, fails at the first step that does not
answer, and writes a screenshot per step in DOSSIER (default: a temporary folder);
docs/registre.md shows four of them (``docs/img/parcours-*.png``).
"""
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from playwright.sync_api import sync_playwright  # noqa: E402

from tests.e2e import test_registry_browser as rb  # noqa: E402
from tests.e2e.streamlit_server import (  # noqa: E402
    BROWSER_ARGS,
    CHROMIUM,
    AppUrl,
    free_port,
    wait_for_port,
    wait_idle,
)

RUN = Path(tempfile.mkdtemp(prefix="parcours-"))  # the new user's empty folder
SHOTS = Path(sys.argv[1]) if len(sys.argv) > 1 else RUN / "captures"
SHOTS.mkdir(parents=True, exist_ok=True)
BIN = Path(sys.executable).parent  # grappes and streamlit of this environment
PW = rb.PASSWORD
env = dict(os.environ, PYTHONPATH=str(REPO), COLUMNS="80")
env.pop("GRAPPES_DB_URL", None)
env.pop("GRAPPES_FINESS", None)


def sh(*args, extra=None, stdin=None):
    t = time.monotonic()
    r = subprocess.run([str(BIN / "grappes"), *args], cwd=RUN, env=dict(env, **(extra or {})),
                       capture_output=True, text=True, input=stdin)
    print(f"$ grappes {' '.join(args)}  [{time.monotonic() - t:.1f} s, rc={r.returncode}]")
    print(r.stdout + r.stderr)
    assert r.returncode == 0, args
    return r


# docs/registre.md « Utilisation seule (SQLite) »
sh("registre", "init")
sh("registre", "compte", "ajouter", "admin@federation.fr", "--role", "admin",
   "--mot-de-passe-stdin", stdin=PW + "\n")
port = free_port()
log = open(RUN / "streamlit.log", "wb")  # noqa: SIM115 - open while the server runs
proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"),
                         "--server.headless", "true", "--server.port", str(port),
                         "--browser.gatherUsageStats", "false"],
                        cwd=RUN, env=env, stdout=log, stderr=subprocess.STDOUT)

url = AppUrl(f"http://127.0.0.1:{port}/Mise_en_relation")
url.log = RUN / "streamlit.log"
wait_for_port(port, proc, url.log, 60)
rb.PASSWORD = PW
T = 120_000
n = [0]


def type_date(page, label: str, digits: str) -> None:
    """A Streamlit date field is a group of day / month / year spin buttons, not an input:
    type the digits into the first one, then close the calendar that opened."""
    field = page.get_by_label(label).first
    field.locator("[role=spinbutton]").first.click()
    page.keyboard.type(digits)
    page.keyboard.press("Escape")
    page.wait_for_timeout(300)


def shot(page, name):
    n[0] += 1
    wait_idle(page, url)
    page.wait_for_timeout(800)
    page.screenshot(path=str(SHOTS / f"{n[0]:02d}-{name}.png"), full_page=True)
    assert "Traceback" not in page.content(), name
    print(f"capture {n[0]:02d} : {name}")


try:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        page = rb.login(b, url, "admin@federation.fr")
        rb.create_account(page, "coord@federation.fr", "coordinateur", "37")
        rb.create_account(page, "ars@ars-cvl.fr", "ars", "R24")
        for who in ("a", "b"):
            rb.create_account(page, f"{who}@og.fr", "declarant")
        shot(page, "admin-comptes")
        page.context.close()
        for who, ej in (("a", rb.OG_A), ("b", rb.OG_B)):
            rb.request_attachment(b, url, f"{who}@og.fr", ej)
        page = rb.login(b, url, "coord@federation.fr")
        page.get_by_role("tab", name="Rattachements").click()
        shot(page, "coord-rattachements")
        rb.decide_attachments(page, url, 2)
        page.context.close()
        rb.declare(b, url, "a@og.fr", rb.OG_A, "Alice Martin", "alice@og-a.fr")
        rb.declare(b, url, "b@og.fr", rb.OG_B, "Bruno Petit", "bruno@og-b.fr")
        page = rb.login(b, url, "coord@federation.fr")
        page.get_by_role("tab", name="Appariement").click()
        page.get_by_role("button", name="Lancer l'appariement").click()
        page.get_by_text("grappe(s) proposée(s)").wait_for(timeout=T)
        page.get_by_role("tab", name="Grappes et invitations").click()
        shot(page, "coord-grappe-proposee")
        page.get_by_role("button", name="Envoyer les invitations").first.click()
        page.get_by_text("état : invitations envoyées").first.wait_for(timeout=T)
        page.context.close()
        for who in ("a", "b"):
            page = rb.invitations(b, url, f"{who}@og.fr")
            if who == "a":
                shot(page, "declarant-invitation")
            page.get_by_role("button", name="Accepter").click()
            page.get_by_text("invitation : acceptée").first.wait_for(timeout=T)
            page.context.close()
        page = rb.login(b, url, "coord@federation.fr")
        page.get_by_role("tab", name="Grappes et invitations").click()
        page.get_by_role("button", name="Marquer constituée").first.click()
        page.get_by_text("état : constituée").first.wait_for(timeout=T)
        page.get_by_role("button", name="Soumettre à l'ARS").first.click()
        page.get_by_text("soumise à l'ARS").first.wait_for(timeout=T)
        shot(page, "coord-soumise")
        page.context.close()
        page = rb.login(b, url, "ars@ars-cvl.fr")
        shot(page, "ars-registre")
        page.get_by_role("link", name="Suivi").first.click()
        page.get_by_text("Enregistrer une grappe financée").first.wait_for(timeout=T)
        type_date(page, "Date de signature de la convention", "01102026")
        page.get_by_role("button", name="Enregistrer la grappe").first.click()
        page.get_by_text("enregistrée (signature le 01/10/2026)").wait_for(timeout=T)
        page.get_by_role("button", name="Noter le versement").click()
        page.get_by_text("Versement noté : PA-24-001, tranche 1").wait_for(timeout=T)
        shot(page, "ars-suivi")
        page.context.close()
        page = rb.login(b, url, "a@og.fr")
        page.get_by_role("link", name="Suivi").first.click()
        page.get_by_text("Mes grappes").first.wait_for(timeout=T)
        type_date(page, "Date où le jalon a été atteint", "01122026")
        page.get_by_role("button", name="Déclarer le jalon").click()
        page.get_by_text("Jalon de la tranche 2 déclaré").wait_for(timeout=T)
        shot(page, "porteur-suivi")
        page.context.close()
        page = rb.login(b, url, "ars@ars-cvl.fr")
        page.get_by_role("link", name="Suivi").first.click()
        page.get_by_role("button", name="Noter le versement").click()
        page.get_by_text("Versement noté : PA-24-001, tranche 2").wait_for(timeout=T)
        shot(page, "ars-versement-2")
        page.context.close()
finally:
    proc.terminate()
    proc.wait()
print(f"Parcours terminé ; captures dans {SHOTS}")
