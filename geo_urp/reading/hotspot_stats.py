"""The statistics of the council's hotspot maps (SPEC §4 ``GET /api/hotspots``): which cells of
a hexagonal grid hold significantly more (``hot``) or fewer (``cold``) reports than the town
around them, and how each cell's clustering changed over the months (its ``trend``).

Counting reports per cell is PostGIS's job, where the reports are (``ST_HexagonGrid``); this
module holds what SQL cannot say well, the statistics, and works on plain arrays: no SQL, no
Flask. It uses the field's well-kept implementations rather than its own:

- adjacency of hexagons: libpysal ``DistanceBand`` on the cell centroids (binary contiguity);
- Getis-Ord Gi* (Getis & Ord 1992, Ord & Getis 1995): esda ``G_Local`` with ``star=True``,
  significance by conditional permutation (a seeded, repeatable pseudo p-value);
- false-discovery-rate control: Benjamini-Hochberg through scipy's
  ``false_discovery_control``;
- trends: the emerging hot spot analysis of a space-time cube (ESRI's method) with Gi* per
  time slice and the Mann-Kendall test of each cell's z-scores, as Kendall's tau against time
  (scipy ``kendalltau``: exact p-values for short series, already a dependency of esda).

docs/HOTSPOTS.md says the same for a council member, with the references.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from esda import G_Local
from libpysal.weights import W, DistanceBand
from scipy.stats import false_discovery_control, kendalltau, norm

HOT, COLD, NONE = "hot", "cold", "none"
CLASSES = (HOT, COLD, NONE)
NEW, INTENSIFYING, PERSISTENT, DIMINISHING, SPORADIC = (
    "new", "intensifying", "persistent", "diminishing", "sporadic")
TRENDS = (NEW, INTENSIFYING, PERSISTENT, DIMINISHING, SPORADIC, NONE)

# Flat-topped hexagons of edge s have their six neighbours' centroids s*sqrt(3) away and the
# next ring 3*s away; a band halfway between takes exactly the first ring, whatever rounding
# the centroids carry.
_BAND = (np.sqrt(3) + 3) / 2


def neighbours(x: np.ndarray, y: np.ndarray, cell_m: float) -> W:
    """The binary contiguity of hexagonal cells given their centroids in metres.

    The cells are ``ST_HexagonGrid``'s (flat-topped, edge ``cell_m``); pass the centroids of
    the whole hexagons, not of hexagons clipped to the boundary. Cell k of the arrays is id k
    of the result; a cell with no neighbour is an island of the result, not an error.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"x and y must be 1-D arrays of the same length, got shapes {x.shape} and {y.shape}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("x and y must be finite centroid coordinates")
    if not cell_m > 0:
        raise ValueError(f"cell_m must be a positive edge length in metres, got {cell_m!r}")
    if len(x) == 0:
        return W({})
    return DistanceBand(np.column_stack([x, y]), threshold=cell_m * _BAND, binary=True,
                        silence_warnings=True)


