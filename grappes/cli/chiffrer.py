"""``grappes chiffrer``: re-cost a grouping edited by hand (the ``etablissements.csv`` written
by ``grappes proposer``, with its ``grappe`` column) and report the broken rules per grappe
instead of failing (the reading and costing: ``grappes.exports.readback``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from grappes.cli.support import (
    RULES_HELP,
    CsvOutOpt,
    JsonFlag,
    SystemOutFlag,
    fail,
    json_default,
    prepare_out,
    print_written,
)
from grappes.core.columns import text_column
from grappes.core.errors import GrappesError
from grappes.core.formatting import euros, number_fr
from grappes.exports.french_excel import write_csv
from grappes.exports.readback import (
    cost_grouping,
    public_cost,
    read_declarations,
    read_grouping_csv,
)
from grappes.programme.costing import PROJECT_TYPE_LABELS
from grappes.programme.rules import DEFAULT_RULES, RuleSet, load_rules


def _print_costs(console: Console, rows: list[dict[str, Any]], warnings: list[str],
                 rules: RuleSet) -> None:
    t = Table(title=f"Coût des grappes ({rules.name})", title_justify="left")
    for col in ("Grappe", "Champ", "ESMS comptés", "Financés", "Type", "Éditeur", "Porteur",
                "Financement", "SONS éditeur", "Points grille", "Règles enfreintes"):
        t.add_column(col, justify="right" if col in ("ESMS comptés", "Financés", "Financement",
                                                     "SONS éditeur", "Points grille")
                     else "left")
    for g in rows:
        t.add_row(g["id"], g["champ"], str(g["n_esms"]), str(g["n_funded"]),
                  PROJECT_TYPE_LABELS.get(g["project_type"], g["project_type"]),
                  g["vendor"] or "—", g["porteur"], euros(g["total"]),
                  euros(g["sons_vendor"]), f"{g['score']['total']}/{g['score']['max']}",
                  str(len(g["violations"])) if g["violations"] else "aucune")
    console.print(t)
    total = sum(g["total"] for g in rows if not g["violations"])
    invalid = [g for g in rows if g["violations"]]
    console.print(f"Total ESMS numérique des grappes valides : [bold]{euros(total)}[/bold].")
    if invalid:
        console.print(f"Grappes invalides, hors total : {', '.join(g['id'] for g in invalid)} "
                      f"({euros(sum(g['total'] for g in invalid))}).")
    for w in warnings:
        console.print(f"[yellow]{w}[/yellow]")
    for g in rows:
        for v in g["violations"]:
            console.print(f"[red]Grappe {g['id']}[/red] ({v['code']}) : {v['message']}")
        for finding in g["eligibility"]:
            console.print(f"[yellow]Grappe {g['id']}[/yellow] : {finding}")


def _write_cost_outputs(out: Path, rows: list[dict[str, Any]]) -> list[Path]:
    grappes, lines, schedule, violations, findings = [], [], [], [], []
    for g in rows:
        grappes.append({
            "grappe": g["id"], "champ": g["champ"], "valide": not g["violations"],
            "nb_membres": g["n_membres"], "nb_esms_comptes": g["n_esms"],
            "nb_finances": g["n_funded"],
            "type_projet": PROJECT_TYPE_LABELS.get(g["project_type"], g["project_type"]),
            "type_projet_code": g["project_type"], "editeur": g["vendor"] or "",
            "editeur_segur": g["vendor_segur"],
            "porteur": g["porteur"], "financement": g["total"], "sons_editeur": g["sons_vendor"],
            "points_grille": g["score"]["total"], "points_max": g["score"]["max"],
            "departements": ", ".join(g["departements"]),
            "par_region": ", ".join(f"{k} : {number_fr(v, 2)}"
                                    for k, v in g["by_region"].items()),
            "nb_regles_enfreintes": len(g["violations"]),
        })
        for ln in g["lines"]:
            lines.append({"grappe": g["id"], "code": ln["code"], "ligne": ln["label"],
                          "base_code": ln["basis"], "quantite": ln["quantity"],
                          "montant_unitaire": ln["unit_amount"], "montant": ln["amount"],
                          "levier_code": ln["lever"], "beneficiaire": ln["beneficiary"]})
        for inst in g["schedule"]:
            schedule.append({"grappe": g["id"], "versement": inst["label"],
                             "part": inst["share"], "montant": inst["amount"]})
        for v in g["violations"]:
            violations.append({"grappe": g["id"], "code": v["code"], "message": v["message"],
                               "esms": ",".join(v["esms"])})
        for f in g["eligibility"]:
            findings.append({"grappe": g["id"], "constat": f})
    euros = {"financement": "euros", "sons_editeur": "euros", "montant": "euros",
             "montant_unitaire": "euros"}
    written = [
        write_csv(pd.DataFrame(grappes), out / "couts.csv", euros),
        write_csv(pd.DataFrame(lines), out / "lignes_financement.csv", euros),
        write_csv(pd.DataFrame(schedule), out / "versements.csv", euros),
        write_csv(pd.DataFrame(violations, columns=["grappe", "code", "message", "esms"]),
                  out / "violations.csv"),
        write_csv(pd.DataFrame(findings, columns=["grappe", "constat"]), out / "eligibilite.csv"),
    ]
    return written

def register(app: typer.Typer) -> None:
    """Add ``chiffrer`` to the ``grappes`` app."""

    @app.command("chiffrer")
    def cost_cmd(
        file: Annotated[Path, typer.Argument(help="etablissements.csv avec une colonne grappe.")],
        rules: Annotated[str, typer.Option("--regles", help=RULES_HELP)] = DEFAULT_RULES,
        declarations: Annotated[Path | None, typer.Option(
            "--declarations", help="CSV grappe;critere[;valeur] des critères déclarés.")] = None,
        as_json: JsonFlag = False,
        out: CsvOutOpt = None,
        system_out: SystemOutFlag = False,
    ) -> None:
        """Recalculer le coût et vérifier les règles d'un regroupement modifié à la main."""
        console = Console(stderr=as_json)
        try:
            before = prepare_out(out, system_out) if out is not None else set()
            rule_set = load_rules(rules)
            etab = read_grouping_csv(file)
            decl = read_declarations(declarations) if declarations else None
            etab = etab[text_column(etab, "grappe") != ""]
            rows, warnings = cost_grouping(etab, rule_set, decl)
            written = _write_cost_outputs(out, rows) if out is not None else []
        except GrappesError as exc:  # RulesError, InputError, UsageError
            fail(console, exc, as_json=as_json)
        if as_json:
            print(json.dumps({"rules": rule_set.name, "grappes": [public_cost(g) for g in rows],
                              "warnings": warnings}, ensure_ascii=False, indent=2,
                             default=json_default))
        else:
            _print_costs(console, rows, warnings, rule_set)
        print_written(console, written, before)
