"""Validation at the door: a hostile corpus of bad inputs, each stopped with one message naming its culprit.

Every case starts from a small, clean synthetic input set (all checks pass, no warning), spoils one thing,
and asserts what :func:`risk.validate.check_inputs` (the rule ``validate_inputs``) and ``risk validate`` say.
"""

from __future__ import annotations

import subprocess
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
import yaml
from rasterio.transform import from_origin
from shapely.geometry import LineString, Point, Polygon, box

from risk.capacity.capacity_index import TABLE_COLUMNS
from risk.capacity.plan_targets import STATISTICS_COLUMNS
from risk.checks import ERROR, WARNING, gauss_kruger_epsg, problems_frame
from risk.config import validate_config
from risk.validate import SCHEMA, check_inputs
from tests.conftest import ROOT

CRS = "EPSG:4549"
X0, Y0, X1, Y1 = 440_000.0, 4_560_000.0, 446_000.0, 4_566_000.0  # the study area, 6 x 6 km near 119.3E 41.2N
RES = 100.0
TOWNS = [("T1", "东镇"), ("T2", "西镇")]


def _raster(path, values, crs=CRS, bounds=(X0 - 500, Y0 - 500, X1 + 500, Y1 + 500), nodata=np.nan,
            dtype="float32"):
    values = np.asarray(values, dtype=dtype)
    h, w = values.shape
    left, bottom, right, top = bounds
    transform = from_origin(left, top, (right - left) / w, (top - bottom) / h)
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=1, dtype=dtype, crs=crs,
                       transform=transform, nodata=nodata) as dst:
        dst.write(values, 1)
    return str(path)


def _field(lo, hi, shape=(70, 70), seed=0):
    return np.random.default_rng(seed).uniform(lo, hi, shape)


def _gpkg(path, geoms, crs=CRS, **columns):
    gpd.GeoDataFrame(columns, geometry=list(geoms), crs=crs).to_file(path, engine="pyogrio")
    return str(path)


def _town_polys():
    xm = (X0 + X1) / 2
    return [box(X0, Y0, xm, Y1), box(xm, Y0, X1, Y1)]


def _capacity_rows():
    rows = []
    for i, (_, name) in enumerate(TOWNS):
        row = {k: str(10 + i) for k in TABLE_COLUMNS}
        row.update(township=name, risk_assessment_done="1", warning_coverage_pct="90")
        rows.append(row)
    return pd.DataFrame(rows)


def _statistics_rows():
    rows = [{k: str(100 + y) for k in STATISTICS_COLUMNS} | {"year": str(y), "warning_coverage_pct": "80"}
            for y in range(2020, 2024)]
    return pd.DataFrame(rows)


@pytest.fixture
def world(clean_world, tmp_path):
    """A fresh copy of the clean input set and its config; ``world["config"]["inputs"]`` are the paths."""
    import shutil

    d = tmp_path / "world"
    shutil.copytree(clean_world["dir"], d)
    text = yaml.safe_dump(clean_world["config"], allow_unicode=True).replace(str(clean_world["dir"]), str(d))
    return {"dir": d, "config": yaml.safe_load(text)}


@pytest.fixture(scope="module")
def clean_world(tmp_path_factory):
    """A clean input set (every check passes) and its config, made once."""
    d = tmp_path_factory.mktemp("clean_world")
    aoi = gpd.GeoDataFrame(geometry=[box(X0, Y0, X1, Y1)], crs=CRS).to_crs("OGC:CRS84")
    aoi.to_file(d / "aoi.geojson", engine="pyogrio")
    lon_bounds = aoi.total_bounds
    inputs = {
        "dem": _raster(d / "dem.tif", _field(200, 800)),
        "landcover": _raster(d / "landcover.tif", np.random.default_rng(1).integers(1, 6, (70, 70)), nodata=0,
                             dtype="uint8"),
        "population": _raster(d / "population.tif", _field(0, 50)),
        "rain_max24h": _raster(d / "rain.tif", _field(80, 150, (12, 12)), crs="EPSG:4326",
                               bounds=(lon_bounds[0] - 0.02, lon_bounds[1] - 0.02, lon_bounds[2] + 0.02,
                                       lon_bounds[3] + 0.02)),
        "pga": _raster(d / "pga.tif", _field(0.1, 0.2, (10, 10))),
        "wind50": _raster(d / "wind.tif", _field(20, 30, (10, 10)), crs="EPSG:3857",
                          bounds=tuple(gpd.GeoSeries([box(X0 - 900, Y0 - 900, X1 + 900, Y1 + 900)], crs=CRS)
                                       .to_crs("EPSG:3857").total_bounds)),
        "rivers": _gpkg(d / "rivers.gpkg", [LineString([(X0, Y0 + 100), (X1, Y1 - 100)])], name=["河"]),
        "roads": _gpkg(d / "roads.gpkg", [LineString([(X0, Y1 - 50), (X1, Y0 + 50)])], **{"class": ["county"]}),
        "settlements": _gpkg(d / "settlements.gpkg", [Point(X0 + 1000, Y0 + 1000), Point(X1 - 1000, Y1 - 1000)],
                             name=["甲村", "乙村"], population=[300, 500]),
        "townships": _gpkg(d / "townships.gpkg", _town_polys(), code=[c for c, _ in TOWNS],
                           name=[n for _, n in TOWNS]),
        "events": {"geological": _gpkg(d / "events.gpkg", [Point(X0 + 2000, Y0 + 3000)], id=[1]),
                   "wildfire": _gpkg(d / "fires.gpkg", [Point(X0 + 4000, Y0 + 3000)], id=[1])},
        "shelters": _gpkg(d / "shelters.gpkg", [Point(X0 + 1500, Y0 + 1500)], name=["学校"], capacity=[800]),
        "shelter_candidates": _gpkg(d / "candidates.gpkg", [Point(X1 - 1500, Y0 + 1500)], name=["广场"],
                                    capacity=[1200]),
        "depots": _gpkg(d / "depots.gpkg", [Point(X0 + 3000, Y0 + 3000)], name=["库"]),
        "capacity": str(d / "capacity.csv"),
        "yearly_statistics": str(d / "stats.csv"),
    }
    _capacity_rows().to_csv(inputs["capacity"], index=False)
    _statistics_rows().to_csv(inputs["yearly_statistics"], index=False)
    lon, lat = gpd.GeoSeries([Point((X0 + X1) / 2, (Y0 + Y1) / 2)], crs=CRS).to_crs("OGC:CRS84").iloc[0].coords[0]
    pd.DataFrame({"编号": ["A1", "A2"], "经度": [lon, lon + 0.001], "纬度": [lat, lat + 0.001],
                  "最大积水深度（m）": ["0.3", "0.5"]}).to_csv(d / "内涝点.csv", index=False, encoding="utf-8-sig")
    config = {"results_dir": str(d / "results"), "aoi": str(d / "aoi.geojson"),
              "grid": {"crs": CRS, "resolution": RES}, "inputs": inputs,
              "input_checks": {"sample_cells": 256},
              "survey": {"sources": [{"path": str(d / "内涝点.csv"), "category": "waterlogging"}]}}
    return {"dir": d, "config": config}


