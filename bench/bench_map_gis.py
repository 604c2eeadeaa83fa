"""Time the proposal map and the GeoPackage export on the bundled sample, and print a table.

Run from the repository root: ``python bench/bench_map_gis.py [--time-limit 5]``.
Each figure is also given as a ratio to the ``propose`` run it draws (same process, same
run), since absolute times depend on the machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table

from grappes.exports.gis import gpkg_inputs, write_gpkg
from grappes.ingest.sample import load_sample
from grappes.scenarios.scenario import Scenario
from grappes.solver.propose import propose
from grappes.ui.mapview import build_map


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def measure(result, champ: str | None, time_limit: float) -> list[str]:
    """One table row: the propose run, the map (first and second call), the GeoPackages."""
    report, t_propose = timed(lambda: propose(result, None, champ=champ, time_limit=time_limit))
    etab = report.etablissements[
        ~report.etablissements["finess_et"].isin(list(report.out_of_scope)).to_numpy()
    ]
    porteurs = {g.id: g.porteur for g in report.grappes}

    def draw():
        return build_map(etab, report.proposal.assignment(), porteurs,
                         [champ] if champ else None)

    first, t_first = timed(draw)
    _, t_map = timed(draw)
    size = len(first.deck.to_json().encode()) / 1024
    with tempfile.TemporaryDirectory() as folder:
        inputs = gpkg_inputs(Scenario.from_report(report))
        path, t_gis = timed(lambda: write_gpkg(Path(folder) / "a.gpkg", *inputs))
        _, t_l93 = timed(lambda: write_gpkg(Path(folder) / "b.gpkg", *inputs, epsg=2154))
        gpkg_kb = path.stat().st_size / 1024
    return [champ or "tous", str(len(report.grappes)), str(len(first.points)),
            f"{t_propose:.2f}", f"{t_first:.2f}", f"{t_map:.2f}", f"{size:.0f}",
            f"{t_gis:.2f}", f"{t_l93:.2f}", f"{gpkg_kb:.0f}",
            f"{t_map / t_propose:.3f}", f"{t_gis / t_propose:.3f}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--time-limit", type=float, default=5.0)
    args = parser.parse_args()
    result = load_sample()
    table = Table(title="Carte et export SIG, échantillon intégré", title_justify="left")
    for col in ("champ", "grappes", "ESMS dessinés", "propose (s)", "carte 1re (s)",
                "carte (s)", "JSON carte (Ko)", "GPKG 4326 (s)", "GPKG 2154 (s)",
                "GPKG (Ko)", "carte / propose", "GPKG / propose"):
        table.add_column(col, justify="left" if col == "champ" else "right")
    for champ in ("PA", None):
        table.add_row(*measure(result, champ, args.time_limit))
    Console().print(table)


if __name__ == "__main__":
    main()
