"""QGIS styles (``.qml``) written beside rasters, so that QGIS opens each one styled.

QGIS loads ``<name>.qml`` automatically when it opens ``<name>.tif``.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from risk.assessment.zoning import ZONE_COLORS, ZONE_LABELS


def zoning_qml(title: str = "", labels=None, colors=None) -> str:
    """A QGIS style (``.qml``) that shows zones 1-5 (or ``labels``) with their Chinese and English labels.

    QGIS loads ``<name>.qml`` automatically when it opens ``<name>.tif``.
    """
    labels, colors = labels or ZONE_LABELS, colors or ZONE_COLORS
    entries = "\n".join(
        f'        <paletteEntry value="{k}" alpha="255" color="#{r:02x}{g:02x}{b:02x}" '
        f"label={quoteattr(f'{k} {zh} {en}')}/>"
        for k, (zh, en) in labels.items()
        for (r, g, b, _a) in [colors[k]]
    )
    return f"""<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.22.0" styleCategories="Symbology|Rendering">
  <!-- {title} -->
  <pipe>
    <provider>
      <resampling enabled="false" maxOversampling="2" zoomedInResamplingMethod="nearestNeighbour" zoomedOutResamplingMethod="nearestNeighbour"/>
    </provider>
    <rasterrenderer type="paletted" band="1" opacity="1" alphaBand="-1" nodataColor="">
      <rasterTransparency/>
      <minMaxOrigin>
        <limits>None</limits>
        <extent>WholeRaster</extent>
        <statAccuracy>Estimated</statAccuracy>
        <cumulativeCutLower>0.02</cumulativeCutLower>
        <cumulativeCutUpper>0.98</cumulativeCutUpper>
        <stdDevFactor>2</stdDevFactor>
      </minMaxOrigin>
      <colorPalette>
{entries}
      </colorPalette>
    </rasterrenderer>
    <brightnesscontrast brightness="0" contrast="0" gamma="1"/>
    <huesaturation saturation="0" colorizeOn="0" grayscaleMode="0" invertColors="0"/>
    <rasterresampler maxOversample="2"/>
    <resamplingStage>resamplingFilter</resamplingStage>
  </pipe>
  <blendMode>0</blendMode>
</qgis>
"""


def index_qml(title: str = "", vmin: float = 0.0, vmax: float = 1.0) -> str:
    """A QGIS style for a continuous 0-1 index: a green-yellow-red pseudocolour ramp (:func:`ramp_qml`)."""
    colors = [ZONE_COLORS[k][:3] for k in range(1, 6)]
    labels = [f"{vmin + i / 4 * (vmax - vmin):.2f}" for i in range(5)]
    return ramp_qml(title, vmin, vmax, colors, labels)


# -- continuous rasters other than 0-1 risk indices -----------------------------------------------
def ramp_qml(title: str, vmin: float, vmax: float, colors, labels=None) -> str:
    """A QGIS pseudocolour style from ``vmin`` to ``vmax`` through ``colors`` (RGB tuples, evenly spaced).

    ``labels`` (one per colour) replace the numbers in the legend, e.g. ``["0 不稳定 unstable", ...]``.
    """
    n = len(colors)
    items = "\n".join(
        f'            <item alpha="255" value="{vmin + i / (n - 1) * (vmax - vmin):.6g}" '
        f'color="#{c[0]:02x}{c[1]:02x}{c[2]:02x}" '
        f"label={quoteattr(labels[i] if labels else f'{vmin + i / (n - 1) * (vmax - vmin):.4g}')}/>"
        for i, c in enumerate(colors)
    )
    return f"""<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.22.0" styleCategories="Symbology|Rendering">
  <!-- {escape(title)} -->
  <pipe>
    <rasterrenderer type="singlebandpseudocolor" band="1" opacity="1" alphaBand="-1" classificationMin="{vmin}" classificationMax="{vmax}" nodataColor="">
      <rasterTransparency/>
      <rastershader>
        <colorrampshader colorRampType="INTERPOLATED" classificationMode="1" clip="0" minimumValue="{vmin}" maximumValue="{vmax}">
{items}
        </colorrampshader>
      </rastershader>
    </rasterrenderer>
    <brightnesscontrast brightness="0" contrast="0" gamma="1"/>
    <huesaturation saturation="0" colorizeOn="0" grayscaleMode="0" invertColors="0"/>
    <rasterresampler maxOversample="2"/>
  </pipe>
  <blendMode>0</blendMode>