def check(world) -> list:
    config = validate_config(yaml.safe_load(yaml.safe_dump(world["config"], allow_unicode=True)), SCHEMA)
    return check_inputs(config, ROOT)


def only(problems, severity=ERROR):
    found = [p for p in problems if p.severity == severity]
    assert len(found) == 1, "\n".join(map(str, problems))
    return found[0]


def path_of(world, key):
    return world["config"]["inputs"][key]


def test_the_clean_world_passes_without_a_word(world):
    assert check(world) == []


def test_an_input_in_any_crs_and_resolution_is_checked_in_the_area_s_terms(world):
    # rain is on a 0.01-degree lon/lat grid and wind in Web Mercator: both cover the area, nothing to say
    problems = check(world)
    assert not [p for p in problems if "rain" in p.file or "wind" in p.file]


# -- rasters ----------------------------------------------------------------------------------------------
def test_rain_covering_a_third_of_the_area_stops_with_the_uncovered_share(world):
    v = _field(80, 150)
    v[:, 24:] = np.nan  # data on the western third only
    _raster(path_of(world, "rain_max24h"), v)
    p = only(check(world))
    assert p.check == "coverage" and p.file.endswith("rain.tif")
    assert "inputs.rain_max24h" in p.message and "not covered" in p.message
    share = float(p.message.split(" is not covered")[0].split(": ")[-1].split(" %")[0])
    assert 60 < share < 72  # about two thirds of the area uncovered


@pytest.mark.parametrize(("key", "lo", "hi", "bound"), [("rain_max24h", 80, 150, "1 mm"), ("wind50", 20, 30, "1 m/s"),
                                                     ("pga", 0.1, 0.2, "0.001 g")])
def test_a_hazard_raster_clipped_to_a_third_and_filled_with_zeros_is_refused(world, key, lo, hi, bound):
    # the same raster as above, but its uncovered two thirds written as 0 rather than nodata: "covered" by zeros
    v = _field(lo, hi)
    v[:, 24:] = 0
    _raster(path_of(world, key), v, nodata=None)
    p = only(check(world))
    assert p.check == "value_range" and f"inputs.{key}" in p.message
    assert f"below the plausible {bound} (lowest 0); 0 looks like an unmasked nodata value" in p.message
    share = float(p.message.split(" % of the study area")[0].split(": ")[-1])
    assert 60 < share < 72


def test_a_raster_elsewhere_covers_nothing(world):
    _raster(path_of(world, "pga"), _field(0.1, 0.2, (10, 10)), bounds=(X1 + 10_000, Y0, X1 + 20_000, Y1))
    p = only(check(world))
    assert p.check == "coverage" and "0.0 % of the study area" in p.message and "pga" in p.message


def test_a_raster_of_nothing_but_nodata_covers_nothing(world):
    _raster(path_of(world, "wind50"), np.full((10, 10), np.nan))
    p = only(check(world))
    assert p.check == "coverage" and "100.0 % is not covered" in p.message


def test_a_small_gap_is_a_warning_not_an_error(world):
    v = _field(200, 800)
    v[30:33, 30:33] = np.nan  # 9 cells of 3600 inside the area: 0.25 %
    _raster(path_of(world, "dem"), v)
    problems = check(world)
    w = only(problems, WARNING)
    assert not [p for p in problems if p.severity == ERROR]
    assert w.check == "coverage" and "inputs.dem" in w.message


def test_a_gap_just_beyond_the_threshold_is_an_error(world):
    v = _field(200, 800)
    v[5:65, 5:9] = np.nan  # 4 of 60 columns of the area: 6.7 % > 2 %
    _raster(path_of(world, "dem"), v)
    assert only(check(world)).check == "coverage"


