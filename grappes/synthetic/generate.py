"""``generate``: a synthetic FINESS register for some régions, as frames (one per file).

Every step draws from its own random stream, so that changing one step leaves the others
alone; the same seed gives the same rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from grappes.synthetic.arrays import Columns
from grappes.synthetic.bodies import managing_bodies
from grappes.synthetic.calibration import category_table
from grappes.synthetic.entity_fields import entity_fields
from grappes.synthetic.establishment_fields import establishment_fields
from grappes.synthetic.layout import (
    DUI_FIELDS,
    EXTRACTION_DATE,
    STRUCTUREEJ_FIELDS,
    STRUCTUREET_FIELDS,
)
from grappes.synthetic.numbers import assign_numbers
from grappes.synthetic.places import communes_of, place_establishments, positions
from grappes.synthetic.vendors import dui_rows


@dataclass
class SyntheticData:
    """The generated rows: one frame per file, plus helper columns for tests and benchmarks.

    ``etablissements`` has the 32 ``structureet`` items (``STRUCTUREET_FIELDS``), the
    geolocation (``coordxet``, ``coordyet``, ``sourcecoordet``, ``geo_datemaj``; ``has_geo``
    False for establishments without a ``geolocalisation`` line) and helper columns:
    ``commune_insee``, ``departement_insee``, ``region``, ``champ``, ``medicalise``,
    ``sanitaire``, ``lon``, ``lat`` (WGS84 of the written point), ``geo_source`` (``ban``,
    ``centroide`` or ``aucune``), ``og_kind``, ``statutjuridique``. Rows are sorted by
    ``nofinesset``, the order of the file.
    ``entites`` has the 23 ``structureej`` items (+ ``og_kind``, ``region``), sorted by number.
    ``dui`` has ``DUI_FIELDS``.
    """

    etablissements: pd.DataFrame
    entites: pd.DataFrame
    dui: pd.DataFrame
    seed: int
    regions: tuple[str, ...]
    extraction_date: str = EXTRACTION_DATE
    meta: dict[str, float] = field(default_factory=dict)


def expected_counts(
    regions: Sequence[str] | None = None,
    scale: float = 1.0,
    include_overseas: bool = True,
    autres_sanitaires: bool = False,
) -> pd.Series:
    """Expected number of establishments per category (before random rounding).

    Used to size national files: ``scale = wanted / expected_counts().sum()``.
    """
    com = communes_of(regions, include_overseas)
    cats = category_table(autres_sanitaires)
    total = com["population"].sum() / 1e5
    return pd.Series(cats["rate"].to_numpy() * total * scale, index=cats["code"].to_numpy())


def generate(
    regions: Sequence[str] | None = None,
    seed: int = 0,
    scale: float = 1.0,
    include_overseas: bool = True,
    *,
    autres_sanitaires: bool = False,
    extraction_date: str = EXTRACTION_DATE,
) -> SyntheticData:
    """Generate a synthetic FINESS register for some régions (all of France when None).

    Parameters
    ----------
    regions
        INSEE région codes (``"24"`` Centre-Val de Loire, ``"94"`` Corse, ``"04"`` La Réunion,
        ...); None = every mainland région, plus the overseas ones when ``include_overseas``.
    seed
        Seed of the numpy generators: the same seed gives the same rows.
    scale
        Multiplies every rate (0.1 = a tenth of the establishments).
    include_overseas
        Keep overseas régions (``01``..``06``, ``975``, ``986``).
    autres_sanitaires
        Add pharmacies, laboratories, PMI, health centres... (national benchmark files).
    extraction_date
        Date written in the metadata line and file names.

    Returns
    -------
    SyntheticData
    """
    if not np.isfinite(scale) or scale <= 0:
        msg = f"échelle invalide : {scale} (un nombre positif est attendu)"
        raise ValueError(msg)
    # one independent stream per step, so that changing one step leaves the others alone
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(8)]
    rng_count, rng_place, rng_og, rng_num, rng_fields, rng_geo, rng_dui, rng_names = streams
    com = communes_of(regions, include_overseas)
    if com.empty:
        msg = "aucune commune habitée dans les régions demandées"
        raise ValueError(msg)
    cats = category_table(autres_sanitaires)
    e = place_establishments(com, cats, scale, rng_count, rng_place)
    positions(e, com, rng_geo)
    g = managing_bodies(e, com, cats, rng_og)
    assign_numbers(e, g, rng_num)
    establishment_fields(e, g, cats, com, rng_fields, rng_names)
    ej = entity_fields(g, e, com, rng_fields)
    dui = dui_rows(e, g, rng_dui)
    et = _frame(e, (*STRUCTUREET_FIELDS, *_ET_EXTRA), _ET_NUMERIC)
    et = et.sort_values("nofinesset", kind="stable").reset_index(drop=True)
    ej = _frame(ej, (*STRUCTUREEJ_FIELDS, "og_kind", "region"), ())
    ej = ej.sort_values("nofiness", kind="stable").reset_index(drop=True)
    dui_frame = _frame(dui, DUI_FIELDS, ())
    dui_frame = dui_frame.sort_values("finess_et", kind="stable").reset_index(drop=True)
    return SyntheticData(
        etablissements=et,
        entites=ej,
        dui=dui_frame,
        seed=int(seed),
        regions=tuple(sorted(set(com["region"]))),
        extraction_date=extraction_date,
        meta={"scale": float(scale), "population": float(com["population"].sum())},
    )


#: Helper columns kept beside the file items (see ``SyntheticData``).
_ET_EXTRA: tuple[str, ...] = (
    "coordxet", "coordyet", "sourcecoordet", "geo_datemaj", "commune_insee",
    "departement_insee", "region", "champ", "geo_source", "og_kind", "statutjuridique",
)  # fmt: skip
_ET_NUMERIC: tuple[str, ...] = ("medicalise", "sanitaire", "has_geo", "lon", "lat", "epsg")


def _frame(cols: Columns, text: Sequence[str], numeric: Sequence[str]) -> pd.DataFrame:
    """One DataFrame from column arrays: text columns as object (no per-cell conversion)."""
    frame = pd.DataFrame({c: cols[c] for c in text}, dtype=object)
    for c in numeric:
        frame[c] = cols[c]
    return frame
