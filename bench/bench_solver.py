"""Benchmark the grappe solver against peer methods on the same instances, in one run.

    python bench/bench_solver.py [--quick] [--national-size N] [--seed S] [--time-limit T]

Instances: the bundled sample région (Centre-Val de Loire) and a generated national-size
table, each solved one field at a time (PA, then PH). Methods: the solver, its greedy
baseline, spopt's max-p and k-means-constrained (see ``bench/peers.py``), plus the solver's
upper bound on the small-OG ESMS any grouping can place. Every grouping is scored by
``bench/metrics.py``; one table is printed (rich) and written as markdown to
``bench/results/solver.md``.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

# run as a script from anywhere: the repository root must be importable
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bench.metrics import TABLE_COLUMNS, Evaluation, evaluate, markdown_table, table_rows
from bench.peers import (
    GLOUTON,
    KMEANS,
    MAXP,
    SOLVEUR,
    PeerRun,
    eligible_esms,
    run_greedy,
    run_kmeans_constrained,
    run_maxp,
    run_solver,
)
from grappes.core.model import GroupingRules
from grappes.programme.rules import DEFAULT_RULES
from grappes.programme.rules import load_rules as load

RESULTS = Path(__file__).resolve().parent / "results" / "solver.md"
CHAMPS_BENCH: tuple[str, ...] = ("PA", "PH")
METHODS: tuple[str, ...] = (SOLVEUR, GLOUTON, MAXP, KMEANS)
BOUND = "borne supérieure"

#: Targets of the issue: sample solved in < 10 s, national instance in < 2 min (both fields).
SAMPLE_SECONDS = 10.0
NATIONAL_SECONDS = 120.0
#: Small-OG ESMS placed, as a share of the upper bound.
BOUND_SHARE = 0.99

#: rich wraps at 80 columns when the output is not a terminal: keep the table readable in logs
console = Console() if sys.stdout.isatty() else Console(width=220)


@dataclass
class Instance:
    """One table to group, with its name and the wall time its solver runs may take."""

    name: str
    table: pd.DataFrame
    budget_s: float


@dataclass
class Outcome:
    """Evaluations of every method on one (instance, field)."""

    #: "instance — champ", as printed
    instance: str
    #: the instance alone (its fields share the time budget)
    base: str
    champ: str
    evaluations: dict[str, Evaluation]
    budget_s: float
    #: what the solver's CP-SAT selection proved over its own candidates, e.g.
    #: "borne CP-SAT (candidats) 346, optimum prouvé 0/1" (not a bound on every grouping:
    #: the local search may form grappes no candidate had)
    selection: str = ""


# --------------------------------------------------------------------------- inputs


def load_rules(name: str | None) -> tuple[GroupingRules, str]:
    """Grouping rules of the named rule set (default one when None) and its name."""
    chosen = name or DEFAULT_RULES
    try:
        return load(chosen).grouping, chosen
    except ValueError as exc:
        raise typer.BadParameter(f"règles {chosen!r} : {exc}") from exc


def sample_instance() -> Instance:
    """The bundled sample région."""
    from grappes.ingest.sample import load_sample

    table = load_sample().etablissements
    regions = sorted(set(table["region"].astype("string").dropna()))
    return Instance(f"échantillon (région {', '.join(regions)})", table, SAMPLE_SECONDS)


def national_instance(n_esms: int, seed: int) -> Instance:
    """A generated national-size table of PA/PH ESMS."""
    from grappes.synthetic import solver_instance

    table = solver_instance(n_esms=n_esms, seed=seed)
    return Instance(f"national généré ({len(table)} ESMS)", table, NATIONAL_SECONDS)


# --------------------------------------------------------------------------- one instance


def _failed(method: str, exc: Exception) -> PeerRun:
    """A run that could not happen: no grouping, the reason in the note."""
    reason = "indisponible" if isinstance(exc, ImportError) else "échec"
    detail = escape(f"{type(exc).__name__}: {exc}")
    console.print(f"  [red]{method} : {reason}[/red] ({detail})")
    return PeerRun(method, pd.Series(dtype="string"), float("nan"), note=reason)


def run_instance(
    instance: Instance,
    champ: str,
    rules: GroupingRules,
    methods: tuple[str, ...],
    seed: int,
    time_limit: float,
    maxp_sa: int = 10,
) -> Outcome:
    """Run every method on the eligible ESMS of ``champ`` and evaluate their groupings."""
    inst = eligible_esms(instance.table, rules, champ)
    label = f"{instance.name} — {champ}"
    console.print(f"[bold]{label}[/bold] : {len(inst)} ESMS éligibles")
    runners: dict[str, Callable[[], PeerRun]] = {
        SOLVEUR: lambda: run_solver(inst, rules, champ, seed=seed, time_limit=time_limit),
        GLOUTON: lambda: run_greedy(inst, rules, champ),
        MAXP: lambda: run_maxp(inst, rules, seed=seed, max_iterations_sa=maxp_sa),
        KMEANS: lambda: run_kmeans_constrained(inst, rules, seed=seed),
    }
    evaluations: dict[str, Evaluation] = {}
    bound: float | None = None
    selection = ""
    for method in methods:
        start = time.perf_counter()
        try:
            run = runners[method]()
        except Exception as exc:  # a peer failing must not stop the benchmark
            run = _failed(method, exc)
        if run.upper_bound is not None:
            bound = run.upper_bound if bound is None else min(bound, run.upper_bound)
        if method == SOLVEUR:
            selection = selection_text(run.stats)
            if run.stats.get("cpu_s") is not None:
                console.print(
                    f"  {method} : CPU {run.stats['cpu_s']:g} s, étapes (s) "
                    f"{escape(str(run.stats.get('timings_s', {})))}"
                )
        evaluations[method] = evaluate(
            inst,
            run.assignment,
            rules,
            champ,
            instance=label,
            method=method,
            runtime_s=run.runtime_s,
            note=run.note,
        )
        evaluations[method].ran = bool(np.isfinite(run.runtime_s))
        console.print(
            f"  {method} : {evaluations[method].valid_grappes} grappes valides, "
            f"{time.perf_counter() - start:.1f} s"
        )
    for e in evaluations.values():
        e.upper_bound = bound
    return Outcome(label, instance.name, champ, evaluations, instance.budget_s, selection)


def selection_text(stats: dict) -> str:
    """What the solver's exact selection proved, from ``Proposal.stats`` ('' if unknown)."""
    parts = []
    if stats.get("cpu_s") is not None:
        parts.append(f"CPU {stats['cpu_s']:g} s")
    if stats.get("zones") is not None:
        parts.append(
            f"zones {stats['zones']} (améliorées {stats.get('zones_improved', 0)}, "
            f"certifiées {stats.get('zones_certified', 0)})"
        )
    if stats.get("candidate_bound") is not None:
        parts.append(f"borne CP-SAT (candidats) {stats['candidate_bound']:g}")
    if stats.get("selection_groups") is not None:
        parts.append(
            f"optimum prouvé {stats.get('selection_groups_optimal', 0)}"
            f"/{stats['selection_groups']} groupes"
        )
    return ", ".join(parts)


