"""Canonical survey fields, the headers recognised for them, and header normalisation.

The contract (``shared/spec/survey-inputs.md``) lists, for each canonical field, its type, its
valid range, the categories it belongs to and the headers survey teams write for it. This module
holds that table as data (:data:`FIELDS`) and the rules that match a header written by a person
(``最大积水深度（ｍ）``, ``乡镇(街道)``, ``Longitude``) to a field:

* headers match case-, space- and width-insensitively (Unicode NFKC folds full-width letters,
  digits and brackets to ASCII, so ``（）`` = ``()``, ``㎡`` = ``m2``);
* with or without a unit in brackets (``高度（m）`` = ``高度`` = ``高度/m``); the unit is returned so
  that a column in ``cm`` or ``元`` is converted to the canonical ``m`` or ``万元``;
* a field belongs to some categories only (``voltage_kv`` is a ``power`` field): in another
  category its header is not matched, and the column is kept as an extra under its own header.

Nothing here reads files.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from risk import CATEGORIES

ALL = frozenset(CATEGORIES)


@dataclass(frozen=True)
class Field:
    """One canonical survey field.

    Parameters
    ----------
    name : str
        Canonical column name in the survey database.
    kind : str
        ``text``, ``id``, ``float``, ``int``, ``date``, ``date_or_year``, ``coord`` or ``coord_pair``.
    aliases : tuple of str
        Headers recognised for the field (normalised with :func:`normalise_header` on use).
    categories : frozenset of str
        Categories the field belongs to.
    lo, hi : float or None
        Valid range; ``lo_open`` / ``hi_open`` make a bound exclusive (``> 0`` rather than ``>= 0``). Where the
        contract gives no upper bound, ``hi`` is beyond anything real (1,100 kV, the highest voltage in service;
        20,000 t, the largest crane built; a year of ponding; 10⁸ people, 万元 or m²), so that an overflowed or
        mistyped number (1e20 kV) is an ``out_of_range`` rejection rather than a point scored on it.
    unit : str or None
        Canonical unit, also the dimension used to convert other units (see :data:`UNITS`).
    label : str
        Chinese label (for messages and reports).
    """

    name: str
    kind: str
    aliases: tuple[str, ...]
    categories: frozenset = ALL
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    unit: str | None = None
    label: str = ""

    def applies_to(self, category: str) -> bool:
        return category in self.categories

    def in_range(self, value: float) -> bool:
        """True when ``value`` lies inside the field's range."""
        if self.lo is not None and (value <= self.lo if self.lo_open else value < self.lo):
            return False
        if self.hi is not None and (value >= self.hi if self.hi_open else value > self.hi):
            return False
        return True

    def range_text(self) -> str:
        """The range as people write it, e.g. ``0–10 m``, ``> 0 t`` or ``> 0 and <= 1,100 kV``."""
        unit = f" {self.unit}" if self.unit else ""
        lo = None if self.lo is None else f"{'>' if self.lo_open else '>='} {_num(self.lo)}"
        hi = None if self.hi is None else f"{'<' if self.hi_open else '<='} {_num(self.hi)}"
        if lo and hi:
            closed = not (self.lo_open or self.hi_open)
            return f"{_num(self.lo)}–{_num(self.hi)}{unit}" if closed else f"{lo} and {hi}{unit}"
        if lo or hi:
            return f"{lo or hi}{unit}"
        return "any value"


def _num(x: float) -> str:
    """``10``, ``0.5``, ``20,000``, ``100,000,000``: a bound as people read it."""
    return f"{x:,.0f}" if float(x).is_integer() and abs(x) >= 1e4 else f"{x:g}"


_W = frozenset({"waterlogging"})
_WB = frozenset({"waterlogging", "billboard"})
_STRUCTURES = frozenset({"crane", "power", "billboard", "garden"})

