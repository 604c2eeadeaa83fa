"""How the API shows what it stores: declaration and grappe views, each contact shown
only where the policy allows it, and the audit of the contacts shown.

Grappe views are built from a few column queries for any number of grappes
(``_vues_grappes``): no ORM object, no query per member; their reader-independent part is
kept per process, keyed by the grappe's revision (``grappes.registry.cache_vues``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from grappes.registry import rattachement
from grappes.registry.api.base import RegistryBase
from grappes.registry.cache_vues import CacheVues, Cle, GrappeBrute, MembreBrut
from grappes.registry.db import session_sans_ecriture
from grappes.registry.models import (
    Declaration,
    GrappeMembre,
    GrappeProposee,
    Invitation,
)
from grappes.registry.policy import Action, Cible, Principal, autorise, exiger
from grappes.registry.vues import (
    Contact,
    DeclarationVue,
    EsmsVue,
    GrappeVue,
    MembreVue,
)


class LectureMixin(RegistryBase):
    """The views returned by every part of the API."""

    def _vue_declaration(self, s: Session, p: Principal, d: Declaration, contacts: bool,
                         etat: rattachement.EtatOg | bool | None = False) -> DeclarationVue:
        """``etat``: the claims on the OG when the caller already read them (``False``: read
        them here)."""
        if etat is False:
            etat = rattachement.etats(s, [d.finess_ej]).get(d.finess_ej)
        show = contacts and d.contact_email is not None and autorise(
            p, Action.LIRE_CONTACT, self._cible_declaration(d))
        motif = rattachement.motif_exclusion(etat, d.compte_id)
        return DeclarationVue(
            id=d.id, statut=d.statut, finess_ej=d.finess_ej,
            raison_sociale_ej=d.raison_sociale_ej, departement=d.departement, region=d.region,
            esms=tuple(EsmsVue(e.finess_et, e.raison_sociale, e.champ, e.commune,
                               e.departement, e.lon, e.lat) for e in d.esms),
            dui_editeur=d.dui_editeur, dui_statut=d.dui_statut, editeur_segur=d.editeur_segur,
            distance_max_km=d.distance_max_km, champs_acceptes=tuple(d.champs_acceptes or ()),
            partenaires_souhaites=tuple(d.partenaires_souhaites or ()),
            partenaires_refuses=tuple(d.partenaires_refuses or ()), porteur=d.porteur,
            consentement_contacts_coordinateur=d.consentement_contacts_coordinateur,
            conservation_mois=d.conservation_mois, modifie_le=d.modifie_le, version=d.version,
            contact=Contact(d.contact_nom or "", d.contact_email or "",
                            d.contact_telephone or "") if show else None,
            texte_libre=d.texte_libre if show else None,
            parle=not motif, motif_exclusion=motif,
        )  # fmt: skip

    def _vues_grappes(self, s: Session, p: Principal, grappe_ids: Iterable[int],
                      contacts: bool = False,
                      action: Action | None = None) -> dict[int, GrappeVue]:
        """:meth:`_vues_et_autrui` without the list of other people's contacts."""
        return self._vues_et_autrui(s, p, grappe_ids, contacts, action)[0]

    def _vues_et_autrui(self, s: Session, p: Principal, grappe_ids: Iterable[int],
                        contacts: bool = False, action: Action | None = None,
                        revisions: dict[int, Cle] | None = None,
                        connus: dict[int, Contact | None] | None = None,
                        ) -> tuple[dict[int, GrappeVue], list[int]]:
        """The views, and the declarations of other people whose contact they show (to
        audit: ``_auditer_apres_lecture``). Their reader-independent part (members, names,
        places, invitation states, who speaks for its OG) comes from the process's cache
        when the grappe's revision in the database is the cached one (``cache_vues``); when
        only its state changed (same ``revision_membres``), the cached members with the
        grappe's row and invitation states read again (two column queries); else from
        three column queries (no ORM object); then, on every call, the policy for
        this reader and the contacts it may see, read fresh from the declarations. With
        ``action``, the policy is asked for each grappe (``exiger``), on the same ``Cible``
        as ``_cible_grappe`` builds.

        ``revisions``: the grappes' revisions when the caller read them in this transaction
        before any member row (saves a query); ``connus``: contacts of declarations the
        caller read in this transaction (None: no contact), not read again."""
        ids = sorted({int(i) for i in grappe_ids})
        if not ids:
            return {}, []
        # column queries run on the session's connection (Core rows, no ORM loading step;
        # no autoflush there either: pending changes are flushed first)
        s.flush()
        conn = s.connection()
        # the revisions are read BEFORE the rows: on PostgreSQL (READ COMMITTED) rows read
        # after may be newer than their tag, never older (a newer tag is only reloaded)
        if revisions is None:
            revisions = {gid: Cle(rev, rev_m) for gid, rev, rev_m in
                         conn.execute(_REVISIONS, {"ids": ids})}
        cache = self._cache_vues
        brutes = cache.lire(revisions)
        missing = [gid for gid in ids if gid in revisions and gid not in brutes]
        if missing:
            brutes.update(_charger_via_cache(s, cache, missing, revisions))
        # one policy answer per distinct (owner, place, consent): members share them
        contact_ok: dict[tuple, bool] = {}

        def may_read_contact(m: MembreBrut) -> bool:
            key = (m.compte_id, m.departement, m.region, m.consentement_coordinateur)
            if key not in contact_ok:
                contact_ok[key] = autorise(p, Action.LIRE_CONTACT, Cible(
                    proprietaire=key[0], departements=frozenset({key[1]}), region=key[2],
                    consentement_coordinateur=key[3]))
            return contact_ok[key]

        shown: dict[int, set[int]] = {}  # grappe -> declarations whose contact may be shown
        for gid in ids:
            g = brutes.get(gid)
            if g is None:
                continue
            cible = Cible(departements=frozenset(g.departements), region=g.region,
                          membres=g.comptes, tous_acceptes=g.tous_acceptes,
                          soumise_ars=g.soumise_ars, rattache=g.rattache)
            if action is not None:
                exiger(p, action, cible)
            if contacts:
                every = autorise(p, Action.LIRE_CONTACTS_GRAPPE, cible)
                shown[gid] = {m.declaration_id for m in g.membres
                              if every or may_read_contact(m)}
        wanted = {d for ds in shown.values() for d in ds}
        known = connus or {}
        fresh = {d: c for d, c in known.items() if c is not None and d in wanted}
        fresh.update(_contacts(conn, wanted - known.keys()))
        others: set[int] = set()
        out: dict[int, GrappeVue] = {}
        for gid in ids:
            g = brutes.get(gid)
            if g is None:
                continue
            visible = shown.get(gid, set())
            others.update(m.declaration_id for m in g.membres
                          if m.declaration_id in visible and m.declaration_id in fresh
                          and (m.compte_id is None or m.compte_id != p.compte_id))
            out[gid] = GrappeVue(
                id=g.id, appariement_id=g.appariement_id, code=g.code, champ=g.champ,
                departements=g.departements, region=g.region, statut=g.statut,
                porteur_ej=g.porteur_ej, total=g.total,
                n_esms=sum(len(m.esms) for m in g.membres),
                regles_enfreintes=g.regles_enfreintes, avertissements=g.avertissements,
                membres=tuple(MembreVue(
                    m.declaration_id, m.finess_ej, m.raison_sociale_ej, m.esms, m.invitation,
                    fresh.get(m.declaration_id) if m.declaration_id in visible else None,
                    m.parle) for m in g.membres),
                soumise_ars=g.soumise_ars, version=g.version,
            )  # fmt: skip
        return out, sorted(others)

    def prechauffer(self, limite: int = 500) -> int:
        """Fill this process's views' cache with the ``limite`` most recent grappes (their
        reader-independent part only: no contact, nothing per reader); returns how many.

        Called once when an app process creates its registry (the registry page), so that
        its first readers do not all load the same grappes at once on a cold cache (with
        10 processes, each has its own cache: measured, the first round of 50 sessions made
        most of the p95). Bounded: a few ms per grappe, once per process; a grappe changed
        later is re-read as usual (its revision moved)."""
        with self.db.read() as s:
            conn = s.connection()
            revisions = {gid: Cle(rev, rev_m) for gid, rev, rev_m in conn.execute(
                _RECENTES, {"n": max(0, int(limite))})}
            if not revisions:
                return 0
            ids = sorted(revisions)
            return len(_charger_via_cache(s, self._cache_vues, ids, revisions))

    def _vue_grappe(self, s: Session, p: Principal, g: GrappeProposee,
                    contacts: bool = False) -> GrappeVue:
        """One grappe's view (pending changes flushed first: the view reads the database)."""
        s.flush()
        return self._vues_grappes(s, p, [g.id], contacts)[g.id]

    @staticmethod
    def _contacts_autrui(s: Session, p: Principal, declaration_ids: Iterable[int]) -> list[int]:
        """Of the declarations whose contact was shown, those that are not the reader's own:
        reading one's own contact is not audited (nothing to trace, and on SQLite every
        audit row is a write that queues behind all others); reading anyone else's is
        (issue 18)."""
        ids = sorted({int(i) for i in declaration_ids})
        if not ids:
            return []
        return sorted(s.scalars(select(Declaration.id).where(
            Declaration.id.in_(ids),
            or_(Declaration.compte_id.is_(None), Declaration.compte_id != p.compte_id))))

    @classmethod
    def _contacts_vus_autrui(cls, s: Session, p: Principal,
                             vues: Iterable[GrappeVue]) -> list[int]:
        """The declarations of other people whose contact ``vues`` show."""
        return cls._contacts_autrui(s, p, (m.declaration_id for v in vues for m in v.membres
                                           if m.contact is not None))

    def _audit_lecture_contacts(self, s: Session, p: Principal, ids: list[int]) -> None:
        if ids:
            self._audit(s, p, "lecture_contact", "declaration", f"n={len(ids)}",
                        ",".join(map(str, ids)))

    def _auditer_dans_lecture(self, s: Session, p: Principal, ids: list[int]) -> list[int]:
        """PostgreSQL: audit the other people's contacts a read showed in the read
        transaction itself (committed with it, before the result is returned: one
        transaction instead of two, no writers' queue there); nothing is left to audit.
        SQLite: returns ``ids``, audited after the read by ``_auditer_apres_lecture`` (a
        write inside the read transaction would make it a writer, queued)."""
        if self.db.is_sqlite:
            return ids
        self._audit_lecture_contacts(s, p, ids)
        return []

    def _auditer_apres_lecture(self, p: Principal, ids: list[int]) -> None:
        """After a read transaction: audit the other people's contacts it showed, in a short
        write transaction, before the caller returns them (no write when there are none:
        reads do not queue behind writers on SQLite). If this write fails, the call fails
        and nothing is returned unaudited."""
        if ids:  # a short write: ahead of the queued writers (``Database.write``)
            with self.db.write(prioritaire=True) as s:
                self._audit_lecture_contacts(s, p, ids)

    def _audit_contacts(self, s: Session, p: Principal, vues: Iterable[GrappeVue]) -> None:
        """Audit the contacts of other people that ``vues`` show (in the caller's write
        transaction)."""
        self._audit_lecture_contacts(s, p, self._contacts_vus_autrui(s, p, vues))


