"""Per-township tables: zone shares, mean risk, people and survey points by zone.

Zonal statistics use exactextract, which weighs every cell by the fraction of it that a township
polygon covers (cells cut by a boundary count partly), so shares and people add up exactly over a
township. Rasters are passed as file paths or as DataArrays on a :class:`~risk.grid.Grid` (numpy or Dask);
either is read one strip of rows at a time (:func:`extract`, at most :data:`WINDOW_CELLS` cells), so memory
stays flat as the grid grows.

Columns (``<name>`` = a hazard or ``multi_hazard``; ``k`` = zone 1-5, 1 = 低 Low ... 5 = 高 High):

``township_id``, ``name_zh`` (Chinese name as given), ``name_en`` (English/pinyin name when the
township layer has one), ``area_km2``, ``people``; ``<name>_mean_risk``; ``<name>_unexposed_share`` and
``<name>_unexposed_people`` (无暴露: cells where nothing is exposed, risk 0, their own class);
``<name>_z<k>_share`` (share of the township's area in zone k; zone 1 counts the exposed cells only, so the
unexposed share and the five zone shares add up to 1); ``<name>_z<k>_people``; ``<name>_zoning_method`` and
``<name>_zoning_breaks`` (from the zoning raster's tags); ``pts_<category>_total`` and
``pts_<category>_z<k>`` (surveyed points by the multi-hazard zone of their cell).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from risk.assessment.zoning import ZONE_LABELS
from risk.grid import Grid

ZONES = tuple(ZONE_LABELS)
NAME_EN_FIELDS = ("name_en", "name_pinyin", "pinyin", "english", "name_eng", "ename")
NAME_ZH_FIELDS = ("name", "name_zh", "名称", "乡镇", "township")


def _window_source_class():
    from exactextract.raster import RasterSource

    class WindowSource(RasterSource):
        """An exactextract raster source that reads (or computes) only the window exactextract asks for."""

        def __init__(self, read, shape, bounds, srs_wkt, nodata=None, name=None):
            super().__init__()
            self._read, self._shape, self._bounds, self._wkt, self._nodata = read, shape, bounds, srs_wkt, nodata
            if name:
                self.set_name(name)

        def res(self):
            (xmin, ymin, xmax, ymax), (ny, nx) = self._bounds, self._shape
            return (xmax - xmin) / nx, (ymax - ymin) / ny

        def extent(self):
            return self._bounds

        def srs_wkt(self):
            return self._wkt

        def nodata_value(self):
            return self._nodata

        def read_window(self, x0, y0, nx, ny):
            return self._read(y0, x0, ny, nx)

    return WindowSource


def window_source(read, shape, bounds, srs_wkt: str | None, nodata=None, name: str | None = None):
    """An exactextract raster source of ``shape`` over ``bounds`` whose windows come from
    ``read(row0, col0, nrows, ncols)`` (a 2-D numpy array): nothing is held beyond the window being read."""
    return _window_source_class()(read, tuple(shape), tuple(bounds), srs_wkt, nodata, name)


def _array_reader(data):
    """``read(row0, col0, nrows, ncols)`` of a numpy or Dask array. Dask: the row of chunks holding the window is
    computed once and kept until a window leaves it (windows that split a chunk row do not read it again)."""
    if not hasattr(data, "compute"):
        return lambda r0, c0, nr, nc: np.asarray(data[r0:r0 + nr, c0:c0 + nc])
    edges = np.cumsum((0,) + tuple(data.chunks[0]))
    kept = {}

    def read(r0, c0, nr, nc):
        i = int(np.searchsorted(edges, r0, side="right")) - 1
        if r0 + nr > edges[min(i + 1, edges.size - 1)]:  # across chunk rows: this window alone
            return np.asarray(data[r0:r0 + nr, c0:c0 + nc].compute())
        if kept.get("i") != i:
            kept.clear()
            kept["i"], kept["strip"] = i, np.asarray(data[edges[i]:edges[i + 1]].compute())
        return kept["strip"][r0 - edges[i]:r0 - edges[i] + nr, c0:c0 + nc]

    return read


def raster_source(raster, grid: Grid | None, name: str, zone: bool = False):
    """An exactextract raster source from a path or a DataArray on ``grid`` (``zone``: 0 is nodata).

    A DataArray (numpy or Dask) is read window by window as exactextract asks: a Dask one is computed one
    window at a time, never whole."""
    if isinstance(raster, (str, Path)):
        import rasterio
        from exactextract.raster import RasterioRasterSource

        return RasterioRasterSource(rasterio.open(str(raster)), name=name)
    if grid is None:
        raise ValueError("a grid is needed to read an in-memory raster")
    from pyproj import CRS

    data = raster.data if isinstance(raster, xr.DataArray) else raster
    return window_source(_array_reader(data), data.shape, grid.bounds, CRS(grid.crs).to_wkt(),
                         nodata=0 if zone else None, name=name)


WINDOW_CELLS = 2 ** 21
"""Most cells exactextract reads of each raster at a time (as float64: 16 MB a raster), whatever the grid."""


def window_rows(chunk: int, width: int, cells: int = WINDOW_CELLS) -> int:
    """Rows of each window: the chunk's rows halved until a full-width window holds at most ``cells`` cells
    (at least one row), so windows never straddle a row of Dask chunks and memory stays flat as the grid grows.

    Examples
    --------
    >>> window_rows(1024, 2235), window_rows(1024, 6705), window_rows(64, 125)
    (512, 256, 64)
    """
    rows = max(int(chunk), 1)
    while rows > 1 and rows * width > cells:
        rows = (rows + 1) // 2
    return rows


def _width(source) -> int:
    xmin, _, xmax, _ = source.extent()
    return max(int(round((xmax - xmin) / source.res()[0])), 1)


WINDOW_CHUNK = 1024
"""Chunk rows the windows divide when no grid is given (rasters read from files)."""


def extract(rasters, gdf, ops, grid: Grid | None = None, weights=None, strategy: str = "raster-sequential",
            rows: int | None = None) -> pd.DataFrame:
    """exactextract's ``ops`` of ``rasters`` (sources) over the polygons of ``gdf`` (with ``_row``), one row per
    polygon in ``gdf``'s order, the rasters read ``rows`` full rows at a time (default :func:`window_rows` of
    the grid's chunk: at most :data:`WINDOW_CELLS` cells).

    Memory holds one window of each raster (float64 in exactextract), not the rasters.
    """
    from exactextract import exact_extract

    rasters = list(rasters)
    width = _width(rasters[0])
    rows = rows or window_rows(grid.chunk if grid is not None else WINDOW_CHUNK, width)
    kw = {"weights": weights} if weights is not None else {}
    t = exact_extract(rasters, gdf, ops, include_cols=["_row"], output="pandas", strategy=strategy,
                      max_cells_in_memory=rows * width, **kw)  # raster-sequential: strips of cells // width rows
    return t.set_index("_row").reindex(gdf["_row"])


def township_names(townships, name_field: str | None = None) -> pd.DataFrame:
    """``township_id``, ``name_zh``, ``name_en`` for each township polygon (bilingual-friendly)."""
    cols = {c.lower(): c for c in townships.columns}
    zh = name_field or next((cols[f] for f in NAME_ZH_FIELDS if f in cols), None)
    en = next((cols[f] for f in NAME_EN_FIELDS if f in cols), None)
    idf = next((cols[f] for f in ("township_id", "code", "id", "adcode") if f in cols), None)
    n = len(townships)
    out = pd.DataFrame(index=townships.index)
    out["township_id"] = (townships[idf].astype(str).values if idf else [f"T{i + 1:03d}" for i in range(n)])
    out["name_zh"] = townships[zh].astype(str).values if zh else out["township_id"].values
    out["name_en"] = townships[en].astype(str).values if en else ""
    return out


def zoning_meta(tags: Mapping[str, str]) -> tuple[str, list[float]]:
    """Zoning method and breaks recorded in a zoning raster's tags (see :func:`risk.assessment.zoning.zoning_tags`)."""
    method = tags.get("ZONING_METHOD", "")
    breaks = json.loads(tags["ZONING_BREAKS"]) if tags.get("ZONING_BREAKS") else []
    return method, [float(b) for b in breaks]


