"""What each published file is: its bilingual layer name, its group in the QGIS project and its style.

One table for the QGIS project (``results/risk.qgz``), the ``.qml`` styles written beside rasters and
anything else that must say what a file holds: three files are named ``earthquake.tif`` (hazard,
risk, zones), and the catalog is what tells them apart (``地震 危险性 Earthquake hazard`` ...).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import PurePosixPath

from risk import CATEGORY_LABELS, HAZARD_LABELS

STAGES = {  # top-level group of the project, in the order the layer tree shows them (top = drawn last)
    "townships": ("乡镇", "Townships"),
    "survey": ("承灾体调查", "Survey"),
    "points": ("风险隐患点", "Risk register"),
    "zoning": ("风险区划", "Risk zoning"),
    "risk": ("风险", "Risk"),
    "uncertainty": ("不确定性", "Uncertainty"),
    "capacity": ("减灾能力", "Capacity"),
    "shelters": ("避难场所", "Shelters"),
    "access": ("救援可达性", "Relief access"),
    "hazard": ("危险性", "Hazard"),
    "hazard_index": ("危险性指标指数", "Hazard indicator index"),
    "exposure": ("暴露度", "Exposure"),
    "vulnerability": ("脆弱性", "Vulnerability"),
    "indicators": ("评估指标", "Indicators"),
    "grid": ("分析网格", "Analysis grid"),
}

_EXTRA = {
    "comprehensive": ("综合（考虑减灾能力）", "Comprehensive (with capacity)"),
    "terrain": ("地形", "Terrain"),
    "survey": ("调查点", "Survey points"),
}


def _label(key: str) -> tuple[str, str]:
    return HAZARD_LABELS.get(key) or CATEGORY_LABELS.get(key) or _EXTRA.get(key) or (key, key.replace("_", " "))


def bi(zh: str, en: str) -> str:
    """``"中文 English"``."""
    return f"{zh} {en}"


@dataclass(frozen=True)
class Entry:
    """One published layer: where it is, what it is called, where it goes and how it is drawn.

    ``style`` is ``zoning`` (five classes), ``index`` (0-1 green-red), ``stability`` (0-1 red-green),
    ``hours`` (travel time), ``continuous`` (a ramp over the data's 2-98 % range), ``mask`` or
    ``vector`` (the GeoPackage's own default style). ``group`` is the stage group and ``subgroup``
    the hazard (or ``""``).
    """

    path: str
    name: str
    group: str
    subgroup: str
    style: str
    layer: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def describe(relpath: str, layer: str = "") -> Entry | None:
    """The catalog entry of a file under the results folder (``"zoning/earthquake.tif"``), None if unknown.

    Examples
    --------
    >>> describe("risk/earthquake.tif").name
    '地震 风险 Earthquake risk'
    >>> describe("zoning/earthquake.tif").name
    '地震 风险分区 Earthquake risk zones'
    """
    p = PurePosixPath(relpath)
    parts, stem = p.parts, p.stem
    top = parts[0]
    if p.suffix == ".gpkg":
        return _vector(relpath, top, stem, layer)
    if p.suffix != ".tif":
        return None
    zh, en = _label(stem.removesuffix("_stability"))
    if top == "zoning" and len(parts) == 3 and parts[1] == "hazard":
        return Entry(relpath, bi(f"{zh} 危险性分区", f"{en} hazard zones"), "zoning", "", "zoning")
    if top in ("exposure", "vulnerability") and len(parts) == 3 and parts[1] == "by_hazard":
        what = ("承灾体暴露（人当量/格）", "exposure (person-equivalents per cell)") if top == "exposure" else \
            ("脆弱性（损失率）", "vulnerability (damage ratio)")
        return Entry(relpath, bi(f"{zh} {what[0]}", f"{en} {what[1]}"), top, "", "continuous" if top == "exposure"
                     else "index")
    if top == "zoning":
        return Entry(relpath, bi(f"{zh} 风险分区", f"{en} risk zones"), "zoning", "", "zoning")
    if top == "risk":
        return Entry(relpath, bi(f"{zh} 风险", f"{en} risk"), "risk", "", "index")
    if top == "hazard" and len(parts) == 3 and parts[1] == "index":
        return Entry(relpath, bi(f"{zh} 指标指数", f"{en} indicator index"), "hazard_index", "", "index")
    if top == "hazard":
        en = en if en.endswith("hazard") else f"{en} hazard"
        return Entry(relpath, bi(f"{zh} 危险性", f"{en} (susceptibility)"), "hazard", "", "index")
    if top == "uncertainty":
        return Entry(relpath, bi(f"{zh} 分区稳定性", f"{en} zone stability"), "uncertainty", "", "stability")
    if top == "access":
        return Entry(relpath, bi("救援到达时间（小时）", "Relief travel time (hours)"), "access", "", "hours")
    if top == "exposure":
        names = {"population": ("人口（人/格）", "Population per cell"), "built_up": ("建成区比例", "Built-up share"),
                 "survey_points": ("调查点密度", "Survey-point density"), "exposure": ("暴露度指数", "Exposure index")}
        zh, en = names.get(stem, (stem, stem))
        return Entry(relpath, bi(zh, en), "exposure", "", "index" if stem == "exposure" else "continuous")
    if top == "vulnerability":
        return Entry(relpath, bi("脆弱性指数", "Vulnerability index"), "vulnerability", "", "index")
    if top == "grid":
        return Entry(relpath, bi("研究区", "Study area"), "grid", "", "mask")
    if top == "indicators" and len(parts) == 3:
        gz, ge = _label(parts[1])
        return Entry(relpath, f"{gz} {ge}: {_indicator_meaning(parts[1], stem)}", "indicators", parts[1],
                     "continuous")
    return Entry(relpath, stem, top, "", "continuous")


def _indicator_meaning(folder: str, stem: str) -> str:
    """``stem (meaning, unit)`` from the indicator table where it has the indicator, else the stem."""
    from risk.hazard.indicators import INDICATORS

    ind = next((i for i in INDICATORS.get(folder, ()) if i.name == stem), None)
    if ind is None:
        return stem.replace("_", " ")
    return f"{stem} ({ind.meaning}, {ind.unit})"


def _vector(relpath: str, top: str, stem: str, layer: str) -> Entry:
    layer = layer or stem
    names = {
        ("zoning", "townships"): ("乡镇界 风险统计", "Township boundaries, risk by zone"),
        ("points", "risk_register"): ("风险隐患点排序", "Risk register"),
        ("vulnerability", "points"): ("调查点脆弱性", "Vulnerability of surveyed points"),
        ("capacity", "capacity_index"): ("乡镇 综合减灾能力", "Townships: disaster-reduction capacity"),
        ("shelters", "selected_sites"): ("新建避难场所选址", "Selected shelter sites"),
        ("shelters", "settlement_coverage"): ("居民点避难覆盖", "Settlement shelter coverage"),
        ("survey", "rejected"): ("拒收记录", "Rejected rows"),
        ("zoning", "points_by_zone"): ("乡镇 各风险区调查点数", "Survey points by township and zone"),
    }
    if (top, layer) in names:
        zh, en = names[(top, layer)]
    elif top == "survey":
        zh, en = CATEGORY_LABELS.get(layer, (layer, layer))
    else:
        zh, en = layer, layer.replace("_", " ")
    group = "townships" if (top, layer) in {("zoning", "townships"), ("capacity", "capacity_index")} else top
    return Entry(relpath, bi(zh, en), group, "", "vector", layer)
