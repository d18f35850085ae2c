"""The one analysis grid every raster of a run lies on.

A :class:`Grid` is derived once from the config (CRS, resolution, Dask chunk size) and the
area of interest (extent snapped outward to whole cells); every stage builds its arrays with
:meth:`Grid.like` or reads inputs onto it with :func:`risk.io.read_raster_on_grid`, so no
raster of a run can drift off by half a cell.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import asdict, dataclass

import dask.array as da
import numpy as np
import xarray as xr
from affine import Affine


@dataclass(frozen=True)
class Grid:
    """A north-up raster grid.

    Parameters
    ----------
    crs : str
        Coordinate reference system, e.g. ``"EPSG:4549"``.
    res : float
        Cell size in CRS units (metres for projected CRSs).
    xmin, ymax : float
        Upper-left corner of the grid.
    width, height : int
        Number of columns and rows.
    chunk : int
        Dask chunk edge in cells.

    Examples
    --------
    >>> g = Grid.from_bounds((0, 0, 95, 61), "EPSG:4549", 30, chunk=2)
    >>> g.shape, g.bounds
    ((3, 4), (0.0, 0.0, 120.0, 90.0))
    """

    crs: str
    res: float
    xmin: float
    ymax: float
    width: int
    height: int
    chunk: int = 1024

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_bounds(cls, bounds, crs: str, res: float, chunk: int = 1024, pad: int = 0) -> Grid:
        """Grid covering ``bounds`` (xmin, ymin, xmax, ymax) with cells snapped to multiples of ``res``.

        ``pad`` adds that many whole cells on every side.
        """
        if res <= 0:
            raise ValueError(f"grid resolution must be positive, got {res!r}")
        xmin, ymin, xmax, ymax = (float(b) for b in bounds)
        x0 = math.floor(xmin / res) * res - pad * res
        y1 = math.ceil(ymax / res) * res + pad * res
        x1 = math.ceil(xmax / res) * res + pad * res
        y0 = math.floor(ymin / res) * res - pad * res
        width = max(1, round((x1 - x0) / res))
        height = max(1, round((y1 - y0) / res))
        return cls(str(crs), float(res), float(x0), float(y1), int(width), int(height), int(chunk))

    @classmethod
    def from_aoi(cls, aoi, crs: str, res: float, chunk: int = 1024, pad: int = 2) -> Grid:
        """Grid snapped around an AOI GeoDataFrame/GeoSeries (reprojected to ``crs`` first)."""
        return cls.from_bounds(aoi.to_crs(crs).total_bounds, crs, res, chunk, pad)

    @classmethod
    def from_json(cls, text: str) -> Grid:
        """Inverse of :meth:`to_json`."""
        return cls(**json.loads(text))

    def to_json(self) -> str:
        """Serialise to a small JSON string (stable key order)."""
        return json.dumps(asdict(self), sort_keys=True)

    # -- geometry -----------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols)."""
        return (self.height, self.width)

    @property
    def size(self) -> int:
        """Number of cells."""
        return self.height * self.width

    @property
    def transform(self) -> Affine:
        """Affine transform of the upper-left corner."""
        return Affine(self.res, 0.0, self.xmin, 0.0, -self.res, self.ymax)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax)."""
        return (self.xmin, self.ymax - self.height * self.res, self.xmin + self.width * self.res, self.ymax)

    @property
    def cell_area(self) -> float:
        """Area of one cell in CRS units squared (m² for projected CRSs)."""
        return self.res * self.res

    @property
    def x(self) -> np.ndarray:
        """Cell-centre x coordinates."""
        return self.xmin + (np.arange(self.width) + 0.5) * self.res

    @property
    def y(self) -> np.ndarray:
        """Cell-centre y coordinates (descending)."""
        return self.ymax - (np.arange(self.height) + 0.5) * self.res

    @property
    def chunks(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Dask chunks for a 2-D array on this grid."""
        return da.core.normalize_chunks((self.chunk, self.chunk), self.shape)

    def with_chunk(self, chunk: int) -> Grid:
        """The same grid with another chunk size."""
        return Grid(self.crs, self.res, self.xmin, self.ymax, self.width, self.height, int(chunk))

    def rowcol(self, xs, ys) -> tuple[np.ndarray, np.ndarray]:
        """Row and column indices of points (may fall outside the grid)."""
        xs = np.asarray(xs, dtype="f8")
        ys = np.asarray(ys, dtype="f8")
        cols = np.floor((xs - self.xmin) / self.res).astype(np.int64)
        rows = np.floor((self.ymax - ys) / self.res).astype(np.int64)
        return rows, cols

    def inside(self, rows, cols) -> np.ndarray:
        """Whether row/col indices fall on the grid."""
        rows = np.asarray(rows)
        cols = np.asarray(cols)
        return (rows >= 0) & (rows < self.height) & (cols >= 0) & (cols < self.width)

    def block_transform(self, row_off: int, col_off: int) -> Affine:
        """Transform of a block whose upper-left cell is (row_off, col_off)."""
        return self.transform @ Affine.translation(col_off, row_off)

    # -- arrays -------------------------------------------------------------------------------
    def like(self, data, name: str | None = None, attrs: dict | None = None) -> xr.DataArray:
        """Wrap a 2-D numpy or Dask array as a DataArray with this grid's coords and CRS."""
        if tuple(data.shape) != self.shape:
            raise ValueError(f"array shape {tuple(data.shape)} does not match grid shape {self.shape}")
        arr = xr.DataArray(data, dims=("y", "x"), coords={"y": self.y, "x": self.x}, name=name,
                           attrs=dict(attrs or {}))
        arr.attrs["crs"] = self.crs
        arr.attrs["res"] = self.res
        return arr

    def full(self, value, dtype="float32", dask: bool = True, name: str | None = None) -> xr.DataArray:
        """A constant raster on this grid (chunked when ``dask``)."""
        if dask:
            data = da.full(self.shape, value, dtype=dtype, chunks=self.chunks)
        else:
            data = np.full(self.shape, value, dtype=dtype)
        return self.like(data, name=name)

    def coordinates(self, dask: bool = True) -> tuple[xr.DataArray, xr.DataArray]:
        """Cell-centre x and y as 2-D rasters (chunked when ``dask``)."""
        x = self.x.astype("f8")
        y = self.y.astype("f8")
        if dask:
            xx = da.broadcast_to(da.from_array(x, chunks=self.chunk)[None, :], self.shape).rechunk(self.chunks)
            yy = da.broadcast_to(da.from_array(y, chunks=self.chunk)[:, None], self.shape).rechunk(self.chunks)
        else:
            xx = np.broadcast_to(x[None, :], self.shape)
            yy = np.broadcast_to(y[:, None], self.shape)
        return self.like(xx, "x_coord"), self.like(yy, "y_coord")

    def blocks(self):
        """Yield ``(row_off, col_off, rows, cols)`` of every Dask block, in row-major order."""
        rch, cch = self.chunks
        r0 = 0
        for nr in rch:
            c0 = 0
            for nc in cch:
                yield r0, c0, nr, nc
                c0 += nc
            r0 += nr

    def rasterize(self, geometries, values=1, fill=0, dtype="uint8", all_touched: bool = False,
                  dask: bool = True, name: str | None = None) -> xr.DataArray:
        """Burn shapely geometries onto the grid, block by block when ``dask``.

        Each block only sees the geometries whose bounding box meets it, so memory is bounded by
        one block plus the geometry list.
        """
        from rasterio.errors import NotGeoreferencedWarning
        from rasterio.features import rasterize
        from shapely import STRtree, box

        geoms = np.asarray(list(geometries), dtype=object)
        vals = np.broadcast_to(np.asarray(values), (len(geoms),)) if len(geoms) else np.asarray([])
        tree = STRtree(geoms) if len(geoms) else None

        def burn(r0, c0, nr, nc):
            out = np.full((nr, nc), fill, dtype=dtype)
            if tree is None:
                return out
            t = self.block_transform(r0, c0)
            bb = box(t.c, t.f - nr * self.res, t.c + nc * self.res, t.f)
            idx = tree.query(bb)
            if len(idx) == 0:
                return out
            idx = np.sort(idx)
            shapes = [(g, v) for g, v in zip(geoms[idx], vals[idx], strict=True)]
            with warnings.catch_warnings():
                # rasterio's in-memory scratch dataset warns that it has no transform: harmless.
                warnings.simplefilter("ignore", NotGeoreferencedWarning)
                return rasterize(shapes, out_shape=(nr, nc), transform=t, fill=fill, dtype=dtype,
                                 all_touched=all_touched)

        return self.from_blocks(burn, dtype, name=name, lazy=dask)

    def from_blocks(self, func, dtype, name: str | None = None, attrs: dict | None = None,
                    lazy: bool = True) -> xr.DataArray:
        """A lazy raster on this grid whose Dask block at ``(r0, c0)`` of ``nr × nc`` cells is
        ``func(r0, c0, nr, nc)`` (a numpy array of ``dtype``); without ``lazy``, ``func`` of the whole grid.

        ``func``, with all it closes over, is tokenized once for the whole raster, not once a block: a closure
        over a layer's geometries is pickled to be tokenized (0.7 s for 35,000 river lines), which once a block
        took 11 minutes a layer on a 10⁹-cell grid's 961 blocks.

        Examples
        --------
        >>> g = Grid("EPSG:4549", 30.0, 0.0, 90.0, 4, 3, chunk=2)
        >>> g.from_blocks(lambda r0, c0, nr, nc: np.full((nr, nc), r0 * 10 + c0), "int64").values.tolist()
        [[0, 0, 2, 2], [0, 0, 2, 2], [20, 20, 22, 22]]
        """
        if not lazy:
            return self.like(func(0, 0, self.height, self.width), name=name, attrs=attrs)
        import dask

        block = dask.delayed(func, pure=True)
        rows = [[da.from_delayed(block(r0, c0, nr, nc), (nr, nc), dtype=dtype)
                 for c0, nc in _col_starts(self)] for r0, _, nr, _ in _row_starts(self)]
        return self.like(da.block(rows), name=name, attrs=attrs)


