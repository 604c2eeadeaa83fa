"""Complete erasure (issue 18, RGPD): after the purge, the bytes of the database files no
longer hold the erased contacts nor the e-mail of an account that an import created and
nobody activated. SQLite: main file and WAL, with a second connection open as the app's
server holds one. PostgreSQL: the tables' files after the purge's VACUUM FULL (read with
``pg_read_binary_file``, dead row versions included)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.registry.conftest import OG_A, OG_C, PASSWORD, saisie, sample_esms

MARK_CONTACT = b"zorglub-contact@og-a.fr"
MARK_NAME = b"Zorglub Marqueur"
MARK_ACCOUNT = b"zorglub-compte@og.fr"


def _files_bytes(reg) -> bytes:
    url = reg.db.url
    if url.startswith("sqlite"):
        path = Path(url.split("sqlite:///", 1)[1])
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    out = b""
    with engine.connect() as c:
        c.execute(text("CHECKPOINT"))
        for table in ("declarations", "comptes", "rattachements", "sessions"):
            path = c.execute(text(f"SELECT pg_relation_filepath('{table}')")).scalar()
            size = c.execute(text(f"SELECT pg_relation_size('{table}')")).scalar()
            if size:
                out += bytes(c.execute(text("SELECT pg_read_binary_file(:p)"),
                                       {"p": path}).scalar())
    engine.dispose()
    return out


def test_purge_leaves_no_byte_of_erased_data(world, clock):
    r = world.reg
    r.declarer(world.a, saisie(OG_A, MARK_NAME.decode(), MARK_CONTACT.decode(),
                               texte_libre="zorglub texte libre"))
    data = ("finess_ej;finess_et;contact_nom;contact_email;consentement\n" + "".join(
        f"{OG_C};{e.finess_et};Eve;{MARK_ACCOUNT.decode()};oui\n"
        for e in sample_esms(OG_C))).encode()
    r.importer_csv(world.coord, data)
    second = None
    if r.db.is_sqlite:  # the app's server keeps the base open meanwhile
        second = sqlite3.connect(r.db.url.split("sqlite:///", 1)[1])
        second.execute("SELECT count(*) FROM declarations").fetchall()
    before = _files_bytes(r)
    assert MARK_CONTACT in before and MARK_ACCOUNT in before  # the test can fail
    clock.advance(days=800)  # past 24 months for the declarations, 6 for the account
    rep = r.purger(r.connexion("admin@test.fr", PASSWORD).jeton)
    assert rep.declarations_effacees and rep.comptes_effaces
    after = _files_bytes(r)
    for mark in (MARK_CONTACT, MARK_NAME, MARK_ACCOUNT, b"zorglub texte libre"):
        assert mark not in after, mark
    if second is not None:
        assert second.execute("SELECT count(*) FROM declarations").fetchone()[0] >= 1
        second.close()
