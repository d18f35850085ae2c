"""Rasters: reading any raster onto the analysis grid block by block, writing COGs atomically."""

from __future__ import annotations

import contextlib
import functools
import math
import os
from collections.abc import Mapping
from pathlib import Path

import dask.array as da
import numpy as np
import rasterio
import xarray as xr
from rasterio.enums import MaskFlags, Resampling
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window

from risk.errors import InputError
from risk.grid import Grid
from risk.io.files import _tmp_suffix, atomic_path
from risk.runtime import Milestones

# -- rasters: reading onto the grid -----------------------------------------------------------
_RESAMPLING = {r.name: r for r in Resampling}


def read_raster_on_grid(path, grid: Grid, resampling: str = "bilinear", band: int = 1,
                        dtype: str = "float32", dask_: bool = True, name: str | None = None) -> xr.DataArray:
    """Read one band of any raster onto ``grid``, warped block by block.

    Each Dask block opens the file and reads its own window through a GDAL warped VRT, so the
    graph pickles to a remote ``dask.distributed`` scheduler and memory stays at one block per
    worker however large the grid. Source nodata becomes NaN for float outputs. A file already on
    the grid (same CRS, transform and shape, as every raster the pipeline writes) is read by plain
    windows instead: the same arrays, without the warper's cost (4-5x for float32, ~28x for uint8).
    """
    path = str(path)
    if resampling not in _RESAMPLING:
        raise ValueError(f"unknown resampling {resampling!r}; expected one of {sorted(_RESAMPLING)}")
    with rasterio.open(path) as src:
        if src.crs is None:
            raise InputError(f"{path}: raster has no CRS")
        if band > src.count:
            raise InputError(f"{path}: has {src.count} band(s), band {band} was asked for")
        on_grid = on_the_grid(src, grid)
    kw = dict(path=path, grid=grid, resampling=resampling, band=band, dtype=dtype, on_grid=on_grid)
    return grid.from_blocks(functools.partial(_read_block, **kw), dtype, name=name or Path(path).stem, lazy=dask_)


def on_the_grid(src, grid: Grid) -> bool:
    """Whether an open raster lies exactly on ``grid`` (CRS, transform and shape): no warping needed."""
    return (src.crs == rasterio.crs.CRS.from_user_input(grid.crs) and (src.height, src.width) == grid.shape
            and src.transform.almost_equals(grid.transform, precision=1e-9 * max(1.0, abs(grid.res))))


STREAM_CACHE_BYTES = 256
"""GDAL's block cache (bytes, as ``rasterio.Env(GDAL_CACHEMAX=...)`` takes it) while rasters are read a chunk at
a time and written a batch of whole blocks at a time: next to none.

Each block is decoded (or encoded) once either way, so a cache would only keep blocks that are not used again,
up to the process's ``GDAL_CACHEMAX`` (256 MB) on rasters larger than that. This value used to be the profile's
``gdal_cachemax_mb`` passed where bytes are expected (256 bytes): measured then on the demo against 256 MB,
the same CPU and the same bytes. GDAL's limit is the process's while ``rasterio.Env`` restores it per thread, so
once Dask's threads have run such reads a job's other GDAL work may also run with this value rather than the
profile's (:func:`risk.runtime.dask_session`); a COG copy sets its own (:data:`COG_CACHE_BYTES`).
"""


def _read_block(r0, c0, nr, nc, *, path, grid: Grid, resampling, band, dtype, on_grid=False):
    is_float = np.issubdtype(np.dtype(dtype), np.floating)
    with rasterio.Env(GDAL_CACHEMAX=STREAM_CACHE_BYTES):
        with rasterio.open(path) as src:
            nodata = src.nodatavals[band - 1]
            if on_grid and _nodata_only(src, band):
                # Direct windowed read: on an identical grid the warper copies the same cells, slowly.
                return _fill_nodata(src.read(band, window=Window(c0, r0, nc, nr)), nodata, dtype)
            if on_grid:
                arr = src.read(band, window=Window(c0, r0, nc, nr), masked=True)
            else:
                vrt_opts = dict(crs=grid.crs, transform=grid.block_transform(r0, c0), width=nc, height=nr,
                                resampling=_RESAMPLING[resampling])
                if nodata is not None:
                    vrt_opts.update(src_nodata=nodata, nodata=nodata)
                with WarpedVRT(src, **vrt_opts) as vrt:
                    arr = vrt.read(band, masked=True)
    if is_float:
        return arr.astype(dtype).filled(np.nan)
    return arr.filled(0).astype(dtype)


