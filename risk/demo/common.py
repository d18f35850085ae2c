"""Building blocks shared by the demo generator: seeded streams, smooth noise, distances, progress.

Smooth random fields are cubic B-spline interpolations of Gaussian white noise on a square
lattice anchored to whole multiples of its step (:class:`Lattice`). Interpolation onto a raster
grid is separable (two sparse matrix products), so a 7-million-cell field costs a fraction of a
second, and the same lattice can also be sampled at scattered points (for the coarse EPSG:4326
climate grids).
"""

from __future__ import annotations

import math
import sys
import time
import zlib
from dataclasses import dataclass

import numpy as np
import scipy.ndimage as ndi
import scipy.sparse as sp

from risk.grid import Grid


def rng_for(seed: int, name: str) -> np.random.Generator:
    """An independent random stream per component, so adding draws in one part never shifts another."""
    return np.random.default_rng([int(seed), zlib.crc32(name.encode("utf-8"))])


class Progress:
    """Progress lines on stderr: ``[demo   3.2 s] message``."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.t0 = time.perf_counter()

    def __call__(self, message: str) -> None:
        if self.enabled:
            print(f"[demo {time.perf_counter() - self.t0:6.1f} s] {message}", file=sys.stderr, flush=True)


# -- cubic B-spline lattices -----------------------------------------------------------------------
def _bspline_weights(t: np.ndarray) -> np.ndarray:
    t2, t3 = t * t, t * t * t
    return np.stack([(1 - t) ** 3 / 6.0, (3 * t3 - 6 * t2 + 4) / 6.0, (-3 * t3 + 3 * t2 + 3 * t + 1) / 6.0,
                     t3 / 6.0], axis=-1)


def bspline_matrix(pos: np.ndarray, n_src: int) -> sp.csr_matrix:
    """Sparse (len(pos) x n_src) matrix of cubic B-spline weights at fractional source indices ``pos``."""
    pos = np.asarray(pos, dtype="f8")
    i = np.floor(pos).astype(np.int64)
    w = _bspline_weights(pos - i)
    cols = np.clip(i[:, None] + np.arange(-1, 3)[None, :], 0, n_src - 1)
    rows = np.repeat(np.arange(len(pos)), 4)
    return sp.csr_matrix((w.ravel(), (rows, cols.ravel())), shape=(len(pos), n_src))


@dataclass
class Lattice:
    """Values on nodes ``(x0 + j*step, y0 - i*step)``, read as a smooth cubic B-spline surface."""

    x0: float
    y0: float
    step: float
    values: np.ndarray

    @classmethod
    def covering(cls, bounds, step: float, margin: int = 3) -> Lattice:
        """An all-zero lattice whose nodes cover ``bounds`` with ``margin`` nodes to spare."""
        xmin, ymin, xmax, ymax = bounds
        x0 = math.floor(xmin / step) * step - margin * step
        y0 = math.ceil(ymax / step) * step + margin * step
        nx = int(math.ceil((xmax - x0) / step)) + margin + 1
        ny = int(math.ceil((y0 - ymin) / step)) + margin + 1
        return cls(float(x0), float(y0), float(step), np.zeros((ny, nx)))

    @classmethod
    def noise(cls, rng: np.random.Generator, bounds, step: float, margin: int = 3) -> Lattice:
        """Unit-variance white noise on a lattice covering ``bounds``."""
        lat = cls.covering(bounds, step, margin)
        lat.values = rng.standard_normal(lat.values.shape)
        return lat

    @property
    def xs(self) -> np.ndarray:
        return self.x0 + np.arange(self.values.shape[1]) * self.step

    @property
    def ys(self) -> np.ndarray:
        return self.y0 - np.arange(self.values.shape[0]) * self.step

    def on_axes(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """The surface on the raster with column centres ``xs`` and row centres ``ys`` (float64)."""
        wy = bspline_matrix((self.y0 - np.asarray(ys)) / self.step, self.values.shape[0])
        wx = bspline_matrix((np.asarray(xs) - self.x0) / self.step, self.values.shape[1])
        tmp = wy @ self.values  # (len(ys), nx)
        return np.ascontiguousarray((wx @ tmp.T).T)

    def on_grid(self, grid: Grid, dtype="float32") -> np.ndarray:
        """The surface at every cell centre of ``grid``."""
        return self.on_axes(grid.x, grid.y).astype(dtype, copy=False)

    def at(self, xs, ys) -> np.ndarray:
        """The surface at scattered points."""
        xs = np.asarray(xs, dtype="f8")
        ys = np.asarray(ys, dtype="f8")
        px = (xs - self.x0) / self.step
        py = (self.y0 - ys) / self.step
        ix, iy = np.floor(px).astype(np.int64), np.floor(py).astype(np.int64)
        wx, wy = _bspline_weights(px - ix), _bspline_weights(py - iy)
        ny, nx = self.values.shape
        out = np.zeros(xs.shape)
        for a in range(4):
            rr = np.clip(iy + a - 1, 0, ny - 1)
            for b in range(4):
                cc = np.clip(ix + b - 1, 0, nx - 1)
                out += wy[..., a] * wx[..., b] * self.values[rr, cc]
        return out

    def resampled(self, step: float, bounds, margin: int = 3) -> Lattice:
        """This surface evaluated on a (finer) lattice with ``step`` covering ``bounds``."""
        new = Lattice.covering(bounds, step, margin)
        new.values = self.on_axes(new.xs, new.ys)
        return new


def smooth_noise(rng: np.random.Generator, bounds, step: float) -> Lattice:
    """Smooth noise with features about ``step`` across, scaled to unit standard deviation."""
    lat = Lattice.noise(rng, bounds, step)
    lat.values /= 0.4794  # std of a 2-D cubic B-spline of unit white noise, averaged over positions
    return lat


# -- rasters ---------------------------------------------------------------------------------------
def slope_aspect(dem: np.ndarray, res: float) -> tuple[np.ndarray, np.ndarray]:
    """Slope (degrees) and southness (= -cos(aspect), +1 facing south) by central differences.

    ``np.gradient`` along rows and columns (one-sided at the edges); southness is
    ``dz/dnorth / |grad z|`` and 0 where the surface is flat.
    """
    dz_drow, dz_dx = np.gradient(dem.astype("f4"), res)
    dz_dn = -dz_drow  # rows run southwards
    mag = np.hypot(dz_dx, dz_dn)
    slope = np.degrees(np.arctan(mag)).astype("f4")
    with np.errstate(invalid="ignore", divide="ignore"):
        south = np.where(mag > 1e-6, dz_dn / mag, 0.0).astype("f4")
    return slope, south


def distance_to(mask: np.ndarray, res: float, indices: bool = False):
    """Euclidean distance (m) from every cell centre to the nearest True cell (EDT)."""
    if not mask.any():
        d = np.full(mask.shape, np.float32(1e6), dtype="f4")
        return (d, None) if indices else d
    if indices:
        d, idx = ndi.distance_transform_edt(~mask, sampling=res, return_indices=True)
        return d.astype("f4"), idx
    return ndi.distance_transform_edt(~mask, sampling=res).astype("f4")


def window_cells(res: float, metres: float) -> int:
    """Half-width ``k`` (cells) of the square window ``(2k+1)^2`` approximating ``2*metres`` across."""
    return max(1, int(round(metres / res)))


def focal_mean(arr: np.ndarray, k: int) -> np.ndarray:
    """Mean over the ``(2k+1)^2`` square window (edges: nearest-value padding)."""
    return ndi.uniform_filter(arr.astype("f4"), size=2 * k + 1, mode="nearest")


def focal_range(arr: np.ndarray, k: int) -> np.ndarray:
    """Maximum minus minimum over the ``(2k+1)^2`` square window."""
    a = arr.astype("f4")
    return ndi.maximum_filter(a, size=2 * k + 1, mode="nearest") - ndi.minimum_filter(a, size=2 * k + 1,
                                                                                       mode="nearest")


def cell_centres(grid: Grid, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Projected coordinates of cell centres."""
    return grid.xmin + (cols + 0.5) * grid.res, grid.ymax - (rows + 0.5) * grid.res


