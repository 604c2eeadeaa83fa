"""The « Mise en relation » page as its users read it (issue 19, item 4): names rather than
codes, feedback on every action, the facts an invitation needs, French labels. Each view is
run with ``AppTest`` on a registry built here through the API."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from grappes.registry import Registry
from grappes.registry.adapters import load_finess
from grappes.registry.affichage import commune_libelle, echapper
from grappes.registry.errors import AccesRefuse
from grappes.ui import registre_coordinateur, registre_declarant
from grappes.ui.registre_commun import CARTES_PAR_PAGE, cartes_a_afficher
from tests.registry.conftest import LIGHT, OG_A, OG_B, OG_C, PASSWORD, World, saisie

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "2_Mise_en_relation.py")
EMAILS = {"coord": "coord37@test.fr", "a": "a@test.fr", "b": "b@test.fr", "c": "c@test.fr",
          "ars": "ars24@test.fr", "admin": "admin@test.fr"}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    db = tmp_path_factory.mktemp("usage") / "grappes.db"
    reg = Registry(str(db), finess="sample", securite=LIGHT)
    reg.init()
    w = World(reg)
    w.da = reg.declarer(w.a, saisie(OG_A, "Alice Martin", "alice@og-a.fr"))
    w.db = reg.declarer(w.b, saisie(OG_B, "Bruno Petit", "bruno@og-b.fr",
                                    porteur="volontaire"))
    w.run = reg.apparier(w.coord, ["37"], time_limit=5)
    assert w.run.grappes
    yield w, db
    st.cache_resource.clear()  # no other test module reads this registry through the page
    reg.db.dispose()


def page(world, role: str, monkeypatch, finess: str = "sample",
         onglet: tuple[str, str] | None = None) -> AppTest:
    """The page signed in as ``role``; ``onglet`` (session key, label): the lazy tab open,
    as a click on it (``grappes.ui.navigation.lazy_tabs``)."""
    w, db = world
    monkeypatch.setenv("GRAPPES_DB_URL", f"sqlite:///{db}")
    monkeypatch.setenv("GRAPPES_FINESS", finess)
    st.cache_resource.clear()  # the page's Registry is cached per process: this test's
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["jeton"] = w.reg.connexion(EMAILS[role], PASSWORD).jeton
    if onglet is not None:
        at.session_state[onglet[0]] = onglet[1]
    at.run()
    assert not at.exception, at.exception
    return at


def frames(at: AppTest) -> list:
    """Every table of the page: long lists (``st.dataframe``) and cards' (``st.table``)."""
    return [d.value for d in at.dataframe] + [t.value for t in at.table]


def test_commune_shown_by_name_with_its_code():
    assert commune_libelle("37261") == "Tours (37261)"
    assert commune_libelle("99999") == "99999"  # unknown: as stored


def test_declarant_reads_og_and_commune_names(world, monkeypatch):
    at = page(world, "a", monkeypatch)
    finess = load_finess("sample")
    og_name = str(finess.loc[finess["finess_ej"] == OG_A, "raison_sociale_ej"].iloc[0])
    assert og_name and any(echapper(og_name) in str(m.value) for m in at.markdown)
    esms = next(f for f in frames(at) if "commune" in f.columns)
    assert all("(" in c and not c.isdigit() for c in esms["commune"]), esms["commune"]