</qgis>
"""


STABILITY_COLORS = [(215, 25, 28), (253, 174, 97), (255, 255, 191), (166, 217, 106), (26, 150, 65)]
HOURS_COLORS = [(255, 255, 204), (161, 218, 180), (65, 182, 196), (44, 127, 184), (37, 52, 148)]


def stability_qml(title: str = "") -> str:
    """Class stability 0-1 (share of Monte-Carlo draws keeping the zone): red unstable, green stable."""
    labels = ["0 不稳定 unstable", "0.25", "0.5", "0.75", "1 稳定 stable"]
    return ramp_qml(title, 0.0, 1.0, STABILITY_COLORS, labels)


def hours_qml(title: str = "", vmax: float = 3.0) -> str:
    """Travel time in hours, 0 to ``vmax`` (longer is darker; beyond ``vmax`` keeps the last colour)."""
    labels = [f"{vmax * i / 4:g} h" for i in range(5)]
    labels[-1] = f"≥ {vmax:g} h"
    return ramp_qml(title, 0.0, vmax, HOURS_COLORS, labels)


def zoning_rat_xml(labels=None) -> str:
    """A GDAL PAM file (``<name>.tif.aux.xml``) holding the raster attribute table of a 1-5 zoning raster.

    GTiff keeps raster attribute tables in its ``.aux.xml`` sidecar, so ArcGIS, GDAL and QGIS show
    the class names (and colours) of any zoning COG. Columns: Value, Count-free class names in
    Chinese and English, and the RGB colour.
    """
    labels = labels or ZONE_LABELS
    cols = [("Value", 0, 5), ("Class_zh", 2, 2), ("Class_en", 2, 2), ("Label", 2, 2),
            ("Red", 0, 6), ("Green", 0, 7), ("Blue", 0, 8)]  # (name, type 0 int 2 str, usage)
    fields = "\n".join(
        f'      <FieldDefn index="{i}"><Name>{n}</Name><Type>{t}</Type><Usage>{u}</Usage></FieldDefn>'
        for i, (n, t, u) in enumerate(cols))
    rows = []
    for i, k in enumerate(sorted(labels)):
        zh, en = labels[k]
        r, g, b = ZONE_COLORS[k][:3]
        values = [k, zh, en, f"{k} {zh} {en}", r, g, b]
        rows.append(f'      <Row index="{i}">' + "".join(f"<F>{escape(str(v))}</F>" for v in values) + "</Row>")
    body = "\n".join(rows)
    return f"""<PAMDataset>
  <PAMRasterBand band="1">
    <GDALRasterAttributeTable tableType="thematic">
{fields}
{body}
    </GDALRasterAttributeTable>
  </PAMRasterBand>
