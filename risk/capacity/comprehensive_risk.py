"""Comprehensive risk: multi-hazard risk lowered where townships can cope, and the priority townships.

**Formula.** With ``R`` the multi-hazard risk of a cell (0-1) and ``C`` the capacity index of its
township (0-1, :mod:`risk.capacity.capacity_index`),

    R_c = R · (1 − β · C)

``β`` (config ``capacity.comprehensive.capacity_effect``, default 0.5) is the largest share of
risk that capacity can take away: a township with the best capacity (C = 1) halves its risk with
β = 0.5, a township with none (C = 0) keeps all of it. ``R_c`` stays on 0-1 and keeps the order of
``R`` within a township. Cells of the area that fall in no township get the townships' mean
capacity.

**Priority townships (三高一低).** Per township: the mean multi-hazard risk, the share of its area
in zones 4-5 (较高/高), and the people living there. A township is *high* on one of these three
measures when its value exceeds the townships' mean + ``high_sd`` standard deviations (default
0.5, the boundary of the two top grades), and *low* in capacity when its grade is 较弱 or 弱. A
township with low capacity and at least ``min_highs`` of the three highs (default 2) is a
priority; with all three it is "三高一低" in full.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import dask
import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr

logger = logging.getLogger(__name__)

INDEX_DESCRIPTION = "综合风险指数 Comprehensive risk index (0-1)"
"""Band description of the comprehensive risk index raster."""

ZONES_DESCRIPTION = "综合风险区划 Comprehensive risk zone (1 低 Low … 5 高 High, 0 nodata)"
"""Band description (and QGIS style title) of the comprehensive risk zoning."""

PRIORITY_DECIMALS = {"area_km2": 3, "high_zone_km2": 3, "population_grid": 0, "people_high_zone": 0,
                     "multi_hazard_mean": 4, "comprehensive_mean": 4, "high_zone_share": 4,
                     "capacity_index": 4}
"""Decimals of the priority-township table's columns as written."""


def township_labels(townships, grid, dask_: bool = True) -> xr.DataArray:
    """Township number of each cell (1..n in the order of ``townships``; 0 = none), int32."""
    geoms = townships.to_crs(grid.crs).geometry.values
    return grid.rasterize(geoms, np.arange(1, len(geoms) + 1, dtype="int32"), fill=0, dtype="int32",
                          dask=dask_, name="township")


def zonal_sums(labels, values: Mapping[str, object], n: int) -> pd.DataFrame:
    """Per-label sums and counts of finite values (one pass of ``numpy.bincount`` per block).

    Parameters
    ----------
    labels : xarray.DataArray or array
        Integer labels 1..n (0 or anything else is ignored); numpy or Dask.
    values : mapping
        Name → raster on the same grid (NaN ignored).
    n : int
        Number of labels.

    Returns
    -------
    pandas.DataFrame
        ``n`` rows (label 1 first) with ``<name>_sum`` and ``<name>_count`` columns.

    Examples
    --------
    >>> zonal_sums(np.array([[1, 1, 2]]), {"v": np.array([[1.0, np.nan, 3.0]])}, 2).values.tolist()
    [[1.0, 1.0], [3.0, 1.0]]
    """
    names = list(values)

    def block(lab, *vals):
        lab = np.asarray(lab).ravel().astype(np.int64)
        inside = (lab > 0) & (lab <= n)
        out = []
        for v in vals:
            v = np.asarray(v, dtype="f8").ravel()
            ok = inside & np.isfinite(v)
            out.append(np.bincount(lab[ok], weights=v[ok], minlength=n + 1)[: n + 1])
            out.append(np.bincount(lab[ok], minlength=n + 1)[: n + 1].astype("f8"))
        return np.stack(out) if out else np.zeros((0, n + 1))

    lab = labels.data if isinstance(labels, xr.DataArray) else labels
    vals = [values[k].data if isinstance(values[k], xr.DataArray) else values[k] for k in names]
    if isinstance(lab, da.Array) or any(isinstance(v, da.Array) for v in vals):
        lab = lab if isinstance(lab, da.Array) else da.from_array(np.asarray(lab), chunks=vals[0].chunks)
        vals = [v.rechunk(lab.chunks) if isinstance(v, da.Array) else da.from_array(np.asarray(v), chunks=lab.chunks)
                for v in vals]
        parts = [dask.delayed(block)(lb, *vb) for lb, *vb in
                 zip(lab.to_delayed().ravel(), *(v.to_delayed().ravel() for v in vals), strict=True)]
        total = np.sum(dask.compute(*parts), axis=0)
    else:
        total = block(lab, *vals)
    cols = {}
    for i, k in enumerate(names):
        cols[f"{k}_sum"] = total[2 * i, 1:]
        cols[f"{k}_count"] = total[2 * i + 1, 1:]
    return pd.DataFrame(cols)


