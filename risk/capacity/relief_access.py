"""Relief reach: travel time from the supply depots over roads and open country, in hours.

Every cell gets a speed (km/h): the speed of its fastest road class where a road crosses it,
otherwise the walking speed of Tobler's hiking function on its slope,

    v = v_max · exp(-3.5 · (tan θ + 0.05)) · factor      (5.0 km/h on the flat with v_max = 6)

(slope taken uphill, the slower direction, because an isotropic cost surface cannot tell the
two apart). Travel time is then the accumulated cost-distance from the nearest depot
(:func:`travel_hours`: Dijkstra on the 8-connected grid, compiled with numba; a move between two
cells costs half its length at each cell's pace, diagonals √2 longer, the cost model of
scikit-image's ``MCP_Geometric``).

Cost-distance is a whole-grid operation: it cannot be split into independent blocks. The search
holds the float32 speeds, the float32 travel times, a bit per cell and a heap of the search front
(float64 keys: the sums run in float64 and each cell keeps exactly the float64 time rounded once to
float32; about 8.2 bytes per cell; scikit-image's MCP needed about 60), so 6 × 10⁷ cells (the county
at 10 m) search in ≈ 0.5 GB. For very large areas :func:`coarsen_speed` lets the search run on cells ``k`` times
larger (memory ÷ k²), keeping every road's speed on the coarse cell it crosses.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
from numba import njit

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


@njit(cache=True, nogil=True)
def _sift_down(keys, idx, size, pos):
    k, i = keys[pos], idx[pos]
    while True:
        child = 2 * pos + 1
        if child >= size:
            break
        if child + 1 < size and keys[child + 1] < keys[child]:
            child += 1
        if keys[child] >= k:
            break
        keys[pos], idx[pos] = keys[child], idx[child]
        pos = child
    keys[pos], idx[pos] = k, i


@njit(cache=True, nogil=True)
def _grown(keys, idx):
    k2, i2 = np.empty(2 * len(keys)), np.empty(2 * len(idx), np.int64)
    k2[:len(keys)], i2[:len(idx)] = keys, idx
    return k2, i2


@njit(cache=True, nogil=True)
def _least_cost(speed, starts, res, out, one, start_hours):
    """Dijkstra from ``starts`` (flat indices) over the 8-connected grid of ``speed`` (km/h; NaN or <= 0
    impassable), written into ``out`` (flat, of any float dtype, filled with inf): ``start_hours`` plus the
    hours of the fastest path to every cell, inf where none. A move costs ``length · (pace_a + pace_b) / 2``
    with pace ``1 / (1000 v)`` hours per metre.

    The search itself runs in float64: the heap holds the float64 times of the front, and a cell's time is
    the float64 key it is first popped with, so ``out`` only stores the result. For a cell not yet settled,
    ``out`` holds its best time so far rounded to ``out``'s dtype (``one`` is a 1-element scratch of that
    dtype), and a new time is pushed when it rounds to no more than that: rounding is monotone, so the
    fastest time is always pushed and every cell settles on exactly the float64 time of a float64
    search, stored as ``out.dtype(time + start_hours)``. A bit per cell marks the settled cells."""
    h, w = speed.shape
    flat = speed.ravel()
    done = np.zeros((h * w + 7) // 8, np.uint8)
    dr = (-1, -1, -1, 0, 0, 1, 1, 1)
    dc = (-1, 0, 1, -1, 1, -1, 0, 1)
    diag = np.sqrt(2.0 * res * res)
    cap = 1 << 16
    keys = np.empty(cap)
    idx = np.empty(cap, np.int64)
    size = 0
    for s in starts:
        if out[s] == 0.0:
            continue
        out[s] = 0.0
        if size == cap:
            keys, idx = _grown(keys, idx)
            cap = len(keys)
        pos = size  # sift up
        size += 1
        while pos > 0 and keys[(pos - 1) // 2] > 0.0:
            keys[pos], idx[pos] = keys[(pos - 1) // 2], idx[(pos - 1) // 2]
            pos = (pos - 1) // 2
        keys[pos], idx[pos] = 0.0, s
    while size > 0:
        d, i = keys[0], idx[0]
        size -= 1
        if size > 0:
            keys[0], idx[0] = keys[size], idx[size]
            _sift_down(keys, idx, size, 0)
        if done[i >> 3] & (1 << (i & 7)):
            continue  # a stale entry: the cell was settled with a faster time
        done[i >> 3] |= np.uint8(1 << (i & 7))
        out[i] = d + start_hours
        r, c = i // w, i % w
        pace = 1.0 / (flat[i] * 1000.0)
        for k in range(8):
            rr, cc = r + dr[k], c + dc[k]
            if rr < 0 or rr >= h or cc < 0 or cc >= w:
                continue
            j = rr * w + cc
            if done[j >> 3] & (1 << (j & 7)):
                continue
            v = flat[j]
            if not (v > 0.0 and v < np.inf):
                continue
            length = diag if (dr[k] != 0 and dc[k] != 0) else res
            nd = d + length * 0.5 * (pace + 1.0 / (v * 1000.0))
            one[0] = nd
            if one[0] <= out[j]:
                out[j] = one[0]
                if size == cap:
                    keys, idx = _grown(keys, idx)
                    cap = len(keys)
                pos = size
                size += 1
                while pos > 0 and keys[(pos - 1) // 2] > nd:
                    keys[pos], idx[pos] = keys[(pos - 1) // 2], idx[(pos - 1) // 2]
                    pos = (pos - 1) // 2
                keys[pos], idx[pos] = nd, j


def travel_hours(speed_kmh: np.ndarray, start_rows, start_cols, res_m: float,
                 start_hours: float = 0.0, dtype="float64") -> np.ndarray:
    """Least travel time (hours) from the nearest start cell to every cell.

    Parameters
    ----------
    speed_kmh : numpy.ndarray
        Speed of each cell (float32 or float64, used as given); NaN or <= 0 is impassable.
    start_rows, start_cols : array-like of int
        Cells of the depots (on the grid).
    res_m : float
        Cell size (m).
    start_hours : float
        Time added at the start (loading, dispatch).
    dtype : str
        Of the result. The search runs in float64 whatever it is: ``"float32"`` gives exactly the
        float64 result rounded to float32 (half the memory of the largest array of the search).

    Returns
    -------
    numpy.ndarray
        Hours; ``inf`` where no path exists.

    Examples
    --------
    >>> travel_hours(np.full((1, 5), 10.0), [0], [0], 1000.0).round(2).tolist()
    [[0.0, 0.1, 0.2, 0.3, 0.4]]
    """
    v = np.ascontiguousarray(speed_kmh)
    if v.dtype not in (np.float32, np.float64):
        v = v.astype("f8")
    rows, cols = np.atleast_1d(start_rows).astype(np.int64), np.atleast_1d(start_cols).astype(np.int64)
    ok = v[rows, cols]
    ok = np.isfinite(ok) & (ok > 0)
    if not ok.any():
        raise InputError("relief reach: no depot lies on a passable cell of the grid")
    hours = np.full(v.shape, np.inf, dtype=dtype)
    _least_cost(v, rows[ok] * v.shape[1] + cols[ok], float(res_m), hours.ravel(), np.empty(1, dtype),
                float(start_hours))
    return hours


def reach_table(hours: np.ndarray, population: np.ndarray, labels: np.ndarray, high_risk: np.ndarray,
                townships: pd.DataFrame, max_hours: float = 10.0) -> pd.DataFrame:
    """People in high-risk zones reached within ``max_hours``, per township and in total.

    Every input may be a numpy or a Dask array (2-D, the same shape): Dask inputs are computed one
    row of chunks at a time (never whole), numpy ones summed in bands of cells.

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
    keys = ("population", "population_reached", "population_high_risk", "high_risk_reached", "_w", "_wh")
    acc = {k: np.zeros(n + 1) for k in keys}  # per label 0..n, summed a band of cells at a time (flat memory)
    mx = np.full(n + 1, -np.inf)
    step = 1 << 20  # cells a band: its float64 temporaries stay under 100 MB
    for band in _row_bands(hours, population, labels, high_risk):
        hrs_all, pop_all, lab_all, hi_all = (np.asarray(a).ravel() for a in band)
        for i0 in range(0, lab_all.size, step):
            sl = slice(i0, i0 + step)
            lab = lab_all[sl].astype(np.int64)
            lab[(lab < 0) | (lab > n)] = 0
            pop = np.nan_to_num(pop_all[sl].astype("f8"), nan=0.0)
            pop[pop < 0] = 0.0
            hrs = hrs_all[sl].astype("f8")
            hrs[np.isnan(hrs)] = np.inf
            pop_hi = pop * hi_all[sl].astype(bool)
            reached = hrs <= max_hours
            finite = np.isfinite(hrs)
            w_fin = pop_hi * finite
            for key, weights in (("population", pop), ("population_reached", pop * reached),
                                 ("population_high_risk", pop_hi), ("high_risk_reached", pop_hi * reached),
                                 ("_w", w_fin), ("_wh", np.where(finite, hrs, 0.0) * w_fin)):
                acc[key] += np.bincount(lab, weights=weights, minlength=n + 1)
            sel = (pop_hi > 0) & (lab > 0)
            np.maximum.at(mx, lab[sel], hrs[sel])
    tab = pd.DataFrame({"code": townships["code"].astype(str).to_numpy(), "name": townships["name"].to_numpy()})
    for key in keys:
        tab[key] = acc[key][1:]
    tab["max_hours_high_risk"] = np.where(np.isneginf(mx[1:]), np.nan, mx[1:])
    total = {"code": "total", "name": "合计 Total", **{k: float(acc[k][1:].sum()) for k in keys},
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


def _row_bands(*arrays):
    """The arrays a row of chunks at a time (the first Dask array's row chunks; whole for numpy only)."""
    chunked = [a for a in arrays if hasattr(a, "chunks")]
    if not chunked:
        yield arrays
        return
    bounds = np.cumsum((0,) + tuple(chunked[0].chunks[0]))
    for r0, r1 in zip(bounds[:-1], bounds[1:], strict=True):
        yield tuple(a[r0:r1] for a in arrays)


def road_speed_raster(roads, grid, speeds: Mapping[str, float],
                      unknown_kmh: float | None = None, dask: bool = False):
    """Speed (km/h, float32) of the fastest road crossing each cell (every touched cell); 0 where none.

    Parameters
    ----------
    roads : geopandas.GeoDataFrame
        Lines with ``class`` (see :func:`road_speed_table`), in the CRS of ``grid``.
    grid : risk.grid.Grid
        The analysis grid.
    speeds, unknown_kmh
        See :func:`road_speed_table`.
    dask : bool
        A lazy Dask array burnt block by block (the same cells) instead of a numpy array.
    """
    roads = with_geometry(roads).copy()
    roads["speed_kmh"] = road_speed_table(roads["class"], speeds, unknown_kmh)
    roads = roads.sort_values("speed_kmh", kind="stable")  # burnt in order: the fastest class wins a cell
    return grid.rasterize(roads.geometry.values, roads["speed_kmh"].to_numpy("f4"), fill=0, dtype="float32",
                          all_touched=True, dask=dask).data


def search_factor(coarsen: int | str, shape: tuple[int, int], max_search_cells: int) -> int:
    """The ``k`` of a search on cells ``k`` × ``k`` times larger: ``coarsen`` itself, or with ``"auto"``
    the smallest ``k`` whose coarse grid holds at most ``max_search_cells`` cells (1 on small grids).

    Examples
    --------
    >>> search_factor("auto", (3061, 2235), 20_000_000), search_factor("auto", (11773, 8596), 20_000_000)
    (1, 3)
    >>> search_factor(2, (100, 100), 10)
    2
    """
    if coarsen != "auto":
        return int(coarsen)
    h, w = shape
    k = max(1, math.ceil(math.sqrt(h * w / max(int(max_search_cells), 1))))
    while -(-h // k) * -(-w // k) > max_search_cells:
        k += 1
    return k


def relief_hours(slope_deg: np.ndarray, mask: np.ndarray, roads, depots, grid, *,
                 road_speeds_kmh: Mapping[str, float], unknown_road_kmh: float | None = None,
                 offroad: Mapping[str, float], coarsen: int = 1, dispatch_hours: float = 0.0):
    """Travel hours from the nearest depot to every cell of the area (float32, NaN outside or unreachable).

    Off-road speed by :func:`tobler_speed` on the slope, roads by :func:`road_speed_raster`, the faster
    of the two per cell (:func:`cell_speed`), then :func:`travel_hours` from the depots on the grid, on
    cells ``coarsen`` times larger when asked (:func:`coarsen_speed`; the hours are spread back onto the
    grid's cells). Coarsened, nothing of the grid's size is held: the speeds are made a band of rows at a
    time and the hours come back lazily (a Dask array on the grid's chunks) when ``mask`` is a Dask array.

    Parameters
    ----------
    slope_deg : numpy.ndarray or dask.array.Array
        Slope (degrees) of each cell of ``grid``; a Dask array is read a row of chunks at a time.
    mask : numpy.ndarray or dask.array.Array
        The area (> 0 inside), read after the search.
    roads, depots : geopandas.GeoDataFrame
        Road lines with ``class``; depot points (those off the grid are ignored, with a warning).
    grid : risk.grid.Grid
        The analysis grid.
    road_speeds_kmh, unknown_road_kmh
        See :func:`road_speed_table`.
    offroad : mapping
        ``max_kmh``, ``factor``, ``min_kmh`` of :func:`tobler_speed`.
    coarsen : int
        Search on cells ``coarsen`` × ``coarsen`` times larger (memory ÷ coarsen²; :func:`search_factor`).
    dispatch_hours : float
        Time added at the depots.
    """
    k = int(coarsen)
    speed = road_speed_raster(roads, grid, road_speeds_kmh, unknown_road_kmh, dask=k > 1)
    rows, cols = grid.rowcol(depots.geometry.x.to_numpy(), depots.geometry.y.to_numpy())
    on = grid.inside(rows, cols)
    if (~on).any():
        logger.warning("%d depot(s) lie off the grid and are ignored", int((~on).sum()))
    rows, cols = rows[on], cols[on]
    if k == 1:
        logger.info("cost-distance on %d x %d cells from %d depots, %d road cells", grid.height, grid.width,
                    len(rows), int(np.count_nonzero(speed > 0)))
        hours = travel_hours(_cell_speed_rows(slope_deg, speed, offroad), rows, cols, grid.res, dispatch_hours,
                             dtype="float32")
        del speed
        return _masked_hours(hours, np.asarray(mask))
    coarse, n_road = _coarse_speed_bands(slope_deg, speed, offroad, k, grid.chunk)
    logger.info("cost-distance on %d x %d cells (coarsen %d) from %d depots, %d road cells", *coarse.shape, k,
                len(rows), n_road)
    hours = travel_hours(coarse, rows // k, cols // k, grid.res * k, dispatch_hours, dtype="float32")
    del coarse
    if not hasattr(mask, "chunks"):
        return _spread_block(np.asarray(mask), hours, k, [{"array-location": [(0, grid.height), (0, grid.width)]}])
    return mask.map_blocks(_spread_block, hours, k, dtype="float32", meta=np.array((), dtype="float32"))


def _masked_hours(hours: np.ndarray, mask: np.ndarray) -> np.ndarray:
    # in place: NaN outside the area (mask <= 0) and where no path exists
    hours[(mask <= 0) | ~np.isfinite(hours)] = np.nan
    return hours


def _coarse_speed_bands(slope_deg, road, offroad: Mapping[str, float], k: int, chunk: int, rows: int = 256):
    """:func:`coarsen_speed` of :func:`cell_speed` over the grid, made a band of ``k``-aligned rows at a time
    from lazy ``slope_deg`` and ``road`` (Dask or numpy): the coarse speeds and the count of road cells."""
    h, w = road.shape
    band, sub = k * max(1, chunk // k), k * max(1, rows // k)  # read a row of chunks, coarsen ~`rows` at a time
    coarse = np.empty((-(-h // k), -(-w // k)), dtype="f8")
    n_road = 0
    for b0 in range(0, h, band):
        rd = np.asarray(road[b0:b0 + band])
        n_road += int(np.count_nonzero(rd > 0))
        sp = _cell_speed_rows(np.asarray(slope_deg[b0:b0 + band]), rd.copy(), offroad)
        for s0 in range(0, rd.shape[0], sub):  # coarsen_speed's float64 copies stay small
            r0 = (b0 + s0) // k
            coarse[r0:r0 + -(-min(sub, rd.shape[0] - s0) // k)] = coarsen_speed(sp[s0:s0 + sub], rd[s0:s0 + sub], k)
        del rd, sp
    return coarse, n_road


def _spread_block(mask, hours, k, block_info=None):
    # the coarse hours of the cells of one block of the grid, NaN outside the area or unreachable
    (r0, r1), (c0, c1) = block_info[0]["array-location"]
    rows, cols = np.arange(r0, r1) // k, np.arange(c0, c1) // k
    return _masked_hours(hours[rows[:, None], cols[None, :]], mask)


def _cell_speed_rows(slope_deg, road_kmh: np.ndarray, offroad: Mapping[str, float],
                     rows: int = 256) -> np.ndarray:
    """:func:`cell_speed` of Tobler's off-road speed and the roads, float32, written into ``road_kmh``
    (owned by the caller, overwritten) a band of rows at a time, so that the float64 temporaries stay small.
    ``slope_deg`` may be a Dask array: it is then read one row of chunks at a time, never whole."""
    bands = np.cumsum((0,) + tuple(slope_deg.chunks[0])) if hasattr(slope_deg, "chunks") else [0, len(road_kmh)]
    for b0, b1 in zip(bands[:-1], bands[1:], strict=True):
        band = np.asarray(slope_deg[b0:b1])
        for r0 in range(b0, b1, rows):
            sl = slice(r0, min(r0 + rows, b1))
            road_kmh[sl] = cell_speed(tobler_speed(band[r0 - b0:sl.stop - b0], offroad["max_kmh"],
                                                   offroad["factor"], offroad["min_kmh"]), road_kmh[sl])
        del band
    return road_kmh


def hours_tags(road_speeds_kmh: Mapping[str, float], offroad: Mapping[str, float],
               coarsen: int) -> dict[str, str]:
    """GeoTIFF metadata of the travel-time raster: units, method and the speeds used."""
    return {"UNITS": "hours", "METHOD": "Dijkstra cost-distance, 8-connected, the cost model of skimage.graph.MCP_Geometric",
            "ROAD_SPEEDS_KMH": str(dict(road_speeds_kmh)), "OFFROAD": f"Tobler {dict(offroad)}",
            "COARSEN": str(int(coarsen)), "NODATA_MEANING": "outside the area or unreachable"}


def reach_by_township(hours: np.ndarray, population: np.ndarray, zones: np.ndarray, mask: np.ndarray,
                      townships, grid, high_levels=(4, 5), max_hours: float = 10.0) -> pd.DataFrame:
    """:func:`reach_table` of the townships, the high-risk cells being those in zones ``high_levels``.

    Parameters
    ----------
    hours : numpy.ndarray or dask.array.Array
        Travel hours on ``grid``.
    population, zones, mask : numpy.ndarray or dask.array.Array
        On ``grid``: people per cell, the risk zoning (1-5) and the area (> 0 inside; cells outside count
        for no township). If any is a Dask array, the township labels are rasterized and everything is
        summed a row of chunks at a time.
    townships : geopandas.GeoDataFrame
        Township polygons with ``code`` and ``name``.
    grid : risk.grid.Grid
        The analysis grid.
    """
    import dask.array as da

    lazy = any(hasattr(a, "chunks") for a in (population, zones, mask))
    labels = township_labels(townships, grid, dask_=lazy).data
    if lazy:  # a row of chunks at a time in reach_table: no full label, zone or population raster
        def on_grid(a):
            return a if hasattr(a, "chunks") else da.from_array(a, chunks=grid.chunks)

        mask, zones, population = (on_grid(a) for a in (mask, zones, population))
        labels = da.where(mask > 0, labels, 0)
    else:
        labels[np.asarray(mask) <= 0] = 0  # in place: no second label raster
    high = da.isin(zones, list(high_levels)) if lazy else np.isin(zones, list(high_levels))
    table = reach_table(hours, population, labels, high, townships, max_hours)
    del labels, high
    tot = table.iloc[-1]
    if hasattr(hours, "chunks"):  # lazy hours (a coarsened search): the median of a sample of cells
        step = max(1, math.ceil(math.sqrt(hours.size / 4_000_000)))
        hours = np.asarray(hours[::step, ::step])
    finite = hours[np.isfinite(hours)]
    logger.info("high-risk people %.0f, reached within %g h: %.0f (%.1f %%); median cell hours %.2f",
                tot["population_high_risk"], max_hours, tot["high_risk_reached"],
                100 * tot["share_high_risk_reached"], float(np.median(finite, overwrite_input=True))
                if finite.size else np.nan)
    return table