def _nodata_only(src, band: int) -> bool:
    """Whether a masked read of ``band`` masks exactly its cells equal to nodata (or none).

    True without a mask band or alpha, and with a nodata that compares exactly: none, NaN in a float
    band, or an integer in range of an integer band (GDAL compares other float nodata with a tolerance).
    """
    if set(src.mask_flag_enums[band - 1]) not in ({MaskFlags.all_valid}, {MaskFlags.nodata}):
        return False
    nodata, kind = src.nodatavals[band - 1], np.dtype(src.dtypes[band - 1])
    if nodata is None:
        return True
    if kind.kind == "f":
        return bool(np.isnan(nodata))
    info = np.iinfo(kind)
    return float(nodata).is_integer() and info.min <= nodata <= info.max


def _fill_nodata(arr: np.ndarray, nodata, dtype) -> np.ndarray:
    """A plain read as a masked read gives it: nodata cells NaN (float ``dtype``) or 0 (integer ``dtype``).

    The same values as ``read(masked=True)`` then ``.astype(dtype).filled(nan)`` (or ``.filled(0).astype``)
    without the masked array, which took as long as decompressing the tiles.

    Examples
    --------
    >>> _fill_nodata(np.array([1, 255, 3], "uint8"), 255, "float32").tolist()
    [1.0, nan, 3.0]
    >>> _fill_nodata(np.array([1.5, np.nan], "float32"), np.nan, "uint8").tolist()
    [1, 0]
    """
    out_float = np.issubdtype(np.dtype(dtype), np.floating)
    if nodata is None:
        missing = None
    elif arr.dtype.kind == "f":  # NaN (:func:`_nodata_only`)
        missing = np.isnan(arr) if not out_float else None  # NaN stays NaN in a float output
    else:
        missing = arr == np.asarray(nodata).astype(arr.dtype)
    if out_float:
        out = arr.astype(dtype, copy=False)
        if missing is not None:
            out = np.where(missing, np.array(np.nan, dtype), out)
        return out
    if missing is not None:
        arr = np.where(missing, np.zeros((), arr.dtype), arr)
    return arr.astype(dtype, copy=False)


def aoi_mask(aoi, grid: Grid, dask_: bool = True) -> xr.DataArray:
    """Boolean raster: True for cells whose centre lies inside the AOI."""
    geoms = aoi.to_crs(grid.crs).geometry.values
    return grid.rasterize(geoms, 1, 0, "uint8", dask=dask_, name="aoi").astype(bool)


# -- rasters: writing -------------------------------------------------------------------------
def gdal_threads(threads: str | int | None = None) -> str:
    """GDAL's ``NUM_THREADS`` for a write: ``threads`` if given, else the rule's ``GDAL_NUM_THREADS``, else all CPUs.

    An explicit ``NUM_THREADS`` overrides ``GDAL_NUM_THREADS``, so writers must pass the rule's own
    setting on rather than ``ALL_CPUS``.
    """
    return str(threads) if threads is not None else os.environ.get("GDAL_NUM_THREADS", "ALL_CPUS")


def geotiff_profile(grid: Grid, dtype: str = "float32", nodata=np.nan, threads: str | None = None,
                    zlevel: int | None = None, compress: str = "DEFLATE") -> dict:
    """The rasterio profile of every GeoTIFF the package writes on ``grid``.

    Tiled 512 × 512, DEFLATE with the floating-point predictor for float rasters (horizontal
    differencing for integers), compressed on ``threads`` (default: ``GDAL_NUM_THREADS``, which
    :func:`risk.runtime.dask_session` sets to the rule's threads, else all CPUs; the bytes do not
    depend on it); ``zlevel`` None keeps GDAL's default level. ``compress="NONE"`` writes the same
    tiles uncompressed (no predictor): scratch files, and the format GDAL's command-line tools write
    by default (``bench/bench_indicators.py`` compares like with like).
    """
    threads = gdal_threads(threads)
    profile = dict(driver="GTiff", width=grid.width, height=grid.height, count=1, dtype=dtype, crs=grid.crs,
                   transform=grid.transform, nodata=nodata, tiled=True, blockxsize=512, blockysize=512,
                   compress=compress, num_threads=threads, BIGTIFF="IF_SAFER")
    if compress.upper() == "NONE":
        return profile
    profile["predictor"] = 3 if np.dtype(dtype).kind == "f" else 2
    if zlevel is not None:
        profile["zlevel"] = int(zlevel)
    return profile


