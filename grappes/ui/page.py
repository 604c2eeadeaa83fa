"""The page's French dress and its first-screen texts (no logic: constants and one function).

Streamlit writes a few English strings of its own and declares ``lang="en"``. The script
below sets ``<html lang="fr">`` and makes the browser format numbers in French (tables use
``Intl.NumberFormat`` with ``navigator.languages``: without this a browser set to English
would show ``€700,000.00``). The CSS replaces the uploader's "Drag and drop file here /
Limit 200MB per file / Browse files" (and, in the narrow sidebar, "Upload" with its icon's
ligature text, which innerText and screen readers read as « UploadChoisir un fichier ») with
French, replaces the inputs' "Press Enter to apply" hint, hides the tables' toolbar, whose
tooltips are English (the app offers its own French downloads instead). The script also names
the main page « Proposer des grappes » in the sidebar (Streamlit names it after the file,
« app »; a CSS ``::after`` there collapses to zero height in Streamlit 1.67's nav item), and
titles the map's zoom buttons « Zoomer » and « Dézoomer » (mapbox-gl's « Zoom In / Out »).
"""

from __future__ import annotations

import streamlit as st

from grappes.ui.upload import MAX_UPLOAD_MB

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
  // the main page is named after its file, « app »: rename it in the sidebar, again after
  // each redraw (the text node is kept, only its value changes, so React still owns it)
  const renamePage = () => {
    const p = doc.querySelector(
      '[data-testid="stSidebarNav"] li:first-child [data-testid="stMarkdownContainer"] p');
    if (p && p.firstChild && p.firstChild.nodeValue === "app") {
      p.firstChild.nodeValue = "Proposer des grappes";
    }
  };
  // the map's zoom buttons (mapbox-gl's, drawn by Streamlit over the offline base map,
  // grappes.ui.mapview) are titled in English: « Zoom In », « Zoom Out »
  const zoomTitles = () => {
    for (const [sel, label] of [[".mapboxgl-ctrl-zoom-in", "Zoomer"],
                                [".mapboxgl-ctrl-zoom-out", "Dézoomer"]]) {
      doc.querySelectorAll(sel).forEach((b) => {
        if (b.title !== label) { b.title = label; b.setAttribute("aria-label", label); }
      });
    }
  };
  const rename = () => { renamePage(); zoomTitles(); };
  rename();
  if (!doc.grappesRenamer) {
    doc.grappesRenamer = new MutationObserver(rename);
    doc.grappesRenamer.observe(doc.body, {childList: true, subtree: true});
  }
})();
</script>
"""

PAGE_CSS = f"""
<style>
[data-testid="stFileUploaderDropzoneInstructions"] {{ display: none; }}
[data-testid="stFileUploaderDropzone"] button [data-testid="stIconMaterial"],
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] {{
  display: none; }}
[data-testid="stFileUploaderDropzone"] button::after {{
  content: "Choisir un fichier"; font-size: 0.875rem; }}
[data-testid="stFileUploaderDropzone"]::before {{
  content: "Déposez le fichier ici (au plus {MAX_UPLOAD_MB} Mo)"; font-size: 0.8rem;
  margin-right: 0.5rem; }}
[data-testid="InputInstructions"] > * {{ display: none; }}
[data-testid="stTextInput"] [data-testid="InputInstructions"]::after {{
  content: "Entrée pour valider"; }}
[data-testid="stTextArea"] [data-testid="InputInstructions"]::after {{
  content: "Ctrl+Entrée pour valider"; }}
[data-testid="stElementToolbar"] {{ display: none; }}
.grappes-legende {{ max-height: 520px; overflow-y: auto; }}
.grappes-legende * {{ white-space: normal !important; }}
[data-testid="stMetricValue"] > div {{ overflow: visible; text-overflow: clip; }}
</style>
"""


def dress_in_french() -> None:
    """Put the French dress (script and styles above) on the page being drawn.

    Every page calls it once, right after ``st.set_page_config``: Streamlit draws each page
    afresh, so a page that forgets it shows the uploader and the hints in English.
    """
    st.html(FRENCH_SCRIPT + PAGE_CSS, unsafe_allow_javascript=True)


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
