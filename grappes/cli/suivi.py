"""``grappes suivi``: follow-up of funded grappes (issue 14) — record, import, state, export.

Every command works on the registry's database (``--base`` or ``GRAPPES_DB_URL``, default
``grappes.db``) as an account of the registry: ``--compte EMAIL`` (or ``GRAPPES_COMPTE``),
the password read from a hidden prompt, or from the first line of stdin when piped. The
same policy as the app applies: the ARS records and exports its région, a porteur imports
its grappe's figures. A registry error a command does not handle itself (refused access, a
wrong grappe, a date out of range) reaches the CLI's edge (``grappes.cli.main``), which
prints its French message and exits 1, like every command group.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from grappes.cli.account import MissingCredentials, sign_in
from grappes.cli.support import EXIT_DATA, EXIT_USAGE, fail
from grappes.core.formatting import euros
from grappes.followup.dossier_import import read_funded_grappe
from grappes.followup.evaluate import STATE_LABELS, FollowupState
from grappes.followup.export import (
    flags_frame,
    grappes_frame,
    records,
    targets_frame,
    tranches_frame,
)
from grappes.followup.months import label
from grappes.followup.store import Suivi
from grappes.ingest.errors import IngestError
from grappes.programme.rules import RulesError
from grappes.registry import RegistreError, Registry

suivi_app = typer.Typer(help="Suivi des grappes financées : cibles d'usage et versements.",
                        no_args_is_help=True)
console = Console()
err = Console(stderr=True)

Compte = Annotated[str | None, typer.Option("--compte", help="E-mail du compte du registre "
                                            "(défaut : GRAPPES_COMPTE).")]
Db = Annotated[str | None, typer.Option("--base", help="Base (chemin SQLite ou URL PostgreSQL).")]
Stdin = Annotated[bool, typer.Option("--mot-de-passe-stdin",
                                     help="Lire le mot de passe sur l'entrée standard.")]


def _fail(message: str, code: int = EXIT_DATA) -> NoReturn:
    fail(err, message, code=code)


def _session(db: str | None, compte: str | None, stdin: bool = False) -> tuple[Suivi, str]:
    """Sign in (``grappes.cli.account``: the same convention as ``grappes registre``)."""
    try:
        reg = Registry(db)
        return Suivi(reg), sign_in(reg, compte, stdin)
    except MissingCredentials as exc:
        _fail(str(exc), EXIT_USAGE)
    except RegistreError as exc:
        _fail(str(exc))


def _date(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        _fail(f"{field} : date attendue au format AAAA-MM-JJ ({text!r})", EXIT_USAGE)


@suivi_app.command("enregistrer")
def enregistrer(
    signature: Annotated[str, typer.Option("--signature", help="Date de signature AAAA-MM-JJ.")],
    source: Annotated[Path | None, typer.Argument(
        help="Export de l'outil : dossier de grappes proposer --sortie, grappes.xlsx (commande "
             "ou application), ou dossier de grappes registre exporter.")] = None,
    grappe: Annotated[str | None, typer.Option(
        "--grappe", help="Identifiant de la grappe dans l'export.")] = None,
    registre: Annotated[int | None, typer.Option(
        "--registre", help="Ou : numéro d'une grappe constituée du registre (sans fichier).")
    ] = None,
    compte: Compte = None,
    regles: Annotated[str | None, typer.Option(
        "--regles", help="Jeu de règles (défaut : celui que nomme l'export).")] = None,
    porteur: Annotated[list[str] | None, typer.Option(
        "--porteur", help="E-mail d'un compte porteur (répétable ; registre : par défaut les "
                          "comptes du porteur).")] = None,
    perimetre: Annotated[str | None, typer.Option(
        "--perimetre", help="esms ou grappe : remplace le choix du jeu de règles.")] = None,
    db: Db = None,
    stdin: Stdin = False,
) -> None:
    """(ARS) Enregistrer une grappe financée : depuis un export de l'outil ou depuis une
    grappe constituée du registre."""
    when = _date(signature, "--signature")
    if (source is None) == (registre is None):
        _fail("donner soit un export (SOURCE --grappe ID), soit --registre NUMÉRO", EXIT_USAGE)
    if source is not None and not grappe:
        _fail("--grappe ID : quelle grappe de l'export enregistrer ?", EXIT_USAGE)
    funded = None
    if source is not None:
        try:
            funded = read_funded_grappe(source, str(grappe), when, regles)
        except (IngestError, RulesError) as exc:
            _fail(str(exc))
    suivi, jeton = _session(db, compte, stdin)
    try:
        if funded is None:
            funded, emails = suivi.funded_from_registry(jeton, int(registre or 0), when, regles)
            suivi.enregistrer(jeton, funded, porteur or emails, perimetre,
                              registre_grappe_id=registre)
        else:
            suivi.enregistrer(jeton, funded, porteur or [], perimetre)
    except (RegistreError, ValueError, RulesError) as exc:
        _fail(str(exc))
    console.print(f"Grappe {funded.grappe_id} suivie : {len(funded.members)} ESMS, "
                  f"{euros(funded.montant_total)}, signature {funded.signature:%d/%m/%Y}.",
                  highlight=False)


@suivi_app.command("importer")
def importer(
    fichier: Annotated[Path, typer.Argument(help="CSV des indicateurs mensuels.")],
    grappe: Annotated[str, typer.Option("--grappe", help="Identifiant de la grappe.")],
    compte: Compte = None,
    remplacer: Annotated[bool, typer.Option(
        "--remplacer", help="Remplacer les mois déjà enregistrés.")] = False,
    db: Db = None,
    stdin: Stdin = False,
) -> None:
    """(Porteur) Importer les indicateurs mensuels : tout ou rien."""
    suivi, jeton = _session(db, compte, stdin)
    try:
        result = suivi.importer(jeton, grappe, fichier, remplacer)
    except (RegistreError, IngestError) as exc:
        _fail(str(exc))
    if not result.ok:
        table = Table(title="Lignes refusées : rien n'a été importé", title_justify="left")
        for col in ("Ligne", "Champ", "Motif", "Valeur"):
            table.add_column(col)
        for r in result.report.rejects[:200]:
            table.add_row(str(r.line), r.field, r.reason, r.value)
        err.print(table)
        _fail(f"{len(result.report.rejects)} ligne(s) refusée(s) ; corrigez le fichier et "
              "relancez l'import.")
    console.print(f"{result.written} ligne(s) importée(s) dont "
                  f"{len(result.report.replaced)} remplacée(s).")


@suivi_app.command("jalon")
def jalon(
    grappe: Annotated[str, typer.Option("--grappe")],
    tranche: Annotated[int, typer.Option("--tranche", help="Rang de la tranche (1, 2…).")],
    le: Annotated[str, typer.Option("--date", help="Date du jalon AAAA-MM-JJ.")],
    compte: Compte = None,
    db: Db = None,
    stdin: Stdin = False,
) -> None:
    """(Porteur) Déclarer un jalon atteint (par exemple la fin du paramétrage)."""
    suivi, jeton = _session(db, compte, stdin)
    suivi.declarer_jalon(jeton, grappe, tranche, _date(le, "--date"))
    console.print(f"Jalon de la tranche {tranche} déclaré.")


@suivi_app.command("verification")
def verification(
    grappe: Annotated[str, typer.Option("--grappe")],
    le: Annotated[str, typer.Option("--date", help="Date de signature AAAA-MM-JJ.")],
    compte: Compte = None,
    tranche: Annotated[int | None, typer.Option(
        "--tranche", help="Rang de la tranche (par défaut : celle qui attend la vérification).")
    ] = None,
    db: Db = None,
    stdin: Stdin = False,
) -> None:
    """(Porteur) Enregistrer la vérification de service régulier signée (généralisation 2022 :
    la tranche des cibles d'usage n'est payable qu'après elle)."""
    suivi, jeton = _session(db, compte, stdin)
    when = _date(le, "--date")
    if tranche is None:
        state = suivi.etat(jeton, grappe)
        waiting = [t.tranche.rang for t in state.tranches if t.tranche.regle.service_check]
        if not waiting:
            _fail(f"aucune tranche de {grappe} n'attend de vérification de service régulier")
        tranche = waiting[0]
    suivi.declarer_verification(jeton, grappe, tranche, when)
    console.print(f"Vérification de service régulier de la tranche {tranche} enregistrée "
                  f"(signée le {when:%d/%m/%Y}).")


def _json(states: list[FollowupState]) -> str:
    """``etat --json``: plain ISO dates (``2024-05-31``); ``cibles`` gives, per ESMS (and
    the grappe) and per indicator, the month the target was first met."""
    return json.dumps({"grappes": records(grappes_frame(states)),
                       "tranches": records(tranches_frame(states)),
                       "cibles": records(targets_frame(states)),
                       "esms_signales": records(flags_frame(states))},
                      ensure_ascii=False, indent=2)


@suivi_app.command("etat")
def etat(
    compte: Compte = None,
    region: Annotated[str | None, typer.Option("--region", help="Code région (ex. 24).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON.")] = False,
    le: Annotated[str | None, typer.Option("--date", help="Date d'évaluation.")] = None,
    db: Db = None,
    stdin: Stdin = False,
) -> None:
    """État des grappes suivies : tranches, dates prévues, ESMS à relancer."""
    suivi, jeton = _session(db, compte, stdin)
    states = suivi.mes_grappes(jeton, region, _date(le, "--date") if le else None)
    if as_json:
        typer.echo(_json(states))
        return
    if not states:
        console.print("Aucune grappe suivie visible par ce compte.")
        return
    table = Table(title="Tranches", title_justify="left")
    for col in ("Grappe", "Tranche", "Montant", "État", "Payable le", "Prévue le",
                "Vérif. service régulier", "Motif"):
        table.add_column(col)
    for st in states:
        for t in st.tranches:
            check = "" if not t.tranche.regle.service_check else (
                f"signée le {t.verification.le:%d/%m/%Y}" if t.verification else "à enregistrer")
            table.add_row(st.grappe.grappe_id, f"{t.tranche.rang} ({t.tranche.regle.share:.0%})",
                          euros(t.tranche.montant), STATE_LABELS[t.state],
                          f"{t.payable_on:%d/%m/%Y}" if t.payable_on else "",
                          f"{t.expected_on:%d/%m/%Y}" if t.expected_on else "", check,
                          t.reason)
    console.print(table)
    flags = [(st.grappe.grappe_id, f) for st in states for f in st.flags]
    if flags:
        t2 = Table(title="ESMS à relancer en premier", title_justify="left")
        for col in ("Grappe", "FINESS", "ESMS", "Indicateur", "Prévu", "Motif"):
            t2.add_column(col)
        for code, f in flags:
            t2.add_row(code, f.finess_et, f.raison_sociale, f.indicator_label,
                       label(f.expected), f.reason)
        console.print(t2)


@suivi_app.command("versement")
def versement(
    grappe: Annotated[str, typer.Option("--grappe")],
    tranche: Annotated[int, typer.Option("--tranche", help="Rang de la tranche (1, 2…).")],
    le: Annotated[str, typer.Option("--date", help="Date du versement AAAA-MM-JJ.")],
    compte: Compte = None,
    db: Db = None,
    stdin: Stdin = False,
) -> None:
    """(ARS) Noter le versement d'une tranche payable."""
    when = _date(le, "--date")
    suivi, jeton = _session(db, compte, stdin)
    suivi.declarer_versement(jeton, grappe, tranche, when)
    console.print(f"Versement de la tranche {tranche} de {grappe} noté le {when:%d/%m/%Y}.",
                  highlight=False)


@suivi_app.command("exporter")
def exporter(
    dossier: Annotated[Path, typer.Argument(help="Dossier où écrire suivi-grappes.xlsx.")],
    compte: Compte = None,
    region: Annotated[str | None, typer.Option("--region")] = None,
    db: Db = None,
    stdin: Stdin = False,
) -> None:
    """(ARS) Exporter le suivi de la région en XLSX."""
    suivi, jeton = _session(db, compte, stdin)
    path = suivi.exporter(jeton, dossier, region)
    console.print(f"Écrit : {path}")


def register(app: typer.Typer) -> None:
    """Add ``suivi`` to the ``grappes`` command line."""
    app.add_typer(suivi_app, name="suivi")
