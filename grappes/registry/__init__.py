"""The « mise en relation » registry: structures declare, get matched, agree (issue 13).

Public API::

    from grappes.registry import Registry
    reg = Registry("grappes.db")            # or a PostgreSQL URL, or GRAPPES_DB_URL
    reg.init()                              # Alembic migrations, programmatically
    reg.creer_compte(None, "admin@x.fr", "admin", mot_de_passe)   # first admin only
    jeton = reg.connexion("admin@x.fr", mot_de_passe).jeton

Every method takes the session token and checks ``policy`` before touching the data.
"""

from grappes.registry.api import Registry, parse_territoire
from grappes.registry.declarations import DeclarationSaisie, EsmsSaisie
from grappes.registry.errors import (
    AccesRefuse,
    ConflitVersion,
    ConnexionRefusee,
    RegistreError,
    SaisieInvalide,
    SessionInvalide,
)

__all__ = [
    "AccesRefuse",
    "ConflitVersion",
    "ConnexionRefusee",
    "DeclarationSaisie",
    "EsmsSaisie",
    "RegistreError",
    "Registry",
    "SaisieInvalide",
    "SessionInvalide",
    "parse_territoire",
]
