"""Fuzz the inputs: seeded mutations of the sample files, load -> check -> propose -> exports.

Usage (from the repository root)::

    python bench/fuzz_inputs.py --n 3000 --seed 1          # the table of docs/fuzz.md
    python bench/fuzz_inputs.py --n 20 --seed 1 --show 5   # and the first 5 problems
    python bench/fuzz_inputs.py --only 1234 --seed 1 -v    # replay one input

Each input is one of the four input kinds (etalab extract, CSV template, EJ extract, DUI
file) built from a slice of the bundled sample, with one to three mutations: fields
deleted, duplicated or swapped; quotes, separators, CR / LF, NUL and control characters
inserted; lines re-encoded in latin-1 (or the whole file in cp1252, or CR-only line ends);
lines truncated or duplicated; fields blown up; formula prefixes. Input ``i`` of seed ``s``
is always the same bytes (``random.Random(f"{s}-{i}")``), whatever ``--n``.

Every input runs in a worker process (killed after ``--timeout`` seconds: a hang) through
``grappes.ingest.load``, ``grappes.ingest.check.summarise`` + JSON,
``grappes.solver.propose.propose``
and every export (CSV of the tables and the rejects, the XLSX workbook). Outcomes:

- clean: loaded with exact accounting (every line loaded, rejected, used as geolocation,
  header or blank) and no silent change, or refused with a French message;
- crash: any other exception (a traceback for the user);
- hang: over the time limit;
- silent change: a line neither loaded nor rejected, or a row from a line the mutation did
  not touch whose values differ from the unmutated file, without any new warning.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing as mp
import os
import random
import re
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.fuzz_structured import (  # noqa: E402 - after the path set-up
    STRUCTURED_KINDS,
    StructuredBaseline,
    build_structured,
    mutate_structured,
    run_structured,
)

#: columns compared between a mutated input and the unmutated one (derived OG counts left out:
#: they change, rightly, when another row of the same OG is rejected)
COMPARED = (
    "finess_et",
    "finess_ej",
    "raison_sociale",
    "raison_sociale_ej",
    "categorie",
    "champ",
    "statut_juridique",
    "commune",
    "departement",
    "region",
    "derogatoire",
    "lon",
    "lat",
    "capacite",
    "dui_editeur",
    "dui_statut",
    "editeur_segur",
    "deja_finance",
)
KINDS = ("etalab", "template", "ej", "dui")
OUTCOMES = ("clean_loaded", "clean_refused", "crash", "hang", "silent")
_BREAK_RE = re.compile(rb"\r\n|\r|\n")
_DIGITS_RE = re.compile(r"[0-9]+")


# --------------------------------------------------------------------------- base files


@dataclass
class Base:
    """The unmutated files (bytes, ``\\n`` line ends) and what loading them gives."""

    etalab: bytes
    template: bytes
    ej: bytes
    dui: bytes


#: the fixed subsample the campaign mutates: two neighbouring départements of the sample
#: région (Cher, Indre), so that grappes across a département border are proposed too
DEPARTEMENTS = ("18", "36")
DEFAULT_ROWS = 100


def build_base(n_rows: int = DEFAULT_ROWS, departements: tuple[str, ...] = DEPARTEMENTS) -> Base:
    """A fixed slice of the bundled sample: the first ``n_rows`` establishments (file order)
    split evenly between ``departements``, their geolocation lines, their OGs' EJ lines and
    their DUI lines; plus the same rows as a CSV template (built from the loaded table, so
    both formats describe the same data).

    Why a slice: one input runs load -> check -> propose -> every export, and the cost of
    ``propose`` and of the exports grows with the table; 100 rows keep 3,000 inputs within
    about 25 minutes on 2 workers while keeping every file kind, the EJ and DUI joins,
    geolocation lines and several grappes."""
    from grappes.ingest import load
    from grappes.ingest.sample import sample_paths

    etab_path, ej_path, dui_path = sample_paths()
    lines = etab_path.read_bytes().decode("utf-8").splitlines()
    head = lines[0]
    per_dep = max(1, n_rows // len(departements))
    ets = []
    for dep in departements:
        ets += [ln for ln in lines if ln.startswith("structureet;") and ln.split(";")[13] == dep][
            :per_dep
        ]
    keys = {ln.split(";")[1] for ln in ets}
    ogs = {ln.split(";")[2] for ln in ets}
    geo = [ln for ln in lines if ln.startswith("geolocalisation;") and ln.split(";")[1] in keys]
    etalab = "\n".join([head, *ets, *geo]) + "\n"
    ej_lines = ej_path.read_bytes().decode("utf-8").splitlines()
    ej = "\n".join([ej_lines[0]] + [ln for ln in ej_lines[1:] if ln.split(";")[1] in ogs]) + "\n"
    dui_lines = dui_path.read_bytes().decode("utf-8-sig").splitlines()
    dui = "\n".join([dui_lines[0]] + [ln for ln in dui_lines[1:] if ln.split(";")[0] in keys])
    dui += "\n"
    table = load(etalab.encode(), ej=ej.encode(), dui=dui.encode()).etablissements
    cols = ["finess_et", "finess_ej", "raison_sociale", "categorie", "commune", "lon", "lat",
            "capacite", "dui_editeur", "dui_statut", "editeur_segur", "deja_finance"]
    out = [";".join(cols)]
    for row in table.itertuples(index=False):
        cells = []
        for c in cols:
            v = getattr(row, c)
            if c in ("lon", "lat"):
                cells.append(f"{v:.6f}")
            elif c == "capacite":
                cells.append("" if v != v else f"{v:g}")
            elif c in ("editeur_segur", "deja_finance"):
                cells.append("" if v is None or str(v) == "<NA>" else ("oui" if v else "non"))
            else:
                text = str(v)
                cells.append('"' + text.replace('"', '""') + '"' if ";" in text else text)
        out.append(";".join(cells))
    template = "\n".join(out) + "\n"
    return Base(etalab.encode(), template.encode(), ej.encode(), dui.encode())


# --------------------------------------------------------------------------- mutations


@dataclass
class Entry:
    """One line of the file being mutated: its original index (None if inserted)."""

    orig: int | None
    content: bytes


@dataclass
class Mutated:
    """A mutated input: which file, its bytes, and how its lines map to the original ones."""

    index: int
    kind: str
    data: bytes
    #: physical line (1-based, as the reader counts them) -> original line index (0-based)
    line_map: dict[int, int | None]
    touched: set[int]
    mutations: list[str] = field(default_factory=list)
    #: original texts of the touched lines (to know which keys a side-file mutation concerns)
    touched_text: list[str] = field(default_factory=list)


def _fields(content: bytes) -> list[bytes]:
    return content.split(b";")


def _mutate_line(rng: random.Random, content: bytes) -> tuple[bytes, str]:
    """One mutation of one line; returns the new content and the mutation's name."""
    cells = _fields(content)
    i = rng.randrange(len(cells))
    what = rng.choice(
        (
            "delete_field",
            "duplicate_field",
            "swap_fields",
            "insert_quote",
            "insert_separator",
            "insert_cr",
            "insert_lf",
            "insert_crlf",
            "insert_nul",
            "insert_control",
            "latin1_line",
            "truncate",
            "blow_up",
            "formula",
            "quote_field",
            "empty_field",
        )
    )
    if what == "delete_field" and len(cells) > 1:
        del cells[i]
    elif what == "duplicate_field":
        cells.insert(i, cells[i])
    elif what == "swap_fields" and len(cells) > 1:
        j = rng.randrange(len(cells))
        cells[i], cells[j] = cells[j], cells[i]
    elif what in ("insert_quote", "insert_separator", "insert_cr", "insert_lf", "insert_crlf",
                  "insert_nul", "insert_control", "formula"):
        char = {
            "insert_quote": b'"',
            "insert_separator": b";",
            "insert_cr": b"\r",
            "insert_lf": b"\n",
            "insert_crlf": b"\r\n",
            "insert_nul": b"\x00",
            "insert_control": bytes([rng.choice([1, 7, 8, 11, 12, 27, 31, 127])]),
            "formula": rng.choice(["=1+1", "+33", "-2+3", "@SUM(A1)", "|cmd", "＝4+4",
                                   "\u200b=5+5", "\ufeff=6+6"]).encode(),
        }[what]
        cell = cells[i]
        pos = 0 if what == "formula" else rng.randrange(len(cell) + 1)
        cells[i] = cell[:pos] + char + cell[pos:]
    elif what == "latin1_line":
        try:
            return content.decode("utf-8").encode("latin-1"), what
        except (UnicodeDecodeError, UnicodeEncodeError):
            return content, what + "(sans effet)"
    elif what == "truncate":
        return content[: rng.randrange(len(content) + 1)], what
    elif what == "blow_up":
        size = rng.choice((300, 5_000, 200_000))
        cells[i] = cells[i] + b"X" * size
    elif what == "quote_field":
        cells[i] = b'"' + cells[i] + b'"'
    elif what == "empty_field":
        cells[i] = b""
    return b";".join(cells), what


