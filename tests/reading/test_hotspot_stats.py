"""``reading.hotspot_stats``: hexagon adjacency (checked against PostGIS's own grid), planted hot
and cold spots found, FDR keeping noise quiet, the emerging-hotspot trend classes, and degenerate
maps answered without NaN or exception."""
from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import text

from geo_urp.reading import hotspot_stats as hs

CELL = 100.0


def hex_centre(i: np.ndarray, j: np.ndarray, s: float = CELL) -> tuple[np.ndarray, np.ndarray]:
    """The centroid of flat-topped hexagon (i, j) of edge ``s`` as PostGIS's ``ST_HexagonGrid``
    lays them out: (1.5 s i, sqrt(3) s (j + 0.5 (i odd)))."""
    return 1.5 * s * i, np.sqrt(3) * s * (j + 0.5 * (i % 2))


def hex_centroids(cols: int, rows: int, s: float = CELL) -> tuple[np.ndarray, np.ndarray]:
    """Centroids of ``cols`` x ``rows`` hexagons of edge ``s`` (``hex_centre``)."""
    i, j = (a.ravel() for a in np.meshgrid(np.arange(cols), np.arange(rows), indexing="ij"))
    return hex_centre(i, j, s)


def grid(cols: int = 20, rows: int = 20):
    """A hexagonal town of ``cols`` x ``rows`` cells: centroids and its weights."""
    x, y = hex_centroids(cols, rows)
    return x, y, hs.neighbours(x, y, CELL)


def disc(x, y, at: tuple[float, float], rings: int) -> tuple[int, np.ndarray]:
    """The cell nearest ``at`` and the mask of the cells within ``rings`` rings of it."""
    centre = int(np.argmin(np.hypot(x - at[0], y - at[1])))
    d = np.hypot(x - x[centre], y - y[centre])
    return centre, d <= rings * np.sqrt(3) * CELL + 1


def share(classes: np.ndarray, mask: np.ndarray, value: str) -> float:
    return float((classes[mask] == value).mean())


def test_hexagon_has_six_neighbours_and_edges_fewer():
    x, y, w = grid(6, 5)
    cards = np.array([w.cardinalities[k] for k in range(w.n)])
    interior = (x > x.min()) & (x < x.max()) & (y > y.min() + CELL) & (y < y.max() - CELL)
    assert (cards[interior] == 6).all()
    assert cards.min() == 2 and cards.max() == 6
    for k in range(w.n):
        for m in w.neighbors[k]:
            assert np.hypot(x[k] - x[m], y[k] - y[m]) == pytest.approx(np.sqrt(3) * CELL)


def test_neighbours_are_the_hexagons_postgis_says_touch(session):
    """ST_HexagonGrid over a UTM envelope, with an edge that is no round number: the cells whose
    polygons ST_Touches are exactly the pairs ``neighbours`` finds from their centroids, and the
    test helper lays out the centroids as PostGIS does."""
    size = 137.3
    session.execute(text(
        "CREATE TEMP TABLE hexes AS SELECT i, j, ST_X(ST_Centroid(geom)) AS x, ST_Y(ST_Centroid(geom)) AS y, geom "
        "FROM ST_HexagonGrid(:s, ST_MakeEnvelope(660000, 5118000, 663000, 5120500, 32632))"), {"s": size})
    cells = session.execute(text("SELECT i, j, x, y FROM hexes ORDER BY i, j")).all()
    touching = session.execute(text(
        "SELECT a.i AS ai, a.j AS aj, b.i AS bi, b.j AS bj FROM hexes a JOIN hexes b "
        "ON (a.i, a.j) < (b.i, b.j) AND ST_Touches(a.geom, b.geom)")).all()
    i, j, x, y = (np.array(column) for column in zip(*cells))
    np.testing.assert_allclose(np.column_stack([x, y]), np.column_stack(hex_centre(i, j, size)), atol=1e-6)

    w = hs.neighbours(x, y, size)
    index = {(int(a), int(b)): k for k, (a, b) in enumerate(zip(i, j))}
    expected = {tuple(sorted((index[t.ai, t.aj], index[t.bi, t.bj]))) for t in touching}
    found = {tuple(sorted((k, m))) for k in range(w.n) for m in w.neighbors[k]}
    assert len(cells) > 150 and len(expected) > 400
    assert found == expected