FIELDS: dict[str, Field] = {f.name: f for f in (
    Field("id", "id", (
        "编号", "点位编号", "隐患点编号", "设备编号", "设施编号", "风险点编号", "内涝点编号", "广告牌编号",
        "统一编号", "唯一编号", "编码", "代码", "点号", "ID", "code", "point_id", "编号ID"), label="编号"),
    Field("name", "text", (
        "名称", "点位名称", "设备名称", "设施名称", "隐患点名称", "风险点名称", "内涝点名称", "广告牌名称",
        "name"), label="名称"),
    Field("township", "text", (
        "乡镇", "乡镇（街道）", "所属乡镇", "街道", "乡镇/街道", "乡镇街道", "所在乡镇", "所属乡镇（街道）",
        "所属街道", "镇街", "乡（镇）", "乡镇名称", "township", "town"), label="乡镇"),
    Field("lon", "coord", ("经度", "lon", "lng", "longitude", "long", "东经", "经度坐标"), label="经度"),
    Field("lat", "coord", ("纬度", "lat", "latitude", "北纬", "纬度坐标"), label="纬度"),
    Field("x", "coord", ("X坐标", "x", "easting", "东坐标", "东向坐标"), unit="m", label="X坐标"),
    Field("y", "coord", ("Y坐标", "y", "northing", "北坐标", "北向坐标"), unit="m", label="Y坐标"),
    Field("lonlat", "coord_pair", ("经纬度", "坐标", "经纬度坐标", "位置坐标", "lnglat", "lonlat",
                                   "coordinates"), label="经纬度"),
    Field("surveyed_on", "date", (
        "调查日期", "调查时间", "日期", "date", "排查日期", "排查时间", "普查日期", "普查时间", "填报日期",
        "采集日期", "采集时间", "survey_date", "surveyed_on"), label="调查日期"),
    Field("exposed_people", "int", (
        "威胁人数", "影响人数", "受威胁人数", "威胁人口", "影响人口", "受影响人数", "涉及人数", "exposed_people"),
        lo=0, hi=1e8, unit="人", label="威胁人数"),
    Field("exposed_property", "float", (
        "威胁财产（万元）", "潜在经济损失（万元）", "威胁财产", "潜在经济损失", "威胁资产", "受威胁财产",
        "影响财产", "潜在损失", "exposed_property"), lo=0, hi=1e8, unit="万元", label="威胁财产"),
    Field("max_depth_m", "float", (
        "最大积水深度（m）", "积水深度", "最大积水深度", "最大水深", "积水深", "水深", "max_depth",
        "max_depth_m", "depth"), categories=_W, lo=0, hi=10, unit="m", label="最大积水深度"),
    Field("area_m2", "float", (
        "积水面积（m²/㎡）", "面积", "积水面积", "广告牌面积", "牌面面积", "广告面积", "area", "area_m2"),
        categories=_WB, lo=0, lo_open=True, hi=1e8, unit="m2", label="面积"),
    Field("duration_h", "float", (
        "积水时长（h）", "退水时间", "积水时长", "积水时间", "退水时长", "积水持续时间", "duration",
        "duration_h"), categories=_W, lo=0, hi=8784, unit="h", label="积水时长"),
    Field("kind", "text", (
        "设备类型", "设施类型", "结构类型", "类型", "类别", "种类", "设备种类", "形式", "型式", "起重机类型",
        "广告牌类型", "type", "kind"), categories=_STRUCTURES, label="类型"),
    Field("height_m", "float", (
        "高度（m）", "高度", "设备高度", "设施高度", "最大高度", "树高", "塔高", "杆塔高度", "起升高度",
        "height", "height_m"), categories=_STRUCTURES, lo=0, hi=300, unit="m", label="高度"),
    Field("rated_load_t", "float", (
        "额定起重量（t）", "额定起重量", "最大起重量", "起重量", "额定载荷", "rated_load", "rated_load_t"),
        categories=frozenset({"crane"}), lo=0, lo_open=True, hi=20_000, unit="t", label="额定起重量"),
    Field("voltage_kv", "float", (
        "电压等级（kV）", "电压等级", "电压", "额定电压", "voltage", "voltage_kv"),
        categories=frozenset({"power"}), lo=0, lo_open=True, hi=1_100, unit="kV", label="电压等级"),
    Field("installed_on", "date_or_year", (
        "安装日期", "安装年份", "建成年份", "安装时间", "建成时间", "建成日期", "建设年份", "建造年份",
        "投运日期", "投运年份", "投运时间", "installed_on", "year_built"), label="安装日期"),
    Field("inspection", "text", (
        "检验状态", "检测情况", "安全状况", "检验情况", "检测状态", "检验结论", "检测结论", "安全状态",
        "年检情况", "inspection"), label="检验状态"),
)}
"""Canonical fields in output order."""

COORDINATE_FIELDS = ("lon", "lat", "x", "y", "lonlat")
"""Fields that locate a row; they become the geometry, ``lon``/``lat`` (WGS84) and ``source_x``/``source_y``."""

