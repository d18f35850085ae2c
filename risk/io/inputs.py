"""Opening inputs cheaply for the checks at the door (:mod:`risk.checks`): a raster is sampled, and read
whole only for its value range and class codes, a window of blocks at a time."""

from __future__ import annotations

import math

import numpy as np


def sample_in_area(path, aoi, cells: int = 1024) -> tuple[np.ndarray, str | None]:
    """A raster's values at evenly spaced points of the study area, in the raster's own CRS.

    The area's bounding box in the raster's CRS is cut into about ``cells`` sample cells along its longer
    side; each sample cell whose centre lies inside the area gets the raster's value there (nearest cell of a
    decimated read: overviews when the file has them, at most about twice the sample density, and only the
    window over the area). No data, a masked cell or a point outside the raster is NaN.

    Parameters
    ----------
    path : path
        The raster.
    aoi : geopandas.GeoDataFrame
        The study area (any CRS).
    cells : int
        Sample cells along the longer side of the area.

    Returns
    -------
    values : numpy.ndarray
        float64, one per sample point inside the area.
    crs : str or None
        The raster's CRS (``None``: it has none, and ``values`` is empty).
    """
    import rasterio
    from affine import Affine
    from rasterio.features import geometry_mask

    with rasterio.open(path) as src:
        if src.crs is None:
            return np.empty(0), None
        geom = aoi.to_crs(src.crs).geometry.union_all()
        left, bottom, right, top = geom.bounds
        step = max(right - left, top - bottom) / max(int(cells), 1)
        width, height = max(1, math.ceil((right - left) / step)), max(1, math.ceil((top - bottom) / step))
        inside = geometry_mask([geom], (height, width), Affine(step, 0, left, 0, -step, top), invert=True)
        rows, cols = np.nonzero(inside)
        xs, ys = left + (cols + 0.5) * step, top - (rows + 0.5) * step
        values = np.full(xs.size, np.nan)
        win = _window_over(src, (left, bottom, right, top))
        if win is None:
            return values, src.crs.to_string()
        shape = (min(win.height, 2 * height), min(win.width, 2 * width))
        with rasterio.Env(GDAL_CACHEMAX=_rows_of_blocks_bytes(src, win)):
            arr = src.read(1, window=win, out_shape=shape, masked=True)
        data = np.ma.filled(arr.astype("float64"), np.nan)
        inv = ~(src.window_transform(win) @ Affine.scale(win.width / shape[1], win.height / shape[0]))
        fc, fr = inv.a * xs + inv.b * ys + inv.c, inv.d * xs + inv.e * ys + inv.f
        ri, ci = np.floor(fr).astype(np.int64), np.floor(fc).astype(np.int64)
        ok = (ri >= 0) & (ri < shape[0]) & (ci >= 0) & (ci < shape[1])
        values[ok] = data[ri[ok], ci[ok]]
        return values, src.crs.to_string()


def _window_over(src, bounds):
    """The window of whole cells of ``src`` that covers ``bounds`` (in its CRS), clipped to the raster; None when
    they do not overlap."""
    from rasterio.windows import Window, from_bounds

    win = from_bounds(*bounds, src.transform)
    c0, r0 = max(0, math.floor(win.col_off)), max(0, math.floor(win.row_off))
    c1 = min(src.width, math.ceil(win.col_off + win.width))
    r1 = min(src.height, math.ceil(win.row_off + win.height))
    return Window(c0, r0, c1 - c0, r1 - r0) if c1 > c0 and r1 > r0 else None


def _rows_of_blocks_bytes(src, win) -> int:
    """GDAL's block cache (bytes: what ``rasterio.Env(GDAL_CACHEMAX=...)`` takes) for a decimated read: two
    rows of the raster's blocks across ``win`` and its mask, at least 16 MB. The read visits each row of
    blocks once, top to bottom: with less, each block is decoded again for every sampled line (a 44-byte
    cache took 210 s instead of 4 s on 10⁸ cells); with more, the cache only keeps blocks it will not read
    again (the process's 256 MB filled up on large inputs: 543 MB peak for one 10⁸-cell DEM, now 324 MB)."""
    bh, bw = src.block_shapes[0]
    row = math.ceil(win.width / bw) * bh * bw * (np.dtype(src.dtypes[0]).itemsize + 1)
    return max(16, math.ceil(2 * row / 2**20)) * 2**20