@pytest.mark.parametrize(("cols", "rows", "permutations"), [(24, 20, 4999), (40, 25, 9999)])
def test_planted_hot_and_cold_spots_are_found(cols, rows, permutations):
    x, y, w = grid(cols, rows)
    rng = np.random.default_rng(7)
    counts = rng.poisson(4, w.n).astype(float)
    hot_centre, hot = disc(x, y, (x.max() * 0.25, y.max() * 0.5), rings=2)
    cold_centre, cold = disc(x, y, (x.max() * 0.75, y.max() * 0.5), rings=2)
    counts[hot] += rng.poisson(8, hot.sum())
    counts[cold] = rng.poisson(0.2, cold.sum())

    z, p = hs.gi_star(counts, w, permutations=permutations, seed=1)
    classes = hs.classify(z, p)

    assert classes[hot_centre] == "hot" and classes[cold_centre] == "cold"
    assert share(classes, hot, "hot") >= 0.5 and share(classes, cold, "cold") >= 0.5
    near = disc(x, y, (x[hot_centre], y[hot_centre]), 3)[1] | disc(x, y, (x[cold_centre], y[cold_centre]), 3)[1]
    assert (classes[~near] == "none").all()


def test_pseudo_p_values_are_repeatable_two_sided_and_bounded():
    _, _, w = grid(12, 12)
    counts = np.random.default_rng(3).poisson(3, w.n)
    z1, p1 = hs.gi_star(counts, w, permutations=199, seed=5)
    z2, p2 = hs.gi_star(counts, w, permutations=199, seed=5)
    _, p3 = hs.gi_star(counts, w, permutations=199, seed=6)
    np.testing.assert_array_equal(p1, p2)
    np.testing.assert_array_equal(z1, z2)
    assert not np.array_equal(p1, p3)
    assert p1.min() >= 2 / 200 and p1.max() <= 1
    # Two-sided: on noise about half the cells sit in the middle of their reference distribution.
    assert 0.3 < (p1 > 0.5).mean() < 0.7


@pytest.mark.parametrize("permutations", [0, 999])
def test_fdr_keeps_noise_free_of_hotspots(permutations):
    """On uniform Poisson noise every flagged cell is false: across maps, the share of maps
    with any flagged cell is what FDR bounds (at alpha), and the share of cells stays far below
    the alpha that uncorrected p-values would flag."""
    _, _, w = grid(20, 20)
    alpha, maps = 0.05, 20
    flagged_maps, flagged_share, uncorrected = 0, [], []
    for seed in range(maps):
        counts = np.random.default_rng(100 + seed).poisson(3, w.n)
        z, p = hs.gi_star(counts, w, permutations=permutations, seed=seed)
        classes = hs.classify(z, p, alpha)
        flagged_maps += bool((classes != "none").any())
        flagged_share.append((classes != "none").mean())
        uncorrected.append((p <= alpha).mean())
    assert flagged_maps <= 3  # binomial(20, 0.05): three or more has a chance under 8%
    assert np.mean(flagged_share) <= alpha / 10
    # The check can fail: without the correction the same maps flag about alpha of their cells.
    assert np.mean(uncorrected) > alpha / 2


def test_sparse_map_has_no_cold_spots_from_ties():
    """Most cells empty: a neighbourhood of zeros is the commonest draw, not an extreme one."""
    _, _, w = grid(20, 20)
    counts = np.zeros(w.n)
    counts[np.random.default_rng(11).choice(w.n, 25, replace=False)] = 1
    z, p = hs.gi_star(counts, w, permutations=999, seed=2)
    assert (hs.classify(z, p) != "cold").all()
    # Empty cells among empty neighbours are never extreme on the low side (a few empty
    # cells between reports can be extreme on the high side: that is a hot neighbourhood).
    assert p[(counts == 0) & (z < 0)].min() > 0.05


def slices(w, n: int, extra, mask, seed: int = 0) -> np.ndarray:
    """``n`` months of Poisson(2) noise with ``extra[t]`` more reports on average in each ``mask`` cell."""
    rng = np.random.default_rng(seed)
    cube = rng.poisson(2, (n, w.n)).astype(float)
    for t in range(n):
        cube[t, mask] += rng.poisson(extra[t], mask.sum())
    return cube


# Months of extra reports in the planted cells, oldest first, and the trend they must get.
PLANTED = {
    "new": ([0] * 9 + [10, 10, 10], "new"),
    "just_hot": ([0] * 11 + [12], "new"),
    "rising": (list(np.linspace(3, 16, 12)), "intensifying"),
    "fading": (list(np.linspace(16, 3, 12)), "diminishing"),
    "stopped": ([10] * 11 + [0], "diminishing"),
    "steady": ([8] * 12, "persistent"),
    "on_and_off": ([0, 0, 10, 0, 0, 10, 0, 0, 10, 0, 0, 10], "sporadic"),
    "gone": ([10] * 6 + [0] * 6, "none"),
}


@pytest.mark.parametrize("name", PLANTED)
def test_emerging_trend_of_a_planted_hotspot(name):
    extra, expected = PLANTED[name]
    x, y, w = grid(20, 20)
    centre, mask = disc(x, y, (x.max() / 2, y.max() / 2), rings=1)
    cube = slices(w, len(extra), extra, mask, seed=len(name))

    result = hs.space_time(cube, w)

    assert result.trend[centre] == expected
    assert share(result.trend, mask, expected) >= 0.5
    far = ~disc(x, y, (x[centre], y[centre]), 3)[1]
    assert (result.trend[far] != "none").mean() <= 0.01
    np.testing.assert_array_equal(hs.emerging(cube, w), result.trend)


