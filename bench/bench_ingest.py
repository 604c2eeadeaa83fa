"""Benchmark ``grappes.ingest.load`` on a national-size etalab extract (~100,000 ET).

Writes a synthetic national register with ``grappes.synthetic.write_national_etalab`` into a
temporary folder, then times, each in a fresh Python process (so that peak memory is the
reader's own): ``load`` of the establishments file, ``load`` with the legal-entities extract,
and a plain ``pandas.read_csv`` of the same file as a reference point. Reports wall time, CPU
time (the machine may be shared), rows per second and peak resident memory.

Run: ``python bench/bench_ingest.py`` (options: ``--n 100000 --seed 0 --keep DIR``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grappes.core.formatting import integer_fr  # noqa: E402 (after the path)

#: run in a child process; prints one JSON object
CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
mode, etab, ej = sys.argv[1], sys.argv[2], sys.argv[3]
if mode == "pandas":
    import pandas as pd
    wall, cpu = time.perf_counter(), time.process_time()
    # the reference: one C-engine pass that splits the lines and keeps strings, no checks
    frame = pd.read_csv(etab, sep=";", header=None, names=list(range(32)), dtype=str,
                        skiprows=1, keep_default_na=False, on_bad_lines="skip")
    rows = int((frame[0] == "structureet").sum())
    rejets = 0
else:
    from grappes.ingest import load
    import grappes.geo.territories
    grappes.geo.territories.get_territoires()  # the bundled geography is read once per process
    wall, cpu = time.perf_counter(), time.process_time()
    result = load(etab, ej=ej if mode == "load_ej" else None)
    rows, rejets = len(result.etablissements), len(result.rejets)
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"wall": wall, "cpu": cpu, "rows": rows, "rejets": rejets, "peak_mb": peak}}))
"""


def run_child(mode: str, etab: Path, ej: Path) -> dict:
    """Time one reader in a fresh interpreter."""
    code = CHILD.format(root=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", code, mode, str(etab), str(ej)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="establishments to generate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, default=None, help="folder to keep the files in")
    args = parser.parse_args()
    console = Console(width=max(Console().width, 100))
    from grappes.synthetic import write_national_etalab

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        start = time.perf_counter()
        etab, ej, _ = write_national_etalab(folder, n_et=args.n, seed=args.seed)
        written = time.perf_counter() - start
        size_mb = etab.stat().st_size / 1e6
        console.print(
            f"Fichier synthétique : {etab.name}, {size_mb:.1f} Mo, écrit en {written:.1f} s"
        )
        table = Table(
            title=f"Lecture d'un extrait national ({integer_fr(args.n)} ET demandés)"
        )
        for col in (
            "Lecture",
            "Lignes ET",
            "Rejets",
            "Temps (s)",
            "CPU (s)",
            "Lignes/s",
            "Mémoire max (Mo)",
        ):
            table.add_column(col, justify="left" if col == "Lecture" else "right")
        labels = {
            "load": "ingest.load",
            "load_ej": "load + --ej",
            "pandas": "pandas.read_csv (réf.)",
        }
        for mode in ("load", "load_ej", "pandas"):
            r = run_child(mode, etab, ej)
            table.add_row(
                labels[mode],
                integer_fr(r["rows"]),
                str(r["rejets"]),
                f"{r['wall']:.2f}",
                f"{r['cpu']:.2f}",
                integer_fr(r["rows"] / r["wall"]),
                f"{r['peak_mb']:.0f}",
            )
        console.print(table)
        console.print(
            "Cible : moins de 5 s et moins de 1 Go pour le fichier national ; "
            "« CPU » reste comparable quand la machine est partagée."
        )


if __name__ == "__main__":
    main()
