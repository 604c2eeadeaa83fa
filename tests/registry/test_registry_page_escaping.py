"""Hostile names never become links or images on the « Mise en relation » page (issue 18,
M2): every view of every role is run with ``AppTest`` on a registry holding hostile text
(in the OG's name, the contact, the grappe's warnings, the FINESS look-up), and every piece
of Markdown the page sends is rendered with a CommonMark parser (markdown-it, as the
browser's react-markdown): no ``<a``, no ``<img``, no raw HTML."""

from __future__ import annotations

from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from sqlalchemy import update
from streamlit.testing.v1 import AppTest

from grappes.registry import Registry
from grappes.registry.models import GrappeProposee
from grappes.ui import registre_coordinateur, registre_declarant
from tests.registry.conftest import LIGHT, OG_A, OG_B, PASSWORD, World, saisie

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "2_Mise_en_relation.py")
HOSTILE = ["![x](http://evil.example/x.png)", "[a](javascript:alert(1))", "**gras**",
           "<img src=x onerror=alert(1)>", "<https://evil.example>", "[r]: http://evil.ex"]
MD = MarkdownIt("commonmark")


def _markdown_bodies(at: AppTest) -> list[str]:
    out = []
    for kind in ("markdown", "warning", "success", "error", "info", "caption", "subheader",
                 "title"):
        out += [str(e.value) for e in getattr(at, kind)]
    out += [str(b.label) for b in at.button]
    return out


@pytest.fixture(scope="module")
def hostile_registry(tmp_path_factory):
    db = tmp_path_factory.mktemp("echappement") / "grappes.db"
    reg = Registry(str(db), finess="sample", securite=LIGHT)
    reg.init()
    w = World(reg)
    name = " ".join(HOSTILE)
    w.da = reg.declarer(w.a, saisie(OG_A, name, "alice@og-a.fr", raison_sociale_ej=name,
                                    dui_editeur=name, texte_libre=name,
                                    consentement_contacts_coordinateur=True))
    w.db = reg.declarer(w.b, saisie(OG_B, name, "bruno@og-b.fr", raison_sociale_ej=name,
                                    dui_editeur=name))
    run = reg.apparier(w.coord, ["37"], time_limit=5)
    reg.demander_rattachement(w.d45, OG_A)  # a contested claim: a warning on the page
    with reg.db.write() as s:  # the solver's warnings quote declared text (the DUI editor)
        s.execute(update(GrappeProposee).values(avertissements=[
            f"éditeurs différents : {h}" for h in HOSTILE]))
    assert run.grappes
    yield reg, w, db
    reg.db.dispose()


@pytest.mark.parametrize("role", ["coord", "a", "ars", "admin"])
def test_hostile_text_never_becomes_a_link_or_an_image(hostile_registry, role, monkeypatch):
    reg, _w, db = hostile_registry
    monkeypatch.setenv("GRAPPES_DB_URL", f"sqlite:///{db}")
    monkeypatch.setenv("GRAPPES_FINESS", "sample")
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["jeton"] = reg.connexion(
        {"coord": "coord37@test.fr", "a": "a@test.fr", "ars": "ars24@test.fr",
         "admin": "admin@test.fr"}[role], PASSWORD).jeton
    at.run()
    assert not at.exception, at.exception
    if role == "a":  # the FINESS look-up echoes what was typed
        at.text_input[0].set_value("[a](javascript:alert(1))")
        at.button[0].click().run()
    bodies = _markdown_bodies(at)
    # the other lazy tabs of the role, each opened as a click does (only the open one runs)
    key, labels = {"coord": (registre_coordinateur.ONGLET, registre_coordinateur.ONGLETS),
                   "a": (registre_declarant.ONGLET, registre_declarant.ONGLETS)}.get(
                       role, ("", ()))
    for label in labels[1:]:
        at.session_state[key] = label
        at.run()
        assert not at.exception, at.exception
        bodies += _markdown_bodies(at)
    html = "\n".join(MD.render(b) for b in bodies)
    assert "<a " not in html and "<img" not in html, html
    if role == "coord":  # the hostile warnings are there, shown as typed
        assert sum("éditeurs différents" in b for b in bodies) == len(HOSTILE)
        assert any("Revendication contestée" in b for b in bodies)
