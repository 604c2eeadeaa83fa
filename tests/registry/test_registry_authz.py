"""Authorisation matrix: every role x every action x own / other territory x own / other
declaration. Each cell asserts allowed or refused; a refusal must read exactly like the
one for an object that does not exist, and carry none of the object's data.

Two layers are tested: the pure policy (``policy.autorise``, every combination) and the
API on a real database (both backends), which must apply it on every call.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from grappes.registry import AccesRefuse, RegistreError, SessionInvalide
from grappes.registry.errors import AccesRefuse as _Refus
from grappes.registry.policy import ROLES, Action, Cible, Principal, autorise
from tests.registry.conftest import OG_A, OG_B, PASSWORD, saisie

ROOT = Path(__file__).resolve().parents[2]

HEADER = b"finess_ej;finess_et;contact_nom;contact_email;consentement\n"
OG_18 = "180742025"

# ---------------------------------------------------------------- pure policy, every cell

ME, OTHER = 1, 2
P_DEPS = frozenset({"37", "41"})

#: expected: role -> action -> set of (territory, declaration) cells that are allowed;
#: territory in {"own", "other"}, declaration in {"own", "other"}
ALL = {(t, d) for t in ("own", "other") for d in ("own", "other")}
OWN_DECL = {("own", "own"), ("other", "own")}
OWN_TERR = {("own", "own"), ("own", "other")}
EXPECTED: dict[str, dict[Action, set]] = {
    "declarant": {
        Action.DECLARER: ALL,
        Action.LIRE_DECLARATION: OWN_DECL,
        Action.LIRE_CONTACT: OWN_DECL,
        Action.MODIFIER_DECLARATION: OWN_DECL,
        Action.RETIRER_DECLARATION: OWN_DECL,
        Action.REPONDRE_INVITATION: OWN_DECL,
        Action.LIRE_GRAPPE: OWN_DECL,  # member of the grappe
        Action.LIRE_CONTACTS_GRAPPE: OWN_DECL,  # member, all accepted
    },
    "coordinateur": {
        a: OWN_TERR for a in (
            Action.LIRE_DECLARATION, Action.LIRE_CONTACT, Action.LISTER_DECLARATIONS,
            Action.IMPORTER, Action.APPARIER, Action.LIRE_GRAPPE, Action.MODIFIER_GRAPPE,
            Action.INVITER, Action.CONSTITUER, Action.SOUMETTRE_ARS, Action.EXPORTER,
            Action.AGREGATS)
    },
    "ars": {
        a: OWN_TERR for a in (
            Action.LIRE_DECLARATION, Action.LISTER_DECLARATIONS, Action.LIRE_GRAPPE,
            Action.LIRE_CONTACTS_GRAPPE, Action.EXPORTER, Action.AGREGATS,
            Action.SUGGERER_PARTENAIRES)
    },
    "admin": {a: ALL for a in (Action.GERER_COMPTES, Action.LIRE_AUDIT, Action.PURGER,
                               Action.IMPORTER, Action.CONFIGURER_FINESS)},
}
# follow-up after funding (issue 14): "declaration" = being a porteur of the funded grappe
EXPECTED["declarant"].update({Action.LIRE_SUIVI: OWN_DECL, Action.SAISIR_SUIVI: OWN_DECL})
EXPECTED["ars"].update({a: OWN_TERR for a in (
    Action.LIRE_SUIVI, Action.ENREGISTRER_SUIVI, Action.EXPORTER_SUIVI,
    Action.DECLARER_VERSEMENT)})
# attachment of accounts to OGs (issue 18): any déclarant asks; the coordinator or the ARS
# of the EJ's territory decides and reads the territory's claims
EXPECTED["declarant"][Action.DEMANDER_RATTACHEMENT] = ALL
for _role in ("coordinateur", "ars"):
    EXPECTED[_role].update({Action.DECIDER_RATTACHEMENT: OWN_TERR,
                            Action.LISTER_RATTACHEMENTS: OWN_TERR})
#: what a déclarant may do only for an OG its account speaks for (``Cible.rattache``)
NEEDS_ATTACHMENT = {Action.DECLARER, Action.MODIFIER_DECLARATION, Action.REPONDRE_INVITATION,
                    Action.LIRE_CONTACTS_GRAPPE}


def _principal(role: str) -> Principal:
    if role == "ars":
        return Principal(ME, role, frozenset({"18", "28", "36", "37", "41", "45"}),
                         frozenset({"24"}))
    if role == "coordinateur":
        return Principal(ME, role, P_DEPS)
    return Principal(ME, role)


def _cible(territory: str, decl: str, attached: bool = True) -> Cible:
    deps = frozenset({"37"}) if territory == "own" else frozenset({"75"})
    owner = ME if decl == "own" else OTHER
    return Cible(proprietaire=owner, departements=deps,
                 region="24" if territory == "own" else "11",
                 membres=frozenset({owner}), tous_acceptes=True, soumise_ars=True,
                 consentement_coordinateur=True, rattache=attached)


#: role x action x territory (own / other) x declaration (own / other) x attachment (the
#: account speaks for the OG or not): 4 x 30 x 2 x 2 x 2 = 960 cells (416 before issue 18:
#: 26 actions, no attachment dimension; 928 before the page's FINESS upload, issue 19)
POLICY_CELLS = list(itertools.product(ROLES, list(Action), ("own", "other"), ("own", "other"),
                                      (True, False)))


def test_policy_matrix_every_cell():
    wrong = []
    for role, action, terr, decl, attached in POLICY_CELLS:
        expected = (terr, decl) in EXPECTED.get(role, {}).get(action, set()) and not (
            role == "declarant" and action in NEEDS_ATTACHMENT and not attached)
        got = autorise(_principal(role), action, _cible(terr, decl, attached))
        if got != expected:
            wrong.append((role, action.value, terr, decl, attached, expected, got))
    assert not wrong, wrong
    assert len(POLICY_CELLS) == len(ROLES) * len(Action) * 8 == 960


def test_policy_conditions():
    coord = _principal("coordinateur")
    no_consent = Cible(proprietaire=OTHER, departements=frozenset({"37"}), region="24")
    assert autorise(coord, Action.LIRE_DECLARATION, no_consent)
    assert not autorise(coord, Action.LIRE_CONTACT, no_consent)
    decl = _principal("declarant")
    pending = Cible(membres=frozenset({ME, OTHER}), tous_acceptes=False)
    assert not autorise(decl, Action.LIRE_CONTACTS_GRAPPE, pending)
    ars = _principal("ars")
    not_submitted = Cible(departements=frozenset({"37"}), region="24", soumise_ars=False)
    assert not autorise(ars, Action.LIRE_CONTACTS_GRAPPE, not_submitted)
    # a grappe straddling the coordinator's territory and another one is not theirs
    straddle = Cible(departements=frozenset({"37", "75"}), region="24")
    assert not autorise(coord, Action.MODIFIER_GRAPPE, straddle)
    assert not autorise(Principal(ME, "superuser"), Action.LIRE_AUDIT)


# ---------------------------------------------------------------- the API applies it

ACTORS = ("admin", "coord", "coord45", "ars", "ars_other", "a", "b", "c", "d45")


def _refused_like_missing(call_other, call_missing, secrets: list[str]) -> None:
    with pytest.raises(AccesRefuse) as refused:
        call_other()
    with pytest.raises(AccesRefuse) as missing:
        call_missing()
    assert str(refused.value) == str(missing.value) == _Refus.MESSAGE
    for s in secrets:
        assert s not in str(refused.value)


def test_api_matrix(world, tmp_path, monkeypatch):
    """Each (actor, action) of the API, allowed or refused as the policy says."""
    monkeypatch.setenv("GRAPPES_FICHIERS", str(tmp_path / "fichiers"))
    r = world.reg
    world.declare_all(consent_coord=True)
    tok = {name: getattr(world, name) for name in ACTORS}
    da = world.da
    secrets = ["alice@og-a.fr", "Alice", OG_A]
    cells: list[tuple[str, str, bool]] = []

    def check(action: str, allowed: set[str], call, missing=None,
              refused: type[Exception] = AccesRefuse) -> dict:
        results = {}
        for actor in [a for a in ACTORS if a not in allowed] + [a for a in ACTORS
                                                                if a in allowed]:
            if actor in allowed:
                results[actor] = call(tok[actor])
            elif missing is not None:
                _refused_like_missing(lambda t=tok[actor]: call(t),
                                      lambda t=tok[actor]: missing(t), secrets)
            elif refused is not AccesRefuse:
                with pytest.raises(refused):
                    call(tok[actor])
            else:
                with pytest.raises(AccesRefuse) as exc:
                    call(tok[actor])
                assert str(exc.value) == _Refus.MESSAGE
            cells.append((action, actor, actor in allowed))
        return results

    res = check("lire_declaration", {"a", "coord", "ars"},
                lambda t: r.lire_declaration(t, da.id), lambda t: r.lire_declaration(t, 99999))
    assert res["a"].contact.email == "alice@og-a.fr"
    assert res["coord"].contact.email == "alice@og-a.fr"  # consented
    assert res["ars"].contact is None and res["ars"].texte_libre is None
    # B did not consent: the coordinator sees the declaration, not the contact
    assert r.lire_declaration(world.coord, world.db.id).contact is None

    check("modifier_declaration", {"a"},
          lambda t: r.modifier_declaration(t, da.id, saisie(OG_A, "Alice Martin",
                                                            "alice@og-a.fr",
                                                            consentement_contacts_coordinateur=True),
                                           r.lire_declaration(world.a, da.id).version),
          lambda t: r.modifier_declaration(t, 99999, saisie(OG_A, "X", "x@x.fr"), 1))
    res = check("lister_declarations_37", {"coord", "ars"},
                lambda t: r.declarations(t, ["37"]))
    assert {d.finess_ej for d in res["coord"]} >= {OG_A, OG_B}
    assert all(d.contact is None for d in res["ars"])
    check("agregats_37", {"coord", "ars"}, lambda t: r.agregats(t, ["37"]))
    check("apparier_37", {"coord"}, lambda t: r.apparier(t, ["37"], time_limit=5))
    g = next(x for x in r.grappes(world.coord, ["37"]) if len(x.membres) == 2)
    check("lire_grappe", {"coord", "ars", "a", "b"}, lambda t: r.grappe(t, g.id),
          lambda t: r.grappe(t, 99999))
    check("modifier_grappe", {"coord"},
          lambda t: r.modifier_grappe(t, g.id, r.grappe(world.coord, g.id).version,
                                      porteur_ej=OG_B),
          lambda t: r.modifier_grappe(t, 99999, 1))
    check("evaluer_grappe", {"coord"}, lambda t: r.evaluer_grappe(t, g.id),
          lambda t: r.evaluer_grappe(t, 99999))
    check("inviter", {"coord"},
          lambda t: r.inviter(t, g.id, r.grappe(world.coord, g.id).version),
          lambda t: r.inviter(t, 99999, 1))
    inv_a = r.mes_invitations(world.a)[0]
    inv_b = r.mes_invitations(world.b)[0]
    check("repondre_invitation_a", {"a"}, lambda t: r.repondre(t, inv_a.id, True),
          lambda t: r.repondre(t, 99999, True))
    # contacts of the other member: nobody but members, and only after all accepted
    assert [m.contact for m in r.mes_invitations(world.a)[0].grappe.membres
            if m.finess_ej == OG_B] == [None]
    r.repondre(world.b, inv_b.id, True)
    seen = {actor: r.grappe(tok[actor], g.id) for actor in ("a", "b", "coord", "ars")}
    assert {m.finess_ej: m.contact.email for m in seen["a"].membres}[OG_B] == "bruno@og-b.fr"
    assert {m.finess_ej: m.contact.email for m in seen["b"].membres}[OG_A] == "alice@og-a.fr"
    assert {m.finess_ej: m.contact for m in seen["coord"].membres}[OG_B] is None
    assert all(m.contact is None for m in seen["ars"].membres)
    for actor in ("c", "d45", "coord45", "ars_other", "admin"):
        _refused_like_missing(lambda t=tok[actor]: r.grappe(t, g.id),
                              lambda t=tok[actor]: r.grappe(t, 99999),
                              ["bruno@og-b.fr", "alice@og-a.fr"])
    check("constituer", {"coord"},
          lambda t: r.constituer(t, g.id, r.grappe(world.coord, g.id).version),
          lambda t: r.constituer(t, 99999, 1))
    check("soumettre_ars", {"coord"},
          lambda t: r.soumettre_ars(t, g.id, r.grappe(world.coord, g.id).version),
          lambda t: r.soumettre_ars(t, 99999, 1))
    check("exporter_37", {"coord", "ars"},
          lambda t: r.exporter(t, ["37"], tmp_path / str(abs(hash(t)))))
    check("suggerer_partenaires", {"ars"},
          lambda t: r.suggerer_partenaires(t, world.dc.id),
          lambda t: r.suggerer_partenaires(t, 99999))
    check("comptes", {"admin"}, lambda t: r.comptes(t))
    check("creer_compte", {"admin"},
          lambda t: r.creer_compte(t, "new@test.fr", "declarant", PASSWORD))
    check("journal", {"admin"}, lambda t: r.journal(t))
    check("purger", {"admin"}, lambda t: r.purger(t))
    check("importer_37", {"admin", "coord"},
          lambda t: r.importer_csv(t, HEADER, ["37"]))
    # attachment (issue 18): any déclarant asks; the coordinator / ARS of the EJ decides
    res = check("demander_rattachement", {"a", "b", "c", "d45"},
                lambda t: r.demander_rattachement(t, OG_18))
    req_a = res["a"]
    assert req_a.statut == "demande" and req_a.departement == "18" and not req_a.conteste
    assert res["d45"].conteste  # four accounts claim one OG
    res = check("rattachements_R24", {"ars"}, lambda t: r.rattachements(t, ["R24"]))
    assert {v.email for v in res["ars"] if v.finess_ej == OG_18} == {
        "a@test.fr", "b@test.fr", "c@test.fr", "d45@test.fr"}
    check("rattachements_37", {"coord", "ars"}, lambda t: r.rattachements(t, ["37"]))
    # the ARS of the Cher's région refuses b, c and d45, then approves a
    for actor in ("b", "c", "d45"):
        other = res["ars"][[v.email for v in res["ars"]].index(f"{actor}@test.fr")]
        check(f"refuser_rattachement_{actor}", {"ars"},
              lambda t, i=other.id: r.decider_rattachement(t, i, False),
              lambda t: r.decider_rattachement(t, 99999, False))
    res = check("approuver_rattachement", {"ars"},
                lambda t: r.decider_rattachement(t, req_a.id, True),
                lambda t: r.decider_rattachement(t, 99999, True))
    assert res["ars"].statut == "approuve" and not res["ars"].conteste
    check("declarer", {"a"}, lambda t: r.declarer(t, saisie(OG_18, "X Y", "x@og-18.fr")),
          refused=RegistreError)
    check("retirer_declaration", {"a"}, lambda t: r.retirer_declaration(t, da.id),
          lambda t: r.retirer_declaration(t, 99999))
    # the page's FINESS upload (issue 19): the bundled sample's FiNESS+ flow, the admin only
    flux = (ROOT / "data" / "sample" / "finess-structures-journalier-20260512.json.gz")
    check("televerser_finess", {"admin"},
          lambda t: r.televerser_finess(t, flux.name, flux.read_bytes()))

    # other territory: the coordinator of 45 / the ARS of another région
    for actor in ("coord", "ars_other"):
        with pytest.raises(AccesRefuse):
            r.declarations(tok[actor], ["45"] if actor == "coord" else ["37"])
    with pytest.raises(AccesRefuse):
        r.apparier(world.coord, ["45"], time_limit=5)
    with pytest.raises(AccesRefuse):
        r.lire_declaration(world.coord, world.d45_decl.id)
    assert r.lire_declaration(world.coord45, world.d45_decl.id).finess_ej == "450148986"

    # the ARS cannot change a declaration, even in its région
    with pytest.raises(AccesRefuse):
        r.retirer_declaration(world.ars, world.db.id)
    # 21 API actions x 9 actors before issue 18; 28 since (ask, list x 2, refuse x 3,
    # approve); 29 with the page's FINESS upload (issue 19)
    assert len(cells) == 29 * len(ACTORS) == 261


def test_no_session_no_access(world):
    r = world.reg
    for bad in (None, "", "jeton-invente"):
        with pytest.raises(SessionInvalide):
            r.mes_invitations(bad)
        with pytest.raises(SessionInvalide):
            r.declarations(bad, ["37"])
