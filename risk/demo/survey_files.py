"""The risk-point census as county offices send it: five messy files, with planted defects.

Every file has plausible rows (Chinese headers, numbers with units, full-width digits or
thousands separators, dates in every human format) plus a few defective rows of every reason
code of the survey contract (``missing_coordinates``, ``invalid_coordinates``, ``outside_aoi``,
``duplicate_id``, ``out_of_range``, ``unreadable``), each listed in ``survey/README.md`` and
``survey/expected_rejections.csv`` (file, row, reason, id, note). Row numbers are as a
spreadsheet shows them (header = row 1, first data row = row 2) for CSV/XLSX, and the 1-based
feature number for GeoPackage/GeoJSON layers.

The accepted rows of ``内涝点.csv`` are exactly the waterlogging events drawn from
``truth/waterlogging.tif``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from risk.demo import names as nm
from risk.demo.common import scale_count
from risk.io import atomic_path, write_table, write_vector
from risk.survey.coords import wgs84_to_gcj02  # the ingestion side's converter: both ends share one formula

FILES = {
    "waterlogging": "内涝点.csv",
    "crane": "大型起重设备.xlsx",
    "power": "电力设施.gpkg",
    "billboard": "广告牌.geojson",
    "garden": "园林设施.csv",
}
FIXED_TIME = dt.datetime(2023, 6, 1, 9, 0, 0)
_FW = str.maketrans("0123456789", "０１２３４５６７８９")
_GIVEN = list("建国志明秀英海军丽华玉兰桂芝文静红梅春雨德福永胜立新宝山树林凤霞金柱")
UNREADABLE = "__unreadable__"


@dataclass
class Planted:
    file: str
    row: int
    reason: str
    id: str
    note: str


@dataclass
class Context:
    """What the survey generator needs to know about the area."""

    rng: np.random.Generator
    crs: str
    aoi_geom: object  # projected
    townships: gpd.GeoDataFrame
    settlements: gpd.GeoDataFrame
    real_names: bool
    area_km2: float
    sample_cells: object  # f(weights_key, n) -> (x, y) projected points inside the AOI

    def lonlat(self, x, y):
        if not hasattr(self, "_to_ll"):
            self._to_ll = Transformer.from_crs(self.crs, "EPSG:4326", always_xy=True)
        return self._to_ll.transform(np.asarray(x, dtype="f8"), np.asarray(y, dtype="f8"))


# -- value formatting ------------------------------------------------------------------------------
def _num(rng, v: float, decimals: int = 1, units=(), p_unit=0.2, p_fw=0.1, p_thousands=0.5):
    """A number as a messy survey cell: plain, with a unit, with full-width digits or thousands separators."""
    s = f"{v:,.{decimals}f}" if (abs(v) >= 1000 and rng.random() < p_thousands) else f"{v:.{decimals}f}"
    u = rng.random()
    if units and u < p_unit:
        return s + str(rng.choice(list(units)))
    if u < p_unit + p_fw:
        return s.translate(_FW)
    return s


def _date(rng, d: dt.date) -> str:
    k = int(rng.integers(0, 5))
    if k == 0:
        return d.isoformat()
    if k == 1:
        return f"{d.year}/{d.month}/{d.day}"
    if k == 2:
        return f"{d.year}.{d.month}.{d.day}"
    if k == 3:
        return f"{d.year}年{d.month}月{d.day}日"
    return f"{d.year}-{d.month}-{d.day}"


def _rand_date(rng, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=int(rng.integers(0, (end - start).days + 1)))


def _person(rng) -> str:
    return str(rng.choice(nm.SURNAMES)) + "".join(rng.choice(_GIVEN, size=int(rng.integers(1, 3))))


def _fmt_coord(v: float, rng) -> str:
    return f"{v:.6f}" if rng.random() < 0.8 else f"{v:.5f}"


def _outside_point(ctx: Context) -> tuple[float, float]:
    """A point 8-25 km outside the AOI (projected)."""
    rng = ctx.rng
    simple = ctx.aoi_geom.simplify(200.0)
    near = shapely.buffer(simple, 3500.0)
    for _ in range(50):
        d = rng.uniform(8000, 25000)
        ring = shapely.buffer(simple, d, quad_segs=4)
        line = ring.exterior if ring.geom_type == "Polygon" else max(ring.geoms, key=lambda g: g.area).exterior
        p = line.interpolate(rng.uniform(0, line.length))
        if not near.contains(p):
            return p.x, p.y
    b = ctx.aoi_geom.bounds
    return b[2] + 20000.0, b[3] + 20000.0


def _nearest_settlement(ctx: Context, x, y) -> np.ndarray:
    from scipy.spatial import cKDTree

    tree = cKDTree(np.column_stack([ctx.settlements.geometry.x.to_numpy(), ctx.settlements.geometry.y.to_numpy()]))
    _, i = tree.query(np.column_stack([np.asarray(x, dtype="f8"), np.asarray(y, dtype="f8")]))
    return ctx.settlements["name"].to_numpy()[i]


def _township_names(ctx: Context, x, y) -> np.ndarray:
    from risk.demo.landscape import township_of

    return township_of(ctx.townships, x, y)


def _messy_township(rng, name: str) -> str:
    return nm.short_name(name) if rng.random() < 0.1 else name


def _insert(rng, valid: list[dict], defects: list[tuple[str, dict, str]], id_key: str, first_row: int,
            file: str) -> tuple[list[dict], list[Planted]]:
    """Spread the defective rows among the valid ones; duplicates come after the row they copy."""
    rows = list(valid)
    planted_rows = []
    for reason, rec, note in defects:
        if reason == "duplicate_id":
            first = next(i for i, r in enumerate(rows) if r.get(id_key) == rec[id_key])
            pos = int(rng.integers(first + 1, len(rows) + 1))
        else:
            pos = int(rng.integers(1, len(rows) + 1))
        rows.insert(pos, rec)
        planted_rows.append((rec, reason, note))
    out = []
    for rec, reason, note in planted_rows:
        idx = next(i for i, r in enumerate(rows) if r is rec)
        out.append(Planted(file, idx + first_row, reason, str(rec.get(id_key, "")), note))
    out.sort(key=lambda p: p.row)
    return rows, out


# -- 内涝点.csv (GBK) ------------------------------------------------------------------------------
WL_HEADERS = ["编号", "名称", "乡镇（街道）", "经度", "纬度", "最大积水深度（m）", "积水面积（㎡）", "积水时长（h）",
              "威胁人数", "威胁财产（万元）", "成因", "调查日期", "调查人", "备注"]
_CAUSES = ["地势低洼", "排水管网标准低", "下穿通道积水", "河道顶托", "雨污合流管道淤堵", "施工围挡阻水", "边沟排水不畅"]
_WL_PLACES = ["下穿桥", "低洼路段", "小区院内", "农贸市场", "学校门前", "十字路口", "涵洞", "村口低洼处", "街巷"]


def waterlogging_rows(ctx: Context, x, y, built) -> tuple[list[dict], list[Planted]]:
    rng = ctx.rng
    lon, lat = ctx.lonlat(x, y)
    town = _township_names(ctx, x, y)
    near = _nearest_settlement(ctx, x, y)
    valid = []
    for i in range(len(x)):
        street = str(rng.choice(nm.STREET_NAMES)) if built[i] else nm.short_name(str(near[i])).removesuffix("社区")
        place = str(rng.choice(_WL_PLACES[:7] if built[i] else _WL_PLACES[5:]))
        depth = float(np.clip(rng.lognormal(np.log(0.45), 0.5), 0.1, 2.5))
        area = float(np.clip(rng.lognormal(np.log(900 if built[i] else 400), 1.0), 30, 60000))
        valid.append({
            "编号": f"NL-{i + 1:04d}", "名称": f"{street}{place}", "乡镇（街道）": _messy_township(rng, str(town[i])),
            "经度": _fmt_coord(lon[i], rng), "纬度": _fmt_coord(lat[i], rng),
            "最大积水深度（m）": _num(rng, depth, 2, ("m", "米")),
            "积水面积（㎡）": _num(rng, round(area), 0, (), p_thousands=0.6),
            "积水时长（h）": _num(rng, float(np.clip(rng.lognormal(np.log(3), 0.7), 0.5, 48)), 1, ("h", "小时")),
            "威胁人数": _num(rng, float(rng.integers(0, 600 if built[i] else 80)), 0, (), p_unit=0.0),
            "威胁财产（万元）": _num(rng, float(np.round(rng.lognormal(np.log(30), 1.0), 1)), 1, ()),
            "成因": str(rng.choice(_CAUSES)),
            "调查日期": _date(rng, _rand_date(rng, dt.date(2021, 4, 1), dt.date(2022, 10, 31))),
            "调查人": _person(rng), "备注": str(rng.choice(["", "", "", "汛期重点巡查", "已设置警示牌", "已纳入改造计划"])),
        })
    n = len(valid)

    def extra(k, **over):
        base = dict(valid[int(rng.integers(0, n))])
        base["编号"] = f"NL-{n + k:04d}"
        base.update(over)
        return base

    ox, oy = _outside_point(ctx)
    olon, olat = ctx.lonlat([ox], [oy])
    j = int(rng.integers(0, n))
    dup = dict(valid[int(rng.integers(0, n))])
    dup.update({"调查日期": _date(rng, dt.date(2022, 11, int(rng.integers(1, 28)))), "备注": "复查"})
    sw = extra(5)
    defects = [
        ("missing_coordinates", extra(1, 经度=""), "经度 blank"),
        ("missing_coordinates", extra(2, 纬度="不详"), "纬度 '不详' (not a number)"),
        ("invalid_coordinates", extra(3, 纬度=f"{float(valid[j]['纬度']) + 100:.6f}"),
         "纬度 > 90 (typing slip)"),
        ("outside_aoi", extra(4, 经度=f"{olon[0]:.6f}", 纬度=f"{olat[0]:.6f}"), "a point 8-25 km outside the AOI"),
        ("invalid_coordinates", {**sw, "经度": sw["纬度"], "纬度": sw["经度"]},
         "lon/lat swapped (纬度 > 90; swapping back would put it inside)"),
        ("duplicate_id", dup, "编号 repeated (a re-survey of an earlier row)"),
        ("out_of_range", extra(6, **{"最大积水深度（m）": "60"}), "最大积水深度 60 m (> 10 m)"),
        ("out_of_range", extra(7, **{"积水面积（㎡）": "-300"}), "积水面积 negative"),
        ("unreadable", extra(8, 名称=UNREADABLE, 备注="待复核"), "unquoted comma inside 名称 splits the row"),
    ]
    return _insert(rng, valid, defects, "编号", 2, FILES["waterlogging"])


def write_csv(rows: list[dict], headers: list[str], path, encoding: str) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(headers)
    for r in rows:
        if r.get("名称") == UNREADABLE:
            vals = [str(r.get(h, "")) for h in headers]
            vals[headers.index("名称")] = "建设路与朝阳街交叉口,东侧"
            buf.write(",".join(vals) + "\r\n")  # unquoted: one cell too many
        else:
            w.writerow([r.get(h, "") for h in headers])
    with atomic_path(path) as tmp:
        tmp.write_bytes(buf.getvalue().encode(encoding))


# -- 大型起重设备.xlsx ----------------------------------------------------------------------------
CRANE_HEADERS = ["设备编号", "设备名称", "所属乡镇", "设备类型", "额定起重量（t）", "高度（m）", "安装日期", "检验状态",
                 "使用单位", "经度", "纬度"]
_CRANES = [("塔式起重机", "QTZ{m}", (6, 25), (30, 120)), ("门式起重机", "MG{m}", (10, 100), (10, 30)),
           ("桥式起重机", "QD{m}", (5, 50), (8, 20)), ("汽车起重机", "QY{m}", (8, 100), (10, 60)),
           ("履带起重机", "QUY{m}", (50, 300), (30, 100))]
_COMPANY = ["建筑工程有限公司", "建设集团有限公司", "钢铁有限公司", "建材有限公司", "机械设备租赁站", "房地产开发有限公司"]


def crane_rows(ctx: Context, x, y) -> tuple[list[dict], list[Planted]]:
    rng = ctx.rng
    lon, lat = ctx.lonlat(x, y)
    town = _township_names(ctx, x, y)
    valid = []
    for i in range(len(x)):
        kind, model, load, height = _CRANES[int(rng.choice(5, p=[0.45, 0.15, 0.15, 0.2, 0.05]))]
        t = float(rng.integers(load[0], load[1] + 1))
        h = float(np.round(rng.uniform(*height), 1))
        d = _rand_date(rng, dt.date(2012, 1, 1), dt.date(2023, 3, 31))
        k = rng.random()
        inst = d if k < 0.75 else (_date(rng, d) if k < 0.9 else (d - dt.date(1899, 12, 30)).days)
        valid.append({
            "设备编号": f"QZ-{i + 1:04d}", "设备名称": model.format(m=int(t * 10 if kind == "塔式起重机" else t)) + kind,
            "所属乡镇": _messy_township(rng, str(town[i])), "设备类型": kind,
            "额定起重量（t）": t if rng.random() < 0.8 else f"{t:g}t",
            "高度（m）": h if rng.random() < 0.8 else (f"{h:g}米" if rng.random() < 0.5 else f"{h:g}".translate(_FW)),
            "安装日期": inst, "检验状态": str(rng.choice(["合格", "不合格", "过期", "未检"], p=[0.7, 0.08, 0.12, 0.1])),
            "使用单位": ("凌源市" if ctx.real_names else "") + nm.short_name(str(town[i])) + str(rng.choice(_COMPANY)),
            "经度": round(float(lon[i]), 6), "纬度": round(float(lat[i]), 6),
        })
    n = len(valid)

    def extra(k, **over):
        base = dict(valid[int(rng.integers(0, n))])
        base["设备编号"] = f"QZ-{n + k:04d}"
        base.update(over)
        return base

    ox, oy = _outside_point(ctx)
    olon, olat = ctx.lonlat([ox], [oy])
    dup = dict(valid[int(rng.integers(0, n))])
    dup["检验状态"] = "合格"
    e3 = extra(3)
    defects = [
        ("missing_coordinates", extra(1, 纬度=None), "纬度 empty"),
        ("missing_coordinates", extra(2, 经度="见附件"), "经度 text '见附件'"),
        ("invalid_coordinates", {**e3, "经度": round(float(e3["经度"]) * 10, 4)}, "经度 > 180 (decimal point lost)"),
        ("outside_aoi", extra(4, 经度=round(float(olon[0]), 6), 纬度=round(float(olat[0]), 6)), "outside the AOI"),
        ("duplicate_id", dup, "设备编号 repeated"),
        ("out_of_range", extra(5, **{"高度（m）": -12}), "高度 negative"),
        ("out_of_range", extra(6, **{"额定起重量（t）": 0}), "额定起重量 0 t (must be > 0)"),
    ]
    return _insert(rng, valid, defects, "设备编号", 2, FILES["crane"])


def _normalise_zip(data: bytes) -> bytes:
    """Re-pack an OOXML zip with fixed timestamps and a fixed modified date (same bytes every run)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rb"\g<1>" + stamp + rb"\g<2>",
                                 content)
                content = re.sub(rb"(<dcterms:created[^>]*>)[^<]*(</dcterms:created>)", rb"\g<1>" + stamp + rb"\g<2>",
                                 content)
            zi = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            z.writestr(zi, content)
    return out.getvalue()


