"""Relief reach: travel time from the supply depots over roads and open country, in hours.

Every cell gets a speed (km/h): the speed of its fastest road class where a road crosses it,
otherwise the walking speed of Tobler's hiking function on its slope,

    v = v_max · exp(-3.5 · (tan θ + 0.05)) · factor      (5.0 km/h on the flat with v_max = 6)

(slope taken uphill, the slower direction, because an isotropic cost surface cannot tell the
two apart). Travel time is then the accumulated cost-distance from the nearest depot with
scikit-image's :class:`skimage.graph.MCP_Geometric` (Dijkstra on the 8-connected grid; a move
between two cells costs half its length at each cell's pace, diagonals √2 longer).

Cost-distance is a whole-grid operation: it cannot be split into independent blocks. The search
needs about 60 bytes per cell (the float64 cost and cumulative-cost arrays, the traceback and
Dijkstra's heap), so a 30 m county of 10⁷ cells needs ≈ 0.6 GB, and 10⁸ cells ≈ 6 GB. For
very large areas :func:`coarsen_speed` lets the search run on cells ``k`` times larger (memory
÷ k²), keeping every road's speed on the coarse cell it crosses.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from risk.capacity.comprehensive_risk import township_labels
from risk.capacity.layers import with_geometry
from risk.errors import InputError

logger = logging.getLogger(__name__)

ROAD_CLASSES = ("expressway", "national", "provincial", "county", "rural")

DEFAULT_ROAD_SPEEDS = {"expressway": 80.0, "national": 60.0, "provincial": 50.0, "county": 40.0, "rural": 30.0}
"""km/h by road class (the demo config's values)."""

HOURS_DESCRIPTION = "救援到达时间 Relief travel time from the nearest depot (hours)"
"""Band description of the travel-time raster."""

DECIMALS = {"population": 0, "population_high_risk": 0, "high_risk_reached": 0, "population_reached": 0,
            "share_high_risk_reached": 4, "share_population_reached": 4, "mean_hours_high_risk": 3,
            "max_hours_high_risk": 3}
"""Decimals of the reach table's columns as written."""


def tobler_speed(slope_deg, max_kmh: float = 6.0, factor: float = 1.0, min_kmh: float = 0.1) -> np.ndarray:
    """Walking speed (km/h) on a slope (degrees) by Tobler's hiking function, taken uphill.

    Parameters
    ----------
    slope_deg : array-like
        Slope in degrees; NaN stays NaN (no way across).
    max_kmh : float
        Tobler's peak speed (6 km/h at a slight downhill of -2.86°).
    factor : float
        Multiplier for going off paths with a load (e.g. 0.6); 1 = Tobler's on-path speed.
    min_kmh : float
        Floor, so that cliffs are slow rather than walls.

    Examples
    --------
    >>> tobler_speed([0.0, 45.0]).round(3).tolist()
    [5.037, 0.152]
    """
    s = np.asarray(slope_deg, dtype="f8")
    v = max_kmh * np.exp(-3.5 * (np.tan(np.radians(np.clip(s, 0.0, 89.0))) + 0.05)) * factor
    return np.where(np.isfinite(s), np.maximum(v, min_kmh), np.nan)


def road_speed_table(classes, speeds: Mapping[str, float], unknown_kmh: float | None = None) -> np.ndarray:
    """Speed (km/h) of each road by its class; ``unknown_kmh`` for classes not in ``speeds``.

    Raises
    ------
    ValueError
        A class is not configured and ``unknown_kmh`` is None.
    """
    cls = pd.Series(classes, dtype="object").astype(str).str.strip().str.lower()
    v = cls.map({str(k).lower(): float(s) for k, s in speeds.items()})
    if v.isna().any():
        if unknown_kmh is None:
            raise InputError(f"roads: class(es) {sorted(set(cls[v.isna()]))} have no speed in "
                             f"access.road_speeds_kmh ({', '.join(speeds)})")
        v = v.fillna(float(unknown_kmh))
    return v.to_numpy(dtype="f8")


def cell_speed(offroad_kmh: np.ndarray, road_kmh: np.ndarray) -> np.ndarray:
    """The faster of the off-road and the road speed of each cell (road 0 or NaN = no road).

    A cell with no slope (NaN) and no road is impassable (NaN).
    """
    off = np.asarray(offroad_kmh, dtype="f8")
    road = np.nan_to_num(np.asarray(road_kmh, dtype="f8"), nan=0.0)
    out = np.fmax(off, np.where(road > 0, road, np.nan))
    return out


def coarsen_speed(speed: np.ndarray, road_kmh: np.ndarray, k: int) -> np.ndarray:
    """Speeds on cells ``k`` × ``k`` times larger: the fastest road crossing a coarse cell, else the
    mean off-road speed of its finite fine cells (edges padded with NaN)."""
    if k == 1:
        return np.asarray(speed, dtype="f8")
    h, w = speed.shape
    H, W = -(-h // k), -(-w // k)
    pad = ((0, H * k - h), (0, W * k - w))
    sp = np.pad(np.asarray(speed, dtype="f8"), pad, constant_values=np.nan).reshape(H, k, W, k)
    rd = np.pad(np.nan_to_num(np.asarray(road_kmh, dtype="f8"), nan=0.0), pad).reshape(H, k, W, k)
    road_max = rd.max(axis=(1, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN blocks
        off_mean = np.nanmean(np.where(rd > 0, np.nan, sp), axis=(1, 3))
    return np.where(road_max > 0, road_max, off_mean)


def travel_hours(speed_kmh: np.ndarray, start_rows, start_cols, res_m: float,
                 start_hours: float = 0.0) -> np.ndarray:
    """Least travel time (hours) from the nearest start cell to every cell.

    Parameters
    ----------
    speed_kmh : numpy.ndarray
        Speed of each cell; NaN or <= 0 is impassable.
    start_rows, start_cols : array-like of int
        Cells of the depots (on the grid).
    res_m : float
        Cell size (m).
    start_hours : float
        Time added at the start (loading, dispatch).

    Returns
    -------
    numpy.ndarray
        float64 hours; ``inf`` where no path exists.

    Examples
    --------
    >>> travel_hours(np.full((1, 5), 10.0), [0], [0], 1000.0).round(2).tolist()
    [[0.0, 0.1, 0.2, 0.3, 0.4]]
    """
    from skimage.graph import MCP_Geometric

    v = np.asarray(speed_kmh, dtype="f8")
    cost = np.full(v.shape, np.inf)
    ok = np.isfinite(v) & (v > 0)
    cost[ok] = 1.0 / (v[ok] * 1000.0)  # hours per metre
    starts = [(int(r), int(c)) for r, c in zip(np.atleast_1d(start_rows), np.atleast_1d(start_cols), strict=True)
              if ok[int(r), int(c)]]
    if not starts:
        raise InputError("relief reach: no depot lies on a passable cell of the grid")
    mcp = MCP_Geometric(cost, fully_connected=True, sampling=(float(res_m), float(res_m)))
    hours, _ = mcp.find_costs(starts)
    hours = np.asarray(hours, dtype="f8")
    hours[~np.isfinite(hours)] = np.inf
    return hours + float(start_hours)


def reach_table(hours: np.ndarray, population: np.ndarray, labels: np.ndarray, high_risk: np.ndarray,
                townships: pd.DataFrame, max_hours: float = 10.0) -> pd.DataFrame:
    """People in high-risk zones reached within ``max_hours``, per township and in total.

    Parameters
    ----------
    hours : numpy.ndarray
        Travel time (inf or NaN = unreachable).
    population : numpy.ndarray
        People per cell (NaN = 0).
    labels : numpy.ndarray
        Township number of each cell (1..n in the order of ``townships``; 0 = none).
    high_risk : numpy.ndarray of bool
        Cells in a high-risk zone.
    townships : pandas.DataFrame
        ``code`` and ``name`` of the n townships.

    Returns
    -------
    pandas.DataFrame
        One row per township and a last row ``code = "total"``: ``population``,
        ``population_high_risk``, ``high_risk_reached`` (people), ``share_high_risk_reached`` (0-1,
        NaN without high-risk people), ``share_population_reached``, ``mean_hours_high_risk``
        (people-weighted, over the reachable) and ``max_hours_high_risk`` (inf if some cannot be
        reached).
    """
    n = len(townships)
    lab = np.asarray(labels).ravel().astype(np.int64)
    pop = np.nan_to_num(np.asarray(population, dtype="f8").ravel(), nan=0.0)
    pop[pop < 0] = 0.0
    hrs = np.asarray(hours, dtype="f8").ravel()
    hrs = np.where(np.isnan(hrs), np.inf, hrs)
    hi = np.asarray(high_risk, dtype=bool).ravel()
    reached = hrs <= max_hours
    finite = np.isfinite(hrs)

    def sums(weights):
        return np.bincount(lab, weights=weights, minlength=n + 1)[1:n + 1]

    pop_hi = pop * hi
    tab = pd.DataFrame({"code": townships["code"].astype(str).to_numpy(), "name": townships["name"].to_numpy()})
    tab["population"] = sums(pop)
    tab["population_reached"] = sums(pop * reached)
    tab["population_high_risk"] = sums(pop_hi)
    tab["high_risk_reached"] = sums(pop_hi * reached)
    w_fin = pop_hi * finite
    tab["_w"] = sums(w_fin)
    tab["_wh"] = sums(np.where(finite, hrs, 0.0) * w_fin)
    mx = np.full(n + 1, -np.inf)
    sel = (pop_hi > 0) & (lab > 0) & (lab <= n)
    np.maximum.at(mx, lab[sel], hrs[sel])
    tab["max_hours_high_risk"] = np.where(np.isneginf(mx[1:]), np.nan, mx[1:])
    total = {"code": "total", "name": "合计 Total", "population": pop[lab > 0].sum(),
             "population_reached": (pop * reached)[lab > 0].sum(),
             "population_high_risk": pop_hi[lab > 0].sum(), "high_risk_reached": (pop_hi * reached)[lab > 0].sum(),
             "_w": w_fin[lab > 0].sum(), "_wh": (np.where(finite, hrs, 0.0) * w_fin)[lab > 0].sum(),
             "max_hours_high_risk": np.nanmax(tab["max_hours_high_risk"]) if tab["max_hours_high_risk"].notna().any()
             else np.nan}
    tab = pd.concat([tab, pd.DataFrame([total])], ignore_index=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        tab["share_high_risk_reached"] = np.where(tab["population_high_risk"] > 0,
                                                  tab["high_risk_reached"] / tab["population_high_risk"], np.nan)
        tab["share_population_reached"] = np.where(tab["population"] > 0,
                                                   tab["population_reached"] / tab["population"], np.nan)
        tab["mean_hours_high_risk"] = np.where(tab["_w"] > 0, tab["_wh"] / tab["_w"], np.nan)
    tab["max_hours"] = float(max_hours)
    cols = ["code", "name", "population", "population_high_risk", "high_risk_reached", "share_high_risk_reached",
            "population_reached", "share_population_reached", "mean_hours_high_risk", "max_hours_high_risk",
            "max_hours"]
    return tab[cols]


def road_speed_raster(roads, grid, speeds: Mapping[str, float],
                      unknown_kmh: float | None = None) -> np.ndarray:
    """Speed (km/h, float32) of the fastest road crossing each cell (every touched cell); 0 where none.

    Parameters
    ----------
    roads : geopandas.GeoDataFrame
        Lines with ``class`` (see :func:`road_speed_table`), in the CRS of ``grid``.
    grid : risk.grid.Grid
        The analysis grid.
    speeds, unknown_kmh
        See :func:`road_speed_table`.
    """
    roads = with_geometry(roads).copy()
    roads["speed_kmh"] = road_speed_table(roads["class"], speeds, unknown_kmh)
    roads = roads.sort_values("speed_kmh", kind="stable")  # burnt in order: the fastest class wins a cell
    return grid.rasterize(roads.geometry.values, roads["speed_kmh"].to_numpy("f4"), fill=0, dtype="float32",
                          all_touched=True, dask=False).values


def relief_hours(slope_deg: np.ndarray, mask: np.ndarray, roads, depots, grid, *,
                 road_speeds_kmh: Mapping[str, float], unknown_road_kmh: float | None = None,
                 offroad: Mapping[str, float], coarsen: int = 1, dispatch_hours: float = 0.0) -> np.ndarray:
    """Travel hours from the nearest depot to every cell of the area (float32, NaN outside or unreachable).

    Off-road speed by :func:`tobler_speed` on the slope, roads by :func:`road_speed_raster`, the faster
    of the two per cell (:func:`cell_speed`), then :func:`travel_hours` from the depots on the grid, on
    cells ``coarsen`` times larger when asked (:func:`coarsen_speed`; the hours are spread back onto the
    grid's cells).

    Parameters
    ----------
    slope_deg : numpy.ndarray
        Slope (degrees) of each cell of ``grid``.
    mask : numpy.ndarray
        The area (> 0 inside).
    roads, depots : geopandas.GeoDataFrame
        Road lines with ``class``; depot points (those off the grid are ignored, with a warning).
    grid : risk.grid.Grid
        The analysis grid.
    road_speeds_kmh, unknown_road_kmh
        See :func:`road_speed_table`.
    offroad : mapping
        ``max_kmh``, ``factor``, ``min_kmh`` of :func:`tobler_speed`.
    coarsen : int
        Search on cells ``coarsen`` × ``coarsen`` times larger (memory ÷ coarsen²).
    dispatch_hours : float
        Time added at the depots.
    """
    road = road_speed_raster(roads, grid, road_speeds_kmh, unknown_road_kmh)
    speed = cell_speed(tobler_speed(slope_deg, offroad["max_kmh"], offroad["factor"], offroad["min_kmh"]),
                       road)
    rows, cols = grid.rowcol(depots.geometry.x.to_numpy(), depots.geometry.y.to_numpy())
    on = grid.inside(rows, cols)
    if (~on).any():
        logger.warning("%d depot(s) lie off the grid and are ignored", int((~on).sum()))
    rows, cols = rows[on], cols[on]
    k = int(coarsen)
    logger.info("cost-distance on %d x %d cells (coarsen %d) from %d depots, %d road cells",
                -(-grid.height // k), -(-grid.width // k), k, len(rows), int((road > 0).sum()))
    hours = travel_hours(coarsen_speed(speed, road, k), rows // k, cols // k, grid.res * k, dispatch_hours)
    if k > 1:
        hours = np.repeat(np.repeat(hours, k, axis=0), k, axis=1)[: grid.height, : grid.width]
    return np.where((np.asarray(mask) > 0) & np.isfinite(hours), hours, np.nan).astype("f4")


def hours_tags(road_speeds_kmh: Mapping[str, float], offroad: Mapping[str, float],
               coarsen: int) -> dict[str, str]:
    """GeoTIFF metadata of the travel-time raster: units, method and the speeds used."""
    return {"UNITS": "hours", "METHOD": "skimage.graph.MCP_Geometric cost-distance, 8-connected",
            "ROAD_SPEEDS_KMH": str(dict(road_speeds_kmh)), "OFFROAD": f"Tobler {dict(offroad)}",
            "COARSEN": str(int(coarsen)), "NODATA_MEANING": "outside the area or unreachable"}


def reach_by_township(hours: np.ndarray, population: np.ndarray, zones: np.ndarray, mask: np.ndarray,
                      townships, grid, high_levels=(4, 5), max_hours: float = 10.0) -> pd.DataFrame:
    """:func:`reach_table` of the townships, the high-risk cells being those in zones ``high_levels``.

    Parameters
    ----------
    hours, population, zones, mask : numpy.ndarray
        On ``grid``: travel hours, people per cell, the risk zoning (1-5) and the area (> 0 inside; cells
        outside count for no township).
    townships : geopandas.GeoDataFrame
        Township polygons with ``code`` and ``name``.
    grid : risk.grid.Grid
        The analysis grid.
    """
    high = np.isin(zones, list(high_levels))
    labels = np.where(np.asarray(mask) > 0, township_labels(townships, grid, dask_=False).values, 0)
    table = reach_table(hours, population, labels, high, townships, max_hours)
    tot = table.iloc[-1]
    logger.info("high-risk people %.0f, reached within %g h: %.0f (%.1f %%); median cell hours %.2f",
                tot["population_high_risk"], max_hours, tot["high_risk_reached"],
                100 * tot["share_high_risk_reached"], float(np.nanmedian(hours)))
    return table