def test_the_coverage_threshold_comes_from_the_config(world):
    v = _field(200, 800)
    v[5:65, 5:9] = np.nan
    _raster(path_of(world, "dem"), v)
    world["config"]["input_checks"]["min_coverage"] = 0.9
    problems = check(world)
    assert only(problems, WARNING).check == "coverage"


def test_an_unmasked_minus_9999_dem_block_is_named_as_nodata(world):
    v = _field(200, 800)
    v[10:30, 10:30] = -9999
    _raster(path_of(world, "dem"), v)
    p = only(check(world))
    assert p.check == "value_range" and "-9999" in p.message and "unmasked nodata" in p.message
    assert "below the plausible -500 m" in p.message


def test_an_unmasked_32767_dem_block_is_named_too(world):
    v = _field(200, 800)
    v[40:50, 40:50] = 32767
    _raster(path_of(world, "dem"), v)
    p = only(check(world))
    assert "above the plausible 9000 m" in p.message and "32767" in p.message


def test_a_lone_unmasked_dem_cell_between_the_sample_points_is_found(world):
    v = _field(200, 800)
    v[33, 41] = -9999  # one cell: the 16-point sample across the area cannot see it
    _raster(path_of(world, "dem"), v)
    world["config"]["input_checks"]["sample_cells"] = 16
    p = only(check(world))
    assert p.check == "value_range" and "1 cell(s) in the study area's extent" in p.message
    assert "below the plausible -500 m (lowest -9999)" in p.message and "unmasked nodata" in p.message


def test_every_cell_is_counted_across_windows_not_aligned_with_the_area(tmp_path):
    from risk.io.inputs import cells_outside

    rng = np.random.default_rng(5)
    z = rng.uniform(0, 100, (300, 420)).astype("f4")
    lo, hi = rng.integers(0, z.size, 7), rng.integers(0, z.size, 3)
    z.flat[lo], z.flat[hi] = -9999, 32767
    z[0, 0] = np.nan  # nodata is not a value
    path = tmp_path / "t.tif"
    with rasterio.open(path, "w", driver="GTiff", height=300, width=420, count=1, dtype="float32", crs=CRS,
                       transform=from_origin(X0, Y1, 10, 10), tiled=True, blockxsize=64, blockysize=64,
                       nodata=np.nan) as dst:
        dst.write(z, 1)
    aoi = gpd.GeoDataFrame(geometry=[box(X0 + 135, Y1 - 2_915, X0 + 3_925, Y1 - 45)], crs=CRS)  # rows 4-291, cols 13-392
    window = z[4:292, 13:393]
    expected = (int((window < 0).sum()), int((window > 1000).sum()))
    assert expected[0] > 0 and expected[1] > 0 and expected != (7, 3)  # some bad cells lie outside the window
    for strip in (64 * 64, 5_000, 10**7):  # one block at a time, windows cut across blocks, the whole area at once
        n_lo, lowest, n_hi, highest = cells_outside(path, aoi, 0, 1000, strip_cells=strip)
        assert (n_lo, lowest, n_hi, highest) == (expected[0], -9999.0, expected[1], 32767.0)
    n_lo, lowest, n_hi, highest = cells_outside(path, aoi, None, 10**6)
    assert n_lo == n_hi == 0 and np.isnan(lowest) and np.isnan(highest)


def test_negative_population_is_refused(world):
    v = _field(0, 50)
    v[20:25, 20:25] = -3
    _raster(path_of(world, "population"), v)
    p = only(check(world))
    assert p.check == "value_range" and "inputs.population" in p.message and "-3" in p.message


def test_negative_rainfall_is_refused(world):
    _raster(path_of(world, "rain_max24h"), _field(-20, -1, (12, 12)), crs="EPSG:4326",
            bounds=tuple(gpd.read_file(world["config"]["aoi"]).buffer(0.02).total_bounds))
    assert "inputs.rain_max24h" in only(check(world)).message


def test_rainfall_in_tenths_of_a_millimetre_is_above_the_plausible_maximum(world):
    _raster(path_of(world, "rain_max24h"), _field(2500, 4000, (12, 12)), crs="EPSG:4326",
            bounds=tuple(gpd.read_file(world["config"]["aoi"]).buffer(0.02).total_bounds))
    p = only(check(world))
    assert "above the plausible 2000 mm" in p.message and "check the units" in p.message


def test_pga_in_cm_per_s2_instead_of_g_is_refused(world):
    _raster(path_of(world, "pga"), _field(100, 200, (10, 10)))
    assert "above the plausible 3 g" in only(check(world)).message


def test_wind_in_km_per_h_above_100_is_refused(world):
    _raster(path_of(world, "wind50"), _field(120, 180, (10, 10)))
    assert "above the plausible 100 m/s" in only(check(world)).message


def test_the_ranges_come_from_the_config(world):
    _raster(path_of(world, "wind50"), _field(120, 180, (10, 10)))
    world["config"]["input_checks"]["ranges"] = {"wind50": [0, 200]}
    assert check(world) == []


def test_unknown_land_cover_codes_are_named(world):
    v = np.random.default_rng(1).integers(1, 6, (70, 70))
    v[:35] = 9
    _raster(path_of(world, "landcover"), v, nodata=0, dtype="uint8")
    p = only(check(world))
    assert p.check == "landcover_codes" and "code(s) 9 (" in p.message and "landcover_classes" in p.message