def write_xlsx(rows: list[dict], headers: list[str], path, sheet: str, creator: str) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(headers)
    for c in ws[1]:
        c.font = Font(bold=True)
    for r in rows:
        ws.append([r.get(h) for h in headers])
        row = ws.max_row
        for j, h in enumerate(headers, start=1):
            v = r.get(h)
            if isinstance(v, dt.date):
                ws.cell(row=row, column=j).number_format = "yyyy/m/d"
    for j, h in enumerate(headers, start=1):
        ws.column_dimensions[ws.cell(row=1, column=j).column_letter].width = max(10, 2 * len(h) + 2)
    wb.properties.creator = creator
    wb.properties.lastModifiedBy = creator
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    buf = io.BytesIO()
    wb.save(buf)
    with atomic_path(path) as tmp:
        tmp.write_bytes(_normalise_zip(buf.getvalue()))


# -- 电力设施.gpkg (EPSG:4549 geometry) ----------------------------------------------------------------
POWER_FIELDS = ["编号", "名称", "设施类型", "电压等级（kV）", "高度（m）", "建成年份", "所属乡镇", "运维单位"]


def power_rows(ctx: Context, pts: dict) -> tuple[list[dict], list[Planted]]:
    """``pts``: {kind: (x, y)} for 变电站, 输电塔, 配电室, 箱式变压器."""
    rng = ctx.rng
    valid = []
    k = 0
    owner = "国网凌源市供电公司" if ctx.real_names else "县供电公司"
    for kind, (x, y) in pts.items():
        town = _township_names(ctx, x, y)
        for i in range(len(x)):
            k += 1
            short = nm.short_name(str(town[i]))
            if kind == "变电站":
                kv = str(rng.choice(["220kV", "66kV", "66", "35kV", "220"], p=[0.15, 0.4, 0.15, 0.2, 0.1]))
                name, h = f"{short}{kv.removesuffix('kV')}kV变电站", rng.uniform(8, 25)
            elif kind == "输电塔":
                kv = str(rng.choice(["220", "66kV", "66", "110kV"]))
                name, h = f"{short}{kv.removesuffix('kV')}kV线路{int(rng.integers(1, 200))}号塔", rng.uniform(25, 60)
            elif kind == "配电室":
                kv, name, h = "10kV", f"{short}{int(rng.integers(1, 30))}号配电室", rng.uniform(3.5, 6)
            else:
                kv = str(rng.choice(["10kV", "10", "0.4kV"]))
                name, h = f"{short}{int(rng.integers(1, 60))}号箱变", rng.uniform(2, 3.2)
            valid.append({"编号": f"DL-{k:04d}", "名称": name, "设施类型": kind, "电压等级（kV）": kv,
                          "高度（m）": round(float(h), 1), "建成年份": int(rng.integers(1985, 2024)),
                          "所属乡镇": str(town[i]), "运维单位": owner, "_xy": (float(x[i]), float(y[i]))})
    n = len(valid)

    def extra(j, **over):
        base = dict(valid[int(rng.integers(0, n))])
        base["编号"] = f"DL-{n + j:04d}"
        base.update(over)
        return base

    ox, oy = _outside_point(ctx)
    dup = dict(valid[int(rng.integers(0, n))])
    defects = [
        ("missing_coordinates", extra(1, _xy=None), "empty geometry"),
        ("outside_aoi", extra(2, _xy=(ox, oy)), "outside the AOI"),
        ("duplicate_id", dup, "编号 repeated"),
        ("out_of_range", extra(3, **{"高度（m）": -8.0}), "高度 negative"),
    ]
    return _insert(rng, valid, defects, "编号", 1, FILES["power"])