INSPECTION_VALUES = {
    "合格": ("合格", "检验合格", "检测合格", "正常", "良好", "安全", "通过", "ok", "pass", "passed"),
    "不合格": ("不合格", "检验不合格", "检测不合格", "存在隐患", "有隐患", "不安全", "fail", "failed"),
    "过期": ("过期", "超期", "逾期", "已过期", "检验过期", "超期未检", "expired"),
    "未检": ("未检", "未检验", "未检测", "未年检", "待检", "not inspected"),
}
"""Canonical inspection states and the spellings folded onto them; other text is kept as written."""


# -- units --------------------------------------------------------------------------------------
UNITS: dict[str, dict[str, float]] = {
    "m": {"": 1, "m": 1, "米": 1, "公尺": 1, "meter": 1, "meters": 1, "cm": 0.01, "厘米": 0.01, "公分": 0.01,
          "mm": 0.001, "毫米": 0.001, "km": 1000, "公里": 1000, "千米": 1000},
    "m2": {"": 1, "m2": 1, "m^2": 1, "sqm": 1, "平方米": 1, "平米": 1, "平方": 1, "平": 1, "km2": 1e6,
           "平方公里": 1e6, "平方千米": 1e6, "ha": 1e4, "公顷": 1e4, "亩": 10000 / 15},
    "万元": {"": 1, "万元": 1, "万": 1, "万元人民币": 1, "元": 1e-4, "人民币": 1e-4, "千元": 0.1,
             "亿元": 1e4, "亿": 1e4},
    "h": {"": 1, "h": 1, "hr": 1, "hrs": 1, "hour": 1, "hours": 1, "小时": 1, "个小时": 1, "时": 1,
          "min": 1 / 60, "mins": 1 / 60, "分钟": 1 / 60, "分": 1 / 60, "d": 24, "天": 24, "日": 24},
    "t": {"": 1, "t": 1, "吨": 1, "kg": 1e-3, "公斤": 1e-3, "千克": 1e-3},
    "kV": {"": 1, "kv": 1, "千伏": 1, "v": 1e-3, "伏": 1e-3, "伏特": 1e-3},
    "人": {"": 1, "人": 1, "名": 1, "个": 1, "口": 1, "人口": 1, "persons": 1, "people": 1},
}
"""Factors from units people write to each canonical unit (keys are lower-case, NFKC)."""


def unit_factor(unit: str, canonical: str | None) -> float | None:
    """Factor that converts a value in ``unit`` to ``canonical``; None when the unit is not one of its dimension.

    ``unit`` may list alternatives (``m²/㎡``): they must agree.

    >>> unit_factor("cm", "m"), unit_factor("㎡/m²", "m2"), unit_factor("kg", "m")
    (0.01, 1, None)
    """
    if canonical is None:
        return 1.0 if not unit else None
    table = UNITS[canonical]
    u = _fold(unit).replace(" ", "")
    if u in table:
        return table[u]
    parts = [p for p in re.split(r"[/,、]", u) if p]
    factors = {table.get(p) for p in parts}
    if len(parts) > 1 and len(factors) == 1 and None not in factors:
        return factors.pop()
    return None


# -- header normalisation -----------------------------------------------------------------------
_TRAILING_UNIT = re.compile(r"^(?P<base>.+?)\s*[(\[【〔{<《](?P<unit>[^()\[\]【】〔〕{}<>《》]*)[)\]】〕}>》]$")
_SLASH_UNIT = re.compile(r"^(?P<base>.+?)\s*/\s*(?P<unit>[a-z0-9²^]{1,4}|米|万元|元|吨|小时|千伏|亩|公顷|平方米|人)$")


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", str(text)).strip().lower()


def normalise_header(header) -> str:
    """Fold a header for matching: NFKC (full width to ASCII), lower case, no spaces, no ``_``/``-``.

    >>> normalise_header("最大积水深度（ｍ）"), normalise_header(" Max_Depth "), normalise_header("乡镇 (街道)")
    ('最大积水深度(m)', 'maxdepth', '乡镇(街道)')
    """
    text = _fold(header if header is not None else "")
    text = text.lstrip("\ufeff*＊").rstrip(":*")
    return re.sub(r"[\s_\-]+", "", text)


def split_unit(header) -> tuple[str, str]:
    """Split a normalised header into its base and the unit written after it.

    >>> split_unit("积水面积（m²/㎡）"), split_unit("高度/m"), split_unit("经度")
    (('积水面积', 'm2/m2'), ('高度', 'm'), ('经度', ''))
    """
    h = normalise_header(header)
    m = _TRAILING_UNIT.match(h) or _SLASH_UNIT.match(h)
    if m:
        return m.group("base"), m.group("unit")
    return h, ""


