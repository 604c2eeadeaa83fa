"""The per-process cache of grappe views (issue 19, item 6; ``grappes.registry.cache_vues``)
on both backends: every write that changes what a view shows bumps the grappe's revision
in the database (triggers of migration r0008), so that no read shows a stale member, state
or attachment, and no contact is ever shown from memory (contacts are read fresh)."""

from __future__ import annotations

import threading

from sqlalchemy import event, select

from grappes.registry import Registry
from grappes.registry.cache_vues import CacheVues, Cle, GrappeBrute
from grappes.registry.db import _SQLITE_WRITERS, session_sans_ecriture
from grappes.registry.models import GrappeProposee
from tests.registry.conftest import LIGHT, OG_A, OG_B, saisie

#: an OG of Indre-et-Loire with one PA ESMS, declared only after the matching
OG_LATE = "370055766"


def _accepted_pair(world):
    """A and B in one grappe, both accepted: each sees the other's contact."""
    r = world.reg
    world.declare_all()
    g = next(g for g in r.apparier(world.coord, ["37"], time_limit=5).grappes
             if {m.finess_ej for m in g.membres} >= {OG_A, OG_B})
    r.inviter(world.coord, g.id, g.version)
    r.repondre(world.a, r.mes_invitations(world.a)[0].id, True)
    r.repondre(world.b, r.mes_invitations(world.b)[0].id, True)
    return g.id


def _revision(reg: Registry, grappe_id: int) -> Cle:
    with reg.db.read() as s:
        return Cle(*s.execute(select(GrappeProposee.revision, GrappeProposee.revision_membres)
                              .where(GrappeProposee.id == grappe_id)).one())


def _member(reg: Registry, token: str, ej: str):
    return next(m for m in reg.mes_invitations(token)[0].grappe.membres if m.finess_ej == ej)


def test_modified_or_erased_contact_is_never_shown_from_the_cache(world):
    r = world.reg
    gid = _accepted_pair(world)
    assert _member(r, world.a, OG_B).contact.email == "bruno@og-b.fr"
    assert _member(r, world.a, OG_B).contact.email == "bruno@og-b.fr"  # from the cache
    assert r._cache_vues.lire({gid: _revision(r, gid)})  # the view's entry is there
    # the audit of the contact a read showed does not queue behind this process's waiting
    # writers (SQLite): with the threads' queue held, the read still completes, audited
    audited = len([a for a in r.journal(world.admin) if a.action == "lecture_contact"])
    queue = _SQLITE_WRITERS.get(r.db.url) if r.db.is_sqlite else None
    seen: list = []
    if queue is not None:
        queue.acquire()
    try:
        reader = threading.Thread(target=lambda: seen.append(_member(r, world.a, OG_B)))
        reader.start()
        reader.join(timeout=60)
        finished_while_held = not reader.is_alive()
    finally:
        if queue is not None:
            queue.release()
    reader.join()
    assert finished_while_held
    assert seen[0].contact.email == "bruno@og-b.fr"
    assert len([a for a in r.journal(world.admin) if a.action == "lecture_contact"]) \
        == audited + 1
    # B changes its contact: A's very next read shows the new one
    r.modifier_declaration(world.b, world.db.id, saisie(
        OG_B, "Bruno Petit", "bruno.nouveau@og-b.fr", porteur="volontaire"),
        world.db.version)
    assert _member(r, world.a, OG_B).contact.email == "bruno.nouveau@og-b.fr"
    rev = _revision(r, gid)
    r.mes_invitations(world.a)
    assert _revision(r, gid) == rev  # a read bumps nothing
    # B's OG name (shown in the view) changes: the revision moves, the next read shows it
    vue = r.mes_declarations(world.b)[0]
    r.modifier_declaration(world.b, vue.id, saisie(
        OG_B, "Bruno Petit", "bruno.nouveau@og-b.fr", porteur="volontaire",
        raison_sociale_ej="OG B renommé"), vue.version)
    after = _revision(r, gid)
    assert after.revision > rev.revision and after.membres > rev.membres
    assert _member(r, world.a, OG_B).raison_sociale_ej == "OG B renommé"
    # B withdraws (its contact is erased): A no longer sees any contact of B, and sees the
    # grappe reopened with B's invitation cancelled
    r.retirer_declaration(world.b, world.db.id)
    seen = _member(r, world.a, OG_B)
    assert seen.contact is None and seen.invitation == "annulee"
    assert r.mes_invitations(world.a)[0].grappe.statut == "incomplete"


