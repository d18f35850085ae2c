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
* ``sum``: ``R = sum_h R_h``, the total expected harm (for ``risk.method: expected_harm``).

With ``risk.method`` ``expected_harm`` or ``matrix`` (:mod:`risk.assessment.harm`) the per-hazard risk
is not an index on 0-1 and the multi-hazard rules do not clip it (``union`` needs 0-1 and is refused).

Every function takes numpy- or Dask-backed DataArrays (or plain arrays) and returns the same
kind, float32, NaN where an input is NaN.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr

from risk.assessment.zoning import class_breaks
from risk.grid import systematic_sample
from risk.weights import normalise_weights

FORMULAS = ("geometric", "product", "arithmetic")
MULTI_RULES = ("max", "weighted_sum", "union", "sum")
FACTORS = ("hazard", "exposure", "vulnerability")
MATRIX_SAMPLE = 20_000
"""Cells sampled for the risk matrix's hazard breaks and exposure-vulnerability quintiles."""

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


def multi_kernel(risks: Sequence[np.ndarray], rule: str = "max", weights=None, clip: bool = True) -> np.ndarray:
    """Multi-hazard rule on plain numpy arrays (shared by rasters, points and Monte-Carlo draws).

    ``clip``: clip each risk to 0-1 first (risk indices); off for expected harm and matrix levels.
    """
    if rule not in MULTI_RULES:
        raise ValueError(f"risk.multi_hazard.rule: {rule!r} is not one of {', '.join(MULTI_RULES)}")
    if len(risks) == 0:
        raise ValueError("multi-hazard risk needs at least one per-hazard risk")
    if rule == "union" and not clip:
        raise ValueError("risk.multi_hazard.rule: union needs risks on 0-1 (risk.method: index)")
    arrs = [np.clip(np.asarray(r, dtype="f4"), 0.0, 1.0) if clip else np.asarray(r, dtype="f4") for r in risks]
    if rule in ("sum", "max"):  # in one output array (the inputs are not changed)
        op = np.add if rule == "sum" else np.maximum  # maximum propagates NaN
        out = op(arrs[0], arrs[1]) if len(arrs) > 1 else arrs[0]
        for a in arrs[2:]:
            op(out, a, out=out)
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


def multi_hazard(risks: Mapping[str, object], rule: str = "max", weights: Mapping[str, float] | None = None,
                 clip: bool = True):
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
            return multi_kernel(xs, rule, w, clip)

        out = xr.apply_ufunc(_k, *arrs, dask="parallelized", output_dtypes=["f4"], keep_attrs=False)
        out.attrs = {k: v for k, v in arrs[0].attrs.items() if k in ("crs", "res")}
        out.name = "multi_hazard"
        return out
    return multi_kernel(arrs, rule, w, clip)


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


def risk_method(risk_cfg: Mapping) -> str:
    """``risk.method`` (default ``expected_harm``), checked."""
    from risk.assessment.harm import METHODS

    method = risk_cfg.get("method", "expected_harm")
    if method not in METHODS:
        raise ValueError(f"risk.method: {method!r} is not one of {', '.join(METHODS)}")
    return method


