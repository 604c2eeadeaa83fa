"""Benchmark the streaming FINESS+ reader against ``json.load`` on a national-size file.

Writes a synthetic national register (~100,000 establishments of all kinds, health ones
included, as in the real register) in the FINESS+ JSON flow with
``grappes.synthetic.write_finess_plus.write_national_finess_plus``, then times, each in a fresh
Python process (so that peak memory is the reader's own):

- ``stream``: ``grappes.ingest.load`` of the ``.json.gz`` (gzip inflated by zlib-ng and read
  in 256 KB chunks, each run of whole ``pmej`` decoded by msgspec into typed structures, then
  validation and classification: the whole reader);
- ``avant`` (with ``--avant DIR``): the same ``load`` from another source tree (e.g. the
  previous version, extracted with ``git archive``), timed in the same run;
- ``json.load``: ``json.load(gzip.open(...))`` of the same file, which only builds the
  document in memory (no validation at all): the reference the issue asks for.

Reports wall and CPU time, peak resident memory (``VmHWM`` of each child, the same method for
all), and the ratios to json.load. Goals: issue 15, under 30 s and under 1 GB; issue 21
(item 6), time at most json.load's and peak memory at most half of json.load's.

Run: ``python bench/bench_finess_plus.py`` (options: ``--n 100000 --seed 0 --keep DIR
--avant DIR --repeat N``; a file kept by ``--keep`` is reused by the next run; with
``--repeat`` the three readings are run in turn N times and the table gives the median of
each measure, which a shared machine's changing load needs).
"""

from __future__ import annotations

import argparse
import json
import statistics
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

GOAL_SECONDS = 30.0
GOAL_MB = 1000.0

#: run in a child process; prints one JSON object
CHILD = r"""
import json, sys, time
sys.path.insert(0, {root!r})


def peak_mb():
    # VmHWM of this process image: ru_maxrss would include the parent's peak (inherited at fork)
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


mode, path = sys.argv[1], sys.argv[2]
if mode == "json.load":
    import gzip
    wall, cpu = time.perf_counter(), time.process_time()
    with gzip.open(path, "rb") as fh:
        doc = json.load(fh)
    rows = sum(len(pm.get("ege", [])) for pm in doc["pmej"])
    loaded = rows
else:
    from grappes.ingest import load
    wall, cpu = time.perf_counter(), time.process_time()
    result = load(path)
    rows = result.meta["ege_total"]
    loaded = len(result.etablissements)
wall = time.perf_counter() - wall
cpu = time.process_time() - cpu
print(json.dumps({{"wall": wall, "cpu": cpu, "peak_mb": peak_mb(), "rows": rows,
                   "loaded": loaded}}))
"""


def _baseline_mb() -> float:
    """Peak memory of a child that only imports the reader's libraries (interpreter + pandas)."""
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); import grappes.ingest, ijson; "
        "print([int(x.split()[1]) / 1024 for x in open('/proc/self/status') "
        "if x.startswith('VmHWM:')][0])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def run_child(mode: str, path: Path, root: Path = ROOT) -> dict[str, float]:
    code = CHILD.format(root=str(root))
    out = subprocess.run(
        [sys.executable, "-c", code, mode, str(path)], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    """The median of each measure over the runs of one reading."""
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="establishments (about)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--keep", type=Path, default=None, help="keep the file in this folder (reused if there)"
    )
    parser.add_argument(
        "--avant", type=Path, default=None, help="source tree of a previous version to time too"
    )
    parser.add_argument(
        "--repeat", type=int, default=1,
        help="runs of each reading, interleaved; the table gives the median of each measure",
    )  # fmt: skip
    args = parser.parse_args()
    console = Console(width=120)
    from grappes.synthetic.write_finess_plus import write_national_finess_plus

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        path = folder / "finess-structures-journalier-20260512.json.gz"
        start = time.perf_counter()
        reused = args.keep is not None and path.is_file()
        if not reused:  # a kept file is reused by the next run (same --n and --seed assumed)
            write_national_finess_plus(path, n_et=args.n, seed=args.seed)
        written = time.perf_counter() - start
        import gzip

        with gzip.open(path, "rb") as fh:
            json_bytes = sum(len(chunk) for chunk in iter(lambda: fh.read(1 << 20), b""))
        console.print(
            f"Fichier : {path.stat().st_size / 1e6:.1f} Mo compressé, {json_bytes / 1e6:.0f} Mo "
            f"de JSON, {'réutilisé' if reused else f'écrit en {written:.1f} s'}"
        )
        runs: dict[str, list[dict[str, float]]] = {}
        for _ in range(max(1, args.repeat)):  # interleaved: a change of load hits all three
            if args.avant is not None:
                runs.setdefault("avant", []).append(
                    run_child("stream", path, args.avant.resolve())
                )
            for mode in ("stream", "json.load"):
                runs.setdefault(mode, []).append(run_child(mode, path))
        results = {mode: _median(rs) for mode, rs in runs.items()}
        base = _baseline_mb()
    if args.repeat > 1:
        for mode, rs in runs.items():
            walls = ", ".join(f"{r['wall']:.1f}" for r in rs)
            console.print(f"{mode} : temps réels des {len(rs)} exécutions : {walls} s")
    stream, ref = results["stream"], results["json.load"]
    table = Table(title=f"Lecture FINESS+ ({integer_fr(stream['rows'])} ege)")
    for col in ("lecture", "ege", "chargés", "temps (s)", "CPU (s)", "pic mémoire (Mo)",
                "dont imports (Mo)"):  # fmt: skip
        table.add_column(col, justify="left" if col == "lecture" else "right")
    labels = {
        "avant": "load, version --avant",
        "stream": "load (morceaux + msgspec + validation)",
        "json.load": "json.load (document seul)",
    }
    for mode, r in results.items():
        table.add_row(labels[mode], integer_fr(r['rows']), integer_fr(r['loaded']),
                      f"{r['wall']:.1f}", f"{r['cpu']:.1f}", f"{r['peak_mb']:.0f}",
                      f"{base:.0f}" if mode == "stream" else "")  # fmt: skip
    for mode in results:
        if mode == "json.load":
            continue
        r = results[mode]
        table.add_row(f"rapport {mode} / json.load", "", "", f"{r['wall'] / ref['wall']:.2f}",
                      f"{r['cpu'] / ref['cpu']:.2f}", f"{r['peak_mb'] / ref['peak_mb']:.2f}",
                      "")  # fmt: skip
    console.print(table)
    wall_ok = stream["wall"] <= ref["wall"]
    cpu_ok = stream["cpu"] <= ref["cpu"]
    mem_ok = stream["peak_mb"] <= 0.5 * ref["peak_mb"]
    console.print(
        "Issue 21 (point 6) : temps ≤ json.load : "
        f"{'atteint' if wall_ok else 'MANQUÉ'} (temps réel), "
        f"{'atteint' if cpu_ok else 'MANQUÉ'} (CPU) ; pic mémoire ≤ 0,5 × json.load : "
        f"{'atteint' if mem_ok else 'MANQUÉ'}."
    )
    ok_time = stream["wall"] < GOAL_SECONDS
    ok_mem = stream["peak_mb"] < GOAL_MB
    console.print(
        f"Objectif < {GOAL_SECONDS:.0f} s : {'atteint' if ok_time else 'MANQUÉ'} ; "
        f"< {GOAL_MB:.0f} Mo : {'atteint' if ok_mem else 'MANQUÉ'}."
    )
    if not (ok_time and ok_mem):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
