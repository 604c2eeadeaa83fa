"""Notifications by e-mail through an outbox (issue 19).

An event (invitation received, all members accepted, grappe constituted, submitted to the
ARS, tranche payable, target at risk) writes its messages with :func:`enqueue` in the SAME
transaction as the change itself: if the change is rolled back, so are its messages; if it
commits, they are in the table, whatever the mail server does. :func:`send_pending` sends
them later through SMTP (``GRAPPES_SMTP_URL``, e.g. ``smtp://localhost:25``): each message
is marked sent in its own transaction right after the server accepted it, so it is sent
once; a server that is down leaves it pending with a later retry time (nothing lost).
Without ``GRAPPES_SMTP_URL`` the messages stay in the outbox, and the Suivi page shows each
account the messages addressed to it.

A message may carry a ``cle`` (event key): a second message with the same key and
recipient is not queued again (a tranche becomes payable once).
"""

from __future__ import annotations

import contextlib
import os
import smtplib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from sqlalchemy import DateTime, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from grappes.registry.models import Base, Compte, CompteTerritoire, Declaration

SMTP_ENV = "GRAPPES_SMTP_URL"
SENDER_ENV = "GRAPPES_SMTP_EXPEDITEUR"
DEFAULT_SENDER = "grappes@localhost"
#: wait before the n-th retry (minutes): 1, 5, 15, 60, then every 4 hours
RETRY_MINUTES: tuple[int, ...] = (1, 5, 15, 60, 240)

#: event code -> what the subject says
EVENTS: dict[str, str] = {
    "invitation": "Invitation à rejoindre une grappe",
    "tous_acceptes": "Tous les membres ont accepté la grappe",
    "constituee": "Grappe constituée",
    "soumise_ars": "Grappe soumise à l'ARS",
    "tranche_payable": "Tranche payable",
    "cible_a_risque": "Cibles d'usage à risque",
}


class Courriel(Base):
    """One message of the outbox (r0006)."""

    __tablename__ = "courriels"

    id: Mapped[int] = mapped_column(primary_key=True)
    cree_le: Mapped[datetime] = mapped_column(DateTime)
    evenement: Mapped[str] = mapped_column(String(40))
    cle: Mapped[str] = mapped_column(String(120), default="", index=True)
    destinataire: Mapped[str] = mapped_column(String(254), index=True)
    sujet: Mapped[str] = mapped_column(Text)
    corps: Mapped[str] = mapped_column(Text)
    envoye_le: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    tentatives: Mapped[int] = mapped_column(Integer, default=0)
    prochain_essai: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    derniere_erreur: Mapped[str] = mapped_column(Text, default="")


@dataclass(frozen=True)
class CourrielVue:
    """A message as a page or a command shows it."""

    id: int
    cree_le: datetime
    evenement: str
    destinataire: str
    sujet: str
    corps: str
    envoye_le: datetime | None
    tentatives: int
    derniere_erreur: str


def _vue(c: Courriel) -> CourrielVue:
    return CourrielVue(c.id, c.cree_le, c.evenement, c.destinataire, c.sujet, c.corps,
                       c.envoye_le, c.tentatives, c.derniere_erreur)


def enqueue(s: Session, now: datetime, evenement: str, destinataires: Iterable[str],
            sujet: str, corps: str, cle: str = "") -> int:
    """Queue one message per recipient in the caller's transaction; returns how many.
    With ``cle``, a recipient who already has a message of that key gets none."""
    if evenement not in EVENTS:
        raise ValueError(f"événement inconnu : {evenement}")
    emails = sorted({e.strip().lower() for e in destinataires if e and e.strip()})
    if cle and emails:
        done = set(s.scalars(select(Courriel.destinataire).where(
            Courriel.cle == cle, Courriel.destinataire.in_(emails))))
        emails = [e for e in emails if e not in done]
    for email in emails:
        s.add(Courriel(cree_le=now, evenement=evenement, cle=cle, destinataire=email,
                       sujet=f"[grappes] {EVENTS[evenement]} : {sujet}", corps=corps,
                       tentatives=0, prochain_essai=now, derniere_erreur=""))
    return len(emails)