</PAMDataset>
"""


# -- vector layers: default style in the GeoPackage, Chinese field aliases -----------------------
def _capacity_labels() -> dict[str, str]:
    from risk.capacity.capacity_index import INDICATORS

    out = {}
    for i in INDICATORS:
        out[i.key] = f"{i.zh}（{i.unit}）"
        out[f"n_{i.key}"] = f"{i.zh}（归一化）"
        out[f"w_{i.key}"] = f"{i.zh}（权重）"
    return out


FIELD_ALIASES = {
    "township_id": "乡镇代码", "code": "乡镇代码", "name_zh": "乡镇名称", "name_en": "英文名称", "name": "名称",
    "area_km2": "面积（km²）", "people": "人口（人）", "population": "人口（人）", "category": "类别",
    "category_zh": "类别（中文）", "id": "编号", "township": "所属乡镇", "surveyed_on": "调查日期",
    "exposed_people": "威胁人数", "exposed_property": "威胁财产（万元）", "max_depth_m": "最大积水深度（m）",
    "area_m2": "面积（m²）", "duration_h": "积水时长（h）", "installed_on": "安装日期", "installed_year": "安装年份",
    "inspection": "检测情况", "lon": "经度", "lat": "纬度", "source_file": "来源文件", "source_row": "来源行号",
    "source_crs": "来源坐标系", "source_x": "来源 X", "source_y": "来源 Y", "kind": "类型", "height_m": "高度（m）",
    "rated_load_t": "额定起重量（t）", "voltage_kv": "电压等级（kV）", "reason": "拒收原因", "message": "说明",
    "raw": "原始记录", "vulnerability": "脆弱性（0–1）", "reasons": "脆弱性依据", "age_years": "使用年限（年）",
    "rank": "排序", "x": "X（m）", "y": "Y（m）", "exposure": "暴露度（0–1）", "relevant_hazards": "相关灾种",
    "dominant_hazard": "主导灾种", "dominant_hazard_zh": "主导灾种（中文）", "risk_score": "风险值（0–1）",
    "risk_level": "风险等级", "risk_level_label": "风险等级名称", "management": "灾害管理能力",
    "preparedness": "备灾能力", "self_rescue": "自救互救能力", "capacity_index": "综合减灾能力指数",
    "grade": "能力等级", "grade_zh": "能力等级（中文）", "grade_en": "能力等级（英文）", "order": "建设顺序",
    "capacity": "容量（人）", "people_closed": "新增覆盖人数", "settlements_served": "服务居民点数",
    "served": "服务居民点", "cumulative_closed": "累计新增覆盖人数", "cumulative_share": "累计覆盖比例",
    "remaining_gap": "剩余缺口（人）", "hazard_prone": "是否灾害易发", "max_level": "最高风险等级",
    "prone_hazards": "易发灾种", "demand": "避难需求（人）", "shelter": "最近避难场所", "distance_m": "距离（m）",
    "nearest_usable_m": "最近可用场所距离（m）", "shelter_load": "场所负荷（人）",
    "shelter_capacity": "场所容量（人）", "covered": "是否覆盖", "gap": "缺口（人）", "status": "状态",
    "status_zh": "状态（中文）", "layer": "图层", "zone": "风险等级", "zone_label": "风险等级名称", "count": "数量",
    "cell_zone_multi_hazard": "所在栅格多灾种风险等级",
    "previous_id": "上轮编号", "change": "两轮变化", "first_seen": "首次发现日期", "status_history": "历次状态",
    "open_since": "隐患存续起始日期", "days_open": "隐患存续天数", "rectified": "已整改（情景）",
}


def field_alias(field: str) -> str | None:
    """The Chinese alias of an output column (None when it has none): fixed names, then patterns.

    Examples
    --------
    >>> field_alias("waterlogging_z5_share")
    '暴雨内涝 5级（高）风险区面积占比'
    >>> field_alias("pts_crane_z1")
    '大型起重设备 1级（低）风险区点数'
    >>> field_alias("wind_unexposed_share")
    '大风 无暴露区面积占比'
    """
    import re

    from risk import CATEGORY_LABELS, HAZARD_LABELS

    if field in FIELD_ALIASES:
        return FIELD_ALIASES[field]
    cap = _capacity_labels()
    if field in cap:
        return cap[field]
    hz = "|".join(sorted(HAZARD_LABELS, key=len, reverse=True))
    cats = "|".join(sorted(CATEGORY_LABELS, key=len, reverse=True))
    if m := re.fullmatch(rf"({hz})_z([1-5])_(share|people)", field):
        what = "面积占比" if m[3] == "share" else "人口（人）"
        return f"{HAZARD_LABELS[m[1]][0]} {m[2]}级（{ZONE_LABELS[int(m[2])][0]}）风险区{what}"
    if m := re.fullmatch(rf"({hz})_unexposed_(share|people)", field):
        what = "面积占比" if m[2] == "share" else "人口（人）"
        return f"{HAZARD_LABELS[m[1]][0]} 无暴露区{what}"
    if m := re.fullmatch(rf"({hz})_(mean_risk|zoning_method|zoning_breaks)", field):
        what = {"mean_risk": "平均风险值", "zoning_method": "分级方法", "zoning_breaks": "分级断点"}[m[2]]
        return f"{HAZARD_LABELS[m[1]][0]} {what}"
    if m := re.fullmatch(rf"pts_({cats})_(total|z[1-5])", field):
        where = "点数合计" if m[2] == "total" else f"{m[2][1]}级（{ZONE_LABELS[int(m[2][1])][0]}）风险区点数"
        return f"{CATEGORY_LABELS[m[1]][0]} {where}"
    if m := re.fullmatch(rf"(hazard|risk|zone)_({hz})", field):
        what = {"hazard": "危险性（0–1）", "risk": "风险值（0–1）", "zone": "风险等级"}[m[1]]
        return f"{HAZARD_LABELS[m[2]][0]} {what}"
    if m := re.fullmatch(r"site_(\w+)", field):
        return f"场地 {m[1]}"
    return None


POINT_COLORS = {"waterlogging": "31,120,180", "crane": "255,127,0", "power": "227,26,28", "billboard": "106,61,154",
                "garden": "51,160,44", "rejected": "128,128,128"}


def _line_symbol(kind: str, color: str, extra: str = "") -> str:
    """A symbol of ``kind`` (``fill``: an outline only, ``line``) drawn as a 0.5 mm line in ``color``."""
    return f"""      <symbol type="{kind}" name="0" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleLine" pass="0" locked="0" enabled="1">
          <Option type="Map">
            <Option name="line_color" type="QString" value="{color},255"/>{extra}
            <Option name="line_width" type="QString" value="0.5"/>
            <Option name="line_width_unit" type="QString" value="MM"/>
          </Option>
        </layer>
      </symbol>"""


def _symbol(geometry: str, color: str) -> str:
    if geometry == "polygon":  # outline only: the zoning beneath stays visible
        return _line_symbol("fill", color, '\n            <Option name="line_style" type="QString" value="solid"/>')
    if geometry == "line":
        return _line_symbol("line", color)
    return f"""      <symbol type="marker" name="0" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" pass="0" locked="0" enabled="1">
          <Option type="Map">
            <Option name="color" type="QString" value="{color},255"/>
            <Option name="name" type="QString" value="circle"/>
            <Option name="outline_color" type="QString" value="255,255,255,255"/>
            <Option name="outline_width" type="QString" value="0.3"/>
            <Option name="outline_width_unit" type="QString" value="MM"/>
            <Option name="size" type="QString" value="2.2"/>
            <Option name="size_unit" type="QString" value="MM"/>
          </Option>
        </layer>
      </symbol>"""


def vector_qml(geometry: str, fields, label_field: str | None = None, color: str = "40,40,40",
               title: str = "") -> str:
    """A QGIS layer style for a vector layer: one symbol, optional labels and Chinese field aliases.

    Parameters
    ----------
    geometry : {"polygon", "line", "point", "none"}
        Polygons are drawn as outlines only (township boundaries over the zoning), points as dots.
    fields : sequence of str
        The layer's columns, in order; each with an alias (:func:`field_alias`) gets it.
    label_field : str, optional
        Column to label features with (e.g. the township name), drawn with a white halo.
    """
    aliases = "\n".join(f'    <alias field={quoteattr(f)} index="{i}" name={quoteattr(a)}/>'
                        for i, f in enumerate(fields) if (a := field_alias(f)))
    renderer = "" if geometry == "none" else f"""  <renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0">
    <symbols>
{_symbol(geometry, color)}
    </symbols>
    <rotation/>
    <sizescale/>
  </renderer-v2>
