"""The page's French dress and its first-screen texts (no logic: constants and one function).

Streamlit writes a few English strings of its own and declares ``lang="en"``. The script
below sets ``<html lang="fr">`` and makes the browser format numbers in French (tables use
``Intl.NumberFormat`` with ``navigator.languages``: without this a browser set to English
would show ``€700,000.00``). The CSS replaces the uploader's "Drag and drop file here /
Limit 200MB per file / Browse files" with French, and hides the tables' toolbar, whose
tooltips are English (the app offers its own French downloads instead), and names the main
page « Proposer des grappes » in the sidebar (Streamlit names it after the file, « app »).
"""

from __future__ import annotations

from matching.ui.upload import MAX_UPLOAD_MB

FRENCH_SCRIPT = """
<script>
(function () {
  const doc = (window.parent && window.parent.document) || document;
  doc.documentElement.lang = "fr";
  document.documentElement.lang = "fr";
  for (const nav of [navigator, (window.parent && window.parent.navigator) || navigator]) {
    try {
      Object.defineProperty(nav, "languages", {get: () => ["fr-FR", "fr"], configurable: true});
      Object.defineProperty(nav, "language", {get: () => "fr-FR", configurable: true});
    } catch (e) { /* already French */ }
  }
})();
</script>
"""

PAGE_CSS = f"""
<style>
[data-testid="stFileUploaderDropzoneInstructions"] {{ display: none; }}
[data-testid="stFileUploaderDropzone"] button {{ font-size: 0; }}
[data-testid="stFileUploaderDropzone"] button::after {{
  content: "Choisir un fichier"; font-size: 0.875rem; }}
[data-testid="stFileUploaderDropzone"]::before {{
  content: "Déposez le fichier ici (au plus {MAX_UPLOAD_MB} Mo)"; font-size: 0.8rem;
  margin-right: 0.5rem; }}
[data-testid="stElementToolbar"] {{ display: none; }}
[data-testid="stSidebarNav"] li:first-child a span {{ font-size: 0; }}
[data-testid="stSidebarNav"] li:first-child a span::after {{
  content: "Proposer des grappes"; font-size: 0.875rem; }}
.grappes-legende {{ max-height: 520px; overflow-y: auto; }}
.grappes-legende * {{ white-space: normal !important; }}
[data-testid="stMetricValue"] > div {{ overflow: visible; text-overflow: clip; }}
</style>
"""

HOW_IT_WORKS = """
**Une grappe**, c'est un groupe d'ESMS (établissements et services médico-sociaux) de plusieurs
organismes gestionnaires (OG) qui déposent ensemble un projet ESMS numérique : un seul dossier,
une même solution de dossier usager informatisé (DUI). L'appel fixe des seuils (nombre d'ESMS,
distance au centre de la grappe, même champ…) : une grappe **valide** les respecte tous.

**Le porteur** est l'OG qui dépose et pilote le projet pour toute la grappe ; l'outil propose
celui qui a le plus d'ESMS, vous pouvez le changer (onglet « Et si… »).

**Les points** viennent de la grille de priorisation de l'appel : l'outil calcule ceux qui se
lisent dans le fichier FINESS (ESMS autonomes isolés, plusieurs OG, plusieurs départements) ;
les autres critères (feuille de route, DPO…) se déclarent grappe par grappe.

**Ce que l'outil décide** : une proposition de grappes valides qui place le plus d'ESMS
isolés possible, leur financement selon les règles de l'appel, et le choix des grappes
financées dans une enveloppe. **Ce qu'il ne décide pas** : l'accord des OG, le choix réel de
l'éditeur, ni l'instruction du dossier par l'ARS ; c'est un point de départ à discuter.
"""

DATA_SOURCES = """
**Où trouver les fichiers FINESS** (open data, sur data.gouv.fr) :
- jeu « **FiNESS+ : structures** » (`finess-structures-…json.gz`) : le répertoire du jour, un seul
  fichier suffit ;
- jeu « **FINESS Extraction du Fichier des établissements** » : fichier
  `etalab-cs1100507-…csv` (établissements **avec géolocalisation**) ;
- jeu « **FINESS Extraction des entités juridiques** » : fichier `etalab-cs1100501-…csv`
  (noms et statuts des OG), facultatif.

Sans extrait FINESS, partez du **modèle** (une ligne par établissement) ; les éditeurs et
statuts de DUI se donnent dans le **fichier DUI**.
"""
