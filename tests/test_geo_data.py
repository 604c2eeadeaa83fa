"""Consistency checks of the bundled geography files in data/geo (built by build_geo.py)."""

from __future__ import annotations

import pytest

from grappes.core.paths import geo_dir
from grappes.geo.crs import plausible_for_departement
from grappes.geo.territories import get_territoires


@pytest.fixture(scope="module")
def territoires():
    return get_territoires()


def test_codes_are_unique_strings_and_well_formed(territoires) -> None:
    communes = territoires.communes
    assert communes.index.is_unique
    assert communes.index.str.fullmatch(r"([0-9]{2}|2A|2B)[0-9]{3}").all()
    assert set(communes["type"]) == {"COM", "ARM", "COMD", "COMA", "ANC"}
    # About 34 900 communes in the 2025 COG (plus the collectivités added by hand).
    assert 34_000 < (communes["type"] == "COM").sum() < 36_000
    assert (communes["type"] == "ARM").sum() == 45  # 20 Paris + 9 Lyon + 16 Marseille


def test_every_alias_points_to_a_current_commune(territoires) -> None:
    communes = territoires.communes
    aliases = communes[communes["parent"] != ""]
    assert set(aliases["type"]) == {"COMD", "COMA", "ANC"}
    parents = communes.loc[aliases["parent"]]
    assert (parents["type"] == "COM").all()
    assert (parents["departement"].to_numpy() == aliases["departement"].to_numpy()).all()
    plain = communes[communes["type"].isin(["COM", "ARM"])]
    assert (plain["parent"] == "").all()


def test_hierarchy_is_complete(territoires) -> None:
    communes, deps, regs = territoires.communes, territoires.departements, territoires.regions
    assert communes["departement"].isin(deps.index).all()
    assert deps["region"].isin(regs.index).all()
    assert (communes["region"] == deps.loc[communes["departement"], "region"].to_numpy()).all()
    assert len(deps) == 107  # 101 départements + 975, 977, 978, 986, 987, 988
    for code in ["975", "977", "978", "986"]:
        assert (communes["departement"] == code).any(), code


def test_every_centroid_lies_in_its_territory(territoires) -> None:
    communes = territoires.communes
    assert communes[["lon", "lat"]].notna().all().all()
    ok = plausible_for_departement(
        communes["lon"].to_numpy(), communes["lat"].to_numpy(), communes["departement"].to_numpy()
    )
    assert ok.all(), communes.index[~ok].tolist()[:10]


def test_files_stay_small() -> None:
    sizes = {p.name: p.stat().st_size for p in geo_dir().iterdir()}
    assert sum(sizes.values()) < 5_000_000
    assert sizes["departements.geojson"] < 800_000
    assert sizes["regions.geojson"] < 800_000
