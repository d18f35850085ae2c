"""Run one kernel on numpy- and Dask-backed rasters alike, with the same result.

Every raster operation of the indicator stage is a kernel on a plain numpy block. The helpers
here apply it to a whole numpy array or to each Dask block, so that both give the same numbers
whatever the chunking:

* :func:`apply_overlap` for neighbourhood kernels: each block is padded with ``depth`` cells of
  its neighbours (and with ``boundary`` beyond the raster edge), the kernel runs on the padded
  block and the padding is cut off again. The numpy path pads the whole array the same way.
* :func:`apply_blocks` for cell-by-cell kernels.
"""

from __future__ import annotations

from collections.abc import Callable

import dask.array as da
import numpy as np
import xarray as xr


def is_dask(arr) -> bool:
    """Whether a DataArray (or array) is Dask-backed."""
    data = arr.data if isinstance(arr, xr.DataArray) else arr
    return isinstance(data, da.Array)


def _wrap(template: xr.DataArray, data, name: str | None, attrs: dict | None) -> xr.DataArray:
    out = xr.DataArray(data, dims=template.dims, coords=template.coords, name=name,
                       attrs={**template.attrs, **(attrs or {})})
    return out


def _typed(func: Callable, dtype) -> Callable:
    """``func`` with its result cast to ``dtype`` (Dask trusts the declared dtype)."""

    def run(*args, **kwargs):
        return np.asarray(func(*args, **kwargs)).astype(dtype, copy=False)

    run.__name__ = getattr(func, "__name__", "kernel")
    return run


def apply_blocks(func: Callable, *arrays: xr.DataArray, dtype="float32", name: str | None = None,
                 attrs: dict | None = None, **kwargs) -> xr.DataArray:
    """Apply a cell-by-cell kernel ``func(*blocks, **kwargs)`` to aligned rasters.

    The first array is the template (coords, chunks). Arrays of other chunking are rechunked.
    """
    func = _typed(func, dtype)
    first = arrays[0]
    if any(is_dask(a) for a in arrays):
        chunks = first.data.chunks if is_dask(first) else _default_chunks(first.shape)
        datas = [_as_dask(a.data, chunks) for a in arrays]
        out = da.map_blocks(func, *datas, dtype=dtype, meta=np.array((), dtype=dtype), **kwargs)
    else:
        out = func(*[np.asarray(a.data) for a in arrays], **kwargs)
        out = np.asarray(out).astype(dtype, copy=False)
    return _wrap(first, out, name, attrs)


def apply_overlap(func: Callable, arr: xr.DataArray, depth: int, boundary=np.nan, dtype="float32",
                  name: str | None = None, attrs: dict | None = None, **kwargs) -> xr.DataArray:
    """Apply a neighbourhood kernel that needs ``depth`` cells of context on every side.

    ``func(padded_block, **kwargs)`` returns an array of the padded block's shape; only its
    interior (the original block) is kept. Cells beyond the raster edge read ``boundary``.
    """
    depth = int(depth)
    data = arr.data
    func = _typed(func, dtype)
    if depth == 0:
        return apply_blocks(func, arr, dtype=dtype, name=name, attrs=attrs, **kwargs)
    if isinstance(data, da.Array):
        chunks = data.chunks
        out = data.map_overlap(func, depth=depth, boundary=boundary, trim=True, dtype=dtype,
                               meta=np.array((), dtype=dtype), allow_rechunk=True, **kwargs)
        if out.chunks != chunks:
            out = out.rechunk(chunks)
    else:
        padded = np.pad(np.asarray(data), depth, mode="constant", constant_values=boundary)
        out = np.asarray(func(padded, **kwargs))[depth:-depth, depth:-depth].astype(dtype, copy=False)
    return _wrap(arr, out, name, attrs)


def _default_chunks(shape):
    return da.core.normalize_chunks((1024, 1024), shape)


def _as_dask(data, chunks):
    if isinstance(data, da.Array):
        return data if data.chunks == chunks else data.rechunk(chunks)
    return da.from_array(np.asarray(data), chunks=chunks)
