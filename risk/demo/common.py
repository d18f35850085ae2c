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
from pathlib import Path

import numpy as np
import scipy.ndimage as ndi
import scipy.sparse as sp

from risk.grid import Grid

ROWS = 256
"""Rows of the analysis grid a band: what the generator computes at once where a step is cell by cell."""


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


class Store:
    """Full-grid layers kept on disk while the generator needs them later, read back whole, by rows or
    at points (a memory map opened for the read and closed after it: no layer stays resident)."""

    def __init__(self):
        import tempfile

        self.dir = Path(tempfile.mkdtemp(prefix="risk-demo-"))
        self._layout: dict[str, tuple[int, int, np.dtype]] = {}

    def _path(self, name: str) -> Path:
        return self.dir / f"{name}.npy"

    def put(self, name: str, arr: np.ndarray) -> None:
        """Write ``arr`` under ``name`` (the caller may then drop it)."""
        np.save(self._path(name), arr)

    def create(self, name: str, shape, dtype) -> None:
        """An empty layer to fill with :meth:`write_rows`."""
        mm = np.lib.format.open_memmap(self._path(name), mode="w+", shape=tuple(shape), dtype=dtype)
        self._layout[name] = (int(mm.offset), int(np.prod(shape[1:])) * mm.dtype.itemsize, mm.dtype)
        del mm

    def write_rows(self, name: str, r0: int, block: np.ndarray) -> None:
        """Write ``block`` into the rows from ``r0`` of a layer made by :meth:`create` (plain file writes)."""
        offset, row, dtype = self._layout[name]
        with open(self._path(name), "r+b") as f:
            f.seek(offset + r0 * row)
            f.write(np.ascontiguousarray(block, dtype=dtype).tobytes())

    def __getitem__(self, name: str) -> np.ndarray:
        return np.load(self._path(name))

    def __contains__(self, name: str) -> bool:
        return self._path(name).exists()

    def rows(self, name: str, r0: int, r1: int) -> np.ndarray:
        """Rows ``r0:r1`` of a layer."""
        mm = np.load(self._path(name), mmap_mode="r")
        out = np.array(mm[r0:r1])
        del mm
        return out

    def at(self, name: str, rows, cols) -> np.ndarray:
        """Values of a layer at cells ``(rows, cols)``."""
        mm = np.load(self._path(name), mmap_mode="r")
        out = np.array(mm[rows, cols])
        del mm
        return out

    def close(self) -> None:
        import shutil

        shutil.rmtree(self.dir, ignore_errors=True)


def aoi_cells(aoi: np.ndarray, rows: int = 4 * ROWS) -> np.ndarray:
    """Flat indices (int64) of the True cells of ``aoi`` (``np.flatnonzero``, built a band at a time in int32)."""
    w = aoi.shape[1]
    parts = [(np.flatnonzero(aoi[r0:r0 + rows]) + r0 * w).astype(np.int32) for r0 in range(0, aoi.shape[0], rows)]
    return np.concatenate(parts) if parts else np.zeros(0, np.int32)


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

    def on_grid(self, grid: Grid, dtype="float32", rows: int = ROWS) -> np.ndarray:
        """The surface at every cell centre of ``grid``, computed ``rows`` rows at a time (each row's
        values do not depend on the band: the same bytes as one pass, without a full float64 array)."""
        out = np.empty(grid.shape, dtype=dtype)
        for r0 in range(0, grid.height, rows):
            out[r0:r0 + rows] = self.on_rows(grid, r0, r0 + rows, dtype)
        return out

    def on_rows(self, grid: Grid, r0: int, r1: int, dtype="float32") -> np.ndarray:
        """Rows ``r0:r1`` of :meth:`on_grid`."""
        return self.on_axes(grid.x, grid.y[r0:r1]).astype(dtype, copy=False)

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
def slope_aspect(dem: np.ndarray, res: float, rows: int = ROWS) -> tuple[np.ndarray, np.ndarray]:
    """Slope (degrees) and southness (= -cos(aspect), +1 facing south) by central differences.

    ``np.gradient`` along rows and columns (one-sided at the edges); southness is
    ``dz/dnorth / |grad z|`` and 0 where the surface is flat. Computed ``rows`` rows at a time with a
    row of halo on each side: the same values as one pass over the whole array.
    """
    h = dem.shape[0]
    slope = np.empty(dem.shape, dtype="f4")
    south = np.empty(dem.shape, dtype="f4")
    for r0 in range(0, h, rows):
        r1 = min(r0 + rows, h)
        a0, a1 = max(0, r0 - 1), min(h, r1 + 1)
        z = dem[a0:a1].astype("f4")
        if z.shape[0] > 1:
            dz_drow, dz_dx = np.gradient(z, res)
        else:  # a one-row grid: no gradient across rows
            dz_drow, dz_dx = np.zeros_like(z), np.gradient(z, res, axis=1)
        dz_dn = -dz_drow[r0 - a0:r1 - a0]  # rows run southwards
        dz_dx = dz_dx[r0 - a0:r1 - a0]
        mag = np.hypot(dz_dx, dz_dn)
        slope[r0:r1] = np.degrees(np.arctan(mag))
        with np.errstate(invalid="ignore", divide="ignore"):
            south[r0:r1] = np.where(mag > 1e-6, dz_dn / mag, 0.0)
    return slope, south


