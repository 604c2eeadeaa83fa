"""The bundled Centre-Val de Loire sample: reproducible, calibrated, with the OG mix asked for."""

from __future__ import annotations

import filecmp
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from grappes.core.paths import sample_dir
from grappes.ingest.sample import SAMPLE_FILES, sample_paths
from grappes.synthetic import EXTRACTION_DATE, etalab_names, generate, write_etalab
from grappes.synthetic.sample import build_sample, generate_sample, sample_readme

CVL_DEPARTEMENTS = {"18", "28", "36", "37", "41", "45"}


@pytest.fixture(scope="module")
def sample():
    return generate_sample()


@pytest.fixture(scope="module")
def esms_og(sample) -> pd.DataFrame:
    """One row per OG: ESMS run, départements, hospital run, kind."""
    et = sample.etablissements
    hospital = et["categetab"].isin(["355", "106", "101"])
    ogs = et.assign(esms=~et["sanitaire"].astype(bool), hop=hospital).groupby("nofinessej")
    return pd.DataFrame(
        {
            "esms": ogs["esms"].sum(),
            "hopital": ogs["hop"].any(),
            "deps": et[~et["sanitaire"].astype(bool)].groupby("nofinessej")[
                "departement_insee"
            ].nunique(),
        }
    ).fillna({"deps": 0})


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    paths = []
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        data = generate(["24"], seed=seed, scale=0.3, include_overseas=False)
        paths.append(write_etalab(data, tmp_path / name))
    for same_a, same_b, other in zip(*paths, strict=True):
        assert same_a.read_bytes() == same_b.read_bytes()
        assert same_a.read_bytes() != other.read_bytes()


def test_committed_sample_is_up_to_date(tmp_path: Path) -> None:
    """Regenerating the sample gives the committed files byte for byte."""
    build_sample(tmp_path)
    for name in (*SAMPLE_FILES, "README.md"):
        assert filecmp.cmp(tmp_path / name, sample_dir() / name, shallow=False), (
            f"data/sample/{name} is stale: run python data/build/make_sample.py"
        )


def test_bundled_file_names_are_the_generators() -> None:
    """``grappes.ingest.sample`` names the files as plain constants: they must not drift."""
    assert etalab_names(EXTRACTION_DATE) == SAMPLE_FILES


def test_sample_paths_point_at_the_bundled_files() -> None:
    etab, ej, dui = sample_paths()
    assert etab.name.startswith("etalab-cs1100507") and etab.is_file()
    assert ej.name.startswith("etalab-cs1100501") and ej.is_file()
    assert dui.name == "dui.csv" and dui.is_file()
    total = sum(p.stat().st_size for p in (etab, ej, dui))
    assert total < 5 * 1024 * 1024, "a few MB at most"


def test_sample_paths_missing_file_message(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GRAPPES_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"make_sample\.py"):
        sample_paths()


def test_pa_ph_count_and_departements(sample) -> None:
    et = sample.etablissements
    pa_ph = et[et["champ"].isin(["PA", "PH"])]
    assert 1200 <= len(pa_ph) <= 1500
    assert set(et["departement_insee"]) == CVL_DEPARTEMENTS
    assert set(et["region"]) == {"24"}
    ehpad = (et["categetab"] == "500").sum()
    assert 250 <= ehpad <= 350
    assert 70 <= (et["categetab"] == "202").sum() <= 130
    for champ in ("DOM", "PDS", "PDE", "AHI", "PJM"):
        assert (et["champ"] == champ).sum() > 0, champ
    health = et["sanitaire"].astype(bool)
    assert 100 <= health.sum() <= 400
    assert {"355", "362", "365", "106"} <= set(et.loc[health, "categetab"])


def test_placement_follows_population(sample) -> None:
    from grappes.geo.territories import get_territoires

    et = sample.etablissements
    per_dep = et[et["champ"].isin(["PA", "PH"])]["departement_insee"].value_counts()
    assert per_dep["45"] > per_dep["36"] and per_dep["37"] > per_dep["36"]
    communes = get_territoires().communes
    pop = communes[communes["region"] == "24"].groupby("departement")["population"].sum()
    density = per_dep / pop * 1e5
    # per inhabitant, no département is more than twice as equipped as another
    assert density.max() / density.min() < 2.0
    # EHPAD also in small rural communes, IME/ESAT/MAS mostly in towns
    commune_pop = communes["population"].reindex(et["commune_insee"]).to_numpy()
    ehpad = (et["categetab"] == "500").to_numpy()
    towns = et["categetab"].isin(["183", "246", "255"]).to_numpy()
    assert (commune_pop[ehpad] < 2000).mean() > 0.2
    assert np.median(commune_pop[towns]) > 3 * np.median(commune_pop[ehpad])


