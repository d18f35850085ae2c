"""Reading survey files as they come: formats, encodings, row numbers, and files that cannot be used."""

import datetime as dt
import os

import geopandas as gpd
import numpy as np
import openpyxl
import pyogrio
import pytest
from shapely.geometry import Point

from risk.survey import SurveyInputError, check_sources, plan_source, read_source
from risk.survey.readers import detect_encoding

HEADER = "编号,名称,乡镇（街道）,经度,纬度,高度（m）,备注\n"
ROWS = "C1,塔吊一号,城关街道,119.25,41.05,45,已检\nC2,门式起重机㙟,北街街道,119.26,41.02,12,\n"


def write(tmp_path, name, text, encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def src(path, category="crane", **kw):
    return {"path": str(path), "category": category, **kw}


# -- encodings -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("encoding, codec", [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030"), ("utf-16", "utf-16"),
])
def test_csv_encodings_are_told_apart(tmp_path, encoding, codec):
    text = HEADER + ROWS
    if encoding == "utf-16":  # Excel's "Unicode text": UTF-16 with BOM, tab-separated
        text = text.replace(",", "\t")
    p = write(tmp_path, "c.csv", text, encoding)
    raw = read_source(src(p))
    assert list(raw.frame.columns) == ["编号", "名称", "乡镇（街道）", "经度", "纬度", "高度（m）", "备注"]
    assert raw.frame["名称"].tolist() == ["塔吊一号", "门式起重机㙟"]  # 㙟 is outside GBK, inside GB18030
    assert codec in raw.read_as


def test_gbk_csv_with_chinese_headers(tmp_path):
    p = write(tmp_path, "c.csv", HEADER + ROWS.replace("㙟", ""), "gbk")
    assert detect_encoding(p.read_bytes()) == "gb18030"
    for enc in ("auto", "gbk", "GBK", "gb2312", "cp936"):
        raw = read_source(src(p, encoding=enc))
        assert raw.frame["乡镇（街道）"].tolist() == ["城关街道", "北街街道"]


def test_wrong_explicit_encoding_names_the_file_and_hints(tmp_path):
    p = write(tmp_path, "内涝点.csv", HEADER + ROWS, "gb18030")
    with pytest.raises(SurveyInputError, match=r"内涝点\.csv: cannot be decoded as utf-8.*looks like gb18030"):
        read_source(src(p, encoding="utf-8"))