def test_a_write_by_another_process_is_seen_by_the_next_read(world, db_url, clock):
    """Two registries on one database (two app processes): each has its own cache; a
    write through one is seen by the next read through the other."""
    r = world.reg
    world.declare_all()
    g = next(g for g in r.apparier(world.coord, ["37"], time_limit=5).grappes
             if {m.finess_ej for m in g.membres} >= {OG_A, OG_B})
    r.inviter(world.coord, g.id, g.version)
    other = Registry(db_url, finess="sample", clock=clock, securite=LIGHT)
    try:
        assert _member(r, world.b, OG_A).invitation == "en_attente"  # cached in ``r``
        other.repondre(world.a, other.mes_invitations(world.a)[0].id, True)
        assert _member(r, world.b, OG_A).invitation == "acceptee"
        assert _member(r, world.b, OG_A).contact is None  # B has not accepted yet
        other.repondre(world.b, other.mes_invitations(world.b)[0].id, True)
        assert r.mes_invitations(world.b)[0].grappe.statut == "acceptee"
        assert _member(r, world.b, OG_A).contact.email == "alice@og-a.fr"
        # an account's attachment revoked elsewhere: A no longer speaks for its OG, and the
        # other member stops seeing A's contact at once
        claim = next(x for x in other.rattachements(world.coord, ["37"])
                     if x.finess_ej == OG_A)
        other.decider_rattachement(world.coord, claim.id, False)
        seen = _member(r, world.b, OG_A)
        assert seen.parle is False and seen.contact is None
    finally:
        other.db.dispose()
    # only transactions that wrote nothing fill the cache (what a writer reads may be
    # rolled back, and its revision reused by a later write)
    with r.db.read() as s:
        assert session_sans_ecriture(s)
        r._audit(s, None, "essai")
        s.flush()
        assert not session_sans_ecriture(s)
    with r.db.write() as s:
        assert not session_sans_ecriture(s)



def test_an_answer_elsewhere_rereads_only_the_states_a_composition_change_everything(
        world, db_url, clock):
    """Composition and states apart (migration r0009): an answer through another process
    moves the grappe's revision, not its ``revision_membres``: the next read here reads
    the grappe's row and invitations again, not its members; renaming a member's OG moves
    both, and the members are read again."""
    r = world.reg
    world.declare_all()
    g = next(g for g in r.apparier(world.coord, ["37"], time_limit=5).grappes
             if {m.finess_ej for m in g.membres} >= {OG_A, OG_B})
    r.inviter(world.coord, g.id, g.version)
    statements: list[str] = []
    event.listen(r.db.engine, "before_cursor_execute",
                 lambda _c, _cur, stmt, *_a: statements.append(stmt))

    def read_b():
        statements.clear()
        return next(m for m in r.mes_invitations(world.b)[0].grappe.membres
                    if m.finess_ej == OG_A)

    def member_reads() -> int:
        return sum("FROM grappe_membres" in x for x in statements)

    assert read_b().invitation == "en_attente" and member_reads() >= 1  # cold: read
    assert read_b().invitation == "en_attente" and statements and member_reads() == 0
    other = Registry(db_url, finess="sample", clock=clock, securite=LIGHT)
    try:
        before = _revision(r, g.id)
        other.repondre(world.a, other.mes_invitations(world.a)[0].id, True)
        after = _revision(r, g.id)
        assert after.revision > before.revision and after.membres == before.membres
        assert read_b().invitation == "acceptee"  # the new state, seen at once...
        assert member_reads() == 0  # ...without reading the members again
        assert any("FROM invitations" in x and "grappe_id IN" in x for x in statements)
        vue = other.mes_declarations(world.a)[0]
        other.modifier_declaration(world.a, vue.id, saisie(
            OG_A, "Alice Martin", "alice@og-a.fr", raison_sociale_ej="OG A renommé"),
            vue.version)
        assert _revision(r, g.id).membres > after.membres
        assert read_b().raison_sociale_ej == "OG A renommé" and member_reads() >= 1
    finally:
        other.db.dispose()