def test_og_mix(sample, esms_og) -> None:
    et = sample.etablissements
    ej = sample.entites.set_index("nofiness")
    esms = esms_og[esms_og["esms"] > 0]
    autonomous = esms[(esms["esms"] == 1) & ~esms["hopital"]]
    assert len(autonomous) > 100
    # autonomous public EHPAD (établissement social et médico-social communal/intercommunal)
    statut_auto = ej["statutjuridique"].reindex(autonomous.index)
    assert statut_auto.isin(["21", "22"]).sum() > 30
    small = esms[(esms["esms"] >= 2) & (esms["esms"] <= 10)]
    assert len(small) > 50
    assert ej["statutjuridique"].reindex(small.index).isin(["60", "61"]).sum() > 30
    big_multi = esms[(esms["esms"] >= 15) & (esms["deps"] >= 2)]
    assert len(big_multi) >= 1
    assert (esms["esms"] <= 80).all() or ej["og_kind"].reindex(
        esms.index[esms["esms"] > 80]
    ).eq("cg").all()
    # EHPAD sharing an EJ with a 355 C.H. (statut 13/14)
    ch_ej = set(et.loc[et["categetab"] == "355", "nofinessej"])
    ehpad_ch = et[(et["categetab"] == "500") & et["nofinessej"].isin(ch_ej)]
    assert len(ehpad_ch) > 5
    assert set(ej["statutjuridique"].reindex(ehpad_ch["nofinessej"])) <= {"13", "14"}
    # commercial groups run several EHPAD; foundations exist
    groups = ej[ej["statutjuridique"].isin(["95", "73"]) & (ej["og_kind"] == "cg")]
    ehpad_per_group = et[et["nofinessej"].isin(groups.index) & (et["categetab"] == "500")]
    assert ehpad_per_group.groupby("nofinessej").size().max() >= 3
    assert (ej["statutjuridique"] == "63").sum() >= 1


def test_vendors_and_dui_statuses(sample) -> None:
    dui = sample.dui
    vendors = dui.loc[dui["dui_editeur"] != "", ["dui_editeur", "editeur_segur"]]
    assert 6 <= vendors["dui_editeur"].nunique() <= 10
    assert (vendors.groupby("dui_editeur")["editeur_segur"].nunique() == 1).all()
    assert set(vendors["editeur_segur"]) == {"oui", "non"}
    assert (dui["deja_finance"] == "oui").sum() > 0
    # mostly one vendor per OG
    et = sample.etablissements.set_index("nofinesset")
    with_vendor = dui[dui["dui_editeur"] != ""].assign(
        og=lambda f: et["nofinessej"].reindex(f["finess_et"]).to_numpy()
    )
    multi = with_vendor.groupby("og").filter(lambda g: len(g) >= 3)
    share = multi.groupby("og")["dui_editeur"].agg(lambda s: s.value_counts().iloc[0] / len(s))
    assert share.median() >= 0.8


def test_readme_says_synthetic_and_gives_the_command(sample) -> None:
    text = sample_readme(sample)
    assert "synthetic" in text and "fictif" in text.lower()
    assert "python data/build/make_sample.py" in text
    assert str(int(sample.etablissements["champ"].isin(["PA", "PH"]).sum())) in text


def test_cli_sample_copies_the_bundled_files(tmp_path: Path) -> None:
    import typer

    from grappes.cli.sample import register

    app = typer.Typer()
    register(app)
    app.command("autre")(lambda: None)  # two commands: typer keeps the "sample" sub-command
    out = tmp_path / "exemple"
    result = CliRunner().invoke(app, ["exemple", "--sortie", str(out)])
    assert result.exit_code == 0, result.output
    for src in sample_paths():
        assert (out / src.name).read_bytes() == src.read_bytes()
    assert (out / "README.md").is_file()
    assert "grappes verifier" in result.output and "fictives" in result.output
    bad = CliRunner().invoke(app, ["exemple", "--sortie", str(out / "dui.csv")])
    assert bad.exit_code == 1
    assert "n'est pas un dossier" in bad.output