def write_power(rows: list[dict], path, crs: str) -> None:
    geoms = [shapely.Point(*r["_xy"]) if r.get("_xy") is not None else None for r in rows]
    df = pd.DataFrame([{k: r.get(k) for k in POWER_FIELDS} for r in rows])
    df["高度（m）"] = df["高度（m）"].astype("float64")
    df["建成年份"] = df["建成年份"].astype("int32")
    write_vector(gpd.GeoDataFrame(df, geometry=geoms, crs=crs), path, styles=False)


# -- 广告牌.geojson (WGS84 geometry) ---------------------------------------------------------------
BILLBOARD_FIELDS = ["编号", "名称", "结构类型", "高度（m）", "面积（㎡）", "安装日期", "检测情况", "设置单位", "所属乡镇"]
_BB_KINDS = [("落地式", (6, 25), (20, 300)), ("屋顶式", (3, 12), (30, 400)), ("墙面式", (2, 15), (5, 120)),
             ("立柱式", (8, 30), (18, 200)), ("LED显示屏", (4, 20), (10, 150))]


def billboard_rows(ctx: Context, x, y) -> tuple[list[dict], list[Planted]]:
    rng = ctx.rng
    lon, lat = ctx.lonlat(x, y)
    town = _township_names(ctx, x, y)
    valid = []
    for i in range(len(x)):
        kind, hr, ar = _BB_KINDS[int(rng.integers(0, len(_BB_KINDS)))]
        h = float(np.round(rng.uniform(*hr), 1))
        a = float(np.round(rng.uniform(*ar), 1))
        # text properties, as the exporting tool wrote them: plain, with a unit, or full-width digits
        hv = f"{h:g}" if rng.random() < 0.6 else (f"{h:g}米" if rng.random() < 0.6 else f"{h:g}".translate(_FW))
        av = f"{a:g}" if rng.random() < 0.7 else (f"{a:g}㎡" if rng.random() < 0.5 else f"{a:g}".translate(_FW))
        valid.append({
            "编号": f"GG-{i + 1:04d}", "名称": f"{rng.choice(nm.STREET_NAMES)}{kind}广告牌",
            "结构类型": kind, "高度（m）": hv, "面积（㎡）": av,
            "安装日期": _date(rng, _rand_date(rng, dt.date(2008, 1, 1), dt.date(2023, 5, 1))),
            "检测情况": str(rng.choice(["合格", "不合格", "过期", "未检"], p=[0.62, 0.1, 0.13, 0.15])),
            "设置单位": str(rng.choice(["凌源", "联合", "华鑫", "金鼎", "启航", "博远"])) + "广告传媒有限公司",
            "所属乡镇": _messy_township(rng, str(town[i])), "_ll": (float(lon[i]), float(lat[i]))})
    n = len(valid)

    def extra(j, **over):
        base = dict(valid[int(rng.integers(0, n))])
        base["编号"] = f"GG-{n + j:04d}"
        base.update(over)
        return base

    ox, oy = _outside_point(ctx)
    olon, olat = ctx.lonlat([ox], [oy])
    sw = extra(2)
    dup = dict(valid[int(rng.integers(0, n))])
    defects = [
        ("missing_coordinates", extra(1, _ll=None), "geometry null"),
        ("invalid_coordinates", {**sw, "_ll": (sw["_ll"][1], sw["_ll"][0])},
         "lon/lat swapped in the geometry (latitude > 90; swapping back would put it inside)"),
        ("outside_aoi", extra(3, _ll=(float(olon[0]), float(olat[0]))), "outside the AOI"),
        ("duplicate_id", dup, "编号 repeated"),
        ("out_of_range", extra(4, **{"面积（㎡）": "-20"}), "面积 negative"),
    ]
    return _insert(rng, valid, defects, "编号", 1, FILES["billboard"])