def mutate(base: Base, seed: int, index: int, kind: str | None = None) -> Mutated:
    """Input ``index`` of ``seed``: always the same bytes (``kind``: forced, else drawn)."""
    rng = random.Random(f"{seed}-{index}")
    drawn = rng.choice(KINDS)
    kind = kind or drawn
    text: bytes = getattr(base, kind)
    entries = [Entry(i, line) for i, line in enumerate(text.split(b"\n")[:-1])]
    touched: set[int] = set()
    names: list[str] = []
    touched_text: list[str] = []
    line_end = b"\n"
    for _ in range(rng.randint(1, 3)):
        global_op = rng.random()
        if global_op < 0.04:
            line_end = rng.choice((b"\r", b"\r\n"))
            names.append("fins_de_ligne_" + ("cr" if line_end == b"\r" else "crlf"))
            continue
        if global_op < 0.07:
            names.append("fichier_cp1252")
            line_end = line_end  # applied at the end
            entries = [Entry(e.orig, _to_cp1252(e.content)) for e in entries]
            continue
        k = rng.randrange(len(entries))
        entry = entries[k]
        op = rng.random()
        if op < 0.06:
            del entries[k]
            names.append("ligne_supprimee")
            if entry.orig is not None:
                touched.add(entry.orig)
                touched_text.append(entry.content.decode("utf-8", "replace"))
            continue
        if op < 0.12:
            entries.insert(k, Entry(None, entry.content))
            names.append("ligne_dupliquee")
            if entry.orig is not None:
                touched.add(entry.orig)
                touched_text.append(entry.content.decode("utf-8", "replace"))
            continue
        if entry.orig is not None:
            touched_text.append(entry.content.decode("utf-8", "replace"))
        content, name = _mutate_line(rng, entry.content)
        names.append(name)
        entries[k] = Entry(entry.orig, content)
        if entry.orig is not None and name != "latin1_line":
            touched.add(entry.orig)
    data = line_end.join(e.content for e in entries) + line_end
    if kind == "dui" and rng.random() < 0.3:
        data = b"\xef\xbb\xbf" + data
    line_map = physical_lines(entries, line_end, data)
    for e in entries:
        if e.orig is not None and _BREAK_RE.search(e.content):
            touched.add(e.orig)
    return Mutated(index, kind, data, line_map, touched, names, touched_text)