# ----------------------------------------------------------------------------- recipients


def declaration_emails(s: Session, declaration_ids: Iterable[int]) -> list[str]:
    """The account of each declaration (else its contact e-mail, while it has one)."""
    out = []
    for d in s.scalars(select(Declaration).where(Declaration.id.in_(list(declaration_ids)))):
        email = None
        if d.compte_id is not None:
            c = s.get(Compte, d.compte_id)
            email = c.email if c is not None and c.actif else None
        out.append(email or d.contact_email or "")
    return [e for e in out if e]


def ars_emails(s: Session, region: str) -> list[str]:
    """Active ARS accounts of ``region``."""
    rows = s.execute(select(Compte.email).join(CompteTerritoire)
                     .where(Compte.role == "ars", Compte.actif.is_(True),
                            CompteTerritoire.niveau == "region",
                            CompteTerritoire.code == region))
    return sorted({r[0] for r in rows})


def account_emails(s: Session, compte_ids: Iterable[int]) -> list[str]:
    return sorted(s.scalars(select(Compte.email).where(Compte.id.in_(list(compte_ids)),
                                                       Compte.actif.is_(True))))


def grappe_event(s: Session, now: datetime, g, evenement: str, detail: str = "") -> int:
    """The registry's grappe events: invitation, all accepted, constituted (to the
    members), submitted to the ARS (to the members and the ARS of its région)."""
    members = declaration_emails(s, [m.declaration_id for m in g.membres])
    to = members + (ars_emails(s, g.region) if evenement == "soumise_ars" else [])
    n_esms = sum(len(m.esms) for m in g.membres)
    body = (f"Grappe {g.code} ({g.champ}, {n_esms} ESMS, {len(g.membres)} membres).\n"
            f"{detail}\nOuvrez la page « Mise en relation » de grappes pour la voir.\n")
    return enqueue(s, now, evenement, to, g.code, body, cle=f"{evenement}:{g.id}")


# ----------------------------------------------------------------------------- reading


def messages_for(s: Session, email: str, limit: int = 50) -> list[CourrielVue]:
    """The latest messages addressed to ``email`` (the page shows them)."""
    rows = s.scalars(select(Courriel).where(Courriel.destinataire == email.strip().lower())
                     .order_by(Courriel.id.desc()).limit(limit))
    return [_vue(c) for c in rows]


def pending(s: Session) -> list[CourrielVue]:
    return [_vue(c) for c in s.scalars(select(Courriel).where(Courriel.envoye_le.is_(None))
                                       .order_by(Courriel.id))]


# ----------------------------------------------------------------------------- sending


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    ssl: bool = False
    starttls: bool = False
    user: str = ""
    password: str = ""


