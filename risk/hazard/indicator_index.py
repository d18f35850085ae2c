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


def weighted_kernel(*blocks, w, skipna: bool = False) -> np.ndarray:
    """``Σ wᵢ xᵢ / Σ wᵢ`` of numpy blocks, float32; NaN where any is NaN unless ``skipna``.

    The one weighted-index kernel of the package (indicator indices, exposure, index models and
    their Monte-Carlo draws). In float64, layer after layer, the arithmetic of
    ``num += where(finite, x, 0) · w; den += finite · w`` then ``num / den``, in one compiled pass per
    layer (numpy's version made six temporaries per layer: 17 % of the indicator_index rule).

    Examples
    --------
    >>> a, b = np.array([[0.0, 1.0, np.nan]], "f4"), np.array([[1.0, 1.0, 1.0]], "f4")
    >>> weighted_kernel(a, b, w=[3.0, 1.0]).tolist(), weighted_kernel(a, b, w=[3.0, 1.0], skipna=True).tolist()
    ([[0.25, 1.0, nan]], [[0.25, 1.0, 1.0]])
    """
    from risk.hazard._index_kernels import accumulate, finish

    shape = np.shape(blocks[0])
    num = np.zeros(int(np.prod(shape)), dtype="float64")
    den = np.zeros(num.size, dtype="float64")
    for b, wi in zip(blocks, w, strict=True):
        accumulate(np.ascontiguousarray(b).reshape(-1), float(wi), num, den, bool(skipna))
    return finish(num, den).reshape(shape)


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
    out = apply_blocks(weighted_kernel, *[layers[n] for n in names], w=w, skipna=skipna, name="index")
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


# -- the indicator_index rule: every hazard's index and the multi-hazard index -----------------
def build(rasters: Mapping[str, xr.DataArray], recorded: Mapping[str, tuple[float, float] | None],
          weights: Mapping[str, Mapping[str, float]], multi_hazard: Mapping, q: tuple[float, float] = (0.02, 0.98),
          sample_size: int = 100_000) -> tuple[dict, dict, dict, dict]:
    """The configurable-weight index of every hazard and the multi-hazard index, with their record.

    Each weighted indicator of :data:`risk.hazard.indicators.INDICATORS` is scaled to 0–1 by
    :func:`risk.hazard.normalize.normalize` (its fixed bounds if it has some, else the quantiles
    ``q`` recorded in its file when untransformed, else those of a systematic sample), the hazard's
    indicators are averaged with :func:`weighted_index`, and the hazard indices combined by
    :func:`combine`.

    Parameters
    ----------
    rasters : dict of str to DataArray
        Each indicator raster by name (an indicator is the same raster in every hazard).
    recorded : dict of str to (float, float) or None
        Quantiles ``q`` of a sample of ``sample_size`` cells recorded in each indicator's file
        (:func:`risk.io.batchwrite.sample_bounds`); None or missing where not recorded.
    weights : dict
        ``indicator_index.weights``: hazard -> indicator -> weight.
    multi_hazard : dict
        ``indicator_index.multi_hazard``: ``method`` and ``weights`` of the hazards.

    Returns
    -------
    layers, tags, descriptions : dict
        Keyed by hazard, then ``multi_hazard``. Tags: ``HAZARD``, ``UNITS``, ``INDEX`` (its record as JSON).
    record : dict
        The normalisation, and the bounds and weights used (``hazard/index/index.json``).
    """
    import json
    import logging

    from risk.hazard.indicators import INDICATORS
    from risk.hazard.normalize import normalize, quantile_bounds

    record = {"normalisation": "clip((x - lo) / (hi - lo), 0, 1), 1 - that where less is more dangerous; "
                               f"lo, hi = quantiles {list(q)} of a systematic sample unless fixed",
              "hazards": {}, "multi_hazard": {"method": multi_hazard["method"],
                                              "weights": multi_hazard["weights"]}}
    indices, bounds = {}, {}
    for hazard, inds in INDICATORS.items():
        used = check_weights(weights.get(hazard, {}), [i.name for i in inds], f"indicator_index.weights.{hazard}")
        normed, rec = {}, {}
        for ind in inds:
            if ind.name not in used:
                continue
            key = (ind.name, ind.transform)
            if ind.bounds is not None:
                bounds[key] = ind.bounds
            elif key not in bounds:
                known = recorded.get(ind.name) if ind.transform == "none" else None
                bounds[key] = known or quantile_bounds(rasters[ind.name], q, sample_size, ind.transform)
            n = normalize(rasters[ind.name], ind.direction, bounds=bounds[key], transform=ind.transform)
            normed[ind.name] = n
            rec[ind.name] = {"weight": used[ind.name], "direction": ind.direction,
                             "transform": ind.transform, "lo": n.attrs["norm_lo"], "hi": n.attrs["norm_hi"]}
        indices[hazard] = weighted_index(normed, used).rename(hazard)
        record["hazards"][hazard] = rec
        logging.getLogger(__name__).info("%s index from %s", hazard,
                                         ", ".join(f"{k} {v['weight']:g}" for k, v in rec.items()))
    layers = {**indices, "multi_hazard": combine(indices, multi_hazard["weights"], multi_hazard["method"])}
    tags = {h: {"HAZARD": h, "UNITS": "1", "INDEX": json.dumps(record["hazards"][h])} for h in indices}
    tags["multi_hazard"] = {"HAZARD": "multi_hazard", "UNITS": "1", "INDEX": json.dumps(record["multi_hazard"])}
    descriptions = {k: f"{k} hazard index (0-1, configurable weights)" for k in layers}
    return layers, tags, descriptions, record
