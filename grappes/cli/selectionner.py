"""``grappes selectionner``: the grappes an ARS funds from its envelope, window by window
(exact optimum, ``grappes.programme.funding_select``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from grappes.cli.support import (
    RULES_HELP,
    CsvOutOpt,
    JsonFlag,
    SystemOutFlag,
    UsageError,
    check_number,
    fail,
    json_default,
    prepare_out,
    print_written,
)
from grappes.core.errors import GrappesError
from grappes.core.formatting import euros
from grappes.core.numbers import NumberError, parse_amount
from grappes.core.vocabulary import MODE_LABELS, label_of
from grappes.exports.french_excel import write_csv
from grappes.exports.readback import (
    InputError,
    candidates_from_file,
)
from grappes.ingest.grouping import candidate_problems, problems_message
from grappes.programme.funding_select import (
    DEFAULT_MODE,
    MODES,
    STAGE_DTIME,
    ArsDecisions,
    BalanceLimits,
    Selection,
    select_funding,
)
from grappes.programme.rules import DEFAULT_RULES, load_rules


def _decisions(values: list[str] | None, option: str) -> dict[str, str]:
    """``ID`` or ``ID:motif`` repeated -> {id: motif}."""
    out: dict[str, str] = {}
    for value in values or []:
        gid, _, motif = value.partition(":")
        if not gid.strip():
            msg = f"{option} : identifiant de grappe attendu (ex. {option} PA-24-002)."
            raise UsageError(msg)
        out[gid.strip()] = motif.strip()
    return out


def _print_selection(console: Console, sel: Selection) -> None:
    t = Table(title=f"Fenêtres (enveloppe {euros(sel.envelope)}, mode "
                    f"{label_of(sel.mode, MODE_LABELS)})", title_justify="left")
    for col in ("Fenêtre", "Plafond cumulé", "Dépensé", "Cumulé", "Report", "Grappes"):
        t.add_column(col, justify="left" if col == "Fenêtre" else "right")
    for w in sel.windows:
        t.add_row(w["libelle"], euros(w["plafond_cumule"]), euros(w["depense"]),
                  euros(w["depense_cumulee"]), euros(w["report"]), str(w["grappes"]))
    console.print(t)
    t = Table(title="Grappes financées", title_justify="left")
    for col in ("Grappe", "Porteur", "Fenêtre", "Coût", "Points", "Départements", "Champ",
                "Pourquoi"):
        t.add_column(col, justify="right" if col in ("Coût", "Points") else "left")
    for r in sel.funded.itertuples(index=False):
        t.add_row(r.grappe, r.nom, r.libelle_fenetre, euros(r.cout), str(r.points),
                  r.departements, r.champ, r.raison)
    console.print(t)
    console.print(f"{len(sel.funded)} grappe(s) financée(s) pour {euros(sel.total_cost)}, "
                  f"[bold]{sel.total_points}[/bold] points"
                  + ("" if sel.optimal else " (limite de temps atteinte : optimum non prouvé)")
                  + ".")
    for r in sel.not_funded.itertuples(index=False):
        name = f" {r.nom}" if r.nom else ""
        console.print(f"  non financée : {r.grappe}{name} ({euros(r.cout)}, {r.points} points) "
                      f"— {r.raison}", highlight=False)
    for line in sel.priorities:
        console.print(f"  {line}", highlight=False)
    for note in sel.notes:
        console.print(f"[yellow]{note}[/yellow]")

def register(app: typer.Typer) -> None:
    """Add ``selectionner`` to the ``grappes`` app."""

    @app.command("selectionner")
    def select_cmd(
        file: Annotated[Path, typer.Argument(
            help="grappes.csv, etablissements.csv ou JSON de grappes propose.")],
        envelope_text: Annotated[str, typer.Option(
            "--enveloppe", help="Enveloppe régionale (€), écrite à la française : 6000000, "
                               "« 6 000 000 », « 6 000 000,50 » ou « 6,5 M€ ».")],
        windows: Annotated[str | None, typer.Option(
            "--fenetres", help="Parts cumulées par fenêtre, ex. 0.5,0.7,1.0 "
                              "(par défaut : celles du jeu de règles).")] = None,
        rules: Annotated[str, typer.Option("--regles", help=RULES_HELP)] = DEFAULT_RULES,
        max_share_departement: Annotated[float | None, typer.Option(
            "--part-max-departement", help="Part maximale de l'enveloppe par département.")
        ] = None,
        max_share_champ: Annotated[float | None, typer.Option(
            "--part-max-champ", help="Part maximale de l'enveloppe par champ.")] = None,
        max_share_statut: Annotated[float | None, typer.Option(
            "--part-max-statut", help="Part maximale par statut juridique.")] = None,
        mode: Annotated[str, typer.Option(
            "--mode", help="sequentiel (fenêtre par fenêtre, le processus des documents) ou "
                           "global (comparaison a posteriori, toutes les candidatures connues "
                           "d'avance).")
        ] = DEFAULT_MODE,
        forcer: Annotated[list[str] | None, typer.Option(
            "--forcer", help="Imposer une grappe (répétable) ; motif possible après « : », "
                             "ex. --forcer PA-24-002:projet structurant.")] = None,
        exclure: Annotated[list[str] | None, typer.Option(
            "--exclure", help="Écarter une grappe (répétable) ; motif possible après « : ».")
        ] = None,
        time_limit: Annotated[float, typer.Option(
            "--limite-temps", help="Limite de calcul par étape, en temps déterministe de CP-SAT "
                                 "(indépendant de la charge de la machine).")] = STAGE_DTIME,
        as_json: JsonFlag = False,
        out: CsvOutOpt = None,
        system_out: SystemOutFlag = False,
    ) -> None:
        """Choisir les grappes à financer dans l'enveloppe, fenêtre par fenêtre (optimum exact)."""
        console = Console(stderr=as_json)
        try:
            try:
                envelope = parse_amount(envelope_text, "--enveloppe")
            except NumberError as exc:
                raise UsageError(str(exc)) from exc
            check_number("--enveloppe", envelope, above=0, maximum=1e11)
            check_number("--limite-temps", time_limit, above=0, maximum=86_400)
            for name, v in (("--part-max-departement", max_share_departement),
                            ("--part-max-champ", max_share_champ),
                            ("--part-max-statut", max_share_statut)):
                check_number(name, v, above=0, maximum=1)
            if mode not in MODES:
                msg = f"--mode : {' ou '.join(MODES)} attendu (reçu {mode!r})"
                raise UsageError(msg)
            decisions = ArsDecisions(_decisions(forcer, "--forcer"),
                                     _decisions(exclure, "--exclure"))
            before = prepare_out(out, system_out) if out is not None else set()
            rule_set = load_rules(rules)
            if windows:
                try:
                    shares = [float(s) for s in windows.split(",") if s.strip()]
                except ValueError as exc:
                    msg = "--fenetres : nombres séparés par des virgules attendus (0.5,0.7,1.0)."
                    raise UsageError(msg) from exc
                for share in shares:
                    check_number("--fenetres", share, above=0, maximum=1)
                if not shares:
                    msg = "--fenetres : au moins une part attendue (ex. 0.5,0.7,1.0)."
                    raise UsageError(msg)
                labels = None
            elif rule_set.windows:
                shares = [w.share for w in rule_set.windows]
                labels = [w.label for w in rule_set.windows]
            else:
                shares, labels = [1.0], ["Fenêtre unique"]
            cands = candidates_from_file(file, rule_set)
            skipped = list(cands.attrs.get("invalides", []))
            problems = candidate_problems(cands)
            if problems:
                raise InputError(problems_message(Path(file).name, problems))
            # the shares were bounded above (check_number: 0 < part <= 1, a usage error)
            limits = BalanceLimits(max_share_departement, max_share_champ, max_share_statut)
            sel = select_funding(cands, envelope, shares, limits, mode=mode,
                                 window_labels=labels, time_limit=time_limit,
                                 priorities=rule_set.priorities,
                                 typologies=rule_set.typologies, decisions=decisions)
            written = [write_csv(df, out / name) for name, df in (
                ("selection.csv", sel.funded), ("non_retenues.csv", sel.not_funded),
                ("fenetres.csv", pd.DataFrame(sel.windows)))] if out is not None else []
        except GrappesError as exc:  # RulesError, InputError, UsageError
            fail(console, exc, as_json=as_json)
        if as_json:
            print(json.dumps(sel.as_dict() | {"invalides_non_candidates": skipped},
                             ensure_ascii=False, indent=2, default=json_default))
        else:
            _print_selection(console, sel)
            if skipped:
                console.print(f"[yellow]Grappes invalides, non candidates : "
                              f"{', '.join(skipped)}.[/yellow]", highlight=False)
        print_written(console, written, before)
