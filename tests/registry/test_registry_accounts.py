"""Accounts: no default account, first admin only once, argon2 hashes, minimum length,
lock-out after repeated failures, expiring sessions."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from grappes.registry import AccesRefuse, ConnexionRefusee, SaisieInvalide, SessionInvalide
from grappes.registry.accounts import WRONG
from grappes.registry.models import Compte
from tests.registry.conftest import PASSWORD


def test_first_admin_only_and_no_default_account(registry):
    with registry.db.read() as s:
        assert s.scalars(select(Compte)).all() == []
    with pytest.raises(AccesRefuse):  # without a token: only an admin, only the first
        registry.creer_compte(None, "x@test.fr", "declarant", PASSWORD)
    registry.creer_compte(None, "admin@test.fr", "admin", PASSWORD)
    with pytest.raises(AccesRefuse):
        registry.creer_compte(None, "admin2@test.fr", "admin", PASSWORD)
    with registry.db.read() as s:
        stored = s.scalar(select(Compte.mot_de_passe))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_password_rules_and_roles(registry):
    with pytest.raises(SaisieInvalide, match="au moins 12 caractères"):
        registry.creer_compte(None, "admin@test.fr", "admin", "court")
    registry.creer_compte(None, "admin@test.fr", "admin", PASSWORD)
    admin = registry.connexion("admin@test.fr", PASSWORD).jeton
    with pytest.raises(SaisieInvalide, match="rôle inconnu"):
        registry.creer_compte(admin, "x@test.fr", "root", PASSWORD)
    with pytest.raises(SaisieInvalide, match="territoire"):
        registry.creer_compte(admin, "x@test.fr", "coordinateur", PASSWORD)
    with pytest.raises(SaisieInvalide, match="exactement une région"):
        registry.creer_compte(admin, "x@test.fr", "ars", PASSWORD, ["37"])
    with pytest.raises(SaisieInvalide, match="département inconnu"):
        registry.creer_compte(admin, "x@test.fr", "coordinateur", PASSWORD, ["999"])
    with pytest.raises(SaisieInvalide, match="e-mail invalide"):
        registry.creer_compte(admin, "<script>@x", "declarant", PASSWORD)
    v = registry.creer_compte(admin, "Coord@Test.fr", "coordinateur", PASSWORD, ["R24", "75"])
    assert v.email == "coord@test.fr" and v.territoires == ("75", "R24")
    with pytest.raises(SaisieInvalide, match="existe déjà"):
        registry.creer_compte(admin, "coord@test.fr", "declarant", PASSWORD)


def test_lockout_after_failures(registry, clock):
    registry.creer_compte(None, "admin@test.fr", "admin", PASSWORD)
    for _ in range(registry.securite.max_failures):
        with pytest.raises(ConnexionRefusee, match="incorrect"):
            registry.connexion("admin@test.fr", "mauvais-mot-de-passe")
    # locked now, even with the right password; the answer is the wrong-password one
    with pytest.raises(ConnexionRefusee) as locked:
        registry.connexion("admin@test.fr", PASSWORD)
    with pytest.raises(ConnexionRefusee) as unknown:
        registry.connexion("inconnu@test.fr", PASSWORD)
    assert str(locked.value) == str(unknown.value) == WRONG
    # the recovery path from the server's shell (local access, audited)
    registry.debloquer_compte("admin@test.fr")
    admin = registry.connexion("admin@test.fr", PASSWORD).jeton
    actions = [a.action for a in registry.journal(admin)]
    assert {"compte_verrouillage", "compte_deblocage"} <= set(actions)
    for _ in range(registry.securite.max_failures):
        with pytest.raises(ConnexionRefusee):
            registry.connexion("admin@test.fr", "mauvais-mot-de-passe")
    clock.advance(minutes=16)
    assert registry.connexion("admin@test.fr", PASSWORD).jeton
    # an unknown account gets the wrong-password message
    with pytest.raises(ConnexionRefusee, match="incorrect"):
        registry.connexion("nobody@test.fr", PASSWORD)


@pytest.mark.parametrize("bad", ["aaaaaaaaaaaa", "123456789012", "Azertyuiop123",
                                 "admin@test.fr", "admin@test.fr!!", "xx-admin-2026-xx",
                                 "Motdepasse2026"])
def test_password_policy_nist(registry, bad):
    with pytest.raises(SaisieInvalide, match="mot_de_passe"):
        registry.creer_compte(None, "admin@test.fr", "admin", bad)


def test_password_change_by_the_account(registry):
    registry.creer_compte(None, "admin@test.fr", "admin", PASSWORD)
    one = registry.connexion("admin@test.fr", PASSWORD).jeton
    two = registry.connexion("admin@test.fr", PASSWORD).jeton
    with pytest.raises(ConnexionRefusee, match="actuel incorrect"):
        registry.changer_mot_de_passe(one, "faux-mot-de-passe", "une autre phrase longue")
    with pytest.raises(SaisieInvalide, match="mot_de_passe"):
        registry.changer_mot_de_passe(one, PASSWORD, "123456789012")
    registry.changer_mot_de_passe(one, PASSWORD, "une autre phrase longue")
    assert registry.moi(one).email == "admin@test.fr"  # this session goes on
    with pytest.raises(SessionInvalide):
        registry.moi(two)  # the others are closed
    with pytest.raises(ConnexionRefusee):
        registry.connexion("admin@test.fr", PASSWORD)
    assert registry.connexion("admin@test.fr", "une autre phrase longue").jeton


def test_sessions_expire_and_logout(registry, clock):
    registry.creer_compte(None, "admin@test.fr", "admin", PASSWORD)
    c = registry.connexion("admin@test.fr", PASSWORD)
    assert registry.moi(c.jeton).role == "admin"
    clock.advance(hours=8, seconds=1)
    with pytest.raises(SessionInvalide):
        registry.moi(c.jeton)
    c2 = registry.connexion("admin@test.fr", PASSWORD)
    registry.deconnexion(c2.jeton)
    with pytest.raises(SessionInvalide):
        registry.comptes(c2.jeton)


def test_imported_account_needs_activation(world):
    r = world.reg
    data = (b"finess_ej;finess_et;contact_nom;contact_email;consentement\n"
            b"371114794;;Eve;eve@og.fr;oui\n")
    from tests.registry.conftest import sample_esms

    ets = [e.finess_et for e in sample_esms("371114794")]
    data = ("finess_ej;finess_et;contact_nom;contact_email;consentement\n" + "".join(
        f"371114794;{e};Eve;eve@og.fr;oui\n" for e in ets)).encode()
    rep = r.importer_csv(world.coord, data)
    assert len(rep.chargees) == 1 and rep.comptes_crees == 1 and not rep.rejets
    with pytest.raises(ConnexionRefusee):
        r.connexion("eve@og.fr", "")
    r.definir_mot_de_passe(world.admin, "eve@og.fr", PASSWORD)
    eve = r.connexion("eve@og.fr", PASSWORD).jeton
    assert [d.finess_ej for d in r.mes_declarations(eve)] == ["371114794"]
    r.desactiver_compte(world.admin, "eve@og.fr")
    with pytest.raises(SessionInvalide):
        r.mes_declarations(eve)


def test_default_cost_is_argon2id_rfc9106_and_rehash_on_login(db_url, clock):
    """Production cost (argon2-cffi defaults, RFC 9106 low-memory profile) in the stored hash;
    an account hashed at another cost is re-hashed at its next successful login, and only
    then (a wrong password changes nothing)."""
    from grappes.registry import Registry
    from grappes.registry.config import Securite
    from tests.registry.conftest import LIGHT

    light = Registry(db_url, finess="sample", clock=clock, securite=LIGHT)
    light.init()
    light.creer_compte(None, "admin@test.fr", "admin", PASSWORD)
    with light.db.read() as s:
        before = s.scalar(select(Compte.mot_de_passe))
    assert before.startswith("$argon2id$") and "m=256,t=1,p=1" in before
    light.db.dispose()

    strong = Registry(db_url, finess="sample", clock=clock, securite=Securite())
    with pytest.raises(ConnexionRefusee):
        strong.connexion("admin@test.fr", PASSWORD + "x")
    with strong.db.read() as s:
        assert s.scalar(select(Compte.mot_de_passe)) == before
    strong.connexion("admin@test.fr", PASSWORD)
    with strong.db.read() as s:
        after = s.scalar(select(Compte.mot_de_passe))
    assert after != before and after.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    strong.connexion("admin@test.fr", PASSWORD)  # the new hash verifies
    strong.db.dispose()
