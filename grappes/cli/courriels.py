"""``grappes registre envoyer-courriels``: send the outbox's pending e-mails (issue 19).

To run by cron (every few minutes) with ``GRAPPES_SMTP_URL`` set: each message is sent once;
when the server is down they wait for the next run. A module of its own so that the
registry's command module stays as it is; it adds its command to ``grappes registre``.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from grappes.cli.account import MissingCredentials, sign_in
from grappes.cli.registre import registre
from grappes.cli.support import EXIT_DATA, EXIT_USAGE, fail
from grappes.registry import RegistreError, Registry
from grappes.registry.outbox import SMTP_ENV, envoyer

console = Console()
err = Console(stderr=True)


@registre.command("envoyer-courriels")
def envoyer_courriels(
    smtp: Annotated[str | None, typer.Option(
        "--smtp", help=f"serveur (smtp://hôte:port) ; défaut : {SMTP_ENV}")] = None,
    db: Annotated[str | None, typer.Option("--base", help="URL PostgreSQL ou fichier SQLite")]
    = None,
    compte: Annotated[str | None, typer.Option("--compte", help="compte admin ; défaut : "
                                               "GRAPPES_COMPTE")] = None,
    stdin: Annotated[bool, typer.Option("--mot-de-passe-stdin")] = False,
) -> None:
    """(Admin) Envoyer les courriels en attente (invitations, grappes, tranches)."""
    try:
        reg = Registry(db)
        rep = envoyer(reg, sign_in(reg, compte, stdin), smtp)
    except MissingCredentials as exc:
        fail(err, str(exc), code=EXIT_USAGE)
    except (RegistreError, ValueError) as exc:
        fail(err, str(exc), code=EXIT_DATA)
    console.print(f"Courriels envoyés : {rep.sent} ; en échec (réessayés plus tard) : "
                  f"{rep.failed} ; en attente : {rep.waiting}.", highlight=False)
    if rep.error:
        err.print(f"[yellow]{rep.error}[/yellow]", highlight=False)
    if rep.failed:
        raise typer.Exit(EXIT_DATA)


def register(app: typer.Typer) -> None:
    """Nothing to add at the top level: the command lives in ``grappes registre``."""
