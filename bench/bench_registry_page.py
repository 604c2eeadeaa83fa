"""A registry action on the « Mise en relation » page, timed in a browser (issue 19, item 6).

Not a test. Run from the repository root (Debian ``/usr/bin/chromium``, never
``playwright install``)::

    PYTHONPATH=. python bench/bench_registry_page.py [--declarations 5000] [--sessions 50]
        [--clics 5] [--backends sqlite,postgresql] [--base FILE] [--avant DIR]
        [--repetitions 1] [--time-limit 30]

1. Builds a registry of ``--declarations`` declarations of one région (the builder of
   ``bench/bench_registry.py``: synthetic Auvergne-Rhône-Alpes, one ESMS per declaration,
   contacts spread over ``--sessions`` déclarant accounts), matches it and sends the
   invitations of every grappe but ``--clics`` of them (left « proposée » for the
   coordinator). SQLite: kept in ``--base`` (built when missing, reused after: the build
   takes minutes); each measure works on a fresh copy. PostgreSQL (``GRAPPES_BENCH_PG_URL``,
   else ``GRAPPES_TEST_PG_URL``, e.g. from ``. .ci/pg.sh``): built once per command, each
   measure on a ``CREATE DATABASE … TEMPLATE`` copy.
2. Starts the app (``tests/e2e/streamlit_server.py``) on that database through
   ``bench/streamlit_chrono.py``, which times every script run on the server (wall and CPU
   time of the script thread; a fragment's run or the whole page's).
3. In chromium, signs in as the déclarant with the most pending invitations and times, from
   the click to the visible confirmation (polled at each animation frame), each click once
   the browser has finished drawing the previous one (10 calm frames): opening « Mes
   invitations » (from « Ma déclaration »), « Accepter » and « Décliner » (each on a fresh
   invitation); then as the coordinator, opening « Grappes et invitations » (from
   « Appariement », to the edit form under the cards) and « Envoyer les invitations » on a
   proposed grappe.
   ``--clics`` clicks of each. The server's runs caused by each click are read back from
   ``bench/streamlit_chrono.py``'s log, so the browser's share and the server's are apart.
4. ``--avant DIR``: another checkout of the app (e.g. ``git archive`` of the commit before
   the change): each repetition measures it, then this checkout, on fresh copies of the
   same database, in the same minutes (a shared machine's load hits both alike).

Prints one table: per backend, app and action, the median and worst click in the browser
and the median server run (wall / CPU), and ``cat /proc/loadavg`` before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_registry import PASSWORD, REGION, declarations_csv, say  # noqa: E402
from grappes.core.formatting import integer_fr  # noqa: E402
from grappes.registry import Registry  # noqa: E402
from grappes.registry.models import Compte, Declaration, Invitation  # noqa: E402

COORD = "coord@banc.fr"
T = 120_000  # ms: a page run on a loaded machine

#: visible (not stale, displayed) Markdown blocks holding ``needle``
COUNT = """(needle) => Array.from(document.querySelectorAll(
    '[data-testid="stMarkdownContainer"]')).filter(e => !e.closest('[data-stale="true"]')
    && e.offsetParent !== null && e.innerText.includes(needle)).length"""


@dataclass
class Base:
    """A built registry: where it is, who signs in."""

    url: str
    declarant: str  # e-mail of the déclarant with the most pending invitations
    en_attente: int
    proposees: int
    grappes: int
    invitations: int


def build(url: str, args) -> Base:
    """Import, match, invite all grappes but ``--clics``, set the passwords."""
    csv, n_decl = declarations_csv(args.declarations, args.sessions)
    reg = Registry(url)
    reg.init()
    reg.creer_compte(None, "admin@banc.fr", "admin", PASSWORD)
    admin = reg.connexion("admin@banc.fr", PASSWORD).jeton
    reg.creer_compte(admin, COORD, "coordinateur", PASSWORD, [f"R{REGION}"])
    coord = reg.connexion(COORD, PASSWORD).jeton
    t = time.perf_counter()
    rep = reg.importer_csv(coord, csv)
    assert len(rep.chargees) == n_decl, (len(rep.chargees), rep.rejets[:5])
    say(f"import : {time.perf_counter() - t:.0f} s")
    t = time.perf_counter()
    run = reg.apparier(coord, [f"R{REGION}"], time_limit=args.time_limit)
    say(f"appariement : {time.perf_counter() - t:.0f} s, {len(run.grappes)} grappes")
    if len(run.grappes) <= args.clics:
        raise SystemExit(f"{len(run.grappes)} grappes : pas assez pour {args.clics} clics")
    for g in run.grappes[:-args.clics]:  # the last ones stay « proposée »
        reg.inviter(coord, g.id, g.version)
    with reg.db.read() as s:
        email, pending, n_inv = busiest_declarant(s)
    if pending < 2 * args.clics:
        raise SystemExit(f"{email} n'a que {pending} invitations en attente")
    reg.definir_mot_de_passe(admin, email, PASSWORD)
    if reg.db.is_sqlite:  # the copies are copies of the file: everything in it
        with reg.db.engine.connect() as c:
            c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    reg.db.dispose()
    return Base(url, email, pending, args.clics, len(run.grappes), n_inv)


def busiest_declarant(s) -> tuple[str, int, int]:
    """The account with the most pending invitations, their number, and all invitations."""
    email, pending = s.execute(
        select(Compte.email, func.count(Invitation.id))
        .join(Declaration, Declaration.compte_id == Compte.id)
        .join(Invitation, Invitation.declaration_id == Declaration.id)
        .where(Invitation.statut == "en_attente")
        .group_by(Compte.email).order_by(func.count(Invitation.id).desc())).first()
    return email, pending, s.scalar(select(func.count()).select_from(Invitation))


def describe(base: Base) -> str:
    return (f"{base.grappes} grappes dont {base.proposees} proposées, {base.invitations} "
            f"invitations ; {base.declarant} : {base.en_attente} en attente")


def base_info(url: str) -> Base:
    """The facts of a base built before (``--base`` reused)."""
    reg = Registry(url)
    with reg.db.read() as s:
        email, pending, n_inv = busiest_declarant(s)
        n_g = s.scalar(text("SELECT count(*) FROM grappes"))
        n_prop = s.scalar(text("SELECT count(*) FROM grappes WHERE statut = 'proposee'"))
    reg.db.dispose()
    return Base(url, email, pending, n_prop, n_g, n_inv)


@dataclass
class Mesure:
    """The clicks of one action, each cut in three by the clocks of the page and the server
    (same machine): from the click to the start of the server's run (websocket, queue), the
    run(s) on the server, from the end of the run to the confirmation drawn (the browser)."""

    navigateur: list[float] = field(default_factory=list)  # click -> confirmation visible
    avant_serveur: list[float] = field(default_factory=list)
    serveur_mur: list[float] = field(default_factory=list)
    serveur_cpu: list[float] = field(default_factory=list)
    apres_serveur: list[float] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)


def runs_since(log: Path, since: float) -> list[dict]:
    if not log.exists():
        return []
    lines = [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines() if x]
    return [r for r in lines if r["fin"] >= since]


#: the page's clock (epoch ms) at the next click, caught before any handler of the page
ARM = """() => { window.__clic = null; document.addEventListener('click',
    () => { window.__clic = performance.timeOrigin + performance.now(); },
    {capture: true, once: true}); }"""


#: resolves once the browser has drawn 10 frames in a row less than 100 ms apart: done
#: with the previous action (a map or a long table drawn after its run ended counts there)
CALM = """() => new Promise(done => { let last = performance.now(), calm = 0;
    const frame = t => { calm = t - last < 100 ? calm + 1 : 0; last = t;
                         if (calm >= 10) done(true); else requestAnimationFrame(frame); };
    requestAnimationFrame(frame); })"""


def timed_click(page, url, log: Path, click, needle: str, m: Mesure,
                wait_idle, more: int = 1) -> None:
    """Once the browser is calm, ``click()``, then wait until ``needle`` shows ``more``
    more times (visible, not stale), both instants taken by the page's own clock (the click
    event, then the first animation frame showing it): the user's wait. Then the server's
    runs that ended since."""
    page.evaluate(CALM)
    before = page.evaluate(COUNT, needle)
    page.evaluate(ARM)
    since = time.time()
    click()
    seen = page.wait_for_function(
        f"(n) => ({COUNT})(n[0]) >= n[1] && performance.timeOrigin + performance.now()",
        arg=[needle, before + more], polling="raf", timeout=T).json_value()
    clicked = page.evaluate("() => window.__clic")
    m.navigateur.append((seen - clicked) / 1000)
    wait_idle(page, url)  # the run has ended (and logged itself)
    page.wait_for_timeout(200)
    runs = runs_since(log, since)
    m.serveur_mur.append(sum(r["mur_s"] for r in runs))
    m.serveur_cpu.append(sum(r["cpu_s"] for r in runs))
    if runs:
        m.avant_serveur.append(runs[0]["fin"] - runs[0]["mur_s"] - clicked / 1000)
        m.apres_serveur.append(seen / 1000 - runs[-1]["fin"])
    m.runs.append("+".join("fragment" if r["fragment"] else "page" for r in runs) or "aucun")
    say(f"  {needle} : {seen - clicked:.0f} ms ; serveur "
        + ", ".join(f"{'fragment' if r['fragment'] else 'page'} {1000 * r['mur_s']:.0f} ms "
                    f"de {1000 * (r['fin'] - r['mur_s']) - clicked:.0f} à "
                    f"{1000 * r['fin'] - clicked:.0f} ms" for r in runs))


def fresh(page, role: str, name: str):
    """The first button ``name`` of the current run (not a stale copy)."""
    return page.locator('[data-testid="stElementContainer"]:not([data-stale="true"])') \
        .get_by_role(role, name=name, exact=True).first


def measure_app(root: Path, url_db: str, base: Base, args) -> dict[str, Mesure]:
    """Start the app of ``root`` on ``url_db``; the clicks of each action."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.streamlit_server import BROWSER_ARGS, CHROMIUM, streamlit_app, wait_idle

    out = {k: Mesure() for k in ("ouvrir « Mes invitations »", "Accepter", "Décliner",
                                 "ouvrir « Grappes et invitations » (coordinateur)",
                                 "Envoyer les invitations (coordinateur)")}
    with tempfile.TemporaryDirectory(prefix="banc-page-") as tmp:
        log = Path(tmp) / "runs.jsonl"
        env = {"GRAPPES_DB_URL": url_db, "GRAPPES_CHRONO_RUNS": str(log)}
        if args.profil:
            env["GRAPPES_CHRONO_PROFIL"] = args.profil
        launcher = [sys.executable, str(ROOT / "bench" / "streamlit_chrono.py")]
        with streamlit_app("Mise_en_relation", env, timeout=120, launcher=launcher,
                           root=root) as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
            try:
                page = login(browser, url, base.declarant, wait_idle)
                for _ in range(args.clics if "declarant" in args.roles else 0):
                    page.get_by_role("tab", name="Ma déclaration").click()
                    wait_idle(page, url)
                    timed_click(page, url, log,
                                lambda: page.get_by_role("tab", name="Mes invitations").click(),
                                "invitation :", out["ouvrir « Mes invitations »"], wait_idle)
                for label, done in (("Accepter", "invitation : acceptée"),
                                    ("Décliner", "invitation : déclinée")):
                    for _ in range(args.clics if "declarant" in args.roles else 0):
                        timed_click(page, url, log, fresh(page, "button", label).click, done,
                                    out[label], wait_idle)
                page.context.close()
                if "coordinateur" not in args.roles:
                    return {k: v for k, v in out.items() if v.navigateur}
                page = login(browser, url, COORD, wait_idle)
                for _ in range(args.clics):
                    page.get_by_role("tab", name="Appariement").click()
                    wait_idle(page, url)
                    timed_click(page, url, log,
                                lambda: page.get_by_role(
                                    "tab", name="Grappes et invitations").click(),
                                "Modifier une grappe proposée",  # under the cards
                                out["ouvrir « Grappes et invitations » (coordinateur)"],
                                wait_idle)
                for _ in range(args.clics):
                    timed_click(page, url, log,
                                fresh(page, "button", "Envoyer les invitations").click,
                                "invitation(s) envoyée(s).",
                                out["Envoyer les invitations (coordinateur)"], wait_idle)
                page.context.close()
            finally:
                browser.close()
    return {k: v for k, v in out.items() if v.navigateur}