"""
    labeling = ""
    if label_field and geometry != "none":
        placement = "1" if geometry == "polygon" else "6"  # OverPoint (centroid) | cartographic around points
        labeling = f"""  <labeling type="simple">
    <settings calloutType="simple">
      <text-style fieldName={quoteattr(label_field)} isExpression="0" fontFamily="Noto Sans CJK SC" fontSize="9" fontSizeUnit="Point" textColor="20,20,20,255" textOpacity="1" fontWeight="50" namedStyle="Regular" multilineHeight="1" allowHtml="0" blendMode="0" previewBkgrdColor="255,255,255,255" capitalization="0" fontLetterSpacing="0" fontWordSpacing="0" fontItalic="0" fontUnderline="0" fontStrikeout="0" useSubstitutions="0" textOrientation="horizontal">
        <text-buffer bufferDraw="1" bufferSize="1" bufferSizeUnits="MM" bufferColor="255,255,255,255" bufferOpacity="0.85" bufferJoinStyle="128" bufferNoFill="1" bufferBlendMode="0"/>
      </text-style>
      <text-format wrapChar="" multilineAlign="3" addDirectionSymbol="0" formatNumbers="0" decimals="3" plussign="0" reverseDirectionSymbol="0" leftDirectionSymbol="&lt;" rightDirectionSymbol="&gt;" placeDirectionSymbol="0"/>
      <placement placement="{placement}" dist="0" distUnits="MM" priority="5" centroidWhole="0" centroidInside="1" fitInPolygonOnly="0" offsetType="0" quadOffset="4" xOffset="0" yOffset="0" offsetUnits="MM" rotationAngle="0" maxCurvedCharAngleIn="25" maxCurvedCharAngleOut="-25" placementFlags="10" repeatDistance="0" repeatDistanceUnits="MM" overrunDistance="0" overrunDistanceUnit="MM" lineAnchorPercent="0.5" lineAnchorType="0" lineAnchorClipping="0" polygonPlacementFlags="2" layerType="{ {'polygon': 'PolygonGeometry', 'line': 'LineGeometry'}.get(geometry, 'PointGeometry') }" geometryGenerator="" geometryGeneratorEnabled="0" geometryGeneratorType="PointGeometry" allowDegraded="0" overlapHandling="PreventOverlap" predefinedPositionOrder="TR,TL,BR,BL,R,L,TSR,BSR"/>
      <rendering drawLabels="1" obstacle="1" obstacleType="1" obstacleFactor="1" displayAll="0" upsidedownLabels="0" limitNumLabels="0" maxNumLabels="2000" mergeLines="0" minFeatureSize="0" scaleVisibility="0" scaleMin="0" scaleMax="0" fontLimitPixelSize="0" fontMinPixelSize="3" fontMaxPixelSize="10000" labelPerPart="0" zIndex="0" unplacedVisibility="0"/>
    </settings>
  </labeling>
