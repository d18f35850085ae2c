"""Index models: a weighted mean of normalised indicators, for hazards without training labels.

Each indicator is scaled to 0-1 by :func:`risk.hazard.normalize.normalize` (the indicator stage's robust
min-max: fixed bounds for scores, else the 2nd/98th percentiles of a systematic sample, an optional
``log1p`` transform, flipped when less of it is more dangerous) and the hazard index is
``H = sum_j w_j n_j / sum_j w_j`` (:func:`risk.hazard.indicator_index.weighted_index`) with weights from
:mod:`risk.weights`: AHP with its consistency ratio checked, the entropy method, their
combination, or fixed numbers. The bounds, transforms and weights go into ``metrics.json`` so that
the index can be recomputed exactly (:func:`index_kernel`; the uncertainty stage does, with
perturbed weights).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import dask.array as da
import numpy as np
import xarray as xr

from risk import weights as W
from risk.grid import systematic_sample
from risk.hazard.indicator_index import weighted_index as _weighted_index
from risk.hazard.indicator_index import weighted_kernel
from risk.hazard.normalize import normalize, scale
from risk.models.feature_settings import check_weight_settings, feature_spec  # noqa: F401 (re-exported)

logger = logging.getLogger(__name__)


def index_kernel(stack: np.ndarray, norms: Sequence[Sequence], w) -> np.ndarray:
    """Index of a ``(n_features, ...)`` block: ``norms[j] = (lo, hi, direction, transform)``; NaN if any is NaN.

    :func:`risk.hazard.normalize.scale` of each feature, then
    :func:`risk.hazard.indicator_index.weighted_kernel`: the arithmetic of :func:`fit_index`.
    """
    blocks = [scale(stack[j], nm[0], nm[1], nm[2], nm[3] if len(nm) > 3 else "none") for j, nm in enumerate(norms)]
    return weighted_kernel(*blocks, w=np.asarray(w, dtype="f8") / np.sum(w), skipna=False)


def weighted_index(features: list[xr.DataArray], norms: Sequence[Sequence], w) -> xr.DataArray:
    """Index raster (float32 0-1) from raw indicator rasters, their ``norms`` and weights."""
    ref = features[0]
    if isinstance(ref.data, da.Array):
        stack = da.stack([f.data.astype("f4") for f in features], axis=0).rechunk({0: -1})
        out = stack.map_blocks(index_kernel, norms, np.asarray(w, "f8"), drop_axis=0, dtype="f4",
                               meta=np.empty((0, 0), "f4"))
    else:
        out = index_kernel(np.stack([np.asarray(f.data, "f4") for f in features]), norms, w)
    res = xr.DataArray(out, dims=ref.dims, coords=ref.coords, name="hazard_index")
    res.attrs = {k: v for k, v in ref.attrs.items() if k in ("crs", "res")}
    return res


def index_weights(names: list[str], normalised_sample: np.ndarray, method: str = "ahp", *, ahp_matrix=None,
                  fixed=None, combination: str = "linear", alpha: float = 0.5, key: str = "hazards") -> dict:
    """Weights of an index model and how they were obtained (a JSON-ready record).

    ``normalised_sample`` is ``(n_cells, n_features)`` of normalised indicator values (entropy input).
    AHP matrices are checked (CR < 0.1) and an error names ``<key>.ahp_matrix``.
    """
    if method not in W.WEIGHT_METHODS:
        raise ValueError(f"{key}.weights: {method!r} is not one of {', '.join(W.WEIGHT_METHODS)}")
    rec: dict = {"method": method}
    w_ahp = w_ent = None
    if method in ("ahp", "ahp_entropy"):
        if ahp_matrix is None:
            raise ValueError(f"{key}.ahp_matrix: required for weights {method!r}")
        r = W.ahp_weights(ahp_matrix, key=f"{key}.ahp_matrix")
        if len(r.weights) != len(names):
            raise ValueError(f"{key}.ahp_matrix: is {len(r.weights)}×{len(r.weights)} but there are "
                             f"{len(names)} features ({', '.join(names)})")
        w_ahp = r.weights
        rec["ahp"] = r.as_dict(names)
        rec["consistency_ratio"] = round(r.cr, 6)
    if method in ("entropy", "ahp_entropy"):
        w_ent = W.entropy_weights(normalised_sample)
        rec["entropy"] = {"weights": {n: round(float(x), 6) for n, x in zip(names, w_ent, strict=True)},
                          "n_cells": int(np.all(np.isfinite(normalised_sample), axis=1).sum())}
    if method == "ahp":
        w = w_ahp
    elif method == "entropy":
        w = w_ent
    elif method == "ahp_entropy":
        w = W.combine_weights(w_ahp, w_ent, combination, alpha)
        rec["combination"] = {"method": combination, "alpha": alpha,
                              "formula": "alpha*w_ahp + (1-alpha)*w_entropy" if combination == "linear"
                              else "w_ahp*w_entropy / sum(w_ahp*w_entropy)"}
    else:
        if fixed is None:
            raise ValueError(f"{key}.fixed_weights: required for weights 'fixed'")
        w = W.normalise_weights(dict(fixed), names, key=f"{key}.fixed_weights")
    rec["weights"] = {n: round(float(x), 6) for n, x in zip(names, w, strict=True)}
    return rec


def fit_index(features: list[xr.DataArray], specs: Sequence[Mapping], method: str = "ahp", *, ahp_matrix=None,
              fixed=None, combination: str = "linear", alpha: float = 0.5, q=(0.02, 0.98),
              sample_size: int = 20000, key: str = "hazards") -> tuple[xr.DataArray, dict]:
    """Normalise the indicators, weigh them and return the index raster and its metrics record.

    Parameters
    ----------
    features : list of xarray.DataArray
        Raw indicator rasters, named (the names key the weights).
    specs : sequence of mapping
        Per indicator: ``direction`` (``more``/``less``), optional ``bounds`` and ``transform``
        (as in :data:`risk.hazard.indicators.INDICATORS`).
    """
    names = [str(f.name) for f in features]
    if len(specs) != len(features):
        raise ValueError(f"{key}: {len(specs)} indicator specs for {len(features)} features")
    normed, norms = {}, []
    for f, s in zip(features, specs, strict=True):
        n = normalize(f, s.get("direction", "more"), s.get("bounds"), tuple(q), sample_size,
                      s.get("transform", "none"))
        lo, hi = float(n.attrs["norm_lo"]), float(n.attrs["norm_hi"])
        norms.append((lo, hi, n.attrs["norm_direction"], n.attrs["norm_transform"]))
        normed[str(f.name)] = n
    # One joint systematic sample (the same cells for every indicator) for the entropy weights.
    ns = np.column_stack([systematic_sample(normed[n], sample_size, dropna=False) for n in names])
    ns = ns[np.all(np.isfinite(ns), axis=1)]
    rec = index_weights(names, ns, method, ahp_matrix=ahp_matrix, fixed=fixed, combination=combination,
                        alpha=alpha, key=key)
    used = {n: rec["weights"][n] for n in names}
    out = _weighted_index(normed, {n: w for n, w in used.items() if w > 0})
    metrics = {
        "mode": "index",
        "labels": "none: an index model (weighted mean of normalised indicators), not trained on events",
        "features": names,
        "normalisation": {n: {"lo": lo, "hi": hi, "direction": d, "transform": t}
                          for n, (lo, hi, d, t) in zip(names, norms, strict=True)},
        "normalisation_method": (f"risk.hazard.normalize.normalize: transform, then clip((x - lo) / (hi - lo), 0, 1) with "
                                 f"fixed bounds or the {q[0]:g}/{q[1]:g} quantiles of a systematic sample; "
                                 "1 - that for direction 'less'"),
        "weights": rec["weights"],
        "weighting": rec,
        "formula": "H = sum_j w_j * n_j / sum_j w_j",
    }
    if "consistency_ratio" in rec:
        metrics["consistency_ratio"] = rec["consistency_ratio"]
    return out.rename("hazard_index"), metrics


def fit_hazard_index(features: list[xr.DataArray], settings: Mapping, normalize_cfg: Mapping,
                     sample_size: int, hazard: str) -> tuple[xr.DataArray, dict]:
    """:func:`fit_index` with a hazard's configured settings.

    Parameters
    ----------
    settings : mapping
        ``hazards.<hazard>`` with ``features`` resolved to ``{key: spec}`` (:func:`feature_spec`),
        ``weights``, ``ahp_matrix``, ``fixed_weights``, ``combination`` and ``alpha``.
    normalize_cfg : mapping
        The config's ``indicators.normalize`` section (``lower_quantile``, ``upper_quantile``).
    """
    return fit_index(features, list(settings["features"].values()), settings["weights"],
                     ahp_matrix=settings.get("ahp_matrix"), fixed=settings.get("fixed_weights"),
                     combination=settings["combination"], alpha=settings["alpha"],
                     q=(normalize_cfg["lower_quantile"], normalize_cfg["upper_quantile"]),
                     sample_size=sample_size, key=f"hazards.{hazard}")


def index_payload(metrics: Mapping, **extra) -> dict:
    """What an index model's ``model.joblib`` holds: its mode, ``extra``, features, normalisation, weights."""
    return {"mode": "index", **extra, **{k: metrics[k] for k in ("features", "normalisation", "weights")}}


def index_model(features: list[xr.DataArray], settings: Mapping, normalize_cfg: Mapping, sample_size: int,
                hazard: str) -> tuple[xr.DataArray, dict, dict]:
    """A hazard's index model: the index raster, its ``metrics.json`` record and its model-file payload."""
    out, metrics = fit_hazard_index(features, settings, normalize_cfg, sample_size, hazard)
    metrics["hazard"] = hazard
    logger.info("%s: index weights %s%s", hazard, metrics["weights"],
                f" (AHP CR {metrics['consistency_ratio']:.3f})" if "consistency_ratio" in metrics else "")
    return out, metrics, index_payload(metrics, hazard=hazard)
