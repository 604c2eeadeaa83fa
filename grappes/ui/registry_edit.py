"""The coordinator's what-if edit of a proposed grappe (page « Mise en relation »).

The page stays thin: this module builds what it shows (members with their FINESS, field and
département; the declarations that may join; the porteur choices; the re-check in French)
and the arguments of ``Registry.modifier_grappe``. Everything is read from the API's views
(``grappes.registry.vues``); nothing here touches the database or decides who may do what.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from grappes.core.formatting import euros
from grappes.core.vocabulary import CHAMP_LABELS, VIOLATION_LABELS, label_of
from grappes.registry.vues import DeclarationVue, EvaluationGrappe, GrappeVue

#: grappe states whose members are taken (a declaration in one of them is not "free")
ETATS_OCCUPES = frozenset({"proposee", "invitations_envoyees", "acceptee", "constituee"})

MEMBRES_COLUMNS = ("OG (FINESS EJ)", "nom de l'OG", "FINESS ET", "nom de l'ESMS", "champ",
                   "département", "porteur")


def membres_detail(g: GrappeVue, declarations: Mapping[int, DeclarationVue]) -> pd.DataFrame:
    """One row per member ESMS: the names with their FINESS beside them, field, département
    and whether its OG carries the project. ESMS of a declaration the caller cannot read
    keep their FINESS only."""
    rows = []
    for m in g.membres:
        d = declarations.get(m.declaration_id)
        esms = {e.finess_et: e for e in d.esms} if d is not None else {}
        for et in m.esms:
            e = esms.get(et)
            rows.append({
                "OG (FINESS EJ)": m.finess_ej,
                "nom de l'OG": m.raison_sociale_ej,
                "FINESS ET": et,
                "nom de l'ESMS": e.raison_sociale if e else "",
                "champ": label_of(e.champ, CHAMP_LABELS) if e else "",
                "département": e.departement if e else "",
                "porteur": "oui" if m.finess_ej == g.porteur_ej else "non",
            })  # fmt: skip
    return pd.DataFrame(rows, columns=list(MEMBRES_COLUMNS))


def candidats(g: GrappeVue, declarations: Iterable[DeclarationVue],
              grappes: Iterable[GrappeVue]) -> list[DeclarationVue]:
    """Active declarations of the territory that may join ``g``: at least one ESMS of its
    field, and member of no grappe still in play (proposed, invited, accepted, constituted)."""
    taken = {m.declaration_id for x in grappes if x.statut in ETATS_OCCUPES for m in x.membres}
    taken |= {m.declaration_id for m in g.membres}
    return [d for d in declarations
            if d.statut == "active" and d.id not in taken
            and any(e.champ == g.champ for e in d.esms)]


def libelle_declaration(d: DeclarationVue) -> str:
    """« OG 370016669 — nom (département 37, 2 ESMS PA) » for pick lists."""
    n = len(d.esms)
    return (f"OG {d.finess_ej} — {d.raison_sociale_ej or 'sans nom'} "
            f"(département {d.departement}, {n} ESMS)")


def porteurs_possibles(g: GrappeVue, retirer: Sequence[int],
                       ajouter: Sequence[DeclarationVue]) -> list[str]:
    """The OGs (FINESS EJ) that will be members after the edit: the porteur is one of them."""
    gone = set(retirer)
    ogs = [m.finess_ej for m in g.membres if m.declaration_id not in gone]
    ogs += [d.finess_ej for d in ajouter]
    return list(dict.fromkeys(ogs))


def arguments_modification(g: GrappeVue, retirer: Sequence[int], ajouter: Sequence[int],
                           porteur_ej: str | None) -> dict | None:
    """Keyword arguments of ``Registry.modifier_grappe`` for this edit (with the version
    read, for the optimistic lock); None when the edit changes nothing."""
    porteur = porteur_ej if porteur_ej and porteur_ej != g.porteur_ej else None
    if not retirer and not ajouter and porteur is None:
        return None
    return {"grappe_id": g.id, "version": g.version, "retirer": list(retirer),
            "ajouter": list(ajouter), "porteur_ej": porteur}


def regles_text(ev: EvaluationGrappe) -> list[str]:
    """Each broken rule as « label : message » (labels of ``VIOLATION_LABELS``)."""
    return [f"{label_of(code, VIOLATION_LABELS)} : {message}" for code, message in ev.regles]


def resume(ev: EvaluationGrappe) -> dict[str, str]:
    """The three figures shown above the members: validity, amount, grid points."""
    return {
        "Validité": "valide" if ev.valide else f"non valide ({len(ev.regles)} règle(s))",
        "Montant": euros(ev.total),
        "Points de la grille": f"{ev.points} / {ev.points_max}",
    }
