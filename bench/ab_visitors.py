"""New visitors of several checkouts of the app, interleaved, in one browser: seconds to the
headline figures and to the grappes table, with the floor page of ``bench_app.py``.

Why: a change to the first screen moves a new visitor's wait by tenths of a second, less
than the machine's drift between two runs of ``bench_app.py``; visitors of the code before
and after the change taken in turn, in the same minutes and browser, compare them fairly
(issue 20, item 9). ``git worktree add /tmp/avant HEAD~1`` makes the « before » checkout.

    PYTHONPATH=. python bench/ab_visitors.py avant=/tmp/avant apres=. --visits 6

Prints a table: per checkout, the median and worst seconds to the figures and to the table.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_app import floor_root, launch, second_visitors  # noqa: E402
from tests.e2e.streamlit_server import streamlit_app  # noqa: E402

#: the name of the floor page in the table
FLOOR = "plancher"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkouts", nargs="+", help="nom=dossier d'une copie du dépôt")
    parser.add_argument("--visits", type=int, default=6, help="visiteurs par copie")
    parser.add_argument("--sans-plancher", action="store_true", help="sans la page minimale")
    args = parser.parse_args()
    roots = {}
    for spec in args.checkouts:
        name, _, folder = spec.partition("=")
        roots[name] = Path(folder or name).resolve()
    from playwright.sync_api import sync_playwright

    times: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        if not args.sans_plancher:
            roots[FLOOR] = floor_root(Path(tmp))
        urls = {name: stack.enter_context(streamlit_app(root=root))
                for name, root in roots.items()}
        with sync_playwright() as p:
            browser = launch(p)
            for url in urls.values():  # a first visit warms each server
                second_visitors(browser, url, 1)
            for _ in range(args.visits):
                for name, url in urls.items():
                    for what, values in second_visitors(browser, url, 1).items():
                        times.setdefault(name, {}).setdefault(what, []).extend(values)
            browser.close()
    table = Table(title=f"nouveaux visiteurs, en alternance ({args.visits} chacun)")
    for column in ("copie", "chiffres : médiane (pire)", "tableau : médiane (pire)"):
        table.add_column(column)
    for name, series in times.items():
        cells = [f"{statistics.median(v):.2f} s ({max(v):.2f})" for v in series.values()]
        table.add_row(name, *cells)
    Console(width=100).print(table)
    print(f"(fin : {time.strftime('%H:%M:%S')})")


if __name__ == "__main__":
    main()
