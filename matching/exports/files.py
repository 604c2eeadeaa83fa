"""The names of the files the tool writes and of their columns: one vocabulary for the
writers and the readers.

``grappes propose --out`` (CSV set, ``grappes.xlsx``), the app's downloads (the same CSV
bytes and workbook) and ``grappes registre exporter`` (the same set per proposal, in
``appariement-<n>/``) all write these columns; ``grappes cost`` and
``grappes suivi enregistrer`` read them back by these names, never by a copy of the string.
Each column is declared once with its kind (how French Excel shows it) and its meaning;
``docs/formats-sorties.md`` is generated from here (``matching.exports.formats_doc``).

Text columns carry labels (« à mettre à niveau »); a program reads the code from the
``<name>_code`` column beside it (:func:`code_column`), never the label.

Light on purpose (no pandas, no solver): a reader imports it without the writers' weight.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from matching.core.model import ETAB_COLUMNS

# --------------------------------------------------------------------------- file names

GRAPPES_CSV = "grappes.csv"
ETABLISSEMENTS_CSV = "etablissements.csv"
FINANCEMENTS_CSV = "financements.csv"
#: each OG's share of its grappe's funding (``matching.scenarios.og_view``)
FINANCEMENTS_OG_CSV = "financements_og.csv"
#: the workbook of ``propose --out --xlsx``, of the app and of the registry export
XLSX_FILE = "grappes.xlsx"
#: the scenario file written beside the CSV set by ``propose --out`` (names the rule set)
SCENARIO_FILE = "scenario.json"
#: ``registre exporter``: one folder per proposal, ``appariement-<id>``
REGISTRY_RUN_PREFIX = "appariement-"
#: first cell of the dossier sheet's row naming the rule set (value in the second cell)
DOSSIER_RULES_ROW = "Règles appliquées"
DOSSIER_SHEET_PREFIX = "dossier "

#: establishments columns written as a label, with the code in ``<name>_code``
LABELLED_COLUMNS: tuple[str, ...] = ("statut_agrege", "dui_statut", "og_typologie",
                                     "source_coordonnees")
#: output name of normalised columns whose name was not French
RENAMED: dict[str, str] = {"coord_source": "source_coordonnees"}


def code_column(name: str) -> str:
    """The column holding the code of the labelled column ``name`` (``dui_statut_code``)."""
    return f"{name}_code"


def sheet_of(file_name: str) -> str:
    """The workbook sheet holding a CSV file's table (``grappes.csv`` -> ``grappes``)."""
    return file_name.removesuffix(".csv")


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
        if name in LABELLED_COLUMNS:
            out.append(Column(code_column(name), "code", f"{_ETAB_MEANINGS[name]}, en code"))
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

FINANCEMENTS_OG_COLUMNS: tuple[Column, ...] = _cols(
    ("grappe", "code", "grappe de l'OG"),
    ("og_nom", "texte", "raison sociale de l'OG"),
    ("finess_ej", "code", "FINESS EJ de l'OG"),
    ("valide", "oui_non", "la grappe respecte les règles dures (sinon : non comptée dans les "
     "totaux)"),
    ("porteur", "oui_non", "l'OG porte le projet de la grappe (il reçoit les lignes par projet)"),
    ("nb_esms", "entier", "nombre d'ESMS de l'OG dans la grappe"),
    ("financement_og", "euros", "part de l'OG dans le financement ESMS numérique de la grappe "
     "(hors SONS) : la somme des parts des OG d'une grappe est son financement"),
    ("par_esms", "euros", "lignes par ESMS financé (acquisition, mise en conformité…) pour les "
     "ESMS de l'OG"),
    ("equipement_petits_og", "euros", "lignes par ESMS d'un petit OG (équipements) pour les "
     "ESMS de l'OG"),
    ("par_projet", "euros", "lignes par projet (AMOA…), versées au porteur"),
    ("sons_editeur", "euros", "part SONS versée à l'éditeur pour les ESMS de l'OG (hors total)"),
    ("financement_grappe", "euros", "financement ESMS numérique de toute la grappe"),
    ("distance_centre_km", "km", "distance du centre de l'OG (ses ESMS) au centre de la grappe"),
    ("partenaire_le_plus_loin", "texte", "OG partenaire le plus éloigné : nom (FINESS EJ)"),
    ("partenaire_le_plus_loin_km", "km", "distance entre les centres des deux OG"),
    ("detail_lignes", "texte", "lignes de l'OG « libellé (ESMS) : montant », séparées par « | »"),
)

#: file name -> its columns
FILES: dict[str, tuple[Column, ...]] = {
    GRAPPES_CSV: GRAPPES_COLUMNS,
    ETABLISSEMENTS_CSV: ETABLISSEMENTS_COLUMNS,
    FINANCEMENTS_CSV: FINANCEMENTS_COLUMNS,
    FINANCEMENTS_OG_CSV: FINANCEMENTS_OG_COLUMNS,
}


def kinds(columns: Sequence[Column]) -> dict[str, str]:
    """Column name -> kind, for the writers."""
    return {c.name: c.kind for c in columns}
