"""Fixtures of the registry tests: every test runs on SQLite AND on PostgreSQL.

PostgreSQL comes from ``GRAPPES_TEST_PG_URL`` or, when unset, from a throw-away server this
session starts itself (``pgserver.PgServer``). If it cannot start, the PostgreSQL tests
FAIL (they are never skipped): the registry is meant to run on it.
"""

from __future__ import annotations

import itertools
import os
from datetime import datetime, timedelta

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from grappes.registry import DeclarationSaisie, EsmsSaisie, Registry
from grappes.registry.config import Securite
from tests.registry.pgserver import PgServer

PASSWORD = "mot-de-passe-solide"
#: argon2id at its lightest (1 pass over 256 KiB): the same code path as production, without
#: 0.3 s of hashing per account in every test; the production cost has its own test
#: (test_registry_accounts.py::test_default_cost_is_argon2id_rfc9106_and_rehash_on_login)
LIGHT = Securite(min_password_length=12, argon2_passes=1, argon2_memoire_kio=256,
                 argon2_voies=1)
_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_url():
    url = os.environ.get("GRAPPES_TEST_PG_URL")
    if url:
        yield url.replace("postgresql://", "postgresql+psycopg://", 1) \
            if url.startswith("postgresql://") else url
        return
    server = PgServer()
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registre.db'}"
        return
    base = request.getfixturevalue("pg_url")
    name = f"grappes_t{os.getpid()}_{next(_counter)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Clock:
    """A settable clock (sessions and retention expire without sleeping)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, 0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw) -> None:
        self.now += timedelta(**kw)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def registry(db_url, clock):
    reg = Registry(db_url, finess="sample", clock=clock,
                   securite=LIGHT)
    reg.init()
    yield reg
    reg.db.dispose()


def sample_esms(ej: str, champ: str = "PA") -> list[EsmsSaisie]:
    from grappes.registry.adapters import load_finess

    f = load_finess("sample")
    rows = f[(f["finess_ej"] == ej) & (f["champ"] == champ)]
    return [EsmsSaisie(str(x)) for x in rows["finess_et"]]


#: two small OGs of Indre-et-Loire (37) whose PA ESMS make one grappe (9 + 7 = 16 >= 15)
OG_A, OG_B = "370016669", "371082033"
#: a third OG of 37, and one in Loiret (45, another territory)
OG_C, OG_45 = "371114794", "450148986"


def saisie(ej: str, nom: str, email: str, **kw) -> DeclarationSaisie:
    return DeclarationSaisie(finess_ej=ej, esms=kw.pop("esms", None) or sample_esms(ej),
                             contact_nom=nom, contact_email=email, consentement=True,
                             contact_telephone=kw.pop("tel", "02 47 00 00 00"), **kw)


class World:
    """Accounts of every role, and declarations in two territories."""

    def __init__(self, reg: Registry) -> None:
        self.reg = reg
        reg.creer_compte(None, "admin@test.fr", "admin", PASSWORD)
        self.admin = reg.connexion("admin@test.fr", PASSWORD).jeton
        mk = self.make
        self.coord = mk("coord37@test.fr", "coordinateur", ["37"])
        self.coord45 = mk("coord45@test.fr", "coordinateur", ["45"])
        self.ars = mk("ars24@test.fr", "ars", ["R24"])
        self.ars_other = mk("ars11@test.fr", "ars", ["R11"])
        self.a = mk("a@test.fr", "declarant")
        self.b = mk("b@test.fr", "declarant")
        self.c = mk("c@test.fr", "declarant")
        self.d45 = mk("d45@test.fr", "declarant")
        # each déclarant speaks for its OG (issue 18): asked, approved by the territory
        for token, ej in ((self.a, OG_A), (self.b, OG_B), (self.c, OG_C), (self.d45, OG_45)):
            self.attach(token, ej)

    def make(self, email: str, role: str, territoire=()) -> str:
        self.reg.creer_compte(self.admin, email, role, PASSWORD, territoire)
        return self.reg.connexion(email, PASSWORD).jeton

    def attach(self, token: str, ej: str, decider: str | None = None):
        """``token``'s account asks to speak for ``ej``; the coordinator of its territory
        (37 or 45; else the ARS of the région) approves."""
        req = self.reg.demander_rattachement(token, ej)
        by = decider or {"37": self.coord, "45": self.coord45}.get(req.departement, self.ars)
        return self.reg.decider_rattachement(by, req.id, True)

    def declare_all(self, consent_coord: bool = True) -> None:
        r = self.reg
        self.da = r.declarer(self.a, saisie(OG_A, "Alice Martin", "alice@og-a.fr",
                                            tel="06 11 22 33 44",
                                            consentement_contacts_coordinateur=consent_coord))
        self.db = r.declarer(self.b, saisie(OG_B, "Bruno Petit", "bruno@og-b.fr",
                                            porteur="volontaire"))
        # C refuses A and B: the solver must keep it out of their grappe
        self.dc = r.declarer(self.c, saisie(OG_C, "Chloé Durand", "chloe@og-c.fr",
                                            partenaires_refuses=[OG_A, OG_B]))
        self.d45_decl = r.declarer(self.d45, saisie(OG_45, "Dan Loiret", "dan@og-45.fr"))


@pytest.fixture
def world(registry):
    return World(registry)
