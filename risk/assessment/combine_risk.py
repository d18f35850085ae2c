"""Risk from hazard, exposure and vulnerability, and multi-hazard risk from per-hazard risks.

All three inputs are indices on 0-1 (dimensionless). Per hazard, with weights ``w_H + w_E + w_V = 1``:

* ``geometric`` (default, as INFORM combines its dimensions): ``R = H^w_H · E^w_E · V^w_V``, the
  weighted geometric mean. It is 0 where any factor is 0 (no exposure, no risk) and a low factor
  cannot be fully compensated by a high one.
* ``product``: ``R = H · E · V`` (the textbook definition; weights are ignored). Small values
  multiply, so the result is usually zoned by quantiles or natural breaks.
* ``arithmetic``: ``R = w_H·H + w_E·E + w_V·V`` (fully compensatory).

Multi-hazard risk combines the per-hazard risks ``R_h``:

* ``max`` (default): the worst hazard of a cell decides, ``R = max_h R_h``.
* ``weighted_sum``: ``R = sum_h w_h R_h / sum_h w_h``.
* ``union``: ``R = 1 - prod_h (1 - R_h)``, the probability that at least one of independent
  hazards strikes (treats each ``R_h`` as a probability; tends to saturate with many hazards).

Every function takes numpy- or Dask-backed DataArrays (or plain arrays) and returns the same
kind, float32, NaN where an input is NaN.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr

from risk.weights import normalise_weights

FORMULAS = ("geometric", "product", "arithmetic")
MULTI_RULES = ("max", "weighted_sum", "union")
FACTORS = ("hazard", "exposure", "vulnerability")

logger = logging.getLogger(__name__)


def risk_weights(weights: Mapping[str, float] | None = None) -> np.ndarray:
    """``(w_H, w_E, w_V)`` normalised to sum to 1; equal thirds when ``weights`` is None."""
    if weights is None:
        return np.full(3, 1.0 / 3.0)
    return normalise_weights(dict(weights), FACTORS, key="risk.weights")


def risk_kernel(h, e, v, formula: str = "geometric", weights=(1 / 3, 1 / 3, 1 / 3)) -> np.ndarray:
    """The risk formula on plain numpy arrays (the one kernel the raster and the point code share).

    Examples
    --------
    >>> round(float(risk_kernel(np.float32(0.8), np.float32(0.5), np.float32(0.2), "geometric")), 4)
    0.4309
    """
    if formula not in FORMULAS:
        raise ValueError(f"risk.formula: {formula!r} is not one of {', '.join(FORMULAS)}")
    wh, we, wv = (float(x) for x in weights)
    h = np.clip(np.asarray(h, dtype="f4"), 0.0, 1.0)
    e = np.clip(np.asarray(e, dtype="f4"), 0.0, 1.0)
    v = np.clip(np.asarray(v, dtype="f4"), 0.0, 1.0)
    if formula == "geometric":
        out = np.power(h, np.float32(wh)) * np.power(e, np.float32(we)) * np.power(v, np.float32(wv))
    elif formula == "product":
        out = h * e * v
    else:
        out = np.float32(wh) * h + np.float32(we) * e + np.float32(wv) * v
    return np.asarray(out, dtype="f4")


def risk_index(hazard, exposure, vulnerability, formula: str = "geometric",
               weights: Mapping[str, float] | None = None):
    """Per-hazard risk (0-1, float32) from hazard, exposure and vulnerability indices.

    Parameters
    ----------
    hazard, exposure, vulnerability : xarray.DataArray or numpy.ndarray
        Indices on 0-1 on the same grid (values outside are clipped).
    formula : str
        ``geometric`` | ``product`` | ``arithmetic`` (see the module docstring).
    weights : mapping, optional
        ``{"hazard": w_H, "exposure": w_E, "vulnerability": w_V}``; normalised to sum to 1.
    """
    w = tuple(risk_weights(weights))
    if formula not in FORMULAS:
        raise ValueError(f"risk.formula: {formula!r} is not one of {', '.join(FORMULAS)}")
    if isinstance(hazard, xr.DataArray):
        out = xr.apply_ufunc(risk_kernel, hazard, exposure, vulnerability,
                             kwargs={"formula": formula, "weights": w}, dask="parallelized",
                             output_dtypes=["f4"], keep_attrs=False)
        out.attrs = {k: v for k, v in hazard.attrs.items() if k in ("crs", "res")}
        out.name = "risk"
        return out
    return risk_kernel(hazard, exposure, vulnerability, formula, w)


def multi_kernel(risks: Sequence[np.ndarray], rule: str = "max", weights=None) -> np.ndarray:
    """Multi-hazard rule on plain numpy arrays (shared by rasters, points and Monte-Carlo draws)."""
    if rule not in MULTI_RULES:
        raise ValueError(f"risk.multi_hazard.rule: {rule!r} is not one of {', '.join(MULTI_RULES)}")
    if len(risks) == 0:
        raise ValueError("multi-hazard risk needs at least one per-hazard risk")
    arrs = [np.clip(np.asarray(r, dtype="f4"), 0.0, 1.0) for r in risks]
    if rule == "max":
        out = arrs[0]
        for a in arrs[1:]:
            out = np.maximum(out, a)  # propagates NaN
    elif rule == "union":
        keep = np.ones_like(arrs[0])
        for a in arrs:
            keep = keep * (np.float32(1.0) - a)
        out = np.float32(1.0) - keep
    else:
        w = np.full(len(arrs), 1.0 / len(arrs)) if weights is None else normalise_weights(
            np.asarray(weights, dtype="f8"), key="risk.multi_hazard.weights")
        out = np.zeros_like(arrs[0])
        for wi, a in zip(w, arrs, strict=True):
            out = out + np.float32(wi) * a
    return np.asarray(out, dtype="f4")


def multi_hazard(risks: Mapping[str, object], rule: str = "max", weights: Mapping[str, float] | None = None):
    """Multi-hazard risk (0-1, float32) from per-hazard risks ``{hazard: raster}``.

    ``weights`` (``{hazard: w}``, normalised; missing hazards weigh 1) matter for ``weighted_sum`` only.

    Examples
    --------
    >>> r = {"a": np.array([0.2, 0.5]), "b": np.array([0.4, 0.5])}
    >>> [round(x, 2) for x in multi_hazard(r, "union").tolist()]
    [0.52, 0.75]
    """
    names = list(risks)
    w = None
    if rule == "weighted_sum":
        w = [float((weights or {}).get(n, 1.0)) for n in names]
    arrs = [risks[n] for n in names]
    if isinstance(arrs[0], xr.DataArray):
        def _k(*xs):
            return multi_kernel(xs, rule, w)

        out = xr.apply_ufunc(_k, *arrs, dask="parallelized", output_dtypes=["f4"], keep_attrs=False)
        out.attrs = {k: v for k, v in arrs[0].attrs.items() if k in ("crs", "res")}
        out.name = "multi_hazard"
        return out
    return multi_kernel(arrs, rule, w)


def risk_settings(risk_cfg: Mapping, hazard: str) -> tuple[str, tuple[float, float, float]]:
    """``(formula, (w_H, w_E, w_V))`` for ``hazard`` from the config's ``risk`` section.

    ``risk.per_hazard.<hazard>`` overrides ``risk.formula`` / ``risk.weights`` key by key.
    """
    over = (risk_cfg.get("per_hazard") or {}).get(hazard) or {}
    formula = over.get("formula") or risk_cfg.get("formula", "geometric")
    if formula not in FORMULAS:
        raise ValueError(f"risk.per_hazard.{hazard}.formula: {formula!r} is not one of {', '.join(FORMULAS)}")
    base = risk_cfg.get("weights") or {f: 1.0 for f in FACTORS}
    w = {**base, **(over.get("weights") or {})}
    return formula, tuple(float(x) for x in risk_weights(w))


def combine_all(hazards: Mapping[str, object], exposure, vulnerability, risk_cfg: Mapping):
    """Risk of every hazard and the multi-hazard risk, with the tags and band descriptions of their rasters.

    Parameters
    ----------
    hazards : mapping
        ``{hazard: hazard index raster}`` in the run's hazard order.
    exposure, vulnerability : xarray.DataArray
        The exposure and vulnerability indices on the same grid.
    risk_cfg : mapping
        The config's ``risk`` section (formula and weights, per-hazard overrides, ``multi_hazard``).

    Returns
    -------
    risks, tags, descriptions : dict
        Keyed by the hazards (in order), then ``multi_hazard``: the risk rasters (float32 0-1),
        their GeoTIFF tags and their band descriptions.
    """
    names = list(hazards)
    mh = risk_cfg["multi_hazard"]
    risks, tags, descr = {}, {}, {}
    for h in names:
        formula, w = risk_settings(risk_cfg, h)
        logger.info("%s: risk = %s of hazard, exposure, vulnerability, weights %s", h, formula,
                    [round(x, 4) for x in w])
        risks[h] = risk_index(hazards[h], exposure, vulnerability, formula,
                              dict(zip(FACTORS, w, strict=True)))
        tags[h] = {"HAZARD": h, "RISK_FORMULA": formula, "RISK_WEIGHTS": str([round(x, 6) for x in w])}
        descr[h] = f"{h} risk index 0-1 ({formula})"
    logger.info("multi-hazard risk of %s by %s", ", ".join(names), mh["rule"])
    risks["multi_hazard"] = multi_hazard({h: risks[h] for h in sorted(names)}, mh["rule"],
                                         mh.get("weights") or None)
    tags["multi_hazard"] = {"HAZARD": "multi_hazard", "MULTI_HAZARD_RULE": mh["rule"],
                            "HAZARDS": ",".join(sorted(names))}
    descr["multi_hazard"] = f"multi-hazard risk index 0-1 ({mh['rule']})"
    return risks, tags, descr
