"""The ESMS table of the declaration form: built from the FINESS search, read back as typed.

Why a module: the page only shows an editable table (``st.data_editor``) with French
column labels; what goes in it (an OG's ESMS found in the FINESS, or a stored declaration's)
and what comes out of it (the ticked rows as ``EsmsSaisie``, a commune given by name or
INSEE code) are plain functions, tested without a browser.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

from grappes.registry import EsmsSaisie
from grappes.registry.affichage import commune_libelle
from grappes.registry.finess_search import EsmsTrouve, IndexRecherche, normaliser

INCLURE, ET, NOM, CHAMP, COMMUNE = "inclure", "FINESS ET", "nom", "champ", "commune"
COLONNES = [INCLURE, ET, NOM, CHAMP, COMMUNE]
#: « Bourges (18033) »: the code in brackets at the end
_CODE_EN_FIN = re.compile(r"\(\s*(\d{5}|2[AB]\d{3})\s*\)\s*$", re.IGNORECASE)
_CODE = re.compile(r"^(?:\d{5}|2[AB]\d{3})$", re.IGNORECASE)


def vide() -> pd.DataFrame:
    """An empty table (the user adds rows by hand, or searches)."""
    return pd.DataFrame({c: pd.Series(dtype=bool if c == INCLURE else object)
                         for c in COLONNES})


def lignes_og(esms: Iterable[EsmsTrouve], coches: set[str] | None = None) -> pd.DataFrame:
    """The OG's ESMS of the FINESS, ticked when in ``coches`` (None: all ticked)."""
    rows = [{INCLURE: coches is None or e.finess_et in coches, ET: e.finess_et, NOM: e.nom,
             CHAMP: e.champ, COMMUNE: f"{e.commune_nom} ({e.commune})" if e.commune_nom
             else e.commune} for e in esms]
    return pd.DataFrame(rows, columns=COLONNES) if rows else vide()


def lignes_declaration(esms: Iterable[EsmsSaisie]) -> pd.DataFrame:
    """A stored declaration's ESMS, all ticked (editing it)."""
    rows = [{INCLURE: True, ET: e.finess_et, NOM: e.raison_sociale, CHAMP: e.champ,
             COMMUNE: commune_libelle(e.commune)} for e in esms]
    return pd.DataFrame(rows, columns=COLONNES) if rows else vide()


def code_commune(texte: object, index: IndexRecherche | None = None) -> str:
    """The INSEE code of a commune typed as « Bourges (18033) », « 18033 » or « Bourges ».

    A bare name is looked up among the FINESS's communes when it names exactly one;
    otherwise the text is returned as typed, and the declaration's check names it.
    """
    text = "" if texte is None or (isinstance(texte, float) and pd.isna(texte)) \
        else str(texte).strip()
    found = _CODE_EN_FIN.search(text)
    if found:
        return found.group(1).upper()
    if _CODE.match(text):
        return text.upper()
    if index is not None and text:
        codes = index.communes(normaliser(text))
        if len(codes) == 1:
            return codes[0]
    return text


def saisies(table: pd.DataFrame, index: IndexRecherche | None = None) -> list[EsmsSaisie]:
    """The ticked rows with a FINESS ET, in table order, as the declaration's ESMS."""
    out: list[EsmsSaisie] = []
    for row in table.to_dict("records"):
        et = "" if pd.isna(row.get(ET)) else str(row.get(ET) or "").strip()
        inclure = row.get(INCLURE)
        # a row added by hand and left unticked counts: only an unticked box leaves it out
        if not et or (inclure is not None and not pd.isna(inclure) and not bool(inclure)):
            continue
        champ = "" if pd.isna(row.get(CHAMP)) else str(row.get(CHAMP) or "")
        nom = "" if pd.isna(row.get(NOM)) else str(row.get(NOM) or "")
        out.append(EsmsSaisie(et, champ.strip().upper(), code_commune(row.get(COMMUNE), index),
                              nom.strip()))
    return out
