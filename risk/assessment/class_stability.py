"""Monte-Carlo weight perturbation and the stability of risk zones.

Every weight that enters a risk raster (the hazard/exposure/vulnerability weights of the risk
formula, the indicator weights of index models, the hazard weights of a weighted-sum multi-hazard
rule) is perturbed independently, ``w' = w · (1 + u)`` with ``u ~ U(-spread, +spread)`` (default
±20 %), and each perturbed weight vector is renormalised to sum to 1. For each of ``n_draws``
draws the risk is recomputed, class breaks are redrawn with the zoning method on a systematic
sample (a fixed-threshold zoning keeps its thresholds), and every cell is classified. A cell's
**class stability** is the share of draws in which it keeps its published zone: 1 = robust to the
weighting, low values = the zone depends on a judgement call.

A *risk spec* is a plain dict describing how the rasters combine::

    {"hazards": {"wind": {"layer": "hazard:wind"},                       # a model or fixed layer
                 "earthquake": {"index": {"features": ["indicator:earthquake/pga", ...],
                                          "norms": [[lo, hi, direction, transform], ...],
                                          "weights": [...]}}},
     "formula": {"wind": "geometric", ...}, "risk_weights": {"wind": [wH, wE, wV], ...},
     "multi": {"rule": "max", "weights": [...]}}

Layers are looked up by key: ``"hazard:<h>"``, ``"exposure"``, ``"vulnerability"`` and
``"indicator:<path>"``. With ``risk.method: expected_harm`` the formula of every hazard is
``expected_harm`` (``R = H · E_h · V_h``, :mod:`risk.assessment.harm`): it has no risk weights, the
draws perturb the indicator weights of index hazards (and the multi-hazard weights), and the layers
are ``"exposure:<h>"`` and ``"vulnerability:<h>"``. With ``risk.method: matrix`` the formula is ``matrix``:
each draw redraws the hazard levels of the index hazards (:func:`matrix_levels`) and reads the risk level
off ``spec["matrix"]``; trained hazards do not move, so their zones are fully stable. ``"curves"`` holds the intensity-damage curve of each
index hazard listed in ``risk.intensity_damage`` (:func:`risk.assessment.harm.damage_kernel`).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping

import dask
import dask.array as da
import numpy as np
import xarray as xr
from numba import njit

from risk.assessment.combine_risk import MATRIX_SAMPLE, multi_kernel, risk_kernel
from risk.assessment.harm import DEFAULT_MATRIX, check_curve, damage_kernel, matrix_kernel, validate_matrix
from risk.assessment.township_tables import zoning_meta
from risk.assessment.zoning import breaks_settings, class_breaks, draw_breaks
from risk.grid import systematic_sample
from risk.hazard.normalize import scale

logger = logging.getLogger(__name__)

PER_HAZARD = ("expected_harm", "matrix")
"""Risk methods with an exposure and a vulnerability per hazard (:mod:`risk.assessment.harm`)."""


def perturb(w, spread: float, rng: np.random.Generator) -> np.ndarray:
    """``w · (1 + U(-spread, spread))``, renormalised to the original sum (1 for normalised weights)."""
    w = np.asarray(w, dtype="f8")
    if not 0 <= spread < 1:
        raise ValueError(f"uncertainty.spread: must lie in [0, 1), got {spread}")
    out = w * (1.0 + rng.uniform(-spread, spread, size=w.shape))
    s = out.sum()
    return out * (w.sum() / s) if s > 0 else w.copy()


def draw_specs(spec: dict, n_draws: int, spread: float = 0.2, seed: int = 0) -> list[dict]:
    """``n_draws`` copies of ``spec`` with every weight vector perturbed (reproducible for a seed)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_draws):
        s = copy.deepcopy(spec)
        for h in sorted(s["hazards"]):
            s["risk_weights"][h] = perturb(s["risk_weights"][h], spread, rng).tolist()
            if "index" in s["hazards"][h]:
                s["hazards"][h]["index"]["weights"] = perturb(s["hazards"][h]["index"]["weights"], spread,
                                                              rng).tolist()
        multi = s.get("multi")
        if multi and multi.get("weights") is not None:
            multi["weights"] = perturb(multi["weights"], spread, rng).tolist()
        out.append(s)
    return out