def physical_lines(entries: list[Entry], line_end: bytes, data: bytes) -> dict[int, int | None]:
    """Physical line number (as the reader counts: CR, LF and CR-LF each end a line) ->
    original index of the entry the line starts in. Computed on the final bytes, so a CR
    at the end of a line that meets the LF after it counts once, like in the reader."""
    import bisect

    starts = []
    offset = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    for e in entries:
        starts.append(offset)
        offset += len(e.content) + len(line_end)
    line_starts = [0] + [m.end() for m in _BREAK_RE.finditer(data)]
    out: dict[int, int | None] = {}
    for number, start in enumerate(line_starts, start=1):
        k = bisect.bisect_right(starts, start) - 1
        out[number] = entries[k].orig if 0 <= k < len(entries) else None
    return out


def _to_cp1252(content: bytes) -> bytes:
    try:
        return content.decode("utf-8").encode("cp1252")
    except (UnicodeDecodeError, UnicodeEncodeError):
        return content


# --------------------------------------------------------------------------- running one input


@dataclass
class Outcome:
    index: int
    kind: str
    outcome: str
    detail: str = ""
    mutations: list[str] = field(default_factory=list)
    seconds: float = 0.0
    #: grappes proposed for the input (-1: ``propose`` not run: refused, unusable, or skipped)
    grappes: int = -1
    #: CPU seconds of the worker for the input (wall time depends on the machine's load)
    cpu: float = 0.0