COG_RAW_TEMP_BYTES = 2 * 1024 ** 3
"""Up to this much disk for the tiled files a COG write goes through, they are written uncompressed.

The COG copy (:func:`cog_copy`) reads the pixels back and compresses them itself, so the intermediate's
compression only costs CPU twice (DEFLATE at write, inflate at copy; ~0.2 s a 7 Mpx float32 raster): the
COG is the same bytes from either. Above the budget (a 10⁸-cell grid, many files) they stay DEFLATE-compressed.
"""


def intermediate_profile(profile: dict, n_files: int = 1) -> dict:
    """``profile`` for the tiled intermediate of ``n_files`` COGs: uncompressed within :data:`COG_RAW_TEMP_BYTES`.

    Examples
    --------
    >>> p = {"width": 100, "height": 100, "dtype": "float32", "compress": "DEFLATE", "predictor": 3, "zlevel": 1}
    >>> intermediate_profile(p)
    {'width': 100, 'height': 100, 'dtype': 'float32'}
    >>> intermediate_profile(p, n_files=60_000) == p
    True
    """
    size = int(profile["width"]) * int(profile["height"]) * np.dtype(profile["dtype"]).itemsize * max(1, n_files)
    if size > COG_RAW_TEMP_BYTES:
        return profile
    return {k: v for k, v in profile.items() if k not in ("compress", "predictor", "zlevel")}


def cast_block(block, dtype: str, nodata) -> np.ndarray:
    """A computed block in the file's dtype: NaN becomes ``nodata`` (0 if None) for integer files.

    Examples
    --------
    >>> cast_block(np.array([1.0, np.nan]), "uint8", 0).tolist()
    [1, 0]
    """
    block = np.asarray(block)
    if np.dtype(dtype).kind != "f" and block.dtype.kind == "f":
        block = np.where(np.isnan(block), nodata if nodata is not None else 0, block)
    return block.astype(dtype, copy=False)


def write_raster(arr: xr.DataArray | np.ndarray, path, grid: Grid, *, nodata=np.nan, dtype: str = "float32",
                 cog: bool = False, tags: Mapping[str, str] | None = None,
                 band_description: str | None = None, colormap: Mapping[int, tuple] | None = None,
                 overview_resampling: str = "average", threads: str | None = None,
                 batch_pixels: int = 4 * 1024 * 1024) -> None:
    """Write a 2-D raster on ``grid`` as a tiled, DEFLATE-compressed GeoTIFF, atomically.

    Dask arrays are computed in windows of whole Dask blocks of about ``batch_pixels`` cells
    (:func:`risk.io.batchwrite.batches`: block rows, or parts of one block row on a wide grid) in
    the calling process, so memory stays bounded on any scheduler, local or remote, and does not grow
    with the grid's width (batches of whole block rows did: 31 M cells at 10⁸ cells). With
    ``cog`` the tiled file is then copied into GDAL's Cloud-Optimized layout with internal
    overviews (a streaming copy: GDAL reads the tiles back rather than holding the raster).
    """
    path = Path(path)
    data = arr.data if isinstance(arr, xr.DataArray) else arr
    if tuple(data.shape) != grid.shape:
        raise ValueError(f"{path.name}: array shape {tuple(data.shape)} does not match grid {grid.shape}")
    profile = geotiff_profile(grid, dtype, nodata, threads)
    profile = intermediate_profile(profile) if cog else profile
    with atomic_path(path, _tmp_suffix(path)) as final_tmp:
        target = final_tmp if not cog else final_tmp.with_name(final_tmp.name + ".tiles.tif")
        try:
            with rasterio.Env(GDAL_CACHEMAX=STREAM_CACHE_BYTES):
                with rasterio.open(target, "w", **profile) as dst:
                    for window, block in _iter_row_batches(data, grid, dtype, nodata, batch_pixels, path.name):
                        dst.write(block, 1, window=window)
                    _describe(dst, tags, band_description, colormap)
                if cog:
                    progress = Milestones(f"COG copy of {path.name}", 1, "files")  # quiet unless long
                    cog_copy(target, final_tmp, dtype, overview_resampling, threads)
                    progress.done(1)
        finally:
            if cog:
                with contextlib.suppress(FileNotFoundError):
                    target.unlink()
    if colormap is not None and cog:
        _ensure_colormap(path, colormap)


