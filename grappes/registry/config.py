"""Settings of the registry: where the database is, and the security and retention rules.

``GRAPPES_DB_URL`` (or ``--base``) names a PostgreSQL (``postgresql+psycopg://…``) or SQLite
database; the default is the SQLite file ``grappes.db`` in the current folder, so a single
user needs nothing to install. Which FINESS file the registry reads (``GRAPPES_FINESS``, the
file stored by ``registre init --finess``, else the bundled sample) is decided in
``grappes.registry.finess_source``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

DEFAULT_DB_FILE = "grappes.db"
ENV_DB_URL = "GRAPPES_DB_URL"
#: folder where files uploaded in the page (a FINESS file) are kept
ENV_FICHIERS = "GRAPPES_FICHIERS"
FICHIERS_DIR = "grappes-fichiers"

#: consent text version: stored with each consent so a later change of the text is traceable
CONSENT_VERSION = "2026-01"


@dataclass(frozen=True)
class Securite:
    """Account rules (ANSSI-style defaults; a deployment may tighten them)."""

    min_password_length: int = 12
    max_failures: int = 5
    lockout: timedelta = timedelta(minutes=15)
    session_ttl: timedelta = timedelta(hours=8)
    #: argon2id cost: argon2-cffi's defaults (RFC 9106 "low memory" profile: 3 passes over
    #: 64 MiB, 4 lanes). A hash carries its own parameters, so a change here applies to new
    #: passwords and to each account's next successful login (it is re-hashed then).
    argon2_passes: int = 3
    argon2_memoire_kio: int = 65536
    argon2_voies: int = 4


@dataclass(frozen=True)
class Conservation:
    """RGPD retention: personal data of a declaration are erased this long after its last change."""

    mois: int = 24
    #: audit entries are kept this long (they hold no personal data, only who did what)
    audit_mois: int = 60
    #: a déclarant account never activated (created by an import, no password) is erased
    #: this long after its creation when it has no active declaration left
    compte_non_active_mois: int = 6
    #: any déclarant account with no active declaration is erased this long after its last
    #: login (or its creation); a deactivated account of any role, this long after creation
    compte_mois: int = 24


def database_url(db: str | None = None) -> str:
    """The SQLAlchemy URL: ``db`` if given, else ``GRAPPES_DB_URL``, else ``sqlite:///grappes.db``.

    A bare path (``registre.db``) is taken as a SQLite file; ``postgresql://`` is mapped to
    the psycopg 3 driver.
    """
    value = (db or os.environ.get(ENV_DB_URL) or "").strip()
    if not value:
        value = DEFAULT_DB_FILE
    if "://" not in value:
        return f"sqlite:///{Path(value).expanduser()}"
    if value.startswith("postgresql://") or value.startswith("postgres://"):
        return "postgresql+psycopg://" + value.split("://", 1)[1]
    return value


def dossier_fichiers(sqlite_file: Path | None) -> Path:
    """Where the registry keeps the files uploaded in its page (the FINESS file).

    ``GRAPPES_FICHIERS`` if set; else a ``grappes-fichiers`` folder next to the SQLite file;
    else (PostgreSQL) ``grappes-fichiers`` in the current folder. Why a folder and not the
    database: the FINESS file is read by path by every process (the CLI, the app), and a
    national file is tens of megabytes.
    """
    value = os.environ.get(ENV_FICHIERS, "").strip()
    if value:
        return Path(value).expanduser()
    if sqlite_file is not None:
        return sqlite_file.expanduser().resolve().parent / FICHIERS_DIR
    return Path(FICHIERS_DIR).resolve()