_G, _M, _D, _Inv = GrappeProposee, GrappeMembre, Declaration, Invitation
#: statements built once (their compiled form is cached by SQLAlchemy; the id lists are
#: expanding bound parameters)
_REVISIONS = select(_G.id, _G.revision, _G.revision_membres).where(
    _G.id.in_(bindparam("ids", expanding=True)))
_RECENTES = (select(_G.id, _G.revision, _G.revision_membres).order_by(_G.id.desc())
             .limit(bindparam("n")))
_GRAPPES = select(
    _G.id, _G.appariement_id, _G.code, _G.champ, _G.departements, _G.region, _G.statut,
    _G.porteur_ej, _G.total, _G.regles_enfreintes, _G.avertissements, _G.soumise_ars,
    _G.version).where(_G.id.in_(bindparam("ids", expanding=True))).order_by(_G.id)
_MEMBRES = (select(_M.grappe_id, _M.declaration_id, _M.finess_ej, _M.esms, _D.compte_id,
                   _D.raison_sociale_ej, _D.departement, _D.region,
                   _D.consentement_contacts_coordinateur)
            .join(_D, _D.id == _M.declaration_id, isouter=True)
            .where(_M.grappe_id.in_(bindparam("ids", expanding=True))).order_by(_M.id))
_INVITATIONS = (select(_Inv.grappe_id, _Inv.declaration_id, _Inv.statut)
                .where(_Inv.grappe_id.in_(bindparam("ids", expanding=True)))
                .order_by(_Inv.id))