def capacity_raster(labels: xr.DataArray, capacity, fill: float | None = None) -> xr.DataArray:
    """Capacity index of each cell's township (float32); cells in no township get ``fill``
    (default: the mean of ``capacity``)."""
    cap = np.asarray(capacity, dtype="f4")
    fill = float(np.nanmean(cap)) if fill is None else float(fill)
    lut = np.concatenate([[np.float32(fill)], cap]).astype("f4")

    def look(lab):
        lab = np.asarray(lab)
        ok = (lab >= 0) & (lab < lut.size)
        return np.where(ok, lut[np.clip(lab, 0, lut.size - 1)], np.float32(fill)).astype("f4")

    data = labels.data
    out = data.map_blocks(look, dtype="f4") if isinstance(data, da.Array) else look(data)
    res = labels.copy(data=out)
    res.name = "capacity"
    return res


def comprehensive_risk(multi_hazard, capacity, capacity_effect: float = 0.5):
    """``R_c = R · (1 − β · C)`` (float32, NaN where ``R`` is NaN); see the module docstring.

    Examples
    --------
    >>> [round(float(v), 3) for v in comprehensive_risk(np.array([0.8, np.nan]), np.array([0.5, 0.5]), 0.5)]
    [0.6, nan]
    """
    if not 0.0 <= capacity_effect <= 1.0:
        raise ValueError(f"capacity.comprehensive.capacity_effect: {capacity_effect} is not in [0, 1]")
    c = capacity.clip(0.0, 1.0) if isinstance(capacity, xr.DataArray) else np.clip(capacity, 0.0, 1.0)
    out = multi_hazard * (np.float32(1.0) - np.float32(capacity_effect) * c)
    if isinstance(out, xr.DataArray):
        out = out.astype("f4")
        out.name = "comprehensive_risk"
        out.attrs = {k: v for k, v in multi_hazard.attrs.items() if k in ("crs", "res")}
        return out
    return np.asarray(out, dtype="f4")


def comprehensive_raster(multi_hazard: xr.DataArray, townships, grid,
                         capacity_effect: float = 0.5) -> xr.DataArray:
    """``R_c`` of every cell: each cell's township capacity (:func:`township_labels`, :func:`capacity_raster`)
    applied to the multi-hazard risk by :func:`comprehensive_risk`.

    Parameters
    ----------
    multi_hazard : xarray.DataArray
        Multi-hazard risk (0-1) on ``grid``.
    townships : geopandas.GeoDataFrame
        Township polygons with ``capacity_index`` (0-1).
    grid : risk.grid.Grid
        The analysis grid.
    capacity_effect : float
        ``β`` of the formula.
    """
    labels = township_labels(townships, grid)
    c = capacity_raster(labels, townships["capacity_index"].to_numpy())
    return comprehensive_risk(multi_hazard, c, capacity_effect)


def index_tags(capacity_effect: float, source: str) -> dict[str, str]:
    """GeoTIFF metadata of the comprehensive risk index: the formula with its ``β`` and the source index.

    Examples
    --------
    >>> index_tags(0.5, "multi_hazard.tif")["FORMULA"]
    'R_c = R_multi_hazard * (1 - 0.5 * C_township)'
    """
    return {"FORMULA": f"R_c = R_multi_hazard * (1 - {capacity_effect} * C_township)", "SOURCE_INDEX": source}


def township_risk_table(labels, townships: pd.DataFrame, multi_hazard, zones, comprehensive, population,
                        cell_area_km2: float, high_levels=(4, 5)) -> pd.DataFrame:
    """Per township: mean multi-hazard and comprehensive risk, area and people in high zones.

    ``zones`` is the multi-hazard zoning (1-5, 0 = nodata: outside the area, where nothing is
    counted); ``population`` people per cell.
    """
    hi_lo = min(high_levels)
    if isinstance(zones, xr.DataArray):
        in_zone = (zones > 0).astype("f4").where(zones > 0)
        high = (zones >= hi_lo).astype("f4").where(zones > 0)
    else:
        z = np.asarray(zones)
        in_zone = np.where(z > 0, 1.0, np.nan)
        high = np.where(z > 0, (z >= hi_lo).astype("f4"), np.nan)
    if isinstance(population, xr.DataArray):
        pop = population.fillna(0.0) * in_zone  # NaN outside the area: not counted
    else:
        pop = np.nan_to_num(np.asarray(population, dtype="f4")) * in_zone
    pop_high = pop * high
    s = zonal_sums(labels, {"risk": multi_hazard, "comp": comprehensive, "area": in_zone, "high": high,
                            "pop": pop, "pop_high": pop_high}, len(townships))
    tab = pd.DataFrame({"code": townships["code"].astype(str).to_numpy(), "name": townships["name"].to_numpy()})
    with np.errstate(invalid="ignore", divide="ignore"):
        tab["area_km2"] = s["area_count"].to_numpy() * cell_area_km2
        tab["multi_hazard_mean"] = (s["risk_sum"] / s["risk_count"]).to_numpy()
        tab["comprehensive_mean"] = (s["comp_sum"] / s["comp_count"]).to_numpy()
        tab["high_zone_share"] = (s["high_sum"] / s["high_count"]).to_numpy()
        tab["high_zone_km2"] = s["high_sum"].to_numpy() * cell_area_km2
        tab["population_grid"] = s["pop_sum"].to_numpy()
        tab["people_high_zone"] = s["pop_high_sum"].to_numpy()
    return tab