@pytest.mark.parametrize("dtype", ["uint8", "int16", "float32"])
def test_lone_unknown_land_cover_cells_between_the_sample_points_are_named(world, dtype):
    v = np.random.default_rng(1).integers(1, 6, (70, 70))
    v[33, 41], v[12, 50] = 9, 7  # two cells: the 16-point sample across the area cannot see them
    _raster(path_of(world, "landcover"), v, nodata=0, dtype=dtype)
    world["config"]["input_checks"]["sample_cells"] = 16
    p = only(check(world))
    assert p.check == "landcover_codes" and "code(s) 7 (1 cell(s)), 9 (1 cell(s))" in p.message


def test_land_cover_without_nodata_shows_its_zeros_as_an_unknown_code(world):
    v = np.random.default_rng(1).integers(0, 6, (70, 70))
    _raster(path_of(world, "landcover"), v, nodata=None, dtype="uint8")
    assert "code(s) 0 (" in only(check(world)).message


def test_land_cover_codes_configured_are_known(world):
    v = np.random.default_rng(1).integers(1, 8, (70, 70))
    _raster(path_of(world, "landcover"), v, nodata=0, dtype="uint8")
    world["config"]["landcover_classes"] = {"1": "forest", "2": "grassland", "3": "cropland", "4": "built_up",
                                            "5": "water", "6": "shrub", "7": "bare"}
    assert check(world) == []


def test_a_raster_without_crs_is_refused(world):
    _raster(path_of(world, "pga"), _field(0.1, 0.2, (10, 10)), crs=None)
    p = only(check(world))
    assert p.check == "crs" and "inputs.pga" in p.message and "no CRS" in p.message


def test_a_raster_that_is_not_a_raster_cannot_be_opened(world):
    with open(path_of(world, "dem"), "wb") as fh:
        fh.write(b"II*\x00 not really a tiff")
    p = only(check(world))
    assert p.check == "open" and "inputs.dem" in p.message and "cannot be opened" in p.message


def test_a_missing_raster_is_named(world):
    world["config"]["inputs"]["dem"] = str(world["dir"] / "nowhere.tif")
    p = only(check(world))
    assert p.check == "exists" and "inputs.dem" in p.message and "nowhere.tif" in p.message


# -- vectors ----------------------------------------------------------------------------------------------
def test_an_empty_rivers_layer_is_a_warning_that_says_what_it_means(world):
    _gpkg(path_of(world, "rivers"), [], name=[])
    p = only(check(world), WARNING)
    assert p.check == "empty" and "inputs.rivers" in p.message and "same everywhere" in p.message


def test_an_empty_townships_layer_is_an_error(world):
    _gpkg(path_of(world, "townships"), [], code=[], name=[])
    p = only(check(world))
    assert p.check == "empty" and "inputs.townships" in p.message


def test_an_empty_depots_layer_is_an_error(world):
    _gpkg(path_of(world, "depots"), [], name=[])
    assert "inputs.depots" in only(check(world)).message


def test_an_empty_events_layer_is_a_warning(world):
    _gpkg(path_of(world, "events")["geological"], [], id=[])
    assert "inputs.events.geological" in only(check(world), WARNING).message


def test_rivers_as_points_are_refused(world):
    _gpkg(path_of(world, "rivers"), [Point(X0 + 10, Y0 + 10)], name=["河"])
    p = only(check(world))
    assert p.check == "geometry_type" and "expected line or polygon" in p.message and "Point" in p.message


def test_townships_as_lines_are_refused(world):
    _gpkg(path_of(world, "townships"), [LineString(p.exterior.coords) for p in _town_polys()], code=["T1", "T2"], name=["东镇", "西镇"])
    p = [p for p in check(world) if p.severity == ERROR]
    assert any(x.check == "geometry_type" and "LineString" in x.message and "东镇" in x.message for x in p)


def test_settlements_as_polygons_are_refused(world):
    _gpkg(path_of(world, "settlements"), [box(X0 + 900, Y0 + 900, X0 + 1100, Y0 + 1100)], name=["甲村"],
          population=[300])
    assert only(check(world)).check == "geometry_type"


def test_townships_that_leave_half_the_area_uncovered_are_refused(world):
    _gpkg(path_of(world, "townships"), _town_polys()[:1], code=["T1"], name=["东镇"])
    problems = check(world)
    cov = [p for p in problems if p.check == "coverage"]
    assert len(cov) == 1 and "50.0 % of the study area uncovered" in cov[0].message
    # the capacity table's row for the missing township is named as well: every problem at once
    assert any("西镇" in p.message for p in problems if p.check == "table")


def test_townships_that_leave_a_sliver_uncovered_are_a_warning_in_the_table(world):
    # a township missing a 60 m strip (1 % of the area): under the threshold, so a warning, written to the table
    xm = (X0 + X1) / 2
    _gpkg(path_of(world, "townships"), [box(X0, Y0, xm, Y1), box(xm + 60, Y0, X1, Y1)], code=["T1", "T2"],
          name=["东镇", "西镇"])
    p = only(check(world), WARNING)
    assert p.check == "coverage" and "leave 1.0 % of the study area uncovered" in p.message
    assert problems_frame([p]).loc[0, "message"] == p.message


def test_a_bow_tie_township_is_repaired_with_a_warning_and_keeps_its_area(world):
    xm = (X0 + X1) / 2
    bow = Polygon([(xm, Y0), (X1, Y1), (X1, Y0), (xm, Y1)])  # self-intersecting: area 0 as drawn
    assert bow.area == 0 and not bow.is_valid
    _gpkg(path_of(world, "townships"), [_town_polys()[0], bow], code=["T1", "T2"], name=["东镇", "西镇"])
    problems = check(world)
    w = [p for p in problems if p.check == "validity"]
    assert len(w) == 1 and w[0].severity == WARNING and "西镇" in w[0].message and "make_valid" in w[0].message
    from risk.io import read_vector

    towns = read_vector(path_of(world, "townships"))
    assert towns.geometry.is_valid.all() and towns.area.iloc[1] == pytest.approx((X1 - xm) * (Y1 - Y0) / 2)


