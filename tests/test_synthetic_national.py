"""National mode: benchmark files of all kinds and solver instances in the normalised form."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from grappes.core.model import ETAB_COLUMNS, OG_TYPOLOGIES
from grappes.synthetic import (
    CATEGORIES,
    expected_counts,
    generate,
    normalise,
    solver_instance,
    write_national_etalab,
)


@pytest.fixture(scope="module")
def national(tmp_path_factory) -> tuple[list[list[str]], Path]:
    folder = tmp_path_factory.mktemp("national")
    etab, _, _ = write_national_etalab(folder, n_et=4000, seed=11)
    text = etab.read_text(encoding="utf-8")
    records = list(csv.reader(io.StringIO(text.partition("\n")[2]), delimiter=";"))
    return records, folder


def test_national_file_size_and_mix(national) -> None:
    records, _ = national
    et = [r for r in records if r[0] == "structureet"]
    assert 3800 <= len(et) <= 4200
    categories = pd.Series([r[18] for r in et]).value_counts()
    # health establishments of all kinds, pharmacies first, and ESMS of every field
    assert categories.index[0] == "620"
    for code in ("500", "183", "354", "355", "611", "223"):
        assert code in categories.index, code
    deps = {r[13] for r in et}
    assert {"2A", "2B", "9A", "9B", "9C", "9D"} <= deps
    assert len(deps) > 90


def test_expected_counts_scale_linearly() -> None:
    one = expected_counts(["24"], 1.0, include_overseas=False)
    half = expected_counts(["24"], 0.5, include_overseas=False)
    assert np.allclose(half, one / 2)
    champ = pd.Series({c.code: c.champ for c in CATEGORIES})
    pa_ph = one[champ.reindex(one.index).isin(["PA", "PH"]).to_numpy()].sum()
    assert 1200 <= pa_ph <= 1500
    with_others = expected_counts(["24"], 1.0, include_overseas=False, autres_sanitaires=True)
    assert with_others.sum() > one.sum() and "620" in with_others.index


def test_solver_instance_is_the_normalised_table() -> None:
    table = solver_instance(n_esms=3000, seed=2)
    assert list(table.columns) == list(ETAB_COLUMNS)
    for col, (dtype, _) in ETAB_COLUMNS.items():
        assert str(table[col].dtype) == dtype or (
            dtype == "string" and pd.api.types.is_string_dtype(table[col])
        ), col
    assert 2800 <= len(table) <= 3200
    assert set(table["champ"]) == {"PA", "PH"}
    assert table["finess_et"].is_unique
    assert np.isfinite(table[["lon", "lat"]].to_numpy()).all()
    assert set(table["og_typologie"]) <= set(OG_TYPOLOGIES)
    auto = table["autonome"].to_numpy()
    assert (table.loc[auto, "og_nb_esms"] == 1).all()
    assert not table.loc[auto, "og_sanitaire"].any()
    # OG counts include the OG's ESMS of other fields, so they can exceed its PA/PH rows
    rows_per_og = table.groupby("finess_ej").size()
    assert (table.groupby("finess_ej")["og_nb_esms"].first() >= rows_per_og).all()
    assert table.loc[table["departement"].isin(["2A", "2B", "971", "974"]), "derogatoire"].all()
    assert not table.loc[table["departement"].isin(["45", "75"]), "derogatoire"].any()
    assert set(table["dui_statut"]) <= {"aucun", "non_conforme", "a_mettre_a_niveau",
                                        "conforme"}
    assert table["statut_agrege"].isin(["public", "prive_non_lucratif",
                                         "prive_commercial"]).all()
    assert (table["og_sanitaire"] & ~table["autonome"]).any()


def test_solver_instance_is_deterministic() -> None:
    a = solver_instance(n_esms=800, seed=4)
    b = solver_instance(n_esms=800, seed=4)
    c = solver_instance(n_esms=800, seed=5)
    pd.testing.assert_frame_equal(a, b)
    assert not a["finess_et"].equals(c["finess_et"])


def test_normalise_matches_the_written_coordinates() -> None:
    data = generate(["94"], seed=1, scale=0.5)
    table = normalise(data)
    et = data.etablissements
    no_geo = ~et["has_geo"].astype(bool).to_numpy()
    assert (table["coord_source"].to_numpy()[no_geo] == "centroide_commune").all()
    assert (table["coord_source"].to_numpy()[~no_geo] == "fichier").all()
    assert table["derogatoire"].all()
    assert (table["ligne"] == np.arange(2, len(table) + 2)).all()


def test_bad_sizes_raise_french_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="invalide"):
        write_national_etalab(tmp_path, n_et=0)
    with pytest.raises(ValueError, match="invalide"):
        solver_instance(n_esms=-1)
