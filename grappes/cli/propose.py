"""``grappes proposer``: propose grappes for a FINESS file (or the sample) and cost them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from grappes.cli.support import (
    RULES_HELP,
    DuiOption,
    EjOption,
    InputArg,
    JsonFlag,
    SampleFlag,
    SystemOutFlag,
    UsageError,
    check_number,
    check_seed,
    fail,
    json_default,
    prepare_out,
    print_written,
    reject_notice,
)
from grappes.core.errors import GrappesError, UnusableInput
from grappes.core.formatting import decimal_fr, euros
from grappes.core.model import CHAMPS, LoadResult
from grappes.core.vocabulary import UNPLACED_LABELS
from grappes.exports.french_excel import write_csv
from grappes.scenarios.scenario import Scenario
from grappes.scenarios.scenario_file import LoadedScenario
from grappes.solver.propose import propose
from grappes.solver.settings import DEFAULT_TIME_LIMIT


class CommandError(UsageError):
    """A user input the command cannot use (French message, exit code 2)."""


def load_input(file: Path | None, ej: Path | None, dui: Path | None, sample: bool) -> LoadResult:
    """The table from a file (``grappes.ingest.load``) or the bundled sample."""
    from grappes.ingest.sample import resolve_input

    file, ej, dui = resolve_input(file, ej, dui, sample)
    from grappes.ingest import load

    return load(file, ej=ej, dui=dui)


def read_links_file(path: Path | None, result: LoadResult | None = None):
    """Known partnerships (``finess_ej_a;finess_ej_b``) or None.

    Checked like the FINESS+ groups (``grappes.ingest.links.check_links``): pairs with an
    invalid number or an OG absent of ``result`` are dropped, counted and said in
    ``result.warnings``.
    """
    if path is None:
        return None
    import csv

    from grappes.ingest.base import decode_text, read_bytes
    from grappes.ingest.links import check_links, read_links

    if not path.is_file():
        msg = f"{path} : fichier de liens introuvable"
        raise CommandError(msg)
    role = "fichier de liens (--liens)"
    # decode_text refuses binary files with a French message (csv used to raise _csv.Error)
    text = decode_text(read_bytes(path, 50_000_000, role), role).text
    try:
        links = read_links(text.encode("utf-8"))
    except csv.Error as exc:
        msg = f"{role} illisible : {path} n'est pas un CSV finess_ej_a;finess_ej_b"
        raise UnusableInput(msg) from exc
    links, warnings = check_links(links, _ogs(result))
    if result is not None:
        result.warnings.extend(warnings)
        result.meta["liens_fichier"] = len(links)
    return links


def _ogs(result: LoadResult | None) -> set[str] | None:
    if result is None or "finess_ej" not in result.etablissements.columns:
        return None
    return set(result.etablissements["finess_ej"].astype("string").fillna("")) - {""}


def nothing_to_propose(result: LoadResult) -> str:
    """Why ``propose`` stops: no usable row (exit 1, never a success with no grappe)."""
    if result.rejets:
        return (f"aucun établissement utilisable : les {len(result.rejets)} ligne(s) lue(s) "
                "ont toutes été rejetées (détail : grappes verifier FICHIER --sortie DOSSIER, "
                "rejets.csv) ; rien à proposer")
    return "aucun établissement dans le fichier (en-tête seul ?) : rien à proposer"


def write_outputs(scenario: Scenario, out: Path, xlsx: bool = False) -> list[Path]:
    """``grappes.csv``, ``etablissements.csv``, ``financements.csv``, ``financements_og.csv``
    (French Excel CSV) in ``out``, and the workbook ``grappes.xlsx`` with ``xlsx``: the same
    builders as the app's downloads (``grappes.exports.dossier``), so the CSV files are the
    same either way."""
    from grappes.exports.dossier import write_exports

    return write_exports(scenario, out, xlsx=xlsx)


def write_rejects(result: LoadResult, out: Path) -> list[Path]:
    """``rejets.csv`` in ``out`` when input rows were rejected (same file as ``check``)."""
    if not result.rejets:
        return []
    from grappes.exports.rejects import rejets_frame

    return [write_csv(rejets_frame(result), out / "rejets.csv")]


def reading_summary(result: LoadResult) -> dict[str, Any]:
    """What reading the input did, for the JSON output: nothing lost without a word."""
    return {
        "lignes_chargees": len(result.etablissements),
        "lignes_rejetees": len(result.rejets),
        "avertissements": list(result.warnings),
        "detail_rejets": "rejets.csv (--sortie) ou grappes verifier FICHIER --sortie DOSSIER",
    }


def restore_scenario(path: Path, result: LoadResult, rules: str | None, region: str | None,
                     champ: str | None) -> LoadedScenario:
    """The scenario saved in ``path`` put back on ``result`` (with French notes on what no
    longer fits, ``LoadedScenario.notes``). Its scope and solver settings are the file's: a
    different ``--region`` or ``--champ`` is refused rather than silently ignored."""
    from grappes.ingest.base import read_bytes
    from grappes.programme.rules import load_rules
    from grappes.scenarios.scenario_file import load_scenario

    if not path.is_file():
        msg = f"--scenario : fichier introuvable : {path}"
        raise CommandError(msg)
    data = read_bytes(path, 200_000_000, "scénario (--scenario)")
    loaded = load_scenario(data, result, load_rules(rules) if rules else None)
    scope = loaded.scope
    if region is not None and region != scope.region:
        msg = (f"--region {region} : le scénario porte sur {scope.text()} ; retirez --region "
               "(le périmètre vient du scénario)")
        raise CommandError(msg)
    if champ is not None and (champ,) != scope.champs:
        msg = (f"--champ {champ} : le scénario porte sur {scope.text()} ; retirez --champ "
               "(le périmètre vient du scénario)")
        raise CommandError(msg)
    return loaded


def write_scenario_file(source: Scenario | LoadedScenario, result: LoadResult,
                        out: Path | None, target: Path | None) -> list[Path]:
    """``scenario.json`` in ``out`` and/or the ``--enregistrer-scenario`` file: the saved
    scenario the app loads (``grappes.scenarios.scenario_file``). A restored scenario is
    saved from its what-if session, so its starting proposal, locks and history travel on."""
    from grappes.exports.safe_write import write_bytes_safely
    from grappes.scenarios.scenario_file import FILE_NAME, save_scenario

    targets = ([out / FILE_NAME] if out is not None else []) + (
        [target] if target is not None else [])
    if not targets:
        return []
    data = (save_scenario(source.whatif, result, scope=source.scope, settings=source.settings)
            if isinstance(source, LoadedScenario) else save_scenario(source, result))
    return [write_bytes_safely(t, data) for t in dict.fromkeys(targets)]


def print_report(console: Console, scenario: Scenario) -> None:
    """The French summary: one line per grappe, totals (valid grappes only), invalid grappes
    apart with their breaks, reasons of the unplaced ESMS."""
    from grappes.exports.tables import grappes_table

    stats = scenario.stats
    table = Table(
        title=f"Grappes proposées ({scenario.rules.title or scenario.rules.name} ; "
              f"{scenario.scope.text()})",
        title_justify="left",
    )
    # an 80-column terminal gets the decisive columns only; --sortie / --json carry everything
    wide = console.width >= 140
    columns = (
        ("Grappe", "left", True),
        ("Champ", "left", wide),
        ("ESMS", "right", True),
        ("OG", "right", True),
        ("Départements", "left", wide),
        ("Critères calculés", "right", wide),
        ("Points grille", "right", True),
        ("Financement", "right", True),
        ("Porteur", "left", wide),
        ("Dist. moy./max", "right", wide),
        ("Valide", "left", True),
        ("Alertes", "right", True),
    )
    shown = [c[2] for c in columns]
    for col, justify, show in columns:
        if show:
            table.add_column(col, justify=justify, no_wrap=col != "Départements")
    frame = grappes_table(scenario)
    for row in frame.itertuples(index=False):
        n_warn = len(row.alertes.split(" | ")) if row.alertes else 0
        cells = (
            row.grappe,
            row.champ,
            str(row.nb_esms),
            str(row.nb_og),
            row.departements,
            str(row.criteres_calcules),
            f"{row.points_grille}/{row.points_max}",
            euros(float(row.financement)),
            row.porteur,
            f"{_km(row.distance_moyenne_km)} / {_km(row.distance_max_km)} km",
            "oui" if row.valide else "[red]non[/red]",
            str(n_warn) if n_warn else "",
        )
        table.add_row(*(c for c, show in zip(cells, shown, strict=True) if show))
    console.print(table)
    console.print(
        "Détail de chaque grappe (raisons, alertes, membres) : --json ou --sortie.", style="dim"
    )
    totals = scenario.totals()
    # one figure per line: a terminal that wraps a sentence cut « 13 790 000 € » in two
    summary = Table.grid(padding=(0, 1))
    summary.add_column(style="bold", no_wrap=True)
    summary.add_column(no_wrap=True, overflow="fold")
    summary.add_row("Grappes", f"{totals.grappes} dont {totals.valides} valide(s)")
    if not stats:  # a restored scenario: no solver run, so no solver statistics
        summary.add_row("ESMS placés", str(totals.esms_places))
    else:
        summary.add_row("ESMS placés", f"{stats.get('esms_placed', 0)} sur "
                        f"{stats.get('esms_eligible', 0)} éligibles")
        summary.add_row("ESMS de petits OG placés",
                        f"{stats.get('esms_small_og_placed', 0)} / {stats.get('esms_small_og', 0)}"
                        f" (borne supérieure {stats.get('upper_bound', '?')})")
        summary.add_row("Critères calculés", str(stats.get("points", 0)))
    summary.add_row("Points grille (grappes valides)", str(totals.points_grille))
    summary.add_row("Financement (grappes valides)", euros(totals.financement))
    if stats:
        summary.add_row("Calcul", f"{decimal_fr(stats.get('runtime_s', 0))} s")
    console.print(summary)
    subs = (stats.get("by_subproblem") or []) if stats else []
    if subs:
        proven = sum(1 for d in subs if d.get("proven_optimal"))
        console.print(
            f"Optimum prouvé (borne = relaxation linéaire atteinte) dans {proven} / "
            f"{len(subs)} sous-problème(s) champ × région ; zones certifiées : "
            f"{stats.get('zones_certified', 0)} (aucun regroupement de leurs grappes ne "
            "place un ESMS de plus).",
            highlight=False,
        )
    for gid in totals.invalides:
        breaks = " ; ".join(v.message for v in scenario.violations.get(gid, []))
        cost = scenario.costs.get(gid)
        console.print(
            f"[red]Grappe invalide, hors total :[/red] {gid} "
            f"({euros(cost.total) if cost else '—'}) — {breaks}",
            highlight=False,
        )
    unplaced = scenario.unplaced
    if len(unplaced):
        counts = unplaced.groupby("code", sort=True).agg(
            n=("finess_et", "size"), reason=("reason", "first")
        )
        t = Table(title="ESMS sans grappe, par motif", title_justify="left")
        t.add_column("Motif")
        t.add_column("ESMS", justify="right")
        t.add_column("Exemple")
        for code, r in counts.sort_values("n", ascending=False).iterrows():
            t.add_row(UNPLACED_LABELS.get(str(code), str(code)), str(r["n"]), str(r["reason"]))
        console.print(t)
    for warning in stats.get("warnings", []):
        console.print(f"[yellow]Attention :[/yellow] {warning}", highlight=False)


def _km(value: float | None) -> str:
    return "—" if value is None or value != value else decimal_fr(value)


# The command's own options, one alias each (those it shares with other commands are in
# grappes.cli.support): the signature below reads as the list of options.
RulesOpt = Annotated[str | None, typer.Option("--regles", help=RULES_HELP)]
RegionOpt = Annotated[str | None, typer.Option(
    "--region", help="Code INSEE de la région (ex. 24).")]
ChampOpt = Annotated[str | None, typer.Option(
    "--champ", help=f"Un seul champ : {', '.join(CHAMPS)} (par défaut : tous les champs ; "
    "l'application démarre sur PA).")]
OutOpt = Annotated[Path | None, typer.Option(
    "--sortie", help="Dossier où écrire grappes.csv, etablissements.csv, financements.csv, "
    "financements_og.csv et scenario.json.")]
SeedOpt = Annotated[int, typer.Option("--graine", help="Graine (même graine, même résultat).")]
TimeOpt = Annotated[float, typer.Option(
    "--limite-temps", help="Budget de la sélection exacte, en secondes.")]
LinksOpt = Annotated[Path | None, typer.Option(
    "--liens", help="Partenariats connus : CSV finess_ej_a;finess_ej_b.")]
MultiRegionOpt = Annotated[bool, typer.Option(
    "--multi-region", help="Autoriser les grappes interrégionales.")]
XlsxOpt = Annotated[bool, typer.Option(
    "--xlsx", help="Écrire aussi le classeur XLSX (avec --sortie).")]
GpkgOpt = Annotated[bool, typer.Option(
    "--gpkg", help="Écrire aussi grappes.gpkg pour QGIS (avec --sortie).")]
ScenarioOpt = Annotated[Path | None, typer.Option(
    "--scenario", help="Scénario enregistré (scenario.json, de l'application ou de --sortie) "
    "à rétablir sur les mêmes données, sans relancer le solveur.")]
SaveScenarioOpt = Annotated[Path | None, typer.Option(
    "--enregistrer-scenario",
    help="Enregistrer le scénario dans ce fichier (JSON, à charger dans l'application).")]


@dataclass(frozen=True)
class SolveRequest:
    """What the solver is asked, once the options are checked (one object, not six values)."""

    rules: str | None
    region: str | None
    champ: str | None
    seed: int
    time_limit: float
    allow_multi_region: bool


@dataclass(frozen=True)
class Outputs:
    """Where the command writes: the folder (with XLSX, GeoPackage) and a scenario file."""

    folder: Path | None
    xlsx: bool
    gpkg: bool
    scenario_to: Path | None


def check_options(champ: str | None, time_limit: float, seed: int, outputs: Outputs) -> None:
    """Refuse, before reading anything, the options the command cannot use (exit code 2)."""
    if champ is not None and champ not in CHAMPS:
        msg = f"--champ : {champ!r} inconnu (attendu : {', '.join(CHAMPS)})"
        raise CommandError(msg)
    check_number("--limite-temps", time_limit, above=0, maximum=86_400)
    check_seed(seed)
    if (outputs.xlsx or outputs.gpkg) and outputs.folder is None:
        msg = f"{'--xlsx' if outputs.xlsx else '--gpkg'} demande --sortie DOSSIER"
        raise CommandError(msg)


def solve(result: LoadResult, request: SolveRequest, links, console: Console | None) -> Scenario:
    """Run the solver, with a progress bar on ``console`` (none for ``--json``)."""
    def run(progress=None):
        return propose(result, request.rules, region=request.region, champ=request.champ,
                       seed=request.seed, time_limit=request.time_limit, links=links,
                       allow_multi_region=request.allow_multi_region, progress=progress)

    if console is None:
        return Scenario.from_report(run())
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("Proposition des grappes", total=1.0)
        return Scenario.from_report(run(
            lambda message, share: bar.update(task, description=message, completed=share)))


def write_files(scenario: Scenario, loaded: LoadedScenario | None, result: LoadResult,
                outputs: Outputs) -> list[Path]:
    """Every file asked for: the folder's tables, the scenario file, GeoPackage, rejects."""
    out = outputs.folder
    paths = write_outputs(scenario, out, outputs.xlsx) if out is not None else []
    paths += write_scenario_file(loaded or scenario, result, out, outputs.scenario_to)
    if outputs.gpkg and out is not None:
        from grappes.exports.gis import gpkg_inputs, write_gpkg

        paths.append(write_gpkg(out / "grappes.gpkg", *gpkg_inputs(scenario)))
    if out is not None:
        paths += write_rejects(result, out)
    return paths