def flag_high(values, high_sd: float = 0.5) -> np.ndarray:
    """Whether each value exceeds the mean + ``high_sd`` standard deviations (NaN: not high).

    Examples
    --------
    >>> flag_high([1.0, 1.0, 1.0, 5.0]).tolist()
    [False, False, False, True]
    """
    x = np.asarray(values, dtype="f8")
    ok = np.isfinite(x)
    if not ok.any():
        return np.zeros(x.shape, bool)
    mu, sd = x[ok].mean(), x[ok].std()
    return ok & (x > mu + high_sd * sd + 1e-12)


def priority_townships(risk_table: pd.DataFrame, capacity: pd.DataFrame, high_sd: float = 0.5,
                       low_grades=(1, 2), min_highs: int = 2) -> pd.DataFrame:
    """Flag the townships with high risk and low capacity (三高一低), most urgent first.

    Parameters
    ----------
    risk_table : pandas.DataFrame
        Output of :func:`township_risk_table`.
    capacity : pandas.DataFrame
        ``code``, ``capacity_index``, ``grade``, ``grade_zh``, ``grade_en`` per township.

    Returns
    -------
    pandas.DataFrame
        Every township with ``high_risk``, ``high_zone_area``, ``high_exposure`` (bool),
        ``n_high``, ``low_capacity``, ``priority``, ``three_high_one_low`` and ``reason`` (bilingual),
        sorted by priority then comprehensive risk.
    """
    cap = capacity[["code", "capacity_index", "grade", "grade_zh", "grade_en"]].copy()
    cap["code"] = cap["code"].astype(str)
    t = risk_table.merge(cap, on="code", how="left")
    t["high_risk"] = flag_high(t["multi_hazard_mean"], high_sd)
    t["high_zone_area"] = flag_high(t["high_zone_share"], high_sd)
    t["high_exposure"] = flag_high(t["people_high_zone"], high_sd)
    t["n_high"] = t[["high_risk", "high_zone_area", "high_exposure"]].sum(axis=1).astype(int)
    t["low_capacity"] = t["grade"].isin(list(low_grades))
    t["priority"] = t["low_capacity"] & (t["n_high"] >= min_highs)
    t["three_high_one_low"] = t["low_capacity"] & (t["n_high"] == 3)
    labels = {"high_risk": ("风险高", "high risk"), "high_zone_area": ("高风险区面积大", "large high-risk area"),
              "high_exposure": ("高风险区人口多", "many people in high-risk zones"),
              "low_capacity": ("减灾能力低", "low capacity")}
    t["reason"] = [
        "; ".join(f"{zh} {en}" for k, (zh, en) in labels.items() if bool(row[k])) for _, row in t.iterrows()]
    t = t.sort_values(["priority", "n_high", "comprehensive_mean"], ascending=[False, False, False],
                      kind="stable").reset_index(drop=True)
    t.insert(0, "rank", np.arange(1, len(t) + 1))
    return t


def priority_table(townships, grid, multi_hazard, zones, comprehensive, population,
                   priority: Mapping) -> pd.DataFrame:
    """The priority townships (三高一低) from the rasters: :func:`township_risk_table`, then
    :func:`priority_townships`.

    Parameters
    ----------
    townships : geopandas.GeoDataFrame
        The capacity layer: township polygons with ``code``, ``name``, ``capacity_index`` and the grades.
    grid : risk.grid.Grid
        The analysis grid of the rasters.
    multi_hazard, zones, comprehensive, population
        Multi-hazard risk, its zoning (uint8 1-5, 0 nodata), comprehensive risk and people per cell.
    priority : mapping
        The config's ``capacity.priority``: ``high_levels``, ``high_sd``, ``low_grades``, ``min_highs``.
    """
    labels = township_labels(townships, grid)
    risk_table = township_risk_table(labels, townships, multi_hazard, zones, comprehensive, population,
                                     grid.cell_area / 1e6, tuple(priority["high_levels"]))
    table = priority_townships(risk_table, townships, priority["high_sd"], tuple(priority["low_grades"]),
                               priority["min_highs"])
    flagged = table[table["priority"]]
    logger.info("%d of %d townships are priorities: %s", len(flagged), len(table), ", ".join(flagged["name"]))
    return table