def layer_keys(spec: dict, name: str) -> list[str]:
    """The layer keys needed to compute risk ``name`` (a hazard or ``multi_hazard``)."""
    hazards = sorted(spec["hazards"]) if name == "multi_hazard" else [name]
    keys = []
    for h in hazards:
        hs = spec["hazards"][h]
        keys += hs["index"]["features"] if "index" in hs else [hs["layer"]]
        if spec["formula"][h] in PER_HAZARD:
            keys += [f"exposure:{h}", f"vulnerability:{h}"]
    if all(spec["formula"][h] in PER_HAZARD for h in hazards):
        return keys
    return keys + ["exposure", "vulnerability"]


def _hazards_of(names) -> list[str] | None:
    return None if "multi_hazard" in names else sorted(set(names))


def prepare(spec: dict, layers: dict, hazards: list[str] | None = None) -> dict:
    """Everything about a block that does not change between draws: clipped layers, their logs, and
    the normalised indicators of index hazards (so that a draw only re-weights and re-combines)."""
    hazards = sorted(spec["hazards"]) if hazards is None else hazards
    with np.errstate(divide="ignore", invalid="ignore"):
        ctx = {"haz": {}, "EV": {}}
        if "exposure" in layers:
            e = np.clip(np.asarray(layers["exposure"], "f4"), 0, 1)
            v = np.clip(np.asarray(layers["vulnerability"], "f4"), 0, 1)
            ctx.update({"E": e, "V": v, "lnE": np.log(e), "lnV": np.log(v)})
        for h in hazards:
            if spec["formula"][h] in PER_HAZARD:
                ctx["EV"][h] = (np.asarray(layers[f"exposure:{h}"], "f4")
                                * np.asarray(layers[f"vulnerability:{h}"], "f4")).astype("f4")
            hs = spec["hazards"][h]
            if "index" in hs:
                ix = hs["index"]
                n = np.stack([scale(layers[k], *nm[:2], nm[2], nm[3] if len(nm) > 3 else "none")
                              for k, nm in zip(ix["features"], ix["norms"], strict=True)])
                ctx["haz"][h] = ("index", n)
            else:
                hv = np.clip(np.asarray(layers[hs["layer"]], "f4"), 0, 1)
                ctx["haz"][h] = ("layer", hv, np.log(hv))
    return ctx


def _hazard(spec: dict, h: str, ctx: dict) -> tuple[np.ndarray, np.ndarray | None]:
    """The hazard of ``h`` under the draw's weights (and its log for the geometric formula)."""
    kind = ctx["haz"][h]
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind[0] == "index":
            w = np.asarray(spec["hazards"][h]["index"]["weights"], dtype="f8")
            hv = weighted_sum_f4((w / w.sum()).astype("f4"), kind[1])
            return hv, (np.log(hv) if spec["formula"][h] == "geometric" else None)
    return kind[1], kind[2]