def parse_smtp_url(url: str) -> SmtpTarget:
    """``smtp://host:port``, ``smtp+starttls://user:pass@host:587``, ``smtps://host:465``."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("smtp", "smtps", "smtp+starttls") or not parts.hostname:
        msg = (f"{SMTP_ENV} : adresse attendue de la forme smtp://hôte:port (ou smtps://, "
               f"smtp+starttls://), reçu {url!r}")
        raise ValueError(msg)
    ssl = parts.scheme == "smtps"
    port = parts.port or (465 if ssl else 587 if parts.scheme == "smtp+starttls" else 25)
    return SmtpTarget(parts.hostname, port, ssl, parts.scheme == "smtp+starttls",
                      unquote(parts.username or ""), unquote(parts.password or ""))


@dataclass(frozen=True)
class SendReport:
    sent: int
    failed: int
    waiting: int
    error: str = ""


def _smtp(target: SmtpTarget, timeout: float) -> smtplib.SMTP:
    cls = smtplib.SMTP_SSL if target.ssl else smtplib.SMTP
    conn = cls(target.host, target.port, timeout=timeout)
    if target.starttls:
        conn.starttls()
    if target.user:
        conn.login(target.user, target.password)
    return conn


def send_pending(session_factory: Callable[[], object], now: Callable[[], datetime],
                 url: str | None = None, sender: str | None = None, limit: int = 500,
                 timeout: float = 10.0, is_sqlite: bool = True) -> SendReport:
    """Send the messages due (``prochain_essai`` passed), oldest first.

    ``session_factory()`` is a context manager giving a write transaction (the registry's
    ``db.write``). Each message: claimed and marked sent in one transaction, committed
    right after the server accepted it. A server that cannot be reached stops the round:
    every due message keeps its place, with one more attempt and a later retry time.
    """
    url = url or os.environ.get(SMTP_ENV) or ""
    if not url:
        with session_factory() as s:  # type: ignore[attr-defined]
            n = len(pending(s))
        return SendReport(0, 0, n, f"{SMTP_ENV} non défini : les messages restent en attente")
    target = parse_smtp_url(url)
    sender = sender or os.environ.get(SENDER_ENV) or DEFAULT_SENDER
    with session_factory() as s:  # type: ignore[attr-defined]
        due = list(s.scalars(select(Courriel.id).where(
            Courriel.envoye_le.is_(None), Courriel.prochain_essai <= now())
            .order_by(Courriel.id).limit(limit)))
    sent = failed = 0
    error = ""
    conn: smtplib.SMTP | None = None
    try:
        try:
            conn = _smtp(target, timeout)
        except (OSError, smtplib.SMTPException) as exc:
            error = f"serveur de courriel injoignable ({target.host}:{target.port}) : {exc}"
            failed = _postpone(session_factory, due, now(), error)
            return SendReport(0, failed, _count_pending(session_factory), error)
        for cid in due:
            with session_factory() as s:  # type: ignore[attr-defined]
                q = select(Courriel).where(Courriel.id == cid, Courriel.envoye_le.is_(None))
                c = s.scalar(q if is_sqlite else q.with_for_update(skip_locked=True))
                if c is None:
                    continue  # sent meanwhile by another sender
                msg = EmailMessage()
                msg["From"], msg["To"], msg["Subject"] = sender, c.destinataire, c.sujet
                msg["Message-ID"] = f"<courriel-{c.id}@grappes>"
                msg.set_content(c.corps)
                try:
                    conn.send_message(msg)
                except (OSError, smtplib.SMTPException) as exc:
                    error = f"envoi refusé ({c.destinataire}) : {exc}"
                    _retry_later(c, now(), error)
                    failed += 1
                    continue
                c.envoye_le = now()
                c.tentatives += 1
                sent += 1
    finally:
        if conn is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                conn.quit()
    return SendReport(sent, failed, _count_pending(session_factory), error)


def _retry_later(c: Courriel, now: datetime, error: str) -> None:
    c.tentatives += 1
    wait = RETRY_MINUTES[min(c.tentatives, len(RETRY_MINUTES)) - 1]
    c.prochain_essai = now + timedelta(minutes=wait)
    c.derniere_erreur = error[:500]


def _postpone(session_factory, ids: Sequence[int], now: datetime, error: str) -> int:
    with session_factory() as s:
        for c in s.scalars(select(Courriel).where(Courriel.id.in_(list(ids)))):
            _retry_later(c, now, error)
    return len(ids)


def _count_pending(session_factory) -> int:
    with session_factory() as s:
        return len(pending(s))


# ----------------------------------------------------------------------------- API


def envoyer(reg, jeton: str, url: str | None = None, limit: int = 500) -> SendReport:
    """(Admin) Send the pending messages: the admin's maintenance, like the purge."""
    from grappes.registry.policy import Action, exiger

    with reg.db.read() as s:
        exiger(reg._principal(s, jeton), Action.PURGER)
    return send_pending(reg.db.write, reg.clock, url, limit=limit, is_sqlite=reg.db.is_sqlite)


def mes_courriels(reg, jeton: str, limit: int = 50) -> list[CourrielVue]:
    """The messages addressed to the signed-in account, newest first (sent or waiting)."""
    with reg.db.read() as s:
        p = reg._principal(s, jeton)
        email = s.get(Compte, p.compte_id).email
        return messages_for(s, email, limit)