COG_ZLEVEL = 2
"""DEFLATE level of the published COGs (GDAL's default is 6).

Measured on nine 6.8 Mpx rasters of the demo (float32 and uint8, with their overviews): level 6 took 3.02 CPU-s,
level 2 1.98 (with :data:`COG_TMP_ZSTD_LEVEL`), for files 2.5 % larger; the decoded pixels are the same (DEFLATE is
lossless, and any level is read by every DEFLATE reader: QGIS 3.22 / GDAL 3.4 included).
"""

COG_TMP_ZSTD_LEVEL = "1"
"""ZSTD level of the temporary overview file GDAL's COG driver writes and reads back (its default is 9).

That file is deleted after the copy: the COG is the same bytes whatever its level (12 % less CPU per COG).
"""


COG_CACHE_BYTES = 32 * 2**20
"""GDAL's block cache (bytes) while a COG is copied: the copy streams, so it needs little.

With the process's cache (``GDAL_CACHEMAX``, 256 MB) GDAL kept blocks it would not read again, up to all of it
on rasters larger than that: +190 MB of peak memory from 10⁷ to 10⁸ cells in ``combine_risk``. Measured on a
10⁸-cell raster and on one 31,627 cells wide (a 10⁹ grid's rows): 256, 32 and 8 MB give the same bytes and the
same CPU; peaks 456, 229 and 209 MB.
"""


def cog_copy(src, dst, dtype: str = "float32", overview_resampling: str = "average",
             threads: str | None = None, zlevel: int | None = COG_ZLEVEL) -> None:
    """Copy a GeoTIFF into GDAL's Cloud-Optimized layout with internal overviews (values unchanged).

    A streaming copy: GDAL reads the tiles back rather than holding the raster. DEFLATE is lossless,
    so every pixel of ``dst`` equals that of ``src``; tags, band description and colour table are kept.
    ``overview_resampling`` is ``average`` for continuous values, ``nearest`` for classes; ``zlevel`` is the
    DEFLATE level (:data:`COG_ZLEVEL`; None: GDAL's default).
    """
    from rasterio.shutil import copy as rio_copy

    opts = dict(driver="COG", COMPRESS="DEFLATE", PREDICTOR="YES" if np.dtype(dtype).kind == "f" else "NO",
                BLOCKSIZE=512, OVERVIEWS="IGNORE_EXISTING", RESAMPLING=overview_resampling.upper(),
                NUM_THREADS=gdal_threads(threads), BIGTIFF="IF_SAFER")
    if zlevel is not None:
        opts["LEVEL"] = int(zlevel)
    with rasterio.Env(ZSTD_LEVEL_OVERVIEW=COG_TMP_ZSTD_LEVEL, GDAL_CACHEMAX=COG_CACHE_BYTES):
        rio_copy(str(src), str(dst), **opts)


def to_cog(path, dtype: str = "float32", overview_resampling: str = "average", threads: str | None = None,
           zlevel: int | None = COG_ZLEVEL) -> None:
    """Rewrite an existing GeoTIFF as a COG in place, atomically (see :func:`cog_copy`)."""
    path = Path(path)
    with atomic_path(path, ".cog" + path.suffix) as tmp:
        cog_copy(path, tmp, dtype, overview_resampling, threads, zlevel)


def _describe(dst, tags, band_description, colormap) -> None:
    if tags:
        dst.update_tags(**{str(k): str(v) for k, v in tags.items()})
    if band_description:
        dst.set_band_description(1, band_description)
    if colormap is not None:
        dst.write_colormap(1, {int(k): tuple(v) for k, v in colormap.items()})


def _ensure_colormap(path: Path, colormap) -> None:
    with rasterio.open(path) as src:
        try:
            has = bool(src.colormap(1))
        except ValueError:
            has = False
    if not has:  # pragma: no cover - GDAL's COG driver keeps colour tables since 3.1
        raise RuntimeError(f"{path}: the COG copy lost its colour table")


def _iter_row_batches(data, grid: Grid, dtype, nodata, batch_pixels, name: str = "a raster"):
    from risk.io.batchwrite import batches, window_computer  # it imports this module

    if not isinstance(data, da.Array):
        yield Window(0, 0, grid.width, grid.height), cast_block(data, dtype, nodata)
        return
    windows = list(batches(grid, data.chunks, batch_pixels))
    compute = window_computer([data])  # the graph optimized once, not once per window
    progress = Milestones(f"writing {name}", len(windows), "batches")  # quiet unless long
    for i, (r0, r1, c0, c1) in enumerate(windows, 1):
        yield Window(c0, r0, c1 - c0, r1 - r0), cast_block(compute(r0, r1, c0, c1)[0], dtype, nodata)
        progress.done(i)


