"""Benchmark of the exports: a whole région's workbook and CSV set, old writer vs new.

Not a test. Run from the repository root::

    PYTHONPATH=. python bench/bench_exports.py [--runs 3] [--scale 1.0]

Solves the bundled sample région for every field (as ``grappes propose --sample``), then
times, over ``--runs`` repetitions (median and worst):

* **old**: the previous workbook writer, pandas ``to_excel`` with openpyxl and a styling
  pass on the same sheets (the three tables and one dossier sheet per grappe);
* **new**: ``grappes.exports.dossier.workbook_bytes`` (xlsxwriter, one pass, number
  formats, filters and frozen header);
* the three French-Excel CSV files (``csv_files``).

``--scale`` > 1 repeats the establishments table (fresh FINESS ET) to size a bigger région.
Prints a table of the numbers and the workbook sizes.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable

import pandas as pd


def old_workbook(scenario) -> bytes:
    """The writer before issue 10: pandas + openpyxl, styled in the same pass."""
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    from grappes.exports.dossier import DOSSIER_WIDTH, dossier_rows, dossier_sheet_name
    from grappes.exports.french_excel import neutralise_frame, sheet_name
    from grappes.exports.tables import tables

    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDE4F0")
    used: set[str] = set()
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, df in tables(scenario).items():
            sheet = sheet_name(name.removesuffix(".csv"), used)
            neutralise_frame(df).to_excel(writer, sheet_name=sheet, index=False)
            ws = writer.sheets[sheet]
            ws.freeze_panes = "A2"
            for i, col in enumerate(df.columns, 1):
                sample = [str(col), *(str(v) for v in df[col].head(200))]
                ws.column_dimensions[get_column_letter(i)].width = min(
                    max(max(len(v) for v in sample) + 2, 8), 60)
                ws.cell(1, i).font = bold
        for g in scenario.grappes:
            rows, marks = dossier_rows(scenario, g)
            frame = pd.DataFrame(rows, columns=[f"c{i}" for i in range(DOSSIER_WIDTH)],
                                 dtype=object)
            sheet = sheet_name(dossier_sheet_name(g.id), used)
            neutralise_frame(frame).to_excel(writer, sheet_name=sheet, index=False,
                                             header=False)
            ws = writer.sheets[sheet]
            for r in marks["header"]:
                for c in range(1, DOSSIER_WIDTH + 1):
                    cell = ws.cell(r + 1, c)
                    if cell.value not in (None, ""):
                        cell.font = bold
                        cell.fill = fill
            for r, c in marks["euro"]:
                ws.cell(r + 1, c + 1).number_format = '#,##0 "€"'
    return buffer.getvalue()


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float, object]:
    times, value = [], None
    for _ in range(runs):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), max(times), value


def scaled(result, scale: float):
    """The sample's table repeated ``scale`` times (new FINESS ET for the copies)."""
    if scale <= 1:
        return result
    etab = result.etablissements
    parts = [etab]
    for k in range(1, int(scale)):
        copy = etab.copy()
        copy["finess_et"] = copy["finess_et"].astype(str).str[:-3] + f"{k:03d}"
        copy["finess_ej"] = copy["finess_ej"].astype(str).str[:-3] + f"{k:03d}"
        parts.append(copy)
    from grappes.core.model import LoadResult

    return LoadResult(etablissements=pd.concat(parts, ignore_index=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--time-limit", type=float, default=5.0)
    args = parser.parse_args()

    from grappes.exports.dossier import csv_files, workbook_bytes
    from grappes.ingest.sample import load_sample
    from grappes.scenarios.scenario import Scenario
    from grappes.solver.propose import propose

    result = scaled(load_sample(), args.scale)
    report = propose(result, None, time_limit=args.time_limit)
    scenario = Scenario.from_report(report)
    n_etab, n_grappes = len(scenario.etablissements), len(scenario.grappes)
    rows = []
    for label, fn in (("classeur XLSX, ancien (pandas + openpyxl)", lambda: old_workbook(scenario)),
                      ("classeur XLSX, nouveau (xlsxwriter)", lambda: workbook_bytes(scenario)),
                      ("3 fichiers CSV (nouveau)", lambda: csv_files(scenario))):
        median, worst, value = timed(fn, args.runs)
        size = (len(value) if isinstance(value, bytes)
                else sum(len(v) for v in value.values()))  # type: ignore[union-attr]
        rows.append((label, median, worst, size))
    print(f"Région exemple, tous les champs : {n_etab} établissements, {n_grappes} grappes "
          f"({args.runs} passages)")
    print(f"{'export':<45} {'médiane (s)':>12} {'pire (s)':>10} {'taille (Ko)':>12}")
    for label, median, worst, size in rows:
        print(f"{label:<45} {median:>12.2f} {worst:>10.2f} {size / 1024:>12.0f}")


if __name__ == "__main__":
    main()
