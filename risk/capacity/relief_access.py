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

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

ROAD_CLASSES = ("expressway", "national", "provincial", "county", "rural")

DEFAULT_ROAD_SPEEDS = {"expressway": 80.0, "national": 60.0, "provincial": 50.0, "county": 40.0, "rural": 30.0}
"""km/h by road class (the demo config's values)."""


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
            raise ValueError(f"roads: class(es) {sorted(set(cls[v.isna()]))} have no speed in "
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
        raise ValueError("relief reach: no depot lies on a passable cell of the grid")
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
