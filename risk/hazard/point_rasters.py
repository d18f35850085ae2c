"""Rasters made from points: cell counts, Gaussian kernel density, values sampled at points.

:func:`survey_rasters` makes the files of the ``point_rasters`` rule (``indicators/survey/``).

Points are given as coordinate arrays in the grid's CRS. Each point belongs to the cell that
contains it (:meth:`risk.grid.Grid.rowcol`); points off the grid are dropped. Rasters are built
block by block: a block only looks at the points near it (points are sorted by row once, and a
block finds its own with a binary search), so memory stays at one block per worker.

Kernel density
--------------
``density(x) = Σ wᵢ K(x − pᵢ) / cell area`` with a discrete Gaussian ``K`` of standard deviation
σ, truncated at ``truncate`` σ and normalised to sum to 1 (each point's mass is kept however
small σ is compared with the cell), reported per km². Two exact ways to compute it:

* stamping: every point adds its separable kernel to the cells around it, O(points · (2R+1)²);
* filtering the count raster with the separable kernel (``scipy.ndimage.correlate1d`` on blocks
  padded by R cells), O(cells · 2(2R+1)).

The cheaper one is chosen from those counts (the choice is global, so numpy and Dask agree).
For survey points (thousands over millions of cells) stamping wins by far: at 10⁸ cells,
10⁴ points and σ = 500 m on a 30 m grid it touches 1.8·10⁸ cells against the 2.7·10¹⁰
multiply-adds of filtering and the ≈10⁸·log(10⁸) of an FFT convolution (``shared/spec``'s
fastest row, 3.5 s), and it needs no padding of the whole raster.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import dask
import dask.array as da
import numpy as np
import xarray as xr
from numba import njit
from scipy import ndimage

from risk import CATEGORIES
from risk.grid import Grid
from risk.hazard import proximity

logger = logging.getLogger(__name__)


def cells_of(grid: Grid, xs, ys, weights=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row, column and weight of the points that fall on the grid, sorted by (row, column)."""
    xs = np.asarray(xs, dtype="f8").ravel()
    ys = np.asarray(ys, dtype="f8").ravel()
    w = np.ones(xs.size) if weights is None else np.asarray(weights, dtype="f8").ravel()
    if w.shape != xs.shape:
        raise ValueError(f"weights: {w.size} values for {xs.size} points")
    ok = np.isfinite(xs) & np.isfinite(ys) & np.isfinite(w)
    rows, cols = grid.rowcol(xs[ok], ys[ok])
    w = w[ok]
    inside = grid.inside(rows, cols)
    rows, cols, w = rows[inside], cols[inside], w[inside]
    order = np.lexsort((cols, rows))
    return rows[order], cols[order], w[order]


def _select(rows, cols, r0, r1, c0, c1):
    """Indices (ascending) of the sorted points with r0 <= row < r1 and c0 <= col < c1."""
    lo = np.searchsorted(rows, r0, side="left")
    hi = np.searchsorted(rows, r1, side="left")
    idx = np.arange(lo, hi)
    sel = (cols[lo:hi] >= c0) & (cols[lo:hi] < c1)
    return idx[sel]


def point_raster(grid: Grid, xs, ys, weights=None, dtype: str = "float32", dask: bool = True,
                 name: str = "points") -> xr.DataArray:
    """Number (or summed ``weights``) of points in each cell.

    Examples
    --------
    >>> g = Grid.from_bounds((0, 0, 40, 20), "EPSG:4549", 10)
    >>> point_raster(g, [5, 5, 25], [15, 15, 5], dask=False).values.tolist()
    [[2.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]]
    """
    rows, cols, w = cells_of(grid, xs, ys, weights)

    def block(r0, c0, nr, nc):
        idx = _select(rows, cols, r0, r0 + nr, c0, c0 + nc)
        acc = "f8" if np.dtype(dtype).kind == "f" or weights is not None else "i8"
        out = np.zeros((nr, nc), dtype=acc if idx.size else dtype)
        if idx.size:
            np.add.at(out, (rows[idx] - r0, cols[idx] - c0), w[idx] if acc == "f8" else 1)
        return out.astype(dtype, copy=False)

    return grid.from_blocks(block, dtype, name=name, attrs={"units": "points per cell"}, lazy=dask)


def gaussian_kernel_1d(sigma_cells: float, truncate: float = 4.0) -> np.ndarray:
    """Discrete 1-D Gaussian of σ = ``sigma_cells``, radius ⌈truncate σ⌉, summing to 1."""
    r = max(1, int(math.ceil(truncate * sigma_cells)))
    x = np.arange(-r, r + 1, dtype="f8")
    k = np.exp(-0.5 * (x / max(sigma_cells, 1e-9)) ** 2)
    return k / k.sum()


