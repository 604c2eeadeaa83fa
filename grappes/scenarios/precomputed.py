"""The bundled sample's proposals, computed once at build time and stored as data.

Why: the app opens on the sample region, and solving it is most of a cold start (3 s on an
idle machine, 15 s on a loaded one). Issue 12 allows the sample's proposal to be precomputed
"if it is rebuilt and checked by a test when the solver changes". So:

* ``python -m grappes.scenarios.precomputed`` solves every view the sidebar offers on the
  sample (each rule set × each eligible field, the whole région, default seed and time
  budget) and writes the solver's output (grappes, unplaced ESMS with their reasons,
  statistics) to :func:`precomputed_path`, one entry per view, each with a
  :func:`fingerprint`;
* the app (:func:`stored_report`) uses an entry ONLY when its fingerprint equals the one
  computed now: the loaded table (every row, so a change of the input files or of the
  reader shows), the rule set's content, the view's settings, the source code of the solver,
  the programme's rules and the core model, and the versions of the libraries that decide the
  answer (OR-Tools, NumPy, SciPy, networkx, pandas). Anything else: no entry, the app solves;
* the stored grouping is turned into a report by :func:`grappes.solver.propose.
  report_from_proposal`, the same code as after a fresh solve: amounts, points and checks
  are recomputed, no stored amount is trusted;
* ``tests/test_precomputed.py`` checks that the stored default view is what the solver gives
  now, and that the fingerprint is current (else: rebuild with the command above).

The format is the solver's ``Proposal`` (not the saved-scenario file of
``grappes.scenarios.scenario_file``: that one restores a what-if session, without the
solver's statistics or its scope); the fingerprints are that module's.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import math
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from grappes.core.model import Grappe, LoadResult
from grappes.core.paths import sample_dir
from grappes.programme.rules import RuleSet, load_rules
from grappes.scenarios.scenario_file import row_hashes, rules_fingerprint, table_fingerprint
from grappes.scenarios.view import View

#: the app's first-proposal budget, the one worth precomputing
from grappes.solver.settings import APP_TIME_LIMIT

FORMAT_NAME = "grappes-propositions-precalculees"
FORMAT_VERSION = 2
FILE_NAME = "propositions-precalculees.json.gz"
#: the packages of the project whose code decides the solver's answer
CODE_PACKAGES = ("grappes/solver", "grappes/programme", "grappes/core", "grappes/geo")
#: the libraries whose version may change the answer
LIBRARIES = ("ortools", "numpy", "scipy", "networkx", "pandas")
UNPLACED_TEXT = ("finess_et", "finess_ej", "champ", "code", "reason", "near_miss")


def precomputed_path() -> Path:
    return sample_dir() / FILE_NAME


# --------------------------------------------------------------------------- fingerprint


def code_fingerprint(root: Path | None = None) -> str:
    """SHA-256 of the project's source files that decide the answer (path and bytes)."""
    root = root or Path(__file__).resolve().parents[2]
    digest = hashlib.sha256()
    for package in CODE_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode("utf-8") + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    out = {}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = ""
    return out


def input_fingerprint(result: LoadResult) -> str:
    """SHA-256 of the loaded table (every row and column) and of the file's OG links."""
    digest = hashlib.sha256(table_fingerprint(row_hashes(result.etablissements)).encode())
    links = getattr(result, "liens", None)
    if links is not None and len(links):
        text = links.astype("string").fillna("").to_csv(index=False)
        digest.update(text.encode("utf-8"))
    return digest.hexdigest()


def fingerprint(view: View, ruleset: RuleSet, input_print: str, code_print: str,
                versions: dict[str, str]) -> str:
    """What an entry is valid for: the same input, rules, view, code and libraries."""
    body = {"format": FORMAT_VERSION, "donnees": input_print,
            "regles": rules_fingerprint(ruleset), "vue": asdict(view),
            "code": code_print, "bibliotheques": versions}
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- (de)serialising


def _number(value: Any) -> Any:
    """JSON-safe scalars (NumPy numbers to Python, NaN to None)."""
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return _number(value)


