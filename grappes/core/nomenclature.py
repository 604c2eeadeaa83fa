"""FINESS nomenclatures: establishment categories (field, médicalisé, sanitaire) and legal statuses.

The tables live in ``data/nomenclatures/`` (``categories.csv``, ``statuts_juridiques.csv``) so
that a user can correct a classification without touching code; each file cites its sources
in its header comment. Lookups are cached and vectorised for national files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from grappes.core.columns import per_distinct
from grappes.core.model import CHAMPS, HORS_CHAMP, STATUTS_AGREGES
from grappes.core.paths import data_dir

STATUT_INCONNU = "inconnu"
_TRUE = "oui"

#: financing named by ``libmft``: an ARS (Assurance maladie) vs a département / the State only
_ARS_RE = re.compile(r"\bARS\b")
_NOT_AM_RE = re.compile(r"PCD|CONSEIL|D[EÉ]PARTEMENT|\bETAT\b|\bÉTAT\b|PJJ|PR[EÉ]FET|DDETS|DRJSCS")


#: Tariff-setting modes by ``codemft`` (ANS TRE_R74, with the wording of the etalab files where
#: seen). The médicalisé ones name the ARS, the others the département (PCD), the State or
#: nobody, so that :func:`medicalise_from_mft` reads them as the categories' defaults say.
#: Readers that get only the code (FINESS+) and the synthetic generator take labels here.
MFT_LIBELLES: dict[str, str] = {
    "01": "Etablissement Tarif Libre",
    "03": "ARS établissements Publics de santé dotation globale",
    "04": "ARS établissements PSPH dotation globale",
    "07": "ARS établissements de santé non financés dotation globale",
    "08": "Président du Conseil Départemental",
    "09": "ARS/PCD mixte (2 arrêtés), habilité aide sociale",
    "21": "ARS/PCD mixte, Accueil de jour PA, HAS",
    "30": "Préfet de région établissements et services sociaux",
    "34": "ARS - DG dotation globale",
    "35": "Préfet de département Subvention",
    "36": "Tarifs conventionnels assurance maladie",
    "40": "ARS/PCD, Tarif global, habilité aide sociale, recours PUI",
    "41": "ARS/PCD, Tarif global, habilité aide sociale sans PUI",
    "42": "ARS/PCD, Tarif global, non habilité aide sociale, recours PUI",
    "43": "ARS/PCD, Tarif global, non habilité aide sociale sans PUI",
    "44": "ARS/PCD, Tarif partiel, habilité aide sociale, recours PUI",
    "45": "ARS/PCD, Tarif partiel, habilité aide sociale sans PUI",
    "46": "ARS/PCD, Tarif partiel, non habilité aide sociale, recours PUI",
    "47": "ARS/PCD, Tarif partiel, non habilité aide sociale sans PUI",
    "48": "ARS/PCD, EHPA, dotation globale de soins, habilité aide sociale",
    "54": "Tarif AM - Services de Soins Infirmiers A Domicile",
    "57": "DGS ARS & hébergement PCD - sous CPOM",
    "58": "ARS dotation forfait ou prix de journée globalisé hors CPOM",
    "99": "Indéterminé",
}


@dataclass(frozen=True)
class CategorieInfo:
    """What grappes needs to know about one FINESS category code."""

    code: str
    libelle: str
    #: PA, PH, DOM, PDS, PDE, AHI, PJM or hors_champ
    champ: str
    #: ASS_X10 level-3 aggregate (4 digits, '' when the code is missing from ASS_X10)
    agregat: str
    #: default when the row says nothing about its financing
    medicalise: bool
    #: health establishment (hospital, clinic, health centre...): domain SAN and hors champ
    sanitaire: bool
    #: the row's ``libmft`` (ARS or not) decides médicalisé when present
    medicalise_selon_mft: bool = False
    domaine: str = ""
    actif: bool = True


def nomenclature_dir() -> Path:
    """Folder of the nomenclature CSV files."""
    return data_dir() / "nomenclatures"


def _read(name: str) -> pd.DataFrame:
    path = nomenclature_dir() / name
    if not path.exists():
        msg = f"nomenclature introuvable : {path}"
        raise FileNotFoundError(msg)
    return pd.read_csv(path, sep=";", comment="#", dtype=str, keep_default_na=False)


@lru_cache(maxsize=1)
def categories() -> pd.DataFrame:
    """The category table, indexed by the 3-digit code, booleans as bool columns."""
    table = _read("categories.csv")
    for col in ("medicalise", "medicalise_selon_mft", "sanitaire", "actif"):
        table[col] = table[col].str.strip().str.lower().eq(_TRUE)
    bad = sorted(set(table["champ"]) - set(CHAMPS) - {HORS_CHAMP})
    if bad:
        msg = f"categories.csv : champ inconnu {bad}"
        raise ValueError(msg)
    return table.set_index("code", drop=False)


@lru_cache(maxsize=1)
def statuts() -> pd.DataFrame:
    """The legal-status table, indexed by the 2-digit code."""
    table = _read("statuts_juridiques.csv")
    bad = sorted(set(table["agrege"]) - set(STATUTS_AGREGES))
    if bad:
        msg = f"statuts_juridiques.csv : agrégat inconnu {bad}"
        raise ValueError(msg)
    return table.set_index("code", drop=False)


def categorie_info(code: str) -> CategorieInfo | None:
    """Facts about a category code, or None when the code is not in the table."""
    table = categories()
    key = str(code).strip() if code is not None else ""
    if key not in table.index:
        return None
    row = table.loc[key]
    return CategorieInfo(
        code=key,
        libelle=row["libelle"],
        champ=row["champ"],
        agregat=row["agregat"],
        medicalise=bool(row["medicalise"]),
        sanitaire=bool(row["sanitaire"]),
        medicalise_selon_mft=bool(row["medicalise_selon_mft"]),
        domaine=row["domaine"],
        actif=bool(row["actif"]),
    )


def statut_agrege(code: str) -> str:
    """Aggregate of a legal-status code: public, prive_non_lucratif, prive_commercial, etranger.

    Codes missing from the table fall back on the ranges of TRE-R400 (01-30 public, 40-66 and 89
    non-profit, 70-88, 91, 93, 95 commercial, 90 foreign); anything else gives ``inconnu``.
    """
    return str(statut_agrege_series(pd.Series([code], dtype="string")).iloc[0])


def statut_libelle(code: str) -> str:
    """Label of a legal-status code ('' when unknown)."""
    table = statuts()
    key = str(code).strip() if code is not None else ""
    return str(table.loc[key, "libelle"]) if key in table.index else ""


def statut_agrege_series(codes: pd.Series) -> pd.Series:
    """Vectorised :func:`statut_agrege` (string dtype, same index), once per distinct code."""
    return per_distinct(codes, _statut_agrege_distinct)


def _statut_agrege_distinct(codes: pd.Series) -> pd.Series:
    text = codes.astype("string").fillna("").str.strip()
    mapped = text.map(statuts()["agrege"]).astype("string")
    number = pd.to_numeric(text.where(text.str.fullmatch(r"[0-9]{2}").fillna(False)), "coerce")
    fallback = pd.Series(STATUT_INCONNU, index=text.index, dtype="string")
    fallback[number.between(1, 30)] = "public"
    fallback[number.between(40, 66) | (number == 89)] = "prive_non_lucratif"
    commercial = (number.between(70, 88) & (number != 89)) | number.isin([91, 93, 95])
    fallback[commercial] = "prive_commercial"
    fallback[number == 90] = "etranger"
    return mapped.fillna(fallback)


def medicalise_from_mft(libmft: pd.Series) -> pd.Series:
    """Médicalisé read from the FINESS ``libmft`` (tariff-setting mode) of each row.

    An ARS named in the label (``ARS``, ``ARS/PCD``) means Assurance maladie financing: True.
    A label naming only a département, the State or the PJJ gives False. An empty or
    unrecognised label gives NA, so that the category default applies.
    """
    codes, labels = pd.factorize(libmft.astype("string").fillna(""))
    # a national file has a few dozen distinct labels: decide once per label
    decided = [_medicalise_label(str(label)) for label in labels]
    values = pd.array([*decided, pd.NA], dtype="boolean")
    return pd.Series(values[codes], index=libmft.index, dtype="boolean")


def _medicalise_label(label: str) -> bool | None:
    text = label.upper()
    if _ARS_RE.search(text):
        return True
    if _NOT_AM_RE.search(text):
        return False
    return None