@pytest.mark.parametrize(("width", "severity", "share"), [(1500, ERROR, "25.0 %"), (30, WARNING, "0.5 %")])
def test_townships_that_overlap_are_named_with_the_shared_area(world, width, severity, share):
    # a strip in both townships: each counts its people, the county totals count them twice
    xm = (X0 + X1) / 2
    _gpkg(path_of(world, "townships"), [box(X0, Y0, xm + width, Y1), box(xm, Y0, X1, Y1)], code=["T1", "T2"],
          name=["东镇", "西镇"])
    (p,) = [p for p in check(world) if p.check == "overlap"]
    assert p.severity == severity and f"overlap on {share} of the study area" in p.message
    assert f"'东镇' and '西镇' ({width * 6_000 / 1e6:.2f} km²)" in p.message and "twice" in p.message


def test_a_township_listed_twice_is_refused(world):
    polys = _town_polys()
    _gpkg(path_of(world, "townships"), [*polys, polys[1]], code=["T1", "T2", "T2"], name=["东镇", "西镇", "西镇"])
    found = [(p.check, p.message) for p in check(world) if p.severity == ERROR]
    assert [c for c, _ in found].count("duplicate") == 2  # the code and the name
    assert any("code 'T2' given to more than one feature (feature 2 '西镇', feature 3 '西镇')" in m for _, m in found)
    assert any(c == "overlap" and "overlap on 50.0 %" in m for c, m in found)


def test_townships_that_only_touch_along_a_shared_boundary_pass(world):
    xm = (X0 + X1) / 2
    wobbly = Polygon([(X0, Y0), (xm + 0.4, Y0), (xm - 0.3, (Y0 + Y1) / 2), (xm + 0.4, Y1), (X0, Y1)])  # a sliver
    _gpkg(path_of(world, "townships"), [wobbly, box(xm, Y0, X1, Y1)], code=["T1", "T2"], name=["东镇", "西镇"])
    assert [p for p in check(world) if p.check in ("overlap", "coverage")] == []


def test_a_township_of_zero_area_is_named(world):
    xm = (X0 + X1) / 2
    flat = Polygon([(xm, Y0), (X1, Y0), (X1, Y0), (xm, Y0)])
    _gpkg(path_of(world, "townships"), [box(X0, Y0, X1, Y1), flat], code=["T1", "T2"], name=["东镇", "西镇"])
    zero = [p for p in check(world) if p.check == "zero_area"]
    assert len(zero) == 1 and "西镇" in zero[0].message and zero[0].severity == ERROR


def test_townships_without_a_name_field_are_refused(world):
    _gpkg(path_of(world, "townships"), _town_polys(), code=["T1", "T2"])
    assert any(p.check == "field" and "`name`" in p.message for p in check(world))


def test_a_negative_shelter_capacity_is_refused_by_name(world):
    _gpkg(path_of(world, "shelters"), [Point(X0 + 1500, Y0 + 1500), Point(X0 + 2500, Y0 + 1500)],
          name=["学校", "体育馆"], capacity=[800, -200])
    p = only(check(world))
    assert p.check == "value_range" and "体育馆" in p.message and "-200" in p.message


def test_a_negative_settlement_population_is_refused_by_name(world):
    _gpkg(path_of(world, "settlements"), [Point(X0 + 1000, Y0 + 1000), Point(X1 - 1000, Y1 - 1000)],
          name=["甲村", "乙村"], population=[300, -500])
    p = only(check(world))
    assert "inputs.settlements" in p.message and "`population`" in p.message and "乙村" in p.message


def test_a_non_numeric_candidate_capacity_is_refused_by_name(world):
    _gpkg(path_of(world, "shelter_candidates"), [Point(X1 - 1500, Y0 + 1500)], name=["广场"], capacity=["很多"])
    p = only(check(world))
    assert p.check == "number" and "广场" in p.message and "很多" in p.message


def test_lon_lat_coordinates_labelled_as_metres_lie_nowhere_near_the_area(world):
    _gpkg(path_of(world, "settlements"), [Point(119.3, 41.2)], name=["甲村"], population=[300])
    p = only(check(world))
    assert p.check == "extent" and "wrong CRS" in p.message and "inputs.settlements" in p.message


def test_features_without_geometry_are_a_warning(world):
    _gpkg(path_of(world, "depots"), [Point(X0 + 3000, Y0 + 3000), None], name=["库", "空"])
    p = only(check(world), WARNING)
    assert p.check == "geometry" and "空" in p.message


def test_a_layer_without_crs_is_a_warning(world):
    _gpkg(path_of(world, "depots"), [Point(X0 + 3000, Y0 + 3000)], crs=None, name=["库"])
    assert only(check(world), WARNING).check == "crs"


def test_a_vector_file_that_is_not_one_cannot_be_opened(world):
    with open(path_of(world, "roads"), "w") as fh:
        fh.write("not a geopackage")
    p = only(check(world))
    assert p.check == "open" and "inputs.roads" in p.message


# -- tables -----------------------------------------------------------------------------------------------
def test_a_township_missing_from_the_capacity_table_is_named(world):
    _capacity_rows().iloc[:1].to_csv(path_of(world, "capacity"), index=False)
    p = only(check(world))
    assert p.check == "table" and "no row for township(s) 西镇" in p.message


