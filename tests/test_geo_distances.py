"""Tests of grappes.geo.distances against known distances and brute-force computations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grappes.geo.distances import centre, haversine_km, nearest_k, neighbours_within, pairwise_km

PARIS = (2.3522, 48.8566)
LYON = (4.8357, 45.7640)


def test_haversine_paris_lyon() -> None:
    assert float(haversine_km(*PARIS, *LYON)) == pytest.approx(392, abs=1.5)


def test_haversine_broadcasts_and_propagates_nan() -> None:
    lon = np.array([PARIS[0], LYON[0], np.nan])
    lat = np.array([PARIS[1], LYON[1], 45.0])
    d = haversine_km(lon[:, None], lat[:, None], lon[None, :], lat[None, :])
    assert d.shape == (3, 3)
    assert d[0, 0] == 0.0
    assert d[0, 1] == pytest.approx(d[1, 0])
    assert np.isnan(d[2]).all()


def test_one_degree_of_latitude() -> None:
    assert float(haversine_km(0.0, 45.0, 0.0, 46.0)) == pytest.approx(111.195, abs=0.01)


def test_pairwise_km_matches_haversine_and_refuses_big_sets() -> None:
    rng = np.random.default_rng(1)
    lon = rng.uniform(-1, 3, 20)
    lat = rng.uniform(45, 48, 20)
    d = pairwise_km(lon, lat)
    assert d.shape == (20, 20)
    assert np.allclose(d, d.T)
    assert d[3, 7] == pytest.approx(float(haversine_km(lon[3], lat[3], lon[7], lat[7])))
    with pytest.raises(ValueError, match="neighbours_within"):
        pairwise_km(np.zeros(10_001), np.zeros(10_001))


def _points(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(-4.5, 8.0, n), rng.uniform(42.5, 51.0, n)


@settings(max_examples=50, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 60),
    m=st.integers(1, 20),
    radius=st.floats(0.0, 400.0),
)
def test_neighbours_within_agrees_with_brute_force(seed: int, n: int, m: int, radius: float):
    lon, lat = _points(seed, n)
    qlon, qlat = _points(seed + 1, m)
    indices, distances = neighbours_within(lon, lat, radius, qlon, qlat)
    brute = haversine_km(qlon[:, None], qlat[:, None], lon[None, :], lat[None, :])
    assert len(indices) == len(distances) == m
    for i in range(m):
        # Points far enough from the boundary must agree exactly (float rounding at the edge).
        inside = set(np.flatnonzero(brute[i] <= radius - 1e-6))
        maybe = set(np.flatnonzero(brute[i] <= radius + 1e-6))
        found = set(indices[i].tolist())
        assert inside <= found <= maybe
        assert np.allclose(distances[i], brute[i, indices[i]], atol=1e-6)
        assert np.all(np.diff(distances[i]) >= 0)


def test_neighbours_within_default_queries_and_nan_points() -> None:
    lon = np.array([2.35, 2.36, np.nan, 4.84])
    lat = np.array([48.85, 48.86, 48.0, 45.76])
    indices, distances = neighbours_within(lon, lat, 5.0)
    assert indices[0].tolist() == [0, 1]
    assert indices[1].tolist() == [1, 0]
    assert indices[2].size == 0  # a NaN point has no neighbours
    assert indices[3].tolist() == [3]
    assert distances[0][0] == 0.0
    with pytest.raises(ValueError, match="rayon"):
        neighbours_within(lon, lat, -1.0)


def test_neighbours_within_ties_are_ordered_by_position() -> None:
    lon = np.array([1.0, 1.0, 1.0])
    lat = np.array([46.0, 46.0, 46.0])
    indices, _ = neighbours_within(lon, lat, 1.0, [1.0], [46.0])
    assert indices[0].tolist() == [0, 1, 2]


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 50), k=st.integers(1, 5))
def test_nearest_k_agrees_with_brute_force(seed: int, n: int, k: int) -> None:
    k = min(k, n)
    lon, lat = _points(seed, n)
    qlon, qlat = _points(seed + 7, 8)
    idx, dist = nearest_k(lon, lat, k, qlon, qlat)
    brute = haversine_km(qlon[:, None], qlat[:, None], lon[None, :], lat[None, :])
    expected = np.sort(brute, axis=1)[:, :k]
    assert idx.shape == dist.shape == (8, k)
    assert np.allclose(dist, expected, atol=1e-6)
    assert np.allclose(np.take_along_axis(brute, idx, axis=1), dist, atol=1e-6)


def test_nearest_k_skips_nan_and_checks_k() -> None:
    lon = np.array([2.35, np.nan, 4.84, 2.36])
    lat = np.array([48.85, 47.0, 45.76, 48.86])
    idx, dist = nearest_k(lon, lat, 2)
    assert idx[0].tolist() == [0, 3]
    assert idx[1].tolist() == [-1, -1]
    assert np.isnan(dist[1]).all()
    assert 1 not in idx
    with pytest.raises(ValueError, match="k=4"):
        nearest_k(lon, lat, 4)


def test_centre() -> None:
    lon, lat = centre([PARIS[0], LYON[0]], [PARIS[1], LYON[1]])
    # The midpoint is equidistant from both ends.
    assert float(haversine_km(lon, lat, *PARIS)) == pytest.approx(
        float(haversine_km(lon, lat, *LYON)), abs=1e-6
    )
    # All the weight on Lyon puts the centre on Lyon; NaN points are ignored.
    lon, lat = centre([PARIS[0], LYON[0], np.nan], [PARIS[1], LYON[1], 1.0], [0.0, 5.0, 1.0])
    assert (lon, lat) == pytest.approx(LYON, abs=1e-9)
    # Across the antimeridian (Wallis 176° W and a point at 179° E).
    lon, _ = centre([-176.0, 179.0], [-13.0, -13.0])
    assert abs(lon) > 178
    with pytest.raises(ValueError, match="aucun point"):
        centre([np.nan], [np.nan])
    with pytest.raises(ValueError, match="négatif"):
        centre([1.0, 2.0], [45.0, 45.0], [1.0, -1.0])


def test_nearest_k_orders_ties_by_position() -> None:
    # Three establishments on the same commune centroid, one elsewhere.
    lon = np.array([4.0, 1.0, 1.0, 1.0])
    lat = np.array([45.0, 46.0, 46.0, 46.0])
    idx, dist = nearest_k(lon, lat, 3, [1.0], [46.0])
    assert idx[0].tolist() == [1, 2, 3]
    assert dist[0].tolist() == [0.0, 0.0, 0.0]


def test_neighbours_across_the_antimeridian() -> None:
    # Two points 1° apart on either side of 180° (about 108 km), Wallis (Uvéa) further away.
    lon = np.array([-179.5, 179.5, -176.2])
    lat = np.array([-14.3, -14.3, -13.28])
    indices, distances = neighbours_within(lon, lat, 150.0, [-179.5], [-14.3])
    assert indices[0].tolist() == [0, 1]
    assert distances[0][1] == pytest.approx(107.8, abs=0.5)
    # A radius beyond half the Earth's circumference returns every point.
    everything, _ = neighbours_within(lon, lat, 30_000.0, [2.35], [48.85])
    assert sorted(everything[0].tolist()) == [0, 1, 2]
