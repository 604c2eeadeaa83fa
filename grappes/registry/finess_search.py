"""« Rechercher mon établissement »: find an ESMS in the FINESS by what a director knows.

One search box takes a name fragment, a commune (name or INSEE code) or a FINESS number
(ET or EJ); case and accents do not matter (« mehun sur yevre » finds Mehun-sur-Yèvre).
Choosing a result gives its OG and ALL the OG's ESMS, which the form lists to tick.

Plain typed functions under the page (tested without a browser): the page shows
:class:`EsmsTrouve` rows and fills the form from :class:`OgTrouve`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from grappes.registry import finess_source

#: how many results a search returns at most (the page says when there are more)
LIMITE = 20
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_NUMBER = re.compile(r"^(?:\d{9}|2[ab]\d{7})$")
_INSEE = re.compile(r"^(?:\d{5}|2[ab]\d{3})$")


def normaliser(text: object) -> str:
    """Lower case, no accent, words separated by one space: « Saint-Étienne » -> « saint
    etienne » (what the search compares)."""
    raw = unicodedata.normalize("NFKD", "" if text is None else str(text))
    plain = "".join(c for c in raw if not unicodedata.combining(c)).casefold()
    return _NON_ALNUM.sub(" ", plain).strip()


@dataclass(frozen=True)
class EsmsTrouve:
    """One ESMS of the FINESS, as the search and the form show it."""

    finess_et: str
    finess_ej: str
    nom: str
    og_nom: str
    champ: str
    commune: str
    commune_nom: str


@dataclass(frozen=True)
class OgTrouve:
    """An OG of the FINESS and all its ESMS (sorted by name)."""

    finess_ej: str
    nom: str
    esms: tuple[EsmsTrouve, ...]


@dataclass(frozen=True)
class Resultats:
    """The first ``LIMITE`` matches of a search, and how many there were in all."""

    esms: tuple[EsmsTrouve, ...]
    total: int


class IndexRecherche:
    """A FINESS table prepared for searching (normalised text computed once)."""

    def __init__(self, table: pd.DataFrame) -> None:
        cols = ["finess_et", "finess_ej", "raison_sociale", "raison_sociale_ej", "champ",
                "commune", "commune_nom"]
        frame = table.reindex(columns=cols).fillna("").astype(str)
        frame = frame.drop_duplicates("finess_et").sort_values(
            ["raison_sociale_ej", "finess_ej", "raison_sociale", "finess_et"])
        self._frame = frame.reset_index(drop=True)
        self._texte = (frame["raison_sociale"] + " " + frame["raison_sociale_ej"] + " "
                       + frame["commune_nom"]).map(normaliser).to_numpy()
        self._et = self._frame["finess_et"].str.upper().to_numpy()
        self._ej = self._frame["finess_ej"].str.upper().to_numpy()
        self._insee = self._frame["commune"].str.upper().to_numpy()
        communes: dict[str, set[str]] = {}
        for code, nom in zip(self._insee, self._frame["commune_nom"], strict=True):
            communes.setdefault(normaliser(nom), set()).add(code)
        self._communes = {nom: sorted(codes) for nom, codes in communes.items()}

    def _esms(self, i: int) -> EsmsTrouve:
        r = self._frame.iloc[i]
        return EsmsTrouve(r["finess_et"], r["finess_ej"], r["raison_sociale"],
                          r["raison_sociale_ej"], r["champ"], r["commune"], r["commune_nom"])

    def rechercher(self, texte: str, limite: int = LIMITE) -> Resultats:
        """The ESMS matching ``texte``: a FINESS number (ET or EJ: that ESMS, or all the
        OG's), an INSEE code (the commune's ESMS), else every word of ``texte`` found in the
        ESMS's name, its OG's name or its commune's name. Empty text: no result."""
        query = str(texte or "").strip().upper().replace(" ", "")
        if _NUMBER.match(query):
            hits = [i for i in range(len(self._frame))
                    if self._et[i] == query or self._ej[i] == query]
            # the ESMS itself first, then (an EJ number) the OG's ESMS in name order
            hits.sort(key=lambda i: self._et[i] != query)
        elif _INSEE.match(query):
            hits = [i for i in range(len(self._frame)) if self._insee[i] == query]
        else:
            words = normaliser(texte).split()
            if not words:
                return Resultats((), 0)
            hits = [i for i, hay in enumerate(self._texte)
                    if all(_has_word(hay, w) for w in words)]
        return Resultats(tuple(self._esms(i) for i in hits[:limite]), len(hits))

    def communes(self, nom: str) -> list[str]:
        """The INSEE codes of the FINESS's communes named ``nom`` (normalised)."""
        return self._communes.get(normaliser(nom), [])

    def og(self, finess_ej: str) -> OgTrouve | None:
        """The OG ``finess_ej`` with all its ESMS of the FINESS; None when unknown."""
        ej = str(finess_ej or "").strip().upper()
        rows = [i for i in range(len(self._frame)) if self._ej[i] == ej]
        if not rows:
            return None
        esms = sorted((self._esms(i) for i in rows), key=lambda e: (e.nom, e.finess_et))
        return OgTrouve(ej, esms[0].og_nom, tuple(esms))


def _has_word(haystack: str, word: str) -> bool:
    """``word`` starts a word of ``haystack`` (« bourg » finds Bourges, « ges » does not)."""
    return haystack.startswith(word) or f" {word}" in haystack


@lru_cache(maxsize=4)
def index_pour(source: str) -> IndexRecherche:
    """The search index of a FINESS source (``sample`` or a file), built once per process."""
    return IndexRecherche(finess_source.charger(source))
