"""How every command group that works on the registry's database signs in: one convention.

The account: ``--compte EMAIL`` or ``GRAPPES_COMPTE``. The password, in this order:
``--mot-de-passe-stdin`` (first line of stdin), ``GRAPPES_MOT_DE_PASSE``, the first line of
stdin when it is not a terminal (a pipe, a script), else a hidden prompt. An empty password
is refused before any sign-in, so that a script without its password never counts as a
failed attempt toward the lock-out.
"""

from __future__ import annotations

import os
import sys

import typer

from grappes.core.errors import GrappesError
from grappes.registry import Registry

ACCOUNT_ENV = "GRAPPES_COMPTE"
PASSWORD_ENV = "GRAPPES_MOT_DE_PASSE"


class MissingCredentials(GrappesError, ValueError):
    """No account or no password given (a usage error: exit code 2)."""

    exit_code = 2


def account(compte: str | None) -> str:
    """The account e-mail, from the option or ``GRAPPES_COMPTE``."""
    email = (compte or os.environ.get(ACCOUNT_ENV) or "").strip()
    if not email:
        raise MissingCredentials(f"compte manquant : --compte EMAIL (ou {ACCOUNT_ENV})")
    return email


def password(stdin: bool = False, label: str = "Mot de passe") -> str:
    """The password by the order above; refused when empty."""
    if stdin:
        value = sys.stdin.readline().rstrip("\r\n")
    elif os.environ.get(PASSWORD_ENV):
        value = os.environ[PASSWORD_ENV]
    elif not sys.stdin.isatty():
        value = sys.stdin.readline().rstrip("\r\n")
    else:
        value = typer.prompt(label, hide_input=True)
    if not value:
        msg = (f"mot de passe manquant : {PASSWORD_ENV}, --mot-de-passe-stdin ou saisie "
               "(aucune tentative de connexion comptée)")
        raise MissingCredentials(msg)
    return value


def sign_in(reg: Registry, compte: str | None, stdin: bool = False) -> str:
    """Open a session on ``reg`` by the convention above; returns its token.

    Raises :class:`MissingCredentials` (usage, exit 2) before touching the database, and the
    registry's own errors (wrong password, locked account, schema too old: exit 1) after.
    """
    email = account(compte)
    secret = password(stdin, f"Mot de passe de {email}")
    reg.db.check_schema()
    return reg.connexion(email, secret).jeton
