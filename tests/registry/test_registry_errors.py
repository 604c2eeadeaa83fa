"""Clear French errors, never a traceback (issue 18): unknown or newer schema revision,
database down, out-of-range numbers, concurrent duplicate import, rich markup in a rejected
cell, removing the porteur's member."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from grappes.cli.main import app
from grappes.registry import AccesRefuse, RegistreError, SaisieInvalide
from grappes.registry.db import Database
from grappes.registry.errors import BaseInaccessible
from tests.registry.conftest import OG_A, OG_B, sample_esms

runner = CliRunner()


def test_newer_or_unknown_revision(db_url):
    db = Database(db_url)
    db.init()
    engine = create_engine(db_url)
    with engine.begin() as c:
        c.execute(text("UPDATE alembic_version SET version_num = 'r9999'"))
    engine.dispose()
    for call in (db.check_schema, db.init):
        with pytest.raises(RegistreError, match="inconnue de cette version de grappes"):
            call()
    db.dispose()


def test_database_down(tmp_path):
    db = Database("postgresql+psycopg://personne@127.0.0.1:1/absente?connect_timeout=2")
    with pytest.raises(BaseInaccessible, match="inaccessible"):
        db.check_schema()
    with pytest.raises(BaseInaccessible, match="démarrée et joignable"), db.read() as s:
        s.execute(text("SELECT 1"))
    r = runner.invoke(app, ["registre", "init", "--base",
                            "postgresql://personne@127.0.0.1:1/absente?connect_timeout=2"])
    assert r.exit_code == 1 and "inaccessible" in r.output
    assert "Traceback" not in r.output and isinstance(r.exception, SystemExit)



def test_connection_closed_by_the_server_is_replaced_without_a_ping(registry):
    """No ``SELECT 1`` on each checkout (a round trip per call): a pooled connection the
    server closed (restart, ``pg_terminate_backend``) is still replaced, seen from its socket
    (``db._connexion_morte``), and the next call succeeds. SQLite has no server: the same
    calls run unchanged."""
    from tests.registry.conftest import PASSWORD

    reg = registry
    reg.creer_compte(None, "admin@test.fr", "admin", PASSWORD)
    jeton = reg.connexion("admin@test.fr", PASSWORD).jeton
    assert reg.mes_invitations(jeton) == []  # leaves a connection in the pool
    if not reg.db.is_sqlite:
        admin = create_engine(reg.db.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            name = c.scalar(text("SELECT current_database()"))
            killed = c.scalar(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = :d AND pid <> pg_backend_pid()"), {"d": name})
            assert killed >= 1
            for _ in range(200):  # pg_terminate_backend only signals: wait for the exits
                if not c.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                                     ":d AND pid <> pg_backend_pid()"), {"d": name}):
                    break
                threading.Event().wait(0.01)
        admin.dispose()
    for _ in range(3):  # every pooled connection was closed: each is replaced in turn
        assert reg.mes_invitations(jeton) == []
        with reg.db.read() as s:
            assert s.execute(text("SELECT 1")).scalar() == 1


def test_out_of_range_numbers_refused_like_missing(world):
    r = world.reg
    world.declare_all()
    for big in (10**12, -1, 2**31):
        with pytest.raises(AccesRefuse):
            r.lire_declaration(world.coord, big)
        with pytest.raises(AccesRefuse):
            r.grappe(world.coord, big)
        with pytest.raises(AccesRefuse):
            r.repondre(world.a, big, True)
        with pytest.raises(AccesRefuse):
            r.decider_rattachement(world.coord, big, True)


def _csv(ej: str, contact: str) -> bytes:
    return ("finess_ej;finess_et;contact_nom;contact_email;consentement\n" + "".join(
        f"{ej};{e.finess_et};Nom;{contact};oui\n" for e in sample_esms(ej))).encode()


def test_concurrent_duplicate_import(world):
    r = world.reg
    data = _csv("371114794", "eve@og.fr")
    barrier = threading.Barrier(2)
    out: list = []

    def run():
        barrier.wait()
        try:
            out.append(r.importer_csv(world.coord, data))
        except RegistreError as exc:
            out.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    loaded = [x for x in out if not isinstance(x, Exception) and x.chargees]
    assert len(loaded) == 1, out
    other = next(x for x in out if x is not loaded[0])
    if isinstance(other, Exception):  # both inserted at once: the index refused one
        assert "import simultané" in str(other)
    else:  # the second one came after the first commit: it found the declaration
        assert other.deja_presentes and not other.chargees
    assert sum(d.finess_ej == "371114794" for d in r.declarations(world.coord, ["37"])) == 1


def test_removing_the_porteur_needs_a_new_one(world):
    r = world.reg
    world.declare_all()
    g = next(x for x in r.apparier(world.coord, ["37"], time_limit=5).grappes
             if {m.finess_ej for m in x.membres} >= {OG_A, OG_B})
    porteur = next(m for m in g.membres if m.finess_ej == g.porteur_ej)
    other = next(m.finess_ej for m in g.membres if m.finess_ej != g.porteur_ej)
    with pytest.raises(SaisieInvalide, match="porteur"):
        r.modifier_grappe(world.coord, g.id, g.version, retirer=[porteur.declaration_id])
    g2 = r.modifier_grappe(world.coord, g.id, g.version, retirer=[porteur.declaration_id],
                           porteur_ej=other)
    assert g2.porteur_ej == other


def test_cli_rich_markup_in_rejected_cell_and_big_numbers(tmp_path, monkeypatch):
    db = str(tmp_path / "g.db")
    monkeypatch.setenv("GRAPPES_FINESS", "sample")
    pw = "une phrase de passe"

    def run(*args, input=None, env=None):
        return runner.invoke(app, ["registre", *args, "--base", db], input=input, env=env)

    run("init")
    assert run("compte", "ajouter", "admin@test.fr", "--role", "admin",
               "--mot-de-passe-stdin", input=pw + "\n").exit_code == 0
    admin = {"GRAPPES_COMPTE": "admin@test.fr", "GRAPPES_MOT_DE_PASSE": pw}
    run("compte", "ajouter", "ars@test.fr", "--role", "ars", "--territoire", "R24",
        input=pw + "\n", env=admin)
    csv = tmp_path / "d.csv"
    csv.write_text("finess_ej;finess_et;contact_nom;contact_email;consentement\n"
                   "[/bold]x;[red]y;[/];z@og.fr;oui\n", encoding="utf-8")
    r = run("importer", str(csv), env=admin)
    assert r.exit_code == 1 and isinstance(r.exception, SystemExit)
    assert "[/BOLD]X" in r.output and "Traceback" not in r.output  # shown as typed
    ars = {"GRAPPES_COMPTE": "ars@test.fr", "GRAPPES_MOT_DE_PASSE": pw}
    r = run("inviter", str(10**15), "--grappe", "1", env=ars)
    assert r.exit_code == 1 and "non autorisée ou objet introuvable" in r.output
    r = run("compte", "debloquer", "admin@test.fr")
    assert r.exit_code == 0 and "Compte débloqué : admin@test.fr" in r.output