def op_columns(t: pd.DataFrame, name: str, ops, n_rasters: int) -> dict[str, str]:
    """Column of each op: exactextract names them ``<raster>[_<weights>]_<op>`` (just ``<op>`` for one raster)."""
    out = {}
    cols = [c for c in t.columns if c != "_row"]
    for op in ops:
        cands = [c for c in cols if c.startswith(f"{name}_") and c.endswith(f"_{op}")
                 and (op != "frac" or not c.endswith("weighted_frac"))]
        if not cands and n_rasters == 1:
            cands = [c for c in cols if c == op or (c.endswith(f"_{op}") and (op != "frac" or "weighted" not in c))]
        if not cands:
            raise KeyError(f"exactextract returned no {op!r} column for {name!r} (columns: {cols})")
        out[op] = min(cands, key=len)
    return out


def zone_stats(townships, zones: Mapping[str, object], risks: Mapping[str, object], population=None,
               aoi=None, grid: Grid | None = None, strategy: str = "raster-sequential",
               window_rows: int | None = None) -> pd.DataFrame:
    """Zone shares, people by zone and mean risk per township (exactextract).

    Parameters
    ----------
    townships : geopandas.GeoDataFrame
        Polygons in the rasters' CRS.
    zones, risks : mapping
        ``{name: raster}`` zoning (uint8 1-5, 0 nodata) and risk (float, NaN nodata) rasters.
    population : raster, optional
        Persons per cell (NaN cells of a DataArray count as none); ``aoi`` (1 inside the study area)
        restricts people counts to the area.
    strategy : str
        exactextract's processing strategy; ``raster-sequential`` reads each raster once for all
        townships (much faster for a county's few dozen townships).
    window_rows : int, optional
        Rows read at a time (default :func:`window_rows`; see :func:`extract`): memory stays flat as the grid
        grows.
    """
    gdf = townships.reset_index(drop=True)[["geometry"]].copy()
    gdf["_row"] = np.arange(len(gdf))
    out = pd.DataFrame(index=gdf.index)
    out["area_km2"] = gdf.geometry.area.values / 1e6
    pop_total = None
    if isinstance(population, xr.DataArray):
        population = population.fillna(0)  # no data, no people (NaN weights would void the people by zone)
    kw = {"grid": grid, "strategy": strategy, "rows": window_rows}
    if population is not None:
        if aoi is not None:
            t = extract([raster_source(population, grid, "pop")], gdf, ["weighted_sum"],
                        weights=raster_source(aoi, grid, "aoi"), **kw)
            pop_total = t["weighted_sum"].to_numpy(dtype="f8")
        else:
            t = extract([raster_source(population, grid, "pop")], gdf, ["sum"], **kw)
            pop_total = t["sum"].to_numpy(dtype="f8")
        out["people"] = np.nan_to_num(pop_total)
    names = list(zones)
    if names:
        ops = ["unique", "frac"] + (["weighted_frac"] if population is not None else [])
        weights = raster_source(population, grid, "pop") if population is not None else None
        t = extract([raster_source(zones[n], grid, n, zone=True) for n in names], gdf, ops, weights=weights, **kw)
        for name in names:
            col = op_columns(t, name, ops, len(names))
            share = np.zeros((len(gdf), len(ZONES)))
            wfrac = np.zeros((len(gdf), len(ZONES)))
            for i in range(len(gdf)):
                u, fr = t[col["unique"]].iloc[i], t[col["frac"]].iloc[i]
                if u is None or (isinstance(u, float) and np.isnan(u)):
                    continue
                wf = t[col["weighted_frac"]].iloc[i] if population is not None else None
                for j, val in enumerate(np.asarray(u).astype(int)):
                    if 1 <= val <= len(ZONES):
                        share[i, val - 1] = fr[j]
                        if wf is not None and np.isfinite(wf[j]):
                            wfrac[i, val - 1] = wf[j]
            for k in ZONES:
                out[f"{name}_z{k}_share"] = share[:, k - 1].round(6)
            if population is not None:
                for k in ZONES:
                    out[f"{name}_z{k}_people"] = (wfrac[:, k - 1] * np.nan_to_num(pop_total)).round(1)
    rnames = list(risks)
    if rnames:
        t = extract([raster_source(risks[n], grid, n) for n in rnames], gdf, ["mean"], **kw)
        for name in rnames:
            col = op_columns(t, name, ["mean"], len(rnames))
            out[f"{name}_mean_risk"] = t[col["mean"]].to_numpy(dtype="f8").round(6)
        ops = ["mean"] + (["weighted_mean"] if population is not None else [])
        weights = raster_source(population, grid, "pop") if population is not None else None
        t = extract([exposed_source(risks[n], grid, f"{n}_exposed") for n in rnames], gdf, ops, weights=weights,
                    **kw)
        for name in rnames:
            col = op_columns(t, f"{name}_exposed", ops, len(rnames))
            out[f"{name}_unexposed_share"] = np.nan_to_num(1.0 - t[col["mean"]].to_numpy(dtype="f8")).round(6)
            if population is not None:
                wm = np.nan_to_num(t[col["weighted_mean"]].to_numpy(dtype="f8"), nan=1.0)
                out[f"{name}_unexposed_people"] = ((1.0 - wm) * np.nan_to_num(pop_total)).round(1)
            if name in names:  # nothing exposed is its own class: zone 1 keeps the exposed cells only
                share = out[f"{name}_z1_share"] - out[f"{name}_unexposed_share"]
                out[f"{name}_z1_share"] = share.clip(lower=0.0).round(6)
                if population is not None:
                    people = out[f"{name}_z1_people"] - out[f"{name}_unexposed_people"]
                    out[f"{name}_z1_people"] = people.clip(lower=0.0).round(1)
    return _unexposed_first(out, rnames)


