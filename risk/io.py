"""Reading and writing files: rasters onto the analysis grid, vector layers, tables, JSON.

Everything that touches a path lives here, so the rest of the package stays pure. Every
writer is atomic: it writes a temporary file beside the target and renames it into place, so a
killed run never leaves a half-written output that Snakemake would take as done, and a rerun
writes the same bytes (GeoPackage timestamps are pinned through ``OGR_CURRENT_DATE``).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import dask
import dask.array as da
import numpy as np
import pandas as pd
import rasterio
import xarray as xr
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT

from risk.grid import Grid

FIXED_DATE = "2000-01-01T00:00:00Z"
"""Timestamp written into GeoPackages so reruns give the same bytes."""

os.environ.setdefault("OGR_CURRENT_DATE", FIXED_DATE)
os.environ.setdefault("GDAL_CACHEMAX", "256")


# -- atomic writes ----------------------------------------------------------------------------
@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = suffix if suffix is not None else ".tmp" + path.suffix
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    os.unlink(tmp)  # drivers want to create the file themselves
    tmp = Path(tmp)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        for leftover in (tmp, Path(str(tmp) + ".aux.xml")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def _tmp_suffix(path: Path) -> str:
    # GDAL picks the driver from the extension in some places: keep the real one last.
    return ".tmp" + path.suffix


def write_json(obj, path) -> None:
    """Write JSON with sorted keys and UTF-8 text (Chinese kept readable)."""
    path = Path(path)
    with atomic_path(path, _tmp_suffix(path)) as tmp:
        tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True, default=_json_default)
                       + "\n", encoding="utf-8")


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def write_text(text: str, path) -> None:
    """Write a UTF-8 text file atomically."""
    path = Path(path)
    with atomic_path(path, _tmp_suffix(path)) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_table(df: pd.DataFrame, path, index: bool = False) -> None:
    """Write a CSV with a UTF-8 BOM, so that Excel on a Chinese Windows shows the headers right."""
    path = Path(path)
    with atomic_path(path, _tmp_suffix(path)) as tmp:
        df.to_csv(tmp, index=index, encoding="utf-8-sig", lineterminator="\n")


def read_table(path) -> pd.DataFrame:
    """Read a CSV written by :func:`write_table` (or any UTF-8 CSV)."""
    return pd.read_csv(path, encoding="utf-8-sig")


# -- vectors ----------------------------------------------------------------------------------
def read_vector(path, layer: str | None = None, crs: str | None = None):
    """Read a vector layer with pyogrio; reproject to ``crs`` when given."""
    import geopandas as gpd

    gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
    if crs is not None and gdf.crs is not None:
        gdf = gdf.to_crs(crs)
    return gdf


def write_layers(layers: Mapping[str, object], path, geometry_types: Mapping[str, str] | None = None) -> None:
    """Write several GeoDataFrames as layers of one GeoPackage, atomically and in the given order.

    ``geometry_types`` names a layer's geometry type (e.g. ``"Point"``) so that an empty layer
    still opens in QGIS as the right kind of layer.
    """
    path = Path(path)
    geometry_types = geometry_types or {}
    with atomic_path(path, _tmp_suffix(path)) as tmp:
        for name, gdf in layers.items():
            kw = {"geometry_type": geometry_types[name]} if name in geometry_types else {}
            gdf.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio", **kw)


def write_vector(gdf, path, layer: str | None = None) -> None:
    """Write one GeoDataFrame as a single-layer file (GeoPackage unless the suffix says otherwise)."""
    path = Path(path)
    write_layers({layer or path.stem: gdf}, path) if path.suffix == ".gpkg" else _write_other(gdf, path)


def _write_other(gdf, path: Path) -> None:
    with atomic_path(path, _tmp_suffix(path)) as tmp:
        gdf.to_file(tmp, engine="pyogrio")


def read_aoi(path, crs: str | None = None):
    """Read the area of interest and dissolve it to one (multi)polygon GeoDataFrame."""
    gdf = read_vector(path)
    if gdf.crs is None:
        gdf = gdf.set_crs("OGC:CRS84")
    gdf = gdf[~gdf.geometry.is_empty & gdf.geometry.notna()]
    if len(gdf) == 0:
        raise ValueError(f"{path}: the area of interest has no geometry")
    gdf = gdf.dissolve().reset_index(drop=True)[["geometry"]]
    if crs is not None:
        gdf = gdf.to_crs(crs)
    gdf["geometry"] = gdf.geometry.make_valid()
    return gdf


# -- rasters: reading onto the grid -----------------------------------------------------------
_RESAMPLING = {r.name: r for r in Resampling}


def read_raster_on_grid(path, grid: Grid, resampling: str = "bilinear", band: int = 1,
                        dtype: str = "float32", dask_: bool = True, name: str | None = None) -> xr.DataArray:
    """Read one band of any raster onto ``grid``, warped block by block.

    Each Dask block opens the file and reads its own window through a GDAL warped VRT, so the
    graph pickles to a remote ``dask.distributed`` scheduler and memory stays at one block per
    worker however large the grid. Source nodata becomes NaN for float outputs.
    """
    path = str(path)
    if resampling not in _RESAMPLING:
        raise ValueError(f"unknown resampling {resampling!r}; expected one of {sorted(_RESAMPLING)}")
    with rasterio.open(path) as src:
        if src.crs is None:
            raise ValueError(f"{path}: raster has no CRS")
        if band > src.count:
            raise ValueError(f"{path}: has {src.count} band(s), band {band} was asked for")
    kw = dict(path=path, grid=grid, resampling=resampling, band=band, dtype=dtype)
    if not dask_:
        data = _read_block(0, 0, grid.height, grid.width, **kw)
    else:
        rows = []
        r0 = 0
        for nr in grid.chunks[0]:
            c0 = 0
            row = []
            for nc in grid.chunks[1]:
                blk = dask.delayed(_read_block, pure=True)(r0, c0, nr, nc, **kw)
                row.append(da.from_delayed(blk, (nr, nc), dtype=dtype))
                c0 += nc
            rows.append(da.concatenate(row, axis=1))
            r0 += nr
        data = da.concatenate(rows, axis=0)
    return grid.like(data, name=name or Path(path).stem)


def _read_block(r0, c0, nr, nc, *, path, grid: Grid, resampling, band, dtype):
    is_float = np.issubdtype(np.dtype(dtype), np.floating)
    with rasterio.Env(GDAL_CACHEMAX=int(os.environ.get("GDAL_CACHEMAX", "256"))):
        with rasterio.open(path) as src:
            nodata = src.nodatavals[band - 1]
            vrt_opts = dict(crs=grid.crs, transform=grid.block_transform(r0, c0), width=nc, height=nr,
                            resampling=_RESAMPLING[resampling])
            if nodata is not None:
                vrt_opts.update(src_nodata=nodata, nodata=nodata)
            with WarpedVRT(src, **vrt_opts) as vrt:
                arr = vrt.read(band, masked=True)
    if is_float:
        return arr.astype(dtype).filled(np.nan)
    return arr.filled(0).astype(dtype)


def aoi_mask(aoi, grid: Grid, dask_: bool = True) -> xr.DataArray:
    """Boolean raster: True for cells whose centre lies inside the AOI."""
    geoms = aoi.to_crs(grid.crs).geometry.values
    return grid.rasterize(geoms, 1, 0, "uint8", dask=dask_, name="aoi").astype(bool)


# -- rasters: writing -------------------------------------------------------------------------
def write_raster(arr: xr.DataArray | np.ndarray, path, grid: Grid, *, nodata=np.nan, dtype: str = "float32",
                 cog: bool = False, tags: Mapping[str, str] | None = None,
                 band_description: str | None = None, colormap: Mapping[int, tuple] | None = None,
                 overview_resampling: str = "average", threads: str = "ALL_CPUS",
                 batch_pixels: int = 32 * 1024 * 1024) -> None:
    """Write a 2-D raster on ``grid`` as a tiled, DEFLATE-compressed GeoTIFF, atomically.

    Dask arrays are computed in batches of block rows (about ``batch_pixels`` cells at a time)
    in the calling process, so memory stays bounded on any scheduler, local or remote. With
    ``cog`` the tiled file is then copied into GDAL's Cloud-Optimized layout with internal
    overviews (a streaming copy: GDAL reads the tiles back rather than holding the raster).
    """
    path = Path(path)
    data = arr.data if isinstance(arr, xr.DataArray) else arr
    if tuple(data.shape) != grid.shape:
        raise ValueError(f"{path.name}: array shape {tuple(data.shape)} does not match grid {grid.shape}")
    profile = dict(driver="GTiff", width=grid.width, height=grid.height, count=1, dtype=dtype, crs=grid.crs,
                   transform=grid.transform, nodata=nodata, tiled=True, blockxsize=512, blockysize=512,
                   compress="DEFLATE", predictor=3 if np.dtype(dtype).kind == "f" else 2,
                   num_threads=threads, BIGTIFF="IF_SAFER")
    with atomic_path(path, _tmp_suffix(path)) as final_tmp:
        target = final_tmp if not cog else final_tmp.with_name(final_tmp.name + ".tiles.tif")
        try:
            with rasterio.Env(GDAL_CACHEMAX=int(os.environ.get("GDAL_CACHEMAX", "256"))):
                with rasterio.open(target, "w", **profile) as dst:
                    for window, block in _iter_row_batches(data, grid, dtype, nodata, batch_pixels):
                        dst.write(block, 1, window=window)
                    _describe(dst, tags, band_description, colormap)
                if cog:
                    from rasterio.shutil import copy as rio_copy

                    rio_copy(target, final_tmp, driver="COG", COMPRESS="DEFLATE",
                             PREDICTOR="YES" if np.dtype(dtype).kind == "f" else "NO", BLOCKSIZE=512,
                             OVERVIEWS="IGNORE_EXISTING", RESAMPLING=overview_resampling.upper(),
                             NUM_THREADS=threads, BIGTIFF="IF_SAFER")
        finally:
            if cog:
                with contextlib.suppress(FileNotFoundError):
                    target.unlink()
    if colormap is not None and cog:
        _ensure_colormap(path, colormap)


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


def _iter_row_batches(data, grid: Grid, dtype, nodata, batch_pixels):
    from rasterio.windows import Window

    def fill(block):
        block = np.asarray(block)
        if np.dtype(dtype).kind != "f" and block.dtype.kind == "f":
            block = np.where(np.isnan(block), nodata if nodata is not None else 0, block)
        return block.astype(dtype, copy=False)

    if not isinstance(data, da.Array):
        yield Window(0, 0, grid.width, grid.height), fill(data)
        return
    row_chunks = data.chunks[0]
    rows_per_batch = max(1, batch_pixels // max(1, grid.width * max(row_chunks)))
    r0 = 0
    for i in range(0, len(row_chunks), rows_per_batch):
        nrows = sum(row_chunks[i:i + rows_per_batch])
        block = data[r0:r0 + nrows].compute()
        yield Window(0, r0, grid.width, nrows), fill(block)
        r0 += nrows


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
            raise ValueError(f"{path}: not a north-up square-cell raster")
        return Grid(src.crs.to_string(), float(t.a), float(t.c), float(t.f), src.width, src.height, chunk)
