"""Emergency shelters: who in a hazard zone has a usable shelter in reach, and where to add new ones.

1. A settlement (village or community) is *hazard-prone* when it lies in zone 4 (较高) or 5 (高)
   of any configured hazard (:func:`hazard_prone`).
2. Each hazard-prone settlement is served by the nearest *usable* shelter within the configured
   straight-line distance (:func:`shelter_coverage`). Its demand is its population times the share
   that needs a place. A shelter whose assigned demand exceeds its capacity shares its places in
   proportion (every settlement it serves gets ``capacity / load`` of its demand); the rest, and all
   of the demand of settlements with no usable shelter in reach, is the *gap*.
3. New sites are chosen from the candidates (schools, stadiums, squares) greedily
   (:func:`select_sites`, the classic greedy heuristic for the maximal covering location problem):
   at each step the candidate that closes the most remaining gap, counting its capacity and the
   gap within its reach, is picked, its places are given to the settlements in reach nearest
   first, and the cumulative share of the gap closed is recorded. It stops when the gap is
   closed, no candidate closes anything more, or ``max_sites`` are picked.

Distances are straight lines in the (projected, metres) CRS of the inputs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd
import xarray as xr
from scipy.spatial import cKDTree

from risk.assessment import zoning
from risk.capacity.layers import with_geometry
from risk.hazard.point_rasters import values_at_points

logger = logging.getLogger(__name__)

INPUT_FIELDS = {"settlements": ("name", "population"), "shelters": ("name", "capacity", "usable"),
                "candidates": ("name", "kind", "capacity"), "townships": ()}
"""Fields each input layer of the ``shelters`` rule needs."""

DECIMALS = {"demand": 1, "covered": 1, "gap": 1, "shelter_load": 1, "distance_m": 0, "nearest_usable_m": 0}
"""Decimals of the people and distance columns as written."""

STATUS = {
    "not_prone": ("不在高风险区", "Not in a hazard zone (levels 4-5)"),
    "covered": ("已覆盖", "Covered: usable shelter in reach with room"),
    "over_capacity": ("容量不足", "Shelter in reach but over capacity"),
    "no_shelter": ("服务范围内无可用避难场所", "No usable shelter within reach"),
}


def zone_levels(rasters: Mapping[str, xr.DataArray], grid, xs, ys, basis: str = "hazard",
                zoning_config: Mapping | None = None, min_level: int = 4) -> pd.DataFrame:
    """Zone 0-5 of each hazard at the points.

    Parameters
    ----------
    rasters : mapping of str to xarray.DataArray
        Per hazard, on ``grid``: its risk zoning (uint8 1-5, 0 nodata) when ``basis`` is ``"risk"``;
        its hazard index (float, NaN nodata) when ``basis`` is ``"hazard"``, cut into zones here with
        ``zoning_config`` (``method``, ``sample_size``, ``thresholds``; :func:`risk.assessment.zoning.zone`).
    grid : risk.grid.Grid
        The grid of the rasters; ``xs``, ``ys`` are in its CRS.
    min_level : int
        Only for the log: the settlements in zones ``>= min_level``.

    Returns
    -------
    pandas.DataFrame
        One int64 column per hazard; 0 off the grid or where the raster has no data.
    """
    out = {}
    if basis != "risk":
        z = zoning_config
        # the breaks the zoning rule would draw (its zones rasters are left unused: lazy, uncomputed graphs),
        # drawn in parallel; the points are classified on their float64 values
        zoned = zoning.zone_many(dict(rasters), z["method"], z["sample_size"], z["thresholds"])
    for hazard, raster in rasters.items():
        if basis == "risk":
            zones = values_at_points({hazard: raster}, grid, xs, ys, fill=0, dtype="uint8")[hazard]
            out[hazard] = zones.astype("int64")
            continue
        _, breaks = zoned[hazard]
        values = values_at_points({hazard: raster}, grid, xs, ys)[hazard].astype("f8")
        levels = zoning.classify(xr.DataArray(values, dims="point"), breaks).to_numpy().astype("int64")
        logger.info("%s: %d settlements in hazard zones >= %d", hazard, int((levels >= min_level).sum()),
                    min_level)
        out[hazard] = levels
    return pd.DataFrame(out)


def hazard_prone(levels: pd.DataFrame, min_level: int = 4) -> pd.DataFrame:
    """Which settlements lie in a high zone of any hazard.

    Parameters
    ----------
    levels : pandas.DataFrame
        One column per hazard with the zone (0-5, 0 = outside) at each settlement.
    min_level : int
        Lowest zone that counts (4 = 较高 Moderately high).

    Returns
    -------
    pandas.DataFrame
        ``hazard_prone`` (bool), ``max_level`` (int) and ``prone_hazards`` (comma-separated names).

    Examples
    --------
    >>> hazard_prone(pd.DataFrame({"wind": [2, 4], "geological": [5, 1]})).prone_hazards.tolist()
    ['geological', 'wind']
    """
    lv = levels.fillna(0).astype("int64")
    hit = lv >= min_level
    return pd.DataFrame({
        "hazard_prone": hit.any(axis=1),
        "max_level": lv.max(axis=1) if lv.shape[1] else 0,
        "prone_hazards": [",".join(c for c in lv.columns if row[c]) for _, row in hit.iterrows()],
    }, index=levels.index)


def _xy(gdf) -> np.ndarray:
    if gdf.crs is not None and not gdf.crs.is_projected:
        raise ValueError("shelter analysis needs a projected CRS in metres; reproject the layers first")
    g = gdf.geometry
    return np.column_stack([g.x.to_numpy(), g.y.to_numpy()]) if len(gdf) else np.empty((0, 2))


def shelter_coverage(settlements, shelters, max_distance_m: float, demand_share: float = 1.0):
    """Coverage of each settlement by the nearest usable shelter in reach.

    Parameters
    ----------
    settlements : geopandas.GeoDataFrame
        Points with ``population`` and ``hazard_prone`` (bool).
    shelters : geopandas.GeoDataFrame
        Points with ``name``, ``capacity`` (people) and ``usable`` (1/0).
    max_distance_m : float
        Service radius (straight line, metres).
    demand_share : float
        Share of the residents of a hazard-prone settlement who need a shelter place.

    Returns
    -------
    (settlements, shelter_load)
        The settlements with ``demand``, ``shelter`` (name, empty if none), ``distance_m`` (to it),
        ``nearest_usable_m`` (nearest usable shelter at any distance), ``shelter_load`` (demand
        assigned to that shelter), ``shelter_capacity``, ``covered``, ``gap`` and ``status`` (a key
        of :data:`STATUS`); and one row per shelter with its assigned demand and utilisation.
    """
    out = settlements.copy()
    prone = out["hazard_prone"].astype(bool).to_numpy()
    demand = np.where(prone, out["population"].astype("f8").to_numpy() * float(demand_share), 0.0)
    usable = shelters[shelters["usable"].astype("f8") > 0]
    sx = _xy(usable)
    px = _xy(out)
    idx = np.full(len(out), -1)
    dist = np.full(len(out), np.inf)
    if len(usable) and len(out):
        dist, idx = cKDTree(sx).query(px, k=1)
        idx = np.where(np.isfinite(dist), idx, -1)
    assigned = prone & (dist <= max_distance_m) & (idx >= 0)
    cap = usable["capacity"].astype("f8").to_numpy()
    load = np.bincount(idx[assigned], weights=demand[assigned], minlength=len(usable)) if len(usable) \
        else np.zeros(0)
    ratio = np.ones(len(usable))
    np.divide(cap, load, out=ratio, where=load > cap)
    ratio = np.minimum(ratio, 1.0)
    covered = np.zeros(len(out))
    covered[assigned] = demand[assigned] * ratio[idx[assigned]]
    names = usable["name"].astype(str).to_numpy()
    out["demand"] = demand
    out["shelter"] = np.where(assigned, names[np.clip(idx, 0, None)] if len(usable) else "", "")
    out["distance_m"] = np.where(assigned, dist, np.nan)
    out["nearest_usable_m"] = np.where(np.isfinite(dist), dist, np.nan)
    out["shelter_load"] = np.where(assigned, load[np.clip(idx, 0, None)] if len(usable) else 0.0, np.nan)
    out["shelter_capacity"] = np.where(assigned, cap[np.clip(idx, 0, None)] if len(usable) else 0.0, np.nan)
    out["covered"] = covered
    out["gap"] = np.clip(demand - covered, 0.0, None)
    status = np.where(~prone, "not_prone", np.where(~assigned, "no_shelter",
                                                    np.where(out["gap"] > 1e-9, "over_capacity", "covered")))
    out["status"] = status
    out["status_zh"] = [STATUS[s][0] for s in status]
    sl = pd.DataFrame({"name": names, "kind": usable["kind"].to_numpy() if "kind" in usable else "",
                       "capacity": cap, "assigned_demand": load,
                       "settlements_served": np.bincount(idx[assigned], minlength=len(usable)) if len(usable)
                       else np.zeros(0, int)})
    with np.errstate(divide="ignore", invalid="ignore"):
        sl["utilisation"] = np.where(sl["capacity"] > 0, sl["assigned_demand"] / sl["capacity"], np.nan)
    sl["over_capacity"] = sl["assigned_demand"] > sl["capacity"]
    return out, sl


def select_sites(gaps, candidates, max_distance_m: float, max_sites: int | None = None,
                 kinds=None):
    """Greedy maximal-covering choice of new shelter sites among the candidates.

    Parameters
    ----------
    gaps : geopandas.GeoDataFrame
        Points with ``gap`` (people without a place) and ``name``.
    candidates : geopandas.GeoDataFrame
        Points with ``name``, ``kind`` and ``capacity``.
    max_distance_m : float
        Service radius of a new site.
    max_sites : int, optional
        Stop after this many sites.
    kinds : sequence of str, optional
        Candidate kinds allowed (default: all).

    Returns
    -------
    (selected, closed_by)
        ``selected``: the picked candidates in order with ``order``, ``people_closed``,
        ``settlements_served``, ``served`` (names), ``cumulative_closed``, ``cumulative_share`` (of
        the total gap) and ``remaining_gap``; ``closed_by``: per gap row (index of ``gaps``), a
        mapping site name → people it takes.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> g = gpd.GeoDataFrame({"name": ["a", "b"], "gap": [100.0, 50.0]},
    ...                      geometry=[Point(0, 0), Point(5000, 0)], crs="EPSG:4549")
    >>> c = gpd.GeoDataFrame({"name": ["s1", "s2"], "kind": ["school"] * 2, "capacity": [80.0, 500.0]},
    ...                      geometry=[Point(100, 0), Point(4900, 0)], crs="EPSG:4549")
    >>> select_sites(g, c, 1000)[0][["name", "people_closed", "cumulative_share"]].round(3).values.tolist()
    [['s1', 80.0, 0.533], ['s2', 50.0, 0.867]]
    """
    cand = candidates
    if kinds is not None:
        cand = cand[cand["kind"].astype(str).isin(list(kinds))]
    cand = cand.reset_index(drop=True)
    g = gaps[gaps["gap"] > 0]
    remaining = g["gap"].astype("f8").to_numpy().copy()
    total = float(remaining.sum())
    gx, cx = _xy(g), _xy(cand)
    caps = cand["capacity"].astype("f8").to_numpy()
    reach: list[np.ndarray] = []
    dists: list[np.ndarray] = []
    if len(g) and len(cand):
        tree = cKDTree(gx)
        for i, members in enumerate(tree.query_ball_point(cx, r=max_distance_m)):
            m = np.asarray(sorted(members), dtype=np.int64)
            d = np.hypot(gx[m, 0] - cx[i, 0], gx[m, 1] - cx[i, 1]) if m.size else np.zeros(0)
            order = np.argsort(d, kind="stable")
            reach.append(m[order])
            dists.append(d[order])
    else:
        reach = [np.zeros(0, np.int64)] * len(cand)
    picked: list[dict] = []
    closed_by: dict = {}
    chosen = np.zeros(len(cand), bool)
    cum = 0.0
    while remaining.sum() > 1e-9 and (max_sites is None or len(picked) < max_sites):
        gains = np.array([0.0 if chosen[i] else min(caps[i], remaining[reach[i]].sum()) for i in range(len(cand))])
        if gains.size == 0 or gains.max() <= 1e-9:
            break
        # most gap closed; ties: the smaller site (less idle capacity), then the name
        best = sorted(range(len(cand)), key=lambda i: (-round(gains[i], 6), caps[i], str(cand["name"].iloc[i])))[0]
        chosen[best] = True
        left = caps[best]
        served = []
        for s in reach[best]:
            if left <= 0:
                break
            take = min(left, remaining[s])
            if take <= 0:
                continue
            remaining[s] -= take
            left -= take
            served.append(str(g["name"].iloc[s]))
            closed_by.setdefault(g.index[s], {})[str(cand["name"].iloc[best])] = float(take)
        cum += gains[best]
        row = cand.iloc[best].to_dict()
        row.update(order=len(picked) + 1, people_closed=float(gains[best]), settlements_served=len(served),
                   served=";".join(served), cumulative_closed=cum,
                   cumulative_share=cum / total if total > 0 else np.nan, remaining_gap=float(remaining.sum()))
        picked.append(row)
    import geopandas as gpd

    cols = ["order", "name", "kind", "capacity", "people_closed", "settlements_served", "served",
            "cumulative_closed", "cumulative_share", "remaining_gap"]
    if not picked:
        empty = gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=candidates.crs)
        return empty, closed_by
    sel = gpd.GeoDataFrame(picked, geometry="geometry", crs=candidates.crs)
    return sel[cols + ["geometry"]], closed_by


def gap_table(coverage, closed_by: Mapping) -> pd.DataFrame:
    """The settlements with a gap, largest first, with the reason and the new sites that close it."""
    g = coverage[coverage["gap"] > 1e-9].copy()
    g["reason"] = [STATUS[s][1] for s in g["status"]]
    g["closed_by_new_sites"] = [sum(closed_by.get(i, {}).values()) for i in g.index]
    g["new_sites"] = [";".join(closed_by.get(i, {})) for i in g.index]
    g["gap_after_new_sites"] = np.clip(g["gap"] - g["closed_by_new_sites"], 0.0, None)
    keep = [c for c in ("name", "kind", "township", "population", "prone_hazards", "max_level", "demand",
                        "shelter", "distance_m", "nearest_usable_m", "shelter_load", "shelter_capacity",
                        "covered", "gap", "status", "status_zh", "reason", "closed_by_new_sites", "new_sites",
                        "gap_after_new_sites") if c in g.columns]
    return pd.DataFrame(g[keep]).sort_values("gap", ascending=False, kind="stable").reset_index(drop=True)


def shelter_plan(settlements, shelters, candidates, rasters: Mapping[str, xr.DataArray], grid, *,
                 zone_basis: str = "hazard", zoning_config: Mapping | None = None, min_level: int = 4,
                 max_distance_m: float = 2000.0, demand_share: float = 1.0, max_new_sites: int | None = None,
                 candidate_kinds=None):
    """Everything the ``shelters`` rule writes: coverage, gaps, shelter load and new sites, rounded.

    The settlements with a geometry get their zones (:func:`zone_levels`; columns ``zone_<hazard>``) and
    :func:`hazard_prone`; then :func:`shelter_coverage`, :func:`select_sites` on the gaps and
    :func:`gap_table`.

    Parameters
    ----------
    settlements, shelters, candidates : geopandas.GeoDataFrame
        Points in the (projected) CRS of ``grid``, with :data:`INPUT_FIELDS`.
    rasters, grid, zone_basis, zoning_config, min_level
        See :func:`zone_levels` and :func:`hazard_prone`.
    max_distance_m, demand_share
        See :func:`shelter_coverage`.
    max_new_sites, candidate_kinds
        ``max_sites`` and ``kinds`` of :func:`select_sites`.

    Returns
    -------
    (coverage, gaps, load, sites)
        The settlements' coverage, the gap table, the load of each usable shelter, the selected sites.
    """
    settlements = with_geometry(settlements).reset_index(drop=True)
    xs, ys = settlements.geometry.x.to_numpy(), settlements.geometry.y.to_numpy()
    levels = zone_levels(rasters, grid, xs, ys, zone_basis, zoning_config, min_level)
    settlements = settlements.join(levels.add_prefix("zone_")).join(hazard_prone(levels, min_level))
    coverage, load = shelter_coverage(settlements, shelters, max_distance_m, demand_share)
    gaps = coverage[coverage["gap"] > 1e-9]
    selected, closed_by = select_sites(gaps, candidates, max_distance_m, max_new_sites, candidate_kinds)
    gap_tab = gap_table(coverage, closed_by)
    prone = coverage["hazard_prone"]
    logger.info("%d settlements, %d hazard-prone (%.0f people); demand %.0f, covered %.0f, gap %.0f people "
                "in %d settlements", len(coverage), int(prone.sum()), coverage.loc[prone, "population"].sum(),
                coverage["demand"].sum(), coverage["covered"].sum(), coverage["gap"].sum(), len(gap_tab))
    if len(selected):
        last = selected.iloc[-1]
        logger.info("%d new sites close %.0f of %.0f people (%.1f %%)", len(selected),
                    last["cumulative_closed"], coverage["gap"].sum(), 100 * last["cumulative_share"])
    return (coverage.round(DECIMALS),
            gap_tab.round({**DECIMALS, "closed_by_new_sites": 1, "gap_after_new_sites": 1}),
            load.round({"assigned_demand": 1, "utilisation": 3}),
            selected.round({"people_closed": 1, "cumulative_closed": 1, "cumulative_share": 4,
                            "remaining_gap": 1}))