def _unexposed_first(out: pd.DataFrame, names) -> pd.DataFrame:
    """Columns reordered so that each name's ``unexposed_*`` columns stand just before its zone 1 columns."""
    cols = list(out.columns)
    for name in names:
        for what in ("share", "people"):
            c, z1 = f"{name}_unexposed_{what}", f"{name}_z1_{what}"
            if c in cols and z1 in cols:
                cols.remove(c)
                cols.insert(cols.index(z1), c)
    return out[cols]


def _flag_kernel(r):
    return np.where(np.isfinite(r), (r > 0).astype("f4"), np.float32(np.nan))


def exposed_source(risk, grid: Grid | None, name: str):
    """An exactextract source of 1 where the risk is above 0 (something exposed), 0 where it is 0, NaN
    outside: its township mean is the exposed share, so cells with nothing exposed are their own class in
    the tables. ``risk`` is a DataArray on ``grid`` or a GeoTIFF path; either is flagged one window at a time."""
    from risk.blockwise import apply_blocks

    if isinstance(risk, xr.DataArray):
        return raster_source(apply_blocks(_flag_kernel, risk, name=name), grid, name)
    import rasterio
    from rasterio.windows import Window

    src = rasterio.open(risk)

    def read(r0, c0, nr, nc):
        return _flag_kernel(src.read(1, window=Window(c0, r0, nc, nr), masked=True).astype("f4").filled(np.nan))

    b = src.bounds
    return window_source(read, src.shape, (b.left, b.bottom, b.right, b.top), src.crs.to_wkt(), name=name)


