"""Emergency shelters, shelter candidates, supply depots, township capacity and yearly statistics.

Facilities sit at the township seats (the city gets most); the capacity table is consistent with
them (``shelter_capacity`` = capacity of the usable shelters in the township) and with the
settlements (``population``); the yearly statistics scale with the area's population and mostly
trend towards the plan's targets, with 2023 a bad flood year and relief times still above 10 h.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

SHELTER_KINDS = {"park": ("公园", (2000, 20000)), "square": ("广场", (1000, 8000)), "school": ("学校操场", (500, 3000)),
                 "stadium": ("体育场", (3000, 15000)), "green_space": ("绿地", (500, 5000))}
SHELTER_PLACES = {
    "park": ["人民公园", "滨河公园", "文化公园", "森林公园", "植物园", "儿童公园", "湿地公园"],
    "square": ["中心广场", "人民广场", "文化广场", "站前广场", "市民广场", "体育广场"],
    "school": ["第一中学操场", "第二中学操场", "实验小学操场", "中心小学操场", "职业教育中心操场", "第三中学操场"],
    "stadium": ["体育场", "全民健身中心", "体育馆"],
    "green_space": ["滨河绿地", "街心绿地", "防护绿地", "河滨游园"],
}

CAPACITY_COLUMNS = {
    "township": "乡镇（街道）",
    "population": "常住人口（人）",
    "mgmt_staff": "应急管理工作人员（人）",
    "risk_assessment_done": "是否完成灾害风险评估（1 是 / 0 否）",
    "funding_10k_yuan": "年度防灾减灾救灾经费（万元）",
    "reserve_value_10k_yuan": "应急物资储备价值（万元）",
    "hospital_beds": "医疗卫生机构床位（张）",
    "firefighters": "消防救援人员（人）",
    "volunteers": "应急志愿者（人）",
    "militia": "基干民兵（人）",
    "trained_people": "接受应急培训人数（人）",
    "shelter_capacity": "可用应急避难场所容量（人）",
    "warning_coverage_pct": "预警信息覆盖率（%）",
    "plan_drills_per_year": "年度应急预案演练次数（次）",
}

STATS_COLUMNS = {
    "year": "年份",
    "population": "常住人口（人）",
    "gdp_100m_yuan": "地区生产总值（亿元）",
    "workers_industry_mining_commerce": "工矿商贸从业人员（人）",
    "safety_deaths": "生产安全事故死亡人数（人）",
    "accidents_total": "生产安全事故起数（起）",
    "accidents_larger_and_above": "较大及以上生产安全事故起数（起）",
    "natural_disaster_deaths": "自然灾害死亡失踪人数（人）",
    "people_affected": "自然灾害受灾人次（人次）",
    "direct_loss_10k_yuan": "自然灾害直接经济损失（万元）",
    "fulltime_firefighters": "专职消防员（人）",
    "first_aid_trained": "接受急救培训人数（人）",
    "warning_coverage_pct": "预警信息公众覆盖率（%）",
    "relief_hours": "受灾群众基本生活救助时间（小时）",
}


def _near(rng, aoi_geom, x, y, r_min, r_max, ok=None):
    """A random point between ``r_min`` and ``r_max`` from (x, y) inside the AOI (and ``ok``), else (x, y)."""
    r_min = min(r_min, 0.5 * r_max)
    for _ in range(60):
        r = rng.uniform(r_min, r_max)
        a = rng.uniform(0, 2 * np.pi)
        px, py = x + r * np.cos(a), y + r * np.sin(a)
        if shapely.contains_xy(aoi_geom, px, py) and (ok is None or ok(px, py)):
            return float(px), float(py)
    return float(x), float(y)


def facilities(rng, seats, aoi_geom, crs: str, real_names: bool, r_city: float, ok=None) -> dict:
    """``{"shelters": gdf, "candidates": gdf, "depots": gdf}`` around the seats."""
    shelters, cands, depots = [], [], []
    used: set[str] = set()

    def uniq(name: str) -> str:
        base, k = name, 2
        while name in used:
            name = f"{base}{k}号" if not base.endswith("场所") else base.replace("应急避难场所", f"{k}号应急避难场所")
            k += 1
        used.add(name)
        return name

    city = seats[0]
    city_label = "凌源市" if real_names else city.name
    for s in seats:
        label = s.name
        if s.kind == "city":
            n_sh, r = (8 if real_names else 3), r_city
        elif s.kind == "subdistrict":
            n_sh, r = int(rng.integers(1, 3)), 1200.0
        elif s.kind == "town":
            n_sh, r = int(rng.integers(1, 3)), 700.0
        else:
            n_sh, r = int(rng.random() < 0.6), 500.0
        for _ in range(n_sh):
            kind = str(rng.choice(list(SHELTER_KINDS), p=[0.25, 0.3, 0.3, 0.05, 0.1]))
            _, (lo, hi) = SHELTER_KINDS[kind]
            x, y = _near(rng, aoi_geom, s.x, s.y, 0.0, r, ok)
            pre = city_label if s.kind == "city" else label
            places = [p for p in SHELTER_PLACES[kind] if f"{pre}{p}应急避难场所" not in used] or SHELTER_PLACES[kind]
            shelters.append((uniq(f"{pre}{rng.choice(places)}应急避难场所"), kind, int(round(rng.uniform(lo, hi), -1)),
                             int(rng.random() < 0.85), x, y))
        # candidates: schools everywhere, a middle school in towns, stadium and squares in the city
        pre = city_label if s.kind == "city" else label
        items = [("school", f"{pre}中心小学", (300, 1500))]
        if s.kind in ("city", "subdistrict", "town"):
            items.append(("school", f"{pre}中学", (500, 2500)))
        if s.kind == "city":
            items += [("stadium", f"{city_label}全民健身中心", (3000, 12000)), ("square", f"{city_label}人民广场", (2000, 10000))]
            items += [("school", f"{city_label}第{k}中学", (800, 3000)) for k in ("一", "二", "三", "四")]
            items += [("school", f"{city_label}实验小学", (600, 2000))]
        elif s.kind == "town" and rng.random() < 0.5:
            items.append(("square", f"{pre}文化广场", (800, 4000)))
        for kind, name, (lo, hi) in items:
            x, y = _near(rng, aoi_geom, s.x, s.y, 100.0, r, ok)
            cands.append((uniq(name), kind, int(round(rng.uniform(lo, hi), -1)), x, y))
        if s.kind == "city":
            for name in ([f"{city_label}应急物资储备库", f"{city_label}粮食和物资储备中心"] if real_names
                         else [f"{city_label}县级应急物资储备库"]):
                x, y = _near(rng, aoi_geom, s.x, s.y, 500.0, r, ok)
                depots.append((uniq(name), "county", x, y))
        if rng.random() < 0.85:
            x, y = _near(rng, aoi_geom, s.x, s.y, 0.0, 600.0, ok)
            depots.append((uniq(f"{label}应急物资储备点"), "township", x, y))

    def gdf(rows, cols):
        return gpd.GeoDataFrame({c: [r[i] for r in rows] for i, c in enumerate(cols)},
                                geometry=gpd.points_from_xy([r[-2] for r in rows], [r[-1] for r in rows]), crs=crs)

    return {"shelters": gdf(shelters, ["name", "kind", "capacity", "usable"]),
            "candidates": gdf(cands, ["name", "kind", "capacity"]),
            "depots": gdf(depots, ["name", "level"])}


def capacity_table(rng, townships: gpd.GeoDataFrame, seats, settlements, shelters, township_of) -> pd.DataFrame:
    """One row per township: staff, money, beds, people, shelters, warnings, drills."""
    s_town = township_of(settlements.geometry.x.to_numpy(), settlements.geometry.y.to_numpy())
    pop = pd.Series(settlements["population"].to_numpy(), index=s_town).groupby(level=0).sum()
    sh_town = township_of(shelters.geometry.x.to_numpy(), shelters.geometry.y.to_numpy())
    sh_cap = pd.Series((shelters["capacity"] * shelters["usable"]).to_numpy(), index=sh_town).groupby(level=0).sum()
    kind = dict(zip([s.name for s in seats], [s.kind for s in seats], strict=True))
    rows = []
    for name in townships["name"]:
        p = int(pop.get(name, 0))
        k = kind.get(name, "township")
        urban = k in ("city", "subdistrict")
        u = lambda a, b: float(rng.uniform(a, b))  # noqa: E731
        weak = rng.random() < 0.15  # a few townships lag behind on everything
        f = 0.55 if weak else 1.0
        rows.append({
            "township": name,
            "population": p,
            "mgmt_staff": int(round((3 + p / 4000.0) * u(0.7, 1.3) * f)),
            "risk_assessment_done": int(rng.random() < (0.85 if urban else 0.55) * f),
            "funding_10k_yuan": round((8 + p / 1000.0 * u(0.8, 3.0)) * f, 1),
            "reserve_value_10k_yuan": round((15 + p / 800.0 * u(0.5, 3.0)) * f, 1),
            "hospital_beds": int(round(p / (90.0 if k == "city" else 130.0 if urban else 300.0 if k == "town" else 600.0)
                                       * u(0.6, 1.4))),
            "firefighters": int(round((u(35, 70) if k == "city" else u(0, 8) if urban else u(4, 18) if k == "town"
                                       else u(0, 6)) * f)),
            "volunteers": int(round(p / 200.0 * u(0.5, 2.0) * f)),
            "militia": int(round(p / 150.0 * u(0.6, 1.5))),
            "trained_people": int(round(p * u(0.01, 0.05) * f)),
            "shelter_capacity": int(sh_cap.get(name, 0)),
            "warning_coverage_pct": round(min(100.0, (u(88, 100) if urban else u(72, 98)) * (0.9 if weak else 1.0)), 1),
            "plan_drills_per_year": int(rng.integers(0, 3) if weak else rng.integers(1, 7)),
        })
    return pd.DataFrame(rows, columns=list(CAPACITY_COLUMNS))


def yearly_statistics(rng, population: int) -> pd.DataFrame:
    """2020-2024 safety and disaster statistics scaled to ``population`` (see module docstring)."""
    s = population / 600000.0
    years = np.arange(2020, 2025)
    jit = lambda n: rng.uniform(0.92, 1.08, n)  # noqa: E731
    pop = np.round(population * np.array([1.024, 1.018, 1.011, 1.005, 1.0]) * rng.uniform(0.995, 1.005, 5))
    gdp = 180.0 * s * np.cumprod([1.0, 1.055, 1.038, 1.052, 1.049]) * rng.uniform(0.97, 1.03)
    df = pd.DataFrame({
        "year": years,
        "population": pop.astype(np.int64),
        "gdp_100m_yuan": np.round(gdp, 2),
        "workers_industry_mining_commerce": np.round(pop * np.array([0.071, 0.07, 0.069, 0.068, 0.067])).astype(np.int64),
        "safety_deaths": np.maximum(0, np.round(np.array([14, 12, 10, 13, 9]) * s * jit(5))).astype(np.int64),
        "accidents_total": np.maximum(1, np.round(np.array([42, 38, 35, 37, 31]) * s * jit(5))).astype(np.int64),
        "accidents_larger_and_above": np.array([1, 0, 1, 0, 0]) * int(s > 0.3),
        "natural_disaster_deaths": np.round(np.array([2, 0, 1, 3, 0]) * min(1.0, 2 * s)).astype(np.int64),
        "people_affected": np.round(np.array([58000, 31000, 42000, 76000, 26000]) * s * jit(5), -1).astype(np.int64),
        "direct_loss_10k_yuan": np.round(np.array([21500, 9800, 15200, 38600, 8700]) * s * jit(5), 1),
        "fulltime_firefighters": np.maximum(2, np.round(np.array([96, 104, 112, 118, 126]) * s)).astype(np.int64),
        "first_aid_trained": np.round(np.array([3200, 5100, 7400, 9800, 12600]) * s * jit(5)).astype(np.int64),
        "warning_coverage_pct": np.round(np.array([86.5, 89.2, 92.8, 95.1, 97.6]) + rng.uniform(-0.8, 0.8, 5), 1),
        "relief_hours": np.round(np.array([16.0, 14.0, 13.0, 13.5, 12.0]) * rng.uniform(0.95, 1.05), 1),
    })
    return df


def readme_capacity() -> str:
    lines = ["# Township disaster-reduction capacity (synthetic)", "",
             "`township_capacity.csv`: one row per township of `townships.gpkg` (column `township` = its `name`), "
             "UTF-8 with BOM.", "", "| column | 中文 |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in CAPACITY_COLUMNS.items()]
    lines += ["", "`population` is the sum of the township's settlements; `shelter_capacity` the capacity of its usable "
              "shelters in `shelters/shelters.gpkg`.", "",
              "## ../stats/yearly_statistics.csv", "", "| column | 中文 |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in STATS_COLUMNS.items()]
    lines += [""]
    return "\n".join(lines)