def combine_all(hazards: Mapping[str, object], exposure, vulnerability, risk_cfg: Mapping,
                by_hazard: Mapping[str, tuple] | None = None, hazard_method: str = "natural_breaks",
                sample_size: int = MATRIX_SAMPLE):
    """Risk of every hazard and the multi-hazard risk, with the tags and band descriptions of their rasters.

    Parameters
    ----------
    hazards : mapping
        ``{hazard: hazard index raster}`` in the run's hazard order.
    exposure, vulnerability : xarray.DataArray
        The exposure and vulnerability indices on the same grid (``risk.method: index``).
    risk_cfg : mapping
        The config's ``risk`` section (method, formula and weights, per-hazard overrides, ``multi_hazard``).
    by_hazard : mapping, optional
        ``{hazard: (exposure E_h, vulnerability V_h)}`` (:func:`risk.assessment.harm.hazard_exposure`),
        needed by ``expected_harm`` and ``matrix``.
    hazard_method : str
        ``matrix``: the class-break method of the five hazard levels (that of the hazard zoning).
    sample_size : int
        ``matrix``: cells sampled for the hazard breaks and the exposure-vulnerability quantiles.

    Returns
    -------
    risks, tags, descriptions : dict
        Keyed by the hazards (in order), then ``multi_hazard``: the risk rasters (float32), their GeoTIFF
        tags and their band descriptions.
    """
    from risk.assessment import harm

    method = risk_method(risk_cfg)
    if method == "index":
        return _combine_index(hazards, exposure, vulnerability, risk_cfg)
    names = list(hazards)
    mh = risk_cfg["multi_hazard"]
    risks, tags, descr = {}, {}, {}
    curves = risk_cfg.get("intensity_damage") or {}
    for h in names:
        e, v = by_hazard[h]
        if method == "expected_harm":
            hz = harm.intensity_hazard(hazards[h], h, curves[h]) if h in curves else hazards[h]
            risks[h] = harm.expected_harm(hz, e, v)
            tags[h] = {"HAZARD": h, "RISK_METHOD": method, "RISK_FORMULA": harm.HARM_FORMULA,
                       "UNITS": "person-equivalents per cell",
                       "INTENSITY_DAMAGE": str(harm.check_curve(h, curves[h])) if h in curves else "no"}
            descr[h] = f"{h} expected harm (person-equivalents per cell)"
        else:
            ev = harm.exposed_value(e, v)
            sample = systematic_sample(ev, sample_size)
            ev_breaks = class_breaks(sample[sample > 0], "quantiles") if (sample > 0).any() else [1, 2, 3, 4]
            h_breaks = class_breaks(systematic_sample(hazards[h], sample_size), hazard_method)
            risks[h] = harm.matrix_risk(hazards[h], ev, h_breaks, ev_breaks, risk_cfg.get("matrix")
                                        or harm.DEFAULT_MATRIX)
            tags[h] = {"HAZARD": h, "RISK_METHOD": method, "UNITS": "level",
                       "HAZARD_BREAKS": str([float(x) for x in h_breaks]),
                       "EV_BREAKS": str([float(x) for x in ev_breaks]),
                       "RISK_MATRIX": str(np.asarray(risk_cfg.get("matrix") or harm.DEFAULT_MATRIX).tolist())}
            descr[h] = f"{h} risk level of the risk matrix (1-5, 0 nothing exposed)"
        logger.info("%s: risk by %s", h, method)
    risks["multi_hazard"] = multi_hazard({h: risks[h] for h in sorted(names)}, mh["rule"],
                                         mh.get("weights") or None, clip=False)
    tags["multi_hazard"] = {"HAZARD": "multi_hazard", "RISK_METHOD": method, "MULTI_HAZARD_RULE": mh["rule"],
                            "HAZARDS": ",".join(sorted(names))}
    descr["multi_hazard"] = f"multi-hazard risk ({method}, {mh['rule']})"
    return risks, tags, descr


def _combine_index(hazards: Mapping[str, object], exposure, vulnerability, risk_cfg: Mapping):
    """``risk.method: index``: the 0-1 index combination of every hazard, and the multi-hazard index."""
    names = list(hazards)
    mh = risk_cfg["multi_hazard"]
    risks, tags, descr = {}, {}, {}
    for h in names:
        formula, w = risk_settings(risk_cfg, h)
        logger.info("%s: risk = %s of hazard, exposure, vulnerability, weights %s", h, formula,
                    [round(x, 4) for x in w])
        risks[h] = risk_index(hazards[h], exposure, vulnerability, formula,
                              dict(zip(FACTORS, w, strict=True)))
        tags[h] = {"HAZARD": h, "RISK_METHOD": "index", "RISK_FORMULA": formula,
                   "RISK_WEIGHTS": str([round(x, 6) for x in w])}
        descr[h] = f"{h} risk index 0-1 ({formula})"
    logger.info("multi-hazard risk of %s by %s", ", ".join(names), mh["rule"])
    risks["multi_hazard"] = multi_hazard({h: risks[h] for h in sorted(names)}, mh["rule"],
                                         mh.get("weights") or None)
    tags["multi_hazard"] = {"HAZARD": "multi_hazard", "MULTI_HAZARD_RULE": mh["rule"],
                            "HAZARDS": ",".join(sorted(names))}
    descr["multi_hazard"] = f"multi-hazard risk index 0-1 ({mh['rule']})"
    return risks, tags, descr


def risk_range(risk_cfg: Mapping, tags: Mapping[str, str]) -> tuple[float, float]:
    """Colour-ramp range of a risk raster's style: 0-1 for an index, 0-5 for matrix levels, else the
    recorded 98th percentile (``SAMPLE_Q_HI``) of the expected harm.

    Examples
    --------
    >>> risk_range({"method": "matrix"}, {}), risk_range({"method": "expected_harm"}, {"SAMPLE_Q_HI": "2.5"})
    ((0.0, 5.0), (0.0, 2.5))
    """
    method = risk_method(risk_cfg)
    if method == "index":
        return 0.0, 1.0
    if method == "matrix":
        return 0.0, 5.0
    hi = float(tags.get("SAMPLE_Q_HI", 1.0) or 1.0)
    return 0.0, hi if hi > 0 else 1.0