_CONTACTS = select(_D.id, _D.contact_nom, _D.contact_email, _D.contact_telephone).where(
    _D.id.in_(bindparam("ids", expanding=True)), _D.contact_email.is_not(None))


def _brute(g, cle: Cle, membres: Iterable[MembreBrut]) -> GrappeBrute:
    """A grappe's cache entry from its ``_GRAPPES`` row and its members."""
    return GrappeBrute(
        id=g.id, revision=cle.revision, appariement_id=g.appariement_id, code=g.code,
        champ=g.champ, departements=tuple(g.departements), region=g.region,
        statut=g.statut, porteur_ej=g.porteur_ej, total=g.total,
        regles_enfreintes=tuple(g.regles_enfreintes or ()),
        avertissements=tuple(g.avertissements or ()), soumise_ars=g.soumise_ars,
        version=g.version, membres=tuple(membres), revision_membres=cle.membres,
    )  # fmt: skip


def _invitations(conn, ids: list[int]) -> dict[tuple[int, int], str]:
    """(grappe, declaration) -> the latest invitation's state."""
    invitation: dict[tuple[int, int], str] = {}
    for gid, did, statut in conn.execute(_INVITATIONS, {"ids": ids}):
        invitation[(gid, did)] = statut  # the latest invitation counts
    return invitation


