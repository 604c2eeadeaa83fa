"""``grappes verifier``: validate and summarise an establishments file (rich tables in French)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from grappes.cli.support import (
    DuiOption,
    EjOption,
    JsonFlag,
    SystemOutFlag,
    check_number,
    fail,
    json_default,
    prepare_out,
    print_written,
)
from grappes.core.errors import GrappesError
from grappes.core.model import HORS_CHAMP, LoadResult
from grappes.core.vocabulary import CHAMP_LABELS as CHAMP_NAMES
from grappes.exports.french_excel import write_csv
from grappes.exports.rejects import rejets_frame
from grappes.ingest import DEFAULT_MAX_MO, load
from grappes.ingest.check import summarise
from grappes.ingest.sample import resolve_input

#: rejected rows shown in the terminal (all of them go to rejets.csv with --sortie)
MAX_REJECTS_SHOWN = 50

#: the summary's field names: the code and its label (``core.vocabulary``, the one home)
CHAMP_LABELS: dict[str, str] = {
    code: f"{code} ({label})" if code != HORS_CHAMP else f"{label} (dont sanitaire)"
    for code, label in CHAMP_NAMES.items()
}


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    for i, col in enumerate(columns):
        numeric = bool(rows) and all(isinstance(row[i], int) for row in rows)
        table.add_column(col, justify="right" if numeric else "left")
    for row in rows:
        table.add_row(*[escape(str(v)) for v in row])
    return table


def print_summary(console: Console, summary: dict[str, Any], result: LoadResult) -> None:
    """The French report of ``grappes verifier``."""
    meta = summary["meta"]
    console.print(
        f"[bold]Fichier[/bold] {escape(str(meta.get('fichier', '')))} : {summary['kind']} "
        f"({summary['encoding']}), {summary['lignes_chargees']} établissement(s) chargé(s), "
        f"{len(summary['rejected'])} ligne(s) rejetée(s)."
    )
    console.print(
        f"[bold]{summary['esms']}[/bold] ESMS des champs du programme, "
        f"[bold]{summary['og']}[/bold] OG, {summary['autonomes']} ESMS autonome(s), "
        f"{summary['sanitaires']} établissement(s) sanitaire(s)."
    )
    console.print(
        _table(
            "Établissements par champ",
            ["Champ", "Nombre"],
            [[CHAMP_LABELS.get(k, k), v] for k, v in summary["by_field"].items()],
        )
    )
    console.print(
        _table(
            "ESMS par département",
            ["Département", "ESMS"],
            [[k, v] for k, v in summary["by_departement"].items()],
        )
    )
    cats = list(summary["by_categorie"].items())
    console.print(
        _table(
            "Établissements par catégorie",
            ["Catégorie", "Libellé", "Champ", "Nombre"],
            [[k, v["libelle"][:60], v["champ"], v["n"]] for k, v in cats],
        )
    )
    console.print(
        _table(
            "OG par typologie (ESMS du fichier)",
            ["Typologie", "OG", "ESMS"],
            [[k, v["og"], v["esms"]] for k, v in summary["by_og_typologie"].items()],
        )
    )
    console.print(
        _table(
            "OG par statut juridique",
            ["Statut", "OG", "ESMS"],
            [[k, v["og"], v["esms"]] for k, v in summary["by_statut"].items()],
        )
    )
    labels = {
        "fichier": "coordonnées du fichier",
        "centroide_commune": "centroïde de la commune",
        "aucune": "aucune (rejetés)",
    }
    console.print(
        _table(
            "Origine des coordonnées",
            ["Origine", "Établissements"],
            [[labels.get(k, k), v] for k, v in summary["coord_source"].items()],
        )
    )
    rejets = result.rejets
    if rejets:
        shown = rejets[:MAX_REJECTS_SHOWN]
        title = f"Lignes rejetées ({len(shown)} sur {len(rejets)})"
        rows = [
            [r.source or "principal", r.path or r.line, r.field, r.reason, r.value] for r in shown
        ]
        console.print(_table(title, ["Fichier", "Ligne", "Champ", "Motif", "Valeur"], rows))
        if len(rejets) > MAX_REJECTS_SHOWN:
            console.print(
                f"… et {len(rejets) - MAX_REJECTS_SHOWN} autres : voir rejets.csv "
                "(option --sortie)."
            )
    for warning in summary["warnings"]:
        console.print(f"[yellow]Attention :[/yellow] {escape(warning)}", highlight=False)


def write_outputs(result: LoadResult, out: Path) -> tuple[Path, Path]:
    """etablissements.csv (normalised table) and rejets.csv in ``out``."""
    etab = write_csv(result.etablissements, out / "etablissements.csv")
    return etab, write_csv(rejets_frame(result), out / "rejets.csv")


def check(
    file: Annotated[
        Path | None, typer.Argument(
            help="Flux FINESS+ (.json.gz), extrait FINESS etalab ou modèle CSV."
        )
    ] = None,
    ej: EjOption = None,
    dui: DuiOption = None,
    as_json: JsonFlag = False,
    out: Annotated[
        Path | None,
        typer.Option("--sortie", help="Dossier où écrire etablissements.csv et rejets.csv."),
    ] = None,
    sample: Annotated[
        bool, typer.Option("--exemple", help="Vérifier l'échantillon intégré.")
    ] = False,
    max_mo: Annotated[
        int, typer.Option("--max-mo", help="Taille maximale d'un fichier, en Mo (10^6 octets).")
    ] = DEFAULT_MAX_MO,
    system_out: SystemOutFlag = False,
) -> None:
    """Vérifier et résumer un fichier d'établissements (FINESS etalab ou modèle CSV)."""
    console = Console(stderr=as_json)
    try:
        check_number("--max-mo", max_mo, above=0)
        before = prepare_out(out, system_out) if out is not None else set()
        file, ej, dui = resolve_input(file, ej, dui, sample)
        result = _load_with_progress(console, file, ej, dui, max_mo * 1_000_000, as_json)
        summary = summarise(result)
        written = list(write_outputs(result, out)) if out is not None else []
    except GrappesError as exc:  # IngestError, UsageError, OutputError
        fail(console, exc, as_json=as_json)
    if written:
        print_written(console, written, before)
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=2, default=json_default))
    else:
        print_summary(console, summary, result)
    if not summary["usable"]:
        console.print(
            "[red]Données inutilisables :[/red] aucun ESMS d'un champ du programme "
            "n'a pu être chargé (voir les lignes rejetées).",
            highlight=False,
        )
        raise typer.Exit(1)
    if not as_json:
        console.print("[green]Données utilisables.[/green]")


def _load_with_progress(
    console: Console, file: Path, ej: Path | None, dui: Path | None, max_bytes: int, quiet: bool
) -> LoadResult:
    if quiet or not console.is_terminal:
        return load(file, ej=ej, dui=dui, max_bytes=max_bytes)
    with Progress(
        TextColumn("Lecture"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} lignes"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("lecture", total=None)

        def tick(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return load(file, ej=ej, dui=dui, progress=tick, max_bytes=max_bytes)


def register(app: typer.Typer) -> None:
    """Add ``check`` to the ``grappes`` command line."""
    app.command("verifier")(check)
