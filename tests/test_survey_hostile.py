"""Hostile numbers in survey files: each is rejected on its own row with a reason, none crashes, none is lost.

Inputs a census export really carries (an Excel overflow, a mistyped exponent, a pasted huge id) must end in the
``rejected`` layer with the file and the row, never as an infinite or empty point in the database.
"""

import math

import geopandas as gpd
import pytest
from shapely.geometry import box

from risk.survey import check_sources, ingest
from risk.survey import parse as P

AOI = gpd.GeoDataFrame(geometry=[box(119.10, 40.93, 119.37, 41.08)], crs="EPSG:4326")
HEAD = "编号,名称,乡镇（街道）,经度,纬度,最大积水深度（m）,影响人口（人）\n"
GOOD = "W0,好,城关街道,119.20,41.00,0.5,10\n"

# (the bad row, the reason it must get): numbers that overflow, are infinite, or too large to store
CASES = [
    ("W1,a,城关街道,1e400,41.00,0.5,10", "invalid_coordinates"),
    ("W1,a,城关街道,119.20,1e400,0.5,10", "invalid_coordinates"),
    ("W1,a,城关街道,-1e400,41.00,0.5,10", "invalid_coordinates"),
    ("W1,a,城关街道,119.20,41.00,1e309,10", "out_of_range"),
    ("W1,a,城关街道,119.20,41.00,-1e309,10", "out_of_range"),
    ("W1,a,城关街道,119.20,41.00,1e308km,10", "out_of_range"),
    ("W1,a,城关街道,119.20,41.00,0.5,1e309", "out_of_range"),
    ("W1,a,城关街道,119.20,41.00,0.5,1e20", "out_of_range"),
    ("W1,a,城关街道,119.20,41.00,0.5,99999999999999999999", "out_of_range"),
    ("W1,a,城关街道,119.20,41.00,0.5,1000000000000000", "out_of_range"),  # fits 2**53, but 10^15 people
    ("W1,a,城关街道,119.20,41.00,0.5,inf", "unreadable"),
    ("W1,a,城关街道,119.20,41.00,60,10", "out_of_range"),
    ("W1,a,城关街道,119.20,41.00,0.5,-5", "out_of_range"),
]


@pytest.mark.parametrize("row, reason", CASES, ids=[c[0].split(",", 3)[3] for c in CASES])
def test_a_hostile_number_is_rejected_on_its_row(tmp_path, row, reason):
    (tmp_path / "w.csv").write_text(HEAD + GOOD + row + "\n", encoding="utf-8")
    r = ingest(check_sources([{"path": "w.csv", "category": "waterlogging"}], tmp_path), AOI, "EPSG:4549", 500)
    accepted = r.layers["waterlogging"]
    assert list(accepted["id"]) == ["W0"]
    assert all(math.isfinite(v) for v in accepted.geometry.x) and not accepted.geometry.is_empty.any()
    rej = r.rejected.set_index("source_row")
    assert list(rej.index) == [3] and rej.loc[3, "reason"] == reason, rej.loc[3, "message"]
    assert rej.loc[3, "source_file"].endswith("w.csv")


@pytest.mark.parametrize("text", ["1e400", "-1e400", "1E999", "１e400"])
def test_parsers_raise_out_of_range_for_infinite_text(text):
    for parse in (P.parse_number, P.parse_coordinate, P.parse_int):
        with pytest.raises(P.OutOfRangeError):
            parse(text)


def test_whole_numbers_beyond_2_53_are_out_of_range_and_below_are_kept():
    assert P.parse_int(str(2**53)) == 2**53
    with pytest.raises(P.OutOfRangeError, match="too large"):
        P.parse_int(str(2**53 * 4))


def test_absurd_numbers_already_stored_as_numbers_are_out_of_range(tmp_path):
    # a GeoPackage hands numbers over as floats, never as text: 1e20 kV or a 10^6 t crane is no number to score on
    from shapely.geometry import Point

    gdf = gpd.GeoDataFrame({"编号": ["P1", "P2", "P3"], "电压等级（kV）": [220.0, 1e20, 1_000.0]},
                           geometry=[Point(119.20 + i / 100, 41.0) for i in range(3)], crs="EPSG:4326")
    gdf.to_file(tmp_path / "p.gpkg", driver="GPKG")
    r = ingest(check_sources([{"path": "p.gpkg", "category": "power"}], tmp_path), AOI, "EPSG:4549", 500)
    assert list(r.layers["power"]["id"]) == ["P1", "P3"] and list(r.layers["power"]["voltage_kv"]) == [220.0, 1000.0]
    (row,) = r.rejected.itertuples()
    assert (row.source_row, row.reason) == (2, "out_of_range")
    assert row.message.startswith("voltage_kv = 1e+20 kV (电压等级（kV）: ")
    assert row.message.endswith("is out of range: expected > 0 and <= 1100 kV")


