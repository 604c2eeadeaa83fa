"""National-size inputs for the benchmarks: an etalab register, a solver table."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from grappes.synthetic.calibration import CATEGORIES
from grappes.synthetic.generate import expected_counts, generate
from grappes.synthetic.normalise import normalise
from grappes.synthetic.write_etalab import SyntheticPaths, write_etalab


def write_national_etalab(folder: str | Path, n_et: int = 100_000, seed: int = 0) -> SyntheticPaths:
    """Write a national-size register of about ``n_et`` establishments of all kinds.

    Health establishments, pharmacies and laboratories included (as in the real file, whose
    2026 extract has about 103 000 establishments), for the ingest benchmark.
    """
    if n_et <= 0:
        msg = f"nombre d'établissements invalide : {n_et}"
        raise ValueError(msg)
    expected = expected_counts(None, 1.0, True, autres_sanitaires=True).sum()
    data = generate(
        None, seed=seed, scale=n_et / expected, include_overseas=True, autres_sanitaires=True
    )
    return write_etalab(data, folder)


def solver_instance(n_esms: int = 30_000, seed: int = 0) -> pd.DataFrame:
    """A national-size table of about ``n_esms`` PA/PH ESMS in the ``ETAB_COLUMNS`` form.

    For solver benchmarks without file parsing: OG counts (``og_nb_esms``, ``autonome``,
    ``og_sanitaire``) are computed over every generated establishment, as a reader of the
    full register would, then only PA and PH rows are kept.
    """
    if n_esms <= 0:
        msg = f"nombre d'ESMS invalide : {n_esms}"
        raise ValueError(msg)
    counts = expected_counts(None, 1.0, True)
    champs = pd.Series({c.code: c.champ for c in CATEGORIES})
    pa_ph = counts[champs.reindex(counts.index).isin(["PA", "PH"]).to_numpy()].sum()
    data = generate(None, seed=seed, scale=n_esms / pa_ph, include_overseas=True)
    table = normalise(data)
    return table[table["champ"].isin(["PA", "PH"])].reset_index(drop=True)
