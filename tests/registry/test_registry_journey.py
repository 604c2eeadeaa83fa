"""The registry's main path on both backends: declare, match, invite, accept, constitute,
export; contacts appear to the members only after everyone accepted."""

from __future__ import annotations

import pandas as pd
import pytest

from grappes.registry import AccesRefuse, ConflitVersion, RegistreError, SaisieInvalide
from tests.registry.conftest import OG_A, OG_B, OG_C


def test_declare_match_invite_accept_constitute_export(world, tmp_path):
    r = world.reg
    world.declare_all()
    run = r.apparier(world.coord, ["37"], time_limit=5)
    # A and B form the grappe; C (4 ESMS) alone cannot
    pair = [g for g in run.grappes if {m.finess_ej for m in g.membres} >= {OG_A, OG_B}]
    assert len(pair) == 1
    g = pair[0]
    assert g.statut == "proposee" and g.n_esms == 16 and not g.regles_enfreintes
    assert g.porteur_ej == OG_B  # the volunteer
    assert g.total and g.total > 0

    g = r.inviter(world.coord, g.id, g.version)
    assert g.statut == "invitations_envoyees"
    inv_a = r.mes_invitations(world.a)
    inv_b = r.mes_invitations(world.b)
    assert len(inv_a) == 1 and len(inv_b) == 1
    assert r.mes_invitations(world.c) == []
    # before mutual acceptance: no contact of the other member
    def other_contacts(token, own):
        return [m.contact for m in r.mes_invitations(token)[0].grappe.membres
                if m.finess_ej != own]

    assert other_contacts(world.a, OG_A) == [None]
    assert other_contacts(world.b, OG_B) == [None]
    r.repondre(world.a, inv_a[0].id, True)
    assert other_contacts(world.a, OG_A) == [None]
    assert other_contacts(world.b, OG_B) == [None]
    with pytest.raises(AccesRefuse):
        r.grappe(world.c, g.id)
    r.repondre(world.b, inv_b[0].id, True)
    seen_by_a = {m.finess_ej: m.contact for m in r.mes_invitations(world.a)[0].grappe.membres}
    assert seen_by_a[OG_B].email == "bruno@og-b.fr"
    assert seen_by_a[OG_A].email == "alice@og-a.fr"
    # the third déclarant still sees nothing of the grappe
    with pytest.raises(AccesRefuse):
        r.grappe(world.c, g.id)
    assert r.mes_invitations(world.c) == []

    g = r.grappe(world.coord, g.id)
    assert g.statut == "acceptee"
    g = r.constituer(world.coord, g.id, g.version)
    assert g.statut == "constituee"

    written = r.exporter(world.coord, ["37"], tmp_path / "export")
    names = {p.name for p in written}
    assert {"grappes.xlsx", "grappes.csv", "contacts.csv"} <= names
    contacts = pd.read_csv(tmp_path / "export" / "contacts.csv", sep=";", encoding="utf-8-sig",
                           dtype=str).fillna("")
    assert set(contacts["finess_ej"]) == {OG_A, OG_B}
    # coordinateur: A consented to show contacts to coordinators, B did not
    by = dict(zip(contacts["finess_ej"], contacts["contact_email"], strict=True))
    assert by[OG_A] == "alice@og-a.fr" and by[OG_B] == ""

    # the ARS reads the constituted grappe; contacts only once it is submitted to it
    ars_view = r.grappes(world.ars, ["R24"])
    assert [x.id for x in ars_view] == [g.id]
    assert all(m.contact is None for m in ars_view[0].membres)
    r.soumettre_ars(world.coord, g.id, g.version)
    assert {m.contact.email for m in r.grappes(world.ars, ["R24"])[0].membres} == {
        "alice@og-a.fr", "bruno@og-b.fr"}

    actions = [a.action for a in r.journal(world.admin)]
    assert "lecture_contact" in actions and "grappe_constitution" in actions


def test_optimistic_locking_two_coordinators(world):
    r = world.reg
    world.declare_all()
    other = world.make("coord37bis@test.fr", "coordinateur", ["37"])
    run = r.apparier(world.coord, ["37"], time_limit=5)
    g = run.grappes[0]
    r.modifier_grappe(world.coord, g.id, g.version, porteur_ej=OG_A)
    with pytest.raises(ConflitVersion, match="modifiée par quelqu'un d'autre"):
        r.modifier_grappe(other, g.id, g.version, porteur_ej=OG_B)
    assert r.grappe(other, g.id).porteur_ej == OG_A
    with pytest.raises(ConflitVersion):
        r.inviter(other, g.id, g.version)


