"""Engine, transactions and migrations of the registry database (SQLite or PostgreSQL).

Every API call runs in ONE transaction (:meth:`Database.write` / :meth:`Database.read`).
On SQLite, write transactions start with ``BEGIN IMMEDIATE`` so that two writers queue on
the file lock (busy timeout) instead of failing when a read lock is upgraded; the WAL
journal lets readers go on meanwhile. PostgreSQL runs at READ COMMITTED; lost updates are
prevented by the version columns (optimistic locking, see ``models``).
"""

from __future__ import annotations

import os
import select as _select
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    DataError,
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    OperationalError,
)
from sqlalchemy.orm import Session, sessionmaker

try:  # POSIX: writers of several processes queue in the kernel (see _SqliteWriters)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

from grappes.registry.config import database_url
from grappes.registry.errors import BaseInaccessible, ConflitEnregistrement, RegistreError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: one lock per SQLite file and process: writers of one process (the app's sessions, the
#: bench's threads) queue on it instead of polling the file lock, which starves some of them
_SQLITE_WRITERS: dict[str, threading.Lock] = {}
_GUARD = threading.Lock()
HEAD = "head"


class _SqliteWriters:
    """The queue of a SQLite file's writers: the threads of this process queue on a lock,
    then the process waits for an exclusive ``flock`` on a lock file next to the database,
    which the kernel hands over as soon as the holder releases it. Without it, writers of
    several processes (app workers, CLI) poll SQLite's file lock with growing sleeps
    (busy timeout): some wait seconds while the file is free (measured in
    ``bench/bench_registry.py --processes``). Where ``fcntl`` is missing (Windows) or the
    database is in memory, only the in-process lock is used."""

    def __init__(self, thread_lock: threading.Lock, lock_path: Path | None,
                 prioritaire: bool = False) -> None:
        self._thread_lock = thread_lock
        self._path = lock_path if fcntl is not None else None
        self._local = threading.local()
        #: skips the threads' queue (``prioritaire()``)
        self._skip_threads = prioritaire and self._path is not None

    def prioritaire(self) -> _SqliteWriters:
        """The same file lock, without queueing behind the threads of this process that
        wait for it: a short write (the audit of the contacts a read showed) waits only
        for the writer holding the file, not for every queued acceptance (bench, 50
        sessions: ~0.7 s at p50 before). Without ``fcntl`` or for a database in memory,
        the ordinary queue."""
        return _SqliteWriters(self._thread_lock, self._path, prioritaire=True)

    def __enter__(self) -> None:
        if not self._skip_threads:
            self._thread_lock.acquire()
        if self._path is None:
            return
        try:  # opened per transaction: a forked child never shares the parent's lock
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:  # read-only folder: SQLite's own lock still serialises writers
            self._local.fd = None
            return
        fcntl.flock(fd, fcntl.LOCK_EX)
        self._local.fd = fd

    def __exit__(self, *exc) -> None:
        fd = getattr(self._local, "fd", None)
        self._local.fd = None
        try:
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
        finally:
            if not self._skip_threads:
                self._thread_lock.release()


def _sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL (None: in memory)."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the SQLite settings described in the module docstring."""
    if url.startswith("sqlite"):
        # SQLite connections are cheap: a large pool, so that 50 concurrent sessions wait on
        # the file lock (busy timeout), not on the pool
        engine = create_engine(url, connect_args={"timeout": 300, "check_same_thread": False},
                               pool_size=60, max_overflow=100, pool_timeout=300)

        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn, _record) -> None:  # pragma: no cover - driver hook
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            # erased personal data are overwritten with zeros in the file, not just unlinked
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.execute("PRAGMA busy_timeout=300000")
            if ":memory:" not in url and url != "sqlite://":
                cursor.execute("PRAGMA journal_mode=WAL")
                # WAL + NORMAL: no fsync at each commit (only at checkpoints): the file stays
                # consistent after any crash; a power cut may lose the last commits. Writers
                # hold the lock ~10 ms less each (issue 19: the 10-process bench, docs)
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn) -> None:  # pragma: no cover - driver hook
            mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine
    # no ``pool_pre_ping``: its ``SELECT 1`` is one more round trip on every checkout, i.e.
    # on every API call (measured: a cached « mes invitations » made 5 round trips, 2 of
    # them this ping and the BEGIN). A dead connection is found without a round trip
    # instead (``_connexion_morte``); connections are renewed after 30 min (firewalls drop
    # idle ones silently)
    engine = create_engine(url, pool_size=20, max_overflow=40, pool_timeout=300,
                           pool_recycle=1800)

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn, _record, _proxy) -> None:  # pragma: no cover - pool hook
        if _connexion_morte(dbapi_conn):
            raise DisconnectionError("connexion fermée par le serveur")  # the pool retries

    return engine


