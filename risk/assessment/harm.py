"""Risk that keeps the hazard in the picture: exposure and vulnerability per hazard, expected harm, risk matrix.

Exposure per hazard (physical units until it meets the hazard)
---------------------------------------------------------------
What a hazard ``h`` threatens in a cell: the residents (people per cell) and every surveyed structure of
a category that ``h`` acts on (``risk.category_hazards``: billboards for wind, substations and
waterlogging spots for waterlogging, ...), each counted with its value in person-equivalents
(``exposure.asset_value``), spread around the structure by a Gaussian of σ = ``exposure.asset_sigma_m``
of its category (the total is kept)::

    E_h = people + Σ_{surveyed points i, h ∈ hazards(category_i)} value(category_i) · g_σ(cell − x_i)

Why spread: a structure's failure harms the people around it, not those of its own 30 m cell (a ponded
underpass the road users along it, a toppled billboard or crane those within its fall height, a flooded
substation its neighbourhood), and a surveyed coordinate is uncertain by tens of metres (handheld GNSS,
geocoded addresses). A power facility's failure cuts the supply of the village or town around it, so it
spreads much wider. A whole person-equivalent value dropped into one cell also outranks the residents
of its neighbours by an artefact of where the point fell. ``asset_sigma_m: 0`` keeps each value in its cell.

Exposure on or below steep slopes (``exposure.on_slopes.<h>``, off by default)
--------------------------------------------------------------------------
For a hazard that strikes from slopes (geological: landslides, rockfall, debris), what is threatened is
what stands on a steep slope or below one within the run-out distance. A cell is *reached* when its
slope is at least ``slope_deg`` or a cell of such slope lies within ``run_out_m`` of it at an elevation
at least its own; people and structures elsewhere count ``outside`` (0–1) times::

    E_h = w · (people + Σ value_i g_σ),   w = 1 where reached, ``outside`` elsewhere

Vulnerability per hazard
------------------------
The mean damage ratio (0–1) of that exposure: residents weigh with the hazard's land-cover baseline
``vulnerability.people_landcover.<h>`` (how much of a cell's population a hazard harms on that land
cover), structures with their own score for ``h`` (``vulnerability_<h>`` of ``vulnerability/points.gpkg``:
the category's base plus the rules that apply to ``h``)::

    V_h = (people · v_lc,h + Σ_i value_i · v_i,h) / E_h        (0 where E_h = 0)

Risk methods (``risk.method``)
------------------------------
* ``expected_harm`` (default): ``R_h = H_h · E_h · V_h``, person-equivalents harmed per cell when ``H_h``
  is a probability (trained hazards), or per unit of hazard intensity (index hazards). The hazard keeps
  its full weight: doubling the hazard doubles the risk, as does doubling the people.
* ``matrix`` (风险矩阵, Chinese risk-zoning practice): the hazard level ``L_H`` (1–5, the hazard's
  class breaks) and the exposure-vulnerability level ``L_EV`` (1–5, quantiles of ``E_h · V_h`` over the
  exposed cells) give the risk level ``risk.matrix[L_H − 1][L_EV − 1]``; 0 where nothing is exposed.
* ``index``: the former 0–1 index combination of :mod:`risk.assessment.combine_risk`
  (``risk.formula``, one exposure and one vulnerability index for all hazards).

Index hazards on the scale of the trained ones (``risk.intensity_damage.<h>``, method ``expected_harm``)
------------------------------------------------------------------------------------------------------
Earthquake and wind are 0–1 intensity indices, the trained hazards event probabilities. Before it meets
the exposure, an index hazard listed here is read as an intensity ``I = lo + H · (hi − lo)`` (``range``:
the intensity the index spans in the county) and turned into the annual probability of damage::

    H' = p_annual · D(I)
    lognormal (earthquake, I = PGA in g):  D = Φ(ln(I / median) / beta)         (a fragility curve)
    cubic (wind, I = wind speed in m/s):  D = v³ / (1 + v³),  v = max(I − threshold, 0) / (half − threshold)

``p_annual`` is the annual probability of the event the intensity map describes (a 475-year design PGA:
1/475; a 50-year wind: 1/50).

Cells where nothing is exposed (``E_h = 0``) have risk 0 under every method; they form their own
class in the tables and are left out when the zoning draws its class breaks.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr

from risk.blockwise import apply_blocks, apply_overlap, is_dask
from risk.hazard.indicators import landcover_score
from risk.hazard.point_rasters import kernel_density, point_raster, point_xy

logger = logging.getLogger(__name__)

METHODS = ("expected_harm", "matrix", "index")

DEFAULT_MATRIX = [
    [1, 1, 2, 2, 3],
    [1, 2, 2, 3, 3],
    [2, 2, 3, 4, 4],
    [2, 3, 4, 4, 5],
    [3, 3, 4, 5, 5],
]
"""Risk level by hazard level (rows 1–5) and exposure-vulnerability level (columns 1–5)."""

EXPOSURE_FORMULA = ("E = people + sum_i value(category_i) * gauss_sigma(d_i) over surveyed points the hazard "
                    "acts on")
VULNERABILITY_FORMULA = "V = (people * v_landcover + sum_i value_i * v_i) / E; 0 where E = 0"
HARM_FORMULA = "R = H * E * V (person-equivalents per cell)"


def threatened_categories(hazard: str, category_hazards: Mapping[str, Sequence[str]]) -> list[str]:
    """Survey categories a hazard acts on (``risk.category_hazards`` read the other way round).

    Examples
    --------
    >>> threatened_categories("wind", {"billboard": ["wind"], "waterlogging": ["waterlogging"]})
    ['billboard']
    """
    return [c for c, hs in category_hazards.items() if hazard in (hs or [])]


def _exposure_kernel(people, v_lc, asset, asset_v, w=None):
    p = np.where(np.isfinite(people), people, 0.0).astype("f8")
    p = np.maximum(p, 0.0)
    w = 1.0 if w is None else np.where(np.isfinite(w), w, 0.0).astype("f8")
    e = w * (p + asset.astype("f8"))
    ev = w * (p * np.where(np.isfinite(v_lc), v_lc, 0.0) + asset_v.astype("f8"))
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.where(e > 0, ev / np.where(e > 0, e, 1.0), 0.0)
    out = np.stack([e, v]).astype("f4")
    out[:, ~np.isfinite(people)] = np.nan
    return out


def _take(stack, i):
    return stack[i]


def hazard_exposure(hazard: str, people: xr.DataArray, landcover: xr.DataArray, points, grid, *,
                    landcover_classes: Mapping, people_landcover: Mapping[str, float],
                    asset_value: Mapping[str, float], category_hazards: Mapping[str, Sequence[str]],
                    asset_sigma_m: float | Mapping[str, float] = 0.0, reach: xr.DataArray | None = None,
                    reach_tags: Mapping | None = None) -> tuple[xr.DataArray, xr.DataArray, dict]:
    """Exposure ``E_h`` (person-equivalents per cell) and vulnerability ``V_h`` (0–1) of one hazard.

    Parameters
    ----------
    hazard : str
        The hazard key.
    people : DataArray
        Residents per cell (NaN outside the study area: the outputs are NaN there too).
    landcover : DataArray
        Land-cover codes on the grid.
    points : geopandas.GeoDataFrame
        Scored survey points (``category``, ``vulnerability_<hazard>`` or ``vulnerability``), grid CRS.
    grid : Grid
        The analysis grid.
    landcover_classes : mapping
        Code -> class key.
    people_landcover : mapping
        Class key -> share of the residents the hazard harms on that land cover (missing classes 0).
    asset_value : mapping
        Category -> person-equivalents of one surveyed structure.
    category_hazards : mapping
        Category -> hazards acting on it.
    asset_sigma_m : float or mapping
        σ (m) of the Gaussian that spreads each structure's value over the cells around it (total kept), for
        all categories or per category (missing: 0); 0 keeps it in its own cell.
    reach : DataArray, optional
        Weight (0–1) of the exposure in each cell (:func:`slope_reach`); None: 1 everywhere.
    reach_tags : mapping, optional
        The settings of ``reach``, recorded in the exposure's tags.

    Returns
    -------
    exposure, vulnerability, tags
        Two lazy rasters and a record of what went in.
    """
    cats = threatened_categories(hazard, category_hazards)
    col = f"vulnerability_{hazard}"
    sel = points[points["category"].isin(cats)] if len(points) else points
    value = sel["category"].map(lambda c: float(asset_value.get(c, 0.0))).to_numpy("f8") if len(sel) else \
        np.zeros(0)
    score = (sel[col] if col in sel else sel.get("vulnerability", 0.0))
    score = np.nan_to_num(np.asarray(score, dtype="f8"), nan=0.0) if len(sel) else np.zeros(0)
    xs, ys = point_xy(sel.geometry) if len(sel) else (np.zeros(0), np.zeros(0))
    use_dask = is_dask(people)
    sig = np.array([asset_sigma(c, asset_sigma_m) for c in sel["category"]], dtype="f8") if len(sel) else \
        np.zeros(0)
    asset = spread_groups(grid, xs, ys, value, sig, use_dask, "asset")
    asset_v = spread_groups(grid, xs, ys, value * score, sig, use_dask, "asset_v")
    classes = {int(k): v for k, v in landcover_classes.items()}
    v_lc = landcover_score(landcover, classes, people_landcover, 0.0)
    extra = () if reach is None else (reach,)
    ev = apply_blocks(_exposure_kernel_e, people, v_lc, asset, asset_v, *extra, name=f"exposure_{hazard}")
    vv = apply_blocks(_exposure_kernel_v, people, v_lc, asset, asset_v, *extra, name=f"vulnerability_{hazard}")
    tags = {"HAZARD": hazard, "UNITS": "person-equivalents per cell", "FORMULA": EXPOSURE_FORMULA,
            "CATEGORIES": ",".join(cats), "ASSET_VALUE": str({c: asset_value.get(c, 0.0) for c in cats}),
            "POINTS": int(len(sel)), "ASSET_SIGMA_M": str({c: asset_sigma(c, asset_sigma_m) for c in cats}),
            "ON_SLOPES": str(dict(reach_tags)) if reach is not None else "no"}
    vtags = {"HAZARD": hazard, "UNITS": "1", "FORMULA": VULNERABILITY_FORMULA,
             "PEOPLE_LANDCOVER": str(dict(people_landcover))}
    logger.info("%s: exposure = people + %d surveyed points of %s", hazard, len(sel), ", ".join(cats) or "none")
    return ev, vv, {"exposure": tags, "vulnerability": vtags}


def asset_sigma(category: str, asset_sigma_m) -> float:
    """σ (m) of one category from ``exposure.asset_sigma_m`` (a number for all, or category -> σ; default 0).

    Examples
    --------
    >>> asset_sigma("power", {"power": 1000, "crane": 60}), asset_sigma("garden", 60.0)
    (1000.0, 60.0)
    """
    if isinstance(asset_sigma_m, Mapping):
        return float(asset_sigma_m.get(category, 0.0))
    return float(asset_sigma_m or 0.0)


def spread_groups(grid, xs, ys, weights, sigmas, dask_: bool, name: str) -> xr.DataArray:
    """:func:`spread_points` of points with their own σ (one pass per distinct σ, summed)."""
    sigmas = np.asarray(sigmas, dtype="f8")
    groups = np.unique(sigmas) if sigmas.size else np.zeros(1)
    out = None
    for sg in groups:
        k = sigmas == sg
        part = spread_points(grid, np.asarray(xs)[k], np.asarray(ys)[k], np.asarray(weights)[k], float(sg), dask_,
                             name)
        out = part if out is None else out + part
    out.name = name
    return out


def spread_points(grid, xs, ys, weights, sigma_m: float, dask_: bool, name: str) -> xr.DataArray:
    """Summed ``weights`` of points per cell, each spread by a Gaussian of σ = ``sigma_m`` (total kept).

    ``sigma_m <= 0``: every weight stays in the cell holding its point (:func:`point_raster`).

    Examples
    --------
    >>> from risk.grid import Grid
    >>> g = Grid.from_bounds((0, 0, 600, 600), "EPSG:4549", 30)
    >>> r = spread_points(g, [315.0], [315.0], [10.0], 30.0, False, "a")
    >>> round(float(r.sum()), 3), float(r[9, 10]) < 10
    (10.0, True)
    """
    if sigma_m <= 0:
        return point_raster(grid, xs, ys, weights=weights, dask=dask_, name=name)
    d = kernel_density(grid, xs, ys, sigma_m, weights=weights, dask=dask_, name=name)
    out = d * np.float32(grid.cell_area / 1e6)  # per km² back to per cell
    out.name = name
    return out


def _exposure_kernel_e(people, v_lc, asset, asset_v, w=None):
    return _exposure_kernel(people, v_lc, asset, asset_v, w)[0]


def _exposure_kernel_v(people, v_lc, asset, asset_v, w=None):
    return _exposure_kernel(people, v_lc, asset, asset_v, w)[1]


def _steep_source_kernel(slope, dem, slope_deg):
    steep = np.isfinite(slope) & np.isfinite(dem) & (slope >= slope_deg)
    return np.where(steep, dem, -np.inf)


def _highest_kernel(block, footprint):
    from scipy import ndimage

    return ndimage.maximum_filter(block, footprint=footprint, mode="constant", cval=-np.inf)


def _reach_kernel(highest, dem, outside):
    reached = np.isfinite(dem) & (highest >= dem)
    return np.where(reached, 1.0, outside)


def slope_reach(slope: xr.DataArray, dem: xr.DataArray, slope_deg: float, run_out_m: float, res: float,
                outside: float = 0.0) -> xr.DataArray:
    """Exposure weight of a slope hazard: 1 on or below a steep slope, ``outside`` elsewhere.

    A cell is reached when a cell of slope ≥ ``slope_deg`` (itself included) lies within ``run_out_m``
    (a disc) at an elevation at least the cell's own, numpy or Dask alike.

    Examples
    --------
    >>> dem = xr.DataArray(np.array([[50.0, 40, 10, 10, 10, 10]]), dims=("y", "x"))
    >>> sl = xr.DataArray(np.array([[30.0, 30, 5, 2, 2, 2]]), dims=("y", "x"))
    >>> slope_reach(sl, dem, 25, 60, 30).values.tolist()
    [[1.0, 1.0, 1.0, 1.0, 0.0, 0.0]]
    """
    if not 0 <= outside <= 1:
        raise ValueError(f"exposure.on_slopes: outside must lie in [0, 1], got {outside}")
    r = max(0, int(np.floor(run_out_m / res)))
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    footprint = (np.hypot(yy, xx) * res <= run_out_m + 1e-9)
    src = apply_blocks(_steep_source_kernel, slope, dem, slope_deg=float(slope_deg), name="steep_source")
    highest = apply_overlap(_highest_kernel, src, depth=r, boundary=-np.inf, footprint=footprint)
    return apply_blocks(_reach_kernel, highest, dem, outside=np.float32(outside), name="slope_reach",
                        attrs={"units": "1"})


def harm_kernel(h, e, v) -> np.ndarray:
    """``H · E · V`` on numpy arrays (hazard clipped to 0–1, NaN propagates).

    Examples
    --------
    >>> float(harm_kernel(np.float32(0.1), np.float32(50), np.float32(0.5)))
    2.5
    """
    h = np.clip(np.asarray(h, dtype="f4"), 0.0, 1.0)
    return np.asarray(h * np.asarray(e, "f4") * np.asarray(v, "f4"), dtype="f4")


def level_kernel(x, breaks) -> np.ndarray:
    """Level 1..len(breaks)+1 of each value (a value equal to a break falls in the lower level)."""
    b = np.asarray(breaks, dtype="f4")
    return (np.searchsorted(b, np.asarray(x, "f4"), side="left") + 1).astype("f4")


def matrix_kernel(h, ev, hazard_breaks, ev_breaks, matrix) -> np.ndarray:
    """Risk level from the hazard level and the exposure-vulnerability level; 0 where ``ev`` is 0.

    Examples
    --------
    >>> m = np.array(DEFAULT_MATRIX)
    >>> matrix_kernel(np.array([0.9, 0.9, 0.1]), np.array([10.0, 0.0, 10.0]), [.2, .4, .6, .8],
    ...               [1, 2, 3, 4], m).tolist()
    [5.0, 0.0, 3.0]
    """
    m = np.asarray(matrix, dtype="f4")
    lh = level_kernel(h, hazard_breaks).astype("i8")
    le = level_kernel(ev, ev_breaks).astype("i8")
    lh = np.clip(lh, 1, m.shape[0])
    le = np.clip(le, 1, m.shape[1])
    out = m[lh - 1, le - 1]
    out = np.where(np.asarray(ev) > 0, out, 0.0)
    return np.where(np.isfinite(h) & np.isfinite(ev), out, np.nan).astype("f4")


def _ev_kernel(e, v):
    return (np.asarray(e, "f4") * np.asarray(v, "f4")).astype("f4")


def exposed_value(exposure: xr.DataArray, vulnerability: xr.DataArray) -> xr.DataArray:
    """``E · V``: the person-equivalents a sure hit would harm in each cell."""
    return apply_blocks(_ev_kernel, exposure, vulnerability, name="exposed_value")


def expected_harm(hazard: xr.DataArray, exposure: xr.DataArray, vulnerability: xr.DataArray) -> xr.DataArray:
    """``H · E · V`` per cell, numpy or Dask alike (:func:`harm_kernel`)."""
    out = apply_blocks(harm_kernel, hazard, exposure, vulnerability, name="risk")
    out.attrs.update(units="person-equivalents per cell")
    return out


CURVES = ("lognormal", "cubic")


def damage_kernel(h, curve: str, lo: float, hi: float, annual_probability: float, median: float = 0.3,
                  beta: float = 0.6, threshold: float = 20.0, half: float = 45.0) -> np.ndarray:
    """Annual probability of damage ``p_annual · D(lo + h · (hi − lo))`` of a 0–1 intensity index ``h``.

    Examples
    --------
    At the median intensity half of the exposed fails; the cubic (wind) curve is 0 below its threshold and ½ at
    ``half``:

    >>> round(float(damage_kernel(np.float32(1.0), "lognormal", 0.1, 0.3, 0.01, median=0.3, beta=0.6)), 6)
    0.005
    >>> [round(float(x), 6) for x in damage_kernel(np.array([0.0, 1.0]), "cubic", 20.0, 45.0, 0.02)]
    [0.0, 0.01]
    """
    from scipy.special import ndtr

    if curve not in CURVES:
        raise ValueError(f"risk.intensity_damage: curve {curve!r} is not one of {', '.join(CURVES)}")
    # x = lo + clip(h, 0, 1) · (hi − lo), then the curve, in place on two float64 arrays: the same operations
    # in the same order as the plain expressions, without their temporaries (this runs once per Monte-Carlo draw)
    x = np.array(h, dtype="f8")
    np.clip(x, 0.0, 1.0, out=x)
    x *= hi - lo
    x += lo
    if curve == "lognormal":  # ndtr(log(max(x, 0) / median) / beta)
        d = np.maximum(x, 0.0, out=np.empty_like(x))  # out=: an array for a 0-d x too
        d /= median
        with np.errstate(divide="ignore"):
            np.log(d, out=d)
        d /= beta
        ndtr(d, out=d)
    else:  # cubic: v³ / (1 + v³), v = max(x − threshold, 0) / (half − threshold)
        d = np.subtract(x, threshold, out=np.empty_like(x))
        np.maximum(d, 0.0, out=d)
        d /= half - threshold
        np.power(d, 3, out=d)
        d /= d + 1.0
    d *= annual_probability
    d[~np.isfinite(x)] = np.nan
    return d.astype("f4")


def check_curve(hazard: str, cfg: Mapping) -> dict:
    """The keyword arguments of :func:`damage_kernel` for one hazard's ``risk.intensity_damage`` entry."""
    key = f"risk.intensity_damage.{hazard}"
    curve = cfg.get("curve")
    if curve not in CURVES:
        raise ValueError(f"{key}.curve: {curve!r} is not one of {', '.join(CURVES)}")
    lo, hi = (float(x) for x in cfg["range"])
    if not hi > lo:
        raise ValueError(f"{key}.range: expected [lo, hi] with hi > lo, got {cfg['range']!r}")
    kw = {"curve": curve, "lo": lo, "hi": hi, "annual_probability": float(cfg["annual_probability"])}
    if curve == "lognormal":
        kw.update(median=float(cfg.get("median", 0.3)), beta=float(cfg.get("beta", 0.6)))
        if kw["median"] <= 0 or kw["beta"] <= 0:
            raise ValueError(f"{key}: median and beta must be positive")
    else:
        kw.update(threshold=float(cfg.get("threshold", 20.0)), half=float(cfg.get("half", 45.0)))
        if not kw["half"] > kw["threshold"]:
            raise ValueError(f"{key}: half must exceed threshold")
    return kw


