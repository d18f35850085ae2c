"""Survey values as people write them: numbers, quantities, dates, coordinates, headers."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from risk.survey import fields as F
from risk.survey import parse as P


@pytest.mark.parametrize("text, expected", [
    ("12.5", (12.5, "")),
    ("１２.５", (12.5, "")),
    ("１２．５", (12.5, "")),
    ("1,200", (1200.0, "")),
    ("1,234,567.25", (1234567.25, "")),
    ("35kV", (35.0, "kv")),
    ("35 KV", (35.0, "kv")),
    ("8米", (8.0, "米")),
    ("12.5m", (12.5, "m")),
    ("300㎡", (300.0, "m2")),
    ("300 m²", (300.0, "m2")),
    ("约12米", (12.0, "米")),
    ("-3", (-3.0, "")),
    ("−3", (-3.0, "")),
    ("1.5e3", (1500.0, "")),
    (" 7 ", (7.0, "")),
    (7, (7.0, "")),
    (np.float32(2.5), (2.5, "")),
    (np.int64(3), (3.0, "")),
])
def test_numbers_written_by_people(text, expected):
    assert P.parse_number(text) == expected


@pytest.mark.parametrize("blank", [None, "", "  ", "\u3000", "-", "—", "/", "无", "不详", "N/A", "nan", float("nan"),
                                   pd.NA, pd.NaT])
def test_blanks_are_none(blank):
    assert P.parse_number(blank) is None
    assert P.parse_date(blank) is None
    assert P.parse_coordinate(blank) is None


@pytest.mark.parametrize("text", ["abc", "3~5", "3-5", "1,5", "12.5.3", "高", True, float("inf")])
def test_not_numbers_raise(text):
    with pytest.raises(ValueError):
        P.parse_number(text)


@pytest.mark.parametrize("value, unit, header_unit, expected", [
    ("35kV", "kV", "", 35.0),
    ("220", "kV", "kv", 220.0),
    ("380V", "kV", "", 0.38),
    ("10千伏", "kV", "", 10.0),
    ("8米", "m", "", 8.0),
    ("50cm", "m", "", 0.5),
    ("50", "m", "cm", 0.5),
    ("50", "m", "", 50.0),
    ("2万元", "万元", "", 2.0),
    ("30000", "万元", "元", 3.0),
    ("3亩", "m2", "", 2000.0),
    ("90分钟", "h", "", 1.5),
    ("500kg", "t", "", 0.5),
    ("12人", "人", "", 12.0),
    ("1,200", "m2", "m2/m2", 1200.0),
    ("4", "m", "约", 4.0),  # an unknown header unit is a label, not a conversion
])
def test_quantities_convert_units(value, unit, header_unit, expected):
    assert P.parse_quantity(value, unit, header_unit) == pytest.approx(expected)


def test_quantity_with_a_foreign_unit_raises():
    with pytest.raises(ValueError, match="unit"):
        P.parse_quantity("5kg", "m")
    with pytest.raises(ValueError, match="whole number"):
        P.parse_int("12.5", "人")
    assert P.parse_int("12.0", "人") == 12


@pytest.mark.parametrize("value", [
    "2021-06-03", "2021/6/3", "2021.6.3", "2021年6月3日", "2021 年 6 月 3 日", "２０２１－０６－０３", "20210603",
    20210603, "2021-06-03 14:30:00", "2021/6/3 8:05", "2021-06-03T14:30:00Z", "二〇二一年六月三日", 44350, 44350.6,
    "44350", dt.datetime(2021, 6, 3, 9, 30), dt.date(2021, 6, 3), pd.Timestamp("2021-06-03"),
    np.datetime64("2021-06-03"),
])
def test_dates_written_any_common_way(value):
    assert P.parse_date(value) == dt.date(2021, 6, 3)


@pytest.mark.parametrize("value, expected", [
    (2015, "2015"), ("2015", "2015"), ("2015年", "2015"), (2015.0, "2015"), ("2015年6月", "2015-06"),
    ("2015-6", "2015-06"), ("2015/6/3", "2015-06-03"), (42158, "2015-06-03"), ("二〇一五年", "2015"),
])
def test_installed_on_accepts_a_bare_year(value, expected):
    assert P.parse_partial_date(value) == expected


@pytest.mark.parametrize("value", ["2021", 2021, "2021年6月", "2021-02-30", "03/06/2021", "上周", "2021-13-01",
                                   99999999, 3000000])
def test_bad_or_partial_survey_dates_raise(value):
    with pytest.raises(ValueError):
        P.parse_date(value)


@pytest.mark.parametrize("value, expected", [
    ("119.25", 119.25), ("１１９．２５", 119.25), (119.25, 119.25), ("119.25°", 119.25), ("东经119.25", 119.25),
    ("119°15′", 119.25), ("119°15′36″E", 119.26), ("119°15'36\"", 119.26), ("119度15分36秒", 119.26),
    ("北纬41度6分", 41.1), ("33.5S", -33.5), ("-33.5", -33.5), ("4,545,000.5", 4545000.5),
])
def test_coordinates_decimal_and_dms(value, expected):
    assert P.parse_coordinate(value) == pytest.approx(expected)


@pytest.mark.parametrize("value", ["abc", "119°75′", "119,25", "N/A?"])
def test_bad_coordinates_raise(value):
    with pytest.raises(ValueError):
        P.parse_coordinate(value)


def test_coordinate_pair_in_one_cell():
    assert P.parse_coordinate_pair("119.25,41.05") == (119.25, 41.05)
    assert P.parse_coordinate_pair("119.25， 41.05") == (119.25, 41.05)
    assert P.parse_coordinate_pair("(119.25 41.05)") == (119.25, 41.05)
    with pytest.raises(ValueError):
        P.parse_coordinate_pair("119.25")


def test_text_and_ids():
    assert P.parse_text("  下穿桥 \u3000") == "下穿桥"
    assert P.parse_text(1001.0) == "1001"
    assert P.parse_id("ＷＬ００１") == "WL001"
    assert P.parse_id(" 001 ") == "001"
    assert F.normalise_inspection(" 检验合格 ") == "合格"
    assert F.normalise_inspection("超期") == "过期"
    assert F.normalise_inspection("待整改") == "待整改"


# -- headers ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("header, category, field, unit", [
    ("编号", "crane", "id", ""),
    ("隐患点编号", "waterlogging", "id", ""),
    ("ID", "power", "id", ""),
    ("Code", "power", "id", ""),
    ("点位名称", "garden", "name", ""),
    ("乡镇（街道）", "billboard", "township", ""),
    ("乡镇(街道)", "billboard", "township", ""),
    ("所属乡镇", "billboard", "township", ""),
    (" 经度 ", "garden", "lon", ""),
    ("LNG", "garden", "lon", ""),
    ("Latitude", "garden", "lat", ""),
    ("经度（°）", "garden", "lon", ""),
    ("X坐标", "power", "x", ""),
    ("Ｘ坐标（m）", "power", "x", "m"),
    ("Northing", "power", "y", ""),
    ("调查时间", "crane", "surveyed_on", ""),
    ("威胁人数（人）", "crane", "exposed_people", "人"),
    ("威胁财产（万元）", "crane", "exposed_property", "万元"),
    ("潜在经济损失（万元）", "crane", "exposed_property", "万元"),
    ("潜在经济损失(元)", "crane", "exposed_property", "元"),
    ("最大积水深度（m）", "waterlogging", "max_depth_m", "m"),
    ("最大积水深度（ｍ）", "waterlogging", "max_depth_m", "m"),
    ("积水深度(cm)", "waterlogging", "max_depth_m", "cm"),
    ("最大积水\n深度（m）", "waterlogging", "max_depth_m", "m"),
    ("积水面积（m²/㎡）", "waterlogging", "area_m2", "m2/m2"),
    ("积水面积（㎡）", "waterlogging", "area_m2", "m2"),
    ("面积", "billboard", "area_m2", ""),
    ("积水时长（h）", "waterlogging", "duration_h", "h"),
    ("退水时间", "waterlogging", "duration_h", ""),
    ("设备类型", "crane", "kind", ""),
    ("结构类型", "billboard", "kind", ""),
    ("高度（m）", "crane", "height_m", "m"),
    ("高度/m", "garden", "height_m", "m"),
    ("高度 【m】", "garden", "height_m", "m"),
    ("额定起重量（t）", "crane", "rated_load_t", "t"),
    ("电压等级（kV）", "power", "voltage_kv", "kv"),
    ("电压等级(KV)", "power", "voltage_kv", "kv"),
    ("安装年份", "crane", "installed_on", ""),
    ("建成年份", "garden", "installed_on", ""),
    ("检测情况", "crane", "inspection", ""),
    ("安全状况", "billboard", "inspection", ""),
    ("max_depth_m", "waterlogging", "max_depth_m", ""),
])
def test_header_aliases(header, category, field, unit):
    assert F.match_header(header, category) == (field, unit)


@pytest.mark.parametrize("header, category", [
    ("电压等级（kV）", "crane"),  # a power field
    ("最大积水深度（m）", "power"),  # a waterlogging field
    ("类型", "waterlogging"),  # kind is not a waterlogging field
    ("序号", "crane"),  # a row counter is no id
    ("备注", "crane"),
])
def test_headers_of_other_categories_or_unknown_are_not_matched(header, category):
    assert F.match_header(header, category)[0] is None


def test_resolve_columns_first_wins_and_overrides():
    mapping, notes = F.resolve_columns(["编号", "ID", "经度", "纬度", "杆高"], "power", {"杆高": "height_m"})
    assert mapping["编号"] == ("id", "") and "ID" not in mapping and "already" in notes[0]
    assert mapping["杆高"] == ("height_m", "")
    mapping, _ = F.resolve_columns(["编号", "经度"], "power", {"编号": None})
    assert "编号" not in mapping
    with pytest.raises(KeyError, match="not in the file"):
        F.resolve_columns(["编号"], "power", {"杆高": "height_m"})
    with pytest.raises(KeyError, match="no such field"):
        F.resolve_columns(["杆高"], "power", {"杆高": "tallness"})


def test_field_ranges():
    assert F.FIELDS["max_depth_m"].in_range(10) and not F.FIELDS["max_depth_m"].in_range(60)
    assert not F.FIELDS["height_m"].in_range(-1) and F.FIELDS["height_m"].in_range(0)
    assert not F.FIELDS["rated_load_t"].in_range(0) and F.FIELDS["rated_load_t"].in_range(0.5)
    assert F.FIELDS["max_depth_m"].range_text() == "0–10 m"
    assert set(F.category_fields("power")) >= {"id", "voltage_kv", "height_m", "kind"}
    assert "voltage_kv" not in F.category_fields("crane")


@pytest.mark.parametrize("written", [
    "乡镇（街道）", "乡镇(街道)", " 乡镇 （街道） ", "乡镇（街道）：", "*乡镇（街道）", "乡镇", "township", "Township",
    "ＴＯＷＮＳＨＩＰ",
])
def test_one_header_folding_for_survey_files_and_capacity_tables(written):
    """``fields.normalise_header`` folds the headers of survey files and of the planner-filled capacity and
    statistics tables alike (``乡镇（街道）`` is a header of both vocabularies)."""
    from risk.capacity import capacity_index as C
    from risk.capacity import plan_targets as T

    assert F.match_header(written, "crane") == ("township", "")
    assert C.header_map([written], C.TABLE_COLUMNS) == {written: "township"}
    # the capacity side also drops units in brackets or after a slash, however many
    folded = F.normalise_header(written)
    for unit in ("（个）", "(个)", "/人", "（人）（2023年）"):
        assert C.header_map([written + unit], C.TABLE_COLUMNS) == {written + unit: "township"}
        assert F.normalise_header(written + unit).startswith(folded)
    assert T.header_map is C.header_map and C.normalise_header is F.normalise_header  # one folding
