"""Benchmark of the « mise en relation » registry on SQLite and PostgreSQL (issue 13).

Not a test. Run from the repository root::

    PYTHONPATH=. python bench/bench_registry.py [--declarations 5000] [--sessions 50]
        [--rounds 5] [--accept 10] [--backends sqlite,postgresql] [--time-limit 30]

For each backend, on a fresh database:

1. builds a CSV of ``--declarations`` declarations of one région (synthetic Auvergne-Rhône-
   Alpes, one declared ESMS per row, contacts spread over ``--sessions`` déclarant accounts)
   and imports it through the API (``importer_csv``), timed;
2. matches the région (``apparier``, the existing solver), timed, and sends every invitation;
3. runs ``--sessions`` threads, each logged in as one déclarant, for ``--rounds`` rounds:
   read its invitations (timed), then accept up to ``--accept`` pending ones (each timed);
4. checks that nothing is lost: declarations and invitations counted before and after,
   every successful acceptance present in the database, and every grappe whose members all
   accepted in state « acceptée » (no lost update of the grappe's state).

PostgreSQL: ``GRAPPES_BENCH_PG_URL``, else a throw-away server (``tests/registry/pgserver``).
Prints one table.
"""

from __future__ import annotations

import argparse
import os
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

from matching.registry import Registry  # noqa: E402
from matching.registry.models import Declaration, GrappeProposee, Invitation  # noqa: E402

PASSWORD = "banc-d-essai-2026"
REGION = "84"


def declarations_csv(n: int, sessions: int, seed: int = 1) -> tuple[bytes, int]:
    from matching.synthetic import generate

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


def run_backend(name: str, url: str, args, csv: bytes, n_decl: int) -> dict[str, str]:
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
    say(f"[{name}] invitations : {t_invite:.1f} s ; sessions concurrentes…")

    tokens = []
    for i in range(args.sessions):
        email = f"declarant{i}@banc.fr"
        reg.definir_mot_de_passe(admin, email, PASSWORD)
        tokens.append(reg.connexion(email, PASSWORD).jeton)
    before = counts(reg)

    read_lat: list[float] = []
    accept_lat: list[float] = []
    accepted: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(args.sessions)

    def session(tok: str) -> None:
        barrier.wait()
        for _ in range(args.rounds):
            try:
                t = time.perf_counter()
                invs = reg.mes_invitations(tok)
                dt = time.perf_counter() - t
                pending = [i.id for i in invs if i.statut == "en_attente"][: args.accept]
                mine_lat, mine_ok = [], []
                for inv_id in pending:
                    t = time.perf_counter()
                    reg.repondre(tok, inv_id, True)
                    mine_lat.append(time.perf_counter() - t)
                    mine_ok.append(inv_id)
                with lock:
                    read_lat.append(dt)
                    accept_lat.extend(mine_lat)
                    accepted.extend(mine_ok)
            except Exception as exc:  # reported in the table, never hidden
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=session, args=(tok,)) for tok in tokens]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0
    after = counts(reg)
    ops = len(read_lat) + len(accept_lat)
    ok = (before["declarations"] == after["declarations"] == n_decl
          and before["invitations"] == after["invitations"]
          and after["acceptees"] - before["acceptees"] == len(accepted) == len(set(accepted))
          and lost_grappe_states(reg) == 0 and not errors)
    reg.db.dispose()
    return {
        "base": name,
        "déclarations": str(n_decl),
        "import (s)": f"{t_import:.1f}",
        "appariement (s)": f"{t_match:.1f}",
        "grappes": str(len(run.grappes)),
        "invitations": str(after["invitations"]),
        "envoi (s)": f"{t_invite:.1f}",
        "sessions × tours": f"{args.sessions} × {args.rounds}",
        "opérations/s": f"{ops / wall:.1f}",
        "lecture p50/p95 (ms)": f"{1000 * pct(read_lat, .5):.0f} / {1000 * pct(read_lat, .95):.0f}",
        "acceptation p50/p95 (ms)": (f"{1000 * pct(accept_lat, .5):.0f} / "
                                     f"{1000 * pct(accept_lat, .95):.0f}"),
        "acceptations": str(len(accepted)),
        "rien de perdu": "oui" if ok else f"NON ({len(errors)} erreurs: {errors[:2]})",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--declarations", type=int, default=5000)
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--accept", type=int, default=10)
    ap.add_argument("--time-limit", type=float, default=30.0)
    ap.add_argument("--backends", default="sqlite,postgresql")
    args = ap.parse_args()

    csv, n_decl = declarations_csv(args.declarations, args.sessions)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            if backend == "sqlite":
                results.append(run_backend("SQLite", f"sqlite:///{tmp}/banc.db", args, csv,
                                           n_decl))
                continue
            server = None
            base = os.environ.get("GRAPPES_BENCH_PG_URL")
            if not base:
                from tests.registry.pgserver import PgServer

                server = PgServer()
                base = server.start()
            try:
                admin = create_engine(base, isolation_level="AUTOCOMMIT")
                with admin.connect() as c:
                    c.execute(text("DROP DATABASE IF EXISTS grappes_banc WITH (FORCE)"))
                    c.execute(text("CREATE DATABASE grappes_banc"))
                url = make_url(base).set(database="grappes_banc").render_as_string(
                    hide_password=False)
                results.append(run_backend("PostgreSQL", url, args, csv, n_decl))
                with admin.connect() as c:
                    c.execute(text("DROP DATABASE IF EXISTS grappes_banc WITH (FORCE)"))
                admin.dispose()
            finally:
                if server is not None:
                    server.stop()
    from bench.metrics import markdown_table

    keys = [k for k in results[0] if k != "base"]
    rows = [[k, *(r[k] for r in results)] for k in keys]
    print(markdown_table(["mesure", *(r["base"] for r in results)], rows))


if __name__ == "__main__":
    main()