def intensity_hazard(hazard: xr.DataArray, name: str, cfg: Mapping) -> xr.DataArray:
    """An index hazard as the annual probability of damage (:func:`damage_kernel`), numpy or Dask alike."""
    out = apply_blocks(damage_kernel, hazard, name=f"{name}_damage_probability", **check_curve(name, cfg))
    out.attrs.update(units="annual probability of damage")
    return out


def validate_matrix(matrix) -> np.ndarray:
    """The risk matrix as a 5 × 5 integer array of levels 1–5, or a clear error naming ``risk.matrix``."""
    m = np.asarray(matrix)
    if m.shape != (5, 5) or not np.isin(m, [1, 2, 3, 4, 5]).all():
        raise ValueError(f"risk.matrix: expected 5 rows of 5 levels 1-5, got {matrix!r}")
    return m.astype("i8")


def matrix_risk(hazard: xr.DataArray, ev: xr.DataArray, hazard_breaks, ev_breaks, matrix) -> xr.DataArray:
    """Risk level (1–5, 0 where nothing is exposed, NaN outside) of the risk matrix, numpy or Dask alike."""
    m = validate_matrix(matrix)
    out = apply_blocks(matrix_kernel, hazard, ev, hazard_breaks=np.asarray(hazard_breaks, "f8"),
                       ev_breaks=np.asarray(ev_breaks, "f8"), matrix=m, name="risk")
    out.attrs.update(units="level")
    return out


