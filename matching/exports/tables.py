"""The one builder of each output table: ``grappes.csv``, ``etablissements.csv``,
``financements.csv``.

``grappes propose --out`` (with or without ``--xlsx``) and the app's downloads all call these
functions on a :class:`matching.scenarios.scenario.Scenario`, so the same scenario gives the
same files byte for byte. Every column is declared once in the ``*_COLUMNS`` tables below
with its kind (how French Excel shows it) and its meaning; ``docs/formats-sorties.md`` lists
them all and a test keeps the two in step.

Values stay typed here (bool, int, float, text); ``matching.exports.french_excel`` turns them
into what French Excel reads (``oui``/``non``, decimal comma, whole euros, euro format in the
workbook). Text columns carry labels ("à mettre à niveau"); where a program needs the code it
sits in its own ``*_code`` column, which ``grappes cost`` reads first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from matching.core.model import ETAB_COLUMNS
from matching.core.vocabulary import DUI_STATUT_LABELS, STATUT_LABELS, TYPOLOGIE_LABELS
from matching.programme.costing import PROJECT_TYPE_LABELS
from matching.programme.reach import grappe_distances
from matching.programme.validate import text_column
from matching.scenarios.scenario import Scenario

# --------------------------------------------------------------------------- labels

COORD_LABELS: dict[str, str] = {
    "fichier": "coordonnées du fichier",
    "centroide_commune": "centroïde de la commune",
    "aucune": "aucune",
}
TYPE_LABELS: dict[str, str] = {**PROJECT_TYPE_LABELS, "exclu": "non financé (exclu)"}
BASIS_LABELS: dict[str, str] = {
    "per_esms": "par ESMS financé",
    "per_esms_small_og": "par ESMS financé d'un petit OG",
    "per_project": "par projet",
}
LEVER_LABELS: dict[str, str] = {
    "esms_numerique": "ESMS numérique",
    "sons": "SONS (versé à l'éditeur, hors total)",
}
#: establishments columns written as a label, with the code in ``<name>_code``
LABELLED: dict[str, dict[str, str]] = {
    "statut_agrege": {k: v for k, v in STATUT_LABELS.items() if k},
    "dui_statut": DUI_STATUT_LABELS,
    "og_typologie": TYPOLOGIE_LABELS,
    "source_coordonnees": COORD_LABELS,
}
#: output name of normalised columns whose name was not French
RENAMED: dict[str, str] = {"coord_source": "source_coordonnees"}


@dataclass(frozen=True)
class Column:
    """One output column: its kind (``texte``, ``code``, ``entier``, ``euros``, ``km``,
    ``decimal``, ``oui_non``) and its meaning, in French."""

    name: str
    kind: str
    meaning: str


def _cols(*specs: tuple[str, str, str]) -> tuple[Column, ...]:
    return tuple(Column(*s) for s in specs)


GRAPPES_COLUMNS: tuple[Column, ...] = _cols(
    ("grappe", "code", "identifiant de la grappe : champ-région-numéro (stable pour une même "
     "entrée, un même jeu de règles et un même périmètre)"),
    ("champ", "code", "champ de la grappe (PA, PH, DOM, PDS, PDE, AHI, PJM)"),
    ("valide", "oui_non", "la grappe respecte toutes les règles dures de l'appel, distance de "
     "50 km au centre comprise"),
    ("regles_enfreintes", "texte", "règles dures non respectées, séparées par « | »"),
    ("nb_esms", "entier", "nombre d'ESMS membres"),
    ("nb_og", "entier", "nombre d'OG (FINESS EJ) membres"),
    ("og", "texte", "FINESS EJ des OG, séparés par des virgules"),
    ("departements", "texte", "départements des membres"),
    ("regions", "texte", "régions des membres"),
    ("statut", "texte", "statut juridique le plus fréquent parmi les ESMS (libellé)"),
    ("statut_code", "code", "le même statut, en code"),
    ("criteres_calcules", "entier", "points des critères de la grille calculés à partir des "
     "données (ESMS isolé, plusieurs OG, plusieurs départements) : ce que le solveur maximise"),
    ("points_grille", "entier", "score sur la grille de priorisation : critères calculés, "
     "déclarés et impliqués par le financement"),
    ("points_max", "entier", "maximum de la grille (20 pour 2021)"),
    ("detail_points", "texte",
     "points obtenus par critère (libellé de la grille : points), séparés par « | »"),
    ("porteur", "code", "FINESS EJ de l'OG porteur du projet"),
    ("porteur_nom", "texte", "raison sociale de l'OG porteur"),
    ("financement", "euros", "financement ESMS numérique de la grappe (hors SONS)"),
    ("sons_editeur", "euros", "financement SONS versé à l'éditeur (hors total)"),
    ("type_projet", "texte", "type de projet (libellé)"),
    ("type_projet_code", "code", "type de projet en code (acquisition, conformite, "
     "deploiement, mixte, aucun)"),
    ("editeur", "texte", "solution DUI commune (éditeur déjà le plus utilisé)"),
    ("distance_moyenne_km", "km", "distance moyenne des ESMS au centre de la grappe"),
    ("distance_max_km", "km", "plus grande distance d'un ESMS au centre de la grappe"),
    ("alertes", "texte", "points d'attention du solveur, séparés par « | »"),
)

ETAB_EXTRA_COLUMNS: tuple[Column, ...] = _cols(
    ("grappe", "code", "grappe de l'établissement (vide : aucune)"),
    ("porteur", "code", "FINESS EJ du porteur de sa grappe (vide : aucune grappe)"),
    ("og_porteur", "oui_non", "l'OG de l'établissement porte le projet de sa grappe"),
    ("type_projet", "texte", "type de projet de l'ESMS dans sa grappe (libellé)"),
    ("type_projet_code", "code", "le même, en code (acquisition, conformite, exclu…)"),
    ("raison", "texte", "pourquoi l'ESMS est sans grappe"),
    ("raison_code", "code", "la même raison, en code"),
    ("quasi_grappe", "texte", "grappe (ou OG) la plus proche qu'il aurait presque pu rejoindre"),
    ("quasi_grappe_km", "km", "distance de son OG au centre de cette grappe"),
)

_ETAB_KINDS = {"string": "texte", "boolean": "oui_non", "float64": "decimal", "int64": "entier"}
_ETAB_MEANINGS: dict[str, str] = {
    "finess_et": "numéro FINESS de l'établissement (9 caractères)",
    "finess_ej": "numéro FINESS de l'organisme gestionnaire (OG)",
    "raison_sociale": "nom de l'établissement",
    "raison_sociale_ej": "nom de l'OG",
    "categorie": "code de catégorie FINESS (3 chiffres)",
    "categorie_libelle": "libellé de la catégorie",
    "champ": "champ du programme (PA, PH, DOM, PDS, PDE, AHI, PJM ou hors_champ)",
    "medicalise": "financé principalement par l'Assurance maladie",
    "sanitaire": "établissement sanitaire",
    "statut_juridique": "code FINESS du statut juridique de l'OG (2 chiffres)",
    "statut_agrege": "statut juridique regroupé (libellé)",
    "commune": "code INSEE de la commune",
    "commune_nom": "nom de la commune",
    "departement": "code INSEE du département",
    "region": "code INSEE de la région",
    "derogatoire": "Corse ou outre-mer (seuil de 8 ESMS au lieu de 15)",
    "lon": "longitude WGS84 (degrés)",
    "lat": "latitude WGS84 (degrés)",
    "source_coordonnees": "origine des coordonnées (libellé)",
    "capacite": "capacité (places), vide si inconnue",
    "dui_editeur": "éditeur du DUI en place",
    "dui_statut": "état du DUI (libellé)",
    "editeur_segur": "éditeur référencé Ségur (vide : inconnu)",
    "deja_finance": "déjà financé par ESMS numérique ou par SONS pour un autre logiciel",
    "og_nb_esms": "nombre d'ESMS gérés par l'OG",
    "og_typologie": "typologie de l'OG (libellé)",
    "og_sanitaire": "l'OG gère aussi un établissement sanitaire",
    "autonome": "l'OG gère un seul ESMS et aucun établissement sanitaire",
    "ligne": "numéro de ligne dans le fichier d'entrée",
}


def _etab_columns() -> tuple[Column, ...]:
    out = []
    for col, (dtype, _) in ETAB_COLUMNS.items():
        name = RENAMED.get(col, col)
        kind = _ETAB_KINDS.get(dtype, "texte")
        if name in ("finess_et", "finess_ej", "categorie", "statut_juridique", "commune",
                    "departement", "region", "champ"):
            kind = "code"
        out.append(Column(name, kind, _ETAB_MEANINGS[name]))
        if name in LABELLED:
            out.append(Column(f"{name}_code", "code", f"{_ETAB_MEANINGS[name]}, en code"))
    return tuple(out)


ETABLISSEMENTS_COLUMNS: tuple[Column, ...] = _etab_columns() + ETAB_EXTRA_COLUMNS

FINANCEMENTS_COLUMNS: tuple[Column, ...] = _cols(
    ("grappe", "code", "grappe financée"),
    ("valide", "oui_non", "la grappe respecte les règles dures (sinon : non comptée dans les "
     "totaux)"),
    ("code", "code", "code de la ligne de financement dans le jeu de règles"),
    ("ligne", "texte", "libellé de la ligne de financement"),
    ("base", "texte", "base de calcul (libellé)"),
    ("base_code", "code", "base de calcul en code (per_esms, per_esms_small_og, per_project)"),
    ("quantite", "entier", "nombre d'ESMS ou de projets financés sur cette ligne"),
    ("montant_unitaire", "euros", "montant par unité"),
    ("montant", "euros", "montant de la ligne"),
    ("levier", "texte", "levier (ESMS numérique, ou SONS versé à l'éditeur)"),
    ("levier_code", "code", "levier en code (esms_numerique, sons)"),
    ("beneficiaire", "texte", "bénéficiaire du versement"),
)

#: file name -> its columns
FILES: dict[str, tuple[Column, ...]] = {
    "grappes.csv": GRAPPES_COLUMNS,
    "etablissements.csv": ETABLISSEMENTS_COLUMNS,
    "financements.csv": FINANCEMENTS_COLUMNS,
}


def kinds(columns: Sequence[Column]) -> dict[str, str]:
    """Column name -> kind, for the writers."""
    return {c.name: c.kind for c in columns}


# --------------------------------------------------------------------------- builders


def _join(values: Sequence[Any]) -> str:
    return ", ".join(str(v) for v in values)


def _labels(codes: pd.Series, labels: Mapping[str, str]) -> pd.Series:
    return codes.map(lambda c: labels.get(c, c)).astype("string")


def og_names(etab: pd.DataFrame) -> dict[str, str]:
    """FINESS EJ -> OG name (first non-empty)."""
    frame = pd.DataFrame({"ej": text_column(etab, "finess_ej"),
                          "nom": text_column(etab, "raison_sociale_ej")})
    frame = frame[frame["nom"] != ""].drop_duplicates("ej")
    return dict(zip(frame["ej"], frame["nom"], strict=True))


def grappes_table(s: Scenario) -> pd.DataFrame:
    """``grappes.csv``: one row per grappe (``GRAPPES_COLUMNS``)."""
    # criteria read by people: the grid's own wording, not the code
    criterion_labels = {c.code: c.label for c in s.rules.grid.criteria}
    criterion_labels.update({c.computed: c.label for c in s.rules.grid.criteria if c.computed})
    names = s.og_names()
    rows = []
    for g in s.grappes:
        members = s.members(g.id)
        cost = s.costs.get(g.id)
        vs = s.violations.get(g.id, [])
        counts = text_column(members, "statut_agrege").value_counts()
        statut = min((str(k) for k in counts.index if counts[k] == counts.max()), default="")
        detail = dict(g.points)
        if cost is not None:
            detail = {**cost.score.computed, **{k: v for k, v in cost.score.declared.items() if v}}
        porteur = (cost.porteur if cost is not None else "") or (g.porteur or "")
        mean_km, max_km = grappe_distances(members)
        rows.append({
            "grappe": g.id,
            "champ": g.champ,
            "valide": not vs,
            "regles_enfreintes": " | ".join(v.message for v in vs),
            "nb_esms": len(g.esms),
            "nb_og": len(g.og),
            "og": _join(g.og),
            "departements": _join(g.departements),
            "regions": _join(g.regions),
            "statut": STATUT_LABELS.get(statut, statut),
            "statut_code": statut,
            "criteres_calcules": int(sum(g.points.values())),
            "points_grille": int(cost.score.total) if cost is not None else None,
            "points_max": int(cost.score.max) if cost is not None else None,
            "detail_points": " | ".join(
                f"{criterion_labels.get(k, k).rstrip('. ')} : {v}" for k, v in detail.items()
            ),
            "porteur": porteur,
            "porteur_nom": names.get(porteur, ""),
            "financement": float(cost.total) if cost is not None else None,
            "sons_editeur": float(cost.sons_vendor) if cost is not None else None,
            "type_projet": TYPE_LABELS.get(cost.project_type, cost.project_type) if cost else "",
            "type_projet_code": cost.project_type if cost is not None else "",
            "editeur": (cost.vendor or "") if cost is not None else "",
            "distance_moyenne_km": mean_km,
            "distance_max_km": max_km,
            "alertes": " | ".join(g.warnings),
        })
    return pd.DataFrame(rows, columns=[c.name for c in GRAPPES_COLUMNS])


def etablissements_table(s: Scenario) -> pd.DataFrame:
    """``etablissements.csv``: every loaded establishment, its grappe and porteur, or why it
    has none (``ETABLISSEMENTS_COLUMNS``). ``grappes cost`` reads it back as it is."""
    table = s.etablissements.rename(columns=RENAMED).copy()
    table = table[[RENAMED.get(c, c) for c in ETAB_COLUMNS]]
    for col, labels in LABELLED.items():
        codes = text_column(table, col)
        table[col] = _labels(codes, labels)
        table.insert(table.columns.get_loc(col) + 1, f"{col}_code", codes)
    et = text_column(table, "finess_et")
    grappe_of = {e: g.id for g in s.grappes for e in g.esms}
    porteur_of = {g.id: ((s.costs[g.id].porteur if g.id in s.costs else "") or g.porteur or "")
                  for g in s.grappes}
    types: dict[str, str] = {}
    for g in s.grappes:
        if g.id in s.costs:
            types.update({e: t for e, t in s.costs[g.id].esms_types.items() if e in g.esms})
    grappe = et.map(grappe_of).astype("string").fillna("")
    porteur = grappe.map(porteur_of).astype("string").fillna("")
    table["grappe"] = grappe
    table["porteur"] = porteur
    table["og_porteur"] = (porteur != "") & (porteur == text_column(table, "finess_ej"))
    type_code = et.map(types).astype("string").fillna("")
    table["type_projet"] = _labels(type_code, TYPE_LABELS)
    table["type_projet_code"] = type_code
    un = s.unplaced.drop_duplicates("finess_et").set_index("finess_et")
    none = grappe == ""
    for out, col in (("raison", "reason"), ("raison_code", "code"), ("quasi_grappe", "near_miss")):
        values = (et.map(un[col].astype("string")) if col in un.columns
                  else pd.Series(pd.NA, index=et.index))
        table[out] = values.astype("string").fillna("").where(none, "")
    km = (et.map(pd.to_numeric(un["near_miss_km"], errors="coerce"))
          if "near_miss_km" in un.columns else pd.Series(float("nan"), index=et.index))
    table["quasi_grappe_km"] = km.astype("float64").where(none).round(1)
    return table.reset_index(drop=True)[[c.name for c in ETABLISSEMENTS_COLUMNS]]


def financements_table(s: Scenario) -> pd.DataFrame:
    """``financements.csv``: one row per funding line of each grappe
    (``FINANCEMENTS_COLUMNS``)."""
    rows = []
    for g in s.grappes:
        cost = s.costs.get(g.id)
        if cost is None:
            continue
        for ln in cost.lines:
            rows.append({
                "grappe": g.id,
                "valide": s.valid(g.id),
                "code": ln.code,
                "ligne": ln.label,
                "base": BASIS_LABELS.get(ln.basis, ln.basis),
                "base_code": ln.basis,
                "quantite": int(ln.quantity),
                "montant_unitaire": float(ln.unit_amount),
                "montant": float(ln.amount),
                "levier": LEVER_LABELS.get(ln.lever, ln.lever),
                "levier_code": ln.lever,
                "beneficiaire": ln.beneficiary,
            })
    return pd.DataFrame(rows, columns=[c.name for c in FINANCEMENTS_COLUMNS])


def tables(s: Scenario) -> dict[str, pd.DataFrame]:
    """The three tables, by file name, in order."""
    return {"grappes.csv": grappes_table(s), "etablissements.csv": etablissements_table(s),
            "financements.csv": financements_table(s)}