def test_a_formatted_cell_far_below_the_data_does_not_make_a_million_rows(tmp_path):
    import openpyxl
    from openpyxl.styles import PatternFill

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["编号", "经度", "纬度", "最大积水深度（m）"])
    for i in range(10):
        ws.append([f"W{i}", 119.2 + i / 1000, 41.0, 0.5])
    ws.cell(row=1_048_576, column=200).fill = PatternFill("solid", fgColor="FFFF00")  # one coloured cell, no value
    wb.save(tmp_path / "w.xlsx")
    r = ingest(check_sources([{"path": "w.xlsx", "category": "waterlogging"}], tmp_path), AOI, "EPSG:4549", 500)
    assert len(r.layers["waterlogging"]) == 10 and len(r.rejected) == 0
    assert int(r.report["rows_read"].iloc[0]) == 10


def test_a_huge_cell_rejects_its_row_not_the_file(tmp_path):
    blob = "x" * 2_000_000
    (tmp_path / "w.csv").write_text(HEAD + GOOD + f"W1,{blob},城关街道,119.21,41.00,0.5,10\n"
                                    + "W2,好,城关街道,119.22,41.00,0.5,10\n", encoding="utf-8")
    r = ingest(check_sources([{"path": "w.csv", "category": "waterlogging"}], tmp_path), AOI, "EPSG:4549", 500)
    assert sorted(r.layers["waterlogging"]["id"]) == ["W0", "W2"]
    rej = r.rejected.set_index("source_row")
    assert list(rej.index) == [3] and rej.loc[3, "reason"] == "out_of_range"
    assert "2,000,000 characters" in rej.loc[3, "message"]


def test_comma_decimal_coordinates_are_named_as_such(tmp_path):
    from risk.survey import SurveyInputError

    text = HEAD + '"W0",a,城关街道,"119,250","41,003",0.5,10\n"W1",b,城关街道,"119,251","41,004",0.5,10\n'
    (tmp_path / "w.csv").write_text(text, encoding="utf-8")
    with pytest.raises(SurveyInputError, match="comma as the decimal mark"):
        ingest(check_sources([{"path": "w.csv", "category": "waterlogging"}], tmp_path), AOI, "EPSG:4549", 500)


def test_a_gbk_line_in_a_utf8_file_is_decoded_on_its_own_and_reported(tmp_path):
    data = (HEAD + GOOD).encode("utf-8") + "W1,南门桥下,城关街道,119.21,41.00,0.5,10\n".encode("gbk") \
        + "W2,北大街,城关街道,119.22,41.00,0.5,10\n".encode()
    (tmp_path / "w.csv").write_bytes(data)
    r = ingest(check_sources([{"path": "w.csv", "category": "waterlogging"}], tmp_path), AOI, "EPSG:4549", 500)
    assert list(r.layers["waterlogging"]["name"]) == ["好", "南门桥下", "北大街"]
    assert "GB18030 on line(s) 3" in r.report["read_as"].iloc[0]


@pytest.mark.parametrize("word", ["路水", "水源", "源施园"])
def test_gbk_bytes_that_happen_to_be_valid_utf8_are_read_as_gbk(word):
    from risk.survey.readers import detect_encoding

    data = f"id,name\nW1,{word}\n".encode("gbk")
    data.decode("utf-8")  # the trap: these bytes are valid UTF-8 too (they read as '·ˮ', 'ˮԴ', ...)
    assert detect_encoding(data) == "gb18030"
    assert detect_encoding(f"id,name\nW1,{word}\n".encode()) == "utf-8"


def test_lines_and_polygons_in_a_point_survey_are_named_in_the_report(tmp_path):
    from shapely.geometry import LineString, Point, Polygon

    gdf = gpd.GeoDataFrame({"编号": ["P1", "P2", "P3"], "名称": ["a", "b", "c"]},
                           geometry=[Point(119.20, 41.0), LineString([(119.21, 41.0), (119.22, 41.01)]),
                                     Polygon([(119.23, 41.0), (119.24, 41.0), (119.24, 41.01)])], crs="EPSG:4326")
    gdf.to_file(tmp_path / "p.gpkg", driver="GPKG")
    r = ingest(check_sources([{"path": "p.gpkg", "category": "power"}], tmp_path), AOI, "EPSG:4549", 500)
    assert len(r.layers["power"]) == 3
    note = r.report["coordinates"].iloc[0]
    assert "1 linestring, 1 polygon taken at their representative point" in note
    assert r.layers["power"]["source_geometry"].notna().sum() == 2