def test_a_non_numeric_capacity_cell_is_named_with_line_and_column(world):
    rows = _capacity_rows()
    rows.loc[1, "hospital_beds"] = "十五"
    rows.to_csv(path_of(world, "capacity"), index=False)
    p = only(check(world))
    assert "line 3" in p.message and "hospital_beds" in p.message and "十五" in p.message


def test_an_unknown_township_in_the_capacity_table_is_named(world):
    rows = _capacity_rows()
    rows.loc[1, "township"] = "南镇"
    rows.to_csv(path_of(world, "capacity"), index=False)
    assert any("南镇" in p.message for p in check(world) if p.check == "table")


def test_a_capacity_table_with_only_a_header_is_refused(world):
    _capacity_rows().iloc[:0].to_csv(path_of(world, "capacity"), index=False)
    p = only(check(world))
    assert "header but no rows" in p.message and "capacity.csv" in p.message


def test_a_non_numeric_statistics_cell_is_named_with_line_and_column(world):
    rows = _statistics_rows()
    rows.loc[2, "safety_deaths"] = "n/a"
    rows.to_csv(path_of(world, "yearly_statistics"), index=False)
    p = only(check(world))
    assert "line 4" in p.message and "safety_deaths" in p.message and "'n/a' is not a number" in p.message


def test_a_negative_statistic_is_named(world):
    rows = _statistics_rows()
    rows.loc[0, "people_affected"] = "-5"
    rows.to_csv(path_of(world, "yearly_statistics"), index=False)
    assert "people_affected" in only(check(world)).message


def test_a_disaster_record_row_with_bad_coordinates_is_named_by_its_line(world):
    path = world["dir"] / "disasters.csv"
    pd.DataFrame({"hazard": ["geological", "wind"], "lon": ["119.3", "东经119度"], "lat": ["41.2", "41.2"],
                  "direct_loss_10k_yuan": ["5", "3"]}).to_csv(path, index=False)
    world["config"]["inputs"]["disasters"] = str(path)
    p = only(check(world))
    assert p.check == "table" and "line 3" in p.message and "东经119度" in p.message


# -- the grid, the area, the config ---------------------------------------------------------------------
def test_a_geographic_grid_crs_is_refused_with_the_zone_that_suits(world):
    world["config"]["grid"]["crs"] = "EPSG:4326"
    p = only(check(world))
    assert p.file == "grid.crs" and "geographic" in p.message and "EPSG:4549" in p.message


def test_a_grid_crs_far_from_the_area_is_a_warning_naming_the_zone(world):
    world["config"]["grid"]["crs"] = "EPSG:4534"  # CGCS2000 3-degree GK CM 75E, for an area at 119.3E
    p = only(check(world), WARNING)
    assert p.file == "grid.crs" and "75°" in p.message and "EPSG:4549" in p.message


def test_a_grid_crs_in_feet_is_refused(world):
    world["config"]["grid"]["crs"] = "EPSG:2263"  # NAD83 / New York Long Island (ftUS)
    problems = [p for p in check(world) if p.file == "grid.crs"]
    assert len(problems) == 1 and "not metres" in problems[0].message


@pytest.mark.parametrize(("lon", "epsg"), [(119.3, "EPSG:4549"), (120.0, "EPSG:4549"), (117.4, "EPSG:4548"),
                                           (75.2, "EPSG:4534"), (134.9, "EPSG:4554")])
def test_the_gauss_kruger_zone_of_a_longitude(lon, epsg):
    assert gauss_kruger_epsg(lon)[0] == epsg


def test_an_aoi_without_area_is_refused(world):
    gpd.GeoDataFrame(geometry=[Point(119.3, 41.2)], crs="OGC:CRS84").to_file(world["config"]["aoi"],
                                                                             engine="pyogrio")
    p = [p for p in check(world) if p.check == "aoi"]
    assert len(p) == 1 and "has no area" in p[0].message


def test_an_unreadable_aoi_is_refused(world):
    with open(world["config"]["aoi"], "w") as fh:
        fh.write("{not json")
    p = [p for p in check(world) if p.check == "aoi"]
    assert len(p) == 1 and "cannot be used as the study area" in p[0].message


def test_a_missing_survey_file_is_named(world):
    world["config"]["survey"]["sources"][0]["path"] = str(world["dir"] / "没有.csv")
    p = only(check(world))
    assert p.check == "survey" and "没有.csv" in p.message


@pytest.mark.parametrize(("content", "expected"), [
    ('编号,经度,纬度\n"A1","119,250","41,003"\n"A2","119,251","41,004"\n'.encode(), "comma as the decimal mark"),
    (b"PK\x03\x04 not a workbook", "is not a readable .xlsx workbook"),
    ("编号,名称\nA1,甲\n".encode(), "no coordinates found"),
], ids=["comma_decimals", "broken_xlsx", "no_coordinates"])
def test_an_unusable_survey_file_is_named_at_the_door(world, content, expected):
    # at the door, with the other inputs: the run stops before any rule works (every rule waits for the door)
    name = "内涝点.xlsx" if content.startswith(b"PK") else "内涝点.csv"
    (world["dir"] / name).write_bytes(content)
    world["config"]["survey"]["sources"][0]["path"] = str(world["dir"] / name)
    p = only(check(world))
    assert p.check == "survey" and name in p.message and expected in p.message