def login(browser, url: str, email: str, wait_idle):
    from tests.e2e.streamlit_server import login as registry_login

    page = registry_login(browser, url, email, PASSWORD, T)
    wait_idle(page, url, T)
    return page


def ms(x: float) -> str:
    return integer_fr(round(1000 * x))


def med(values: list[float]) -> str:
    return ms(statistics.median(values)) if values else "—"


def rows_of(label: str, results: dict[str, Mesure]) -> list[list[str]]:
    out = []
    for action, m in results.items():
        kinds = sorted(set(m.runs))
        out.append([label, action, str(len(m.navigateur)),
                    f"{ms(statistics.median(m.navigateur))} / {ms(max(m.navigateur))}",
                    f"{ms(statistics.median(m.serveur_mur))} / "
                    f"{ms(statistics.median(m.serveur_cpu))}",
                    med(m.avant_serveur), med(m.apres_serveur),
                    ", ".join(kinds),
                    "oui" if max(m.navigateur) < 1 else "non"])
    return out


def apps(args) -> list[tuple[str, Path]]:
    out = [("avant", Path(args.avant).resolve())] if args.avant else []
    return [*out, ("après" if args.avant else "ce code", ROOT)]


def run_sqlite(args) -> list[list[str]]:
    base_file = Path(args.base)
    if not base_file.exists():
        base_file.parent.mkdir(parents=True, exist_ok=True)
        say(f"[SQLite] construction de {base_file}…")
        build(f"sqlite:///{base_file}", args)
    base = base_info(f"sqlite:///{base_file}")
    say(f"[SQLite] {describe(base)}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="banc-page-db-") as tmp:
        for rep in range(args.repetitions):
            for label, root in apps(args):
                db = Path(tmp) / f"r{rep}-{label}.db"
                shutil.copyfile(base_file, db)
                say(f"[SQLite] {label}, répétition {rep + 1}…")
                rows += rows_of(f"SQLite, {label}",
                                measure_app(root, f"sqlite:///{db}", base, args))
    return rows


def run_postgresql(args) -> list[list[str]]:
    server_url = os.environ.get("GRAPPES_BENCH_PG_URL") or os.environ.get("GRAPPES_TEST_PG_URL")
    if not server_url:
        say("[PostgreSQL] ni GRAPPES_BENCH_PG_URL ni GRAPPES_TEST_PG_URL : non mesuré")
        return []
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")

    def url_of(db: str) -> str:
        return make_url(server_url).set(database=db).render_as_string(hide_password=False)

    def sql(statement: str) -> None:
        with admin.connect() as c:
            c.execute(text(statement))

    rows = []
    try:
        sql("DROP DATABASE IF EXISTS grappes_banc_page WITH (FORCE)")
        sql("CREATE DATABASE grappes_banc_page")
        say("[PostgreSQL] construction…")
        build(url_of("grappes_banc_page"), args)
        base = base_info(url_of("grappes_banc_page"))
        say(f"[PostgreSQL] {describe(base)}")
        for rep in range(args.repetitions):
            for label, root in apps(args):
                sql("DROP DATABASE IF EXISTS grappes_banc_page_run WITH (FORCE)")
                sql("CREATE DATABASE grappes_banc_page_run TEMPLATE grappes_banc_page")
                say(f"[PostgreSQL] {label}, répétition {rep + 1}…")
                rows += rows_of(f"PostgreSQL, {label}",
                                measure_app(root, url_of("grappes_banc_page_run"), base, args))
        sql("DROP DATABASE IF EXISTS grappes_banc_page_run WITH (FORCE)")
        sql("DROP DATABASE IF EXISTS grappes_banc_page WITH (FORCE)")
    finally:
        admin.dispose()
    return rows


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--declarations", type=int, default=5000)
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--clics", type=int, default=5, help="clicks of each action (N)")
    ap.add_argument("--time-limit", type=float, default=30.0)
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--base", default=str(Path(tempfile.gettempdir())
                                          / "grappes-banc-page-5000.db"),
                    help="SQLite base built once and reused (its copies are measured)")
    ap.add_argument("--avant", default="",
                    help="another checkout of the app, measured before this one each time")
    ap.add_argument("--repetitions", type=int, default=1)
    ap.add_argument("--roles", default="declarant,coordinateur",
                    help="whose clicks are timed (declarant, coordinateur)")
    ap.add_argument("--profil", default="",
                    help="folder: a cProfile of every server run (slows them: not timed)")
    args = ap.parse_args()
    load_before = loadavg()
    rows = []
    for backend in args.backends.split(","):
        rows += run_sqlite(args) if backend == "sqlite" else run_postgresql(args)
    from bench.metrics import markdown_table

    print(markdown_table(
        ["base, code", "action", "clics", "navigateur médiane / pire (ms)",
         "serveur médiane mur / CPU (ms)", "clic → serveur (ms)", "serveur → affiché (ms)",
         "exécutions", "< 1 s"], rows))
    print(f"\ncharge (/proc/loadavg, 1/5/15 min) : avant {load_before}, après {loadavg()}")


if __name__ == "__main__":
    main()
