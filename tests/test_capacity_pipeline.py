"""The capacity stage's six scripts run on a tiny synthetic county (a mocked ``snakemake`` object)."""

import runpy
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine
from shapely.geometry import LineString, Point, box

from risk import HAZARDS, io
from risk.capacity.capacity_index import TABLE_COLUMNS
from risk.config import load_yaml
from risk.grid import Grid
from tests.conftest import ROOT

SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
SCRIPTS = ROOT / "workflow" / "scripts"


def defaults(section):
    """The schema's defaults of one config section (what validate_config fills in), that section alone."""
    import tempfile

    import yaml

    from risk.config import validate_config

    sub = {"type": "object", "properties": {section: load_yaml(SCHEMA)["properties"][section]}}
    with tempfile.TemporaryDirectory() as d:
        path = f"{d}/schema.yaml"
        with open(path, "w", encoding="utf-8") as fh:
            yaml.safe_dump(sub, fh, allow_unicode=True)
        return validate_config({}, path)[section]


class Named(SimpleNamespace):
    """Attribute access like Snakemake's Namedlist, plus ``[0]``."""

    def __getitem__(self, i):
        return list(vars(self).values())[i]


def run_script(name, tmp, input, output, params):
    params = {"dask": {"scheduler": "threads", "n_workers": 1}, **params}
    sm = SimpleNamespace(input=Named(**input), output=Named(**output), params=Named(**params),
                         log=[str(tmp / "logs" / f"{name}.log")], wildcards=Named())
    runpy.run_path(str(SCRIPTS / f"{name}.py"), run_name="not_main")["main"](sm)


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("capacity")
    grid = Grid.from_bounds((500_000, 4_500_000, 503_000, 4_502_400), "EPSG:4549", 30, chunk=32)  # 80 x 100
    r = tmp / "results"
    io.write_text(grid.to_json(), r / "grid" / "grid.json")
    mask = np.ones(grid.shape, "uint8")
    mask[:, :2] = 0
    io.write_raster(mask, r / "grid" / "aoi_mask.tif", grid, nodata=None, dtype="uint8")
    yy, xx = np.mgrid[0:grid.height, 0:grid.width]
    slope = (5 + 25 * (xx / grid.width)).astype("f4")
    io.write_raster(np.where(mask > 0, slope, np.nan), r / "indicators" / "terrain" / "slope.tif", grid)
    risk = (0.1 + 0.8 * (yy / grid.height) * (xx / grid.width)).astype("f4")
    risk = np.where(mask > 0, risk, np.nan)
    io.write_raster(risk, r / "risk" / "multi_hazard.tif", grid)
    zones = np.where(mask > 0, np.clip(1 + np.nan_to_num(risk * 5).astype("uint8"), 1, 5), 0).astype("uint8")
    for h in [*HAZARDS, "multi_hazard"]:
        z = zones if h in ("multi_hazard", "geological") else np.where(mask > 0, 1, 0).astype("uint8")
        io.write_raster(z, r / "zoning" / f"{h}.tif", grid, nodata=0, dtype="uint8")
        if h in HAZARDS:  # hazard indices: only the geological hazard varies (high in the south-east)
            hz = risk if h == "geological" else np.where(mask > 0, 0.1, np.nan).astype("f4")
            io.write_raster(hz, r / "hazard" / f"{h}.tif", grid)
    # population at 60 m (coarser than the grid): 8 people per 60 m cell = 2 per 30 m cell
    d = tmp / "data"
    d.mkdir()
    with rasterio.open(d / "population.tif", "w", driver="GTiff", width=50, height=40, count=1, dtype="float32",
                       crs=grid.crs, transform=Affine(60, 0, grid.xmin, 0, -60, grid.ymax), nodata=-1) as dst:
        dst.write(np.full((40, 50), 8.0, "f4"), 1)
    xmin, ymin, xmax, ymax = grid.bounds
    xm, ym = (xmin + xmax) / 2, (ymin + ymax) / 2
    tw = gpd.GeoDataFrame({"code": ["101", "102", "103", "104"], "name": ["北甲镇", "北乙镇", "南丙镇", "南丁镇"]},
                          geometry=[box(xmin, ym, xm, ymax), box(xm, ym, xmax, ymax), box(xmin, ymin, xm, ym),
                                    box(xm, ymin, xmax, ym)], crs=grid.crs)
    tw.to_file(d / "townships.gpkg")
    roads = gpd.GeoDataFrame({"class": ["national", "rural"]},
                             geometry=[LineString([(xmin, ym), (xmax, ym)]), LineString([(xm, ymin), (xm, ymax)])],
                             crs=grid.crs)
    roads.to_file(d / "roads.gpkg")
    gpd.GeoDataFrame({"name": ["县储备库"], "level": ["county"]}, geometry=[Point(xmin + 200, ym)],
                     crs=grid.crs).to_file(d / "depots.gpkg")
    rng = np.random.default_rng(5)
    pts = [Point(x, y) for x, y in zip(rng.uniform(xmin + 100, xmax - 100, 30), rng.uniform(ymin + 100, ymax - 100, 30),
                                       strict=True)]
    sett = gpd.GeoDataFrame({"name": [f"村{i}" for i in range(30)], "kind": "village",
                             "population": rng.integers(200, 2000, 30), "township": "x"}, geometry=pts,
                            crs=grid.crs).to_crs("EPSG:4326")  # reprojected on read
    sett.to_file(d / "settlements.gpkg")
    gpd.GeoDataFrame({"name": ["广场A", "公园B"], "kind": ["park", "park"], "capacity": [3000, 5000],
                      "usable": [1, 0]}, geometry=[Point(xmax - 600, ymax - 600), Point(xmin + 500, ymin + 500)],
                     crs=grid.crs).to_file(d / "shelters.gpkg")
    gpd.GeoDataFrame({"name": [f"学校{i}" for i in range(6)], "kind": ["school", "stadium", "square"] * 2,
                      "capacity": [800, 2000, 1500, 600, 1200, 900]},
                     geometry=[Point(x, y) for x, y in zip(rng.uniform(xmin, xmax, 6), rng.uniform(ymin, ymax, 6),
                                                           strict=True)], crs=grid.crs).to_file(d / "candidates.gpkg")
    cap = pd.DataFrame([["北甲镇", 20000, 10, 1, 50, 20, 60, 5, 100, 80, 800, 6000, 95, 3],
                        ["北乙镇", 15000, 3, 0, 10, 4, 15, 0, 20, 30, 100, 800, 80, 1],
                        ["南丙镇", 18000, 7, 1, 30, 12, 40, 2, 60, 60, 500, 3000, 90, 2],
                        ["104", 12000, 6, 1, 25, 10, 30, 1, 40, 50, 300, 2500, 88, 2]], columns=list(TABLE_COLUMNS))
    io.write_table(cap, d / "capacity.csv")
    stats = pd.DataFrame({"year": [2020, 2021, 2022, 2023, 2024], "population": [65000] * 5,
                          "gdp_100m_yuan": [50, 52, 55, 57, 60], "workers_industry_mining_commerce": [9000] * 5,
                          "safety_deaths": [6, 6, 5, 5, 4], "accidents_total": [20, 19, 18, 18, 17],
                          "accidents_larger_and_above": [1, 1, 0, 1, 0], "natural_disaster_deaths": [0, 0, 1, 0, 0],
                          "people_affected": [9000, 8000, 7000, 8000, 6000],
                          "direct_loss_10k_yuan": [3000, 2000, 2500, 1500, 1000], "fulltime_firefighters": [20] * 5,
                          "first_aid_trained": [900, 1000, 1100, 1200, 1300],
                          "warning_coverage_pct": [86, 88, 89, 91, 92], "relief_hours": [12, 11, 10, 10, 9]})
    io.write_table(stats, d / "stats.csv")
    return tmp, grid