def _shape(warning: str) -> str:
    return _DIGITS_RE.sub("#", warning)


def _rows(table: Any) -> dict[int, tuple]:
    out = {}
    for row in table[[*COMPARED, "ligne"]].itertuples(index=False):
        values = []
        for v in row[:-1]:
            if isinstance(v, float):
                values.append(None if v != v else round(v, 6))
            else:
                values.append(None if v is None or str(v) == "<NA>" else str(v))
        out[int(row[-1])] = tuple(values)
    return out


class Baseline:
    """What the unmutated inputs load to (computed once per worker)."""

    def __init__(self, base: Base) -> None:
        from grappes.ingest import load

        self.base = base
        self.results = {
            "etalab": load(base.etalab, ej=base.ej, dui=base.dui),
            "template": load(base.template, ej=base.ej),
        }
        self.rows = {k: _rows(r.etablissements) for k, r in self.results.items()}
        self.shapes = {k: {_shape(w) for w in r.warnings} for k, r in self.results.items()}
        for k, r in self.results.items():
            assert not r.rejets, (k, r.rejets[:3])


def run_one(
    baseline: Baseline, m: Mutated, propose_time: float = 0.5, with_propose: bool = True
) -> Outcome:
    """load -> check -> propose -> exports for one mutated input, classified.

    ``with_propose=False`` (the quick property test of the suite) stops after the exports of
    the loaded table and the rejects."""
    import json

    from grappes.exports.dossier import csv_files, workbook_bytes
    from grappes.exports.french_excel import csv_bytes
    from grappes.exports.gis import gpkg_bytes, gpkg_inputs
    from grappes.exports.json_values import json_default
    from grappes.exports.rejects import rejets_frame
    from grappes.ingest import IngestError, load
    from grappes.ingest.check import summarise
    from grappes.scenarios.scenario import Scenario
    from grappes.solver.propose import propose

    base = baseline.base
    main_kind = "template" if m.kind == "template" else "etalab"
    main = m.data if m.kind in ("etalab", "template") else getattr(base, main_kind)
    ej = m.data if m.kind == "ej" else base.ej
    dui = m.data if m.kind == "dui" else (base.dui if main_kind == "etalab" else None)
    start = time.perf_counter()
    cpu_start = time.process_time()
    try:
        result = load(main, ej=ej, dui=dui)
    except IngestError as exc:
        if not str(exc).strip():
            return Outcome(m.index, m.kind, "crash", "IngestError sans message", m.mutations)
        return Outcome(m.index, m.kind, "clean_refused", str(exc)[:200], m.mutations)
    except Exception as exc:
        return Outcome(m.index, m.kind, "crash", _trace(exc), m.mutations)
    try:
        summary = summarise(result)
        json.dumps(summary, ensure_ascii=False, default=json_default)
        csv_bytes(result.etablissements)
        csv_bytes(rejets_frame(result))
        problem = check_accounting(baseline, m, result, main_kind)
        report = None
        if summary["usable"] and with_propose:
            try:
                report = propose(result, None, seed=0, time_limit=propose_time)
            except IngestError:
                report = None
            except ValueError as exc:
                if not re.search(r"[éèàçù]|aucun|grappe", str(exc)):
                    return Outcome(m.index, m.kind, "crash", "propose : " + _trace(exc),
                                   m.mutations)
        if report is not None:
            scenario = Scenario.from_report(report)
            json.dumps(scenario.to_json(), ensure_ascii=False, default=json_default)
            csv_files(scenario)
            workbook_bytes(scenario)
            gpkg_bytes(*gpkg_inputs(scenario))
    except Exception as exc:
        return Outcome(m.index, m.kind, "crash", _trace(exc), m.mutations)
    seconds = time.perf_counter() - start
    n_grappes = -1 if report is None else len(report.grappes)
    cpu = time.process_time() - cpu_start
    if problem:
        return Outcome(m.index, m.kind, "silent", problem, m.mutations, seconds, n_grappes, cpu)
    return Outcome(m.index, m.kind, "clean_loaded", "", m.mutations, seconds, n_grappes, cpu)