def write_geojson(rows: list[dict], path, layer: str) -> None:
    feats = []
    for r in rows:
        geom = None
        if r.get("_ll") is not None:
            geom = {"type": "Point", "coordinates": [round(r["_ll"][0], 6), round(r["_ll"][1], 6)]}
        props = {k: r.get(k) for k in BILLBOARD_FIELDS}
        feats.append(json.dumps({"type": "Feature", "properties": props, "geometry": geom}, ensure_ascii=False))
    text = ('{\n"type": "FeatureCollection",\n"name": ' + json.dumps(layer, ensure_ascii=False)
            + ',\n"crs": { "type": "name", "properties": { "name": "urn:ogc:def:crs:OGC:1.3:CRS84" } },\n'
            + '"features": [\n' + ",\n".join(feats) + "\n]\n}\n")
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


# -- 园林设施.csv (UTF-8 with BOM, GCJ-02 lon/lat) ---------------------------------------------------------
GARDEN_HEADERS = ["编号", "名称", "所属乡镇", "类型", "高度（m）", "树龄（年）", "胸径（cm）", "养护单位", "调查日期",
                  "经度", "纬度"]
_TREES = ["油松", "国槐", "榆树", "银杏", "侧柏", "杏树", "梨树", "柳树", "栾树"]