def test_prechauffer_fills_the_cache_once_and_later_changes_are_still_seen(world):
    """``prechauffer`` (called when an app process creates its registry): the next reads
    take the grappes from memory (no member row read), bounded by ``limite``, and a later
    answer is still seen at once (its revision moved)."""
    r = world.reg
    world.declare_all()
    run = r.apparier(world.coord, ["37"], time_limit=5)
    g = next(g for g in run.grappes if {m.finess_ej for m in g.membres} >= {OG_A, OG_B})
    r.inviter(world.coord, g.id, g.version)
    assert len(r._cache_vues) == 0  # writes fill nothing
    assert r.prechauffer(limite=0) == 0 and len(r._cache_vues) == 0
    assert r.prechauffer() == len(run.grappes) == len(r._cache_vues)
    statements: list[str] = []
    event.listen(r.db.engine, "before_cursor_execute",
                 lambda _c, _cur, stmt, *_a: statements.append(stmt))
    assert _member(r, world.b, OG_A).invitation == "en_attente"
    assert statements and not any("FROM grappe_membres" in x for x in statements)
    r.repondre(world.a, r.mes_invitations(world.a)[0].id, True)
    assert _member(r, world.b, OG_A).invitation == "acceptee"


def test_cache_keeps_only_the_revision_asked_and_loads_each_grappe_once_at_a_time():
    """``CacheVues`` alone: an entry serves only its own revision; an older state never
    replaces a newer one; of two readers missing the same grappe, one loads it and the
    other waits for it (no reader waits while holding a reservation)."""
    cache = CacheVues(taille=2)

    def brute(gid: int, revision: int, membres: int = 0) -> GrappeBrute:
        return GrappeBrute(gid, revision, 1, f"G{gid}", "PA", ("37",), "24", "proposee", "",
                           None, (), (), False, 1, (), revision_membres=membres)

    cache.ranger([brute(1, 5, 2)])
    assert cache.lire({1: Cle(5, 2)}) == {1: brute(1, 5, 2)} and cache.lire({1: Cle(6, 2)}) == {}
    # only the state moved: the members are still right; the composition moved: nothing
    assert cache.compositions({1: Cle(6, 2)}) == {1: brute(1, 5, 2)}
    assert cache.compositions({1: Cle(7, 3)}) == {}
    cache.ranger([brute(1, 4, 2)])  # a slower reader's older state
    assert cache.lire({1: Cle(5, 2)})
    cache.ranger([brute(2, 1), brute(3, 1)])  # bounded: the least recently used goes
    assert len(cache) == 2 and not cache.lire({1: Cle(5, 2)})
    mine, others = cache.reserver([7, 8])
    assert mine == [7, 8] and others == []
    mine2, others2 = cache.reserver([8, 9])
    assert mine2 == [9] and len(others2) == 1 and not others2[0].is_set()
    cache.liberer(mine)
    assert others2[0].is_set()
    cache.liberer(mine2)
    assert cache.reserver([7, 8, 9]) == ([7, 8, 9], [])


def test_a_proposals_table_kept_for_the_invitation_facts_follows_an_edit(world, db_url, clock):
    """The establishments table of a proposal, kept per process for the what-if readings
    (``fiche_invitation``, ``evaluer_grappe``), is read again once an edit stores ESMS
    declared after the matching: the figures are those of a registry with nothing kept."""
    r = world.reg
    world.declare_all()
    g = next(g for g in r.apparier(world.coord, ["37"], time_limit=5).grappes
             if {m.finess_ej for m in g.membres} >= {OG_A, OG_B})
    before = r.evaluer_grappe(world.coord, g.id)
    (version, _table), = r._snapshots.values()  # kept by that reading
    late = world.make("tard@test.fr", "declarant")  # declared after the matching
    world.attach(late, OG_LATE)
    d = r.declarer(late, saisie(OG_LATE, "Tardif", "tard@og.fr"))
    g2 = r.modifier_grappe(world.coord, g.id, g.version, ajouter=[d.id])
    after = r.evaluer_grappe(world.coord, g.id)
    assert next(iter(r._snapshots.values()))[0] > version  # read again, newer
    other = Registry(db_url, finess="sample", clock=clock, securite=LIGHT)  # nothing kept
    try:
        assert after == other.evaluer_grappe(world.coord, g.id)
    finally:
        other.db.dispose()
    assert after.total == g2.total != before.total
    inv = r.inviter(world.coord, g.id, g2.version)
    fiche = r.fiche_invitation(late, r.mes_invitations(late)[0].id)
    assert fiche.total == after.total and OG_LATE in {p.finess_ej for p in fiche.partenaires}
    assert inv.n_esms == fiche.n_esms
