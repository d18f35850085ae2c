"""The indicator stacks of each hazard: what they are, and how they are derived from the inputs.

:data:`INDICATORS` is the one table (name, meaning, unit, source, direction) that the docs, the
workflow (output file names ``indicators/<hazard>/<name>.tif``), the index weights in the config
and the models stage all read. The functions below derive the indicators that are not simply an
input or a terrain layer: land-cover reclassifications, built-up share, aspect dryness, wind
exposure, and the seismic site term (:mod:`risk.hazard.vs30`).

:func:`build` makes every indicator file of the ``indicators`` rule from the inputs read onto the
grid (:data:`RASTER_INPUTS`, :data:`VECTOR_INPUTS`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from risk.blockwise import apply_blocks, apply_overlap
from risk.grid import Grid
from risk.hazard import proximity
from risk.hazard.layer_names import INDICATORS, Indicator, indicator_names  # noqa: F401 (re-exported)

logger = logging.getLogger(__name__)


def indicator(hazard: str, name: str) -> Indicator:
    """The :class:`Indicator` ``name`` of ``hazard``."""
    for ind in INDICATORS[hazard]:
        if ind.name == name:
            return ind
    raise KeyError(f"{hazard} has no indicator {name!r} (it has {', '.join(indicator_names(hazard))})")


def indicator_table() -> str:
    """The indicator table in Markdown (for the README and docs)."""
    lines = ["| hazard | indicator (file) | meaning | unit | source | direction |",
             "| --- | --- | --- | --- | --- | --- |"]
    for hazard, inds in INDICATORS.items():
        for i in inds:
            d = "more = more dangerous" if i.direction == "more" else "less = more dangerous"
            lines.append(f"| {hazard} | `{i.name}` | {i.meaning} | {i.unit} | {i.source} | {d} |")
    return "\n".join(lines) + "\n"


# -- land cover -------------------------------------------------------------------------------
def _lookup(codes: Mapping, scores: Mapping, default: float) -> np.ndarray:
    table = np.full(256, default, dtype="float32")
    for code, key in codes.items():
        if key in scores:
            table[int(code)] = float(scores[key])
    table[0] = np.nan  # 0 = no data in a land-cover raster read onto the grid
    return table


def _reclass_kernel(lc, table):
    lc = np.asarray(lc)
    if lc.dtype == np.uint8:  # land cover as read (every code indexes the 256-entry table): no int64 copy, no clip
        return table[lc]
    idx = np.where(np.isfinite(lc), lc, 0).astype("int64") if lc.dtype.kind == "f" else lc.astype("int64")
    return table[np.clip(idx, 0, 255)]


def landcover_score(landcover: xr.DataArray, classes: Mapping, scores: Mapping, default: float = np.nan,
                    name: str = "landcover") -> xr.DataArray:
    """Map land-cover codes to a score per class.

    Parameters
    ----------
    landcover : DataArray
        Integer codes (0 = no data).
    classes : dict
        Code -> class key (config ``landcover_classes``).
    scores : dict
        Class key -> value.
    """
    table = _lookup(classes, scores, default)
    return apply_blocks(_reclass_kernel, landcover, table=table, name=name)


def _share_kernel(block, size):
    from scipy import ndimage

    valid = np.isfinite(block)
    s = ndimage.uniform_filter(np.where(valid, block, 0.0).astype("f8"), size=size, mode="constant")
    n = ndimage.uniform_filter(valid.astype("f8"), size=size, mode="constant")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(valid & (n > 1e-9), np.clip(s / np.maximum(n, 1e-12), 0, 1), np.nan)


def built_up_share(landcover: xr.DataArray, classes: Mapping, radius_m: float = 500.0,
                   key: str = "built_up") -> xr.DataArray:
    """Share of built-up cells among the cells with land cover within ± ``radius_m`` (square window)."""
    from risk.hazard.terrain import _radius_cells, _res

    is_built = landcover_score(landcover, classes, {k: float(k == key) for k in set(classes.values())}, 0.0,
                               name="built_up")
    r = _radius_cells(radius_m, _res(landcover))
    out = apply_overlap(_share_kernel, is_built, depth=r, size=2 * r + 1, name="built_up_share")
    out.attrs.update(units="1")
    return out


def _dryness_kernel(asp, peak):
    a = asp.astype("f8")
    d = 0.5 * (1.0 + np.cos(np.deg2rad(a - peak)))
    return np.where(a < 0, 0.5, d).astype("float32")


def aspect_dryness(aspect: xr.DataArray, peak_deg: float = 202.5) -> xr.DataArray:
    """0–1 dryness of a slope's facing: 1 towards ``peak_deg`` (SSW), 0 opposite, 0.5 on flats."""
    return apply_blocks(_dryness_kernel, aspect, peak=float(peak_deg), name="aspect_dryness")


