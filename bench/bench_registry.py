"""Benchmark of the « mise en relation » registry on SQLite and PostgreSQL (issues 13, 19).

Not a test. Run from the repository root::

    PYTHONPATH=. python bench/bench_registry.py [--declarations 5000] [--sessions 50]
        [--rounds 5] [--accept 10] [--backends sqlite,postgresql] [--time-limit 30]
        [--processes 10] [--a-froid]

For each backend, on a fresh database:

1. builds a CSV of ``--declarations`` declarations of one région (synthetic Auvergne-Rhône-
   Alpes, one declared ESMS per row, contacts spread over ``--sessions`` déclarant accounts)
   and imports it through the API (``importer_csv``), timed;
2. matches the région (``apparier``, the existing solver), timed, sends every invitation and
   signs each déclarant in ONCE (argon2 runs at sign-in only, never per read);
3. on a copy of that database, runs ``--sessions`` sessions, each as one déclarant, for
   ``--rounds`` rounds: read its invitations (timed), then accept up to ``--accept`` pending
   ones (each timed). Twice, each time on a fresh copy: as threads of one process, then
   spread over ``--processes`` spawned worker processes (each runs its share of the sessions
   as threads; the latencies are gathered), so that the GIL neither hides nor makes the
   cost (``--processes 0``: threads only). Each process warms its views' cache first
   (``Registry.prechauffer``, as the registry page does when its process starts; not timed;
   ``--a-froid``: not warmed, the first round reads on a cold cache);
4. checks that nothing is lost: declarations and invitations counted before and after,
   every successful acceptance present in the database, and every grappe whose members all
   accepted in state « acceptée » (no lost update of the grappe's state).

PostgreSQL: ``GRAPPES_BENCH_PG_URL``, else a throw-away server (``tests/registry/pgserver``);
the copies are ``CREATE DATABASE … TEMPLATE``. Prints one table (one column per backend and
mode).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grappes.registry import Registry  # noqa: E402
from grappes.registry.models import Declaration, GrappeProposee, Invitation  # noqa: E402

PASSWORD = "banc-d-essai-2026"
REGION = "84"


def declarations_csv(n: int, sessions: int, seed: int = 1) -> tuple[bytes, int]:
    from grappes.synthetic import generate

    data = generate([REGION], seed=seed, include_overseas=False)
    e = data.etablissements
    e = e[(e["champ"] != "hors_champ") & (~e["sanitaire"].astype(bool))].head(n)
    if len(e) < n:
        msg = f"la région synthétique n'a que {len(e)} ESMS dans le champ"
        raise SystemExit(msg)
    rows = pd.DataFrame({
        "declaration": [f"D{i}" for i in range(len(e))],
        "finess_ej": e["nofinessej"].to_numpy(),
        "finess_et": e["nofinesset"].to_numpy(),
        "champ": e["champ"].to_numpy(),
        "commune": e["commune_insee"].to_numpy(),
        "raison_sociale": e["rs"].to_numpy(),
        "contact_nom": [f"Contact {i % sessions}" for i in range(len(e))],
        "contact_email": [f"declarant{i % sessions}@banc.fr" for i in range(len(e))],
        "consentement": "oui",
        "porteur": "possible",
    })  # fmt: skip
    # one declaration per row (column ``declaration``): each ESMS declares for itself
    return rows.to_csv(sep=";", index=False).encode("utf-8-sig"), len(rows)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(q * (len(values) - 1))))
    return values[k]


def counts(reg: Registry) -> dict[str, int]:
    with reg.db.read() as s:
        return {
            "declarations": s.scalar(select(func.count()).select_from(Declaration)),
            "invitations": s.scalar(select(func.count()).select_from(Invitation)),
            "acceptees": s.scalar(select(func.count()).select_from(Invitation)
                                  .where(Invitation.statut == "acceptee")),
        }


def lost_grappe_states(reg: Registry) -> int:
    """Grappes whose invitations are all accepted but whose state says otherwise."""
    bad = 0
    with reg.db.read() as s:
        for g in s.scalars(select(GrappeProposee)):
            invs = list(g.invitations)
            if invs and all(i.statut == "acceptee" for i in invs) and g.statut != "acceptee":
                bad += 1
    return bad


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _session(reg: Registry, tok: str, rounds: int, accept: int, out: dict) -> None:
    """One déclarant: ``rounds`` times, read its invitations (timed), then accept up to
    ``accept`` pending ones (each timed). Results appended to ``out`` (under its lock)."""
    for _ in range(rounds):
        try:
            t = time.perf_counter()
            invs = reg.mes_invitations(tok)
            dt = time.perf_counter() - t
            pending = [i.id for i in invs if i.statut == "en_attente"][:accept]
            mine_lat, mine_ok = [], []
            for inv_id in pending:
                t = time.perf_counter()
                reg.repondre(tok, inv_id, True)
                mine_lat.append(time.perf_counter() - t)
                mine_ok.append(inv_id)
            with out["lock"]:
                out["read"].append(dt)
                out["accept"].extend(mine_lat)
                out["accepted"].extend(mine_ok)
        except Exception as exc:  # reported in the table, never hidden
            with out["lock"]:
                out["errors"].append(f"{type(exc).__name__}: {exc}")


def _run_threads(reg: Registry, tokens: list[str], rounds: int, accept: int,
                 start=None) -> dict:
    """Every session of ``tokens`` in its own thread of this process; all start together
    (``start``: a barrier shared with the parent process, else a local one)."""
    out = {"lock": threading.Lock(), "read": [], "accept": [], "accepted": [], "errors": []}
    local = threading.Barrier(len(tokens))

    def run(tok: str) -> None:
        local.wait()
        _session(reg, tok, rounds, accept, out)

    threads = [threading.Thread(target=run, args=(tok,)) for tok in tokens]
    if start is not None:
        start.wait()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    del out["lock"]
    return out


def _worker(url: str, tokens: list[str], rounds: int, accept: int, start, results,
            warm: bool = True) -> None:
    """A worker PROCESS (spawned): its own registry and connections, its sessions as
    threads; waits for every worker to be ready, then sends its latencies back."""
    reg = Registry(url)
    reg.db.check_schema()
    if warm:
        reg.prechauffer()  # as the registry page does when its process starts
    try:
        results.put(_run_threads(reg, tokens, rounds, accept, start))
    except Exception as exc:  # a broken worker must not hang the parent
        results.put({"read": [], "accept": [], "accepted": [],
                     "errors": [f"{type(exc).__name__}: {exc}"]})
    finally:
        reg.db.dispose()


def run_sessions(url: str, tokens: list[str], args, processes: int) -> tuple[dict, float]:
    """The concurrent phase: threads of this process (``processes == 0``) or ``processes``
    spawned worker processes sharing the sessions out. Returns the latencies and the wall
    time from the common start to the last session's end."""
    if processes <= 0:
        reg = Registry(url)
        if not args.a_froid:
            reg.prechauffer()  # as the registry page does when its process starts
        t0 = time.perf_counter()
        out = _run_threads(reg, tokens, args.rounds, args.accept)
        wall = time.perf_counter() - t0
        reg.db.dispose()
        return out, wall
    ctx = mp.get_context("spawn")
    n = min(processes, len(tokens))
    start = ctx.Barrier(n + 1)
    results = ctx.Queue()
    workers = [ctx.Process(target=_worker, args=(url, tokens[i::n], args.rounds, args.accept,
                                                 start, results, not args.a_froid))
               for i in range(n)]
    for w in workers:
        w.start()
    start.wait()  # every worker has imported, connected and is ready
    t0 = time.perf_counter()
    parts = [results.get() for _ in workers]
    wall = time.perf_counter() - t0
    for w in workers:
        w.join()
    out = {"read": [], "accept": [], "accepted": [], "errors": []}
    for part in parts:
        for key in out:
            out[key].extend(part[key])
    return out, wall


