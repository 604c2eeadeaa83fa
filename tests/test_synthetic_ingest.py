"""The synthetic files read back through ``grappes.ingest`` exactly as they were generated."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from grappes.ingest import load
from grappes.ingest.sample import sample_paths
from grappes.synthetic import generate, normalise, write_etalab
from grappes.synthetic.sample import generate_sample

#: columns a reader derives that must equal the generator's own normalised table
DERIVED = (
    "finess_ej", "raison_sociale", "raison_sociale_ej", "categorie", "champ", "medicalise",
    "sanitaire", "statut_juridique", "statut_agrege", "commune", "departement", "region",
    "derogatoire", "coord_source", "og_nb_esms", "og_typologie", "og_sanitaire", "autonome",
)  # fmt: skip
DUI = ("dui_editeur", "dui_statut", "editeur_segur", "deja_finance")


def _compare(loaded: pd.DataFrame, expected: pd.DataFrame, columns: tuple[str, ...]) -> None:
    a = loaded.set_index("finess_et").sort_index()
    b = expected.set_index("finess_et").sort_index()
    assert list(a.index) == list(b.index)
    for col in columns:
        left = a[col].astype("string").fillna("<NA>")
        right = b[col].astype("string").fillna("<NA>")
        bad = left != right
        assert not bad.any(), (col, list(zip(left[bad][:3], right[bad][:3], strict=True)))
    km = np.hypot(a["lon"] - b["lon"], a["lat"] - b["lat"]).max()
    assert km < 1e-5


def test_bundled_sample_loads_with_zero_rejects() -> None:
    etab, ej, dui = sample_paths()
    result = load(etab, ej=ej, dui=dui)
    assert result.rejets == [], result.rejets[:5]
    _compare(result.etablissements, normalise(generate_sample()), DERIVED + DUI)


def test_overseas_and_corsica_read_back(tmp_path: Path) -> None:
    data = generate(["94", "01", "02", "03", "04", "06", "975", "986"], seed=8, scale=0.4)
    etab, ej, _ = write_etalab(data, tmp_path)
    result = load(etab, ej=ej)
    assert result.rejets == [], result.rejets[:5]
    _compare(result.etablissements, normalise(data), DERIVED)