def _trace(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
    return f"{type(exc).__name__} ({where}) : {str(exc)[:160]}"


def check_accounting(baseline: Baseline, m: Mutated, result: Any, main_kind: str) -> str:
    """'' when every line is accounted for and untouched rows are unchanged (or warned)."""
    new_warnings = {_shape(w) for w in result.warnings} - baseline.shapes[main_kind]
    table = result.etablissements
    meta = result.meta
    if m.kind in ("etalab", "template"):
        from grappes.ingest.base import decode

        text, _ = decode(m.data)
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        content = {i + 1 for i, ln in enumerate(lines) if ln.replace(";", "").strip()}
        accounted = set(table["ligne"].tolist())
        accounted |= {r.line for r in result.rejets if r.source == ""}
        accounted |= set(meta.get("lignes_geolocalisation_utilisees", []))
        for key in ("ligne_meta", "ligne_entete"):
            if key in meta:
                accounted.add(int(meta[key]))
        missing = sorted(content - accounted)
        if missing:
            return f"ligne(s) ni chargée(s) ni rejetée(s) : {missing[:5]}"
        line_map = m.line_map
    else:
        line_map = None  # the main file is not mutated: line n is original line n - 1
        if m.kind == "dui":
            problem = _dui_accounting(m, result)
            if problem:
                return problem
    base_rows = baseline.rows[main_kind]
    side_keys = set()
    if m.kind in ("ej", "dui"):
        for text in m.touched_text:
            side_keys.update(text.split(";"))
    for line, values in _rows(table).items():
        orig = line - 1 if line_map is None else line_map.get(line)
        if orig is None or orig in m.touched:
            continue
        expected = base_rows.get(orig + 1)
        if expected is None or values == expected:
            continue
        if m.kind in ("ej", "dui") and (values[0] in side_keys or values[1] in side_keys):
            continue
        if new_warnings:
            continue
        diff = [
            f"{c}: {a!r} -> {b!r}"
            for c, a, b in zip(COMPARED, expected, values, strict=True)
            if a != b
        ]
        return f"ligne {line} modifiée sans avertissement ({'; '.join(diff)[:160]})"
    return ""


def _dui_accounting(m: Mutated, result: Any) -> str:
    from grappes.ingest.base import decode

    text, _ = decode(m.data)
    lines = [ln for ln in text.split("\n") if ln.replace(";", "").replace(",", "").strip()]
    used = int(result.meta.get("dui_lignes_utilisees", 0))
    rejected = len({r.line for r in result.rejets if r.source == "dui"})
    if len(lines) - 1 != used + rejected and len(lines) > 1:
        return (f"fichier DUI : {len(lines) - 1} ligne(s), {used} utilisée(s) + {rejected} "
                "rejetée(s)")
    return ""


# --------------------------------------------------------------------------- worker processes


def _worker(conn: Any, seed: int, n_rows: int, propose_time: float,
            kinds: tuple[str, ...] = KINDS) -> None:
    base = build_base(n_rows)
    baseline = Baseline(base)
    structured = None
    if set(kinds) & set(STRUCTURED_KINDS):
        sbase = build_structured(base.etalab, base.ej, base.dui)
        structured = StructuredBaseline(sbase, baseline.results["etalab"])
    conn.send("ready")
    while True:
        index = conn.recv()
        if index is None:
            return
        conn.send(run_input(baseline, structured, seed, index, propose_time, kinds))


def run_input(baseline: Baseline, structured: Any, seed: int, index: int,
              propose_time: float = 0.5, kinds: tuple[str, ...] = KINDS) -> Outcome:
    """Input ``index``: the line kinds as before (same bytes when ``kinds`` is the default),
    the structured kinds of ``bench/fuzz_structured.py`` when asked for."""
    if tuple(kinds) == KINDS:
        return run_one(baseline, mutate(baseline.base, seed, index), propose_time)
    kind = random.Random(f"{seed}-{index}-kind").choice(kinds)
    if kind not in STRUCTURED_KINDS:
        return run_one(baseline, mutate(baseline.base, seed, index, kind), propose_time)
    try:
        m = mutate_structured(structured.base, kind, seed, index)
    except Exception as exc:  # a bug of the harness itself: said, not counted as the tool's
        return Outcome(index, kind, "crash", "mutation : " + _trace(exc))
    start, cpu_start = time.perf_counter(), time.process_time()
    try:
        outcome, detail = run_structured(structured, m)
    except Exception as exc:
        outcome, detail = "crash", _trace(exc)
    return Outcome(index, kind, outcome, detail, m.mutations, time.perf_counter() - start,
                   -1, time.process_time() - cpu_start)


class Pool:
    """One worker process; restarted after a hang (killed) or a hard crash."""

    def __init__(self, seed: int, n_rows: int, propose_time: float,
                 kinds: tuple[str, ...] = KINDS) -> None:
        self.args = (seed, n_rows, propose_time, kinds)
        self.ctx = mp.get_context("fork")
        self.start()

    def start(self) -> None:
        self.conn, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=_worker, args=(child, *self.args), daemon=True)
        self.proc.start()
        # wait for "ready", but give up at once if the worker died while starting (an import
        # error, a missing sample file) instead of waiting the whole delay
        deadline = time.monotonic() + 300
        while not self.conn.poll(0.5):
            if not self.proc.is_alive() or time.monotonic() > deadline:
                msg = f"le processus de fuzz ne démarre pas (code {self.proc.exitcode})"
                raise RuntimeError(msg)
        if self.conn.recv() != "ready":
            msg = "le processus de fuzz ne démarre pas"
            raise RuntimeError(msg)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the worker has used so far, from /proc (Linux)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def run(self, index: int, timeout: float) -> Outcome:
        """Run one input. A hang is ``timeout`` seconds of the worker's CPU on this input (or
        ten times that in wall time, for a worker blocked without computing): on a machine
        loaded by other jobs, wall time alone would call a slow input a hang."""
        self.conn.send(index)
        cpu0, wall0 = self.cpu_seconds(), time.monotonic()
        try:
            while not self.conn.poll(1.0):
                cpu = self.cpu_seconds() - cpu0
                wall = time.monotonic() - wall0
                if cpu > timeout or wall > 10 * timeout:
                    self.restart()
                    return Outcome(index, "?", "hang", f"plus de {timeout:.0f} s de calcul "
                                   f"({cpu:.0f} s CPU, {wall:.0f} s écoulées)")
            return self.conn.recv()
        except EOFError:
            self.restart()
            return Outcome(index, "?", "crash", "processus mort (erreur fatale)")

    def restart(self) -> None:
        self.proc.kill()
        self.proc.join()
        self.start()

    def close(self) -> None:
        with contextlib.suppress(BrokenPipeError, OSError):
            self.conn.send(None)
        self.proc.join(5)