def proposal_json(proposal: Any) -> dict[str, Any]:
    """The solver's ``Proposal`` as JSON: grappes, statistics, and the unplaced ESMS grouped
    by (code, reason, near miss, km), each group a list of row positions in the table the
    solver was given (``proposal.order``): most of the 2 000 rows share a handful of reasons,
    and a FINESS ET, its OG and field are read back from the table."""
    rank = {et: i for i, et in enumerate(proposal.order)}
    groups: dict[tuple[Any, ...], list[int]] = {}
    columns = ["finess_et", "code", "reason", "near_miss", "near_miss_km"]
    for et, code, reason, miss, km in proposal.unplaced[columns].itertuples(index=False):
        key = (_text(code), _text(reason), _text(miss), _number(km))
        groups.setdefault(key, []).append(rank[str(et)])
    return {"grappes": [_plain(asdict(g)) for g in proposal.grappes],
            "non_places": [[*key, rows] for key, rows in groups.items()],
            "stats": _plain(proposal.stats.as_dict())}


def _text(value: Any) -> str:
    return "" if value is None or value is pd.NA else str(value)


def proposal_from_json(item: dict[str, Any], scoped: pd.DataFrame) -> Any:
    """The ``Proposal`` back on ``scoped``, the table the solver was given."""
    from grappes.programme.validate import text_column
    from grappes.solver.proposal import Proposal, SolverStats

    order = text_column(scoped, "finess_et").tolist()
    ej, champ = text_column(scoped, "finess_ej").tolist(), text_column(scoped, "champ").tolist()
    grappes = [Grappe(**{k: v for k, v in g.items() if k != "metrics"},
                      metrics={k: (math.nan if v is None else float(v))
                               for k, v in g["metrics"].items()})
               for g in item["grappes"]]
    records = sorted((i, code, reason, miss, km) for code, reason, miss, km, rows
                     in item["non_places"] for i in rows)
    unplaced = pd.DataFrame(
        [[order[i], ej[i], champ[i], code, reason, miss, km]
         for i, code, reason, miss, km in records],
        columns=[*UNPLACED_TEXT, "near_miss_km"])
    unplaced = unplaced.astype({c: "string" for c in UNPLACED_TEXT})
    unplaced["near_miss_km"] = pd.to_numeric(unplaced["near_miss_km"]).astype("float64")
    return Proposal(grappes=grappes, unplaced=unplaced,
                    stats=SolverStats.from_mapping(item["stats"]), order=order)


# --------------------------------------------------------------------------- building


def sample_views(result: LoadResult, rule_names: Sequence[str], seed: int,
                 time_limit: float, every_field: bool = True) -> list[View]:
    """The views the app's sidebar offers on the sample: the first région (the app's
    default, most ESMS), each rule set × each eligible field present and all fields together
    (or PA alone)."""
    from grappes.core.model import CHAMPS
    from grappes.programme.validate import text_column

    etab = result.etablissements
    esms = etab[text_column(etab, "champ").isin(list(CHAMPS)).to_numpy()]
    counts = text_column(esms, "region").value_counts()
    region = str(counts.index[0]) if len(counts) else None
    present = set(text_column(etab, "champ"))
    views = []
    for name in rule_names:
        eligible = load_rules(name).grouping.eligible_champs
        champs = [c for c in CHAMPS if c in present and c in eligible]
        # None: "Tous les champs", offered by the sidebar too
        wanted: list[str | None] = [*champs, None] if every_field and champs else \
            [c for c in champs if c == "PA"]
        for champ in wanted:
            views.append(View(name, region, (), champ, int(seed), float(time_limit)))
    return views


def build(result: LoadResult, views: Iterable[View], echo: Any = None) -> bytes:
    """Solve each view and return the file's content (gzip of UTF-8 JSON)."""
    import time

    from grappes import __version__
    from grappes.solver.propose import propose

    input_print, code_print, versions = input_fingerprint(result), code_fingerprint(), \
        library_versions()
    entries = []
    for view in views:
        start = time.perf_counter()
        report = propose(result, view.rules, region=view.region, champ=view.champ,
                         seed=view.seed, time_limit=view.time_limit,
                         departements=list(view.departements) or None)
        entries.append({"vue": asdict(view) | {"departements": list(view.departements)},
                        "empreinte": fingerprint(view, report.ruleset, input_print,
                                                 code_print, versions),
                        "proposition": proposal_json(report.proposal)})
        if echo:
            echo(f"{view.rules} / {view.champ or 'tous'} : {len(report.grappes)} grappes, "
                 f"{time.perf_counter() - start:.1f} s")
    payload = {"format": FORMAT_NAME, "version": FORMAT_VERSION,
               "outil": f"grappes {__version__}", "bibliotheques": versions,
               "vues": entries}
    text = json.dumps(payload, ensure_ascii=False, indent=None, separators=(",", ":"),
                      allow_nan=False) + "\n"
    # gzip (mtime 0: the same proposals give the same bytes): ~1 Mo of JSON, ~0.15 Mo stored
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


