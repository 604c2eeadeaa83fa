"""``grappes partenaires``: rank the grappes and OGs an ESMS could join (rich table or JSON)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from grappes.cli.support import (
    DuiOption,
    EjOption,
    InputArg,
    JsonFlag,
    SampleFlag,
    UsageError,
    check_number,
    check_seed,
    fail,
    json_default,
    reject_notice,
)
from grappes.core.columns import text_column
from grappes.core.errors import GrappesError
from grappes.core.formatting import euros
from grappes.ingest import load
from grappes.ingest.sample import resolve_input
from grappes.scenarios.partners import DEFAULT_MAX_KM, PartnerReport, find_partners
from grappes.solver.settings import DEFAULT_TIME_LIMIT


def print_report(console: Console, report: PartnerReport) -> None:
    """The French report: the ESMS, where it stands, the ranked options."""
    e = report.esms
    console.print(
        f"[bold]{e['raison_sociale']}[/bold] ({e['finess_et']}), {e['categorie']} "
        f"(champ {e['champ']}), "
        f"{e['commune']} ({e['departement']}) — OG {e['raison_sociale_ej'] or e['finess_ej']}"
        + (" — ESMS autonome" if e["autonome"] else "")
        + f" — DUI : {e['dui_statut']} {e['dui_editeur']}".rstrip(),
        highlight=False,
    )
    if report.grappe_actuelle:
        d = report.depart or {}
        state = "reste valide" if d.get("valide_apres") else "deviendrait invalide"
        console.print(
            f"Actuellement dans la grappe {report.grappe_actuelle} : en la quittant, elle "
            f"{state} ({euros(d.get('financement_avant', 0))} → "
            f"{euros(d.get('financement_apres', 0))}).",
            highlight=False,
        )
    else:
        console.print("Actuellement dans aucune grappe.")
    if not report.options:
        console.print("[yellow]Aucune grappe ni OG du même champ à proximité.[/yellow]")
        return
    table = Table(title="Partenaires possibles (les mieux classés d'abord ; distance : de l'OG "
                        "au centre de la cible)", title_justify="left")
    for col, right in (("Rang", True), ("Cible", False), ("Distance", True), ("Éditeur DUI", False),
                       ("Statuts", False), ("Valide après", False), ("Points grille", True),
                       ("Financement", True), ("Règles enfreintes après", False)):
        table.add_column(col, justify="right" if right else "left")
    for o in report.options:
        table.add_row(
            str(o.rang),
            o.libelle,
            f"{o.distance_km:.1f} km".replace(".", ","),
            o.editeur,
            o.statut,
            "oui" if o.valide_apres else "non",
            f"{o.points_avant} → {o.points_apres}",
            f"{euros(o.financement_avant)} → {euros(o.financement_apres)}",
            " | ".join(o.regles_enfreintes),
        )
    console.print(table)


def partenaires(
    finess_et: Annotated[str, typer.Argument(help="FINESS ET de l'ESMS à rapprocher.")],
    file: InputArg = None,
    sample: SampleFlag = False,
    ej: EjOption = None,
    dui: DuiOption = None,
    rules: Annotated[
        str | None, typer.Option("--regles", help="Jeu de règles (appel à projets).")
    ] = None,
    top: Annotated[int, typer.Option("--nombre", min=1, max=50,
                                     help="Nombre de propositions.")] = 5,
    max_km: Annotated[
        float, typer.Option("--max-km", help="Distance maximale d'une cible (km).")
    ] = DEFAULT_MAX_KM,
    seed: Annotated[int, typer.Option("--graine", help="Graine du solveur.")] = 0,
    time_limit: Annotated[
        float, typer.Option("--limite-temps", help="Temps de sélection exacte du solveur (s).")
    ] = DEFAULT_TIME_LIMIT,
    as_json: JsonFlag = False,
) -> None:
    """Classer les grappes et OG qu'un ESMS (souvent isolé) pourrait rejoindre.

    La proposition est calculée pour la région et le champ de l'ESMS, puis chaque cible
    proche est revalidée et rechiffrée avec l'ESMS (et son OG) en plus.
    """
    from grappes.scenarios.whatif import WhatIf
    from grappes.solver.propose import propose

    console = Console(stderr=as_json)
    try:
        check_number("--max-km", max_km, above=0, maximum=2_000)
        check_number("--limite-temps", time_limit, above=0, maximum=86_400)
        check_seed(seed)
        file, ej, dui = resolve_input(file, ej, dui, sample)
        result = load(file, ej=ej, dui=dui)
        etab = result.etablissements
        key = finess_et.strip()
        row = etab[(text_column(etab, "finess_et") == key).to_numpy()]
        if row.empty:
            msg = f"ESMS (FINESS ET) introuvable dans le fichier : {key}"
            raise UsageError(msg)
        region = str(row["region"].iloc[0]) or None
        champ = str(row["champ"].iloc[0])
        with console.status("Calcul de la proposition de la région…"):
            report = propose(result, rules, region=region, champ=champ, seed=seed,
                             time_limit=time_limit)
            scenario = WhatIf.from_report(report)
            found = find_partners(scenario, key, top=top, max_km=max_km)
    except (GrappesError, FileNotFoundError) as exc:
        fail(console, exc, as_json=as_json)
    if as_json:
        data = found.as_dict()
        data["lecture"] = {
            "lignes_chargees": len(result.etablissements),
            "lignes_rejetees": len(result.rejets),
            "detail_rejets": "grappes verifier FICHIER --sortie DOSSIER (rejets.csv)",
        }
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=json_default))
    else:
        print_report(console, found)
        console.print(reject_notice(len(result.rejets)), style="yellow" if result.rejets else "dim",
                      highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    """Add ``partenaires`` to the ``grappes`` command line."""
    app.command("partenaires")(partenaires)
