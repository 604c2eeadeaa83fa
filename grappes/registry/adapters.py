"""Every import of the rest of grappes that the registry needs, in one module.

The code base is being reorganised in parallel; when a module moves, only the imports
below change (the registry itself never imports the planner's modules outside this one).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

#: Words read as yes / no in a form or a spreadsheet (``grappes.core.columns``).
from grappes.core.columns import FALSE_WORDS as FALSE_WORDS
from grappes.core.columns import TRUE_WORDS as TRUE_WORDS

#: Fields of the programme and DUI statuses (``grappes.core.model``).
from grappes.core.model import CHAMPS, DUI_INCONNU, DUI_STATUTS, ETAB_COLUMNS, Grappe
from grappes.solver.settings import RERUN_TIME_LIMIT


def check_finess(number: str) -> str | None:
    """None when valid, else the French reason (format, Luhn key)."""
    from grappes.core.finess import check_finess as _check

    return _check(number)


@dataclass(frozen=True)
class Lieu:
    commune: str
    commune_nom: str
    departement: str
    region: str
    lon: float | None
    lat: float | None


@lru_cache(maxsize=1)
def _territoires():
    from grappes.geo.territories import get_territoires

    return get_territoires()


def lieu(commune: str) -> Lieu | None:
    """The commune (INSEE code) with its département, région and centroid; None if unknown."""
    c = _territoires().commune(str(commune or "").strip())
    if c is None:
        return None
    return Lieu(c.code, c.nom, c.departement, c.region, c.lon, c.lat)


def departements_of_region(region: str) -> list[str]:
    return _territoires().departements_of_region(region)


def region_of_departement(dep: str) -> str:
    return _territoires().region_of_departement(dep)


def is_derogatoire(dep: str) -> bool:
    from grappes.geo.territories import is_derogatoire as _d

    return bool(_d(dep))


def region_nom(code: str) -> str:
    return _territoires().region_nom(code)


def departement_nom(code: str) -> str:
    return _territoires().departement_nom(code)


def km_between(a: Sequence[tuple[float, float]], b: Sequence[tuple[float, float]]) -> float | None:
    """The smallest great-circle distance (km) between a point of ``a`` and one of ``b``
    (``(lon, lat)`` pairs, ``grappes.geo.distances``); None when either side has no point."""
    import numpy as np

    from grappes.geo.distances import haversine_km

    if not a or not b:
        return None
    lon1, lat1 = np.array([p[0] for p in a])[:, None], np.array([p[1] for p in a])[:, None]
    lon2, lat2 = np.array([p[0] for p in b])[None, :], np.array([p[1] for p in b])[None, :]
    return float(np.nanmin(haversine_km(lon1, lat1, lon2, lat2)))


def km_max(points: Sequence[tuple[float, float]]) -> float | None:
    """The greatest great-circle distance (km) between two of ``points`` (``(lon, lat)``)."""
    from grappes.geo.distances import pairwise_km

    if not points:
        return None
    return float(pairwise_km([p[0] for p in points], [p[1] for p in points]).max())


@lru_cache(maxsize=4)
def load_finess(source: str) -> pd.DataFrame:
    """The normalised establishments table of a FINESS file (``sample`` = the région exemple)."""
    if source == "sample":
        from grappes.ingest.sample import load_sample

        return load_sample().etablissements
    from grappes.ingest import load

    return load(Path(source)).etablissements


@lru_cache(maxsize=4)
def finess_index(source: str) -> pd.DataFrame:
    """The FINESS table indexed by FINESS ET (one look-up per declared ESMS)."""
    table = load_finess(source)
    table = table.drop_duplicates("finess_et")
    return table.set_index(table["finess_et"].astype(str).to_numpy(), drop=False)


def etab_table(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """A table with exactly ``ETAB_COLUMNS`` from declared ESMS (missing columns defaulted).

    Rows coming from the FINESS file keep their own values; declared ones get what the
    declaration says (field, commune, DUI) and neutral defaults elsewhere. OG size and
    typology are counted over the rows given (the declared ESMS of each OG).
    """
    frame = pd.DataFrame(list(rows))
    defaults: dict[str, Any] = {
        "raison_sociale": "", "raison_sociale_ej": "", "categorie": "", "categorie_libelle": "",
        "medicalise": False, "sanitaire": False, "statut_juridique": "",
        "statut_agrege": "inconnu", "commune_nom": "", "coord_source": "centroide_commune",
        "capacite": math.nan, "dui_editeur": "", "dui_statut": DUI_INCONNU,
        "editeur_segur": pd.NA, "deja_finance": False, "og_sanitaire": False,
    }  # fmt: skip
    for col, value in defaults.items():
        if col not in frame.columns:
            frame[col] = value
        else:
            frame[col] = frame[col].where(frame[col].notna(), value) if value is not pd.NA \
                else frame[col]
    if "derogatoire" not in frame.columns:
        frame["derogatoire"] = [is_derogatoire(d) for d in frame["departement"]]
    counts = frame.groupby("finess_ej")["finess_et"].transform("count")
    if "og_nb_esms" not in frame.columns:
        frame["og_nb_esms"] = counts.astype("int64")
    frame["og_nb_esms"] = frame["og_nb_esms"].fillna(counts).astype("int64")
    if "og_typologie" not in frame.columns:
        frame["og_typologie"] = [
            "petit" if n < 15 else ("moyen" if n < 50 else "gros") for n in frame["og_nb_esms"]
        ]
    if "autonome" not in frame.columns:
        frame["autonome"] = frame["og_nb_esms"] == 1
    frame["ligne"] = range(1, len(frame) + 1)
    out = pd.DataFrame(index=frame.index)
    for col, (dtype, _) in ETAB_COLUMNS.items():
        out[col] = frame[col].astype(dtype) if col in frame.columns else pd.Series(dtype=dtype)
    return out.reset_index(drop=True)


def propose(
    etab: pd.DataFrame,
    rules: str | None,
    together: list[tuple[str, ...]],
    apart: list[tuple[str, str]],
    seed: int = 0,
    time_limit: float = RERUN_TIME_LIMIT,
):
    """Run the existing solver and costing (``grappes.solver.propose``) on a table."""
    from grappes.core.model import LoadResult
    from grappes.solver import Constraints
    from grappes.solver.propose import propose as _propose

    constraints = Constraints(together=together, apart=apart) if (together or apart) else None
    return _propose(
        LoadResult(etablissements=etab),
        rules_name=rules,
        seed=seed,
        time_limit=time_limit,
        constraints=constraints,
    )


def default_rules() -> str:
    from grappes.programme.rules import DEFAULT_RULES

    return DEFAULT_RULES


def whatif(etab: pd.DataFrame, rules_name: str, grappes: list[Grappe]):
    """A what-if scenario (``grappes.scenarios.whatif.WhatIf``) over stored grappes."""
    from grappes.programme.rules import load_rules
    from grappes.scenarios.whatif import WhatIf

    return WhatIf.from_grappes(etab, load_rules(rules_name), grappes)


def og_amounts(etab: pd.DataFrame, rules, members: list[str], cost) -> dict[str, float]:
    """Each OG's share of a grappe's funding (FINESS EJ -> euros), by the planner's rule
    (``grappes.scenarios.og_view.split_lines``: a per-ESMS line to the ESMS's OG, a
    per-project line to the porteur), so « Mon OG » and an invitation give the same figure.
    ``rules``: the loaded rule set the grappe was costed with (not read again)."""
    from grappes.scenarios.og_view import split_lines

    rows = etab[etab["finess_et"].astype(str).isin(set(members))]
    return {ej: round(sum(line.amount for line in lines), 2)
            for ej, lines in split_lines(rows, cost, rules).items()}


def find_partners(scenario, finess_et: str, top: int = 5, max_km: float | None = None):
    from grappes.scenarios.partners import DEFAULT_MAX_KM
    from grappes.scenarios.partners import find_partners as _find

    return _find(scenario, finess_et, top=top, max_km=max_km or DEFAULT_MAX_KM)


def write_dossier(whatif, out_dir: Path) -> list[Path]:
    """The existing exports (CSV set + XLSX dossier workbook) of a what-if session, through the
    one typed hand-off (``Scenario``) every other export uses."""
    from grappes.exports.dossier import write_exports
    from grappes.scenarios.scenario import Scenario

    return write_exports(Scenario.from_whatif(whatif), out_dir, xlsx=True)


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """French-Excel CSV (``;``, BOM, formula neutralisation) via ``grappes.exports``."""
    from grappes.exports.french_excel import write_csv as _write

    return _write(frame, path)


__all__ = [
    "CHAMPS",
    "DUI_INCONNU",
    "DUI_STATUTS",
    "ETAB_COLUMNS",
    "Grappe",
    "Lieu",
    "check_finess",
    "etab_table",
    "find_partners",
    "lieu",
    "load_finess",
    "og_amounts",
    "propose",
    "whatif",
    "write_csv",
    "write_dossier",
]