# --------------------------------------------------------------------------- reading


def read_payload(path: Path | None = None) -> dict[str, Any]:
    """The stored file's content ({} when it is missing, unreadable or not this format)."""
    path = path or precomputed_path()
    try:
        payload = json.loads(gzip.decompress(path.read_bytes()).decode("utf-8"))
    except (OSError, ValueError, EOFError):
        return {}
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_NAME \
            or payload.get("version") != FORMAT_VERSION:
        return {}
    return payload


def read_entries(path: Path | None = None) -> dict[str, dict[str, Any]]:
    """Fingerprint -> stored proposal ({} when the file is missing or not this format)."""
    return {e["empreinte"]: e["proposition"] for e in read_payload(path).get("vues", [])
            if isinstance(e, dict) and "empreinte" in e and "proposition" in e}


def stored_versions(path: Path | None = None) -> dict[str, str]:
    """The library versions the stored file was built with ({} when unreadable)."""
    versions = read_payload(path).get("bibliotheques")
    return dict(versions) if isinstance(versions, dict) else {}


class Prints:
    """The fingerprints that do not depend on the view, computed once per loaded table."""

    def __init__(self, result: LoadResult) -> None:
        self.input = input_fingerprint(result)
        self.code = code_fingerprint()
        self.versions = library_versions()

    def of(self, view: View, ruleset: RuleSet) -> str:
        return fingerprint(view, ruleset, self.input, self.code, self.versions)


def stored_report(result: LoadResult, view: View, entries: dict[str, dict[str, Any]],
                  prints: Prints) -> Any:
    """The report of ``view`` rebuilt from a stored proposal whose fingerprint matches
    exactly (costed and checked now, as after a solve); None when there is none."""
    from grappes.solver.propose import filter_scope, report_from_proposal
    from grappes.solver.settings import SolverSettings

    ruleset = load_rules(view.rules)
    item = entries.get(prints.of(view, ruleset))
    if item is None:
        return None
    scoped, out_of_scope = filter_scope(result.etablissements, view.region,
                                        list(view.departements) or None)
    proposal = proposal_from_json(item, scoped.reset_index(drop=True))
    # said in the statistics: the grouping (and its runtime) comes from the build
    proposal.stats.precalcule = True
    settings = SolverSettings(seed=view.seed, time_limit=view.time_limit)
    return report_from_proposal(proposal, result, ruleset, settings, out_of_scope=out_of_scope,
                                region=view.region, departements=view.departements,
                                champ=view.champ)


# --------------------------------------------------------------------------- command


def main(argv: Sequence[str] | None = None) -> int:
    from grappes.ingest.sample import load_sample
    from grappes.programme.rules import available_rules

    parser = argparse.ArgumentParser(
        prog="python -m grappes.scenarios.precomputed",
        description="Précalcule les propositions de la région exemple (une par appel et par "
                    "champ) pour l'ouverture rapide de l'application.")
    parser.add_argument("--graine", type=int, default=0)
    parser.add_argument("--temps", type=float, default=APP_TIME_LIMIT,
                        help="budget de la sélection exacte, comme l'application (s)")
    parser.add_argument("--pa-seulement", action="store_true",
                        help="seulement le champ PA (la vue par défaut) pour chaque appel")
    parser.add_argument("--sortie", type=Path, default=None)
    args = parser.parse_args(argv)
    result = load_sample()
    views = sample_views(result, available_rules(), args.graine, args.temps,
                         every_field=not args.pa_seulement)
    data = build(result, views, echo=print)
    out = args.sortie or precomputed_path()
    out.write_bytes(data)
    print(f"{out} : {len(views)} proposition(s), {len(data) // 1024} Ko")
    return 0


if __name__ == "__main__":
    sys.exit(main())