"""
    enabled = "1" if labeling else "0"
    return f"""<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.22.0" styleCategories="Symbology|Labeling|Fields" labelsEnabled="{enabled}">
  <!-- {escape(title)} -->
{renderer}{labeling}  <aliases>
{aliases}
  </aliases>
</qgis>
"""


LABEL_FIELDS = ("name_zh", "name", "township")
"""Columns a polygon layer is labelled with, first found wins (a township's Chinese name first)."""


def layer_style(layer: str, geometry: str, fields) -> str:
    """The default style of an output layer: polygons outlined and labelled, survey points by category."""
    fields = list(fields)
    label = next((f for f in LABEL_FIELDS if f in fields), None) if geometry == "polygon" else None
    color = POINT_COLORS.get(layer, "40,40,40" if geometry == "polygon" else "200,30,30")
    return vector_qml(geometry, fields, label, color, layer)


def mask_qml(title: str = "") -> str:
    """The study-area mask: 1 drawn light grey, 0 transparent."""
    return ramp_qml(title, 0.0, 1.0, [(255, 255, 255), (220, 220, 220)], ["0", "1 研究区 study area"])


def style_for(path, style: str, title: str = "") -> str:
    """The ``.qml`` of a published raster by its catalog style (:class:`risk.io.catalog.Entry`).

    ``continuous`` rasters get a ramp over the 2nd-98th percentiles of their values (read at a
    reduced size), so a distance in metres and a density both open with contrast.
    """
    if style == "zoning":
        return zoning_qml(title)
    if style == "index":
        return index_qml(title)
    if style == "stability":
        return stability_qml(title)
    if style == "mask":
        return mask_qml(title)
    import numpy as np
    import rasterio

    from risk.io.rasters import read_decimated

    arr, _ = read_decimated(path, max_pixels=500_000)
    with rasterio.open(path) as src:
        nodata = src.nodata
    arr = arr.astype("f8")
    if nodata is not None and not np.isnan(nodata):
        arr[arr == nodata] = np.nan
    vals = arr[np.isfinite(arr)]
    lo, hi = (np.quantile(vals, [0.02, 0.98]) if vals.size else (0.0, 1.0))
    if style == "hours":
        return hours_qml(title, vmax=float(max(np.ceil(hi), 1.0)))
    if hi <= lo:
        hi = lo + 1.0
    return ramp_qml(title, float(lo), float(hi), [(255, 255, 212), (254, 217, 142), (254, 153, 41),
                                                   (217, 95, 14), (153, 52, 4)])