def weighted_sum_f4(w: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``Σ_j w[j] · n[j]`` in float32, term after term (``n``: stacked layers, one per weight).

    The same values as ``np.tensordot(w, n, axes=1)`` wherever BLAS adds the terms in order without fused
    multiply-adds (as this machine's OpenBLAS does), on one thread: BLAS's own threads spun 2.7× the CPU of
    the sum itself for three layers.

    Examples
    --------
    >>> weighted_sum_f4(np.array([0.5, 0.25], "f4"), np.array([[1.0, 2.0], [4.0, np.nan]], "f4")).tolist()
    [1.5, nan]
    """
    out = np.multiply(n[0], w[0], dtype="f4")
    tmp = np.empty_like(out)
    for j in range(1, len(w)):
        np.multiply(n[j], w[j], out=tmp)
        out += tmp
    return out


def _risk(spec: dict, h: str, ctx: dict) -> np.ndarray:
    formula = spec["formula"][h]
    if formula == "expected_harm" and ctx["haz"][h][0] == "layer":
        # no weight enters H · E_h · V_h of a trained hazard: the same array for every draw, computed once a block
        fixed = ctx.setdefault("fixed", {})
        if h not in fixed:
            fixed[h] = _expected_harm(spec, h, ctx, ctx["haz"][h][1].copy())
        return fixed[h]
    wh, we, wv = (np.float32(x) for x in spec["risk_weights"][h])
    hv, lnh = _hazard(spec, h, ctx)
    with np.errstate(divide="ignore", invalid="ignore"):
        if formula == "matrix":
            lv = spec["levels"][h]
            return matrix_kernel(hv, ctx["EV"][h], lv["hazard_breaks"], lv["ev_breaks"], spec["matrix"])
        if formula == "expected_harm":
            return _expected_harm(spec, h, ctx, hv)  # hv: the draw's own array
        if formula != "geometric":
            return risk_kernel(hv, ctx["E"], ctx["V"], formula, (wh, we, wv))
        acc = np.zeros(hv.shape, dtype="f4")
        for wi, lx in ((wh, lnh), (we, ctx["lnE"]), (wv, ctx["lnV"])):
            if wi > 0:
                acc += wi * lx
        return np.exp(acc).astype("f4")


def _expected_harm(spec: dict, h: str, ctx: dict, hv: np.ndarray) -> np.ndarray:
    """``clip(D(H), 0, 1) · E_h V_h`` (float32), computed in ``hv`` (changed) or in the damage curve's output."""
    curve = (spec.get("curves") or {}).get(h)
    hv = damage_kernel(hv, **curve) if curve else hv
    with np.errstate(invalid="ignore"):
        np.clip(hv, 0, 1, out=hv)
        hv *= ctx["EV"][h]
    return hv


def evaluate_prepared(spec: dict, names, ctx: dict) -> dict[str, np.ndarray]:
    """Risk of every name in ``names`` (hazards and/or ``multi_hazard``) for one draw."""
    hazards = sorted(spec["hazards"]) if "multi_hazard" in names else sorted(set(names))
    risks = {h: _risk(spec, h, ctx) for h in hazards}
    out = {n: risks[n] for n in names if n != "multi_hazard"}
    if "multi_hazard" in names:
        m = spec["multi"]
        out["multi_hazard"] = multi_kernel([risks[h] for h in sorted(spec["hazards"])], m["rule"], m.get("weights"),
                                           clip=not any(f in PER_HAZARD for f in spec["formula"].values()))
    return out


def evaluate(spec: dict, name: str, layers: dict) -> np.ndarray:
    """Risk ``name`` on numpy arrays ``{layer key: array}`` (all the same shape), float32."""
    ctx = prepare(spec, layers, _hazards_of([name]))
    return evaluate_prepared(spec, [name], ctx)[name]


@njit(cache=True, nogil=True)
def _count_kept(risk, breaks, base, counts, times):
    """``counts += times`` where a finite ``risk`` falls in zone ``base`` under ``breaks`` (float32, in place).

    The zone is ``1 + #{breaks < risk}``, i.e. ``searchsorted(breaks, risk, side="left") + 1`` compared in
    float32 as :func:`risk.assessment.zoning.classify` does. Hand-written in numba: numpy's searchsorted,
    the comparison, ``isfinite`` and the sum were 60 % of the Monte-Carlo pass (five temporaries per draw).
    """
    # branch-free loops that LLVM vectorises (a per-cell branch on random zones runs 4x slower)
    z = np.ones(risk.shape[0], np.float32)
    for k in range(breaks.shape[0]):
        b = breaks[k]
        for i in range(risk.shape[0]):
            z[i] += np.float32(b < risk[i])
    for i in range(risk.shape[0]):
        counts[i] += times * np.float32((z[i] == base[i]) & np.isfinite(risk[i]))


def _stability_block(*blocks, keys, specs, names, breaks) -> np.ndarray:
    """Stability of one block: ``blocks`` are the layers of ``keys`` then the zones of ``names`` (2-D, float32).

    They come as separate arrays (not stacked into one): only the cells inside the study area are copied out.
    """
    nk = len(keys)
    bases_all = blocks[nk:]
    valid = np.zeros(np.shape(blocks[0]), dtype=bool)  # only cells inside the study area are computed
    for b in bases_all:
        valid |= np.asarray(b) > 0
    out = np.full((len(names), *np.shape(blocks[0])), np.nan, dtype="f4")
    if not valid.any():
        return out
    layers = {k: np.asarray(blocks[i], "f4")[valid] for i, k in enumerate(keys)}
    bases = [np.asarray(b, "f4")[valid] for b in bases_all]
    ctx = prepare(specs[0], layers, _hazards_of(names))
    counts = [np.zeros(b.shape, dtype="f4") for b in bases]
    # a risk no weight enters (a trained hazard's expected harm: the same array every draw) with the same breaks
    # as the draw before is counted once, times the number of such draws in a row (exact: counts are integers)
    pending: list[list] = [[None, None, 0] for _ in names]  # risk, breaks, draws
    for d, s in enumerate(specs):
        risks = evaluate_prepared(s, names, ctx)
        for i, n in enumerate(names):
            br = np.asarray(breaks[n][d], dtype="f4")
            p = pending[i]
            if p[0] is risks[n] and np.array_equal(p[1], br):
                p[2] += 1
                continue
            if p[2]:
                _count_kept(p[0], p[1], bases[i], counts[i], np.float32(p[2]))
            pending[i] = [risks[n], br, 1]
    for i, (r, br, times) in enumerate(pending):
        if times:
            _count_kept(r, br, bases[i], counts[i], np.float32(times))
    for i, (c, b) in enumerate(zip(counts, bases, strict=True)):
        out[i][valid] = np.where(b > 0, c / np.float32(len(specs)), np.float32(np.nan))
    return out


def class_stability_many(layers: dict[str, xr.DataArray], spec: dict, names: list[str],
                         base_zones: dict[str, xr.DataArray], methods: dict[str, str], thresholds=None,
                         n_draws: int = 50, spread: float = 0.2, seed: int = 0,
                         sample_size: int = 5000,
                         exposed_only: Mapping[str, tuple[bool, bool]] | None = None) -> tuple[dict[str, xr.DataArray], dict[str, dict]]:
    """:func:`class_stability` of several names in one pass: the same draws, each block read once.

    ``thresholds`` maps a name to its fixed thresholds (for ``fixed`` zonings); ``exposed_only`` a name to
    ``(exposed_only, log_breaks)`` of :func:`risk.assessment.zoning.draw_breaks`, as the published zoning drew them. The returned rasters
    are slices of one Dask array: write them together (:func:`risk.io.batchwrite.write_rasters`) so the
    draws run once.
    """
    names = list(names)
    keys = list(dict.fromkeys(k for n in names for k in layer_keys(spec, n)))
    missing = [k for k in keys if k not in layers]
    if missing:
        raise ValueError(f"uncertainty of {', '.join(names)}: missing layer(s) {', '.join(missing)}")
    specs = draw_specs(spec, n_draws, spread, seed)
    matrix_levels(specs, layers, names)
    samp = {k: systematic_sample(layers[k], sample_size, dropna=False) for k in keys}
    sctx = prepare(spec, samp, _hazards_of(names))
    # the draws' breaks run as tasks of the Dask scheduler: Fisher-Jenks is single-threaded, its kernel nogil
    # a draw whose sample is that of an earlier draw (a trained hazard's risk: no weight enters it) reuses its breaks
    tasks, unique, which = [], {}, {n: [] for n in names}
    for s in specs:
        r = evaluate_prepared(s, names, sctx)
        for n in names:
            key = (n, r[n].dtype.str, r[n].tobytes())
            if key not in unique:
                unique[key] = len(tasks)
                eo, lb = (exposed_only or {}).get(n, (False, False))
                tasks.append(dask.delayed(draw_breaks)(r[n], methods[n], 5, (thresholds or {}).get(n), eo, lb))
            which[n].append(unique[key])
    drawn = dask.compute(*tasks)
    breaks: dict[str, list] = {n: [drawn[i] for i in which[n]] for n in names}
    ref = base_zones[names[0]]
    arrs = [layers[k].data for k in keys] + [base_zones[n].data for n in names]
    if isinstance(ref.data, da.Array):
        blocks = [a.astype("f4") if isinstance(a, da.Array) else da.from_array(np.asarray(a, "f4"),
                  chunks=ref.data.chunks) for a in arrs]
        out = da.map_blocks(_stability_block, *blocks, keys=keys, specs=specs, names=names, breaks=breaks,
                            dtype="f4", new_axis=0, chunks=((len(names),), *blocks[0].chunks),
                            meta=np.empty((0, 0, 0), "f4"))
    else:
        out = _stability_block(*[np.asarray(a, "f4") for a in arrs], keys=keys, specs=specs, names=names,
                               breaks=breaks)
    rasters, infos = {}, {}
    for i, n in enumerate(names):
        r = xr.DataArray(out[i], dims=ref.dims, coords=ref.coords, name=f"{n}_stability")
        r.attrs = {k: v for k, v in ref.attrs.items() if k in ("crs", "res")}
        rasters[n] = r
        b = np.array(breaks[n])
        infos[n] = {"name": n, "n_draws": int(n_draws), "spread": float(spread), "seed": int(seed),
                    "method": methods[n], "sample_size": int(sample_size),
                    "breaks_mean": b.mean(axis=0).round(6).tolist(), "breaks_std": b.std(axis=0).round(6).tolist(),
                    "perturbation": "w' = w * (1 + U(-spread, spread)), renormalised; breaks redrawn per draw"}
    return rasters, infos


def matrix_levels(specs: list[dict], layers: Mapping[str, xr.DataArray], names) -> None:
    """Add to every draw the level breaks of its matrix hazards (in place), as :func:`combine_all` draws them.

    The hazard breaks (``hazard_zoning.method``) are redrawn on each draw's hazard (index hazards move with their
    weights, trained hazards do not); the exposure-vulnerability quintiles over the exposed cells do not depend
    on the weights. Both use the sample of :func:`combine_all` (``MATRIX_SAMPLE`` cells), so that an
    unperturbed draw reproduces the published levels.
    """
    hazards = [h for h in sorted(specs[0]["hazards"]) if specs[0]["formula"][h] == "matrix"
               and ("multi_hazard" in names or h in names)]
    if not hazards:
        return
    keys = list(dict.fromkeys(k for h in hazards for k in layer_keys({**specs[0], "hazards": {
        h: specs[0]["hazards"][h]}, "formula": {h: "matrix"}}, h)))
    samp = {k: systematic_sample(layers[k], MATRIX_SAMPLE, dropna=False) for k in keys}
    ctx = prepare(specs[0], samp, hazards)
    ev_breaks = {}
    for h in hazards:
        ev = ctx["EV"][h][np.isfinite(ctx["EV"][h])]
        ev_breaks[h] = class_breaks(ev[ev > 0], "quantiles").tolist() if (ev > 0).any() else [1, 2, 3, 4]
    for s in specs:
        s["levels"] = {h: {"hazard_breaks": class_breaks(_finite(_hazard(s, h, ctx)[0]), s["hazard_method"]).tolist(),
                           "ev_breaks": ev_breaks[h]} for h in hazards}


def _finite(a) -> np.ndarray:
    a = np.asarray(a, dtype="f8")
    return a[np.isfinite(a)]


def class_stability(layers: dict[str, xr.DataArray], spec: dict, name: str, base_zones: xr.DataArray,
                    method: str, thresholds=None, n_draws: int = 50, spread: float = 0.2, seed: int = 0,
                    sample_size: int = 5000) -> tuple[xr.DataArray, dict]:
    """Share of Monte-Carlo draws in which each cell keeps its zone (float32 0-1, NaN outside).

    Parameters
    ----------
    layers : dict
        Rasters by layer key (numpy- or Dask-backed, same grid and chunks).
    base_zones : xarray.DataArray
        The published zoning (uint8 1-5, 0 outside), compared against.
    method, thresholds : str, sequence
        Zoning method (as in :func:`risk.assessment.zoning.class_breaks`), redrawn for every draw.

    Returns
    -------
    stability, info
        The raster and a record of the draws (breaks per draw, spread, seed).
    """
    r, i = class_stability_many(layers, spec, [name], {name: base_zones}, {name: method},
                                {name: thresholds} if thresholds is not None else None, n_draws, spread, seed,
                                sample_size)
    return r[name], i[name]


def build_spec(hazard_metrics: dict[str, dict], risk_cfg: dict, hazard_method: str = "natural_breaks") -> dict:
    """The risk spec of a run from each hazard's ``metrics.json`` and the config's ``risk`` section.

    Index hazards keep their indicators, normalisation and weights (perturbed in the draws);
    trained hazards enter as their hazard raster. ``hazard_method``: the class-break method of the
    hazard levels of ``risk.method: matrix`` (``hazard_zoning.method``, as :func:`combine_all` uses it).
    """
    from risk.assessment.combine_risk import risk_method, risk_settings

    method = risk_method(risk_cfg)
    spec: dict = {"hazards": {}, "formula": {}, "risk_weights": {}}
    if method == "matrix":
        spec.update(matrix=validate_matrix(risk_cfg.get("matrix") or DEFAULT_MATRIX).tolist(),
                    hazard_method=hazard_method)
    for h, m in sorted(hazard_metrics.items()):
        if m.get("mode") == "index":
            feats = list(m["features"])
            spec["hazards"][h] = {"index": {
                "features": [f"indicator:{f}" for f in feats],
                "norms": [[m["normalisation"][f]["lo"], m["normalisation"][f]["hi"],
                           m["normalisation"][f]["direction"], m["normalisation"][f].get("transform", "none")]
                          for f in feats],
                "weights": [m["weights"][f] for f in feats]}}
        else:
            spec["hazards"][h] = {"layer": f"hazard:{h}"}
        formula, w = risk_settings(risk_cfg, h)
        spec["formula"][h] = method if method in PER_HAZARD else formula
        spec["risk_weights"][h] = list(w)
    mh = risk_cfg.get("multi_hazard") or {}
    rule = mh.get("rule", "max")
    weights = None
    if rule == "weighted_sum":
        ws = mh.get("weights") or {}
        weights = [float(ws.get(h, 1.0)) for h in sorted(hazard_metrics)]
        s = sum(weights)
        weights = [w / s for w in weights]
    spec["multi"] = {"rule": rule, "weights": weights}
    if method == "expected_harm":  # index hazards as annual probabilities of damage, as combine_risk does
        spec["curves"] = {h: check_curve(h, c) for h, c in (risk_cfg.get("intensity_damage") or {}).items()
                          if h in hazard_metrics}
    return spec


def zoning_settings(zoning_tags: Mapping[str, Mapping[str, str]]) -> tuple[dict[str, str], dict[str, list]]:
    """Zoning method of each name and the thresholds of the ``fixed`` ones, from the zoning rasters' tags.

    Examples
    --------
    >>> zoning_settings({"a": {"ZONING_METHOD": "fixed", "ZONING_BREAKS": "[0.2, 0.4, 0.6, 0.8]"},
    ...                  "b": {"ZONING_METHOD": "quantiles", "ZONING_BREAKS": "[1, 2, 3, 4]"}})
    ({'a': 'fixed', 'b': 'quantiles'}, {'a': [0.2, 0.4, 0.6, 0.8]})
    """
    methods, thresholds = {}, {}
    for name, tags in zoning_tags.items():
        methods[name], breaks = zoning_meta(tags)
        if methods[name] == "fixed":
            thresholds[name] = breaks
    return methods, thresholds


def zone_stability(hazard_metrics: dict[str, dict], risk_cfg: dict, layers: Mapping[str, xr.DataArray],
                   zones: Mapping[str, xr.DataArray], zoning_tags: Mapping[str, Mapping[str, str]],
                   uncertainty: Mapping, hazard_method: str = "natural_breaks"):
    """Class stability of every published zoning of a run, with the tags and descriptions of its rasters.

    Parameters
    ----------
    hazard_metrics : dict
        ``{hazard: metrics.json}`` (:func:`build_spec`).
    risk_cfg : dict
        The config's ``risk`` section.
    layers : mapping
        Rasters by layer key (``hazard:<h>``, ``indicator:<path>``, ``exposure``, ``vulnerability``);
        those the zonings need are used.
    zones, zoning_tags : mapping
        ``{name: published zoning raster}`` and ``{name: its GeoTIFF tags}`` (method and breaks).
    uncertainty : mapping
        The config's ``uncertainty`` section (``n_draws``, ``spread``, ``seed``, ``sample_size``).
    hazard_method : str
        ``hazard_zoning.method``: the hazard levels of ``risk.method: matrix``.

    Returns
    -------
    rasters, infos, tags, descriptions : dict
        Keyed by name: :func:`class_stability_many`'s rasters and records, and the GeoTIFF tags and
        band description of each raster.
    """
    u = uncertainty
    names = list(zones)
    spec = build_spec(hazard_metrics, risk_cfg, hazard_method)
    methods, thresholds = zoning_settings(zoning_tags)
    keys = set().union(*(layer_keys(spec, n) for n in names))
    exposed = {n: breaks_settings(zoning_tags[n]) for n in names}
    rasters, infos = class_stability_many({k: layers[k] for k in keys}, spec, names, dict(zones), methods,
                                          thresholds, u["n_draws"], u["spread"], u["seed"], u["sample_size"],
                                          exposed)
    tags = {n: {"NAME": n, "N_DRAWS": u["n_draws"], "SPREAD": u["spread"], "SEED": u["seed"],
                "ZONING_METHOD": methods[n]} for n in names}
    descr = {n: f"{n}: share of {u['n_draws']} weight draws keeping the zone (0-1)" for n in names}
    return rasters, infos, tags, descr


def with_mean_stability(info: dict, stability: xr.DataArray, sample_size: int = 200_000) -> dict:
    """``info`` with ``mean_stability``: the mean of a systematic sample of the written stability raster."""
    sample = systematic_sample(stability, sample_size)
    mean = round(float(np.mean(sample)), 4) if sample.size else None
    logger.info("%s: mean class stability %s over %d draws (spread ±%d %%)", info["name"], mean,
                info["n_draws"], round(100 * info["spread"]))
    return {**info, "mean_stability": mean}