def _fill_contact_and_submit(at: AppTest, nom: str, email: str) -> None:
    by_label = {t.label: t for t in at.text_input}
    by_label["Personne à contacter"].set_value(nom)
    by_label["E-mail de contact"].set_value(email)
    next(c for c in at.checkbox if c.label.startswith("J'accepte")).check()
    next(b for b in at.button if b.label == "Enregistrer ma déclaration").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def test_search_by_og_number_fills_the_og_and_ticks_all_its_esms(world, monkeypatch):
    """« Rechercher mon établissement » by the OG's FINESS EJ: the OG's number and name are
    filled, all its ESMS of the FINESS listed and ticked; the OG's name stays editable."""
    w, _db = world
    at = page(world, "c", monkeypatch)
    at.text_input(key="q").set_value(OG_C).run()
    table = next(f for f in frames(at) if list(f.columns) == ["nom", "commune", "OG",
                                                                "FINESS ET"])
    finess = load_finess("sample")
    ets = set(finess.loc[finess["finess_ej"] == OG_C, "finess_et"])
    assert set(table["FINESS ET"]) == ets
    next(b for b in at.button if b.label == "Choisir cet établissement").click().run()
    assert at.text_input(key="ej").value == OG_C
    assert at.text_input(key="og_nom").value == finess.loc[
        finess["finess_ej"] == OG_C, "raison_sociale_ej"].iloc[0]
    lignes = at.session_state["lignes"]
    assert set(lignes["FINESS ET"]) == ets and lignes["inclure"].all()
    at.text_input(key="og_nom").set_value("Association des Tilleuls")
    _fill_contact_and_submit(at, "Chloé Durand", "chloe@og-c.fr")
    mine = [d for d in w.reg.mes_declarations(w.c) if d.statut == "active"]
    assert [d.raison_sociale_ej for d in mine] == ["Association des Tilleuls"]
    assert {e.finess_et for e in mine[0].esms} == ets
    w.reg.retirer_declaration(w.c, mine[0].id)


def test_search_by_name_declares_the_chosen_esms_only(world, monkeypatch):
    w, _db = world
    finess = load_finess("sample")
    row = finess[finess["finess_ej"] == OG_C].sort_values("raison_sociale").iloc[-1]
    at = page(world, "c", monkeypatch)
    words = " ".join(str(row["raison_sociale"]).lower().split()[1:])  # a name fragment
    at.text_input(key="q").set_value(words).run()
    box = next(s for s in at.selectbox if s.label == "Mon établissement")
    choice = next(i for i in box.options if f"FINESS ET {row['finess_et']}" in i)
    box.select(choice).run()
    next(b for b in at.button if b.label == "Choisir cet établissement").click().run()
    lignes = at.session_state["lignes"]
    assert lignes.loc[lignes["inclure"], "FINESS ET"].tolist() == [row["finess_et"]]
    assert len(lignes) == (finess["finess_ej"] == OG_C).sum()
    assert any("cochez ceux à déclarer" in m.value for m in at.success)
    _fill_contact_and_submit(at, "Chloé Durand", "chloe@og-c.fr")
    mine = [d for d in w.reg.mes_declarations(w.c) if d.statut == "active"]
    assert [(e.finess_et, e.commune) for e in mine[0].esms] == [
        (row["finess_et"], row["commune"])]
    w.reg.retirer_declaration(w.c, mine[0].id)


def _constituted(w) -> int:
    """The proposed grappe of A and B, invited, accepted by both and constituted (API)."""
    reg = w.reg
    g = next(x for x in reg.grappes(w.coord, ["37"]) if len(x.membres) == 2)
    if g.statut == "proposee":
        reg.inviter(w.coord, g.id, g.version)
        for token in (w.a, w.b):
            for inv in reg.mes_invitations(token):
                if inv.grappe.id == g.id and inv.statut == "en_attente":
                    reg.repondre(token, inv.id, True)
        g = next(x for x in reg.grappes(w.coord, ["37"]) if x.id == g.id)
        reg.constituer(w.coord, g.id, g.version)
    return g.id