def print_outcome(console: Console, scenario: Scenario, loaded: LoadedScenario | None,
                  scenario_file: Path | None, result: LoadResult, out: Path | None) -> None:
    """The report in the terminal, then what was restored and what the reading rejected."""
    print_report(console, scenario)
    if loaded is not None:
        console.print(f"Scénario rétabli depuis {scenario_file} (sans nouvelle recherche du "
                      "solveur).", highlight=False, markup=False)
        for note in loaded.notes:
            console.print(f"Attention (scénario) : {note}", style="yellow", highlight=False,
                          markup=False)
    if out is None or not result.rejets:
        notice = reject_notice(len(result.rejets) if out is None else 0)
    else:
        notice = (f"{len(result.rejets)} ligne(s) rejetée(s) à la lecture, absentes du "
                  f"résultat ; voir {out / 'rejets.csv'}.")
    console.print(notice, style="yellow" if result.rejets else "dim", highlight=False,
                  markup=False)


def print_json(scenario: Scenario, loaded: LoadedScenario | None, scenario_file: Path | None,
               result: LoadResult) -> None:
    """``--json``: one object on standard output (the scenario, the reading, the restore)."""
    data: dict[str, Any] = scenario.to_json()
    data["lecture"] = reading_summary(result)
    if loaded is not None:
        data["scenario_charge"] = {"fichier": str(scenario_file), "notes": loaded.notes}
    print(json.dumps(data, ensure_ascii=False, indent=2, default=json_default))


