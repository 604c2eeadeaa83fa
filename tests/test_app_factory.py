"""Small constructed regions for the app, what-if, partner and dossier tests (and their checks).

``region()`` builds, in the normalised ``ETAB_COLUMNS`` form, a few OGs of PA ESMS around
Tours and Orléans with known vendors, plus an isolated autonomous EHPAD near Tours, and two
hand-made grappes, so that every test knows the right answer without running the solver.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from grappes.core.model import ETAB_COLUMNS, Grappe
from grappes.programme.costing import cost_grappe
from grappes.programme.rules import RuleSet, load_rules
from grappes.programme.validate import grappe_violations

TOURS = (0.69, 47.39)
ORLEANS = (1.90, 47.90)
CHATEAUROUX = (1.69, 46.81)


def esms_rows(
    ej: str,
    n: int,
    where: tuple[float, float],
    start: int,
    champ: str = "PA",
    vendor: str = "",
    dui_statut: str = "aucun",
    statut: str = "prive_non_lucratif",
    departement: str = "37",
    og_name: str | None = None,
    spread_km: float = 4.0,
    deja_finance: bool = False,
) -> list[dict]:
    """``n`` ESMS of one OG spread within ``spread_km`` of ``where`` (deterministic)."""
    rng = np.random.default_rng(start)
    lon0, lat0 = where
    rows = []
    for i in range(n):
        dx, dy = rng.uniform(-1, 1, 2) * spread_km / 111.0
        rows.append({
            "finess_et": f"{departement}{start + i:07d}",
            "finess_ej": ej,
            "raison_sociale": f"EHPAD FICTIF {ej}-{i}",
            "raison_sociale_ej": og_name or f"ASSOCIATION FICTIVE {ej}",
            "categorie": "500" if champ == "PA" else "183",
            "categorie_libelle": "EHPAD" if champ == "PA" else "IME",
            "champ": champ,
            "medicalise": True,
            "sanitaire": False,
            "statut_juridique": "60" if statut == "prive_non_lucratif" else "21",
            "statut_agrege": statut,
            "commune": f"{departement}261",
            "commune_nom": "Tours" if departement == "37" else "Orléans",
            "departement": departement,
            "region": "24",
            "derogatoire": False,
            "lon": lon0 + dx / np.cos(np.radians(lat0)),
            "lat": lat0 + dy,
            "coord_source": "fichier",
            "capacite": 80.0,
            "dui_editeur": vendor,
            "dui_statut": dui_statut if vendor or dui_statut == "aucun" else "aucun",
            "editeur_segur": True if vendor else pd.NA,
            "deja_finance": deja_finance,
            "og_nb_esms": 0,
            "og_typologie": "",
            "og_sanitaire": False,
            "autonome": False,
            "ligne": 0,
        })
    return rows


def make_etab(rows: list[dict]) -> pd.DataFrame:
    """The normalised table from rows, with the OG columns computed as a reader would."""
    frame = pd.DataFrame(rows)
    size = frame.groupby("finess_ej")["finess_et"].transform("size")
    frame["og_nb_esms"] = size
    frame["og_typologie"] = np.select([size >= 50, size >= 15], ["gros", "moyen"], "petit")
    frame["autonome"] = size == 1
    frame["ligne"] = np.arange(2, len(frame) + 2)
    for col, (dtype, _) in ETAB_COLUMNS.items():
        frame[col] = frame[col].astype(dtype)
    return frame[list(ETAB_COLUMNS)]


@dataclass
class Region:
    etab: pd.DataFrame
    rules: RuleSet
    grappes: list[Grappe]
    isolated: str
    far_isolated: str


def region() -> Region:
    """Two valid grappes (Tours: 3 OGs x 5 ESMS, vendor Alpha; Orléans: 4 OGs x 4, vendor
    Beta), an isolated autonomous EHPAD 3 km from Tours with vendor Alpha, an unplaced OG of 2
    ESMS near Tours without DUI, and an isolated EHPAD near Châteauroux (far from all)."""
    rows: list[dict] = []
    rows += esms_rows("370000011", 5, TOURS, 100, vendor="Alpha", dui_statut="conforme")
    rows += esms_rows("370000012", 5, TOURS, 200, vendor="Alpha", dui_statut="a_mettre_a_niveau")
    rows += esms_rows("370000013", 5, TOURS, 300, statut="public")
    for k in range(4):
        rows += esms_rows(f"45000002{k}", 4, ORLEANS, 400 + 100 * k, vendor="Beta",
                          dui_statut="a_mettre_a_niveau", departement="45")
    rows += esms_rows("370000099", 1, (TOURS[0] + 0.04, TOURS[1]), 900, vendor="Alpha",
                      dui_statut="a_mettre_a_niveau", statut="public",
                      og_name="EHPAD PUBLIC FICTIF ISOLÉ")
    rows += esms_rows("370000050", 2, (TOURS[0] - 0.05, TOURS[1] + 0.02), 950)
    rows += esms_rows("360000077", 1, CHATEAUROUX, 990, departement="36")
    etab = make_etab(rows)
    rules = load_rules("amorcage-t2-2021")
    et = etab["finess_et"].astype(str)
    ej = etab["finess_ej"].astype(str)
    tours = sorted(et[ej.isin(["370000011", "370000012", "370000013"])])
    orleans = sorted(et[ej.str.startswith("4500000")])
    grappes = [
        Grappe(id="PA-24-001", champ="PA", og=["370000011", "370000012", "370000013"],
               esms=tours, departements=["37"], regions=["24"], porteur="370000011",
               reasons=["Constituée à la main pour les tests."]),
        Grappe(id="PA-24-002", champ="PA", og=sorted(set(ej[ej.str.startswith("4500000")])),
               esms=orleans, departements=["45"], regions=["24"], porteur="450000020",
               warnings=["Avertissement d'essai."]),
    ]
    isolated = str(et[ej == "370000099"].iloc[0])
    far = str(et[ej == "360000077"].iloc[0])
    return Region(etab=etab, rules=rules, grappes=grappes, isolated=isolated, far_isolated=far)


def members(etab: pd.DataFrame, ets: list[str]) -> pd.DataFrame:
    return etab[etab["finess_et"].isin(ets)]


# --------------------------------------------------------------------------- the factory itself


def test_factory_builds_valid_grappes():
    r = region()
    assert list(r.etab.columns) == list(ETAB_COLUMNS)
    assert r.etab["finess_et"].is_unique
    for g in r.grappes:
        rows = members(r.etab, g.esms)
        assert grappe_violations(rows, r.rules.grouping, "PA", all_esms=r.etab) == []
        assert cost_grappe(rows, r.rules, porteur=g.porteur).total > 0
    row = r.etab[r.etab["finess_et"] == r.isolated].iloc[0]
    assert bool(row["autonome"]) and row["og_nb_esms"] == 1