def test_submitting_to_the_ars_says_so_and_changes_the_state(world, monkeypatch):
    w, _db = world
    gid = _constituted(w)
    at = page(world, "coord", monkeypatch,
              onglet=(registre_coordinateur.ONGLET, "Grappes et invitations"))
    assert any("état : **constituée**" in m.value for m in at.markdown)
    grappes = w.reg.grappes(w.coord, ["37"])
    waiting = sum(map(registre_coordinateur.a_faire, grappes))
    assert waiting >= 1 and any(  # the constituted grappe waits to be submitted
        c.value == f"{len(grappes)} grappe(s), dont {waiting} attendent une action de votre "
        "part (affichées en premier)." for c in at.caption), [c.value for c in at.caption]
    assert len(grappes) <= CARTES_PAR_PAGE and not [
        b for b in at.button if b.key == "grappes_coordinateur_suivantes"]
    next(b for b in at.button if b.label == "Soumettre à l'ARS").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert any("soumise à l'ARS" in s.value for s in at.success), [s.value for s in at.success]
    assert any("soumise à l'ARS" in m.value for m in at.markdown)
    assert not any(b.label == "Soumettre à l'ARS" for b in at.button)
    assert next(x for x in w.reg.grappes(w.coord, ["37"]) if x.id == gid).soumise_ars


def test_an_invitation_shows_partners_distance_amounts_and_points(world, monkeypatch):
    w, _db = world
    gid = _constituted(w)
    inv = next(i for i in w.reg.mes_invitations(w.a) if i.grappe.id == gid)
    fiche = w.reg.fiche_invitation(w.a, inv.id)
    finess = load_finess("sample")
    names = finess.drop_duplicates("finess_ej").set_index("finess_ej")["raison_sociale_ej"]
    assert {p.finess_ej: p.raison_sociale_ej for p in fiche.partenaires} == {
        OG_A: names[OG_A], OG_B: names[OG_B]}
    assert fiche.total > 0 and fiche.points > 0 and fiche.points <= fiche.points_max
    assert fiche.n_esms == inv.grappe.n_esms == sum(p.n_esms for p in fiche.partenaires)
    assert sum(p.part_indicative for p in fiche.partenaires) == pytest.approx(fiche.total)
    partner = next(p for p in fiche.partenaires if p.finess_ej == OG_B)
    assert partner.km is not None and 0 <= partner.km <= fiche.km_max
    assert next(p for p in fiche.partenaires if p.finess_ej == OG_A).moi
    with pytest.raises(AccesRefuse):  # not B's invitation
        w.reg.fiche_invitation(w.b, inv.id)
    at = page(world, "a", monkeypatch, onglet=(registre_declarant.ONGLET, "Mes invitations"))
    labels = {m.label: m.value for m in at.metric}
    assert labels["Points de la grille"] == f"{fiche.points} / {fiche.points_max}"
    assert labels["Financement de la grappe"].endswith("€")
    share = "part indicative (ESMS de l'OG ; lignes projet au porteur)"
    table = next(f for f in frames(at) if share in f.columns)
    assert set(table["nom"]) == {names[OG_A], names[OG_B]}
    assert "mon OG" in set(table["distance de mon OG"])
    # one table per card: each OG's answer is in it, no second table of the same OGs
    assert set(table["invitation"]) <= {"en attente de réponse", "acceptée", "déclinée"}
    assert not [f for f in frames(at) if "rattachement" in f.columns]
    # the session keeps one fiche per invitation shown, whatever the reruns
    shown = {i.id for i in w.reg.mes_invitations(w.a)}
    at.run()
    assert set(at.session_state["fiches_invitation"]) <= shown
    assert inv.id in at.session_state["fiches_invitation"]