def setup(name: str, url: str, args, csv: bytes, n_decl: int) -> tuple[dict[str, str],
                                                                      list[str]]:
    """A fresh registry: import, matching, every invitation sent, one session per
    déclarant (signed in once: argon2 runs here, never per read)."""
    reg = Registry(url)
    reg.init()
    reg.creer_compte(None, "admin@banc.fr", "admin", PASSWORD)
    admin = reg.connexion("admin@banc.fr", PASSWORD).jeton
    reg.creer_compte(admin, "coord@banc.fr", "coordinateur", PASSWORD, [f"R{REGION}"])
    coord = reg.connexion("coord@banc.fr", PASSWORD).jeton

    t0 = time.perf_counter()
    rep = reg.importer_csv(coord, csv)
    t_import = time.perf_counter() - t0
    say(f"[{name}] import : {t_import:.1f} s")
    assert len(rep.chargees) == n_decl, (len(rep.chargees), rep.rejets[:5])

    t0 = time.perf_counter()
    run = reg.apparier(coord, [f"R{REGION}"], time_limit=args.time_limit)
    t_match = time.perf_counter() - t0
    say(f"[{name}] appariement : {t_match:.1f} s, {len(run.grappes)} grappes")
    t0 = time.perf_counter()
    for g in run.grappes:
        reg.inviter(coord, g.id, g.version)
    t_invite = time.perf_counter() - t0
    say(f"[{name}] invitations : {t_invite:.1f} s")

    tokens = []
    for i in range(args.sessions):
        email = f"declarant{i}@banc.fr"
        reg.definir_mot_de_passe(admin, email, PASSWORD)
        tokens.append(reg.connexion(email, PASSWORD).jeton)
    n_inv = counts(reg)["invitations"]
    if reg.db.is_sqlite:  # the snapshot is a copy of the file: everything in it
        with reg.db.engine.connect() as c:
            c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    reg.db.dispose()
    return {
        "déclarations": str(n_decl),
        "import (s)": f"{t_import:.1f}",
        "appariement (s)": f"{t_match:.1f}",
        "grappes": str(len(run.grappes)),
        "invitations": str(n_inv),
        "envoi (s)": f"{t_invite:.1f}",
    }, tokens


