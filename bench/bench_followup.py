"""Benchmark of the follow-up (issue 14) on SQLite and PostgreSQL. Prints a table.

1. Import 24 months x 2,000 ESMS: (a) 200 grappes of 10 ESMS, one CSV each (240 rows per
   import, each a checked, audited, one-transaction API call); (b) one grappe of 2,000 ESMS
   in one CSV (48,000 rows). Ratio to a plain ``pandas.read_csv`` of the same files.
2. The ARS région dashboard over those 200 grappes: every grappe evaluated (rates,
   attainment, Theil-Sen forecasts, tranche states) plus the dashboard tables.

    python bench/bench_followup.py [--pg-url URL]   # default: a throw-away PostgreSQL
    python bench/bench_followup.py --grappes 20 --bases sqlite   # a quick run

The machine may be shared: besides wall seconds the table gives the process's CPU seconds
(``time.process_time``), which other programs' load does not inflate.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grappes.core.formatting import integer_fr
from grappes.followup.csv_import import COLUMNS
from grappes.followup.export import calendar_frame, flags_frame, grappes_frame
from grappes.followup.model import Member, build_funded_grappe
from grappes.followup.store import Suivi
from grappes.programme.rules import load_rules
from grappes.registry import Registry

PW = "mot-de-passe-solide"
MONTHS, PER_GRAPPE = 24, 10
SIGNATURE = date(2022, 1, 10)
TODAY = datetime(2024, 3, 5, 9, 0)


def finess(i: int) -> str:
    return f"{180000000 + i:09d}"


def csv_for(members: list[str], rng: np.random.Generator) -> bytes:
    rows = [";".join(COLUMNS)]
    for f in members:
        persons = int(rng.integers(30, 120))
        speed = rng.uniform(0.01, 0.06)
        for k in range(MONTHS):
            m = date(2022 + k // 12, k % 12 + 1, 1)
            share = min(1.0, 0.4 + speed * k + rng.normal(0, 0.02))
            actifs = max(0, min(persons, round(persons * share)))
            rows.append(";".join(map(str, [
                f, f"{m:%Y-%m}", persons, round(persons * share * 0.9), round(actifs * 0.8),
                actifs, round(actifs * min(1, share + 0.05)), round(actifs * min(1, share)),
            ])))
    return ("\n".join(rows) + "\n").encode()


def run(url: str, label: str, n_grappes: int) -> list[tuple[str, str, float, float, float]]:
    reg = Registry(url, clock=lambda: TODAY)
    reg.init()
    reg.creer_compte(None, "admin@b.fr", "admin", PW)
    admin = reg.connexion("admin@b.fr", PW).jeton
    reg.creer_compte(admin, "ars@b.fr", "ars", PW, ["R24"])
    reg.creer_compte(admin, "ars11@b.fr", "ars", PW, ["R11"])
    reg.creer_compte(admin, "p@b.fr", "declarant", PW)
    ars, porteur = reg.connexion("ars@b.fr", PW).jeton, reg.connexion("p@b.fr", PW).jeton
    suivi = Suivi(reg)
    rules = load_rules("generalisation-2022")
    rng = np.random.default_rng(14)
    files: dict[str, bytes] = {}
    for gi in range(n_grappes):
        ids = [finess(gi * PER_GRAPPE + j) for j in range(PER_GRAPPE)]
        members = [Member(f, f"ESMS {f}", "180999999",
                          "acquisition" if j % 2 else "conformite", "18")
                   for j, f in enumerate(ids)]
        code = f"B-{gi:03d}"
        suivi.enregistrer(ars, build_funded_grappe(code, rules, SIGNATURE, members, 150_000,
                                                    region="24"), ["p@b.fr"])
        files[code] = csv_for(ids, rng)
    big_ids = [finess(10_000 + i) for i in range(n_grappes * PER_GRAPPE)]
    big = [Member(f, "", "", "acquisition", "18") for f in big_ids]
    ars11 = reg.connexion("ars11@b.fr", PW).jeton
    suivi.enregistrer(ars11, build_funded_grappe("B-BIG", rules, SIGNATURE, big, 1e7,
                                               region="11"), ["p@b.fr"])
    big_csv = csv_for(big_ids, rng)

    with Timer() as pd_many:
        for data in files.values():
            pd.read_csv(io.BytesIO(data), sep=";")
    with Timer() as many:
        for code, data in files.items():
            assert suivi.importer(porteur, code, data).ok

    with Timer() as pd_big:
        pd.read_csv(io.BytesIO(big_csv), sep=";")
    with Timer() as big_t:
        res = suivi.importer(porteur, "B-BIG", big_csv)
    assert res.ok and res.written == MONTHS * n_grappes * PER_GRAPPE

    with Timer() as pd_dash:  # the same figures as the dashboard reads, plainly
        for data in files.values():
            pd.read_csv(io.BytesIO(data), sep=";")
    with Timer() as dash:
        states = suivi.mes_grappes(ars, "24", as_of=TODAY.date())
        grappes_frame(states)
        flags_frame(states)
        calendar_frame(states)
    assert len(states) == n_grappes
    at_risk = sum(s.at_risk for s in states)
    reg.db.dispose()
    rows = n_grappes * PER_GRAPPE * MONTHS
    n = integer_fr(rows)
    return [
        (label, f"import {n_grappes} CSV x 240 lignes ({n} lignes)", many.wall, many.cpu,
         many.wall / pd_many.wall),
        (label, f"import 1 CSV de {n} lignes", big_t.wall, big_t.cpu, big_t.wall / pd_big.wall),
        (label, f"tableau ARS, {n_grappes} grappes ({at_risk} à risque)", dash.wall, dash.cpu,
         dash.wall / pd_dash.wall),
    ]


class Timer:
    """Wall and CPU seconds of a ``with`` block."""

    def __enter__(self) -> Timer:
        self._w, self._c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._w
        self.cpu = time.process_time() - self._c


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pg-url", default=None, help="PostgreSQL URL (default: a throw-away server)")
    ap.add_argument("--grappes", type=int, default=200, help="grappes of 10 ESMS (default 200)")
    ap.add_argument("--bases", choices=["both", "sqlite", "postgresql"], default="both")
    args = ap.parse_args()
    rows = []
    if args.bases in ("both", "sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            rows += run(f"sqlite:///{Path(tmp) / 'bench.db'}", "SQLite", args.grappes)
    if args.bases == "sqlite":
        _print(rows)
        return
    server = None
    url = args.pg_url
    if url is None:
        from tests.registry.pgserver import PgServer

        server = PgServer()
        url = server.start()
    try:
        rows += run(url, "PostgreSQL", args.grappes)
    finally:
        if server is not None:
            server.stop()
    _print(rows)


def _print(rows: list[tuple[str, str, float, float, float]]) -> None:
    print(f"{'base':<11} {'mesure':<46} {'s (mur)':>8} {'s (CPU)':>8} {'x read_csv':>11}")
    for base, what, secs, cpu, ratio in rows:
        r = integer_fr(ratio)
        print(f"{base:<11} {what:<46} {secs:>8.2f} {cpu:>8.2f} {r:>11}")


if __name__ == "__main__":
    main()
