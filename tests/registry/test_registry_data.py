"""Hostile input, withdrawal, retention purge and migrations, on both backends."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, func, inspect, select, text

from grappes.registry import Registry, SaisieInvalide
from grappes.registry.db import Database, current_revision, head_revision, upgrade
from grappes.registry.declarations import MAX_TEXTE_LIBRE
from grappes.registry.models import Audit, Base, Compte, Declaration
from tests.registry.conftest import OG_A, OG_B, PASSWORD, saisie, sample_esms

HOSTILE = [
    "'; DROP TABLE declarations; --",
    "Robert'); DELETE FROM comptes WHERE ('1'='1",
    '<script>alert("x")</script><img src=x onerror=alert(1)>',
    "=HYPERLINK(\"http://evil\";\"clic\")",
    "ligne1\r\nligne2\ttab \x01\x07\x1b[31m rouge \u202e inversé",
    "é" * 900,
]


def _counts(reg: Registry) -> dict[str, int]:
    with reg.db.read() as s:
        return {t: s.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("comptes", "declarations", "declaration_esms", "grappes")}


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_form_fields_stored_verbatim(world, value):
    r = world.reg
    before = _counts(r)
    esms = sample_esms(OG_A)
    esms[0].raison_sociale = value
    d = r.declarer(world.a, saisie(OG_A, value, "alice@og-a.fr", raison_sociale_ej=value,
                                   dui_editeur=value, texte_libre=value * 3, esms=esms))
    back = r.lire_declaration(world.a, d.id)
    assert back.contact.nom == value
    assert back.raison_sociale_ej == value and back.dui_editeur == value
    assert back.texte_libre == value * 3
    assert back.esms[0].raison_sociale == value
    after = _counts(r)
    assert after["comptes"] == before["comptes"]
    assert after["declarations"] == before["declarations"] + 1


def test_hostile_checked_fields_rejected_with_field(world):
    r = world.reg
    bad = saisie(OG_A, "Alice", "'; DROP TABLE comptes; --@x", tel="<script>",
                 porteur="<b>oui</b>", dui_statut="' OR 1=1", champs_acceptes=["PA'--"],
                 partenaires_refuses=["<script>"], texte_libre="x" * (MAX_TEXTE_LIBRE + 1))
    bad.finess_ej = "12345678' OR '1'='1"
    with pytest.raises(SaisieInvalide) as exc:
        r.declarer(world.a, bad)
    fields = {f for f, _ in exc.value.erreurs}
    assert {"finess_ej", "contact_email", "contact_telephone", "porteur", "dui_statut",
            "champs_acceptes", "partenaires_refuses", "texte_libre"} <= fields
    nul = saisie(OG_A, "Al\x00ice", "alice@og-a.fr")
    with pytest.raises(SaisieInvalide, match="caractère nul"):
        r.declarer(world.a, nul)
    assert _counts(r)["declarations"] == 0


def _csv(rows: list[dict[str, str]]) -> bytes:
    return pd.DataFrame(rows).to_csv(sep=";", index=False).encode("utf-8-sig")


def test_import_every_row_loaded_or_rejected(world):
    r = world.reg
    ets = [e.finess_et for e in sample_esms(OG_A)]
    good = [{"finess_ej": OG_A, "finess_et": e, "contact_nom": HOSTILE[0],
             "contact_email": "alice@og-a.fr", "consentement": "oui",
             "texte_libre": HOSTILE[2], "porteur": "volontaire",
             "consentement_contacts_coordinateur": "oui"} for e in ets]
    rows = [
        *good,
        {"finess_ej": OG_B, "finess_et": "370000001", "contact_nom": "B",
         "contact_email": "b@og-b.fr", "consentement": "oui"},            # bad Luhn key
        {"finess_ej": "371114794", "finess_et": sample_esms("371114794")[0].finess_et,
         "contact_nom": "C", "contact_email": "pas-une-adresse", "consentement": "oui"},
        {"finess_ej": "371693516", "finess_et": sample_esms("371693516")[0].finess_et,
         "contact_nom": "D", "contact_email": "d@og.fr", "consentement": "non"},
        {"finess_ej": "", "finess_et": "", "contact_nom": "", "contact_email": "",
         "consentement": ""},
        {"finess_ej": "450148986", "finess_et": sample_esms("450148986")[0].finess_et,
         "contact_nom": "E", "contact_email": "e@og.fr", "consentement": "oui"},  # in 45
    ]
    rep = r.importer_csv(world.coord, _csv(rows))
    first = 2
    assert rep.lignes == len(rows)
    assert [line for line, _ in rep.chargees] == [first]
    rejected = {(x.ligne, x.champ) for x in rep.rejets}
    n = len(good)
    assert (first + n, "finess_et") in rejected
    assert (first + n + 1, "contact_email") in rejected
    assert (first + n + 2, "consentement") in rejected
    assert (first + n + 3, "finess_ej") in rejected
    assert (first + n + 4, "commune") in rejected  # outside the coordinator's territory
    loaded_lines = set(range(first, first + n))  # the OG's rows make one declaration
    assert {x.ligne for x in rep.rejets} | loaded_lines == set(range(first, first + len(rows)))
    d = r.declarations(world.coord, ["37"])[0]
    assert d.contact.nom == HOSTILE[0] and d.texte_libre == HOSTILE[2]
    assert len(d.esms) == n
    with pytest.raises(SaisieInvalide, match="colonne"):
        r.importer_csv(world.coord, b"a;b\n1;2\n")


def _all_text(reg: Registry) -> str:
    """Every value of every table, as text (to look for personal data anywhere)."""
    out = []
    with reg.db.engine.connect() as c:
        for table in inspect(c).get_table_names():
            for row in c.execute(text(f"SELECT * FROM {table}")):
                out.append(" ".join(str(v) for v in row))
    return "\n".join(out)


def test_withdrawal_erases_personal_data_everywhere(world, tmp_path):
    r = world.reg
    world.declare_all()
    g = next(x for x in r.apparier(world.coord, ["37"], time_limit=5).grappes
             if len(x.membres) == 2)
    g = r.inviter(world.coord, g.id, g.version)
    for tok in (world.a, world.b):
        r.repondre(tok, r.mes_invitations(tok)[0].id, True)
    g = r.constituer(world.coord, g.id, r.grappe(world.coord, g.id).version)
    r.exporter(world.coord, ["37"], tmp_path / "avant")
    before = (tmp_path / "avant" / "contacts.csv").read_text(encoding="utf-8-sig")
    assert "alice@og-a.fr" in before and "Alice Martin" in before
    assert "alice@og-a.fr" in _all_text(r)

    r.retirer_declaration(world.a, world.da.id)

    dump = _all_text(r)
    for secret in ("alice@og-a.fr", "Alice Martin", "06 11 22 33 44"):
        assert secret not in dump
    # the other member's data stay; the grappe is marked incomplete
    assert "bruno@og-b.fr" in dump
    assert r.grappe(world.coord, g.id).statut == "incomplete"
    assert r.lire_declaration(world.a, world.da.id).contact is None
    # exports made now carry nothing of the withdrawn declarant
    with pytest.raises(Exception, match="aucune grappe constituée"):
        r.exporter(world.coord, ["37"], tmp_path / "apres")
    # the audit log keeps the fact, not the data
    with r.db.read() as s:
        entries = s.scalars(select(Audit).where(Audit.cible_id == str(world.da.id))).all()
        assert any(a.action == "declaration_retrait" for a in entries)
        details = " ".join(a.detail for a in s.scalars(select(Audit)))
    assert "alice" not in details.lower()


def test_contacts_export_neutralises_formulas(world, tmp_path):
    r = world.reg
    da = r.declarer(world.a, saisie(OG_A, '=HYPERLINK("http://x")', "alice@og-a.fr",
                                    consentement_contacts_coordinateur=True))
    r.declarer(world.b, saisie(OG_B, "Bruno", "bruno@og-b.fr"))
    g = r.apparier(world.coord, ["37"], time_limit=5).grappes[0]
    g = r.inviter(world.coord, g.id, g.version)
    for tok in (world.a, world.b):
        r.repondre(tok, r.mes_invitations(tok)[0].id, True)
    r.constituer(world.coord, g.id, r.grappe(world.coord, g.id).version)
    r.exporter(world.coord, ["37"], tmp_path)
    table = pd.read_csv(io.StringIO((tmp_path / "contacts.csv").read_text("utf-8-sig")),
                        sep=";", dtype=str)
    name = table.loc[table["finess_ej"] == OG_A, "contact_nom"].iloc[0]
    assert name != '=HYPERLINK("http://x")' and name.endswith('=HYPERLINK("http://x")')
    assert r.lire_declaration(world.a, da.id).contact.nom == '=HYPERLINK("http://x")'


def test_purge_by_retention(world, clock):
    r = world.reg
    world.declare_all()

    def login(email):
        return r.connexion(email, PASSWORD).jeton

    clock.advance(days=400)  # every session of the world has expired by now
    r.modifier_declaration(login("b@test.fr"), world.db.id,
                           saisie(OG_B, "Bruno Petit", "bruno@og-b.fr"), world.db.version)
    rep = r.purger(login("admin@test.fr"))
    assert rep.declarations_effacees == () and rep.sessions_supprimees >= 9
    clock.advance(days=340)  # 740 days after A's last change, 340 after B's
    rep = r.purger(login("admin@test.fr"))
    assert world.da.id in rep.declarations_effacees
    assert world.db.id not in rep.declarations_effacees
    assert r.lire_declaration(login("coord37@test.fr"), world.da.id).contact is None
    assert r.lire_declaration(login("b@test.fr"), world.db.id).contact.email == "bruno@og-b.fr"
    # A's account: no active declaration left, no login for 24 months: erased too (issue 18)
    comptes = {c.id: c for c in r.comptes(login("admin@test.fr"))}
    assert [comptes[i].email for i in rep.comptes_effaces] == [
        f"efface-{i}@compte.invalid" for i in rep.comptes_effaces]
    assert "a@test.fr" not in {c.email for c in comptes.values()}
    assert "b@test.fr" in {c.email for c in comptes.values()}  # active declaration: kept


def test_migrations_empty_database(db_url):
    engine = create_engine(db_url)
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as c:
        diff = compare_metadata(MigrationContext.configure(c), Base.metadata)
    # only index/constraint naming may differ; no missing table or column
    assert not [d for d in diff if d[0] in ("add_table", "remove_table", "add_column",
                                            "remove_column")], diff
    engine.dispose()


def test_migration_from_previous_revision(db_url):
    engine = create_engine(db_url)
    upgrade(engine, "r0001")
    now = "2025-01-01 10:00:00"
    with engine.begin() as c:
        c.execute(text(
            "INSERT INTO comptes (email, nom, role, mot_de_passe, actif, echecs, cree_le) "
            f"VALUES ('old@test.fr', '', 'declarant', NULL, true, 0, '{now}')"))
        c.execute(text(
            "INSERT INTO declarations (compte_id, statut, finess_ej, raison_sociale_ej, "
            "departement, region, dui_editeur, dui_statut, champs_acceptes, "
            "partenaires_souhaites, partenaires_refuses, porteur, contact_nom, contact_email, "
            "consentement, consentement_contacts_coordinateur, consentement_version, cree_le, "
            "modifie_le, version) VALUES (1, 'active', '370016669', '', '37', '24', '', "
            "'inconnu', '[]', '[]', '[]', 'possible', 'Ancien', 'ancien@og.fr', true, false, "
            f"'2025-01', '{now}', '{now}', 1)"))
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    db = Database(db_url)
    db.check_schema()
    with db.read() as s:
        d = s.scalar(select(Declaration))
        assert d.contact_email == "ancien@og.fr" and d.conservation_mois == 24
        assert s.scalar(select(func.count()).select_from(Compte)) == 1
    db.dispose()
    engine.dispose()


def test_migration_r0004_flags_the_tranches_awaiting_the_verification(db_url):
    """r0004 adds the « vérification de service régulier » to the stored tranches: the 2022
    usage tranche needs it (its rule file says so), the t2 one and signature tranches do not."""
    engine = create_engine(db_url)
    upgrade(engine, "r0003")
    now = "2025-01-01 10:00:00"
    with engine.begin() as c:
        for gid, regles in ((1, "generalisation-2022"), (2, "amorcage-t2-2021")):
            c.execute(text(
                "INSERT INTO suivi_grappes (id, code, regles, signature, region, porteur_ej, "
                "porteur_nom, montant_total, cree_le, version) VALUES "
                f"({gid}, 'G{gid}', '{regles}', '2024-01-10', '24', '', '', 1000, '{now}', 1)"))
        for tid, gid, rang, trigger in ((1, 1, 1, "signature"), (2, 1, 2, "cibles_usage"),
                                        (3, 2, 1, "signature"), (4, 2, 2, "jalon"),
                                        (5, 2, 3, "cibles_usage")):
            c.execute(text(
                "INSERT INTO suivi_tranches (id, suivi_id, rang, libelle, part, montant, "
                f"declencheur) VALUES ({tid}, {gid}, {rang}, 'T', 0.5, 500, '{trigger}')"))
    upgrade(engine, "r0004")
    assert current_revision(engine) == "r0004"
    with engine.connect() as c:
        rows = c.execute(text("SELECT id, verification_requise, verifiee_le, verifiee_par "
                              "FROM suivi_tranches ORDER BY id")).all()
    assert [(r[0], bool(r[1]), r[2], r[3]) for r in rows] == [
        (1, False, None, None), (2, True, None, None), (3, False, None, None),
        (4, False, None, None), (5, False, None, None)]
    engine.dispose()


def test_uninitialised_database_message(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'vide.db'}")
    with pytest.raises(Exception, match="grappes registre init"):
        db.check_schema()


def test_edit_form_round_trip_changes_only_what_is_edited(world):
    """« Modifier sa déclaration » re-opens the form filled from what is stored
    (``saisie_from_vue``): changing one field and submitting changes that field only."""
    from dataclasses import replace

    from grappes.registry.declarations import saisie_from_vue

    r = world.reg
    world.declare_all()
    jeton = r.connexion("a@test.fr", PASSWORD).jeton
    before = r.lire_declaration(jeton, world.da.id)
    form = saisie_from_vue(before)
    assert form.contact_email == before.contact.email and not form.consentement
    edited = replace(form, texte_libre="Nouveau texte", distance_max_km=35.0, consentement=True)
    after = r.modifier_declaration(jeton, before.id, edited, before.version)
    assert after.texte_libre == "Nouveau texte" and after.distance_max_km == 35.0
    assert after.version == before.version + 1
    for name in ("finess_ej", "dui_editeur", "dui_statut", "editeur_segur", "champs_acceptes",
                 "partenaires_souhaites", "partenaires_refuses", "porteur", "contact"):
        assert getattr(after, name) == getattr(before, name), name
    assert [e.finess_et for e in after.esms] == [e.finess_et for e in before.esms]


def test_migration_r0006_keeps_a_recorded_verification_as_its_first_history_row(db_url):
    """r0006 (issue 19): a verification recorded before it becomes the first row of its
    tranche's history; the outbox table exists and is empty."""
    engine = create_engine(db_url)
    upgrade(engine, "r0004")
    now = "2025-01-01 10:00:00"
    with engine.begin() as c:
        c.execute(text(
            "INSERT INTO comptes (id, email, nom, role, mot_de_passe, actif, echecs, cree_le) "
            f"VALUES (7, 'p@test.fr', '', 'declarant', NULL, true, 0, '{now}')"))
        c.execute(text(
            "INSERT INTO suivi_grappes (id, code, regles, signature, region, porteur_ej, "
            "porteur_nom, montant_total, cree_le, version) VALUES (1, 'G1', "
            f"'generalisation-2022', '2024-01-10', '24', '', '', 1000, '{now}', 1)"))
        c.execute(text(
            "INSERT INTO suivi_tranches (id, suivi_id, rang, libelle, part, montant, "
            "declencheur, verification_requise, verifiee_le, verifiee_par) VALUES "
            "(2, 1, 2, 'T', 0.5, 500, 'cibles_usage', true, '2024-06-12', 7)"))
    upgrade(engine)
    with engine.connect() as c:
        rows = c.execute(text("SELECT tranche_id, signee_le, enregistree_par "
                              "FROM suivi_verifications")).all()
        mails = c.execute(text("SELECT count(*) FROM courriels")).scalar()
    assert [(r[0], str(r[1])[:10], r[2]) for r in rows] == [(2, "2024-06-12", 7)]
    assert mails == 0
    engine.dispose()