def read_raster(path, masked_nan: bool = True) -> tuple[np.ndarray, dict]:
    """Read band 1 of a raster fully into memory (for tests and small outputs) with its profile."""
    with rasterio.open(path) as src:
        arr = src.read(1)
        prof = dict(src.profile)
        if masked_nan and src.nodata is not None and arr.dtype.kind == "f" and not np.isnan(src.nodata):
            arr = np.where(arr == src.nodata, np.nan, arr)
    return arr, prof


def read_decimated(path, max_pixels: int = 1_500_000) -> tuple[np.ndarray, Grid]:
    """Band 1 read at a reduced size (nearest, from overviews where present) for drawing a map.

    Returns the array and the raster's full :class:`Grid`, whose bounds the array spans.
    """
    full = grid_of(path)
    step = max(1, int(np.ceil(np.sqrt(full.size / max_pixels))))
    rows, cols = -(-full.height // step), -(-full.width // step)
    with rasterio.open(path) as src:
        arr = src.read(1, out_shape=(rows, cols), resampling=Resampling.nearest)
    return arr, full


def grid_of(path, chunk: int = 1024) -> Grid:
    """The :class:`Grid` of an existing north-up raster."""
    with rasterio.open(path) as src:
        t = src.transform
        if t.b != 0 or t.d != 0 or abs(t.a + t.e) > 1e-9:
            raise InputError(f"{path}: not a north-up square-cell raster")
        return Grid(src.crs.to_string(), float(t.a), float(t.c), float(t.f), src.width, src.height, chunk)


def read_grid(path) -> Grid:
    """The analysis grid of a run, as the ``build_grid`` rule wrote it (``grid/grid.json``)."""
    return Grid.from_json(Path(path).read_text(encoding="utf-8"))


# -- people per cell ----------------------------------------------------------------------------
# Population rasters hold people per cell of *their* grid; reading one onto the analysis grid with an
# area-weighted mean and scaling by the ratio of cell areas keeps the head count whatever the two
# resolutions and CRSs (bilinear or nearest would not).
def source_cell_area_m2(path) -> float:
    """Area of one cell of a raster in m² (at its centre latitude for a geographic CRS)."""
    with rasterio.open(path) as src:
        t = src.transform
        if src.crs is None:
            raise InputError(f"{path}: raster has no CRS")
        if src.crs.is_projected:
            unit = src.crs.linear_units_factor[1] if src.crs.linear_units_factor else 1.0
            return abs(t.a * t.e) * unit * unit
        from pyproj import Geod

        cx, cy = src.xy(src.height // 2, src.width // 2)
        lon0, lat0 = cx - t.a / 2, cy - abs(t.e) / 2
        area, _ = Geod(ellps="WGS84").polygon_area_perimeter(
            [lon0, lon0 + t.a, lon0 + t.a, lon0], [lat0, lat0, lat0 + abs(t.e), lat0 + abs(t.e)])
        return abs(area)


def read_population_on_grid(path, grid: Grid, dask_: bool = True, name: str = "population"):
    """People per analysis-grid cell from a people-per-cell raster of any resolution and CRS.

    Area-weighted mean (GDAL ``average``) of the source cells under each grid cell, times
    ``grid cell area / source cell area``; NaN where the source has no data.
    """
    ratio = grid.cell_area / source_cell_area_m2(path)
    arr = read_raster_on_grid(path, grid, resampling="average", dask_=dask_, name=name)
    if math.isclose(ratio, 1.0, rel_tol=1e-9):
        return arr
    out = arr * np.float32(ratio)
    out.attrs = arr.attrs
    out.name = name
    return out


def read_tags(path) -> dict[str, str]:
    """The dataset-level GeoTIFF metadata of a raster (method, breaks, units ... as written)."""
    with rasterio.open(path) as src:
        return src.tags()


def read_rasters_on_grid(paths, grid: Grid, names=None, resampling: str = "nearest") -> list[xr.DataArray]:
    """Several rasters read onto ``grid`` (lazily, by blocks), named ``names`` (default: the file stems).

    The models read their feature stacks this way: the indicator rasters are already on the grid.
    """
    paths = list(paths)
    names = list(names) if names is not None else [Path(p).stem for p in paths]
    if len(names) != len(paths):
        raise ValueError(f"{len(names)} names for {len(paths)} rasters")
    return [read_raster_on_grid(p, grid, resampling=resampling, name=n) for p, n in zip(paths, names, strict=True)]
