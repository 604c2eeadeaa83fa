"""The text of ``docs/formats-sorties.md``, made from the column declarations.

``python -m grappes.exports.formats_doc > docs/formats-sorties.md`` rewrites it; a test
checks that the file in ``docs/`` is up to date, so the documentation of every column of
every file the tool writes can never drift from the code.
"""

from __future__ import annotations

from grappes.exports.files import FILES, written_columns

KIND_TEXT: dict[str, str] = {
    "texte": "texte (libellé)",
    "code": "code (texte)",
    "entier": "nombre entier",
    "euros": "montant en euros (entier si rond, sinon virgule décimale)",
    "km": "kilomètres, une décimale",
    "decimal": "nombre à virgule décimale",
    "oui_non": "oui / non (vide : inconnu)",
}

INTRO = """# Fichiers écrits par grappes (formats de sortie)

Ce document est produit à partir du code (`python -m grappes.exports.formats_doc`) : il
liste chaque colonne de chaque fichier, dans l'ordre où elle est écrite.

## Règles communes (pour Excel en français)

- CSV : séparateur `;`, encodage UTF-8 avec BOM, virgule décimale (`27,1`), montants ronds
  sans décimale (`700000`, jamais `700000.0`), `oui` / `non` pour les booléens, cellule vide
  pour une valeur inconnue ;
- en-têtes en mots français (« FINESS ET », « Raison sociale de l'OG », « Statut du DUI ») ;
  chaque colonne a aussi un nom stable pour les programmes (`finess_et`, `dui_statut`), donné
  ci-dessous : les fichiers écrits avant ces en-têtes (première ligne = les noms) sont relus
  tels quels par `grappes chiffrer`, `grappes selectionner`, `grappes suivi enregistrer` et la page
  « Suivi » ;
- les colonnes de texte portent des libellés (« à mettre à niveau ») ; quand un programme a
  besoin du code, il est dans sa propre colonne « … (code) » (nom `*_code`, lue en priorité
  par `grappes chiffrer`, seule lue par `grappes suivi enregistrer`), et ces colonnes de codes
  sont regroupées à la fin du fichier ;
- noms des fichiers et des colonnes déclarés une seule fois (`grappes/exports/files.py`),
  pour ceux qui les écrivent et ceux qui les relisent ; `grappes registre exporter` écrit les
  mêmes fichiers, un dossier `appariement-N/` par appariement ;
- une cellule de texte qui commence par `=`, `+`, `-` ou `@` est précédée d'une apostrophe
  (elle ne peut pas s'exécuter comme une formule) ;
- XLSX (`grappes.xlsx`, écrit avec xlsxwriter) : les feuilles `grappes`, `etablissements`,
  `financements`, `financements_og` reprennent les quatre tableaux CSV (mêmes colonnes),
  montants en nombres au format euro (`#,##0 "€"`, affiché `1 030 000 €`), distances avec
  une décimale, filtres d'en-tête et première ligne figée ; puis une feuille
  `dossier <grappe>` par grappe ;
- `grappes proposer --sortie`, `grappes proposer --sortie --xlsx` et les téléchargements de
  l'application écrivent les mêmes fichiers CSV pour un même scénario ;
- relecture tolérante : `grappes chiffrer` et `grappes selectionner` acceptent la virgule et le
  point décimaux, `oui`/`non`, `True`/`False`, `vrai`/`faux`, `1`/`0`.

## Vocabulaire

- **valide** : la grappe respecte toutes les règles dures de l'appel (seuils, OG, champ,
  DUI unique, OG non scindé) **et** la règle de distance du solveur : chaque OG à au plus
  50 km du centre de la grappe. Les totaux (financement, points) ne comptent que les
  grappes valides ; les autres sont listées à part avec leurs règles enfreintes.
- **criteres_calcules** : points des critères de la grille que les données permettent de
  calculer (ESMS isolé, plusieurs OG, plusieurs départements) : ce que le solveur maximise.
- **points_grille** / **points_max** : le score sur la grille de priorisation (20 points
  en 2021), critères déclarés et impliqués par le financement compris.
- **distance** : toujours la distance à vol d'oiseau jusqu'au **centre** de la grappe
  (moyenne sphérique de ses ESMS) ; pour un OG ou un ESMS qui pourrait rejoindre une
  grappe (`partenaires`, quasi-grappe), du centre de ses ESMS au centre de la grappe.
- **identifiant de grappe** : `champ-région-numéro`, numérotées par le plus petit FINESS ET
  de leurs ESMS du champ ; stable pour une même entrée, un même jeu de règles et les mêmes
  réglages du solveur, quels que soient les autres champs résolus. Un identifiant désigne
  toujours les mêmes ESMS d'un périmètre à l'autre : sur « tous les champs », une grappe qui
  reçoit des ESMS d'un autre champ de ses OG s'appelle `PA+-24-003` (même numéro que la
  grappe `PA-24-003` du seul champ PA, le « + » dit qu'elle a plus de membres).
"""

COST_FILES = """
## Fichiers de `grappes chiffrer --sortie`

- `couts.csv` : `grappe`, `champ`, `valide` (oui/non), `nb_membres`, `nb_esms_comptes`,
  `nb_finances`, `type_projet`, `type_projet_code`, `editeur`, `editeur_segur` (oui/non),
  `porteur`, `financement` (euros), `sons_editeur` (euros), `points_grille`, `points_max`,
  `departements`, `par_region`, `nb_regles_enfreintes` ;
- `lignes_financement.csv` : `grappe`, `code`, `ligne`, `base_code`, `quantite`,
  `montant_unitaire` (euros), `montant` (euros), `levier_code`, `beneficiaire` ;
- `versements.csv` : `grappe`, `versement`, `part` (décimal), `montant` (euros) ;
- `violations.csv` : `grappe`, `code`, `message`, `esms` ;
- `eligibilite.csv` : `grappe`, `constat`.

## Fichiers de `grappes selectionner --sortie`

`selection.csv`, `non_retenues.csv`, `fenetres.csv` : mêmes règles d'écriture ; les grappes
invalides ne sont pas candidates (elles sont citées à part).
"""


def render() -> str:
    """The whole Markdown document."""
    parts = [INTRO]
    for name in FILES:
        parts.append(f"\n## `{name}`\n\n| en-tête | nom | type | signification |\n"
                     "|---|---|---|---|")
        for c in written_columns(name):
            parts.append(f"| {c.header} | `{c.name}` | {KIND_TEXT.get(c.kind, c.kind)} | "
                         f"{c.meaning} |")
    parts.append(COST_FILES)
    return "\n".join(parts).rstrip() + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(render(), end="")