def test_ars_map_is_the_planners_map_with_boundaries_legend_and_names(world, monkeypatch):
    """The ARS view draws the planner's map (``grappes.ui.mapview``): département boundaries
    and names, one colour per engaged grappe with its porteur's name in the legend, and each
    ESMS's name, OG and commune on hover (user-typed names escaped there)."""
    from grappes.ui.ars_map import map_inputs
    from grappes.ui.mapview import build_map

    w, _db = world
    gid = _constituted(w)
    g = next(x for x in w.reg.grappes(w.coord, ["37"]) if x.id == gid)
    carte = w.reg.agregats(w.ars, ["R24"])["carte"]
    assert set(carte.loc[carte["grappe"] == g.code, "finess_ej"]) == {OG_A, OG_B}
    etab, assignment, porteurs, labels = map_inputs(carte)
    finess = load_finess("sample")
    names = finess.drop_duplicates("finess_ej").set_index("finess_ej")["raison_sociale_ej"]
    assert porteurs == {g.code: g.porteur_ej}
    assert labels == {g.code: names[g.porteur_ej]}
    pmap = build_map(etab, assignment, porteurs, departements=["37", "41"],
                     grappe_labels=labels)
    layers = {layer.id: layer for layer in pmap.deck.layers}
    codes = {f["properties"]["code"] for f in layers["departements"].data["features"]}
    assert codes == {"37", "41"}
    assert "Indre-et-Loire" in {r["nom"] for r in layers["noms_departements"].data}
    assert html.escape(f"{g.code} · {labels[g.code]}") in pmap.legend
    hover = {r["finess_et"]: r for r in layers["grappes"].data}
    et = str(finess.loc[finess["finess_ej"] == OG_A, "finess_et"].iloc[0])
    assert hover[et]["og"].startswith(names[OG_A][:10]) and "(37)" in hover[et]["commune"]
    hostile = carte.assign(raison_sociale="<img src=x onerror=alert(1)>")
    assert "<img" not in map_inputs(hostile)[0]["raison_sociale"].iloc[0]
    at = page(world, "ars", monkeypatch)
    assert at.get("deck_gl_json_chart"), "pas de carte sur la vue ARS"
    assert any("Légende" in m.value for m in at.markdown)


def _audit_codes() -> set[str]:
    """Every action code the sources write to the audit log (literal codes, the console's
    ``Audit(action=...)``, and the decisions ``rattachement_<statut>``)."""
    import re

    from grappes.registry import rattachement

    root = Path(__file__).resolve().parents[2] / "grappes"
    codes: set[str] = set()
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        codes |= set(re.findall(r'_audit\(\s*s,\s*[\w.()]+,\s*"([a-z_]+)"', text))
        codes |= set(re.findall(r'Audit\(.{0,200}?action="([a-z_]+)"', text, re.S))
    codes |= {f"rattachement_{x}" for x in (rattachement.APPROUVE, rattachement.REFUSE,
                                            rattachement.REVOQUE)}
    return codes


def test_every_audit_action_has_a_french_label():
    from grappes.registry.affichage import ACTION_LABELS

    codes = _audit_codes()
    assert {"connexion", "compte_deblocage", "suivi_versement"} <= codes  # the scan works
    assert codes <= set(ACTION_LABELS), sorted(codes - set(ACTION_LABELS))


def test_the_audit_log_reads_in_french(world, monkeypatch):
    from grappes.registry.affichage import ACTION_LABELS

    at = page(world, "admin", monkeypatch)
    journal = next(f for f in frames(at) if "action" in f.columns)
    assert len(journal)
    assert set(journal["action"]) <= set(ACTION_LABELS.values()), set(journal["action"])
    assert "déclaration enregistrée" in set(journal["action"])


def test_the_ars_view_shows_labels_and_amounts_not_raw_values(world, monkeypatch):
    w, _db = world
    _constituted(w)
    at = page(world, "ars", monkeypatch)
    tables = frames(at)
    par_dep = next(f for f in tables if "déclarations" in f.columns)
    assert list(par_dep.columns) == ["département", "champ", "déclarations", "ESMS"]
    assert "personnes âgées" in set(par_dep["champ"])
    grappes = next(f for f in tables if "financement" in f.columns)
    assert "n_esms" not in grappes.columns and "statut" not in grappes.columns
    assert not {"constituee", "proposee"} & set(grappes["état"])
    assert any(x.startswith("constituée") for x in grappes["état"])
    total = next(g.total for g in w.reg.grappes(w.ars, ["R24"]) if g.statut == "constituee")
    from grappes.core.formatting import euros

    assert euros(total) in set(grappes["financement"])  # « 730 000 € », not 730000.0
    assert any(m.value == "**Grappes constituées et leurs membres**" for m in at.markdown)
    assert not any("Aucune grappe constituée" in c.value for c in at.caption)
    n = next(x for x in at.number_input if x.label == "Déclaration n°")
    assert n.value is None and n.min == 1
    assert not any("constituee" in m.value for m in at.markdown)