def measure(url: str, tokens: list[str], args, processes: int, n_decl: int) -> dict[str, str]:
    """One concurrent phase on a copy of the set-up registry, and its checks."""
    reg = Registry(url)
    before = counts(reg)
    reg.db.dispose()
    out, wall = run_sessions(url, tokens, args, processes)
    reg = Registry(url)
    after = counts(reg)
    read_lat, accept_lat, accepted, errors = (out["read"], out["accept"], out["accepted"],
                                              out["errors"])
    ops = len(read_lat) + len(accept_lat)
    ok = (before["declarations"] == after["declarations"] == n_decl
          and before["invitations"] == after["invitations"]
          and after["acceptees"] - before["acceptees"] == len(accepted) == len(set(accepted))
          and lost_grappe_states(reg) == 0 and not errors)
    reg.db.dispose()
    how = (f"{processes} processus" if processes > 0 else "fils") \
        + (", cache froid" if args.a_froid else ", cache préchauffé")
    return {
        "sessions × tours": f"{args.sessions} × {args.rounds} ({how})",
        "opérations/s": f"{ops / wall:.1f}",
        "lecture p50/p95 (ms)": f"{1000 * pct(read_lat, .5):.0f} / {1000 * pct(read_lat, .95):.0f}",
        "acceptation p50/p95 (ms)": (f"{1000 * pct(accept_lat, .5):.0f} / "
                                     f"{1000 * pct(accept_lat, .95):.0f}"),
        "acceptations": str(len(accepted)),
        "rien de perdu": "oui" if ok else f"NON ({len(errors)} erreurs: {errors[:2]})",
    }


def modes(args) -> list[int]:
    """0 = threads; N > 0 = N worker processes."""
    return [int(x) for x in str(args.modes).split(",") if x.strip()]


def run_sqlite(tmp: str, args, csv: bytes, n_decl: int) -> list[dict[str, str]]:
    ref = Path(tmp) / "banc-reference.db"
    head, tokens = setup("SQLite", f"sqlite:///{ref}", args, csv, n_decl)
    rows = []
    for k, processes in enumerate(modes(args)):
        db = Path(tmp) / f"banc-{k}.db"
        shutil.copyfile(ref, db)
        say(f"[SQLite] sessions concurrentes ({processes or 'fils'})…")
        rows.append({"base": f"SQLite, {'fils' if not processes else f'{processes} proc.'}",
                     **head, **measure(f"sqlite:///{db}", tokens, args, processes, n_decl)})
    return rows


def run_postgresql(args, csv: bytes, n_decl: int) -> list[dict[str, str]]:
    server = None
    base = os.environ.get("GRAPPES_BENCH_PG_URL")
    if not base:
        from tests.registry.pgserver import PgServer

        server = PgServer()
        base = server.start()
    rows = []
    try:
        admin = create_engine(base, isolation_level="AUTOCOMMIT")

        def url_of(db: str) -> str:
            return make_url(base).set(database=db).render_as_string(hide_password=False)

        def drop(db: str) -> None:
            with admin.connect() as c:
                c.execute(text(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"))

        drop("grappes_banc")
        with admin.connect() as c:
            c.execute(text("CREATE DATABASE grappes_banc"))
        head, tokens = setup("PostgreSQL", url_of("grappes_banc"), args, csv, n_decl)
        for processes in modes(args):
            drop("grappes_banc_run")
            with admin.connect() as c:  # a copy of the set-up registry for each mode
                c.execute(text("CREATE DATABASE grappes_banc_run TEMPLATE grappes_banc"))
            say(f"[PostgreSQL] sessions concurrentes ({processes or 'fils'})…")
            rows.append({"base": f"PostgreSQL, {'fils' if not processes else f'{processes} proc.'}",
                         **head, **measure(url_of("grappes_banc_run"), tokens, args, processes,
                                           n_decl)})
        drop("grappes_banc_run")
        drop("grappes_banc")
        admin.dispose()
    finally:
        if server is not None:
            server.stop()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--declarations", type=int, default=5000)
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--accept", type=int, default=10)
    ap.add_argument("--time-limit", type=float, default=30.0)
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--processes", type=int, default=10,
                    help="worker processes of the second measure (0: threads only)")
    ap.add_argument("--a-froid", action="store_true",
                    help="do not warm each process's views' cache before the measure "
                         "(Registry.prechauffer, which the registry page calls at start)")
    args = ap.parse_args()
    args.modes = "0" if args.processes <= 0 else f"0,{args.processes}"

    csv, n_decl = declarations_csv(args.declarations, args.sessions)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            if backend == "sqlite":
                results.extend(run_sqlite(tmp, args, csv, n_decl))
            else:
                results.extend(run_postgresql(args, csv, n_decl))
    from bench.metrics import markdown_table

    keys = [k for k in results[0] if k != "base"]
    rows = [[k, *(r[k] for r in results)] for k in keys]
    print(markdown_table(["mesure", *(r["base"] for r in results)], rows))


if __name__ == "__main__":
    main()