def _charger_brutes(s: Session, ids: list[int],
                    revisions: dict[int, Cle]) -> dict[int, GrappeBrute]:
    """The reader-independent part of the grappes ``ids``, tagged with ``revisions`` (read
    before these rows), in three column queries and one for who speaks for the OGs."""
    conn = s.connection()
    membres: dict[int, list] = {}
    for row in conn.execute(_MEMBRES, {"ids": ids}):
        membres.setdefault(row.grappe_id, []).append(row)
    speaking = rattachement.parlent(
        s, {(m.declaration_id, m.compte_id, m.finess_ej) for ms in membres.values()
            for m in ms},
        select(_M.finess_ej).where(_M.grappe_id.in_(ids)))
    invitation = _invitations(conn, ids)
    return {g.id: _brute(g, revisions[g.id], (MembreBrut(
                m.declaration_id, m.finess_ej, tuple(m.esms), m.compte_id,
                m.raison_sociale_ej or "", m.departement, m.region,
                bool(m.consentement_contacts_coordinateur),
                invitation.get((g.id, m.declaration_id), ""), m.declaration_id in speaking)
                for m in membres.get(g.id, [])))
            for g in conn.execute(_GRAPPES, {"ids": ids})}  # fmt: skip


def _charger_etats(s: Session, anciennes: dict[int, GrappeBrute],
                   revisions: dict[int, Cle]) -> dict[int, GrappeBrute]:
    """Grappes whose cached members are still right (same ``revision_membres``): only
    their row and their invitation states are read again (two column queries), the
    members are kept (an answer to an invitation changes nothing else)."""
    ids = sorted(anciennes)
    conn = s.connection()
    invitation = _invitations(conn, ids)
    return {g.id: _brute(g, revisions[g.id], (
                replace(m, invitation=invitation.get((g.id, m.declaration_id), ""))
                for m in anciennes[g.id].membres))
            for g in conn.execute(_GRAPPES, {"ids": ids})}  # fmt: skip


def _charger(s: Session, cache: CacheVues, ids: list[int],
             revisions: dict[int, Cle]) -> dict[int, GrappeBrute]:
    """The grappes ``ids``: their states only when the cache still has their members
    (``_charger_etats``), else in full (``_charger_brutes``)."""
    anciennes = cache.compositions({gid: revisions[gid] for gid in ids})
    out = _charger_etats(s, anciennes, revisions) if anciennes else {}
    rest = [gid for gid in ids if gid not in anciennes]
    if rest:
        out.update(_charger_brutes(s, rest, revisions))
    return out


def _charger_via_cache(s: Session, cache: CacheVues, missing: list[int],
                       revisions: dict[int, Cle]) -> dict[int, GrappeBrute]:
    """Load the grappes ``missing`` from the cache; a transaction that wrote nothing stores
    them (only committed states are kept) and, of those another reader is loading at the
    same moment, waits for its result instead of reading the same rows again."""
    if not session_sans_ecriture(s):
        return _charger(s, cache, missing, revisions)
    mine, others = cache.reserver(missing)
    try:
        out = _charger(s, cache, mine, revisions) if mine else {}
        cache.ranger(list(out.values()))
    finally:
        cache.liberer(mine)
    if others:
        for event in others:
            event.wait(timeout=10)
        rest = {gid: revisions[gid] for gid in missing if gid not in out}
        out.update(cache.lire(rest))
        still = [gid for gid in rest if gid not in out]
        if still:  # loaded at another revision (or not at all): read here
            loaded = _charger(s, cache, still, revisions)
            cache.ranger(list(loaded.values()))
            out.update(loaded)
    return out


def _contacts(conn, declaration_ids: set[int]) -> dict[int, Contact]:
    """The current contacts of ``declaration_ids`` (never cached: an erased contact is
    gone from the very next read)."""
    if not declaration_ids:
        return {}
    return {i: Contact(nom or "", email or "", tel or "") for i, nom, email, tel in
            conn.execute(_CONTACTS, {"ids": sorted(declaration_ids)})}
