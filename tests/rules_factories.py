"""Builders of normalised establishment tables for the rules / validate / costing / select tests.

Not a test module itself (pytest finds nothing to run here); the other ``test_rules_*``,
``test_validate_*``, ``test_costing_*`` and ``test_select_*`` modules import ``make_etab``
and ``make_og``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from grappes.core.model import ETAB_COLUMNS, empty_etablissements

DEFAULTS: dict[str, Any] = {
    "raison_sociale": "ESMS",
    "raison_sociale_ej": "OG",
    "categorie": "500",
    "categorie_libelle": "EHPAD",
    "champ": "PA",
    "medicalise": True,
    "sanitaire": False,
    "statut_juridique": "60",
    "statut_agrege": "prive_non_lucratif",
    "commune": "37261",
    "commune_nom": "Tours",
    "departement": "37",
    "region": "24",
    "derogatoire": False,
    "lon": 0.69,
    "lat": 47.39,
    "coord_source": "fichier",
    "capacite": 80.0,
    "dui_editeur": "",
    "dui_statut": "aucun",
    "editeur_segur": pd.NA,
    "deja_finance": False,
    "og_sanitaire": False,
    "autonome": False,
}


def _typologie(n: int) -> str:
    return "petit" if n < 15 else ("moyen" if n < 50 else "gros")


def make_etab(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """A normalised table from partial rows; ``finess_et``/``finess_ej`` default to row numbers.

    ``og_nb_esms``, ``og_typologie`` and ``autonome`` are derived from the rows unless given.
    """
    rows = [dict(r) for r in rows]
    records = []
    for i, r in enumerate(rows):
        rec = dict(DEFAULTS)
        rec["finess_et"] = f"{370000000 + i:09d}"
        rec["finess_ej"] = f"{370900000 + i:09d}"
        rec["ligne"] = i + 1
        rec.update(r)
        records.append(rec)
    if not records:
        return empty_etablissements()
    df = pd.DataFrame.from_records(records)
    sizes = df.groupby("finess_ej")["finess_et"].transform("size")
    if "og_nb_esms" not in df.columns:
        df["og_nb_esms"] = sizes
    else:
        df["og_nb_esms"] = df["og_nb_esms"].fillna(sizes)
    if "og_typologie" not in df.columns:
        df["og_typologie"] = df["og_nb_esms"].map(_typologie)
    if "autonome" not in {k for r in rows for k in r}:
        df["autonome"] = df["og_nb_esms"] == 1
    return pd.DataFrame(
        {col: df[col].astype(dtype) for col, (dtype, _) in ETAB_COLUMNS.items()}
    ).reset_index(drop=True)


def make_og(ej: str, n: int, start: int = 0, **fields: Any) -> list[dict[str, Any]]:
    """``n`` ESMS rows of the OG ``ej`` (FINESS ET: last 5 digits of ``ej`` + counter)."""
    return [
        {"finess_ej": ej, "finess_et": f"{ej[-5:]}{start + k:04d}", **fields} for k in range(n)
    ]