def test_every_problem_is_listed_at_once(world):
    _gpkg(path_of(world, "depots"), [], name=[])
    _raster(path_of(world, "pga"), _field(100, 200, (10, 10)))
    world["config"]["grid"]["crs"] = "EPSG:4326"
    errs = [p for p in check(world) if p.severity == ERROR]
    assert {p.check for p in errs} == {"empty", "value_range", "grid_crs"}


def test_warnings_table_has_the_contract_columns(world):
    _gpkg(path_of(world, "rivers"), [], name=[])
    frame = problems_frame(check(world))
    assert list(frame.columns) == ["file", "check", "severity", "message"] and len(frame) == 1


# -- risk validate: the same checks from the command line -----------------------------------------------
def _config_file(world, text=None):
    path = world["dir"] / "my.yaml"
    path.write_text(text if text is not None else yaml.safe_dump(world["config"], allow_unicode=True),
                    encoding="utf-8")
    return str(path)


def test_risk_validate_lists_errors_and_warnings_and_exits_1(world, capsys):
    from risk.__main__ import main

    _gpkg(path_of(world, "rivers"), [], name=[])
    _raster(path_of(world, "wind50"), _field(120, 180, (10, 10)))
    assert main(["validate", _config_file(world), "--root", str(ROOT)]) == 1
    err = capsys.readouterr().err
    assert "error: " in err and "inputs.wind50" in err and "warning: " in err and "inputs.rivers" in err


def test_risk_validate_passes_a_clean_world_with_warnings_shown(world, capsys):
    from risk.__main__ import main

    _gpkg(path_of(world, "rivers"), [], name=[])
    assert main(["validate", _config_file(world), "--root", str(ROOT)]) == 0
    captured = capsys.readouterr()
    assert "warning: " in captured.err and "usable" in captured.out


@pytest.mark.parametrize(("text", "expected"), [
    ("aoi: a.geojson\ngrid:\n  crs: [EPSG:4549\n", "not valid YAML (line 4"),  # YAML syntax error: line named
    ("", "the config is empty"),                                         # empty config
    ("- aoi\n- grid\n", "a config is a mapping"),                        # not a mapping
    ("__use_yte__: true\naoi: a.geojson\n", "templating"),               # templating switched off
    ("aoi: a.geojson\ninput_checks: {min_coverag: 0.9}\nsurvey: {sources: [{path: a.csv, category: crane}]}\n",
     "min_coverag"),                                                      # a misspelt key
    ("aoi: a.geojson\ninput_checks: {ranges: {dem: high}}\nsurvey: {sources: [{path: a.csv, category: crane}]}\n",
     "input_checks.ranges.dem"),                                          # a range that is not [lower, upper]
])
def test_a_bad_config_is_named_by_risk_validate(world, capsys, text, expected):
    from risk.__main__ import main

    assert main(["validate", _config_file(world, text), "--root", str(ROOT)]) == 1
    assert expected in capsys.readouterr().err


@pytest.mark.parametrize(("text", "expected"), [
    ('__use_yte__: true\n?if True:\n  x: ?__import__("pathlib").Path("{marker}").write_text("1")\n',
     "templating (__use_yte__) is switched off"),                      # Snakemake would run this Python
    ("aoi: a.geojson\ngrid:\n  crs: [EPSG:4549\n", "not valid YAML (line 4"),  # Snakemake names no line
    ("{{}}\n", "the config is empty"),
])
@pytest.mark.parametrize("command", ["run", "scenario"])
def test_risk_run_and_scenario_refuse_a_bad_config_before_snakemake_reads_it(tmp_path, capsys, monkeypatch, text,
                                                                             expected, command):
    from risk.__main__ import main

    started = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: started.append(a))
    marker = tmp_path / "templating_ran"
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text.format(marker=marker), encoding="utf-8")
    argv = ["run", "--config", str(cfg)] if command == "run" else ["scenario", str(cfg), "-n"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {cfg}: ") and expected in err and "Traceback" not in err
    assert started == [] and not marker.exists()  # Snakemake never started


@pytest.mark.slow
@pytest.mark.parametrize(("text", "expected"), [
    ("{}\n", "the config is empty"),
    ("aoi: a.geojson\ninput_checks: {min_coverag: 0.9}\nsurvey: {sources: [{path: a.csv, category: crane}]}\n",
     "'min_coverag' was unexpected"),
])
def test_snakemake_started_directly_stops_on_a_bad_config_with_one_line(tmp_path, text, expected):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--cores", "1", "--snakefile",
                           str(ROOT / "Snakefile"), "--configfile", str(cfg)], cwd=tmp_path, capture_output=True,
                          text=True)
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: ") and expected in proc.stderr
    assert "File \"" not in proc.stderr and "Traceback" not in proc.stderr


# -- one clear message per failure ----------------------------------------------------------------------
SCRIPT = """
import sys
from risk.runtime import configure_logging
from risk.errors import InputError
configure_logging(sys.argv[1])
if sys.argv[2] == "input":
    raise InputError("data/x.csv, line 4, column 'depth': 'deep' is not a number")
raise KeyError("a bug")
"""


