"""Write several rasters of one grid in a single pass over their Dask graphs.

The indicator stage derives many rasters from the same inputs (seven terrain layers from one
DEM, a distance raster shared by two hazards). Writing them one by one with
:func:`risk.io.write_raster` would recompute the shared parts once per file (the flow routing
three times). :func:`write_rasters` computes, batch by batch, the same window of every raster
in one ``dask.compute`` call, so shared tasks run once, and writes each window to its file.

Memory is bounded by the batch (``batch_pixels`` cells per raster, at least one Dask block)
whatever the size of the grid; files are written atomically (all renamed into place at the end)
with the profile of :func:`risk.io.write_raster` (tiled, DEFLATE, float predictor).

glibc's allocator keeps freed memory of a long multi-threaded run in its heaps (after large
frees it raises its mmap threshold, so later block-sized arrays come from fragmenting heaps):
the peak RSS of a 10⁸-cell run then grows by hundreds of MB over that of a small one. So
:func:`write_rasters` fixes the mmap threshold at 1 MiB (arrays of a block or more are mapped
and unmapped whole) and trims the heap after each batch (:func:`bound_heap`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dask
import dask.array as da
import numpy as np
import rasterio
import xarray as xr
from rasterio.windows import Window

from risk.grid import Grid, sample_stride
from risk.io import atomic_path
from risk.io.rasters import (
    STREAM_CACHE_BYTES,
    cast_block,
    geotiff_profile,
    intermediate_profile,
    read_tags,
    to_cog,
)
from risk.runtime import Milestones


def batches(grid: Grid, chunks, batch_pixels: int):
    """Yield ``(r0, r1, c0, c1)`` windows made of whole Dask blocks, about ``batch_pixels`` each."""
    rch, cch = chunks
    row_px = grid.width * max(rch)
    r0 = 0
    if batch_pixels >= row_px:
        per = max(1, batch_pixels // row_px)
        for i in range(0, len(rch), per):
            nr = sum(rch[i:i + per])
            yield r0, r0 + nr, 0, grid.width
            r0 += nr
        return
    for nr in rch:
        block_px = nr * max(cch)
        per = max(1, batch_pixels // block_px)
        c0 = 0
        for j in range(0, len(cch), per):
            nc = sum(cch[j:j + per])
            yield r0, r0 + nr, c0, c0 + nc
            c0 += nc
        r0 += nr


def window_computer(datas):
    """A function ``compute(r0, r1, c0, c1)`` giving the window of every array of ``datas`` (numpy or Dask) at once.

    ``dask.compute`` optimizes a collection's whole graph (cull, blockwise fusion) each time it is called: computed
    window by window, a raster's graph was optimized once per window, a cost of (graph size × windows) that grows
    with the square of the area. At 10⁹ cells (961 blocks, 250 windows) it was most of ``indicator_index``'s
    main thread while it wrote (``py-spy``: 81 % of its samples in ``optimize``), the workers idle meanwhile. Here
    the graph is optimized and materialized once, and each window's tasks are taken from it by walking back from
    the window's keys (:func:`dask.optimization.cull`: only the tasks the window needs), then computed unoptimized
    on the session's scheduler (threads, or a ``dask.distributed`` cluster). The same tasks run: same values.
    """
    from collections import ChainMap

    from dask.base import collections_to_expr
    from dask.core import flatten
    from dask.optimization import cull

    lazy = [i for i, d in enumerate(datas) if isinstance(d, da.Array)]
    if not lazy:
        return lambda r0, r1, c0, c1: tuple(d[r0:r1, c0:c1] for d in datas)
    arrays = [datas[i] for i in lazy]
    # optimized together, as dask.compute does (dask.optimize optimizes each array alone: the six rasters of one
    # map_blocks, class stability's, then each ran the block function; 3 x its CPU)
    graph = dict(collections_to_expr(arrays, optimize_graph=True).optimize().__dask_graph__())

    def compute(r0, r1, c0, c1):
        subs = [a[r0:r1, c0:c1] for a in arrays]
        own = {}  # the slices' own tasks (none where a window is the whole array)
        for a, sub in zip(arrays, subs, strict=True):
            if sub.name != a.name:
                own.update(sub.__dask_graph__().layers[sub.name])
        dsk, _ = cull(ChainMap(own, graph), [k for sub in subs for k in flatten(sub.__dask_keys__())])
        values = iter(dask.compute(*(da.Array(dsk, sub.name, sub.chunks, meta=sub._meta) for sub in subs),
                                   optimize_graph=False))
        return tuple(next(values) if i in lazy else d[r0:r1, c0:c1] for i, d in enumerate(datas))

    return compute


def write_rasters(arrays: Mapping[str | os.PathLike, xr.DataArray], grid: Grid, *,
                  tags: Mapping[str, Mapping[str, str]] | None = None,
                  descriptions: Mapping[str, str] | None = None, nodata=np.nan, dtype: str = "float32",
                  batch_pixels: int = 2 * 1024 * 1024, threads: str | None = None,
                  mask: xr.DataArray | None = None, zlevel: int = 1,
                  compress: str = "DEFLATE",
                  sample_size: int | None = None, quantiles: tuple[float, float] = (0.02, 0.98),
                  paths: Mapping[str, str | os.PathLike] | None = None, cog: bool = False,
                  overview_resampling: str = "average") -> None:
    """Write each DataArray to its path (GeoTIFF on ``grid``), computing shared work once.

    Parameters
    ----------
    arrays : dict of path (or of name, with ``paths``) to DataArray
        Rasters on ``grid`` (numpy or Dask). The same array may appear under several paths: it is
        computed and compressed once, and the file copied (with its own tags) to the others.
    tags, descriptions : dict keyed like ``arrays`` (as ``str(path)``), optional
        GeoTIFF metadata and band description per file.
    batch_pixels : int
        Cells per raster computed at once (rounded to whole Dask blocks).
    mask : DataArray, optional
        Where it is 0 (outside the study area) every raster is written as ``nodata``.
    zlevel : int
        DEFLATE level. Level 1 writes float32 rasters 2.4× faster than GDAL's default 6 for
        files 5–10 % larger (measured on distance rasters); any GDAL reader opens both. With ``cog`` it
        applies only above :data:`risk.io.rasters.COG_RAW_TEMP_BYTES` (:func:`~risk.io.rasters.intermediate_profile`).
    compress : str
        GeoTIFF compression (:func:`risk.io.rasters.geotiff_profile`): DEFLATE, or NONE for uncompressed
        tiles (DEFLATE is over half the CPU of writing a float32 raster: 2.7 of 4.7 CPU-s for the distance
        to 10⁴ points at 10⁸ cells, file to file).
    sample_size, quantiles : optional
        Record in each file the ``quantiles`` of the systematic sample of about ``sample_size``
        cells that :func:`risk.grid.systematic_sample` would draw from it (tags ``SAMPLE_SIZE``,
        ``SAMPLE_QUANTILES``, ``SAMPLE_Q_LO``, ``SAMPLE_Q_HI``; see :func:`sample_bounds`), taken
        from the batches as they are written, so that normalising it later needs no extra pass.
    paths : dict of name to path, optional
        When given, ``arrays``, ``tags`` and ``descriptions`` are keyed by name (as the stage functions
        return them) and each is written to ``paths[name]``.
    cog : bool
        Rewrite each file as a Cloud-Optimized GeoTIFF with internal overviews
        (:func:`risk.io.rasters.to_cog`; ``overview_resampling`` ``average`` or ``nearest``), as
        published rasters are. The values do not change.
    """
    if paths is not None:
        arrays, tags, descriptions = ({paths[k]: v for k, v in d.items()} if d is not None else None
                                      for d in (arrays, tags, descriptions))
    items = [(Path(p), a) for p, a in arrays.items()]
    if not items:
        return
    for p, a in items:
        if tuple(a.shape) != grid.shape:
            raise ValueError(f"{p.name}: array shape {tuple(a.shape)} does not match grid {grid.shape}")
    tags = {str(k): dict(v) for k, v in (tags or {}).items()}
    descriptions = {str(k): v for k, v in (descriptions or {}).items()}
    # one entry per distinct array; the other paths of the same array become copies
    unique: dict[int, list[Path]] = {}
    for p, a in items:
        unique.setdefault(id(a), []).append(p)
    firsts = [(paths[0], next(a for q, a in items if q == paths[0])) for paths in unique.values()]
    chunks = next((a.data.chunks for _, a in firsts if isinstance(a.data, da.Array)), grid.chunks)
    datas = [_aligned(a.data, chunks) for _, a in firsts]
    if mask is not None:
        m = _aligned(mask.data, chunks)
        fill = np.nan if np.dtype(dtype).kind == "f" else nodata
        datas = [_masked(d, m, fill) for d in datas]
    step = sample_stride(grid.shape, sample_size) if sample_size else 0
    samples: list[list[np.ndarray]] = [[] for _ in firsts]
    profile = geotiff_profile(grid, dtype, nodata, threads, zlevel, compress)
    profile = intermediate_profile(profile, len(items)) if cog else profile
    bound_heap()
    with contextlib.ExitStack() as stack:
        stack.enter_context(rasterio.Env(GDAL_CACHEMAX=STREAM_CACHE_BYTES))
        dsts = []
        for p, _ in firsts:
            tmp = stack.enter_context(atomic_path(p, ".tmp" + p.suffix))
            dsts.append(stack.enter_context(rasterio.open(tmp, "w", **profile)))
        # compute batch k + 1 while a writer thread compresses and writes batch k
        pool = stack.enter_context(ThreadPoolExecutor(max_workers=1, thread_name_prefix="write_rasters"))
        pending = None
        windows = list(batches(grid, chunks, batch_pixels))
        compute = window_computer(datas)
        label = f"writing {_names(firsts)}"
        progress = Milestones(label, len(windows), "batches")  # quiet unless long (10⁹ cells: many minutes)
        for i, (r0, r1, c0, c1) in enumerate(windows):
            if i:
                progress.done(i)
            values = compute(r0, r1, c0, c1)
            if step:
                for k, v in enumerate(values):
                    sub = np.asarray(v)[(-r0) % step::step, (-c0) % step::step].astype("f8").ravel()
                    samples[k].append(sub[np.isfinite(sub)])
            if pending is not None:
                pending.result()
            pending = pool.submit(_write_batch, dsts, values, Window(c0, r0, c1 - c0, r1 - r0), dtype, nodata)
            del values
        if pending is not None:
            pending.result()
        progress.done(len(windows))
        for k, ((p, _), dst) in enumerate(zip(firsts, dsts, strict=True)):
            if step:
                vals = np.concatenate(samples[k]) if samples[k] else np.empty(0)
                lo, hi = np.quantile(vals, quantiles) if vals.size else (np.nan, np.nan)
                stats = {"SAMPLE_SIZE": int(sample_size), "SAMPLE_QUANTILES": f"{quantiles[0]!r},{quantiles[1]!r}",
                         "SAMPLE_Q_LO": repr(float(lo)), "SAMPLE_Q_HI": repr(float(hi))}
                for q in unique[id(next(a for pp, a in items if pp == p))]:
                    tags.setdefault(str(q), {}).update(stats)
            if tags.get(str(p)):
                dst.update_tags(**{str(k): str(v) for k, v in tags[str(p)].items()})
            if descriptions.get(str(p)):
                dst.set_band_description(1, descriptions[str(p)])
        # datasets close (and flush) before the atomic renames: ExitStack unwinds in reverse order
    for paths in unique.values():
        for q in paths[1:]:
            _copy_with_tags(paths[0], q, tags.get(str(q)), descriptions.get(str(q)))
    if cog:
        # after the copies: a COG's tags cannot be rewritten in place without breaking its layout
        progress = Milestones(f"COG copies of {_names(items)}", len(items), "files", step=1)
        for i, (p, _) in enumerate(items, 1):
            to_cog(p, dtype, overview_resampling, threads)
            progress.done(i)


def _names(items) -> str:
    """The files of ``items`` (path, array) for a progress line: the first three names, then how many more."""
    names = [Path(p).name for p, _ in items]
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def _copy_with_tags(src: Path, dst: Path, tags, description) -> None:
    """Copy a written GeoTIFF byte for byte, then give the copy its own tags and description."""
    import shutil

    with atomic_path(dst, ".tmp" + dst.suffix) as tmp:
        shutil.copyfile(src, tmp)
        with rasterio.open(tmp, "r+") as ds:
            old = ds.tags()
            if old:  # tags of the original that the copy does not set are dropped
                ds.update_tags(**dict.fromkeys(old, ""))
            if tags:
                ds.update_tags(**{str(k): str(v) for k, v in tags.items()})
            if description:
                ds.set_band_description(1, description)


def sample_bounds(path, sample_size: int, quantiles: tuple[float, float]) -> tuple[float, float] | None:
    """The quantiles recorded by :func:`write_rasters` in a file, if recorded with these settings."""
    t = read_tags(path)
    try:
        if int(t["SAMPLE_SIZE"]) != int(sample_size):
            return None
        q = tuple(float(x) for x in t["SAMPLE_QUANTILES"].split(","))
        if not np.allclose(q, quantiles, rtol=0, atol=1e-12):
            return None
        return float(t["SAMPLE_Q_LO"]), float(t["SAMPLE_Q_HI"])
    except (KeyError, ValueError):
        return None


def _write_batch(dsts, values, window, dtype, nodata) -> None:
    for dst, v in zip(dsts, values, strict=True):
        dst.write(cast_block(v, dtype, nodata), 1, window=window)
    bound_heap(trim_only=True)


def bound_heap(trim_only: bool = False) -> None:
    """Keep the process's heap from growing with the raster (glibc only; a no-op elsewhere)."""
    import ctypes
    import ctypes.util

    global _HEAP_BOUND
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        if not trim_only and not _HEAP_BOUND:
            libc.mallopt(-3, 1 << 20)  # M_MMAP_THRESHOLD: fixed, which also stops its dynamic growth
            _HEAP_BOUND = True
        libc.malloc_trim(0)
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        pass


_HEAP_BOUND = False


def _aligned(data, chunks):
    if isinstance(data, da.Array):
        return data if data.chunks == chunks else data.rechunk(chunks)
    return np.asarray(data)


def _masked(data, m, fill):
    if isinstance(data, da.Array) or isinstance(m, da.Array):
        chunks = data.chunks if isinstance(data, da.Array) else m.chunks
        data = data if isinstance(data, da.Array) else da.from_array(data, chunks=chunks)
        m = m if isinstance(m, da.Array) else da.from_array(np.asarray(m), chunks=chunks)
        dtype = data.dtype if data.dtype.kind == "f" else np.dtype("float32")
        return da.map_blocks(_mask_block, data, m, fill, dtype=dtype)
    return _mask_block(data, m, fill)


def _mask_block(x, m, fill):
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype("float32")
    return np.where(np.asarray(m) > 0, x, fill)