def garden_rows(ctx: Context, x, y, urban) -> tuple[list[dict], list[Planted]]:
    rng = ctx.rng
    lon, lat = ctx.lonlat(x, y)
    glon, glat = wgs84_to_gcj02(np.asarray(lon), np.asarray(lat))
    town = _township_names(ctx, x, y)
    near = _nearest_settlement(ctx, x, y)
    valid = []
    for i in range(len(x)):
        place = nm.short_name(str(near[i])).removesuffix("社区").removesuffix("村")
        if urban[i]:
            kind = str(rng.choice(["凉亭", "假山", "廊架", "雕塑", "行道树"]))
            h = {"凉亭": (4, 8), "假山": (3, 12), "廊架": (3, 5), "雕塑": (3, 15), "行道树": (8, 20)}[kind]
            name = f"{place}公园{kind}" if kind != "行道树" else f"{rng.choice(nm.STREET_NAMES)}{rng.choice(_TREES)}"
        else:
            kind, h = "古树名木", (8, 25)
            name = f"{place}古{rng.choice(_TREES)}"
        tree = kind in ("古树名木", "行道树")
        age = int(rng.integers(100, 600)) if kind == "古树名木" else (int(rng.integers(15, 60)) if tree else "")
        dbh = int(rng.integers(40, 200)) if kind == "古树名木" else (int(rng.integers(20, 60)) if tree else "")
        valid.append({
            "编号": f"YL-{i + 1:04d}", "名称": name, "所属乡镇": _messy_township(rng, str(town[i])), "类型": kind,
            "高度（m）": _num(rng, float(rng.uniform(*h)), 1, ("m", "米")), "树龄（年）": age, "胸径（cm）": dbh,
            "养护单位": str(rng.choice(["市园林管理处", "乡镇政府", "村委会", "住建局"])),
            "调查日期": _date(rng, _rand_date(rng, dt.date(2021, 5, 1), dt.date(2022, 9, 30))),
            "经度": f"{glon[i]:.6f}", "纬度": f"{glat[i]:.6f}"})
    n = len(valid)

    def extra(j, **over):
        base = dict(valid[int(rng.integers(0, n))])
        base["编号"] = f"YL-{n + j:04d}"
        base.update(over)
        return base

    ox, oy = _outside_point(ctx)
    olon, olat = ctx.lonlat([ox], [oy])
    golon, golat = wgs84_to_gcj02(np.asarray(olon), np.asarray(olat))
    e2 = extra(2)
    dup = dict(valid[int(rng.integers(0, n))])
    defects = [
        ("missing_coordinates", extra(1, 经度=""), "经度 blank"),
        ("invalid_coordinates", {**e2, "纬度": e2["纬度"].replace(".", "", 1)[:3] + "." + e2["纬度"].split(".")[1]},
         "纬度 > 90 (extra digit)"),
        ("outside_aoi", extra(3, 经度=f"{golon[0]:.6f}", 纬度=f"{golat[0]:.6f}"), "outside the AOI (GCJ-02)"),
        ("duplicate_id", dup, "编号 repeated"),
        ("out_of_range", extra(4, **{"高度（m）": "350"}), "高度 350 m (> 300 m)"),
        ("unreadable", extra(5, 名称=UNREADABLE), "unquoted comma inside 名称 splits the row"),
    ]
    return _insert(rng, valid, defects, "编号", 2, FILES["garden"])