def _row_starts(grid: Grid):
    r0 = 0
    for nr in grid.chunks[0]:
        yield r0, 0, nr, 0
        r0 += nr


def _col_starts(grid: Grid):
    c0 = 0
    for nc in grid.chunks[1]:
        yield c0, nc
        c0 += nc


def sample_stride(shape, n: int) -> int:
    """Stride of the regular sub-grid that holds about ``n`` cells of a raster of ``shape``.

    Every systematic sample of the package (class breaks, normalisation bounds, entropy weights,
    the quantiles recorded while writing) uses this one stride, so samples drawn in different
    places from the same raster are the same cells.

    Examples
    --------
    >>> sample_stride((1000, 1000), 10_000)
    10
    >>> sample_stride((10, 10), 10_000)
    1
    """
    total = int(np.prod(shape))
    return max(1, int(math.floor(math.sqrt(total / max(n, 1)))))


def systematic_sample(arr: xr.DataArray, n: int, dropna: bool = True) -> np.ndarray:
    """Values of a regular sub-grid of about ``n`` cells, as float64 (cheap on Dask: a strided slice).

    Parameters
    ----------
    arr : xarray.DataArray
        A 2-D raster, numpy- or Dask-backed.
    n : int
        About how many cells to draw (see :func:`sample_stride`).
    dropna : bool
        True: only the finite values. False: every sampled cell, NaN kept, so samples of
        several rasters of one grid stay aligned cell for cell.
    """
    step = sample_stride(arr.shape, n)
    sub = arr.data[::step, ::step]
    vals = sub.compute() if isinstance(sub, da.Array) else np.asarray(sub)
    vals = np.asarray(vals, dtype="f8").ravel()
    return vals[np.isfinite(vals)] if dropna else vals