def feature_transform(mask: np.ndarray, res: float) -> np.ndarray:
    """Row and column (int32, shape ``(2, h, w)``) of the nearest True cell of every cell (EDT feature
    transform of :func:`scipy.ndimage.distance_transform_edt` with sampling ``res``), without its int64
    copy of the input."""
    sampling = np.array([res, res], dtype=np.float64)
    try:
        from scipy.ndimage import _nd_image

        ft = np.zeros((2,) + mask.shape, dtype=np.int32)
        _nd_image.euclidean_feature_transform((~mask).astype(np.int8), sampling, ft)
        return ft
    except (ImportError, AttributeError, TypeError):  # pragma: no cover - scipy moved its private kernel
        return ndi.distance_transform_edt(~mask, sampling=res, return_distances=False, return_indices=True)


def distance_to(mask: np.ndarray, res: float, indices: bool = False, rows: int = ROWS):
    """Euclidean distance (m) from every cell centre to the nearest True cell (EDT), float32.

    The distances are those of :func:`scipy.ndimage.distance_transform_edt` (float64 arithmetic, then
    rounded to float32) computed ``rows`` rows at a time from its feature transform, so the largest
    array is the int32 transform (8 bytes a cell) rather than scipy's float64 offsets (about 40).
    With ``indices`` the feature transform is returned too.
    """
    if not mask.any():
        d = np.full(mask.shape, np.float32(1e6), dtype="f4")
        return (d, None) if indices else d
    ft = feature_transform(mask, float(res))
    d = np.empty(mask.shape, dtype="f4")
    for r0 in range(0, mask.shape[0], rows):
        r1 = min(r0 + rows, mask.shape[0])
        d[r0:r1] = band_distance(ft, r0, r1, res)
    if indices:
        return d, ft
    del ft
    return d


def band_distance(ft: np.ndarray, r0: int, r1: int, res: float) -> np.ndarray:
    """Rows ``r0:r1`` of the distance (m, float32) to the cells of the feature transform ``ft``, in
    :func:`scipy.ndimage.distance_transform_edt`'s float64 arithmetic."""
    w = ft.shape[2]
    dt = (ft[:, r0:r1] - np.indices((r1 - r0, w), dtype=np.int32)
          - np.array([r0, 0], dtype=np.int32)[:, None, None]).astype(np.float64)
    dt *= float(res)
    np.multiply(dt, dt, dt)
    return np.sqrt(np.add.reduce(dt, axis=0)).astype("f4")


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


def weighted_sample(rng: np.random.Generator, weights: np.ndarray, n: int, chunk: int = 1 << 22) -> np.ndarray:
    """Indices of ``n`` distinct items drawn with probability proportional to ``weights``.

    Efraimidis-Spirakis: the ``n`` smallest of ``Exp(1) / w``; O(len(weights)). The keys are drawn and
    compared ``chunk`` items at a time (the same draws, in the same order, as one call), keeping each
    chunk's ``n`` smallest, so memory stays at a chunk and ``n`` keys however many items there are.
    """
    size = len(weights)
    n = int(min(n, sum(int(np.count_nonzero(np.asarray(weights[i:i + chunk]) > 0)) for i in range(0, size, chunk))))
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    keep_k, keep_i = [], []
    for i0 in range(0, size, chunk):
        w = np.asarray(weights[i0:i0 + chunk], dtype="f8")
        e = rng.exponential(size=w.shape)
        with np.errstate(divide="ignore"):
            keys = np.where(w > 0, e / np.where(w > 0, w, 1.0), np.inf)
        idx = np.argpartition(keys, n - 1)[:n] if len(keys) > n else np.arange(len(keys))
        keep_k.append(keys[idx])
        keep_i.append(idx + i0)
    keys, cand = np.concatenate(keep_k), np.concatenate(keep_i)
    idx = np.argpartition(keys, n - 1)[:n]
    return cand[idx[np.argsort(keys[idx], kind="stable")]]


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