def _build_alias_index() -> tuple[dict[str, str], dict[str, str]]:
    full: dict[str, str] = {}
    base: dict[str, str] = {}
    for f in FIELDS.values():
        for alias in (f.name, *f.aliases):
            for index, key in ((full, normalise_header(alias)), (base, split_unit(alias)[0])):
                other = index.setdefault(key, f.name)
                if other != f.name:  # pragma: no cover - guards the table above
                    raise AssertionError(f"header alias {alias!r} claimed by both {other} and {f.name}")
    return full, base


_FULL_INDEX, _BASE_INDEX = _build_alias_index()


def match_header(header, category: str) -> tuple[str | None, str]:
    """The canonical field a header names in ``category`` (or None) and the unit written in it.

    The whole header is tried first (so ``乡镇（街道）`` is matched as written), then the header
    without its bracketed unit (``高度（cm）`` -> ``height_m`` with unit ``cm``). A field of another
    category is not matched.

    >>> match_header("电压等级（kV）", "power"), match_header("电压等级（kV）", "crane")
    (('voltage_kv', 'kv'), (None, 'kv'))
    """
    norm = normalise_header(header)
    base, unit = split_unit(norm)
    name = _FULL_INDEX.get(norm) or _BASE_INDEX.get(base)
    if name is None or not FIELDS[name].applies_to(category):
        return None, unit
    if FIELDS[name].unit is None:
        unit = ""
    return name, unit


def resolve_columns(headers: Iterable, category: str, overrides: Mapping[str, str | None] | None = None
                    ) -> tuple[dict[str, tuple[str, str]], list[str]]:
    """Map a source's headers to canonical fields.

    Parameters
    ----------
    headers : iterable of str
        The source's column headers, as read (unique).
    category : str
        The source's category.
    overrides : mapping, optional
        ``{source header: canonical field}`` from the config; a field of None (or ``""``) keeps the
        column as an extra. Overrides match headers the same way aliases do and win over them.

    Returns
    -------
    mapping : dict
        ``{source header: (field, unit)}`` for matched columns; a field is matched by one column at
        most (the override, else the first column from the left).
    notes : list of str
        Warnings: columns left as extras because another column already supplied their field.

    Raises
    ------
    KeyError
        An override names an unknown field or a header the source does not have (the message
        says which).
    """
    headers = list(headers)
    by_norm = {normalise_header(h): h for h in reversed(headers)}
    mapping: dict[str, tuple[str, str]] = {}
    taken: dict[str, str] = {}
    forced_extra: set[str] = set()
    notes: list[str] = []
    for src, field in (overrides or {}).items():
        h = src if src in headers else by_norm.get(normalise_header(src))
        if h is None:
            raise KeyError(f"columns: header {src!r} is not in the file (headers: {', '.join(map(str, headers))})")
        if field in (None, ""):
            forced_extra.add(h)
            continue
        if field not in FIELDS:
            raise KeyError(f"columns: {src!r} -> {field!r}: no such field (fields: {', '.join(FIELDS)})")
        if field in taken:
            raise KeyError(f"columns: both {taken[field]!r} and {h!r} are mapped to {field!r}")
        _, unit = split_unit(h)
        mapping[h] = (field, unit if FIELDS[field].unit else "")
        taken[field] = h
    for h in headers:
        if h in mapping or h in forced_extra:
            continue
        field, unit = match_header(h, category)
        if field is None:
            continue
        if field in taken:
            notes.append(f"column {h!r} also looks like {field!r} (already read from {taken[field]!r}); "
                         "kept as an extra column")
            continue
        mapping[h] = (field, unit)
        taken[field] = h
    return mapping, notes


def category_fields(category: str) -> list[str]:
    """Canonical non-coordinate fields of a category, in output order."""
    return [f.name for f in FIELDS.values() if f.applies_to(category) and f.kind not in ("coord", "coord_pair")]


def normalise_inspection(text: str) -> str:
    """Fold the common spellings of an inspection state onto 合格 / 不合格 / 过期 / 未检; keep others as written."""
    key = re.sub(r"\s+", "", _fold(text))
    for canon, spellings in INSPECTION_VALUES.items():
        if key in spellings:
            return canon
    return str(text).strip()