def gi_star(counts: np.ndarray, w: W, permutations: int = 999, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Getis-Ord Gi* of each cell: its z-score and its two-sided p-value.

    ``counts`` covers every cell of the town in ``w``'s order, zero-count cells included
    (leaving them out would make every cell with reports look average). With ``permutations``
    > 0 the p-value is a conditional-permutation pseudo p-value: each cell keeps its own count
    and its neighbours are drawn from the other cells ``permutations`` times, repeatably for a
    given ``seed``; the smallest possible value is 2 / (permutations + 1). With 0 it is the
    normal approximation of the analytic z. A cell without neighbours, or a map with nothing to
    compare (a single cell, no reports, every cell the same count), gets z = 0 and p = 1.
    """
    y = _counts(counts, w.n)
    z, p = np.zeros(w.n), np.ones(w.n)
    has_neighbours = np.array([w.cardinalities[i] > 0 for i in w.id_order], dtype=bool)
    if w.n < 2 or y.sum() == 0 or np.ptp(y) == 0 or not has_neighbours.any():
        return z, p
    with warnings.catch_warnings():
        # esda warns that its folded p-value will change; we compute our own two-sided one.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        # n_jobs=1: the service and the worker run this inside a request, not across cores.
        g = G_Local(y, w, transform="B", star=True, permutations=permutations, seed=seed,
                    keep_simulations=bool(permutations), n_jobs=1)
    z = np.asarray(g.Zs, dtype=float)
    if permutations:
        # Ties count in both tails: a cell of zeros among zeros is not extreme. esda's own
        # folded p_sim counts only strictly smaller draws in the low tail, so it would call
        # every empty neighbourhood of a sparse map a significant cold spot.
        sims, observed = np.asarray(g.rGs), np.asarray(g.Gs)[:, None]
        tail = np.minimum((sims >= observed).sum(axis=1), (sims <= observed).sum(axis=1))
        p = np.minimum(1.0, 2 * (tail + 1) / (permutations + 1))
    else:
        p = 2 * norm.sf(np.abs(z))
    bad = ~has_neighbours | ~np.isfinite(z) | ~np.isfinite(p)
    z[bad], p[bad] = 0.0, 1.0
    return z, p


def classify(z: np.ndarray, p: np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """Each cell's class, ``"hot"``, ``"cold"`` or ``"none"``, after false-discovery-rate control.

    Benjamini-Hochberg at level ``alpha`` over all the cells given (scipy's
    ``false_discovery_control``, method ``"bh"``): of the cells it flags, the expected share
    flagged wrongly is at most ``alpha``, however many cells the town has. A significant cell
    is hot when its z is positive, cold when negative.
    """
    z, p = np.asarray(z, dtype=float), np.asarray(p, dtype=float)
    if z.ndim != 1 or z.shape != p.shape:
        raise ValueError(f"z and p must be 1-D arrays of the same length, got shapes {z.shape} and {p.shape}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha!r}")
    if not (np.isfinite(z).all() and ((p >= 0) & (p <= 1)).all()):
        raise ValueError("z must be finite and p between 0 and 1")
    out = np.full(len(z), NONE, dtype="<U4")
    if len(z) == 0:
        return out
    significant = false_discovery_control(p, method="bh") <= alpha
    out[significant & (z > 0)] = HOT
    out[significant & (z < 0)] = COLD
    return out


@dataclass(frozen=True)
class SpaceTime:
    """The space-time cube of one service: per slice and cell, per cell over the slices.

    ``z``, ``hot``, ``cold``: slices x cells, Gi* z-scores and the FDR-controlled classes of
    each slice. ``tau``, ``trend_p``: Mann-Kendall (Kendall's tau of z against time) for the
    cells hot in enough slices to need it (see ``space_time``), NaN for the others.
    ``trend``: one of ``TRENDS`` per cell.
    """

    z: np.ndarray
    hot: np.ndarray
    cold: np.ndarray
    tau: np.ndarray
    trend_p: np.ndarray
    trend: np.ndarray


def space_time(counts_by_slice: np.ndarray, w: W, alpha: float = 0.05, permutations: int = 0,
               seed: int = 0) -> SpaceTime:
    """Emerging hotspots: Gi* in each time slice, then each cell's trend class.

    ``counts_by_slice`` is slices x cells, oldest slice first, every cell of ``w`` in each.
    Each slice gets ``gi_star`` (analytic p-values by default, as ESRI's tool does;
    ``permutations`` > 0 for pseudo p-values, seeded ``seed + slice``) and ``classify`` at
    ``alpha``. With n slices, "most slices" means at least ceil(0.9 n) and never fewer than
    2 (11 of 12 months, 54 of 60; with 1 or 2 slices, all of them and at least 2). Then, in
    this order, a cell is:

    - ``intensifying`` / ``diminishing``: hot in most slices, the final one included, and its
      z-scores rise / fall over time (Mann-Kendall two-sided p <= ``alpha``);
    - ``persistent``: hot in most slices, the final one included, no significant trend;
    - ``diminishing`` too: hot in most slices but not in the final one (ESRI's "historical");
    - ``new``: hot in the final slice, and its hot slices are one unbroken run ending there,
      never hot before it (ESRI's "new" and "consecutive");
    - ``sporadic``: hot in the final slice, on and off before (ESRI's "sporadic", and its
      "oscillating", which had been a cold spot in between);
    - ``none``: anything else, cold-spot patterns included (the council follows problems).
    """
    counts = np.asarray(counts_by_slice, dtype=float)
    if counts.ndim != 2 or counts.shape[0] < 1 or counts.shape[1] != w.n:
        raise ValueError(f"counts_by_slice must be slices x {w.n} cells with at least one slice, "
                         f"got shape {counts.shape}")
    results = [gi_star(row, w, permutations=permutations, seed=seed + t) for t, row in enumerate(counts)]
    z = np.array([r[0] for r in results]).reshape(counts.shape)
    classes = np.array([classify(zt, pt, alpha) for zt, pt in results]).reshape(counts.shape)
    hot, cold = classes == HOT, classes == COLD
    n = counts.shape[0]
    most = max(2, -(-9 * n // 10))
    hot_slices = hot.sum(axis=0)
    final = hot[-1]
    # The unbroken run of hot slices that ends with the final one.
    final_run = np.cumprod(hot[::-1], axis=0).sum(axis=0)
    mostly = hot_slices >= most

    tau, trend_p = np.full(w.n, np.nan), np.full(w.n, np.nan)
    for cell in np.flatnonzero(mostly & final):
        tau[cell], trend_p[cell] = _mann_kendall(z[:, cell])
    rising = mostly & final & (trend_p <= alpha) & (tau > 0)
    falling = mostly & final & (trend_p <= alpha) & (tau < 0)

    trend = np.full(w.n, NONE, dtype="<U12")
    trend[final & ~mostly & (final_run == hot_slices)] = NEW
    trend[final & ~mostly & (final_run < hot_slices)] = SPORADIC
    trend[mostly & ~final] = DIMINISHING
    trend[mostly & final] = PERSISTENT
    trend[rising] = INTENSIFYING
    trend[falling] = DIMINISHING
    return SpaceTime(z=z, hot=hot, cold=cold, tau=tau, trend_p=trend_p, trend=trend)


def emerging(counts_by_slice: np.ndarray, w: W, alpha: float = 0.05, permutations: int = 0,
             seed: int = 0) -> np.ndarray:
    """Each cell's emerging-hotspot trend, one of ``TRENDS``, by the rules of ``space_time``."""
    return space_time(counts_by_slice, w, alpha=alpha, permutations=permutations, seed=seed).trend


def _mann_kendall(series: np.ndarray) -> tuple[float, float]:
    """Kendall's tau of ``series`` against time and its two-sided p-value; a flat series has no trend."""
    if np.ptp(series) == 0:
        return 0.0, 1.0
    result = kendalltau(np.arange(len(series)), series)
    if not np.isfinite(result.statistic) or not np.isfinite(result.pvalue):
        return 0.0, 1.0
    return float(result.statistic), float(result.pvalue)


def _counts(counts: np.ndarray, n: int) -> np.ndarray:
    """``counts`` as floats, checked: one finite, non-negative value per cell of the weights."""
    y = np.asarray(counts, dtype=float)
    if y.shape != (n,):
        raise ValueError(f"counts must hold one value per cell ({n}), got shape {y.shape}")
    if not np.isfinite(y).all() or (y < 0).any():
        raise ValueError("counts must be finite and non-negative")
    return y
