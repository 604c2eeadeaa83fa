"""Build normalised establishment tables (``ETAB_COLUMNS``) for the solver tests.

Not a test module: ``test_solver_*``, ``test_graph_*`` and ``test_propose_*`` import it.
Positions are given in kilometres east / north of a reference point and turned into
longitude / latitude, so that fixtures can say "200 km away" plainly.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from grappes.core.model import ETAB_COLUMNS, empty_etablissements

#: Reference point of the km grid (Tours, Centre-Val de Loire).
LON0, LAT0 = 0.69, 47.39
KM_PER_DEG_LAT = 111.195

DEFAULTS: dict[str, Any] = {
    "raison_sociale": "ESMS FICTIF",
    "raison_sociale_ej": "OG FICTIF",
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
    "coord_source": "fichier",
    "capacite": 80.0,
    "dui_editeur": "",
    "dui_statut": "aucun",
    "editeur_segur": pd.NA,
    "deja_finance": False,
    "og_sanitaire": False,
}


def km_to_lonlat(x_km: float, y_km: float, lon0: float = LON0, lat0: float = LAT0):
    """Longitude / latitude of a point x km east and y km north of (lon0, lat0)."""
    lat = lat0 + y_km / KM_PER_DEG_LAT
    lon = lon0 + x_km / (KM_PER_DEG_LAT * np.cos(np.radians(lat0)))
    return float(lon), float(lat)


def og_rows(
    ej: str,
    n: int,
    x: float = 0.0,
    y: float = 0.0,
    spread: float = 1.0,
    start: int = 0,
    **fields: Any,
) -> list[dict[str, Any]]:
    """``n`` ESMS of the OG ``ej`` around (x, y) km, ``spread`` km apart on a small line."""
    rows = []
    for k in range(n):
        lon, lat = km_to_lonlat(x + spread * (k % 5), y + spread * (k // 5))
        rows.append(
            {
                "finess_ej": ej,
                "finess_et": f"{ej[:2]}{ej[-4:]}{start + k:03d}",
                "lon": lon,
                "lat": lat,
            }
            | fields
        )
    return rows


def make_etab(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """A normalised table from partial rows (derives og_nb_esms, og_typologie, autonome)."""
    rows = [dict(r) for r in rows]
    if not rows:
        return empty_etablissements()
    records = []
    for i, r in enumerate(rows):
        rec = dict(DEFAULTS)
        rec["finess_et"] = f"{370000000 + i:09d}"
        rec["finess_ej"] = f"{370900000 + i:09d}"
        rec["lon"], rec["lat"] = LON0, LAT0
        rec["ligne"] = i + 1
        rec.update(r)
        records.append(rec)
    df = pd.DataFrame.from_records(records)
    sizes = df.groupby("finess_ej")["finess_et"].transform("size")
    given = {k for r in rows for k in r}
    if "og_nb_esms" in given:
        df["og_nb_esms"] = df["og_nb_esms"].fillna(sizes)
    else:
        df["og_nb_esms"] = sizes
    df["og_typologie"] = np.where(
        df["og_nb_esms"] < 15, "petit", np.where(df["og_nb_esms"] < 50, "moyen", "gros")
    )
    if "autonome" not in given:
        df["autonome"] = df["og_nb_esms"] == 1
    return pd.DataFrame(
        {col: df[col].astype(dtype) for col, (dtype, _) in ETAB_COLUMNS.items()}
    ).reset_index(drop=True)


VENDORS = ("Éditeur Fictif Alpha", "Éditeur Fictif Beta", "Éditeur Fictif Gamma")
STATUTS = ("public", "prive_non_lucratif", "prive_commercial")


def random_region(
    n_og: int = 60,
    seed: int = 0,
    size_km: float = 120.0,
    champs: tuple[str, ...] = ("PA", "PH"),
    big_share: float = 0.05,
    vendor_share: float = 0.4,
    mixed_share: float = 0.0,
) -> pd.DataFrame:
    """A random région: OGs of 1-10 ESMS (a few of 15-30), vendors, statuses, départements.

    ``mixed_share``: share of OGs whose last ESMS belongs to another field.
    """
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []
    for k in range(n_og):
        ej = f"{37 + k % 3}{k:07d}"
        big = rng.random() < big_share
        n = int(rng.integers(15, 30)) if big else int(rng.choice([1, 1, 1, 2, 3, 4, 6, 9]))
        x, y = rng.uniform(0, size_km, size=2)
        champ = str(rng.choice(champs))
        statut = str(rng.choice(STATUTS))
        has_vendor = rng.random() < vendor_share
        vendor = str(rng.choice(VENDORS)) if has_vendor else ""
        dui_statut = str(rng.choice(["conforme", "a_mettre_a_niveau"])) if has_vendor else "aucun"
        mixed = n > 1 and rng.random() < mixed_share
        for j in range(n):
            dx, dy = rng.normal(0, 4, size=2) if n > 1 else (0.0, 0.0)
            lon, lat = km_to_lonlat(x + dx, y + dy)
            dep = ("18", "37", "41")[min(int((x + dx) / (size_km / 3)), 2)] if size_km else "37"
            rows.append(
                {
                    "finess_et": f"{ej[:2]}{k:04d}{j:03d}",
                    "finess_ej": ej,
                    "champ": ([c for c in champs if c != champ] or [champ])[0]
                    if mixed and j == n - 1
                    else champ,
                    "statut_agrege": statut,
                    "dui_editeur": vendor,
                    "dui_statut": dui_statut,
                    "lon": lon,
                    "lat": lat,
                    "departement": dep,
                    "medicalise": bool(rng.random() < 0.7),
                    "deja_finance": bool(rng.random() < 0.03),
                }
            )
    return make_etab(rows)
