"""The coordinator's what-if edit screen helpers (grappes.ui.registry_edit), on views built
here: members table, free declarations, porteur choices, edit arguments, French re-check."""

from __future__ import annotations

from datetime import datetime

from grappes.registry.vues import (
    DeclarationVue,
    EsmsVue,
    EvaluationGrappe,
    GrappeVue,
    MembreVue,
)
from grappes.ui import registry_edit as re_


def decl(i: int, ej: str, champ: str = "PA", dep: str = "37", statut: str = "active"):
    esms = (EsmsVue(f"{ej[:8]}{i}", f"EHPAD {i}", champ, "37261", dep, 0.7, 47.4),)
    return DeclarationVue(i, statut, ej, f"OG {i}", dep, "24", esms, "", "inconnu", None, None,
                          (), (), (), "possible", False, 12, datetime(2026, 1, 1), 1)


def grappe(gid: int, members: list[DeclarationVue], statut: str = "proposee", porteur=""):
    ms = tuple(MembreVue(d.id, d.finess_ej, d.raison_sociale_ej,
                         tuple(e.finess_et for e in d.esms), "") for d in members)
    return GrappeVue(gid, 1, f"G{gid}", "PA", ("37",), "24", statut,
                     porteur or members[0].finess_ej, 1000.0, len(ms), (), (), ms, False, 3)


def test_members_table_names_beside_finess():
    a, b = decl(1, "370000001"), decl(2, "370000002")
    g = grappe(10, [a, b], porteur="370000002")
    t = re_.membres_detail(g, {1: a})  # b not readable: FINESS only
    assert list(t.columns) == list(re_.MEMBRES_COLUMNS)
    assert t.iloc[0].to_dict() == {
        "OG (FINESS EJ)": "370000001", "nom de l'OG": "OG 1", "FINESS ET": "370000001",
        "nom de l'ESMS": "EHPAD 1", "champ": "personnes âgées", "département": "37",
        "porteur": "non"}
    assert t.iloc[1]["nom de l'ESMS"] == "" and t.iloc[1]["porteur"] == "oui"


def test_free_declarations_same_field_in_no_live_grappe():
    a, b, c, d, e, f = (decl(1, "370000001"), decl(2, "370000002"), decl(3, "370000003"),
                        decl(4, "370000004", champ="PH"), decl(5, "370000005"),
                        decl(6, "370000006", statut="retiree"))
    g = grappe(10, [a])
    other = grappe(11, [b])
    dead = grappe(12, [e], statut="incomplete")
    free = re_.candidats(g, [a, b, c, d, e, f], [g, other, dead])
    assert [x.id for x in free] == [3, 5]  # c, and e whose grappe is no longer in play
    assert "OG 370000003" in re_.libelle_declaration(c) and "département 37" in \
        re_.libelle_declaration(c)


def test_porteur_choices_and_edit_arguments():
    a, b, c = decl(1, "370000001"), decl(2, "370000002"), decl(3, "370000003")
    g = grappe(10, [a, b])
    assert re_.porteurs_possibles(g, [1], [c]) == ["370000002", "370000003"]
    assert re_.arguments_modification(g, [], [], g.porteur_ej) is None
    assert re_.arguments_modification(g, [1], [3], "370000003") == {
        "grappe_id": 10, "version": 3, "retirer": [1], "ajouter": [3],
        "porteur_ej": "370000003"}
    assert re_.arguments_modification(g, [2], [], g.porteur_ej)["porteur_ej"] is None


def test_recheck_in_french_with_vocabulary_labels():
    bad = EvaluationGrappe(10, "G10", False, (("trop_peu_esms", "7 ESMS, il en faut 10"),),
                           123456.0, 40, 100, "370000001", 4)
    assert re_.regles_text(bad) == ["trop petit : 7 ESMS, il en faut 10"]
    assert re_.resume(bad) == {"Validité": "non valide (1 règle(s))", "Montant": "123 456 €",
                               "Points de la grille": "40 / 100"}
    ok = EvaluationGrappe(10, "G10", True, (), 1e6, 70, 100, "370000001", 5)
    assert re_.resume(ok)["Validité"] == "valide" and re_.regles_text(ok) == []