@njit(cache=True, nogil=True)
def _stamp(out, prow, pcol, pw, kern):
    nr, nc = out.shape
    r = (kern.size - 1) // 2
    for i in range(prow.size):
        pr = prow[i]
        pc = pcol[i]
        lo_r = max(-r, -pr)
        hi_r = min(r, nr - 1 - pr)
        lo_c = max(-r, -pc)
        hi_c = min(r, nc - 1 - pc)
        for dr in range(lo_r, hi_r + 1):
            ky = kern[dr + r] * pw[i]
            rr = pr + dr
            for dc in range(lo_c, hi_c + 1):
                out[rr, pc + dc] += ky * kern[dc + r]


def _filter_kernel(block, kern):
    out = ndimage.correlate1d(block.astype("f8"), kern, axis=0, mode="constant", cval=0.0)
    return ndimage.correlate1d(out, kern, axis=1, mode="constant", cval=0.0)


def kernel_density(grid: Grid, xs, ys, sigma_m: float, weights=None, truncate: float = 4.0,
                   scale: str = "per_km2", method: str = "auto", dask: bool = True,
                   name: str = "density") -> xr.DataArray:
    """Gaussian kernel density of points (see the module docstring).

    Parameters
    ----------
    sigma_m : float
        Standard deviation of the kernel (m).
    weights : array-like, optional
        Weight of each point (default 1).
    scale : str
        ``per_km2``: density in points (or weight) per km²; ``peak``: each point contributes
        ``wᵢ`` at its own cell and fades as exp(−d²/2σ²) (a kernel with peak 1).
    method : str
        ``auto``, ``stamp`` or ``filter``.
    """
    if scale not in ("per_km2", "peak"):
        raise ValueError(f"kernel_density: scale {scale!r} is not per_km2 or peak")
    if method not in ("auto", "stamp", "filter"):
        raise ValueError(f"kernel_density: method {method!r} is not auto, stamp or filter")
    if sigma_m <= 0:
        raise ValueError(f"kernel_density: sigma_m must be positive, got {sigma_m!r}")
    kern = gaussian_kernel_1d(sigma_m / grid.res, truncate)
    r = (kern.size - 1) // 2
    if scale == "per_km2":
        factor = 1e6 / grid.cell_area
    else:
        factor = 1.0 / kern[r] ** 2
    rows, cols, w = cells_of(grid, xs, ys, weights)
    if method == "auto":
        stamp_cost = rows.size * kern.size ** 2
        filter_cost = grid.size * 2 * kern.size
        method = "stamp" if stamp_cost <= filter_cost else "filter"
    attrs = {"units": "per km2" if scale == "per_km2" else "1", "sigma_m": float(sigma_m), "method": method}
    if method == "filter":
        counts = point_raster(grid, xs, ys, weights, dtype="float64", dask=dask)
        from risk.blockwise import apply_overlap

        out = apply_overlap(_filter_kernel, counts, depth=r, boundary=0.0, dtype="float64", kern=kern)
        return grid.like((out.data * factor).astype("float32"), name=name, attrs=attrs)

    def block(r0, c0, nr, nc):
        out = np.zeros((nr, nc), dtype="f8")
        idx = _select(rows, cols, r0 - r, r0 + nr + r, c0 - r, c0 + nc + r)
        if idx.size:
            _stamp(out, rows[idx] - r0, cols[idx] - c0, w[idx], kern)
        return (out * factor).astype("float32")

    return grid.from_blocks(block, "float32", name=name, attrs=attrs, lazy=dask)


def sample(raster: xr.DataArray, grid: Grid, xs, ys) -> np.ndarray:
    """Values of ``raster`` at points (the containing cell; NaN off the grid)."""
    xs = np.asarray(xs, dtype="f8").ravel()
    ys = np.asarray(ys, dtype="f8").ravel()
    out = np.full(xs.size, np.nan)
    if xs.size == 0:
        return out
    rows, cols = grid.rowcol(xs, ys)
    ok = grid.inside(rows, cols)
    if ok.any():
        data = raster.data
        if isinstance(data, da.Array):
            vals = data.vindex[rows[ok], cols[ok]].compute()
        else:
            vals = np.asarray(data)[rows[ok], cols[ok]]
        out[ok] = vals
    return out


def values_at_cells(rasters, rows, cols) -> np.ndarray:
    """Values of several rasters at the given cells, ``(n_cells, n_rasters)`` float32.

    Parameters
    ----------
    rasters : sequence of xarray.DataArray
        Rasters of one grid, numpy- or Dask-backed (Dask ones are read in one compute).
    rows, cols : array-like of int
        Cell indices, all on the grid.

    Examples
    --------
    >>> a = xr.DataArray(np.arange(6.0).reshape(2, 3), dims=("y", "x"))
    >>> values_at_cells([a, a * 10], [0, 1], [2, 0]).tolist()
    [[2.0, 20.0], [3.0, 30.0]]
    """
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    if rows.size == 0 or len(rasters) == 0:
        return np.empty((rows.size, len(rasters)), dtype="f4")
    parts = [r.data.vindex[rows, cols] if isinstance(r.data, da.Array) else np.asarray(r.data)[rows, cols]
             for r in rasters]
    parts = dask.compute(*parts)
    return np.stack([np.asarray(p, dtype="f4") for p in parts], axis=1)