def points_by_zone(points, townships, zone_values: Mapping[str, np.ndarray], ids: pd.DataFrame) -> pd.DataFrame:
    """Long table: surveyed points per township, category, zoned layer and zone.

    ``points`` has ``category`` and a geometry; ``zone_values[name]`` is the zone (0-5) of each
    point's cell; ``ids`` comes from :func:`township_names` (same index as ``townships``).
    """
    import geopandas as gpd

    cols = ["township_id", "name_zh", "category", "layer", "zone", "zone_label", "count"]
    if len(points) == 0:
        return pd.DataFrame(columns=cols)
    tw = gpd.GeoDataFrame(ids.reset_index(drop=True), geometry=townships.geometry.values, crs=townships.crs)
    pts = gpd.GeoDataFrame({"category": points["category"].values, "_i": np.arange(len(points))},
                           geometry=points.geometry.values, crs=points.crs)
    j = gpd.sjoin(pts, tw, how="inner", predicate="within").drop_duplicates("_i")
    rows = []
    for name, z in zone_values.items():
        zz = np.asarray(z)[j["_i"].to_numpy()]
        d = pd.DataFrame({"township_id": j["township_id"].values, "name_zh": j["name_zh"].values,
                          "category": j["category"].values, "layer": name, "zone": zz.astype(int)})
        rows.append(d[d["zone"] > 0])
    if not rows:
        return pd.DataFrame(columns=cols)
    long = pd.concat(rows).groupby(["township_id", "name_zh", "category", "layer", "zone"]).size()
    long = long.rename("count").reset_index()
    long["zone_label"] = long["zone"].map(lambda k: " ".join(ZONE_LABELS[int(k)]))
    return long[cols]


