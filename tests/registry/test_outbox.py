"""E-mail notifications through the outbox (issue 19), on SQLite and PostgreSQL, with a real
local SMTP server (aiosmtpd): events queue their messages in their own transaction; the
sender sends each once; a server that is down loses nothing and gets them once it is back.
"""

from __future__ import annotations

import socket
from datetime import date, timedelta
from email import message_from_bytes
from email.policy import default

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from typer.testing import CliRunner

from grappes.cli.main import app
from grappes.followup.store import Suivi
from grappes.registry import AccesRefuse, ConflitVersion
from grappes.registry.outbox import Courriel, envoyer, mes_courriels, parse_smtp_url
from tests.followup_factories import t2_grappe
from tests.registry.conftest import OG_A, OG_B, PASSWORD
from tests.registry.test_followup_store import _csv


class Inbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []

    async def handle_DATA(self, server, session, envelope):
        subject = str(message_from_bytes(envelope.content, policy=default)["Subject"])
        self.messages.extend((rcpt, subject) for rcpt in envelope.rcpt_tos)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _outbox(reg) -> list[tuple[str, str]]:
    with reg.db.read() as s:
        return [(c.evenement, c.destinataire) for c in s.scalars(
            select(Courriel).order_by(Courriel.id))]


def _grappe_to_submission(world):
    r = world.reg
    world.declare_all()
    g = next(x for x in r.apparier(world.coord, ["37"], time_limit=5).grappes
             if {m.finess_ej for m in x.membres} == {OG_A, OG_B})
    g = r.inviter(world.coord, g.id, g.version)
    with pytest.raises(ConflitVersion):  # a refused change queues nothing
        r.inviter(world.coord, g.id, g.version - 1)
    assert sorted(_outbox(r)) == [("invitation", "a@test.fr"), ("invitation", "b@test.fr")]
    for token in (world.a, world.b):
        r.repondre(token, r.mes_invitations(token)[0].id, True)
    g = r.grappe(world.coord, g.id)
    g = r.constituer(world.coord, g.id, g.version)
    r.soumettre_ars(world.coord, g.id, g.version)
    return g


def test_events_queue_in_their_transaction_and_are_sent_once(world, clock):
    r = world.reg
    _grappe_to_submission(world)
    members = {"a@test.fr", "b@test.fr"}
    queued = _outbox(r)
    assert {d for e, d in queued if e == "tous_acceptes"} == members
    assert {d for e, d in queued if e == "constituee"} == members
    assert {d for e, d in queued if e == "soumise_ars"} == members | {"ars24@test.fr"}
    assert len(queued) == 2 + 2 + 2 + 3

    # without GRAPPES_SMTP_URL: everything waits, and each account sees its messages
    rep = envoyer(r, world.admin, url="")
    assert (rep.sent, rep.waiting) == (0, 9) and "GRAPPES_SMTP_URL" in rep.error
    mine = mes_courriels(r, world.a)
    assert len(mine) == 4 and all(m.envoye_le is None for m in mine)
    assert mine[-1].sujet.startswith("[grappes] Invitation à rejoindre une grappe : PA-24-")
    with pytest.raises(AccesRefuse):
        envoyer(r, world.coord, url="")

    # the server is down: nothing lost, one attempt counted, a retry planned
    port = _free_port()
    url = f"smtp://127.0.0.1:{port}"
    rep = envoyer(r, world.admin, url=url)
    assert (rep.sent, rep.failed, rep.waiting) == (0, 9, 9) and "injoignable" in rep.error
    with r.db.read() as s:
        assert {(c.tentatives, c.prochain_essai) for c in s.scalars(select(Courriel))} == {
            (1, clock.now + timedelta(minutes=1))}

    # it comes back: nothing before the retry time, then each message once
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        assert envoyer(r, world.admin, url=url).sent == 0
        clock.advance(minutes=2)
        rep = envoyer(r, world.admin, url=url)
        assert (rep.sent, rep.failed, rep.waiting) == (9, 0, 0)
        assert envoyer(r, world.admin, url=url).sent == 0
        assert sorted(inbox.messages) == sorted(
            (d, s) for d, s in ((c.destinataire, c.sujet) for c in _rows(r)))
        assert len(inbox.messages) == 9
    finally:
        server.stop()


def _rows(reg):
    with reg.db.read() as s:
        return list(s.scalars(select(Courriel).order_by(Courriel.id)))


def test_tranche_payable_and_target_at_risk_are_told_once(world):
    """A milestone makes t2's 2nd tranche payable: the porteur and the ARS are told, once;
    importing more figures does not tell them again."""
    r = world.reg
    suivi = Suivi(r)
    suivi.enregistrer(world.ars, t2_grappe(), porteurs=["a@test.fr"])
    assert suivi.importer(world.a, "T2-TEST", _csv()).ok
    # evaluated at the registry's clock (2026): the 18-month deadline has passed, targets
    # met in May 2024: the usage tranche is payable; the milestone is not declared yet
    payable = [c for c in _rows(r) if c.evenement == "tranche_payable"]
    assert {(c.destinataire, c.cle) for c in payable} == {
        ("a@test.fr", "payable:T2-TEST:3"), ("ars24@test.fr", "payable:T2-TEST:3")}
    suivi.declarer_jalon(world.a, "T2-TEST", 2, date(2024, 4, 30))
    suivi.declarer_jalon(world.a, "T2-TEST", 2, date(2024, 4, 29))
    payable = [c.cle for c in _rows(r) if c.evenement == "tranche_payable"]
    assert sorted(payable) == ["payable:T2-TEST:2"] * 2 + ["payable:T2-TEST:3"] * 2


def test_cli_sends_pending_mail(world, db_url, monkeypatch):
    _grappe_to_submission(world)
    port = _free_port()
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        env = {"GRAPPES_COMPTE": "admin@test.fr", "GRAPPES_MOT_DE_PASSE": PASSWORD,
               "GRAPPES_SMTP_URL": f"smtp://127.0.0.1:{port}"}
        res = CliRunner().invoke(app, ["registre", "envoyer-courriels", "--base", db_url],
                                 env=env)
        assert res.exit_code == 0, res.output
        assert "Courriels envoyés : 9" in res.output
    finally:
        server.stop()
    assert len(inbox.messages) == 9


def test_smtp_url_forms():
    assert parse_smtp_url("smtp://mail.example.org:2525").port == 2525
    t = parse_smtp_url("smtp+starttls://u%40x:p@mail:587")
    assert (t.starttls, t.user, t.password) == (True, "u@x", "p")
    assert parse_smtp_url("smtps://mail").port == 465
    with pytest.raises(ValueError, match="smtp://hôte:port"):
        parse_smtp_url("http://mail")
