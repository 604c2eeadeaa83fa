"""The names of the files the tool writes and of their columns: one vocabulary for the
writers and the readers.

``grappes proposer --sortie`` (CSV set, ``grappes.xlsx``), the app's downloads (the same CSV
bytes and workbook) and ``grappes registre exporter`` (the same set per proposal, in
``appariement-<n>/``) all write these columns; ``grappes chiffrer`` and
``grappes suivi enregistrer`` read them back by these names, never by a copy of the string.
Each column is declared once with its kind (how French Excel shows it) and its meaning;
``docs/formats-sorties.md`` is generated from here (``grappes.exports.formats_doc``).

Text columns carry labels (« à mettre à niveau »); a program reads the code from the
``<name>_code`` column (:func:`code_column`), never the label.

Each column has a ``name`` (the identifier the code uses, stable) and a ``header`` (French
words, what the file's first row says: « Statut du DUI », « Statut du DUI (code) »). The
writers put the headers in the files with the code columns last (:func:`written_columns`);
the readers map a file's first row back to the names with :func:`reading_names`, which knows
the headers AND the names: files written by versions before issue 20, whose first row was the
names (``dui_statut_code``), are read as before.

Light on purpose (no pandas, no solver): a reader imports it without the writers' weight.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from grappes.core.model import ETAB_COLUMNS

# --------------------------------------------------------------------------- file names

GRAPPES_CSV = "grappes.csv"
ETABLISSEMENTS_CSV = "etablissements.csv"
FINANCEMENTS_CSV = "financements.csv"
#: each OG's share of its grappe's funding (``grappes.scenarios.og_view``)
FINANCEMENTS_OG_CSV = "financements_og.csv"
#: the workbook of ``proposer --sortie --xlsx``, of the app and of the registry export
XLSX_FILE = "grappes.xlsx"
#: the scenario file written beside the CSV set by ``proposer --sortie`` (names the rule set)
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
    """One output column: its name (identifier for programs), its kind (``texte``, ``code``,
    ``entier``, ``euros``, ``km``, ``decimal``, ``oui_non``), its meaning and its header (the
    French words of the file's first row)."""

    name: str
    kind: str
    meaning: str
    header: str = ""


def _cols(*specs: tuple[str, str, str, str]) -> tuple[Column, ...]:
    """Columns from ``(name, header, kind, meaning)``."""
    return tuple(Column(name, kind, meaning, header) for name, header, kind, meaning in specs)


def is_code_column(name: str) -> bool:
    """A column for programs (``dui_statut_code``, the funding line's ``code``): written last,
    after the columns people read."""
    return name == "code" or name.endswith("_code")


GRAPPES_COLUMNS: tuple[Column, ...] = _cols(
    ("grappe", "Grappe", "code",
     "identifiant de la grappe : champ-région-numéro (stable pour une même "
     "entrée et un même jeu de règles) ; « PA+-24-003 » : la grappe PA-24-003 avec des "
     "ESMS d'autres champs de ses OG (tous les champs) ; un identifiant désigne les mêmes "
     "ESMS d'un périmètre à l'autre"),
    ("champ", "Champ", "code", "champ de la grappe (PA, PH, DOM, PDS, PDE, AHI, PJM)"),
    ("valide", "Valide", "oui_non",
     "la grappe respecte toutes les règles dures de l'appel, distance de "
     "50 km au centre comprise"),
    ("regles_enfreintes", "Règles non respectées", "texte",
     "règles dures non respectées, séparées par « | »"),
    ("nb_esms", "Nombre d'ESMS", "entier", "nombre d'ESMS membres"),
    ("nb_og", "Nombre d'OG", "entier", "nombre d'OG (FINESS EJ) membres"),
    ("og", "OG (FINESS EJ)", "texte", "FINESS EJ des OG, séparés par des virgules"),
    ("departements", "Départements", "texte", "départements des membres"),
    ("regions", "Régions", "texte", "régions des membres"),
    ("statut", "Statut juridique", "texte",
     "statut juridique le plus fréquent parmi les ESMS (libellé)"),
    ("statut_code", "Statut juridique (code)", "code", "le même statut, en code"),
    ("criteres_calcules", "Points des critères calculés", "entier",
     "points des critères de la grille calculés à partir des "
     "données (ESMS isolé, plusieurs OG, plusieurs départements) : ce que le solveur maximise"),
    ("points_grille", "Points de la grille", "entier",
     "score sur la grille de priorisation : critères calculés, "
     "déclarés et impliqués par le financement"),
    ("points_max", "Points possibles", "entier", "maximum de la grille (20 pour 2021)"),
    ("detail_points", "Détail des points", "texte",
     "points obtenus par critère (libellé de la grille : points), séparés par « | »"),
    ("porteur", "Porteur (FINESS EJ)", "code", "FINESS EJ de l'OG porteur du projet"),
    ("porteur_nom", "Raison sociale du porteur", "texte", "raison sociale de l'OG porteur"),
    ("financement", "Financement ESMS numérique", "euros",
     "financement ESMS numérique de la grappe (hors SONS)"),
    ("sons_editeur", "SONS versé à l'éditeur", "euros",
     "financement SONS versé à l'éditeur (hors total)"),
    ("type_projet", "Type de projet", "texte", "type de projet (libellé)"),
    ("type_projet_code", "Type de projet (code)", "code",
     "type de projet en code (acquisition, conformite, "
     "deploiement, mixte, aucun)"),
    ("editeur", "Solution DUI commune", "texte",
     "solution DUI commune (éditeur déjà le plus utilisé)"),
    ("distance_moyenne_km", "Distance moyenne au centre (km)", "km",
     "distance moyenne des ESMS au centre de la grappe"),
    ("distance_max_km", "Distance maximale au centre (km)", "km",
     "plus grande distance d'un ESMS au centre de la grappe"),
    ("alertes", "Alertes", "texte", "points d'attention du solveur, séparés par « | »"),
)

ETAB_EXTRA_COLUMNS: tuple[Column, ...] = _cols(
    ("grappe", "Grappe", "code", "grappe de l'établissement (vide : aucune)"),
    ("porteur", "Porteur (FINESS EJ)", "code",
     "FINESS EJ du porteur de sa grappe (vide : aucune grappe)"),
    ("og_porteur", "OG porteur", "oui_non", "l'OG de l'établissement porte le projet de sa grappe"),
    ("type_projet", "Type de projet", "texte", "type de projet de l'ESMS dans sa grappe (libellé)"),
    ("type_projet_code", "Type de projet (code)", "code",
     "le même, en code (acquisition, conformite, exclu…)"),
    ("raison", "Pourquoi sans grappe", "texte", "pourquoi l'ESMS est sans grappe"),
    ("raison_code", "Pourquoi sans grappe (code)", "code", "la même raison, en code"),
    ("quasi_grappe", "Grappe presque rejointe", "texte",
     "grappe (ou OG) la plus proche qu'il aurait presque pu rejoindre"),
    ("quasi_grappe_km", "Distance à cette grappe (km)", "km",
     "distance de son OG au centre de cette grappe"),
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


_ETAB_HEADERS: dict[str, str] = {
    "finess_et": "FINESS ET",
    "finess_ej": "FINESS EJ",
    "raison_sociale": "Raison sociale de l'ESMS",
    "raison_sociale_ej": "Raison sociale de l'OG",
    "categorie": "Catégorie FINESS",
    "categorie_libelle": "Catégorie",
    "champ": "Champ",
    "medicalise": "Médicalisé",
    "sanitaire": "Sanitaire",
    "statut_juridique": "Statut juridique FINESS",
    "statut_agrege": "Statut juridique regroupé",
    "commune": "Commune (code INSEE)",
    "commune_nom": "Commune",
    "departement": "Département",
    "region": "Région",
    "derogatoire": "Corse ou outre-mer",
    "lon": "Longitude",
    "lat": "Latitude",
    "source_coordonnees": "Origine des coordonnées",
    "capacite": "Capacité (places)",
    "dui_editeur": "Éditeur du DUI",
    "dui_statut": "Statut du DUI",
    "editeur_segur": "Éditeur référencé Ségur",
    "deja_finance": "Déjà financé",
    "og_nb_esms": "ESMS gérés par l'OG",
    "og_typologie": "Typologie de l'OG",
    "og_sanitaire": "OG gérant du sanitaire",
    "autonome": "ESMS autonome",
    "ligne": "Ligne du fichier d'entrée",
}


def code_header(header: str) -> str:
    """The header of a label column's code column (« Statut du DUI (code) »)."""
    return f"{header} (code)"


def _etab_columns() -> tuple[Column, ...]:
    out = []
    for col, (dtype, _) in ETAB_COLUMNS.items():
        name = RENAMED.get(col, col)
        kind = _ETAB_KINDS.get(dtype, "texte")
        if name in ("finess_et", "finess_ej", "categorie", "statut_juridique", "commune",
                    "departement", "region", "champ"):
            kind = "code"
        header = _ETAB_HEADERS[name]
        out.append(Column(name, kind, _ETAB_MEANINGS[name], header))
        if name in LABELLED_COLUMNS:
            out.append(Column(code_column(name), "code", f"{_ETAB_MEANINGS[name]}, en code",
                              code_header(header)))
    return tuple(out)


ETABLISSEMENTS_COLUMNS: tuple[Column, ...] = _etab_columns() + ETAB_EXTRA_COLUMNS

FINANCEMENTS_COLUMNS: tuple[Column, ...] = _cols(
    ("grappe", "Grappe", "code", "grappe financée"),
    ("valide", "Valide", "oui_non",
     "la grappe respecte les règles dures (sinon : non comptée dans les "
     "totaux)"),
    ("code", "Ligne de financement (code)", "code",
     "code de la ligne de financement dans le jeu de règles"),
    ("ligne", "Ligne de financement", "texte", "libellé de la ligne de financement"),
    ("base", "Base de calcul", "texte", "base de calcul (libellé)"),
    ("base_code", "Base de calcul (code)", "code",
     "base de calcul en code (per_esms, per_esms_small_og, per_project)"),
    ("quantite", "Quantité", "entier", "nombre d'ESMS ou de projets financés sur cette ligne"),
    ("montant_unitaire", "Montant unitaire", "euros", "montant par unité"),
    ("montant", "Montant", "euros", "montant de la ligne"),
    ("levier", "Levier", "texte", "levier (ESMS numérique, ou SONS versé à l'éditeur)"),
    ("levier_code", "Levier (code)", "code", "levier en code (esms_numerique, sons)"),
    ("beneficiaire", "Bénéficiaire", "texte", "bénéficiaire du versement"),
)

FINANCEMENTS_OG_COLUMNS: tuple[Column, ...] = _cols(
    ("grappe", "Grappe", "code", "grappe de l'OG"),
    ("og_nom", "Nom de l'OG", "texte", "raison sociale de l'OG"),
    ("finess_ej", "FINESS EJ", "code", "FINESS EJ de l'OG"),
    ("valide", "Valide", "oui_non",
     "la grappe respecte les règles dures (sinon : non comptée dans les "
     "totaux)"),
    ("porteur", "Porteur du projet", "oui_non",
     "l'OG porte le projet de la grappe (il reçoit les lignes par projet)"),
    ("nb_esms", "ESMS de l'OG dans la grappe", "entier", "nombre d'ESMS de l'OG dans la grappe"),
    ("financement_og", "Part de l'OG", "euros",
     "part de l'OG dans le financement ESMS numérique de la grappe "
     "(hors SONS) : la somme des parts des OG d'une grappe est son financement"),
    ("par_esms", "Lignes par ESMS", "euros",
     "lignes par ESMS financé (acquisition, mise en conformité…) pour les "
     "ESMS de l'OG"),
    ("equipement_petits_og", "Équipement des petits OG", "euros",
     "lignes par ESMS d'un petit OG (équipements) pour les "
     "ESMS de l'OG"),
    ("par_projet", "Lignes par projet (porteur)", "euros",
     "lignes par projet (AMOA…), versées au porteur"),
    ("sons_editeur", "SONS versé à l'éditeur", "euros",
     "part SONS versée à l'éditeur pour les ESMS de l'OG (hors total)"),
    ("financement_grappe", "Financement de la grappe", "euros",
     "financement ESMS numérique de toute la grappe"),
    ("distance_centre_km", "Distance au centre de la grappe (km)", "km",
     "distance du centre de l'OG (ses ESMS) au centre de la grappe"),
    ("partenaire_le_plus_loin", "Partenaire le plus éloigné", "texte",
     "OG partenaire le plus éloigné : nom (FINESS EJ)"),
    ("partenaire_le_plus_loin_km", "Distance au partenaire le plus éloigné (km)", "km",
     "distance entre les centres des deux OG"),
    ("detail_lignes", "Détail des lignes", "texte",
     "lignes de l'OG « libellé (ESMS) : montant », séparées par « | »"),
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


def written_columns(file_name: str) -> tuple[Column, ...]:
    """A file's columns in the order written: the columns people read, then the code
    columns (:func:`is_code_column`) together at the end."""
    columns = FILES[file_name]
    return (tuple(c for c in columns if not is_code_column(c.name))
            + tuple(c for c in columns if is_code_column(c.name)))


def header_kinds(file_name: str) -> dict[str, str]:
    """Header -> kind, for the writers of ``file_name`` (the table renamed to its headers)."""
    return {c.header: c.kind for c in FILES[file_name]}


def reading_names(*file_names: str) -> dict[str, str]:
    """What a reader of ``file_names`` accepts in a first row -> the column's name: each
    header (« Statut du DUI (code) ») and each name (``dui_statut_code``: files written
    before the headers were French), compared exactly: the old name ``commune`` (the INSEE
    code) is not the header « Commune » (the name of the commune)."""
    out: dict[str, str] = {}
    for file_name in file_names:
        for c in FILES[file_name]:
            out[c.header] = c.name
            out.setdefault(c.name, c.name)
    return out


def header_of(file_name: str, name: str) -> str:
    """The header of the column ``name`` of ``file_name`` (the name itself if unknown)."""
    return next((c.header for c in FILES[file_name] if c.name == name), name)


def column_names(first_row: Sequence[str], *file_names: str) -> list[str]:
    """A file's first row as the names of ``file_names``'s columns; a cell that is neither a
    header nor a name of these files is kept as it is (stripped of spaces and of the
    apostrophe the writers put before a formula-like cell)."""
    known = reading_names(*file_names)
    out = []
    for cell in first_row:
        text = str(cell).strip().lstrip("'").strip()
        out.append(known.get(text, text))
    return out
