"""Spatial block cross-validation with blocks sized from the data.

Random K-fold CV of a spatial model scores it on cells next to its training cells and so
rewards memorising space (Roberts et al. 2017, *Ecography* 40:913). Here, as in the ``blockCV``
package (Valavi et al. 2019), the area is cut into square blocks, and whole blocks are held out:

1. **Block size** (``block_size_m``; ``None`` = from the data): the median, over the features, of
   the practical range of spatial autocorrelation, fitted as an exponential variogram
   ``gamma(h) = c0 + c (1 - exp(-3h / r))`` to the empirical semivariogram of a sample of cells.
   Blocks at least that large leave held-out cells roughly independent of training cells.
2. **Enough blocks**: the size then shrinks (×0.8 per step, never below 2 cells) until at least
   ``min_blocks_per_fold × n_folds`` blocks hold a presence, so every fold can be scored.
3. **Folds**: blocks holding presences are dealt to folds (most presences first) each to the fold
   with the fewest presences so far; background-only blocks then go each to the fold with the
   fewest background cells. Presences and background are both spread across the folds; ties are
   broken by a seeded shuffle.
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr
from scipy.optimize import curve_fit
from scipy.spatial.distance import pdist


def _exp_variogram(h, nugget, sill, rng):
    return nugget + sill * (1.0 - np.exp(-3.0 * h / rng))


def autocorrelation_range(values: np.ndarray, xs: np.ndarray, ys: np.ndarray, max_dist: float,
                          n_bins: int = 20) -> float:
    """Practical range (CRS units) of an exponential variogram fitted to scattered samples.

    Returns ``max_dist`` when the field shows no levelling-off within it (or cannot be fitted).
    """
    v = np.asarray(values, dtype="f8")
    ok = np.isfinite(v)
    v, xs, ys = v[ok], np.asarray(xs, "f8")[ok], np.asarray(ys, "f8")[ok]
    if v.size < 30 or np.nanstd(v) == 0:
        return float(max_dist)
    pts = np.column_stack([xs, ys])
    d = pdist(pts)
    g = 0.5 * pdist(v[:, None], "sqeuclidean")
    edges = np.linspace(0.0, max_dist, n_bins + 1)
    idx = np.digitize(d, edges) - 1
    keep = (idx >= 0) & (idx < n_bins)
    counts = np.bincount(idx[keep], minlength=n_bins)
    sums = np.bincount(idx[keep], weights=g[keep], minlength=n_bins)
    good = counts >= 10
    if good.sum() < 5:
        return float(max_dist)
    h = 0.5 * (edges[:-1] + edges[1:])[good]
    gam = sums[good] / counts[good]
    var = float(np.var(v))
    try:
        (nug, sill, rng), _ = curve_fit(_exp_variogram, h, gam, p0=[0.0, var, max_dist / 3.0],
                                        bounds=([0.0, 0.0, edges[1] / 2.0], [np.inf, np.inf, max_dist]),
                                        maxfev=5000)
    except (RuntimeError, ValueError):
        return float(max_dist)
    return float(min(rng, max_dist))


def sample_for_variogram(arr: xr.DataArray, n: int = 1500, seed: int = 0):
    """Values and cell-centre coordinates of about ``n`` random finite cells of a regular sub-grid."""
    h, w = arr.shape
    step = max(1, int(math.floor(math.sqrt(h * w / max(4 * n, 1)))))
    sub = arr[::step, ::step]
    vals = np.asarray(sub.data.compute() if hasattr(sub.data, "compute") else sub.data, dtype="f8")
    yy, xx = np.meshgrid(sub["y"].values, sub["x"].values, indexing="ij")
    ok = np.isfinite(vals)
    vals, xx, yy = vals[ok], xx[ok], yy[ok]
    if vals.size > n:
        pick = np.random.default_rng(seed).choice(vals.size, n, replace=False)
        vals, xx, yy = vals[pick], xx[pick], yy[pick]
    return vals, xx, yy


def data_block_size(features: list[xr.DataArray] | None = None, n_sample: int = 1500, seed: int = 0, *,
                    samples: np.ndarray | None = None, xs=None, ys=None,
                    names: list[str] | None = None) -> tuple[float, dict]:
    """Block edge from the features' autocorrelation ranges (median); also returns each range.

    The variograms are fitted either to ``samples`` (``(n, n_features)`` values at ``xs, ys``, e.g.
    the background cells, a uniform random sample of the area: no extra read) or to about
    ``n_sample`` cells of each feature raster.
    """
    ranges = {}
    if samples is not None:
        samples = np.asarray(samples, dtype="f8")
        xs, ys = np.asarray(xs, "f8"), np.asarray(ys, "f8")
        if len(xs) > n_sample:
            pick = np.sort(np.random.default_rng(seed).choice(len(xs), n_sample, replace=False))
            samples, xs, ys = samples[pick], xs[pick], ys[pick]
        span = math.hypot(float(np.ptp(xs)), float(np.ptp(ys))) if len(xs) else 0.0
        for j, name in enumerate(names or [f"f{j}" for j in range(samples.shape[1])]):
            ranges[str(name)] = round(autocorrelation_range(samples[:, j], xs, ys, max_dist=span / 2.0 or 1.0), 1)
    else:
        for f in features or []:
            vals, xx, yy = sample_for_variogram(f, n_sample, seed)
            if vals.size == 0:
                continue
            span = math.hypot(float(np.ptp(xx)) if xx.size else 0.0, float(np.ptp(yy)) if yy.size else 0.0)
            ranges[str(f.name)] = round(autocorrelation_range(vals, xx, yy, max_dist=span / 2.0 or 1.0), 1)
    if not ranges:
        raise ValueError("cannot size CV blocks: no feature has finite values")
    return float(np.median(list(ranges.values()))), ranges


def block_ids(xs, ys, size: float, origin: tuple[float, float]) -> np.ndarray:
    """Id of the square block (edge ``size``, grid anchored at ``origin``) each point falls in."""
    bx = np.floor((np.asarray(xs, "f8") - origin[0]) / size).astype(np.int64)
    by = np.floor((origin[1] - np.asarray(ys, "f8")) / size).astype(np.int64)
    return by * 1_000_003 + bx


def fit_block_size(xs, ys, y, size: float, origin, n_folds: int, min_blocks_per_fold: int = 2,
                   min_size: float = 1.0, shrink: float = 0.8) -> float:
    """Largest size ≤ ``size`` such that enough blocks hold a presence (see the module docstring)."""
    y = np.asarray(y)
    need = n_folds * min_blocks_per_fold
    s = float(size)
    while s > min_size:
        if np.unique(block_ids(np.asarray(xs)[y == 1], np.asarray(ys)[y == 1], s, origin)).size >= need:
            return s
        s *= shrink
    return float(min_size)


def assign_folds(blocks: np.ndarray, y: np.ndarray, n_folds: int, seed: int = 0) -> np.ndarray:
    """Fold (0..n_folds-1) of each sample, dealing whole blocks to folds (see the module docstring).

    Blocks holding presences are dealt first, most presences first, each to the fold with the fewest
    presences so far (ties: fewest background samples); then the background-only blocks, each to
    the fold with the fewest background samples. Ties in block order are broken by a seeded shuffle.
    """
    blocks = np.asarray(blocks)
    y = np.asarray(y)
    uniq, inv = np.unique(blocks, return_inverse=True)
    pres = np.bincount(inv, weights=(y == 1).astype("f8"), minlength=uniq.size)
    back = np.bincount(inv, weights=(y != 1).astype("f8"), minlength=uniq.size)
    rng = np.random.default_rng(seed)
    order = rng.permutation(uniq.size)
    order = order[np.lexsort((-back[order], -pres[order]))]
    fold_of_block = np.empty(uniq.size, dtype=np.int64)
    fp = np.zeros(n_folds)
    fb = np.zeros(n_folds)
    for b in order:
        f = int(np.lexsort((fb, fp))[0]) if pres[b] > 0 else int(np.argmin(fb))
        fold_of_block[b] = f
        fp[f] += pres[b]
        fb[f] += back[b]
    return fold_of_block[inv]


def spatial_folds(xs, ys, y, origin, n_folds: int = 5, block_size: float | None = None,
                  features: list[xr.DataArray] | None = None, min_blocks_per_fold: int = 2,
                  min_size: float = 1.0, seed: int = 0, X=None, names=None) -> tuple[np.ndarray, dict]:
    """Fold of each sample and a description of the blocking (for ``metrics.json``).

    With ``block_size=None`` the size comes from the data: from the background rows of ``X``
    (feature values of the samples, ``names`` their names) when given, else from ``features``.
    """
    info: dict = {"method": "spatial blocks", "n_folds": int(n_folds), "seed": int(seed)}
    if block_size is None:
        if X is not None:
            bg = np.asarray(y) == 0
            auto, ranges = data_block_size(samples=np.asarray(X)[bg], xs=np.asarray(xs)[bg], ys=np.asarray(ys)[bg],
                                           names=names, seed=seed)
            info["variogram_sample"] = "the background cells (a uniform random sample of the study area)"
        elif features:
            auto, ranges = data_block_size(features, seed=seed)
        else:
            raise ValueError("block_size is None (from the data) but neither samples nor feature rasters were given")
        info.update(block_size_source="median practical range of the features' exponential variograms",
                    autocorrelation_range_m=ranges, block_size_from_data_m=round(auto, 1))
        size = auto
    else:
        info.update(block_size_source="configured")
        size = float(block_size)
    used = fit_block_size(xs, ys, y, size, origin, n_folds, min_blocks_per_fold, min_size)
    blocks = block_ids(xs, ys, used, origin)
    folds = assign_folds(blocks, y, n_folds, seed)
    info.update(block_size_m=round(used, 1), n_blocks=int(np.unique(blocks).size),
                n_blocks_with_presence=int(np.unique(blocks[np.asarray(y) == 1]).size),
                min_blocks_per_fold=int(min_blocks_per_fold),
                presences_per_fold=np.bincount(folds[np.asarray(y) == 1], minlength=n_folds).tolist(),
                samples_per_fold=np.bincount(folds, minlength=n_folds).tolist())
    if used < size:
        info["block_size_note"] = (f"shrunk from {size:.0f} m so that at least {n_folds * min_blocks_per_fold} "
                                   "blocks hold a presence")
    return folds, info
