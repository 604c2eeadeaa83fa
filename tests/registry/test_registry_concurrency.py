"""Invariants held by the database under concurrent calls (issue 18), on both backends
(SQLite serialises writers; PostgreSQL is where they were broken): the lock-out counts
exactly ``max_failures`` checks, one first admin, one constitution per declaration."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, text, update

from grappes.registry import RegistreError
from grappes.registry.models import Audit, Compte, Declaration, GrappeProposee, Invitation
from tests.registry.conftest import OG_A, OG_B, PASSWORD


def _together(n: int, fn):
    """Run ``fn(i)`` in ``n`` threads released at once; the results or exceptions."""
    barrier = threading.Barrier(n)

    def run(i):
        barrier.wait()
        try:
            return fn(i)
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def test_lockout_10_threads_x_5_wrong_passwords(registry):
    registry.creer_compte(None, "admin@test.fr", "admin", PASSWORD)
    _together(10, lambda i: [_fail(registry) for _ in range(5)])
    with registry.db.read() as s:
        checks = s.scalar(select(func.count()).select_from(Audit)
                          .where(Audit.action == "connexion_echec"))
        locks = s.scalar(select(func.count()).select_from(Audit)
                         .where(Audit.action == "compte_verrouillage"))
        locked = s.scalar(select(Compte.verrouille_jusqu_a))
    assert (checks, locks) == (registry.securite.max_failures, 1)
    assert locked is not None
    assert isinstance(_fail(registry, PASSWORD), RegistreError)  # locked: even the right one


def _fail(registry, password: str = "mauvais-mot-de-passe"):
    try:
        return registry.connexion("admin@test.fr", password)
    except RegistreError as exc:
        return exc


def test_five_concurrent_first_admins_make_one(registry):
    out = _together(5, lambda i: registry.creer_compte(None, f"admin{i}@test.fr", "admin",
                                                       PASSWORD))
    with registry.db.read() as s:
        admins = s.scalar(select(func.count()).select_from(Compte)
                          .where(Compte.role == "admin"))
    assert admins == 1
    assert sum(not isinstance(x, Exception) for x in out) == 1


def test_two_concurrent_constitutions_of_one_declaration(world):
    """Two grappes sharing A and B, both accepted (as a base made before r0005 could hold):
    constituted at the same time, only one gets them."""
    r = world.reg
    world.declare_all()
    ids = []
    for _ in range(2):
        g = next(x for x in r.apparier(world.coord, ["37"], time_limit=5).grappes
                 if {m.finess_ej for m in x.membres} >= {OG_A, OG_B})
        ids.append(g.id)
    with r.db.write() as s:
        for gid in ids:
            g = s.get(GrappeProposee, gid)
            g.statut = "acceptee"
            for m in g.membres:
                s.add(Invitation(grappe_id=gid, declaration_id=m.declaration_id,
                                 statut="acceptee", origine="coordinateur",
                                 envoyee_le=r.clock()))
        s.execute(update(Declaration).values(grappe_engagee_id=None))
    versions = {gid: r.grappe(world.coord, gid).version for gid in ids}
    out = _together(2, lambda i: r.constituer(world.coord, ids[i], versions[ids[i]]))
    ok = [x for x in out if not isinstance(x, Exception)]
    assert len(ok) == 1, out
    assert "déjà engagée" in str(next(x for x in out if isinstance(x, Exception)))
    statuts = sorted(r.grappe(world.coord, gid).statut for gid in ids)
    assert statuts == ["acceptee", "constituee"]


def test_sqlite_writers_of_other_processes_wait_on_the_kernel_lock(tmp_path):
    """Issue 19 (speed): a SQLite write transaction holds an exclusive ``flock`` on the
    file's writer lock, so a writer of another process waits in the kernel and is woken at
    the commit, instead of polling SQLite's busy timeout (seconds lost under load). Another
    open file description stands for the other process (flock locks belong to it)."""
    fcntl = pytest.importorskip("fcntl")
    from grappes.registry.db import Database

    db = Database(f"sqlite:///{tmp_path / 'r.db'}")
    lock_file = tmp_path / "r.db-ecriture.lock"

    def other_process_can_write() -> bool:
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        finally:
            os.close(fd)  # closing releases a lock taken here
        return True

    with db.write() as s:
        s.execute(text("CREATE TABLE t (x INTEGER)"))
        assert lock_file.exists() and not other_process_can_write()
    assert other_process_can_write()
    with db.read() as s:  # readers never take it
        s.execute(text("SELECT 1"))
        assert other_process_can_write()
    db.dispose()