def exposure_layers(hazards: Sequence[str], people: xr.DataArray, landcover: xr.DataArray, points, grid, *,
                    landcover_classes: Mapping, people_landcover: Mapping[str, Mapping[str, float]],
                    asset_value: Mapping[str, float], category_hazards: Mapping[str, Sequence[str]],
                    asset_sigma_m: float | Mapping[str, float] = 0.0, on_slopes: Mapping[str, Mapping] | None = None,
                    slope: xr.DataArray | None = None, dem: xr.DataArray | None = None):
    """:func:`hazard_exposure` of every hazard, keyed ``exposure:<h>`` and ``vulnerability:<h>``.

    ``people_landcover`` is keyed by hazard (a hazard not listed: every class 1, all residents harmed).
    ``on_slopes`` maps a hazard to ``{slope_deg, run_out_m, outside}`` (:func:`slope_reach`, on ``slope``
    in degrees and ``dem`` in metres); hazards not listed count their exposure everywhere.

    Returns
    -------
    layers, tags, descriptions : dict
        The rasters, their GeoTIFF tags and band descriptions.
    """
    layers, tags, descr = {}, {}, {}
    all_ones = {k: 1.0 for k in set(map(str, landcover_classes.values()))}
    for h in hazards:
        rs = (on_slopes or {}).get(h)
        if rs and (slope is None or dem is None):
            raise ValueError(f"exposure.on_slopes.{h}: needs the slope and DEM rasters")
        reach = slope_reach(slope, dem, rs["slope_deg"], rs["run_out_m"], grid.res, rs.get("outside", 0.0)) \
            if rs else None
        e, v, t = hazard_exposure(h, people, landcover, points, grid, landcover_classes=landcover_classes,
                                  people_landcover=people_landcover.get(h, all_ones), asset_value=asset_value,
                                  category_hazards=category_hazards, asset_sigma_m=asset_sigma_m,
                                  reach=reach, reach_tags=rs)
        layers.update({f"exposure:{h}": e, f"vulnerability:{h}": v})
        tags.update({f"exposure:{h}": t["exposure"], f"vulnerability:{h}": t["vulnerability"]})
        descr.update({f"exposure:{h}": f"{h} exposure (person-equivalents per cell)",
                      f"vulnerability:{h}": f"{h} vulnerability (damage ratio 0-1)"})
    return layers, tags, descr