def _abs_kernel(x):
    return np.abs(x).astype("float32")


def absolute(arr: xr.DataArray) -> xr.DataArray:
    """Absolute value, chunk by chunk."""
    return apply_blocks(_abs_kernel, arr, name=arr.name)


def _mask_kernel(x, m):
    return np.where(m > 0, x, np.nan).astype("float32")


def mask(arr: xr.DataArray, aoi: xr.DataArray) -> xr.DataArray:
    """``arr`` inside the AOI (``aoi`` > 0), NaN outside."""
    return apply_blocks(_mask_kernel, arr, aoi, name=arr.name)


def hazard_indicators(layers: Mapping[str, xr.DataArray], *, landcover_classes: Mapping,
                      landcover_scores: Mapping[str, Mapping[str, float]], built_up_radius_m: float = 500.0,
                      exposure_radius_m: float = 1000.0, vs30_params: Mapping | None = None,
                      hazards=None) -> dict[str, dict[str, xr.DataArray]]:
    """Every indicator of :data:`INDICATORS` from the base layers (lazy on Dask).

    Parameters
    ----------
    layers : dict
        ``dem``, the terrain layers (``slope``, ``aspect``, ``curvature``, ``relief``, ``twi``,
        ``depression_depth``), ``landcover`` (codes), ``rain_max24h``, ``pga``, ``wind50`` and the
        distances ``distance_rivers``, ``distance_roads``, ``distance_settlements``. Only those the
        requested ``hazards`` need must be present.
    landcover_classes : dict
        Code -> class key.
    landcover_scores : dict
        ``geological``, ``fuel`` and ``roughness_m`` tables (class key -> value; missing classes 0).
    vs30_params : dict
        ``region``, ``smoothing_m``, ``reference_m_s``, ``exponent``.
    """
    from risk.hazard import terrain, vs30

    vp = {"region": "active", "smoothing_m": 450.0, "reference_m_s": 760.0, "exponent": 0.35, **(vs30_params or {})}
    hazards = list(hazards or INDICATORS)
    cache: dict[str, xr.DataArray] = {}

    def get(name: str) -> xr.DataArray:
        if name in cache:
            return cache[name]
        if name in ("slope", "relief", "twi", "depression_depth", "rain_max24h", "pga", "wind50",
                    "distance_rivers", "distance_roads", "distance_settlements"):
            out = layers[name]
        elif name == "curvature":
            out = absolute(layers["curvature"])
        elif name == "aspect_dryness":
            out = aspect_dryness(layers["aspect"])
        elif name == "built_up_share":
            out = built_up_share(layers["landcover"], landcover_classes, built_up_radius_m)
        elif name == "landcover":
            out = landcover_score(layers["landcover"], landcover_classes, landcover_scores["geological"], 0.0)
        elif name == "fuel":
            out = landcover_score(layers["landcover"], landcover_classes, landcover_scores["fuel"], 0.0, "fuel")
        elif name == "roughness":
            out = landcover_score(layers["landcover"], landcover_classes, landcover_scores["roughness_m"], 0.0,
                                  "roughness")
        elif name == "terrain_exposure":
            out = terrain.topographic_position(layers["dem"], exposure_radius_m)
        elif name == "vs30":
            dem = layers["dem"]
            grad = terrain.smooth_gradient(dem, vp["smoothing_m"]) if vp["smoothing_m"] > 0 else terrain.gradient(dem)
            out = vs30.vs30(grad, vp["region"])
        elif name == "site_amplification":
            out = vs30.site_amplification(get("vs30"), vp["reference_m_s"], vp["exponent"])
        else:  # pragma: no cover - INDICATORS and this function are kept in step by the tests
            raise KeyError(name)
        cache[name] = out.rename(name)
        return cache[name]

    # an indicator shared by several hazards is the same DataArray object in each (written once)
    return {h: {i.name: get(i.name) for i in INDICATORS[h]} for h in hazards}