def propose_command(  # one parameter per command-line option
    file: InputArg = None,
    sample: SampleFlag = False,
    ej: EjOption = None,
    dui: DuiOption = None,
    rules: RulesOpt = None,
    region: RegionOpt = None,
    champ: ChampOpt = None,
    out: OutOpt = None,
    as_json: JsonFlag = False,
    seed: SeedOpt = 0,
    time_limit: TimeOpt = DEFAULT_TIME_LIMIT,
    liens: LinksOpt = None,
    multi_region: MultiRegionOpt = False,
    xlsx: XlsxOpt = False,
    gpkg: GpkgOpt = False,
    system_out: SystemOutFlag = False,
    scenario_file: ScenarioOpt = None,
    save_scenario_to: SaveScenarioOpt = None,
) -> None:
    """Proposer des grappes qui respectent les règles de l'appel et rapportent le plus de points."""
    console = Console(stderr=as_json)
    outputs = Outputs(out, xlsx, gpkg, save_scenario_to)
    request = SolveRequest(rules, region, champ, seed, time_limit, multi_region)
    try:
        check_options(champ, time_limit, seed, outputs)
        before = prepare_out(out, system_out) if out is not None else set()
        result = load_input(file, ej, dui, sample)
        if not len(result.etablissements):
            if out is not None:
                print_written(console, write_rejects(result, out), before)
            raise UnusableInput(nothing_to_propose(result))
        links = read_links_file(liens, result)
        loaded = None
        if scenario_file is not None:
            loaded = restore_scenario(scenario_file, result, rules, region, champ)
            scenario = loaded.scenario()
            scenario.warnings = list(result.warnings)
        else:
            scenario = solve(result, request, links, None if as_json else console)
        paths = write_files(scenario, loaded, result, outputs)
    except GrappesError as exc:  # IngestError, RulesError, CommandError, OutputError
        fail(console, exc, as_json=as_json)
    except OSError as exc:
        from grappes.ingest.base import os_reason

        fail(console, f"fichier : {exc.filename or ''} ({os_reason(exc)})", as_json=as_json)
    if as_json:
        print_json(scenario, loaded, scenario_file, result)
    else:
        print_outcome(console, scenario, loaded, scenario_file, result, out)
    print_written(console, paths, before)


def register(app: typer.Typer) -> None:
    """Add ``propose`` to the ``grappes`` command line."""
    app.command("proposer")(propose_command)