def run_campaign(
    n: int, seed: int, timeout: float = 30.0, n_rows: int = DEFAULT_ROWS, propose_time: float = 0.5,
    only: int | None = None, workers: int = 1, log: Path | None = None, resume: bool = False,
    kinds: tuple[str, ...] = KINDS, first: int = 0,
) -> list[Outcome]:
    """Run inputs ``0..n-1`` (or only one) on ``workers`` processes; outcomes by index.

    With ``log``, each outcome is appended to that JSON-lines file as it arrives (a long
    campaign can be followed, and summarised with ``--summarise LOG`` if interrupted). With
    ``resume``, inputs already in the log are skipped, except hangs, which run again."""
    import json
    import threading
    from concurrent.futures import ThreadPoolExecutor

    lock = threading.Lock()

    def record(o: Outcome) -> Outcome:
        if log is not None:
            with lock, log.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(o.__dict__, ensure_ascii=False) + "\n")
        return o

    indices = [only] if only is not None else list(range(first, n))
    if resume and log is not None and log.exists():
        done = {o.index for o in read_log(log) if o.outcome != "hang"}
        indices = [i for i in indices if i not in done]
    workers = max(1, min(workers, len(indices)))

    def drive(chunk: list[int]) -> list[Outcome]:
        pool = Pool(seed, n_rows, propose_time, kinds)
        try:
            return [record(pool.run(i, timeout)) for i in chunk]
        finally:
            pool.close()

    chunks = [indices[k::workers] for k in range(workers)]
    with ThreadPoolExecutor(workers) as executor:
        results = list(executor.map(drive, chunks))
    return sorted((o for chunk in results for o in chunk), key=lambda o: o.index)