def test_whatif_edit_rechecks_rules(world):
    r = world.reg
    world.declare_all()
    g = next(x for x in r.apparier(world.coord, ["37"], time_limit=5).grappes
             if len(x.membres) == 2)
    a_id = next(m.declaration_id for m in g.membres if m.finess_ej == OG_A)
    g2 = r.modifier_grappe(world.coord, g.id, g.version, retirer=[a_id])
    assert g2.regles_enfreintes  # 7 ESMS of one small OG: below the threshold
    assert g2.version == g.version + 1
    ev2 = r.evaluer_grappe(world.coord, g.id)
    assert not ev2.valide and "trop_peu_esms" in {code for code, _ in ev2.regles}
    assert ev2.version == g2.version and ev2.total == g2.total
    g3 = r.modifier_grappe(world.coord, g.id, g2.version, ajouter=[a_id])
    assert not g3.regles_enfreintes and g3.n_esms == 16
    ev3 = r.evaluer_grappe(world.coord, g.id)
    assert ev3.valide and ev3.regles == () and ev3.total == g3.total > ev2.total
    assert 0 < ev3.points <= ev3.points_max
    # the porteur: only a member, and the change is re-costed and stored
    g4 = r.modifier_grappe(world.coord, g.id, g3.version, porteur_ej=OG_A)
    assert g4.porteur_ej == OG_A == r.evaluer_grappe(world.coord, g.id).porteur_ej
    with pytest.raises(SaisieInvalide, match="n'est pas membre"):
        r.modifier_grappe(world.coord, g.id, g4.version, porteur_ej=OG_C)


def test_declined_invitation_blocks_constitution(world):
    r = world.reg
    world.declare_all()
    g = next(x for x in r.apparier(world.coord, ["37"], time_limit=5).grappes
             if len(x.membres) == 2)
    g = r.inviter(world.coord, g.id, g.version)
    r.repondre(world.a, r.mes_invitations(world.a)[0].id, False)
    g = r.grappe(world.coord, g.id)
    assert g.statut == "declinee"
    with pytest.raises(RegistreError, match="tous les membres n'ont pas accepté"):
        r.constituer(world.coord, g.id, g.version)


def test_reading_own_contacts_is_not_audited_others_are(world):
    """Issue 19 (speed): a déclarant reading its own contact writes no audit row (on SQLite
    each one was a write queued behind all others); every reading of another person's
    contact is still audited, naming only those declarations (issue 18)."""
    r = world.reg
    world.declare_all()

    def contact_reads() -> list[str]:
        return [a.detail for a in r.journal(world.admin) if a.action == "lecture_contact"]

    g = next(g for g in r.apparier(world.coord, ["37"], time_limit=5).grappes
             if {m.finess_ej for m in g.membres} >= {OG_A, OG_B})
    g = r.inviter(world.coord, g.id, g.version)
    before = contact_reads()
    # own data only: the déclarant sees its own contact, nothing is written to the journal
    mine = r.mes_declarations(world.a)
    assert mine[0].contact.email == "alice@og-a.fr"
    assert r.lire_declaration(world.a, world.da.id).contact.email == "alice@og-a.fr"
    inv_a = r.mes_invitations(world.a)
    own = {m.finess_ej: m.contact for m in inv_a[0].grappe.membres}
    assert own[OG_A].email == "alice@og-a.fr" and own[OG_B] is None
    assert r.grappe(world.a, g.id).membres
    r.repondre(world.a, inv_a[0].id, True)
    assert contact_reads() == before

    # once everyone accepted, A reads B's contact: audited, naming B's declaration only
    r.repondre(world.b, r.mes_invitations(world.b)[0].id, True)
    before = contact_reads()
    seen = {m.finess_ej: m.contact for m in r.mes_invitations(world.a)[0].grappe.membres}
    assert seen[OG_B].email == "bruno@og-b.fr"
    after = contact_reads()
    assert len(after) == len(before) + 1 and after[0] == str(world.db.id)
    r.grappe(world.a, g.id)
    assert contact_reads()[0] == str(world.db.id) and len(contact_reads()) == len(after) + 1

    # a coordinator reading A's declaration (A consented) is audited too
    assert r.lire_declaration(world.coord, world.da.id).contact.email == "alice@og-a.fr"
    assert contact_reads()[0] == str(world.da.id)


def test_a_second_matching_never_reuses_a_grappe_code(world):
    """Two matchings of one territory each numbered from 001: the ARS saw two « PA-24-001 ».
    Now a code names one grappe of the registry: the second run takes the next numbers."""
    r = world.reg
    world.declare_all()
    first = [g.code for g in r.apparier(world.coord, ["37"], time_limit=5).grappes]
    second = [g.code for g in r.apparier(world.coord, ["37"], time_limit=5).grappes]
    assert first and second and not set(first) & set(second)
    codes = [g.code for g in r.grappes(world.coord, ["37"])]
    assert len(codes) == len(set(codes)) == len(first) + len(second)


def test_unique_codes_take_the_next_free_number_of_the_prefix():
    from grappes.registry.appariement import unique_codes

    taken = {"PA-24-001", "PA-24-002", "PH-24-001"}
    assert unique_codes(["PA-24-001", "PA-24-002", "PH-24-002", "PA-24-003"], taken) == {
        "PA-24-001": "PA-24-003", "PA-24-002": "PA-24-004", "PH-24-002": "PH-24-002",
        "PA-24-003": "PA-24-005"}
    assert unique_codes(["PA-24-001"], set()) == {"PA-24-001": "PA-24-001"}