# --------------------------------------------------------------------------- tables


def result_rows(outcomes: list[Outcome]) -> list[list[str]]:
    """Table rows: every method of every instance, then its upper bound."""
    rows: list[list[str]] = []
    for outcome in outcomes:
        evals = list(outcome.evaluations.values())
        rows.extend(table_rows(evals))
        bound = evals[0].upper_bound if evals else None
        total = evals[0].esms_small_og if evals else 0
        cells = [""] * len(TABLE_COLUMNS)
        cells[0], cells[1] = outcome.instance, BOUND + " (solveur)"
        cells[4] = "non calculée" if bound is None else f"≤ {bound:g} / {total}"
        cells[7] = outcome.selection
        rows.append(cells)
    return rows


def _check(ok: bool | None) -> str:
    return "—" if ok is None else ("oui" if ok else "NON")


def target_rows(outcomes: list[Outcome]) -> list[list[str]]:
    """One row per (instance, field): is each target of the issue met by the solver?

    The upper bound is the LP relaxation of the packing (``grappes.solver.bounds``): the
    optimum lies between the solver's count and it, so their difference is a proven gap.

    The time target is for a whole instance, so it is checked on the solver's time summed
    over the fields of the instance (PA + PH).
    """
    totals: dict[str, float] = {}
    for outcome in outcomes:
        s = outcome.evaluations.get(SOLVEUR)
        if s is not None and s.ran:
            totals[outcome.base] = totals.get(outcome.base, 0.0) + s.runtime_s
    rows = []
    for outcome in outcomes:
        s = outcome.evaluations.get(SOLVEUR)
        if s is None or not s.ran:
            rows.append([outcome.instance, "solveur non exécuté", "", "", "", "", "", ""])
            continue
        share = s.share_of_bound
        m = outcome.evaluations.get(MAXP)
        if m is not None and not m.ran:
            m = None  # max-p failed: nothing to compare with
        m_km = None if m is None else (m.mean_km if np.isfinite(m.mean_km) else m.mean_km_all)
        total = totals[outcome.base]
        gap = (
            "—"
            if s.upper_bound is None or share is None
            else f"{s.upper_bound - s.esms_small_og_placed:g} ESMS ({100 * (1 - share):.1f} %)"
        )
        rows.append(
            [
                outcome.instance,
                _check(s.n_violations == 0 and s.og_split == 0),
                "—" if share is None else f"{_check(share >= BOUND_SHARE)} ({100 * share:.1f} %)",
                gap,
                _check(None if m is None else s.valid_grappes >= m.valid_grappes),
                _check(None if m is None else s.points >= m.points),
                _check(
                    None
                    if m_km is None or not np.isfinite(m_km) or not np.isfinite(s.mean_km)
                    else s.mean_km <= m_km
                ),
                f"{_check(total < outcome.budget_s)} ({s.runtime_s:.1f} s ; instance "
                f"{total:.1f} s < {outcome.budget_s:g} s)",
            ]
        )
    return rows


