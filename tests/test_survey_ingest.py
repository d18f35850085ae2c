"""Survey rows into the database: reason codes, coordinate modes, typed fields, counts, the rule's script."""

import json
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
from pyproj import Transformer
from shapely.geometry import Point, Polygon, box

from risk.io.vectors import data_layers
from risk.survey import REASONS, SurveyInputError, check_sources, ingest, ingest_sources
from risk.survey.coords import wgs84_to_bd09, wgs84_to_gcj02
from tests.conftest import load_file

ROOT = Path(__file__).resolve().parents[1]
AOI = gpd.GeoDataFrame(geometry=[box(119.10, 40.93, 119.37, 41.08)], crs="EPSG:4326")
CRS = "EPSG:4549"
TO_4549 = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
TRUTH = [(119.20, 41.00), (119.30, 41.04)]


def write(tmp_path, name, text, encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def run(tmp_path, sources, tolerance_m=500, aoi=AOI):
    return ingest(check_sources(sources, tmp_path), aoi, CRS, tolerance_m)


def everything(result):
    """(source_file, source_row) of every row in the database, accepted and rejected."""
    keys = [(f, int(r)) for g in result.layers.values() for f, r in zip(g["source_file"], g["source_row"],
                                                                      strict=True)]
    keys += [(f, int(r)) for f, r in zip(result.rejected["source_file"], result.rejected["source_row"], strict=True)]
    return keys


# -- reason codes ------------------------------------------------------------------------------------------
MESSY = """编号,设备名称,乡镇（街道）,经度,纬度,高度（cm）,额定起重量（t）,调查日期,安装年份,检验状态,ID,备注
C1,塔吊1,城关街道,119.20,41.00,4500,6,2021/6/3,2015,合格,x1,ok
C2,塔吊2,城关街道,,41.00,4500,6,2021/6/3,2015,合格,x2,
C3,塔吊3,城关街道,abc,41.00,4500,6,2021/6/3,2015,合格,x3,
C4,塔吊4,城关街道,0,0,4500,6,2021/6/3,2015,合格,x4,
C5,塔吊5,城关街道,41.00,119.20,4500,6,2021/6/3,2015,合格,x5,
C6,塔吊6,城关街道,200,41.00,4500,6,2021/6/3,2015,合格,x6,
C7,塔吊7,城关街道,119.30,41.20,4500,6,2021/6/3,2015,合格,x7,
C8,塔吊8,城关街道,119.21,41.01,-300,6,2021/6/3,2015,合格,x8,
C9,塔吊9,城关街道,119.22,41.01,4500,0,2021/6/3,2015,合格,x9,
C10,塔吊10,城关街道,119.23,41.01,很高,6,2021/6/3,2015,合格,x10,
C11,塔吊11,城关街道,119.24,41.01,4500,6,上周,2015,合格,x11,
C1,塔吊1重复,城关街道,119.25,41.01,4500,6,2021/6/3,2015,合格,x12,
C2,塔吊2补录,城关街道,119.26,41.01,4500,6,2021/6/3,2015,超期,x13,
C14,塔吊,14,城关街道,119.27,41.01,4500,6,2021/6/3,2015,合格,x14,ok
C15,塔吊15,城关街道,119.28,41.01,"1,200",6,44350,2016年,未检验,x15,
C16,塔吊16,城关街道,119.29,41.01,4500,6,2021/6/3,2015,合格,x16,
"""
EXPECTED = {2: None, 3: "missing_coordinates", 4: "missing_coordinates", 5: "missing_coordinates",
            6: "invalid_coordinates", 7: "invalid_coordinates", 8: "outside_aoi", 9: "out_of_range",
            10: "out_of_range", 11: "unreadable", 12: "unreadable", 13: "duplicate_id", 14: None,
            15: "unreadable", 16: None, 17: None}


@pytest.fixture
def messy(tmp_path):
    write(tmp_path, "大型起重设备.csv", MESSY, "utf-8-sig")
    return run(tmp_path, [{"path": "大型起重设备.csv", "category": "crane"}])


def test_every_reason_code_lands_on_the_right_row(messy):
    rej = messy.rejected.set_index("source_row")
    got = {r: (rej.loc[r, "reason"] if r in rej.index else None) for r in EXPECTED}
    assert got == EXPECTED
    assert sorted(messy.layers["crane"]["source_row"]) == [r for r, v in EXPECTED.items() if v is None]


def test_reason_messages_say_what_is_wrong(messy):
    msg = messy.rejected.set_index("source_row")["message"]
    assert msg[3] == "经度 is blank"
    assert "'abc' is not a coordinate" in msg[4]
    assert "0, 0" in msg[5]
    assert "swapping lon/lat would put it inside" in msg[6]
    assert "swapping" not in msg[7]
    assert "km outside the study area" in msg[8] and "swapping" not in msg[8]
    assert msg[6].startswith("lon/lat (41, 119.2) in EPSG:4326: latitude 119.2 is beyond ±90")
    assert msg[7].startswith("lon/lat (200, 41) in EPSG:4326: longitude 200 is beyond ±180")
    assert msg[9] == "height_m = -3 m (高度（cm）: '-300') is out of range: expected 0–300 m"
    assert msg[10] == "rated_load_t = 0 t (额定起重量（t）: '0') is out of range: expected > 0 and <= 20,000 t"
    assert "'很高' is not a number" in msg[11]
    assert "'上周' is not a date" in msg[12]
    assert "id 'C1' already used in crane by 大型起重设备.csv row 2 (kept)" in msg[13]
    assert "separator" in msg[15]


def test_rejected_layer_keeps_raw_values_and_points(messy):
    rej = messy.rejected.set_index("source_row")
    raw = json.loads(rej.loc[11, "raw"])
    assert raw["高度（cm）"] == "很高" and raw["设备名称"] == "塔吊10" and raw["备注"] == ""
    assert rej.crs.to_epsg() == 4549
    assert rej.loc[3, "geometry"] is None and rej.loc[6, "geometry"] is None  # no point could be made
    assert isinstance(rej.loc[8, "geometry"], Point) and isinstance(rej.loc[11, "geometry"], Point)
    assert set(messy.rejected.columns) == {"category", "source_file", "source_row", "reason", "message", "raw",
                                           "geometry"}
    assert (messy.rejected["category"] == "crane").all()


def test_duplicate_of_a_rejected_row_is_kept(messy):
    layer = messy.layers["crane"].set_index("source_row")
    assert layer.loc[14, "id"] == "C2" and layer.loc[14, "name"] == "塔吊2补录"
    assert layer.loc[2, "name"] == "塔吊1"  # the first C1 is kept


def test_typed_canonical_fields_and_units(messy):
    layer = messy.layers["crane"].set_index("source_row")
    assert layer.loc[2, "height_m"] == 45.0  # 4500 cm
    assert layer.loc[16, "height_m"] == 12.0  # "1,200" cm
    assert layer["surveyed_on"].dtype == "datetime64[ms]"
    assert layer.loc[16, "surveyed_on"] == pd.Timestamp("2021-06-03")  # Excel serial 44350
    assert layer.loc[16, "installed_on"] == "2016" and layer.loc[16, "installed_year"] == 2016
    assert str(layer["installed_year"].dtype) == "Int64" and str(layer["exposed_people"].dtype) == "Int64"
    assert layer.loc[14, "inspection"] == "过期" and layer.loc[16, "inspection"] == "未检"
    assert layer["rated_load_t"].dtype == "float64"
    assert "voltage_kv" not in layer.columns and "max_depth_m" not in layer.columns
    assert layer.loc[2, "lon"] == pytest.approx(119.20) and layer.loc[2, "source_crs"] == "EPSG:4326"


def test_unmatched_columns_are_kept_under_their_headers(messy):
    layer = messy.layers["crane"].set_index("source_row")
    assert layer.loc[2, "备注"] == "ok" and pd.isna(layer.loc[14, "备注"])
    # "ID" also looks like an id (编号 came first): kept, renamed only because GeoPackage field
    # names are case-insensitive and "id" is taken
    assert layer.loc[2, "ID_original"] == "x1"


def test_counts_in_equal_accepted_plus_rejected(messy):
    rep = messy.report.iloc[0]
    assert rep["rows_read"] == 16 == rep["accepted"] + rep["rejected"]
    assert rep["accepted"] == 4
    assert {r: rep[r] for r in REASONS} == {"missing_coordinates": 3, "invalid_coordinates": 2, "outside_aoi": 1,
                                           "duplicate_id": 1, "out_of_range": 2, "unreadable": 3}
    assert list(messy.report.columns[:11]) == ["file", "category", "rows_read", "accepted", "rejected", *REASONS]
    keys = everything(messy)
    assert len(keys) == len(set(keys)) == 16


def test_tolerance_outside_the_aoi(tmp_path):
    # 300 m north of the AOI's northern edge (41.08 N)
    lat = 41.08 + 300 / 111_000
    write(tmp_path, "w.csv", f"编号,经度,纬度\nW1,119.2,{lat}\n")
    s = [{"path": "w.csv", "category": "waterlogging"}]
    assert len(run(tmp_path, s, tolerance_m=500).layers["waterlogging"]) == 1
    r = run(tmp_path, s, tolerance_m=100)
    assert r.rejected["reason"].tolist() == ["outside_aoi"] and "0.3 km outside" in r.rejected["message"][0]


def test_outside_aoi_says_when_swapping_would_put_it_inside(tmp_path):
    aoi = gpd.GeoDataFrame(geometry=[box(40, 20, 42, 22)], crs="EPSG:4326")
    write(tmp_path, "w.csv", "编号,经度,纬度\nW1,21,41\nW2,41,21\nW3,50,30\n")
    r = ingest(check_sources([{"path": "w.csv", "category": "waterlogging"}], tmp_path), aoi, "EPSG:32637")
    rej = r.rejected.set_index("source_row")
    assert rej.loc[2, "reason"] == "outside_aoi"
    assert "swapping lon/lat would put it inside the study area" in rej.loc[2, "message"]
    assert "swapping" not in rej.loc[4, "message"]
    assert len(r.layers["waterlogging"]) == 1


def test_swapped_projected_xy_is_invalid_with_a_hint(tmp_path):
    x, y = TO_4549.transform(*TRUTH[0])
    write(tmp_path, "p.csv", f"编号,X坐标,Y坐标\nP1,{x},{y}\nP2,{y},{x}\nP3,40{x:.1f},{y}\n")
    r = run(tmp_path, [{"path": "p.csv", "category": "power", "coords": "EPSG:4549"}])
    rej = r.rejected.set_index("source_row")
    assert rej.loc[3, "reason"] == "invalid_coordinates" and "swapping x/y would put it inside" in rej.loc[3, "message"]
    assert rej.loc[4, "reason"] == "invalid_coordinates"  # a zone number prefixed to the easting
    assert "outside the area the CRS is defined for (118.5–121.5E" in rej.loc[4, "message"]
    assert r.layers["power"]["source_row"].tolist() == [2]


def test_missing_geometry_is_missing_coordinates(tmp_path):
    gdf = gpd.GeoDataFrame({"编号": ["P1", "P2"]}, geometry=[Point(119.2, 41.0), None], crs="EPSG:4326")
    gdf.to_file(tmp_path / "p.geojson", driver="GeoJSON")
    r = run(tmp_path, [{"path": "p.geojson", "category": "power"}])
    assert r.rejected["reason"].tolist() == ["missing_coordinates"] and r.rejected["source_row"].tolist() == [2]
    assert json.loads(r.rejected["raw"][0]) == {"编号": "P2", "geometry": None}


# -- coordinate modes and formats -------------------------------------------------------------------------------
def table(lon_lat, header="编号,名称,经度,纬度"):
    lines = [header] + [f"P{i},点{i},{a!r},{b!r}" for i, (a, b) in enumerate(lon_lat, start=1)]
    return "\n".join(lines) + "\n"


def check_points(layer, tol_deg=1e-7):
    np.testing.assert_allclose(layer["lon"], [t[0] for t in TRUTH], atol=tol_deg)
    np.testing.assert_allclose(layer["lat"], [t[1] for t in TRUTH], atol=tol_deg)
    x, y = TO_4549.transform(*np.array(TRUTH).T)
    np.testing.assert_allclose(layer.geometry.x, x, atol=0.01)
    np.testing.assert_allclose(layer.geometry.y, y, atol=0.01)
    assert layer.crs.to_epsg() == 4549


@pytest.mark.parametrize("coords", ["auto", "wgs84", "cgcs2000", "EPSG:4490", "EPSG:4326"])
def test_lon_lat_tables(tmp_path, coords):
    write(tmp_path, "t.csv", table(TRUTH))
    r = run(tmp_path, [{"path": "t.csv", "category": "garden", "coords": coords}])
    check_points(r.layers["garden"])


def test_gcj02_table_is_converted_to_wgs84(tmp_path):
    gcj = [tuple(float(v) for v in wgs84_to_gcj02(*p)) for p in TRUTH]
    write(tmp_path, "g.csv", table(gcj), "gbk")
    r = run(tmp_path, [{"path": "g.csv", "category": "garden", "coords": "gcj02"}])
    layer = r.layers["garden"]
    check_points(layer, tol_deg=1e-9)
    assert layer["source_crs"].eq("GCJ-02").all()
    np.testing.assert_allclose(layer["source_x"], [g[0] for g in gcj])
    # read as plain WGS84 the same file would be ~560 m off
    raw = run(tmp_path, [{"path": "g.csv", "category": "garden"}]).layers["garden"]
    shift = np.hypot(raw.geometry.x - layer.geometry.x, raw.geometry.y - layer.geometry.y)
    assert (shift > 400).all() and (shift < 800).all()


def test_bd09_table_is_converted_to_wgs84(tmp_path):
    bd = [tuple(float(v) for v in wgs84_to_bd09(*p)) for p in TRUTH]
    write(tmp_path, "b.csv", table(bd))
    r = run(tmp_path, [{"path": "b.csv", "category": "garden", "coords": "bd09"}])
    check_points(r.layers["garden"], tol_deg=1e-9)


def test_projected_xy_table(tmp_path):
    xy = [TO_4549.transform(*p) for p in TRUTH]
    write(tmp_path, "xy.csv", table(xy, "编号,名称,X坐标（m）,Y坐标（m）"))
    r = run(tmp_path, [{"path": "xy.csv", "category": "garden", "coords": "EPSG:4549"}])
    check_points(r.layers["garden"])
    assert r.layers["garden"]["source_crs"].eq("EPSG:4549").all()


def test_one_column_lon_lat_pair(tmp_path):
    write(tmp_path, "p.csv", "编号,经纬度\n" + "".join(f'P{i},"{a},{b}"\n' for i, (a, b) in enumerate(TRUTH)))
    check_points(run(tmp_path, [{"path": "p.csv", "category": "garden"}]).layers["garden"])


def test_xlsx_source(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["设备编号", "设备名称", "经度", "纬度", "调查日期", "额定起重量(t)", "高度(m)", "负责人"])
    ws.append([1001, "塔吊", TRUTH[0][0], TRUTH[0][1], 44350, 6, "45米", "王工"])
    ws.append([1002, "门机", TRUTH[1][0], TRUTH[1][1], pd.Timestamp("2021-06-04").to_pydatetime(), "8吨", 30, None])
    wb.save(tmp_path / "c.xlsx")
    r = run(tmp_path, [{"path": "c.xlsx", "category": "crane"}])
    layer = r.layers["crane"]
    check_points(layer)
    assert layer["id"].tolist() == ["1001", "1002"] and layer["source_row"].tolist() == [2, 3]
    assert layer["surveyed_on"].dt.strftime("%Y-%m-%d").tolist() == ["2021-06-03", "2021-06-04"]
    assert layer["rated_load_t"].tolist() == [6.0, 8.0] and layer["height_m"].tolist() == [45.0, 30.0]
    assert layer["负责人"].tolist()[0] == "王工"


def truth_gdf(crs, **extra):
    gdf = gpd.GeoDataFrame({"编号": ["P1", "P2"], "名称": ["一变", "二变"], "电压等级": ["35kV", "220"], **extra},
                           geometry=[Point(*p) for p in TRUTH], crs="EPSG:4326")
    return gdf.to_crs(crs)


def test_geopackage_in_gauss_kruger(tmp_path):
    truth_gdf(CRS).to_file(tmp_path / "p.gpkg", layer="power", driver="GPKG")
    r = run(tmp_path, [{"path": "p.gpkg", "category": "power"}])
    layer = r.layers["power"]
    check_points(layer)
    assert layer["voltage_kv"].tolist() == [35.0, 220.0] and layer["source_row"].tolist() == [1, 2]
    assert r.report["coordinates"][0] == "geometry in EPSG:4549"


def test_geojson_and_its_coordinate_columns(tmp_path):
    # a layer with geometry uses it; lon/lat attributes in it stay attributes
    truth_gdf("EPSG:4326", lon=[1.0, 2.0]).to_file(tmp_path / "p.geojson", driver="GeoJSON")
    layer = run(tmp_path, [{"path": "p.geojson", "category": "power"}]).layers["power"]
    check_points(layer)
    assert layer["lon_original"].tolist() == [1.0, 2.0]


def test_geojson_picked_on_amap_is_gcj02(tmp_path):
    gdf = truth_gdf("EPSG:4326")
    gdf.geometry = [Point(*(float(v) for v in wgs84_to_gcj02(p.x, p.y))) for p in gdf.geometry]
    gdf.to_file(tmp_path / "g.geojson", driver="GeoJSON")
    r = run(tmp_path, [{"path": "g.geojson", "category": "power", "coords": "gcj02"}])
    check_points(r.layers["power"], tol_deg=1e-9)


def test_shapefile_without_prj_takes_coords_from_config(tmp_path):
    p = tmp_path / "电力设施.shp"
    pyogrio.write_dataframe(truth_gdf(CRS), p, encoding="GBK")
    p.with_suffix(".prj").unlink()
    r = run(tmp_path, [{"path": "电力设施.shp", "category": "power", "coords": "EPSG:4549"}])
    layer = r.layers["power"]
    check_points(layer)
    assert layer["name"].tolist() == ["一变", "二变"]


def test_polygon_features_become_points_and_keep_their_shape(tmp_path):
    poly = Polygon([(119.19, 40.99), (119.21, 40.99), (119.21, 41.01), (119.19, 41.01)])
    gpd.GeoDataFrame({"编号": ["W1"]}, geometry=[poly], crs="EPSG:4326").to_file(tmp_path / "w.geojson")
    layer = run(tmp_path, [{"path": "w.geojson", "category": "waterlogging"}]).layers["waterlogging"]
    assert layer["lon"][0] == pytest.approx(119.20, abs=0.01)
    assert layer["source_geometry"][0].startswith("POLYGON")


def test_several_files_of_one_category_and_duplicates_across_them(tmp_path):
    write(tmp_path, "a.csv", table(TRUTH), "gbk")
    write(tmp_path, "b.csv", table([TRUTH[0]], header="编号,名称,lng,lat") + "P9,九,119.3,41.0\n")
    r = run(tmp_path, [{"path": "a.csv", "category": "garden"}, {"path": "b.csv", "category": "garden"}])
    assert r.layers["garden"]["id"].tolist() == ["P1", "P2", "P9"]
    assert r.rejected["reason"].tolist() == ["duplicate_id"]
    assert "by a.csv row 2" in r.rejected["message"][0]
    assert r.report["file"].tolist() == ["a.csv", "b.csv"] and r.report["rejected"].tolist() == [0, 1]


def test_header_only_file_gives_an_empty_layer(tmp_path):
    write(tmp_path, "e.csv", "编号,经度,纬度\n")
    r = run(tmp_path, [{"path": "e.csv", "category": "billboard"}])
    assert len(r.layers["billboard"]) == 0 and len(r.rejected) == 0
    assert r.report[["rows_read", "accepted", "rejected"]].iloc[0].tolist() == [0, 0, 0]


def test_ingest_raises_for_a_source_it_cannot_use(tmp_path):
    from risk.survey.source import RawSource, source_spec

    raw = RawSource(source_spec({"path": "x.csv", "category": "crane"}), pd.DataFrame({"编号": ["a"]}), [2])
    with pytest.raises(SurveyInputError, match="x.csv: no coordinates found"):
        ingest([raw], AOI, CRS)


# -- the whole thing: ingest_sources and the rule's script -----------------------------------------------------
def test_ingest_sources_reads_the_aoi_file(tmp_path):
    write(tmp_path, "t.csv", table(TRUTH))
    r = ingest_sources([{"path": "t.csv", "category": "garden"}], tmp_path, ROOT / "data" / "lingyuan_boundary.geojson",
                       CRS, 500)
    assert len(r.layers["garden"]) == 2


def load_script():
    return load_file("workflow/scripts/ingest_survey.py")


def test_script_writes_the_database_and_the_report(tmp_path):
    write(tmp_path, "内涝点.csv", MESSY.replace("高度（cm）", "最大积水深度（m）").replace("4500", "0.5"), "gbk")
    AOI.to_file(tmp_path / "aoi.geojson")
    truth_gdf(CRS).to_file(tmp_path / "p.gpkg", layer="power", driver="GPKG")
    sources = [{"path": "内涝点.csv", "category": "waterlogging"}, {"path": "p.gpkg", "category": "power"}]
    out = tmp_path / "results" / "survey"
    smk = SimpleNamespace(
        input=SimpleNamespace(sources=[str(tmp_path / s["path"]) for s in sources], aoi=str(tmp_path / "aoi.geojson")),
        params=SimpleNamespace(sources=sources, crs=CRS, tolerance_m=500, root=str(tmp_path),
                               dask={"scheduler": "synchronous"}),
        output=SimpleNamespace(gpkg=str(out / "survey.gpkg"), report=str(out / "ingest_report.csv")),
        log=[str(tmp_path / "log.txt")])
    load_script().main(smk)
    assert "survey ingest, rows per file" in (tmp_path / "log.txt").read_text(encoding="utf-8")
    assert data_layers(out / "survey.gpkg") == ["waterlogging", "power", "rejected"]
    report = pd.read_csv(out / "ingest_report.csv", encoding="utf-8-sig")
    assert report["file"].tolist() == ["内涝点.csv", "p.gpkg"]
    assert (report["rows_read"] == report["accepted"] + report["rejected"]).all()
    rejected = gpd.read_file(out / "survey.gpkg", layer="rejected")
    assert len(rejected) == report["rejected"].sum() and rejected.crs.to_epsg() == 4549
    assert rejected["geometry"].isna().sum() == 6  # rows without a point to show (5 coordinates, 1 broken)
    wl = gpd.read_file(out / "survey.gpkg", layer="waterlogging")
    assert len(wl) == report["accepted"][0] and "备注" in wl.columns and wl.crs.to_epsg() == 4549


def test_layers_carry_their_category_and_a_fixed_schema(messy):
    layer = messy.layers["crane"]
    assert (layer["category"] == "crane").all()
    assert list(layer.columns[:3]) == ["category", "id", "name"]
    assert {"lon", "lat", "source_file", "source_row", "source_crs", "source_x", "source_y"} <= set(layer.columns)


def test_columns_override_maps_unusual_headers(tmp_path):
    write(tmp_path, "c.csv", "塔吊号,东经度数,北纬度数,供电电压\nT1,119.2,41.0,380V\n")
    cols = {"塔吊号": "id", "东经度数": "lon", "北纬度数": "lat", "供电电压": "voltage_kv"}
    layer = run(tmp_path, [{"path": "c.csv", "category": "crane", "columns": cols}]).layers["crane"]
    assert layer["id"].tolist() == ["T1"] and layer["voltage_kv"].tolist() == [0.38]


def test_report_and_rejected_follow_the_order_of_the_sources(tmp_path):
    write(tmp_path, "a.csv", "编号,经度,纬度\nA1,,41\n")
    write(tmp_path, "b.csv", "编号,经度,纬度\nB1,,41\n")
    write(tmp_path, "c.csv", "编号,经度,纬度\nC1,,41\n")
    r = run(tmp_path, [{"path": "a.csv", "category": "crane"}, {"path": "b.csv", "category": "garden"},
                       {"path": "c.csv", "category": "crane"}])
    assert r.report["file"].tolist() == ["a.csv", "b.csv", "c.csv"]
    assert r.rejected["source_file"].tolist() == ["a.csv", "b.csv", "c.csv"]
    assert list(r.layers) == ["crane", "garden"] and list(r.database()) == ["crane", "garden", "rejected"]