def weighted_sample(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    """Indices of ``n`` distinct items drawn with probability proportional to ``weights``.

    Efraimidis-Spirakis: the ``n`` smallest of ``Exp(1) / w``; O(len(weights)).
    """
    w = np.asarray(weights, dtype="f8")
    n = int(min(n, int(np.count_nonzero(w > 0))))
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    e = rng.exponential(size=w.shape)
    with np.errstate(divide="ignore"):
        keys = np.where(w > 0, e / np.where(w > 0, w, 1.0), np.inf)
    idx = np.argpartition(keys, n - 1)[:n]
    return idx[np.argsort(keys[idx], kind="stable")]


def spaced_sample(rng: np.random.Generator, xs, ys, weights, n: int, min_dist: float,
                  avoid_x=(), avoid_y=(), avoid_dist: float = 0.0) -> np.ndarray:
    """Weighted sample of up to ``n`` candidate indices at least ``min_dist`` apart (and ``avoid_dist`` from the avoid points)."""
    order = weighted_sample(rng, weights, len(weights))
    xs, ys = np.asarray(xs), np.asarray(ys)
    ax, ay = np.asarray(avoid_x, dtype="f8"), np.asarray(avoid_y, dtype="f8")
    chosen: list[int] = []
    cx = np.empty(n)
    cy = np.empty(n)
    for i in order:
        if len(chosen) >= n:
            break
        x, y = xs[i], ys[i]
        if len(ax) and np.min(np.hypot(ax - x, ay - y)) < avoid_dist:
            continue
        k = len(chosen)
        if k and np.min(np.hypot(cx[:k] - x, cy[:k] - y)) < min_dist:
            continue
        cx[k], cy[k] = x, y
        chosen.append(int(i))
    return np.asarray(chosen, dtype=np.int64)


def smooth_polyline(xy: np.ndarray, passes: int = 2) -> np.ndarray:
    """Moving-average smoothing of a polyline's interior vertices (end points fixed)."""
    xy = np.asarray(xy, dtype="f8").copy()
    if len(xy) < 3:
        return xy
    for _ in range(passes):
        xy[1:-1] = 0.25 * xy[:-2] + 0.5 * xy[1:-1] + 0.25 * xy[2:]
    return xy


def scale_count(base: int, area_km2: float, minimum: int, ref_km2: float = 3287.0) -> int:
    """A count that is ``base`` for an area the size of Lingyuan, proportional to area, at least ``minimum``."""
    return int(max(minimum, round(base * area_km2 / ref_km2)))