TARGET_COLUMNS: tuple[str, ...] = (
    "instance",
    "aucune violation",
    f"≥ {BOUND_SHARE:.0%} de la borne",
    "écart prouvé à l'optimum (≤)",
    "grappes ≥ max-p",
    "points ≥ max-p",
    "km moy. ≤ max-p",
    "temps",
)


def print_table(title: str, header: tuple[str, ...], rows: list[list[str]]) -> None:
    table = Table(title=title, show_lines=False)
    for name in header:
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(*row)
    console.print(table)


def write_markdown(
    path: Path, command: str, settings: dict[str, str], results: str, targets: str
) -> Path:
    """The results file: how it was produced, the table, the targets."""
    lines = [
        "# Banc d'essai du solveur de grappes",
        "",
        f"Commande : `{command}`",
        "",
        *[f"- {k} : {v}" for k, v in settings.items()],
        "",
        "## Résultats",
        "",
        results,
        "",
        "## Objectifs (solveur)",
        "",
        targets,
        "",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- command


def main(
    quick: Annotated[
        bool,
        typer.Option("--quick", help="Essai rapide : échantillon et national de 3 000 ESMS."),
    ] = False,
    national_size: Annotated[
        int | None,
        typer.Option("--national-size", min=0, help="ESMS de l'instance nationale (0 : aucune)."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Graine (solveur, générateur, pairs).")] = 0,
    time_limit: Annotated[
        float | None,
        typer.Option("--time-limit", min=1.0, help="Limite de temps du solveur par champ (s)."),
    ] = None,
    rules_name: Annotated[str | None, typer.Option("--rules", help="Jeu de règles.")] = None,
    methods: Annotated[
        str, typer.Option("--methods", help="Méthodes, séparées par des virgules.")
    ] = ",".join(METHODS),
    out: Annotated[Path, typer.Option("--out", help="Fichier markdown des résultats.")] = RESULTS,
    no_sample: Annotated[
        bool, typer.Option("--sans-echantillon", help="Sans l'échantillon.")
    ] = False,
    maxp_sa: Annotated[
        int | None,
        typer.Option(
            "--maxp-recuits",
            min=1,
            help="Recuits de max-p par construction retenue (défaut spopt 10 ; 1 en --quick).",
        ),
    ] = None,
) -> None:
    """Compare le solveur de grappes à max-p, k-means contraint et au glouton."""
    chosen = tuple(m.strip() for m in methods.split(",") if m.strip())
    unknown = [m for m in chosen if m not in METHODS]
    if unknown:
        msg = f"méthode(s) inconnue(s) : {', '.join(unknown)} (connues : {', '.join(METHODS)})"
        raise typer.BadParameter(msg)
    size = national_size if national_size is not None else (3_000 if quick else 30_000)
    limit = time_limit if time_limit is not None else (10.0 if quick else 30.0)
    # spopt anneals every construction that reaches the best p, 10 times each: 990 runs in
    # a sparse région of 30 units, 8 minutes on the 3,000-ESMS instance. One run keeps p
    # (set by the construction) and, measured on the sample, the same compactness.
    recuits = maxp_sa if maxp_sa is not None else (1 if quick else 10)
    rules, rules_label = load_rules(rules_name)

    instances: list[Instance] = []
    try:
        if not no_sample:
            instances.append(sample_instance())
        if size:
            instances.append(national_instance(size, seed))
    except (OSError, ValueError) as exc:
        console.print(f"[red]Instance impossible à charger :[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    outcomes = [
        run_instance(instance, champ, rules, chosen, seed, limit, recuits)
        for instance in instances
        for champ in CHAMPS_BENCH
    ]

    rows = result_rows(outcomes)
    targets = target_rows(outcomes)
    print_table("Solveur et méthodes de référence", TABLE_COLUMNS, rows)
    print_table("Objectifs", TARGET_COLUMNS, targets)
    command = "python bench/bench_solver.py " + " ".join(sys.argv[1:])
    settings = {
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cœurs, Python "
        f"{platform.python_version()}",
        "règles": rules_label,
        "graine": str(seed),
        "limite de temps du solveur": f"{limit:g} s par champ",
        "pairs": "max-p et k-means contraint lancés région par région (temps additionnés)",
        "max-p": f"KNN k=6 symétrisé, seuil {rules.min_esms} ESMS "
        f"({rules.min_esms_derogatoire} en Corse / outre-mer), 99 constructions, "
        f"{recuits} recuit(s) par construction retenue",
        "k-means contraint": "ceil(n/22) groupes de 15 à 30 ESMS "
        f"({rules.min_esms_derogatoire} à 30 en Corse / outre-mer), n_init=10",
    }
    written = write_markdown(
        out,
        command.strip(),
        settings,
        markdown_table(TABLE_COLUMNS, rows),
        markdown_table(TARGET_COLUMNS, targets),
    )
    console.print(f"Résultats écrits dans {written}")


if __name__ == "__main__":
    typer.run(main)