# -- orchestration -----------------------------------------------------------------------------------
def counts(area_km2: float) -> dict:
    """Valid rows per category (the waterlogging count is that of the events)."""
    return {"crane": scale_count(60, area_km2, 15), "billboard": scale_count(100, area_km2, 20),
            "garden": scale_count(80, area_km2, 20),
            "power": {"变电站": scale_count(14, area_km2, 3), "输电塔": scale_count(70, area_km2, 10),
                      "配电室": scale_count(30, area_km2, 6), "箱式变压器": scale_count(40, area_km2, 8)}}


def write_survey(ctx: Context, out_dir, wl_xy, wl_built, progress, keep: dict | None = None) -> list[Planted]:
    """Write the five survey files and the lists of planted defects; return those defects.

    ``keep``, when given, receives ``{category: (rows as written, their planted defects)}`` (the later
    survey round of :mod:`risk.demo.round2` starts from them).
    """
    from pathlib import Path

    sdir = Path(out_dir) / "survey"
    c = counts(ctx.area_km2)
    planted: list[Planted] = []
    progress("writing survey/内涝点.csv (GBK)")
    rows, p = waterlogging_rows(ctx, wl_xy[0], wl_xy[1], wl_built)
    write_csv(rows, WL_HEADERS, sdir / FILES["waterlogging"], "gbk")
    planted += p
    if keep is not None:
        keep["waterlogging"] = (rows, p)
    progress("writing survey/大型起重设备.xlsx")
    x, y = ctx.sample_cells("built_pop", c["crane"])
    rows, p = crane_rows(ctx, x, y)
    write_xlsx(rows, CRANE_HEADERS, sdir / FILES["crane"], "起重设备台账",
               "凌源市应急管理局" if ctx.real_names else "应急管理局")
    planted += p
    if keep is not None:
        keep["crane"] = (rows, p)
    progress("writing survey/电力设施.gpkg")
    pts = {"变电站": ctx.sample_cells("seat", c["power"]["变电站"]),
           "输电塔": ctx.sample_cells("land", c["power"]["输电塔"]),
           "配电室": ctx.sample_cells("built_pop", c["power"]["配电室"]),
           "箱式变压器": ctx.sample_cells("settled", c["power"]["箱式变压器"])}
    rows, p = power_rows(ctx, pts)
    write_power(rows, sdir / FILES["power"], ctx.crs)
    planted += p
    if keep is not None:
        keep["power"] = (rows, p)
    progress("writing survey/广告牌.geojson")
    x, y = ctx.sample_cells("built_road", c["billboard"])
    rows, p = billboard_rows(ctx, x, y)
    write_geojson(rows, sdir / FILES["billboard"], "广告牌")
    planted += p
    if keep is not None:
        keep["billboard"] = (rows, p)
    progress("writing survey/园林设施.csv (UTF-8 BOM, GCJ-02)")
    n_urban = c["garden"] // 2
    xu, yu = ctx.sample_cells("built_pop", n_urban)
    xr, yr = ctx.sample_cells("village", c["garden"] - n_urban)
    rows, p = garden_rows(ctx, np.concatenate([xu, xr]), np.concatenate([yu, yr]),
                          np.r_[np.ones(len(xu), bool), np.zeros(len(xr), bool)])
    write_csv(rows, GARDEN_HEADERS, sdir / FILES["garden"], "utf-8-sig")
    planted += p
    if keep is not None:
        keep["garden"] = (rows, p)
    write_table(pd.DataFrame([p.__dict__ for p in planted], columns=["file", "row", "reason", "id", "note"]),
                sdir / "expected_rejections.csv")
    return planted


