"""Generate the whole synthetic demo for any AOI: rasters, layers, survey files, tables, truth, config.

Steps (each in its own module): terrain and rivers (:mod:`.terrain`), townships, settlements and
roads (:mod:`.landscape`), built-up land, land cover and population (:mod:`.landcover`), coarse
EPSG:4326 rain/PGA/wind grids (:mod:`.climate`), truth surfaces and events (:mod:`.events`),
the messy survey exports (:mod:`.survey_files`), facilities and tables (:mod:`.facilities`).
Every random draw comes from a stream seeded by ``(seed, component)``, and every writer is
byte-stable, so the same seed gives the same bytes in every file.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
import yaml
from rasterio.features import rasterize

from risk.config import default_results_dir
from risk.demo import climate, disasters, events, facilities, landcover, landscape, round2, survey_files
from risk.demo import names as nm
from risk.demo.common import ROWS, Progress, Store, aoi_cells, distance_to, rng_for, scale_count, slope_aspect
from risk.demo.terrain import build_terrain, fine_dem
from risk.grid import Grid
from risk.io import aoi_mask as make_aoi_mask
from risk.io import read_raster_on_grid, write_raster, write_table, write_text, write_vector
from risk.io.batchwrite import bound_heap

INPUTS = {
    "dem": "dem.tif",
    "landcover": "landcover.tif",
    "population": "population.tif",
    "rain_max24h": "rain_max24h.tif",
    "pga": "pga.tif",
    "wind50": "wind50.tif",
    "rivers": "rivers.gpkg",
    "roads": "roads.gpkg",
    "settlements": "settlements.gpkg",
    "townships": "townships.gpkg",
    "events": {"geological": "events/geological_points.gpkg", "wildfire": "events/fire_points.gpkg"},
    "capacity": "capacity/township_capacity.csv",
    "shelters": "shelters/shelters.gpkg",
    "shelter_candidates": "shelters/candidates.gpkg",
    "depots": "shelters/depots.gpkg",
    "yearly_statistics": "stats/yearly_statistics.csv",
    "disasters": "disasters/历史灾情.csv",
}
"""Files of the demo, relative to its folder (the layout of ``configs/config.yaml``)."""

SURVEY_SOURCES = [
    {"path": "survey/内涝点.csv", "category": "waterlogging", "encoding": "auto", "coords": "auto"},
    {"path": "survey/大型起重设备.xlsx", "category": "crane"},
    {"path": "survey/电力设施.gpkg", "category": "power"},
    {"path": "survey/广告牌.geojson", "category": "billboard"},
    {"path": "survey/园林设施.csv", "category": "garden", "coords": "gcj02"},
]

EVENT_COUNTS = {"geological": 300, "wildfire": 250, "waterlogging": 200}
"""Events for a Lingyuan-sized area (3,287 km²); proportional to area, at least 40."""

GEO_TYPES = {"landslide": "滑坡", "collapse": "崩塌", "debris_flow": "泥石流"}


def is_lingyuan(aoi_ll, area_km2: float) -> bool:
    """Whether the AOI is 凌源市-sized and placed (then the real township names are used)."""
    c = shapely.union_all(aoi_ll.geometry.values).centroid
    x0, y0, x1, y1 = nm.LINGYUAN_BBOX
    return bool(x0 <= c.x <= x1 and y0 <= c.y <= y1 and 1500.0 <= area_km2 <= 6000.0)


def generate(aoi_gdf, out_dir, seed: int = 42, crs: str = "EPSG:4549", res: float = 30.0, *,
             aoi_path: str | None = None, area_name: str | None = None, chunk: int = 1024,
             verbose: bool = True) -> dict:
    """Write the synthetic demo for ``aoi_gdf`` into ``out_dir`` and return its config.

    Parameters
    ----------
    aoi_gdf : GeoDataFrame
        The area of interest (any CRS; dissolved here).
    out_dir : path
        Output folder; config paths are relative to the working directory when it is relative.
    seed : int
        Random seed: the same seed gives the same bytes in every file.
    crs, res : str, float
        Projected CRS and cell size (m) of the analysis grid.
    aoi_path : str, optional
        Path of the AOI file to name in the config; without it the AOI is written to ``out_dir/aoi.gpkg``.
    area_name : str, optional
        ``area_name`` for the config.
    chunk : int
        Dask chunk size recorded in the config.
    verbose : bool
        Print progress lines to stderr.

    Returns
    -------
    dict
        The config written to ``out_dir/config.yaml``.
    """
    log = Progress(verbose)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if aoi_gdf.crs is None:
        aoi_gdf = aoi_gdf.set_crs("OGC:CRS84")
    aoi_p = aoi_gdf.to_crs(crs)
    aoi_geom = shapely.make_valid(shapely.union_all(aoi_p.geometry.values))
    parts = [g for g in shapely.get_parts(aoi_geom) if g.geom_type in ("Polygon", "MultiPolygon") and g.area > 0]
    if not parts:
        raise ValueError("the area of interest has no polygon area")
    aoi_geom = shapely.union_all(parts)
    aoi_p = gpd.GeoDataFrame(geometry=[aoi_geom], crs=crs)
    aoi_ll = aoi_p.to_crs("EPSG:4326")
    area_km2 = aoi_geom.area / 1e6
    real = is_lingyuan(aoi_ll, area_km2)
    grid = Grid.from_aoi(aoi_p, crs, res, chunk)
    log(f"AOI {area_km2:,.0f} km²; grid {grid.width} x {grid.height} = {grid.size / 1e6:.1f} Mpx at {res:g} m "
        f"({'Lingyuan township names' if real else 'generic township names'})")

    bound_heap()  # freed bands go back to the system (glibc would otherwise keep them on its heap)
    store = Store()  # full-grid layers wait on disk between the steps that need them
    try:
        return _generate(store, log, out, seed, crs, res, aoi_p, aoi_geom, aoi_ll, area_km2, real, grid, aoi_path,
                         area_name, chunk)
    finally:
        store.close()


def _generate(store, log, out: Path, seed: int, crs: str, res: float, aoi_p, aoi_geom, aoi_ll, area_km2: float,
              real: bool, grid: Grid, aoi_path, area_name, chunk: int) -> dict:
    """The steps of :func:`generate`; ``store`` holds the layers a later step reads again."""
    # -- terrain ------------------------------------------------------------------------------------
    terrain = build_terrain(rng_for(seed, "terrain"), aoi_geom.bounds, crs, res, real)
    dem = fine_dem(terrain, grid, rng_for(seed, "hills"), store)  # river_dist, hand, water -> store
    for name, arr in zip(("slope", "south"), slope_aspect(dem, res), strict=True):
        store.put(name, arr)
        del arr
    log("writing dem.tif")
    write_raster(dem, out / INPUTS["dem"], grid, nodata=np.nan, dtype="float32",
                 tags={"units": "m", "source": "synthetic demo (risk.demo)", "seed": seed},
                 band_description="elevation (m)")
    store.put("dem", dem)
    del dem

    # -- townships, settlements, roads, rivers ------------------------------------------------------------
    cl = landscape.coarse_layers(terrain, aoi_geom)
    n_units = nm.N_LINGYUAN_UNITS if real else int(np.clip(round(area_km2 / 110.0), 3, 60))
    rng_l = rng_for(seed, "landscape")
    seats = landscape.place_seats(rng_l, cl, terrain, aoi_geom, n_units, real)
    landscape.name_seats(seats, real)
    townships = landscape.township_polygons(cl, landscape.allocate(cl, seats), seats, aoi_geom)

    def town_of(xs, ys):
        return landscape.township_of(townships, xs, ys)

    settlements = landscape.place_settlements(rng_l, cl, seats, aoi_geom, area_km2, real)
    settlements["township"] = town_of(settlements.geometry.x.to_numpy(), settlements.geometry.y.to_numpy())
    roads = landscape.build_roads(rng_for(seed, "roads"), cl, terrain, seats, settlements, area_km2, real)
    rivers = _rivers_frame(terrain, crs)
    for name, gdf in (("rivers", rivers), ("roads", roads), ("townships", townships)):
        log(f"writing {INPUTS[name]} ({len(gdf)} features)")
        write_vector(gdf, out / INPUTS[name], styles=False)
    log(f"writing settlements.gpkg ({len(settlements)} settlements, {int(settlements['population'].sum()):,} people)")
    write_vector(settlements[["name", "kind", "population", "township", "geometry"]], out / INPUTS["settlements"],
                 styles=False)

    # -- land cover and population -----------------------------------------------------------------------
    aoi = make_aoi_mask(aoi_p, grid, dask_=False).values
    rng_c = rng_for(seed, "landcover")
    built = landcover.built_up(rng_c, grid, settlements, store["slope"], store["water"])
    srow, scol = grid.rowcol(settlements.geometry.x.to_numpy(), settlements.geometry.y.to_numpy())
    smask = np.zeros(grid.shape, dtype=bool)
    ok = grid.inside(srow, scol)
    smask[srow[ok], scol[ok]] = True
    store.put("d_settlement", distance_to(smask, res))
    del smask
    lc = landcover.classify(rng_c, grid, built, store)
    del built
    shares = {c["key"]: float(np.mean(lc[aoi] == c["code"])) for c in landcover.LANDCOVER_CLASSES}
    log("writing landcover.tif (" + ", ".join(f"{k} {v:.0%}" for k, v in shares.items()) + ")")
    tags = {f"class_{c['code']}": f"{c['key']} {c['name']} {c['name_en']}" for c in landcover.LANDCOVER_CLASSES}
    tags.update({"class_0": "nodata", "source": "synthetic demo (risk.demo)", "seed": seed})
    write_raster(lc, out / INPUTS["landcover"], grid, nodata=0, dtype="uint8", tags=tags,
                 band_description="land cover class", colormap=landcover.LANDCOVER_COLORS)
    pop = landcover.population(grid, settlements, lc, aoi)
    log(f"writing population.tif ({float(pop[aoi].sum()):,.0f} people in the AOI)")
    write_raster(pop, out / INPUTS["population"], grid, nodata=np.nan, dtype="float32",
                 tags={"units": "persons per cell", "source": "synthetic demo (risk.demo)", "seed": seed},
                 band_description="population (persons per cell)")
    store.put("pop", pop)
    del pop

    # -- coarse climate / hazard grids -------------------------------------------------------------------
    g4 = climate.climate_grid(aoi_ll)
    fields = climate.climate_fields(rng_for(seed, "climate"), g4, terrain, crs, aoi_geom.bounds)
    for key, arr in fields.items():
        units, desc = climate.CLIMATE_META[key]
        log(f"writing {INPUTS[key]} ({g4.width} x {g4.height} cells of {climate.CELL_DEG}°, EPSG:4326)")
        write_raster(arr, out / INPUTS[key], g4, nodata=np.nan, dtype="float32",
                     tags={"units": units, "description": desc, "seed": seed}, band_description=f"{key} ({units})")
    store.put("rain", read_raster_on_grid(out / INPUTS["rain_max24h"], grid, "bilinear", dask_=False).values)

    # -- truth surfaces and events ------------------------------------------------------------------------
    rmask = rasterize(((g, 1) for g in roads.geometry), out_shape=grid.shape, transform=grid.transform, fill=0,
                      all_touched=True, dtype="uint8") > 0
    store.put("d_road", distance_to(rmask, res))
    del rmask
    inputs = _Layers(store, {"lc": lc, "d_river": "river_dist"})
    same = {"slope": "slope", "southness": "south", "rain": "rain"}  # covariates that are stored layers as they are
    for name in events.COVARIATES:  # made one at a time, kept on disk
        if name not in same:
            store.put(f"cov_{name}", events.covariate(name, res, inputs))
    cov = _Layers(store, {name: same.get(name, f"cov_{name}") for name in events.COVARIATES})
    counts = {h: scale_count(n, area_km2, 40) for h, n in EVENT_COUNTS.items()}
    used, points = {}, {}
    for hazard in ("waterlogging", "geological", "wildfire"):
        p, used[hazard] = events.truth_surface(hazard, cov, lc, aoi, counts[hazard])
        log(f"writing truth/{hazard}.tif")
        write_raster(p, out / "truth" / f"{hazard}.tif", grid, nodata=np.nan, dtype="float32",
                     tags={"hazard": hazard, "model": "logistic of standardised covariates, see README.md",
                           "intercept": f"{used[hazard]['intercept']:.6f}", "seed": seed},
                     band_description=f"true event probability per cell ({hazard})")
        points[hazard] = events.draw_events(rng_for(seed, f"events-{hazard}"), p, aoi, counts[hazard], grid,
                                            aoi_geom)
        store.put(f"truth_{hazard}", p)
        del p
    factors, record = _disaster_record(out, seed, grid, townships, store, lc, aoi_p, area_km2, town_of, log)
    write_text(events.truth_readme(used, counts, res) + "\n" + disasters.readme(factors, record),
               out / "truth" / "README.md")
    _write_events(out, points, cov, lc, crs, seed)

    # -- survey files -------------------------------------------------------------------------------------
    wl_x, wl_y, wl_r, wl_c = points["waterlogging"]
    sampler = _Sampler(rng_for(seed, "survey-points"), grid, aoi_geom, lc, store["pop"], aoi, cov["prox_road"],
                       settlements, seats)
    ctx = survey_files.Context(rng_for(seed, "survey"), crs, aoi_geom, townships, settlements, real, area_km2,
                               sampler)
    kept: dict = {}
    planted = survey_files.write_survey(ctx, out, (wl_x, wl_y), lc[wl_r, wl_c] == landcover.BUILT_UP, log, kept)
    n_rows = _survey_row_counts(out)
    write_text(survey_files.survey_readme(planted, n_rows), out / "survey" / "README.md")
    round2.write_round2(seed, out, kept, crs, aoi_geom, real, log)  # a later census round (risk.followup)

    # -- facilities, capacity, statistics ------------------------------------------------------------------
    def usable_site(px, py) -> bool:
        r, c = grid.rowcol([px], [py])
        if not grid.inside(r, c)[0]:
            return False
        return bool(lc[r[0], c[0]] != landcover.WATER and store.at("slope", r[:1], c[:1])[0] < 15.0)

    r_city = float(settlements.loc[settlements["role"] == "city", "radius_m"].max() if
                   (settlements["role"] == "city").any() else 1000.0) * 2.0
    fac = facilities.facilities(rng_for(seed, "facilities"), seats, aoi_geom, crs, real, r_city, usable_site)
    for key, file_key in (("shelters", "shelters"), ("candidates", "shelter_candidates"), ("depots", "depots")):
        log(f"writing {INPUTS[file_key]} ({len(fac[key])} features)")
        write_vector(fac[key], out / INPUTS[file_key], styles=False)
    cap = facilities.capacity_table(rng_for(seed, "capacity"), townships, seats, settlements, fac["shelters"],
                                    town_of)
    log(f"writing {INPUTS['capacity']}")
    write_table(cap, out / INPUTS["capacity"])
    write_text(facilities.readme_capacity(), out / "capacity" / "README.md")
    log(f"writing {INPUTS['yearly_statistics']}")
    write_table(facilities.yearly_statistics(rng_for(seed, "stats"), int(settlements["population"].sum())),
                out / INPUTS["yearly_statistics"])

    # -- config -----------------------------------------------------------------------------------------------
    if aoi_path is None:
        aoi_path = (out / "aoi.gpkg").as_posix()
        write_vector(aoi_p, out / "aoi.gpkg", styles=False)
    cfg = make_config(out, aoi_path, area_name or ("凌源市 Lingyuan" if real else "Demo area"), seed, crs, res, chunk)
    text = ("# Synthetic demo inputs written by `python -m risk demo` (risk.demo.generate).\n"
            f"# seed {seed}; grid {grid.width} x {grid.height} cells of {res:g} m on {crs}.\n"
            "# land cover: " + ", ".join(f"{c['code']} {c['key']} {c['name']}" for c in landcover.LANDCOVER_CLASSES)
            + " (0 nodata)\n"
            + yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False, default_flow_style=False, width=110))
    write_text(text, out / "config.yaml")
    log(f"done: {out}")
    return cfg


def make_config(out: Path, aoi_path: str, area_name: str, seed: int, crs: str, res: float, chunk: int) -> dict:
    """The pipeline config naming the demo files (paths relative to the working directory if ``out`` is)."""

    def p(rel: str) -> str:
        return (out / rel).as_posix()

    inputs = {k: ({kk: p(vv) for kk, vv in v.items()} if isinstance(v, dict) else p(v)) for k, v in INPUTS.items()}
    sources = [{**s, "path": p(s["path"])} for s in SURVEY_SOURCES]
    return {
        "results_dir": default_results_dir(area_name),  # its own folder: the demo's results/ stays the demo's
        "aoi": str(aoi_path),
        "area_name": area_name,
        "demo": {"enabled": False, "out": out.as_posix(), "seed": int(seed)},
        "grid": {"crs": crs, "resolution": int(res) if float(res).is_integer() else float(res), "chunk_size": int(chunk)},
        "inputs": inputs,
        "survey": {"aoi_tolerance_m": 500, "sources": sources},
        "landcover_classes": {str(c["code"]): c["key"] for c in landcover.LANDCOVER_CLASSES},
    }


def _disaster_record(out: Path, seed: int, grid: Grid, townships, store, lc, aoi_p, area_km2: float,
                     town_of, log) -> tuple[dict, dict]:
    """Write ``truth/harm_<hazard>.tif`` and the historical-disaster record (:mod:`risk.demo.disasters`).

    The truth surfaces (``truth_<hazard>``) and the population (``pop``) are read from ``store`` a band of
    rows at a time."""
    from pyproj import Transformer

    rng = rng_for(seed, "disasters")
    factors = disasters.fragility(rng, townships["name"])
    labels = rasterize(((g, i + 1) for i, g in enumerate(townships.geometry)), out_shape=grid.shape,
                       transform=grid.transform, fill=0, dtype="uint8" if len(townships) < 255 else "int32")
    factor_of = np.array([1.0] + [factors[str(n)] for n in townships["name"]], dtype="f4")
    to_ll = Transformer.from_crs(aoi_p.crs, "EPSG:4326", always_xy=True).transform
    frames, counts = [], {}
    for hazard in disasters.RECORD_COUNTS:
        harm, exposed = np.empty(grid.shape, "f4"), np.empty(grid.shape, "f4")
        for r0 in range(0, grid.height, ROWS):
            r1 = min(r0 + ROWS, grid.height)
            harm[r0:r1], exposed[r0:r1] = disasters.harm_surface(
                hazard, store.rows(f"truth_{hazard}", r0, r1), store.rows("pop", r0, r1), lc[r0:r1],
                factor_of[labels[r0:r1]])
        write_raster(harm, out / "truth" / f"harm_{hazard}.tif", grid, nodata=np.nan, dtype="float32",
                     tags={"hazard": hazard, "model": "p * people * v[land cover] * f[township], see README.md"},
                     band_description=f"planted expected harm per cell ({hazard}), people")
        counts[hazard] = scale_count(disasters.RECORD_COUNTS[hazard], area_km2, 30)
        frames.append(disasters.draw_record(rng, hazard, harm, exposed, counts[hazard], grid, town_of, to_ll))
        del harm, exposed
    import pandas as pd

    record = pd.concat(frames, ignore_index=True)
    log(f"writing {INPUTS['disasters']} ({len(record)} disasters)")
    write_table(record, out / INPUTS["disasters"])
    return factors, counts


class _Layers:
    """Layers by name: in memory, or read from the store (``{name: array or store key}``, else the name)."""

    def __init__(self, store, names: dict):
        self.store, self.names = store, names

    def __getitem__(self, name: str) -> np.ndarray:
        v = self.names.get(name, name)
        return self.store[v] if isinstance(v, str) else v

    def at(self, name: str, rows, cols) -> np.ndarray:
        v = self.names.get(name, name)
        return self.store.at(v, rows, cols) if isinstance(v, str) else v[rows, cols]


def _rivers_frame(terrain, crs: str):
    pieces = terrain.pieces
    return gpd.GeoDataFrame({"name": [p.name for p in pieces], "class": [p.klass for p in pieces],
                             "order": np.asarray([p.order for p in pieces], dtype=np.int32)},
                            geometry=[shapely.LineString(p.xy) for p in pieces], crs=crs)


def _write_events(out: Path, points: dict, cov: dict, lc: np.ndarray, crs: str, seed: int) -> None:
    rng = rng_for(seed, "event-attributes")
    x, y, r, c = points["geological"]
    slope, prox_road, prox_river = (cov.at(k, r, c) for k in ("slope", "prox_road", "prox_river"))
    w = np.column_stack([np.full(len(x), 0.6), 0.3 + 0.5 * (slope > 25) + 0.4 * prox_road, 0.15 + 0.7 * prox_river])
    k = np.array([rng.choice(3, p=wi / wi.sum()) for wi in w], dtype=np.int64)
    keys = np.array(list(GEO_TYPES))[k]
    geo = gpd.GeoDataFrame({"id": np.arange(1, len(x) + 1, dtype=np.int32), "type": keys,
                            "type_zh": [GEO_TYPES[t] for t in keys],
                            "year": rng.integers(2000, 2025, len(x)).astype(np.int32)},
                           geometry=gpd.points_from_xy(x, y), crs=crs)
    write_vector(geo, out / INPUTS["events"]["geological"], styles=False)
    x, y, r, c = points["wildfire"]
    months = rng.choice([3, 4, 5, 10, 11, 6, 9, 12, 1, 2, 7, 8], size=len(x),
                        p=[0.16, 0.3, 0.1, 0.16, 0.14, 0.02, 0.03, 0.03, 0.02, 0.02, 0.01, 0.01])
    years = rng.integers(2010, 2025, len(x))
    days = rng.integers(1, 29, len(x))
    dates = [dt.date(int(a), int(b), int(d)).isoformat() for a, b, d in zip(years, months, days, strict=True)]
    fire = gpd.GeoDataFrame({"id": np.arange(1, len(x) + 1, dtype=np.int32), "date": dates,
                             "landcover": [landcover.LANDCOVER_KEYS.get(int(v), "nodata") for v in lc[r, c]]},
                            geometry=gpd.points_from_xy(x, y), crs=crs)
    write_vector(fire, out / INPUTS["events"]["wildfire"], styles=False)


class _Sampler:
    """Points inside the AOI for the survey: ``sampler(kind, n) -> (x, y)`` (projected)."""

    def __init__(self, rng, grid: Grid, aoi_geom, lc, pop, aoi, prox_road, settlements, seats):
        self.rng, self.grid, self.aoi_geom = rng, grid, aoi_geom
        self.flat = aoi_cells(aoi)  # AOI cells (int32); the weights below are over these only
        lc_a = lc.ravel()[self.flat]
        self.pop = pop.ravel()[self.flat]  # float32, widened where weights are made (the same values)
        self.built = lc_a == landcover.BUILT_UP
        self.land = lc_a != landcover.WATER
        self.prox_road = prox_road.ravel()[self.flat]
        self.settlements, self.seats = settlements, seats

    def _cells(self, weight: np.ndarray, n: int):
        from risk.demo.common import weighted_sample

        if not (weight > 0).any():
            weight = np.ones(len(self.flat))
        pick = self.flat[weighted_sample(self.rng, weight, n)].astype(np.int64)
        rows, cols = np.divmod(pick, self.grid.width)
        g = self.grid
        x = g.xmin + (cols + self.rng.uniform(0.05, 0.95, len(pick))) * g.res
        y = g.ymax - (rows + self.rng.uniform(0.05, 0.95, len(pick))) * g.res
        out = ~shapely.contains_xy(self.aoi_geom, x, y)
        x[out] = g.xmin + (cols[out] + 0.5) * g.res
        y[out] = g.ymax - (rows[out] + 0.5) * g.res
        return x, y

    def _around(self, xs, ys, n: int, r_max: float):
        x, y = np.empty(n), np.empty(n)
        for i in range(n):
            j = int(self.rng.integers(0, len(xs)))
            for _ in range(50):
                r, a = self.rng.uniform(0, r_max), self.rng.uniform(0, 2 * np.pi)
                px, py = xs[j] + r * np.cos(a), ys[j] + r * np.sin(a)
                if shapely.contains_xy(self.aoi_geom, px, py):
                    break
            else:
                px, py = xs[j], ys[j]
            x[i], y[i] = px, py
        return x, y

    def __call__(self, kind: str, n: int):
        if kind == "built_pop":
            return self._cells(self.built * self.pop.astype("f8"), n)
        if kind == "built_road":
            return self._cells(self.built * self.pop.astype("f8") * self.prox_road, n)
        if kind == "settled":
            return self._cells(self.pop.astype("f8") * self.land, n)
        if kind == "land":
            return self._cells(self.land.astype("f8"), n)
        if kind == "seat":
            return self._around(np.array([s.x for s in self.seats]), np.array([s.y for s in self.seats]), n, 1500.0)
        if kind == "village":
            v = self.settlements[self.settlements["kind"] == "village"]
            if len(v) == 0:
                v = self.settlements
            return self._around(v.geometry.x.to_numpy(), v.geometry.y.to_numpy(), n, 400.0)
        raise ValueError(kind)


def _survey_row_counts(out: Path) -> dict:
    d = out / "survey"
    counts = {}
    for f in ("内涝点.csv", "园林设施.csv"):
        counts[f] = len((d / f).read_bytes().splitlines()) - 1
    from openpyxl import load_workbook

    counts["大型起重设备.xlsx"] = load_workbook(d / "大型起重设备.xlsx", read_only=True).active.max_row - 1
    for f in ("电力设施.gpkg", "广告牌.geojson"):
        counts[f] = len(gpd.read_file(d / f, engine="pyogrio"))
    return counts

