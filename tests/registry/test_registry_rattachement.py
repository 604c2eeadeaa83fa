"""Who speaks for an OG (issue 18), on both backends: attachment requested and decided,
contested claims kept out of matching, invitations / answers / contacts only for attached
declarations, import attaches (audited), one active grappe per declaration, frozen once
constituted, idempotent re-import."""

from __future__ import annotations

import pytest

from grappes.registry import AccesRefuse, RegistreError
from tests.registry.conftest import OG_A, OG_B, saisie, sample_esms


def _pair(r, coord):
    run = r.apparier(coord, ["37"], time_limit=5)
    return next(g for g in run.grappes if {m.finess_ej for m in g.membres} >= {OG_A, OG_B})


def test_impostor_contested_then_refused(world):
    """H1: a déclarant of the Loiret claims an OG of the 37. The claim is contested, shown to
    the coordinator, and keeps the OG out of matching until the coordinator refuses it."""
    r = world.reg
    world.declare_all()
    # the impostor cannot declare for the OG without an attachment
    with pytest.raises(RegistreError, match="non rattaché"):
        r.declarer(world.d45, saisie(OG_A, "Imposteur", "x@evil.fr"))
    claim = r.demander_rattachement(world.d45, OG_A)
    assert claim.statut == "demande" and claim.conteste
    listed = [v for v in r.rattachements(world.coord, ["37"]) if v.finess_ej == OG_A]
    assert {(v.email, v.conteste) for v in listed} == {("a@test.fr", True),
                                                        ("d45@test.fr", True)}
    # the coordinator of the Loiret cannot decide on an OG of the 37
    with pytest.raises(AccesRefuse):
        r.decider_rattachement(world.coord45, claim.id, False)
    run = r.apparier(world.coord, ["37"], time_limit=5)
    assert all(m.finess_ej != OG_A for g in run.grappes for m in g.membres)
    assert any(f"OG {OG_A}) hors appariement : revendication contestée" in w
               for w in run.avertissements)
    assert not r.lire_declaration(world.coord, world.da.id).parle
    refused = r.decider_rattachement(world.coord, claim.id, False)
    assert refused.statut == "refuse" and not refused.conteste
    with pytest.raises(RegistreError, match="déjà refusée"):
        r.demander_rattachement(world.d45, OG_A)
    assert r.lire_declaration(world.coord, world.da.id).parle
    g = _pair(r, world.coord)
    assert {m.finess_ej for m in g.membres} == {OG_A, OG_B}
    actions = [a.action for a in r.journal(world.admin)]
    assert {"rattachement_demande", "rattachement_approuve", "rattachement_refuse"} <= set(
        actions)


def test_invitation_answer_and_contacts_need_attachment(world):
    r = world.reg
    world.declare_all()
    g = _pair(r, world.coord)
    # B's attachment is revoked before the invitations: none is sent
    b_claim = next(v for v in r.rattachements(world.coord, ["37"]) if v.email == "b@test.fr")
    r.decider_rattachement(world.coord, b_claim.id, False)
    with pytest.raises(RegistreError, match=f"l'OG {OG_B} .* ne peut pas être invité"):
        r.inviter(world.coord, g.id, g.version)
    r.decider_rattachement(world.coord, b_claim.id, True)
    g = r.inviter(world.coord, g.id, r.grappe(world.coord, g.id).version)
    inv_a = r.mes_invitations(world.a)[0]
    inv_b = r.mes_invitations(world.b)[0]
    r.repondre(world.a, inv_a.id, True)
    r.decider_rattachement(world.coord, b_claim.id, False)  # revoked again
    with pytest.raises(AccesRefuse):
        r.repondre(world.b, inv_b.id, True)
    r.decider_rattachement(world.coord, b_claim.id, True)
    r.repondre(world.b, inv_b.id, True)
    seen = {m.finess_ej: m.contact for m in r.mes_invitations(world.a)[0].grappe.membres}
    assert seen[OG_B].email == "bruno@og-b.fr"
    # a member detached after everyone accepted: no contact is disclosed any more
    r.decider_rattachement(world.coord, b_claim.id, False)
    seen = {m.finess_ej: m for m in r.mes_invitations(world.a)[0].grappe.membres}
    assert seen[OG_B].contact is None and not seen[OG_B].parle
    g = r.grappe(world.coord, g.id)
    with pytest.raises(RegistreError, match="ne peut pas être invité"):
        r.constituer(world.coord, g.id, g.version)


def test_import_attaches_and_is_idempotent(world):
    r = world.reg
    ets = [e.finess_et for e in sample_esms("371114794")]
    data = ("finess_ej;finess_et;contact_nom;contact_email;consentement\n" + "".join(
        f"371114794;{e};Eve;eve@og.fr;oui\n" for e in ets)).encode()
    # OG_C is already claimed by c: the coordinator's import makes the claim contested
    first = r.importer_csv(world.coord, data)
    assert len(first.chargees) == 1 and first.comptes_crees == 1
    again = r.importer_csv(world.coord, data)
    assert again.chargees == [] and again.deja_presentes == [(2, first.chargees[0][1])]
    assert again.comptes_crees == 0
    eve = [v for v in r.rattachements(world.coord, ["37"]) if v.email == "eve@og.fr"]
    assert [(v.statut, v.origine, v.conteste) for v in eve] == [("approuve", "import", True)]
    journal = r.journal(world.admin)
    assert [a.action for a in journal].count("rattachement_import") == 1
    assert sum(len(d.esms) for d in r.declarations(world.coord, ["37"])
               if d.finess_ej == "371114794") == len(ets)


def test_one_active_grappe_per_declaration_and_freeze(world):
    """M1: matching twice and inviting both grappes engaged a declaration twice; now the
    second invitation is refused. Once constituted, the declaration is frozen; its
    withdrawal is explicit, audited, and reopens the grappe."""
    r = world.reg
    world.declare_all()
    g1 = _pair(r, world.coord)
    g2 = _pair(r, world.coord)
    assert g1.id != g2.id
    r.inviter(world.coord, g1.id, g1.version)
    with pytest.raises(RegistreError, match="déjà engagée dans la grappe"):
        r.inviter(world.coord, g2.id, g2.version)
    for tok in (world.a, world.b):
        inv = next(i for i in r.mes_invitations(tok) if i.grappe.id == g1.id)
        r.repondre(tok, inv.id, True)
    g1 = r.constituer(world.coord, g1.id, r.grappe(world.coord, g1.id).version)
    assert g1.statut == "constituee"
    da = r.lire_declaration(world.a, world.da.id)
    with pytest.raises(RegistreError, match="déclaration gelée"):
        r.modifier_declaration(world.a, da.id, saisie(OG_A, "Alice", "alice@og-a.fr"),
                               da.version)
    r.retirer_declaration(world.a, world.da.id)
    g1 = r.grappe(world.coord, g1.id)
    assert g1.statut == "incomplete"
    # reopened: B is free again, the coordinator edits the grappe back to « proposée »
    g1 = r.modifier_grappe(world.coord, g1.id, g1.version)
    assert g1.statut == "proposee" and [m.finess_ej for m in g1.membres] == [OG_B]
    assert "declaration_retrait" in [a.action for a in r.journal(world.admin)]