def survey_readme(planted: list[Planted], n_rows: dict) -> str:
    lines = [
        "# Survey files (风险点普查) of the synthetic demo",
        "",
        "Messy on purpose, like the exports county offices send. The config's `survey.sources` names them.",
        "",
        "| file | format | coordinates | rows |",
        "| --- | --- | --- | --- |",
        f"| 内涝点.csv | CSV, **GBK**, CRLF, Chinese headers | 经度/纬度, WGS84 | {n_rows.get('内涝点.csv', '')} |",
        f"| 大型起重设备.xlsx | Excel, sheet 起重设备台账; 安装日期 as Excel dates, text dates and raw serials | "
        f"经度/纬度, WGS84 | {n_rows.get('大型起重设备.xlsx', '')} |",
        f"| 电力设施.gpkg | GeoPackage point layer; 电压等级 text like 35kV / 220 | geometry, EPSG:4549 | "
        f"{n_rows.get('电力设施.gpkg', '')} |",
        f"| 广告牌.geojson | GeoJSON points; mixed number/text properties | geometry, WGS84 (CRS84) | "
        f"{n_rows.get('广告牌.geojson', '')} |",
        f"| 园林设施.csv | CSV, UTF-8 **with BOM**, CRLF | 经度/纬度 in **GCJ-02** (picked on AMap) | "
        f"{n_rows.get('园林设施.csv', '')} |",
        "",
        "Numbers come plain, with units (`0.6m`, `8米`, `3h`, `35kV`), with full-width digits (`１２.５`) or thousands "
        "separators (`1,200`); dates as 2021-06-03, 2021/6/3, 2021.6.3, 2021年6月3日, 2021-6-3 and Excel serials. "
        "The accepted rows of 内涝点.csv are the waterlogging events drawn from `truth/waterlogging.tif`.",
        "",
        "## Planted defects (every other row is valid and inside the AOI)",
        "",
        "Row numbers: as a spreadsheet shows them for CSV/XLSX (header = row 1, first data row = row 2); the 1-based "
        "feature number for the GeoPackage and GeoJSON layers. Machine-readable: `expected_rejections.csv`.",
        "",
        "| file | row | expected reason | id | what was planted |",
        "| --- | --- | --- | --- | --- |",
    ]
    for p in planted:
        lines.append(f"| {p.file} | {p.row} | `{p.reason}` | {p.id} | {p.note} |")
    lines += ["", "Swapped lon/lat rows are `invalid_coordinates` (the latitude they give is > 90); the message may add "
              "that swapping would put them inside the area.", ""]
    return "\n".join(lines)