def read_log(log: Path) -> list[Outcome]:
    """The outcomes of a log, one per input: the last line written for an index wins (an
    input run again after a resume replaces its earlier outcome)."""
    import json

    last: dict[int, Outcome] = {}
    for line in log.read_text(encoding="utf-8").splitlines():
        if line.strip():
            o = Outcome(**json.loads(line))
            last[o.index] = o
    return [last[i] for i in sorted(last)]


def table(outcomes: list[Outcome], seed: int, seconds: float) -> str:
    counts = Counter(o.outcome for o in outcomes)
    by_kind = Counter((o.kind, o.outcome) for o in outcomes)
    lines = [
        "| seed | inputs | clean (loaded) | clean (refused) | crashes | hangs (> 30 s CPU) | "
        "silent changes | time |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {seed} | {len(outcomes)} | {counts['clean_loaded']} | {counts['clean_refused']} | "
        f"{counts['crash']} | {counts['hang']} | {counts['silent']} | {seconds:.0f} s |",
        "",
        "| kind | inputs | loaded | refused | crashes | hangs | silent |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    proposed = [o for o in outcomes if o.grappes >= 0]
    cpu = sum(o.cpu for o in outcomes)
    footer = (
        f"\n`propose` + every export ran on {len(proposed)} input(s) "
        f"({sum(o.grappes for o in proposed)} grappes in all); worker CPU {cpu:.0f} s "
        f"({cpu / max(len(outcomes), 1):.2f} s per input)."
    )
    for kind in (*KINDS, *STRUCTURED_KINDS):
        total = sum(by_kind[(kind, o)] for o in OUTCOMES)
        if not total:
            continue
        lines.append(
            f"| {kind} | {total} | {by_kind[(kind, 'clean_loaded')]} | "
            f"{by_kind[(kind, 'clean_refused')]} | {by_kind[(kind, 'crash')]} | "
            f"{by_kind[(kind, 'hang')]} | {by_kind[(kind, 'silent')]} |"
        )
    lines.append(footer)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000, help="number of inputs")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds before a hang")
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS,
                        help="establishments in the base (split between the départements)")
    parser.add_argument("--propose-time", type=float, default=0.5,
                        help="CP-SAT budget (deterministic s)")
    parser.add_argument("--only", type=int, default=None, help="replay one input")
    parser.add_argument("--from", dest="first", type=int, default=0,
                        help="first input (a campaign split between processes)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument("--show", type=int, default=20, help="problems listed after the table")
    parser.add_argument("--log", type=Path, default=None, help="JSON-lines file of outcomes")
    parser.add_argument("--resume", action="store_true",
                        help="with --log: skip the inputs already in the log (hangs run again)")
    parser.add_argument("--summarise", type=Path, default=None,
                        help="print the table of a (possibly partial) --log file and stop")
    parser.add_argument("--kinds", default=",".join(KINDS),
                        help="input kinds, comma-separated: etalab,template,ej,dui (default) "
                             "and finess_plus,scenario (bench/fuzz_structured.py)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    if args.summarise is not None:
        outcomes = read_log(args.summarise)
        seconds = 0.0
    else:
        start = time.perf_counter()
        outcomes = run_campaign(args.n, args.seed, args.timeout, args.rows, args.propose_time,
                                args.only, args.workers, args.log, args.resume,
                                tuple(k.strip() for k in args.kinds.split(",") if k.strip()),
                                args.first)
        seconds = time.perf_counter() - start
        if args.resume and args.log is not None:
            outcomes = [o for o in read_log(args.log) if o.index < args.n]
    print(table(outcomes, args.seed, seconds))
    bad = [o for o in outcomes if o.outcome in ("crash", "hang", "silent")]
    if bad:
        print(f"\nProblèmes ({len(bad)}) :")
        for o in bad[: args.show]:
            print(f"  #{o.index} [{o.kind}] {o.outcome} {o.mutations} : {o.detail}")
    if args.verbose:
        for o in outcomes:
            print(f"  #{o.index} [{o.kind}] {o.outcome} {o.mutations} {o.detail[:200]}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