# -- the files of the indicators rule -------------------------------------------------------
RASTER_INPUTS: dict[str, tuple[str, str]] = {
    "dem": ("bilinear", "float32"),
    "landcover": ("nearest", "uint8"),
    "rain_max24h": ("bilinear", "float32"),
    "pga": ("bilinear", "float32"),
    "wind50": ("bilinear", "float32"),
    **{name: ("nearest", "float32")
       for name in ("slope", "aspect", "curvature", "relief", "twi", "depression_depth")},
}
"""Raster inputs of :func:`build`: how each is read onto the grid (resampling, dtype).

Coarse climate and seismic rasters bilinearly, land-cover codes and the terrain layers (already
on the grid) by nearest neighbour.
"""

VECTOR_INPUTS = {"rivers": "lines", "roads": "lines", "settlements": "points"}
"""Vector inputs of :func:`build`, each turned into the distance to its nearest feature."""


def build(rasters: Mapping[str, xr.DataArray], features: Mapping, grid: Grid, *, landcover_classes: Mapping,
          landcover_scores: Mapping[str, Mapping[str, float]], built_up_radius_m: float = 500.0,
          exposure_radius_m: float = 1000.0, max_distance_m: float = 20_000.0,
          vs30: Mapping | None = None) -> tuple[dict, dict, dict]:
    """Every indicator of :data:`INDICATORS`, with its file metadata (lazy on Dask).

    Parameters
    ----------
    rasters : dict of str to DataArray
        The inputs of :data:`RASTER_INPUTS` on ``grid``.
    features : dict of str to GeoDataFrame
        The inputs of :data:`VECTOR_INPUTS` in the grid's CRS: lines are burnt with all the cells
        they touch, points into the cell that holds them; each becomes the exact distance to the
        nearest such cell (``distance_<name>``), capped at ``max_distance_m``.
    grid : Grid
        The analysis grid.
    landcover_classes : dict
        Code -> class key (config ``landcover_classes``; keys may be strings).
    landcover_scores, built_up_radius_m, exposure_radius_m, vs30
        As for :func:`hazard_indicators` (``vs30`` is its ``vs30_params``).

    Returns
    -------
    layers, tags, descriptions : dict
        Keyed by ``<hazard>/<indicator>`` (the file under ``indicators/``), hazards and indicators
        in the order of :data:`INDICATORS`. An indicator shared by several hazards is the same
        DataArray under each key (written once). Tags: ``HAZARD``, ``INDICATOR``, ``MEANING``,
        ``UNITS``, ``SOURCE``, ``DIRECTION``.
    """
    layers = dict(rasters)
    cap = float(max_distance_m)
    for name, kind in VECTOR_INPUTS.items():
        make = proximity.line_sources if kind == "lines" else proximity.point_sources
        layers[f"distance_{name}"] = proximity.distance(make(features[name], grid, name), max_distance=cap)
    stacks = hazard_indicators(layers, landcover_classes={int(k): v for k, v in landcover_classes.items()},
                               landcover_scores=landcover_scores, built_up_radius_m=built_up_radius_m,
                               exposure_radius_m=exposure_radius_m, vs30_params=vs30)
    out, tags, descriptions = {}, {}, {}
    for hazard, stack in stacks.items():
        for ind in INDICATORS[hazard]:
            key = f"{hazard}/{ind.name}"
            out[key] = stack[ind.name]
            tags[key] = {"HAZARD": hazard, "INDICATOR": ind.name, "MEANING": ind.meaning, "UNITS": ind.unit,
                         "SOURCE": ind.source, "DIRECTION": ind.direction}
            descriptions[key] = f"{hazard} {ind.name} ({ind.unit})"
    return out, tags, descriptions


def indicator_paths(keys, out_dir, expected: Sequence = ()) -> dict[str, str]:
    """The file of each ``<hazard>/<indicator>`` key under ``out_dir``; an error if an ``expected`` file has none.

    Examples
    --------
    >>> indicator_paths(["wind/wind50"], "res/indicators", ["res/indicators/wind/wind50.tif"])
    {'wind/wind50': 'res/indicators/wind/wind50.tif'}
    """
    paths = {k: str(Path(out_dir) / f"{k}.tif") for k in keys}
    missing = sorted(set(map(str, expected)) - set(paths.values()))
    if missing:
        raise RuntimeError(f"no indicator computed for {missing}")
    return paths
