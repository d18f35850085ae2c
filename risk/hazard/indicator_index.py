"""Weighted indices: one hazard from its normalised indicators, and the multi-hazard index.

These are the configurable-weight indices of the indicators stage; the models stage replaces a
hazard's index by a fitted model where training labels exist, and reuses :func:`weighted_index`
and :func:`risk.hazard.normalize.normalize` otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from risk.blockwise import apply_blocks

COMBINE_METHODS = ("weighted_mean", "max")


def check_weights(weights: Mapping[str, float], available, what: str = "weights") -> dict[str, float]:
    """Validated non-zero weights (a clear error for unknown names, negative or all-zero weights)."""
    unknown = sorted(set(weights) - set(available))
    if unknown:
        raise ValueError(f"{what}: no layer named {', '.join(unknown)} (available: {', '.join(sorted(available))})")
    bad = {k: v for k, v in weights.items() if not np.isfinite(float(v)) or float(v) < 0}
    if bad:
        raise ValueError(f"{what}: weights must be finite and >= 0, got {bad}")
    used = {k: float(v) for k, v in weights.items() if float(v) > 0}
    if not used:
        raise ValueError(f"{what}: at least one weight must be > 0")
    return used


def _weighted_kernel(*blocks, w, skipna):
    num = np.zeros(blocks[0].shape, dtype="float64")
    den = np.zeros(blocks[0].shape, dtype="float64")
    for b, wi in zip(blocks, w, strict=True):
        b = b.astype("float64", copy=False)
        ok = np.isfinite(b)
        num += np.where(ok, b, 0.0) * wi
        den += ok * wi
        if not skipna:
            num[~ok] = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return out.astype("float32")


def weighted_index(layers: Mapping[str, xr.DataArray], weights: Mapping[str, float],
                   skipna: bool = False) -> xr.DataArray:
    """Weighted mean ``Σ wᵢ xᵢ / Σ wᵢ`` of 0–1 layers (so the result is 0–1 too).

    Parameters
    ----------
    layers : dict of str to DataArray
        Normalised layers (numpy or Dask, same grid).
    weights : dict of str to float
        Non-negative weights; they need not sum to 1. Layers with weight 0 or without a weight
        are ignored; a weight for a missing layer is an error.
    skipna : bool
        False: NaN where any weighted layer is NaN. True: the mean of the layers present.

    Examples
    --------
    >>> a = xr.DataArray(np.array([[0.0, 1.0]]), dims=("y", "x"))
    >>> b = xr.DataArray(np.array([[1.0, 1.0]]), dims=("y", "x"))
    >>> weighted_index({"a": a, "b": b}, {"a": 3, "b": 1}).values.tolist()
    [[0.25, 1.0]]
    """
    used = check_weights(weights, layers)
    names = list(used)
    total = sum(used.values())
    w = [used[n] / total for n in names]
    out = apply_blocks(_weighted_kernel, *[layers[n] for n in names], w=w, skipna=skipna, name="index")
    out.attrs = {k: v for k, v in layers[names[0]].attrs.items() if k in ("crs", "res")}
    out.attrs.update(units="1", weights=repr(dict(zip(names, w, strict=True))))
    return out


def _max_kernel(*blocks):
    stack = np.stack([b.astype("float32", copy=False) for b in blocks])
    ok = np.isfinite(stack).all(axis=0)
    return np.where(ok, stack.max(axis=0, initial=-np.inf, where=np.isfinite(stack)), np.nan).astype("float32")


def combine(indices: Mapping[str, xr.DataArray], weights: Mapping[str, float],
            method: str = "weighted_mean") -> xr.DataArray:
    """Multi-hazard index from hazard indices: their weighted mean, or their maximum.

    ``max`` takes the hazards with a positive weight and keeps the highest index of each cell
    (a cell is as dangerous as its worst hazard).
    """
    if method not in COMBINE_METHODS:
        raise ValueError(f"multi_hazard.method: {method!r} is not one of {', '.join(COMBINE_METHODS)}")
    if method == "weighted_mean":
        return weighted_index(indices, weights).rename("multi_hazard")
    used = check_weights(weights, indices)
    names = list(used)
    out = apply_blocks(_max_kernel, *[indices[n] for n in names], name="multi_hazard")
    out.attrs = {k: v for k, v in indices[names[0]].attrs.items() if k in ("crs", "res")}
    out.attrs.update(units="1", combine="max of " + ", ".join(names))
    return out