def zone_numbers(values: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Zones sampled at points (float, NaN off the grid) as integers, 0 for no zone.

    Examples
    --------
    >>> zone_numbers({"a": np.array([3.0, np.nan])})["a"].tolist()
    [3, 0]
    """
    return {k: np.nan_to_num(v).astype(int) for k, v in values.items()}


def township_table(townships, zones, risks, *, zoning_tags: Mapping[str, Mapping[str, str]], population=None,
                   aoi=None, grid: Grid | None = None, points=None, point_zones=None,
                   points_layer: str = "multi_hazard", categories=(), name_field: str | None = None):
    """The wide township table (GeoDataFrame) and the long points-by-zone table; see the module docstring."""
    import geopandas as gpd

    ids = township_names(townships, name_field).reset_index(drop=True)
    stats = zone_stats(townships, zones, risks, population, aoi, grid)
    wide = pd.concat([ids, stats.reset_index(drop=True)], axis=1)
    for name, tags in zoning_tags.items():
        method, breaks = zoning_meta(tags)
        wide[f"{name}_zoning_method"] = method
        wide[f"{name}_zoning_breaks"] = json.dumps(breaks)
    long = points_by_zone(points, townships, point_zones or {}, ids) if points is not None else None
    if long is not None:
        cats = list(dict.fromkeys(list(categories) + sorted(long["category"].unique())))
        sel = long[long["layer"] == points_layer]
        for c in cats:
            sc = sel[sel["category"] == c]
            total = sc.groupby("township_id")["count"].sum()
            wide[f"pts_{c}_total"] = wide["township_id"].map(total).fillna(0).astype(int)
            for k in ZONES:
                cnt = sc[sc["zone"] == k].set_index("township_id")["count"]
                wide[f"pts_{c}_z{k}"] = wide["township_id"].map(cnt).fillna(0).astype(int)
    gdf = gpd.GeoDataFrame(wide, geometry=townships.geometry.values, crs=townships.crs)
    return gdf, long
