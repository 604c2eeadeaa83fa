"""Engine, transactions and migrations of the registry database (SQLite or PostgreSQL).

Every API call runs in ONE transaction (:meth:`Database.write` / :meth:`Database.read`).
On SQLite, write transactions start with ``BEGIN IMMEDIATE`` so that two writers queue on
the file lock (busy timeout) instead of failing when a read lock is upgraded; the WAL
journal lets readers go on meanwhile. PostgreSQL runs at READ COMMITTED; lost updates are
prevented by the version columns (optimistic locking, see ``models``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from matching.registry.config import database_url
from matching.registry.errors import RegistreError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
HEAD = "head"


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the SQLite settings described in the module docstring."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn, _record) -> None:  # pragma: no cover - driver hook
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=60000")
            if ":memory:" not in url and url != "sqlite://":
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn) -> None:  # pragma: no cover - driver hook
            mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine
    return create_engine(url, pool_size=20, max_overflow=40, pool_pre_ping=True)


def alembic_config(connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = HEAD) -> None:
    """Bring the schema to ``revision`` (default: the latest), in one transaction."""
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    script = ScriptDirectory.from_config(alembic_config(None))
    return str(script.get_current_head())


class Database:
    """The registry database: engine, one-transaction sessions, schema check."""

    def __init__(self, url: str | None = None) -> None:
        self.url = database_url(url)
        try:
            self.engine = make_engine(self.url)
        except Exception as exc:  # bad URL, missing driver
            msg = f"base de données inutilisable ({self.url.split('@')[-1]}) : {exc}"
            raise RegistreError(msg) from exc
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        writer = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        self._read = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._write = sessionmaker(bind=writer, expire_on_commit=False)

    def init(self) -> str:
        """Create or upgrade the schema; returns the revision now in place."""
        upgrade(self.engine)
        return head_revision()

    def check_schema(self) -> None:
        """Raise a French error when the database was not initialised or is out of date."""
        try:
            rev = current_revision(self.engine)
        except Exception as exc:
            msg = f"base de données inaccessible : {exc.__class__.__name__}"
            raise RegistreError(msg) from exc
        if rev is None:
            raise RegistreError(
                "base de données non initialisée : lancer « grappes registre init »"
            )
        if rev != head_revision():
            raise RegistreError(
                f"schéma de la base en révision {rev}, attendu {head_revision()} : "
                "lancer « grappes registre init » pour la mettre à jour"
            )

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: committed at the end, rolled back on any error."""
        with self._write() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """One read transaction (audit entries written in it are committed too)."""
        with self._read() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