def values_at_points(rasters, grid: Grid, xs, ys, *, fill=np.nan, dtype="f4") -> dict[str, np.ndarray]:
    """Value of each raster at the cell holding each point; ``fill`` for points off the grid.

    Parameters
    ----------
    rasters : dict of str to xarray.DataArray
        Rasters on ``grid`` (numpy or Dask).
    grid : Grid
        Their grid; ``xs, ys`` are in its CRS.
    fill : scalar
        Value for points off the grid.
    dtype : str
        dtype of the returned arrays (values are read as float32 first, as the models' samples are).

    Returns
    -------
    dict of str to numpy.ndarray
        One array of ``len(xs)`` values per raster.
    """
    xs = np.asarray(xs, dtype="f8").ravel()
    ys = np.asarray(ys, dtype="f8").ravel()
    rows, cols = grid.rowcol(xs, ys)
    inside = grid.inside(rows, cols)
    names = list(rasters)
    vals = values_at_cells([rasters[n] for n in names], rows[inside], cols[inside])
    out = {}
    for j, n in enumerate(names):
        a = np.full(xs.size, fill, dtype=dtype)
        a[inside] = vals[:, j]
        out[n] = a
    return out


def point_xy(geometries, drop_empty: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates (float64) of the representative point of each geometry (the point itself for points).

    Parameters
    ----------
    geometries : geopandas.GeoSeries or GeoDataFrame
        Geometries in the grid's CRS.
    drop_empty : bool
        False: one coordinate pair per geometry (NaN for a missing or empty one), aligned with the
        rows. True: missing and empty geometries are dropped.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point, box
    >>> xs, ys = point_xy(gpd.GeoSeries([Point(1, 2), box(0, 0, 2, 2)]))
    >>> xs.tolist(), ys.tolist()
    ([1.0, 1.0], [2.0, 1.0])
    >>> point_xy(gpd.GeoSeries([Point(1, 2), None]), drop_empty=True)[0].tolist()
    [1.0]
    """
    geoms = getattr(geometries, "geometry", geometries)
    if drop_empty:
        geoms = geoms[~geoms.values.isna() & ~geoms.is_empty.to_numpy()]
    if len(geoms) == 0:
        return np.empty(0), np.empty(0)
    xy = geoms.representative_point()
    return xy.x.to_numpy(), xy.y.to_numpy()


# -- the files of the point_rasters rule ------------------------------------------------------
def survey_rasters(points, grid: Grid, *, sigma_m: float, max_distance_m: float,
                   categories: Sequence[str] = CATEGORIES) -> tuple[dict, dict, dict]:
    """Kernel density and distance to the nearest point of each survey category.

    Every category gets both rasters, also one without a point in the survey (density 0,
    distance = the cap), so that the file set is fixed.

    Parameters
    ----------
    points : geopandas.GeoDataFrame
        Survey points with a ``category`` column, in the grid's CRS.
    grid : Grid
        The analysis grid.
    sigma_m : float
        σ of the Gaussian kernel (m); density in points per km².
    max_distance_m : float
        Cap of the distances (m).

    Returns
    -------
    layers, tags, descriptions : dict
        Keyed by ``<category>_density`` and ``<category>_distance`` (file stems), in the order of
        ``categories``. Tags: ``CATEGORY``, ``UNITS``, ``POINTS``, ``SIGMA_M``, ``MAX_DISTANCE_M``.
    """
    out, tags, descriptions = {}, {}, {}
    for cat in categories:
        sel = points[points["category"] == cat]
        xs, ys = point_xy(sel.geometry)
        logger.info("%s: %d points", cat, len(sel))
        dens = kernel_density(grid, xs, ys, sigma_m, name=f"{cat}_density")
        dist = proximity.distance(point_raster(grid, xs, ys, dtype="uint8"), max_distance=float(max_distance_m),
                                  name=f"{cat}_distance")
        for kind, arr, unit in (("density", dens, "points per km2"), ("distance", dist, "m")):
            key = f"{cat}_{kind}"
            out[key] = arr
            tags[key] = {"CATEGORY": cat, "UNITS": unit, "POINTS": len(sel),
                         "SIGMA_M": sigma_m if kind == "density" else "",
                         "MAX_DISTANCE_M": max_distance_m if kind == "distance" else ""}
            descriptions[key] = f"{cat} {kind} ({unit})"
    return out, tags, descriptions