def test_space_time_tests_trends_only_where_a_cell_is_hot_most_of_the_time():
    x, y, w = grid(20, 20)
    centre, mask = disc(x, y, (x.max() / 2, y.max() / 2), rings=1)
    result = hs.space_time(slices(w, 12, list(np.linspace(3, 16, 12)), mask), w)
    assert result.z.shape == result.hot.shape == result.cold.shape == (12, w.n)
    assert result.tau[centre] > 0 and result.trend_p[centre] <= 0.05
    assert np.isnan(result.tau[~result.hot.any(axis=0)]).all()


@pytest.mark.parametrize(("n", "extra", "expected"), [
    (1, [12], "new"),  # one slice cannot show persistence
    (2, [12, 12], "persistent"),
    (2, [0, 12], "new"),
    (60, [8] * 6 + [0] + [8] * 53, "persistent"),  # 59 of 60 slices: at least ceil(0.9 n)
    (60, [8] * 7 + [0] * 7 + [8] * 46, "sporadic"),  # 53 of 60: fewer than 54
])
def test_emerging_rules_for_short_and_long_series(n, extra, expected):
    x, y, w = grid(16, 16)
    centre, mask = disc(x, y, (x.max() / 2, y.max() / 2), rings=1)
    assert hs.emerging(slices(w, n, extra, mask, seed=n), w)[centre] == expected


def test_emerging_with_pseudo_p_values_finds_the_same_new_hotspot():
    x, y, w = grid(16, 16)
    centre, mask = disc(x, y, (x.max() / 2, y.max() / 2), rings=2)
    cube = slices(w, 6, [0, 0, 0, 0, 12, 12], mask)
    assert hs.emerging(cube, w, permutations=999, seed=3)[centre] == "new"


def islands() -> tuple[np.ndarray, np.ndarray]:
    """Two adjacent cells and one far away."""
    return np.array([0.0, 1.5 * CELL, 5000.0]), np.array([0.0, np.sqrt(3) / 2 * CELL, 5000.0])


@pytest.mark.parametrize(("x", "y", "counts"), [
    pytest.param(*grid(8, 8)[:2], np.zeros(64), id="all_zero"),
    pytest.param(*grid(8, 8)[:2], np.full(64, 3.0), id="constant"),
    pytest.param(np.array([0.0]), np.array([0.0]), np.array([5.0]), id="single_cell"),
    pytest.param(np.array([0.0, 5000.0]), np.array([0.0, 0.0]), np.array([0.0, 9.0]), id="only_islands"),
    pytest.param(np.array([]), np.array([]), np.array([]), id="no_cells"),
])
def test_degenerate_maps_have_nothing_significant(x, y, counts):
    w = hs.neighbours(x, y, CELL)
    for permutations in (0, 999):
        z, p = hs.gi_star(counts, w, permutations=permutations)
        np.testing.assert_array_equal(z, np.zeros(len(counts)))
        np.testing.assert_array_equal(p, np.ones(len(counts)))
        assert (hs.classify(z, p) == "none").all()
    cube = np.tile(counts, (12, 1))
    assert (hs.emerging(cube, w) == "none").all()


def test_a_cell_without_neighbours_is_never_significant():
    x, y = islands()
    w = hs.neighbours(x, y, CELL)
    assert w.neighbors == {0: [1], 1: [0], 2: []}
    z, p = hs.gi_star(np.array([1.0, 2.0, 50.0]), w, permutations=99)
    assert z[2] == 0 and p[2] == 1
    assert np.isfinite(z).all() and np.isfinite(p).all()


@pytest.mark.parametrize(("call", "message"), [
    (lambda w: hs.gi_star(np.array([1.0, -1.0, 2.0]), w), "non-negative"),
    (lambda w: hs.gi_star(np.array([1.0, 2.0]), w), "one value per cell"),
    (lambda w: hs.gi_star(np.array([1.0, np.nan, 2.0]), w), "finite"),
    (lambda w: hs.classify(np.zeros(3), np.full(3, 2.0)), "between 0 and 1"),
    (lambda w: hs.classify(np.zeros(3), np.ones(3), alpha=0), "alpha"),
    (lambda w: hs.space_time(np.zeros((4, 2)), w), "slices x 3 cells"),
    (lambda w: hs.neighbours(np.zeros(2), np.zeros(3), CELL), "same length"),
    (lambda w: hs.neighbours(np.zeros(2), np.zeros(2), 0), "cell_m"),
])
def test_bad_input_is_refused_naming_what_was_expected(call, message):
    w = hs.neighbours(*islands(), CELL)
    with pytest.raises(ValueError, match=message):
        call(w)