def test_capacity_stage_scripts(county):
    tmp, grid = county
    r, d = tmp / "results", tmp / "data"
    cap_cfg = defaults("capacity")
    run_script("capacity_index", tmp, dict(table=str(d / "capacity.csv"), townships=str(d / "townships.gpkg")),
               dict(gpkg=str(r / "capacity" / "capacity_index.gpkg"), csv=str(r / "capacity" / "capacity_index.csv"),
                    weights=str(r / "capacity" / "weights.csv")),
               dict(crs=grid.crs, **{k: cap_cfg[k] for k in ("normalization", "weighting", "combination", "alpha",
                                                               "ahp", "aggregation", "grading")},
                    max_cr=cap_cfg["max_cr"]))
    ci = io.read_table(r / "capacity" / "capacity_index.csv")
    assert len(ci) == 4 and ci.loc[ci["capacity_index"].idxmax(), "name"] == "北甲镇"
    assert ci.loc[ci["name"] == "南丁镇", "code"].astype(str).item() == "104"
    assert "w_warning_coverage_pct" in ci and "n_warning_coverage_pct" in ci
    gp = gpd.read_file(r / "capacity" / "capacity_index.gpkg", layer="capacity_index")
    assert len(gp) == 4 and gp.geometry.notna().all()
    w = io.read_table(r / "capacity" / "weights.csv")
    assert w["weight"].sum() == pytest.approx(1) and (w["group_cr"] < 0.1).all()

    dask_cfg = {"scheduler": "threads", "n_workers": 2}
    zon = defaults("zoning")
    run_script("comprehensive_risk", tmp,
               dict(multi_hazard=str(r / "risk" / "multi_hazard.tif"), capacity=str(r / "capacity" / "capacity_index.gpkg"),
                    grid=str(r / "grid" / "grid.json")),
               dict(index=str(r / "risk" / "comprehensive.tif"), tif=str(r / "zoning" / "comprehensive.tif"),
                    qml=str(r / "zoning" / "comprehensive.qml")),
               dict(capacity_effect=0.5, method=zon["method"], thresholds=zon["thresholds"],
                    sample_size=zon["sample_size"], dask=dask_cfg))
    comp, _ = io.read_raster(r / "risk" / "comprehensive.tif")
    multi, _ = io.read_raster(r / "risk" / "multi_hazard.tif")
    # one cell by hand: row 10, col 80 lies in 北乙镇
    c = ci.set_index("name").loc["北乙镇", "capacity_index"]
    assert comp[10, 80] == pytest.approx(multi[10, 80] * (1 - 0.5 * c), rel=1e-6)
    with rasterio.open(r / "zoning" / "comprehensive.tif") as src:
        z = src.read(1)
        assert src.dtypes[0] == "uint8" and src.nodata == 0 and src.colormap(1)[5][:3] == (215, 25, 28)
        assert set(np.unique(z)) <= {0, 1, 2, 3, 4, 5} and (z[:, :2] == 0).all()
        assert "ZONING_BREAKS" in src.tags()
    assert "综合风险" in (r / "zoning" / "comprehensive.qml").read_text(encoding="utf-8")

    run_script("priority_townships", tmp,
               dict(capacity=str(r / "capacity" / "capacity_index.gpkg"), multi_hazard=str(r / "risk" / "multi_hazard.tif"),
                    zones=str(r / "zoning" / "multi_hazard.tif"), comprehensive=str(r / "risk" / "comprehensive.tif"),
                    population=str(d / "population.tif"), grid=str(r / "grid" / "grid.json")),
               dict(csv=str(r / "capacity" / "priority_townships.csv"), png=str(r / "capacity" / "priority_townships.png")),
               dict(priority=cap_cfg["priority"], area_name="测试县 Test", dask=dask_cfg))
    pt = io.read_table(r / "capacity" / "priority_townships.csv")
    assert len(pt) == 4 and {"priority", "three_high_one_low", "reason"} <= set(pt.columns)
    # population read at 60 m and rescaled: 2 people per 30 m cell inside the AOI (columns 2-99; the grid's
    # last column lies beyond the population raster)
    assert grid.shape == (80, 101)
    assert pt["population_grid"].sum() == pytest.approx(2.0 * 80 * 98, rel=1e-6)
    # the south-east township has the highest risk and weak capacity in this world
    assert pt.iloc[0]["name"] in ("南丁镇", "北乙镇", "南丙镇")
    assert (r / "capacity" / "priority_townships.png").stat().st_size > 10_000

    sh = defaults("shelters")
    sh.update(max_distance_m=800.0, hazards=list(HAZARDS))
    run_script("shelters", tmp,
               dict(settlements=str(d / "settlements.gpkg"), shelters=str(d / "shelters.gpkg"),
                    candidates=str(d / "candidates.gpkg"), townships=str(d / "townships.gpkg"),
                    zones=Named(**{h: str(r / "hazard" / f"{h}.tif") for h in HAZARDS}),
                    multi_hazard=str(r / "zoning" / "multi_hazard.tif"), grid=str(r / "grid" / "grid.json")),
               {k: str(r / "shelters" / v) for k, v in dict(
                   coverage_gpkg="settlement_coverage.gpkg", coverage_csv="settlement_coverage.csv", gaps="gaps.csv",
                   load="shelter_load.csv", sites_gpkg="selected_sites.gpkg", sites_csv="selected_sites.csv",
                   png="shelters.png").items()},
               dict(**sh, zoning=zon, area_name="测试县"))
    cov = io.read_table(r / "shelters" / "settlement_coverage.csv")
    assert len(cov) == 30 and cov["hazard_prone"].any() and not cov["hazard_prone"].all()
    assert set(cov.loc[cov["hazard_prone"], "prone_hazards"]) == {"geological"}
    assert (cov["zone_wind"] == 1).all() and cov["zone_geological"].between(1, 5).all()
    gaps = io.read_table(r / "shelters" / "gaps.csv")
    assert gaps["gap"].sum() == pytest.approx(cov["gap"].sum())
    sites = io.read_table(r / "shelters" / "selected_sites.csv")
    assert sites["cumulative_share"].is_monotonic_increasing and (sites["cumulative_share"] <= 1 + 1e-9).all()
    assert len(gpd.read_file(r / "shelters" / "selected_sites.gpkg", layer="selected_sites")) == len(sites)

    ac = defaults("access")
    run_script("relief_access", tmp,
               dict(depots=str(d / "depots.gpkg"), roads=str(d / "roads.gpkg"),
                    slope=str(r / "indicators" / "terrain" / "slope.tif"), population=str(d / "population.tif"),
                    zones=str(r / "zoning" / "multi_hazard.tif"), townships=str(d / "townships.gpkg"),
                    mask=str(r / "grid" / "aoi_mask.tif"), grid=str(r / "grid" / "grid.json")),
               dict(hours=str(r / "access" / "relief_hours.tif"), reach=str(r / "access" / "reach_by_township.csv"),
                    png=str(r / "access" / "relief_hours.png")),
               dict(**{k: ac[k] for k in ("road_speeds_kmh", "unknown_road_kmh", "offroad", "dispatch_hours",
                                          "max_hours", "high_levels", "coarsen", "max_search_cells")},
                    area_name="测试县", dask=dask_cfg))
    hrs, _ = io.read_raster(r / "access" / "relief_hours.tif")
    assert np.isnan(hrs[:, :2]).all() and np.isfinite(hrs[:, 2:]).all()
    # one travel time by hand: east along the national road (row of ym) at 60 km/h from the depot
    row = grid.rowcol([grid.xmin], [(grid.bounds[1] + grid.bounds[3]) / 2])[0][0]
    c0 = grid.rowcol([grid.xmin + 200], [0])[1][0]
    assert hrs[row, c0 + 20] - hrs[row, c0] == pytest.approx(20 * 30 / 60_000, rel=1e-4)
    reach = io.read_table(r / "access" / "reach_by_township.csv")
    assert list(reach["code"].astype(str)) == ["101", "102", "103", "104", "total"]
    assert reach["share_high_risk_reached"].dropna().between(0, 1).all()

    tg = defaults("targets")
    run_script("plan_targets", tmp, dict(table=str(d / "stats.csv")),
               dict(csv=str(r / "targets" / "progress.csv"), png=str(r / "targets" / "progress.png")),
               dict(baseline_year=tg["baseline_year"], target_year=tg["target_year"], period_start=tg["period_start"],
                    baselines=tg["baselines"], indicators=tg["indicators"]))
    prog = io.read_table(r / "targets" / "progress.csv")
    assert len(prog) == 12 and set(prog["status"]) <= {"achieved", "on_track", "off_track", "no_data"}
    assert (r / "targets" / "progress.png").stat().st_size > 20_000


def test_bad_capacity_table_names_the_file(county, tmp_path):
    tmp, grid = county
    d = tmp / "data"
    bad = io.read_table(d / "capacity.csv").astype(str)
    bad.loc[2, "hospital_beds"] = "四十"
    io.write_table(bad, tmp_path / "bad.csv")
    cap_cfg = defaults("capacity")
    with pytest.raises(ValueError, match=r"bad\.csv, line 4 \(南丙镇\), column 'hospital_beds'"):
        run_script("capacity_index", tmp_path, dict(table=str(tmp_path / "bad.csv"), townships=str(d / "townships.gpkg")),
                   dict(gpkg=str(tmp_path / "c.gpkg"), csv=str(tmp_path / "c.csv"), weights=str(tmp_path / "w.csv")),
                   dict(crs=grid.crs, **{k: cap_cfg[k] for k in ("normalization", "weighting", "combination", "alpha",
                                                                   "ahp", "aggregation", "grading", "max_cr")}))