def _area_blocks(path, aoi, strip_cells: int = 4 * 2**20):
    """Every cell of a raster's window over the area's bounding box, as masked arrays of whole blocks (about
    ``strip_cells`` cells each, windows on block edges: each block decoded once, memory flat whatever the size)."""
    import rasterio
    from rasterio.windows import Window

    with rasterio.open(path) as src:
        win = _window_over(src, aoi.to_crs(src.crs).total_bounds)
        if win is None:
            return
        c0, r0, c1, r1 = win.col_off, win.row_off, win.col_off + win.width, win.row_off + win.height
        (bh, bw), itemsize = src.block_shapes[0], np.dtype(src.dtypes[0]).itemsize
        cols = max(bw, strip_cells // bh // bw * bw)
        rows = max(bh, strip_cells // min(cols, c1 - c0) // bh * bh)
        with rasterio.Env(GDAL_CACHEMAX=max(16 * 2**20, 2 * rows * cols * (itemsize + 1))):
            for r in range(r0 - r0 % bh, r1, rows):
                for c in range(c0 - c0 % bw, c1, cols):
                    ra, ca = max(r, r0), max(c, c0)
                    yield src.read(1, window=Window(ca, ra, min(c + cols, c1) - ca, min(r + rows, r1) - ra),
                                   masked=True)


def cells_outside(path, aoi, lower: float | None, upper: float | None,
                  strip_cells: int = 4 * 2**20) -> tuple[int, float, int, float]:
    """Exact counts of a raster's valid cells below ``lower`` and above ``upper`` over the study area's extent.

    The sample of :func:`sample_in_area` sees one cell in every few (about 3 on the 30 m demo, 40 at 10⁹ cells):
    a lone unmasked -9999 cell, or a block smaller than that spacing, slips between its points and gives a
    10 km relief or a sink there. This reads every cell of the window over the area's bounding box, in windows
    of whole blocks (about ``strip_cells`` cells each: memory stays flat whatever the raster's size).

    Parameters
    ----------
    path : path
        The raster (with a CRS).
    aoi : geopandas.GeoDataFrame
        The study area (any CRS).
    lower, upper : float or None
        The plausible range (``None``: no bound on that side).
    strip_cells : int
        Cells read at a time (at least one block).

    Returns
    -------
    n_below, lowest, n_above, highest : int, float, int, float
        How many cells lie below ``lower`` and the lowest of them (NaN when none), the same above ``upper``.
    """
    n_lo = n_hi = 0
    lowest = highest = math.nan
    for a in _area_blocks(path, aoi, strip_cells):
        if lower is not None and (bad := (a < lower).filled(False)).any():
            n_lo, lowest = n_lo + int(bad.sum()), float(np.fmin(lowest, a.data[bad].min()))
        if upper is not None and (bad := (a > upper).filled(False)).any():
            n_hi, highest = n_hi + int(bad.sum()), float(np.fmax(highest, a.data[bad].max()))
    return n_lo, lowest, n_hi, highest


def unknown_codes(path, aoi, codes, strip_cells: int = 4 * 2**20) -> dict[float, int]:
    """``{code: cells}`` of a categorical raster's valid cells whose value is not in ``codes``, over every cell
    of the study area's extent (a lone unknown cell falls between :func:`sample_in_area`'s points)."""
    known = {float(c) for c in codes}
    found: dict[float, int] = {}
    for a in _area_blocks(path, aoi, strip_cells):
        v = a.compressed()
        if v.dtype.kind == "u" and v.dtype.itemsize <= 2:  # the usual uint8 land cover: a histogram, 5x faster
            n = np.bincount(v)
            code = np.flatnonzero(n)
            n = n[code]
        else:
            code, n = np.unique(v[np.isfinite(v)], return_counts=True)
        for c, k in zip(code, n, strict=True):
            if float(c) not in known:
                found[float(c)] = found.get(float(c), 0) + int(k)
    return found