def _connexion_morte(dbapi_conn) -> bool:
    """A pooled PostgreSQL connection the server has closed (restart, ``pg_terminate_backend``,
    idle timeout), seen without a round trip: the driver marks it closed or broken, or its
    socket is readable while it is idle (the server's farewell message, or the end of the
    stream: an idle connection is sent nothing else, the registry uses no LISTEN). A
    connection dropped silently on the network is not seen here: its first statement fails
    and the call gives ``BaseInaccessible`` (the pool then discards it)."""
    if getattr(dbapi_conn, "closed", False) or getattr(dbapi_conn, "broken", False):
        return True
    pgconn = getattr(dbapi_conn, "pgconn", None)  # psycopg 3
    try:
        fd = pgconn.socket if pgconn is not None else dbapi_conn.fileno()
    except Exception:  # no socket at all: dead
        return True
    try:
        readable, _, _ = _select.select([fd], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


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


@contextmanager
def _french_errors(url: str) -> Iterator[None]:
    """Database failures as French messages (never a traceback): a constraint refusing a
    concurrent duplicate, a value out of range, a database down or unreachable."""
    where = url.split("@")[-1]
    try:
        yield
    except IntegrityError as exc:
        raise ConflitEnregistrement from exc
    except DataError as exc:
        raise BaseInaccessible("valeur refusée par la base (nombre hors limites ou texte "
                               "trop long) : rien n'a été enregistré") from exc
    except (OperationalError, InterfaceError) as exc:
        raise BaseInaccessible(f"base de données inaccessible ({where}) : vérifiez qu'elle "
                               "est démarrée et joignable, puis réessayez") from exc


def _note_writes(session_factory: sessionmaker) -> None:
    """Mark a session that wrote anything (``info["a_ecrit"]``): an ORM flush that changed
    rows or a Core INSERT/UPDATE/DELETE run through it. The views' cache stores only what a
    transaction that wrote nothing read (``session_sans_ecriture``)."""

    @event.listens_for(session_factory, "after_flush")
    def _flushed(session, _context) -> None:  # pragma: no cover - ORM hook
        session.info["a_ecrit"] = True

    @event.listens_for(session_factory, "do_orm_execute")
    def _dml(state) -> None:  # pragma: no cover - ORM hook
        if state.is_insert or state.is_update or state.is_delete:
            state.session.info["a_ecrit"] = True


def session_sans_ecriture(session: Session) -> bool:
    """True for a read transaction that has written nothing so far: what it reads is
    committed (see ``cache_vues``)."""
    return bool(session.info.get("lecture")) and not session.info.get("a_ecrit")


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
        _note_writes(self._read)
        #: PostgreSQL reads whose statements commit one by one (``read(autocommit=True)``)
        self._read_auto = self._read
        if not self.is_sqlite:
            self._read_auto = sessionmaker(
                bind=self.engine.execution_options(isolation_level="AUTOCOMMIT"),
                expire_on_commit=False)
            _note_writes(self._read_auto)
        self._write = sessionmaker(bind=writer, expire_on_commit=False)
        self._writer_lock: _SqliteWriters | None = None
        if self.is_sqlite:
            with _GUARD:
                thread_lock = _SQLITE_WRITERS.setdefault(self.url, threading.Lock())
            path = _sqlite_file(self.url)
            self._writer_lock = _SqliteWriters(
                thread_lock, path.with_name(path.name + "-ecriture.lock") if path else None)

    @property
    def sqlite_file(self) -> Path | None:
        """The SQLite file of this database (None: PostgreSQL or in memory)."""
        return _sqlite_file(self.url) if self.is_sqlite else None

    def init(self) -> str:
        """Create or upgrade the schema; returns the revision now in place."""
        self._check_known_revision()
        try:
            upgrade(self.engine)
        except (OperationalError, InterfaceError) as exc:
            raise BaseInaccessible(f"base de données inaccessible "
                                   f"({self.url.split('@')[-1]}) : vérifiez qu'elle est "
                                   "démarrée et joignable") from exc
        return head_revision()

    def _check_known_revision(self) -> str | None:
        """The revision in place; a French error when this version of grappes does not know
        it (a database upgraded by a newer grappes, or another application's)."""
        try:
            rev = current_revision(self.engine)
        except Exception as exc:
            raise BaseInaccessible(f"base de données inaccessible "
                                   f"({self.url.split('@')[-1]}) : vérifiez qu'elle est "
                                   "démarrée et joignable") from exc
        if rev is not None:
            script = ScriptDirectory.from_config(alembic_config(None))
            try:
                script.get_revision(rev)
            except Exception as exc:
                raise RegistreError(
                    f"schéma de la base en révision {rev!r}, inconnue de cette version de "
                    f"grappes (dernière connue : {head_revision()}) : base mise à jour par "
                    "une version plus récente ? Installez cette version de grappes") from exc
        return rev

    def check_schema(self) -> None:
        """Raise a French error when the database was not initialised or is out of date."""
        rev = self._check_known_revision()
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
    def write(self, prioritaire: bool = False) -> Iterator[Session]:
        """One write transaction: committed at the end, rolled back on any error.
        ``prioritaire``: a short write that goes before the writers waiting in this process
        (SQLite; PostgreSQL has no writers' queue)."""
        queue = self._writer_lock
        if queue is not None and prioritaire:
            queue = queue.prioritaire()
        with _french_errors(self.url), queue or nullcontext(), \
                self._write() as session, session.begin():
            yield session

    @contextmanager
    def read(self, autocommit: bool = False) -> Iterator[Session]:
        """One read transaction (audit entries written in it are committed too).

        ``autocommit`` (PostgreSQL): no transaction, each statement commits on its own: the
        ``BEGIN`` and ``COMMIT`` round trips are saved (2 of the 5 of a cached « mes
        invitations »). The result is the same as a transaction's: at READ COMMITTED each
        statement sees its own snapshot anyway. For reads whose only write is ONE audit
        statement (committed before the result is returned; if it fails, the call fails).
        SQLite: ignored (a deferred transaction costs no round trip)."""
        factory = self._read_auto if autocommit else self._read
        with _french_errors(self.url), factory() as session, session.begin():
            session.info["lecture"] = True
            yield session

    def effacer_traces(self, tables: list[str]) -> None:
        """Wipe what the files still hold of erased rows. SQLite: the pages were zeroed by
        ``secure_delete``; a ``wal_checkpoint(TRUNCATE)`` copies them into the main file and
        empties the WAL (it succeeds while other connections are open and idle, as the app's
        are). PostgreSQL: ``VACUUM FULL`` rewrites each table without its dead rows (old
        versions of updated rows included). What remains (PostgreSQL's WAL until its
        segments are recycled, backups) is stated in docs/registre.md."""
        with _french_errors(self.url), self.engine.connect() as conn:
            if self.is_sqlite:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                return
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            for table in tables:
                conn.exec_driver_sql(f'VACUUM FULL "{table}"')

    def dispose(self) -> None:
        self.engine.dispose()
