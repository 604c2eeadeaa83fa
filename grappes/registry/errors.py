"""Errors of the registry API, each with a French message meant for the user.

The app and the CLI show ``str(exc)`` as it is; none of these messages ever names data the
caller is not allowed to see (a refusal reads the same whether the object exists or not).
"""

from __future__ import annotations

from grappes.core.errors import GrappesError


class RegistreError(GrappesError):
    """Base class: a French message for the user, never a traceback."""


class AccesRefuse(RegistreError):
    """The policy refused the action (or the object does not exist: same message)."""

    MESSAGE = "action non autorisée ou objet introuvable"

    def __init__(self) -> None:
        super().__init__(self.MESSAGE)


class SessionInvalide(RegistreError):
    """No session, an unknown token, or an expired session."""

    def __init__(self) -> None:
        super().__init__("session expirée ou invalide : reconnectez-vous")


class ConnexionRefusee(RegistreError):
    """Wrong e-mail or password, or a locked account (same message for unknown accounts)."""


class ConflitVersion(RegistreError):
    """Optimistic locking: somebody changed the object since the caller read it."""


class SaisieInvalide(RegistreError):
    """Bad input: ``erreurs`` lists (field, French reason)."""

    def __init__(self, erreurs: list[tuple[str, str]]) -> None:
        self.erreurs = list(erreurs)
        text = " ; ".join(f"{champ} : {raison}" for champ, raison in self.erreurs)
        super().__init__(f"saisie invalide — {text}")


class ConflitEnregistrement(RegistreError):
    """A database constraint refused a write made at the same time as another one (two
    imports of one file, two "first admins"): nothing was written."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message or "enregistrement refusé : une autre opération simultanée a "
                         "déjà enregistré la même chose. Rechargez et recommencez")


class BaseInaccessible(RegistreError):
    """The database is down, unreachable or refused a value: a French message, no trace."""