def test_undecodable_file_raises(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_bytes(HEADER.encode("utf-8") + b"C1,\xff\xfe\xff\x80,x,119.2,41.0,1,\n")
    with pytest.raises(SurveyInputError, match=r"bad\.csv: cannot be decoded: it is neither UTF-8 nor GB18030"):
        read_source(src(p))


# -- row numbers and messy tables -----------------------------------------------------------------------
def test_row_numbers_are_spreadsheet_rows(tmp_path):
    text = ("凌源市起重设备调查表,,,,,,\n" + HEADER + "C1,a,城关,119.25,41.05,45,\n" + ",,,,,,\n\n"
            + 'C2,"two\nlines",城关,119.26,41.02,12,\n' + "C3,c,城关,119.27,41.03,12,\n" + ",,,,,,\n")
    raw = read_source(src(write(tmp_path, "c.csv", text)))
    # title = row 1, header = row 2, C1 = row 3, two blank rows (4, 5), C2 = row 6 (one row despite
    # the line break inside its quoted cell), C3 = row 7; the trailing blank row is not data
    assert raw.rows.tolist() == [3, 6, 7]
    assert raw.frame["编号"].tolist() == ["C1", "C2", "C3"]
    assert raw.blank_rows == 2
    assert "header in row 2" in raw.read_as
    assert any("row 2" in n for n in raw.notes)


def test_header_in_row_one_means_first_data_row_is_two(tmp_path):
    raw = read_source(src(write(tmp_path, "c.csv", HEADER + ROWS)))
    assert raw.rows.tolist() == [2, 3]


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_other_separators_are_sniffed(tmp_path, sep):
    raw = read_source(src(write(tmp_path, "c.csv", (HEADER + ROWS).replace(",", sep))))
    assert raw.frame["经度"].tolist() == ["119.25", "119.26"]


def test_a_row_split_into_too_many_cells_is_marked_broken(tmp_path):
    text = HEADER + ROWS + "C3,凌源,二号,城关街道,119.27,41.03,12,已检\n"
    raw = read_source(src(write(tmp_path, "c.csv", text)))
    assert list(raw.broken) == [2] and "separator" in raw.broken[2]


def test_unnamed_columns_with_values_are_kept_and_empty_ones_dropped(tmp_path):
    text = "编号,经度,纬度,,\nC1,119.25,41.05,note,\nC2,119.26,41.02,,\n"
    raw = read_source(src(write(tmp_path, "c.csv", text)))
    assert list(raw.frame.columns) == ["编号", "经度", "纬度", "column_D"]


def test_duplicate_headers_are_made_unique(tmp_path):
    text = "编号,经度,纬度,备注,备注\nC1,119.25,41.05,a,b\n"
    raw = read_source(src(write(tmp_path, "c.csv", text)))
    assert list(raw.frame.columns) == ["编号", "经度", "纬度", "备注", "备注_2"]


# -- Excel ---------------------------------------------------------------------------------------------------
def make_xlsx(path, sheets):
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    wb.save(path)
    return path


def test_xlsx_rows_dates_and_merged_cells(tmp_path):
    path = tmp_path / "大型起重设备.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "起重设备"
    ws.append(["大型起重设备普查表"])
    ws.merge_cells("A1:G1")
    ws.append(["设备编号", "设备名称", "乡镇", "经度", "纬度", "调查日期", "安装年份"])
    ws.append([1001, "塔吊", "城关街道", 119.25, 41.05, dt.datetime(2021, 6, 3), 2015])
    ws.append([1002, "门机", None, 119.26, 41.02, 44350, "2016年"])
    ws.append([1003, "汽车吊", None, 119.27, 41.03, "2021/6/5", 2017.0])
    ws.merge_cells("C3:C5")  # the township written once for three rows
    wb.save(path)
    raw = read_source(src(path))
    assert raw.rows.tolist() == [3, 4, 5]
    assert raw.frame["乡镇"].tolist() == ["城关街道"] * 3
    assert raw.frame["调查日期"].iloc[0] == dt.datetime(2021, 6, 3)
    assert raw.frame["调查日期"].iloc[1] == 44350
    assert raw.frame["设备编号"].tolist() == [1001, 1002, 1003]
    assert "merged cells filled" in raw.read_as


def test_xlsx_header_in_row_one(tmp_path):
    path = make_xlsx(tmp_path / "c.xlsx", {"Sheet1": [["编号", "经度", "纬度"], ["C1", 119.25, 41.05]]})
    raw = read_source(src(path))
    assert raw.rows.tolist() == [2]


def test_xlsx_picks_the_one_sheet_with_coordinates(tmp_path):
    path = make_xlsx(tmp_path / "c.xlsx", {"说明": [["填表说明"], ["坐标用WGS84"]],
                                           "数据": [["编号", "经度", "纬度"], ["C1", 119.25, 41.05]]})
    raw = read_source(src(path))
    assert "数据" in raw.read_as and raw.frame["编号"].tolist() == ["C1"]


def test_xlsx_with_several_data_sheets_needs_a_layer(tmp_path):
    table = [["编号", "经度", "纬度"], ["C1", 119.25, 41.05]]
    path = make_xlsx(tmp_path / "c.xlsx", {"城关": table, "北街": table})
    with pytest.raises(SurveyInputError, match=r"c\.xlsx: several sheets.*城关, 北街.*layer"):
        read_source(src(path))
    raw = read_source(src(path, layer="北街"))
    assert raw.label.endswith("c.xlsx|layername=北街")
    with pytest.raises(SurveyInputError, match="no sheet '南街'"):
        read_source(src(path, layer="南街"))


# -- GIS layers -------------------------------------------------------------------------------------------
def points_gdf(crs="EPSG:4326"):
    gdf = gpd.GeoDataFrame({"编号": ["P1", "P2", "P3"], "名称": ["凌源一变", "二变", "三变"],
                            "电压等级": ["35kV", "220", "10千伏"]},
                           geometry=[Point(119.25, 41.05), Point(119.26, 41.02), None], crs="EPSG:4326")
    return gdf.to_crs(crs)


def test_geojson_features_are_numbered_from_one(tmp_path):
    p = tmp_path / "电力设施.geojson"
    points_gdf().to_file(p, driver="GeoJSON")
    raw = read_source(src(p, "power"))
    assert raw.rows.tolist() == [1, 2, 3]
    assert raw.geometry.crs.to_epsg() == 4326 and raw.geometry.iloc[2] is None
    assert raw.frame["名称"].tolist() == ["凌源一变", "二变", "三变"]
    assert plan_source(raw).coord_mode == "geometry"


def test_gbk_geojson_is_decoded(tmp_path):
    p = tmp_path / "g.geojson"
    points_gdf().to_file(p, driver="GeoJSON")
    p.write_bytes(p.read_text(encoding="utf-8").encode("gbk"))
    raw = read_source(src(p, "power"))
    assert raw.frame["名称"].iloc[0] == "凌源一变" and "gb18030" in raw.read_as


def test_geojson_without_geometry_is_read_as_a_table(tmp_path):
    p = write(tmp_path, "t.geojson", '{"type": "FeatureCollection", "features": [{"type": "Feature", '
              '"properties": {"编号": "P1", "经度": 119.25, "纬度": 41.05}, "geometry": null}]}')
    raw = read_source(src(p, "power"))
    assert raw.geometry is None and plan_source(raw).coord_headers == ("经度", "纬度")


def test_gpkg_in_cgcs2000_gauss_kruger(tmp_path):
    p = tmp_path / "power.gpkg"
    points_gdf("EPSG:4549").to_file(p, layer="power", driver="GPKG")
    raw = read_source(src(p, "power"))
    assert raw.geometry.crs.to_epsg() == 4549 and raw.rows.tolist() == [1, 2, 3]
    assert plan_source(raw).crs_label == "EPSG:4549"


def test_gpkg_with_several_layers_needs_a_layer(tmp_path):
    p = tmp_path / "many.gpkg"
    points_gdf().to_file(p, layer="substations", driver="GPKG")
    points_gdf().to_file(p, layer="towers", driver="GPKG")
    with pytest.raises(SurveyInputError, match=r"many\.gpkg: has 2 layers \(substations, towers\)"):
        read_source(src(p, "power"))
    assert len(read_source(src(p, "power", layer="towers")).frame) == 3
    with pytest.raises(SurveyInputError, match="no layer 'poles'"):
        read_source(src(p, "power", layer="poles"))


@pytest.mark.parametrize("keep_cpg", [True, False])
def test_gbk_shapefile_with_and_without_cpg(tmp_path, keep_cpg):
    p = tmp_path / "电力.shp"
    pyogrio.write_dataframe(points_gdf(), p, encoding="GBK")
    if not keep_cpg:
        os.remove(p.with_suffix(".cpg"))
    raw = read_source(src(p, "power"))
    assert list(raw.frame.columns) == ["编号", "名称", "电压等级"]
    assert raw.frame["名称"].tolist() == ["凌源一变", "二变", "三变"]
    raw = read_source(src(p, "power", encoding="gbk"))
    assert raw.frame["名称"].iloc[0] == "凌源一变"


def test_shapefile_without_dbf_raises(tmp_path):
    p = tmp_path / "x.shp"
    pyogrio.write_dataframe(points_gdf(), p, encoding="GBK")
    os.remove(p.with_suffix(".dbf"))
    with pytest.raises(SurveyInputError, match=r"x\.shp: its attribute file x\.dbf is missing"):
        read_source(src(p, "power"))


# -- files that cannot be used -------------------------------------------------------------------------
def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(SurveyInputError, match=r"data/survey/内涝点\.csv: file not found"):
        read_source(src("data/survey/内涝点.csv", "waterlogging"), root=tmp_path)


@pytest.mark.parametrize("name, content, message", [
    ("a.xls", b"\xd0\xcf\x11\xe0rest", r"a\.xls: old Excel \.xls"),
    ("a.docx", b"PK\x03\x04", r"a\.docx: unsupported file type '\.docx'"),
    ("a.csv", b"", r"a\.csv: is empty"),
    ("a.csv", b"PK\x03\x04zipdata", r"a\.csv: is an Excel workbook"),
    ("a.csv", b"\x00\x01\x02binary\x00", r"a\.csv: is binary"),
    ("a.xlsx", b"not a zip at all", r"a\.xlsx: is not a readable \.xlsx workbook"),
    ("a.gpkg", b"not sqlite", r"a\.gpkg: is not a readable GeoPackage"),
    ("a.geojson", b"{not json", r"a\.geojson: cannot be read as GeoJSON"),
])
def test_unreadable_files_raise_one_clear_error(tmp_path, name, content, message):
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(SurveyInputError, match=message):
        raws = check_sources([src(p)])
        plan_source(raws[0])


def test_no_coordinate_columns_raises(tmp_path):
    p = write(tmp_path, "园林.csv", "编号,名称,地址\nG1,古树,城关\n", "gbk")
    with pytest.raises(SurveyInputError, match=r"园林\.csv: no coordinates found: expected a geometry or "
                                               r"coordinate columns.*headers are: 编号, 名称, 地址"):
        check_sources([src(p, "garden")])
    # naming the columns in the config makes the file usable
    p2 = write(tmp_path, "园林2.csv", "编号,东经度数,北纬度数\nG1,119.2,41.0\n")
    raws = check_sources([src(p2, "garden", columns={"东经度数": "lon", "北纬度数": "lat"})])
    assert plan_source(raws[0]).coord_headers == ("东经度数", "北纬度数")


def test_check_sources_lists_every_bad_file_and_stops(tmp_path):
    good = write(tmp_path, "good.csv", HEADER + ROWS)
    nocoord = write(tmp_path, "nocoord.csv", "编号\nC1\n")
    sources = [src(good), src(tmp_path / "missing.csv"), src(nocoord), src(good)]
    with pytest.raises(SurveyInputError) as e:
        check_sources(sources)
    msg = str(e.value)
    assert msg.startswith("3 survey files cannot be used")
    assert "missing.csv: file not found" in msg and "nocoord.csv: no coordinates" in msg
    assert "good.csv: listed twice" in msg
    assert isinstance(e.value, ValueError)


@pytest.mark.parametrize("entry, message", [
    ({"path": "x.csv", "category": "bridge"}, "category 'bridge' is not one of"),
    ({"path": "x.csv", "category": "crane", "encoding": "klingon"}, "encoding 'klingon' is unknown"),
    ({"path": "x.csv", "category": "crane", "coords": "bd-10"}, "coords 'bd-10' is not one of"),
    ({"path": "x.csv", "category": "crane", "coords": "EPSG:999999"}, "not a known EPSG code"),
    ({"path": "x.csv", "category": "crane", "columns": {"a": "tallness"}}, "unknown field"),
    ({"path": "x.csv", "category": "crane", "colums": {}}, "unknown key"),
    ({"category": "crane"}, "expected a mapping with at least `path`"),
])
def test_bad_config_entries(tmp_path, entry, message):
    with pytest.raises(SurveyInputError, match=message):
        check_sources([entry], tmp_path)


def test_columns_override_naming_a_missing_header(tmp_path):
    p = write(tmp_path, "c.csv", HEADER + ROWS)
    with pytest.raises(SurveyInputError, match=r"c\.csv: columns: header '杆高' is not in the file"):
        check_sources([src(p, columns={"杆高": "height_m"})])


def test_projected_metres_without_a_crs_raise(tmp_path):
    p = write(tmp_path, "xy.csv", "编号,X坐标,Y坐标\nC1,436946.1,4546397.0\n")
    with pytest.raises(SurveyInputError, match=r"xy\.csv: X坐标 / Y坐标 hold projected metres.*EPSG:NNNN"):
        check_sources([src(p)])
    assert plan_source(check_sources([src(p, coords="EPSG:4549")])[0]).coord_mode == "xy"
    # x/y holding degrees (as QGIS exports them) are fine with coords: auto
    p2 = write(tmp_path, "xy2.csv", "编号,x,y\nC1,119.25,41.05\n")
    assert plan_source(check_sources([src(p2)])[0]).crs_label == "EPSG:4326"


def test_degrees_with_a_projected_crs_raise(tmp_path):
    p = write(tmp_path, "d.csv", HEADER + ROWS)
    with pytest.raises(SurveyInputError, match=r"d\.csv: coords is EPSG:4549 \(projected, metres\) but 经度 / 纬度"):
        check_sources([src(p, coords="EPSG:4549")])


def test_relative_paths_resolve_against_the_root(tmp_path):
    (tmp_path / "data").mkdir()
    write(tmp_path / "data", "c.csv", HEADER + ROWS)
    raws = check_sources([src("data/c.csv")], root=tmp_path)
    assert raws[0].label == "data/c.csv" and np.array_equal(raws[0].rows, [2, 3])