def test_bad_input_prints_one_line_and_the_log_path_and_a_bug_its_traceback(tmp_path):
    log = tmp_path / "rule.log"
    run = [sys.executable, "-c", SCRIPT, str(log)]
    bad = subprocess.run([*run, "input"], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 1
    assert "Traceback" not in bad.stderr
    lines = [ln for ln in bad.stderr.splitlines() if "INFO" not in ln]
    assert lines == ["error: data/x.csv, line 4, column 'depth': 'deep' is not a number", f"  (log: {log})"]
    assert "Traceback" in log.read_text(encoding="utf-8")  # the details are kept, in the log
    bug = subprocess.run([*run, "bug"], capture_output=True, text=True, cwd=ROOT)
    assert bug.returncode == 1 and "Traceback" in bug.stderr and "KeyError" in bug.stderr


def test_a_nearly_full_disk_is_named_after_an_unexpected_error(tmp_path, monkeypatch):
    import shutil

    from risk.runtime import low_disk_notes

    full = shutil._ntuple_diskusage(total=100 * 2**30, used=99 * 2**30, free=2**30)
    roomy = shutil._ntuple_diskusage(total=100 * 2**30, used=50 * 2**30, free=50 * 2**30)
    monkeypatch.setattr(shutil, "disk_usage", lambda folder: full)
    (note,) = low_disk_notes([str(tmp_path)])  # the temporary folder on the same disk is named once
    assert str(tmp_path) in note and "1.0 GiB free of 100 GiB" in note
    monkeypatch.setattr(shutil, "disk_usage", lambda folder: roomy)
    assert low_disk_notes([str(tmp_path)]) == []


def test_table_and_config_errors_are_input_errors():
    from risk.capacity.capacity_index import CapacityTableError
    from risk.capacity.plan_targets import StatisticsTableError
    from risk.config import ConfigError
    from risk.errors import InputError
    from risk.survey import SurveyInputError

    assert all(issubclass(e, InputError) for e in (CapacityTableError, StatisticsTableError, ConfigError,
                                                   SurveyInputError))


def test_repair_leaves_valid_polygons_untouched():
    from risk.checks import repair_polygons

    gdf = gpd.GeoDataFrame(geometry=_town_polys(), crs=CRS)
    out, fixed = repair_polygons(gdf)
    assert fixed == [] and out is gdf
    assert shapely.equals(out.geometry.values, gdf.geometry.values).all()


@pytest.mark.slow
def test_snakemake_stops_at_the_door_with_every_problem_and_runs_nothing(world):
    v = _field(80, 150)
    v[:, 24:] = np.nan
    _raster(path_of(world, "rain_max24h"), v)
    _gpkg(path_of(world, "depots"), [], name=[])
    cfg = _config_file(world)
    env = {**__import__("os").environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "2", "--snakefile", str(ROOT / "Snakefile"),
                           "--configfile", cfg], cwd=ROOT, env=env, capture_output=True, text=True)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "error: 2 input problem(s), nothing was run:" in out
    assert "inputs.rain_max24h" in out and "is not covered" in out and "inputs.depots" in out
    assert "(log: " in out and "validate_inputs.log" in out
    assert "Traceback" not in out
    results = world["dir"] / "results"
    assert not (results / "grid").exists() and not (results / "survey").exists()  # no rule did any work
    assert "Traceback" in (results / "logs" / "validate_inputs.log").read_text(encoding="utf-8")


@pytest.mark.slow
def test_every_rule_but_the_demo_waits_for_the_door():
    import re

    proc = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--forceall", "--dag", "--cores", "2",
                           "--configfile", str(ROOT / "configs" / "test.yaml")], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    names = {i: n.split("\\n")[0] for i, n in re.findall(r'^\s*(\d+)\[label = "([^"]+)"', proc.stdout, re.M)}
    parents: dict[str, set] = {}
    for a, b in re.findall(r"^\s*(\d+) -> (\d+)", proc.stdout, re.M):
        parents.setdefault(b, set()).add(a)

    def ancestors(node):
        seen, todo = set(), [node]
        while todo:
            for p in parents.get(todo.pop(), ()):
                if p not in seen:
                    seen.add(p)
                    todo.append(p)
        return {names[p] for p in seen}

    door = [i for i, n in names.items() if n == "validate_inputs"]
    assert len(door) == 1 and len(names) > 25
    late = [n for i, n in names.items() if n not in ("demo", "validate_inputs") and "validate_inputs" not in ancestors(i)]
    assert late == []


def test_a_decimated_sample_caches_two_rows_of_blocks_not_the_process_s_whole_cache(tmp_path):
    from rasterio.windows import Window

    from risk.io.inputs import _rows_of_blocks_bytes, sample_in_area

    path = tmp_path / "tiled.tif"
    z = np.add.outer(np.arange(600.0), np.arange(1100.0)).astype("f4")
    with rasterio.open(path, "w", driver="GTiff", height=600, width=1100, count=1, dtype="float32", crs="EPSG:4549",
                       transform=from_origin(500_000, 4_500_000, 30, 30), tiled=True, blockxsize=256,
                       blockysize=256) as dst:
        dst.write(z, 1)
    with rasterio.open(path) as src:
        # 5 blocks of 256 x 256 across, float32 and a byte of mask each: 2 rows of them, floored at 16 MB
        assert _rows_of_blocks_bytes(src, Window(0, 0, 1100, 600)) == 16 * 2**20
        assert _rows_of_blocks_bytes(src, Window(0, 0, 10**6, 600)) == 2 * 3907 * 256 * 256 * 5 // 2**20 * 2**20 + 2**20
    aoi = gpd.GeoDataFrame(geometry=[box(500_000 + 900, 4_500_000 - 17_100, 500_000 + 32_100, 4_500_000 - 900)],
                           crs="EPSG:4549")
    values, crs = sample_in_area(path, aoi, 64)
    assert crs == "EPSG:4549" and values.size > 1000 and np.isfinite(values).all()
    assert values.min() >= 30 + 30 and values.max() <= 570 + 1070  # cells of the area only, read through the cache