def test_contacts_csv_names_each_og(world, tmp_path):
    """The export's ``contacts.csv`` carries the OG names the declarations stored (from the
    FINESS look-up, or typed in the form)."""
    import pandas as pd

    w, _db = world
    _constituted(w)
    w.reg.exporter(w.coord, ["37"], tmp_path)
    contacts = pd.read_csv(tmp_path / "contacts.csv", sep=";", encoding="utf-8-sig",
                           dtype=str)
    finess = load_finess("sample").drop_duplicates("finess_ej").set_index("finess_ej")
    assert set(contacts["finess_ej"]) == {OG_A, OG_B}
    for row in contacts.itertuples():
        assert row.raison_sociale_ej == finess.at[row.finess_ej, "raison_sociale_ej"]



def test_invitations_are_drawn_by_pages_pending_first():
    """Each card reads its grappe's facts: a federation invited into many grappes gets them
    page by page, those awaiting an answer first, with the count of those behind."""
    from types import SimpleNamespace as Inv

    invitations = [Inv(id=i, statut=s) for i, s in enumerate(
        ["acceptee", "en_attente", "refusee", "en_attente", "en_attente"])]
    first = registre_declarant.en_attente
    shown, reste = cartes_a_afficher(invitations, 2, first)
    assert [i.id for i in shown] == [1, 3] and reste == 3
    shown, reste = cartes_a_afficher(invitations, 10, first)
    assert [i.id for i in shown] == [1, 3, 4, 0, 2] and reste == 0


def test_a_coordinators_grappes_are_drawn_by_pages_those_to_act_on_first():
    """66 grappes' cards were 7,700 table cells for the browser: by pages of
    ``CARTES_PAR_PAGE``, the grappes waiting for the coordinator first (to invite, to mark
    constituted, to submit), then the others."""
    from types import SimpleNamespace as G

    states = [("invitations_envoyees", False), ("constituee", True), ("proposee", False),
              ("acceptee", False), ("constituee", False), ("invitations_envoyees", False)]
    grappes = [G(id=i, statut=s, soumise_ars=a) for i, (s, a) in enumerate(states)]
    shown, reste = cartes_a_afficher(grappes, 3, registre_coordinateur.a_faire)
    assert [g.id for g in shown] == [2, 3, 4] and reste == 3
    many = [G(id=i, statut="invitations_envoyees", soumise_ars=False) for i in range(25)]
    shown, reste = cartes_a_afficher(many, CARTES_PAR_PAGE, registre_coordinateur.a_faire)
    assert len(shown) == CARTES_PAR_PAGE and reste == 25 - CARTES_PAR_PAGE


def test_the_invitations_tab_counts_them_and_offers_no_empty_page(world, monkeypatch):
    w, _db = world
    invitations = w.reg.mes_invitations(w.a)
    at = page(world, "a", monkeypatch, onglet=(registre_declarant.ONGLET, "Mes invitations"))
    pending = sum(i.statut == "en_attente" for i in invitations)
    assert any(c.value == f"{len(invitations)} invitation(s), dont {pending} en attente de "
               "votre réponse." for c in at.caption)
    assert len([m for m in at.markdown if str(m.value).startswith("**Grappe ")]) == len(
        invitations)
    assert not [b for b in at.button if b.key == "invitations_suivantes"]


def test_a_contact_reads_without_empty_parts():
    from types import SimpleNamespace as Contact

    from grappes.ui.registre_commun import contact_text

    assert contact_text(None) == "masqué"
    assert contact_text(Contact(nom="Bruno Petit", email="bruno@og-b.fr", telephone="")) \
        == "Bruno Petit — bruno@og-b.fr"
    assert contact_text(Contact(nom="A", email="a@x.fr", telephone="01 02 03 04 05")) \
        == "A — a@x.fr — 01 02 03 04 05"
    assert contact_text(Contact(nom="", email="", telephone="")) == "—"
