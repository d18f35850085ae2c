"""A later survey round of the demo census, with planted changes and their expected outcome.

Round 2 (``survey_round2/``) has the same five files, in the same formats, as round 1 (``survey/``), made of
round 1's valid rows (the planted defects are left out) with changes of every kind the follow-up stage
(:mod:`risk.followup`) reports:

* ``new`` -- points that were not there before, at least 2 km from any point of their category;
* ``removed`` -- points no longer in the file;
* ``moved`` -- same id, position shifted by 150-600 m (beyond the 50 m match tolerance);
* ``rematched`` -- a new id for the same point, shifted by under 20 m (matched by category and distance);
* ``rectified`` -- inspection now passed where it failed, expired or was missing (cranes, billboards),
  a billboard taken down (检测情况 ``已拆除``), waterlogging depth reduced;
* ``worsened`` -- inspection failed where it had passed, waterlogging depth increased.

Every other point is written exactly as in round 1. ``truth/round_changes.csv`` (category, id, kind,
previous_id, note) lists each planted change; unchanged points are not listed. The draws come from their
own stream, so round 1's files keep their bytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from risk.demo import survey_files as sf
from risk.demo.common import rng_for
from risk.io import write_table, write_text
from risk.survey.coords import gcj02_to_wgs84, wgs84_to_gcj02
from risk.survey.parse import parse_number

TOLERANCE_M = 50.0
"""Match tolerance the planted changes are made for (``followup.tolerance_m``)."""
ROUND2_DIR = "survey_round2"
ID_KEY = {"waterlogging": "编号", "crane": "设备编号", "power": "编号", "billboard": "编号", "garden": "编号"}
FIRST_ROW = {"waterlogging": 2, "crane": 2, "power": 1, "billboard": 1, "garden": 2}
INSPECTION = {"crane": "检验状态", "billboard": "检测情况"}
BAD = ("不合格", "过期", "未检")
PLAN = {  # kind: how many per category
    "waterlogging": {"new": 2, "removed": 2, "moved": 2, "rematched": 1, "depth_down": 2, "depth_up": 2},
    "crane": {"new": 2, "removed": 2, "moved": 2, "rematched": 1, "passed": 2, "failed": 1},
    "power": {"new": 2, "removed": 2, "moved": 2, "rematched": 1},
    "billboard": {"new": 2, "removed": 2, "moved": 2, "rematched": 1, "passed": 1, "taken_down": 1, "failed": 1},
    "garden": {"new": 2, "removed": 2, "moved": 2, "rematched": 1},
}
KIND_OF = {"depth_down": "rectified", "passed": "rectified", "taken_down": "rectified", "depth_up": "worsened",
           "failed": "worsened"}


class _Pos:
    """Read and write a row's position (projected metres) in the format of its category's file."""

    def __init__(self, crs: str):
        self.to_ll = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        self.to_xy = Transformer.from_crs("EPSG:4326", crs, always_xy=True)

    def get(self, cat: str, row: dict) -> tuple[float, float]:
        if cat == "power":
            return row["_xy"]
        if cat == "billboard":
            lon, lat = row["_ll"]
        elif cat == "garden":
            lon, lat = gcj02_to_wgs84(np.array([float(row["经度"])]), np.array([float(row["纬度"])]))
            lon, lat = float(lon[0]), float(lat[0])
        else:
            lon, lat = float(row["经度"]), float(row["纬度"])
        x, y = self.to_xy.transform(lon, lat)
        return float(x), float(y)

    def set(self, cat: str, row: dict, x: float, y: float) -> dict:
        row = dict(row)
        if cat == "power":
            row["_xy"] = (float(x), float(y))
            return row
        lon, lat = self.to_ll.transform(x, y)
        if cat == "billboard":
            row["_ll"] = (float(lon), float(lat))
        elif cat == "garden":
            glon, glat = wgs84_to_gcj02(np.array([lon]), np.array([lat]))
            row["经度"], row["纬度"] = f"{glon[0]:.6f}", f"{glat[0]:.6f}"
        elif cat == "crane":
            row["经度"], row["纬度"] = round(float(lon), 6), round(float(lat), 6)
        else:
            row["经度"], row["纬度"] = f"{lon:.6f}", f"{lat:.6f}"
        return row


def _valid_rows(cat: str, rows: list[dict], planted: list) -> list[dict]:
    bad_rows = {p.row for p in planted}
    return [r for i, r in enumerate(rows) if i + FIRST_ROW[cat] not in bad_rows]


def _depth(row: dict) -> float:
    return parse_number(row["最大积水深度（m）"])[0]


def _eligible(cat: str, row: dict, change: str) -> bool:
    if change == "depth_down":
        return _depth(row) >= 0.4
    if change in ("passed", "taken_down"):
        return row.get(INSPECTION[cat]) in BAD
    if change == "failed":
        return row.get(INSPECTION[cat]) == "合格"
    return True


def _shifted(rng, aoi_geom, x: float, y: float, lo: float, hi: float) -> tuple[float, float] | None:
    inner = aoi_geom.buffer(-100.0)
    for _ in range(100):
        r, a = rng.uniform(lo, hi), rng.uniform(0, 2 * np.pi)
        px, py = x + r * np.cos(a), y + r * np.sin(a)
        if shapely.contains_xy(inner, px, py):
            return px, py
    return None


def plant_changes(rng, cat: str, valid: list[dict], pos: _Pos, aoi_geom, plan: dict) -> tuple[list[dict], list]:
    """Round 2 rows of one category from round 1's valid rows, and the planted changes (``[(id, kind, prev, note)]``)."""
    key = ID_KEY[cat]
    n = len(valid)
    xy = np.array([pos.get(cat, r) for r in valid]).reshape(-1, 2)
    prefix = valid[0][key].rsplit("-", 1)[0] + "-" if n else ""
    used: set[int] = set()
    truth: list[tuple[str, str, str, str]] = []
    out = {i: dict(r) for i, r in enumerate(valid)}
    leftovers: list[tuple[float, float]] = []  # positions left to distance matching: must be far apart
    order = rng.permutation(n)

    def pick(change: str, alone: bool) -> int | None:
        for i in order:
            i = int(i)
            if i in used or not _eligible(cat, valid[i], change):
                continue
            if alone and leftovers and np.min(np.hypot(*(np.array(leftovers) - xy[i]).T)) < 6 * TOLERANCE_M:
                continue
            used.add(i)
            return i
        return None

    for change, count in plan.items():
        for k in range(count):
            if change == "new":
                continue
            i = pick(change, alone=change in ("removed", "rematched"))
            if i is None:
                continue
            old_id = valid[i][key]
            if change == "removed":
                del out[i]
                leftovers.append(tuple(xy[i]))
                truth.append((old_id, "removed", "", "no longer in the survey file"))
            elif change == "moved":
                p = _shifted(rng, aoi_geom, *xy[i], 150.0, 600.0)
                if p is None:
                    used.discard(i)
                    continue
                out[i] = pos.set(cat, valid[i], *p)
                truth.append((old_id, "moved", "", f"shifted {np.hypot(p[0] - xy[i][0], p[1] - xy[i][1]):.0f} m"))
            elif change == "rematched":
                p = _shifted(rng, aoi_geom, *xy[i], 2.0, 20.0)
                new_id = f"{prefix}{n + 100 + k + 1:04d}"
                row = pos.set(cat, valid[i], *p) if p is not None else dict(valid[i])
                row[key] = new_id
                out[i] = row
                leftovers.append(tuple(xy[i]))
                truth.append((new_id, "rematched", old_id, "new id, same point"))
            elif change in ("depth_down", "depth_up"):
                d = _depth(valid[i])
                nd = round(max(0.05, d * 0.4), 2) if change == "depth_down" else round(d + 0.4, 2)
                out[i] = {**valid[i], "最大积水深度（m）": f"{nd:.2f}"}
                truth.append((old_id, KIND_OF[change], "", f"最大积水深度 {d:g} -> {nd:g} m"))
            else:
                value = {"passed": "合格", "taken_down": "已拆除", "failed": "不合格"}[change]
                out[i] = {**valid[i], INSPECTION[cat]: value}
                truth.append((old_id, KIND_OF[change], "", f"{INSPECTION[cat]} {valid[i][INSPECTION[cat]]} -> {value}"))
    rows = [out[i] for i in sorted(out)]
    for k in range(plan.get("new", 0)):
        for _ in range(200):
            j = int(rng.integers(0, n))
            p = _shifted(rng, aoi_geom, *xy[j], 2000.0, 6000.0)
            if p is None:
                continue
            others = np.vstack([xy, np.array([pos.get(cat, r) for r in rows]).reshape(-1, 2)])
            if np.min(np.hypot(*(others - np.array(p)).T)) >= 2000.0:
                new_id = f"{prefix}{n + 200 + k + 1:04d}"
                rows.append({**pos.set(cat, valid[j], *p), key: new_id})
                truth.append((new_id, "new", "", "first surveyed in round 2"))
                break
    return rows, truth


def write_round2(seed: int, out_dir, kept: dict, crs: str, aoi_geom, real_names: bool, progress) -> pd.DataFrame:
    """Write ``survey_round2/`` (five files) and ``truth/round_changes.csv``; return the planted changes.

    Parameters
    ----------
    seed : int
        The demo's seed (round 2 draws from its own stream ``(seed, "survey-round2")``).
    out_dir : path
        The demo folder.
    kept : dict
        ``{category: (round-1 rows as written, their planted defects)}`` from
        :func:`risk.demo.survey_files.write_survey`.
    crs : str
        Projected CRS of the demo; ``aoi_geom`` the AOI polygon in it.
    """
    rng = rng_for(seed, "survey-round2")
    out = Path(out_dir)
    sdir = out / ROUND2_DIR
    pos = _Pos(crs)
    truth = []
    for cat in ("waterlogging", "crane", "power", "billboard", "garden"):
        rows, planted = kept[cat]
        new_rows, t = plant_changes(rng, cat, _valid_rows(cat, rows, planted), pos, aoi_geom, PLAN[cat])
        truth += [(cat, *x) for x in t]
        path = sdir / sf.FILES[cat]
        progress(f"writing {ROUND2_DIR}/{sf.FILES[cat]} (round 2, {len(t)} planted changes)")
        if cat == "waterlogging":
            sf.write_csv(new_rows, sf.WL_HEADERS, path, "gbk")
        elif cat == "crane":
            sf.write_xlsx(new_rows, sf.CRANE_HEADERS, path, "起重设备台账",
                          "凌源市应急管理局" if real_names else "应急管理局")
        elif cat == "power":
            sf.write_power(new_rows, path, crs)
        elif cat == "billboard":
            sf.write_geojson(new_rows, path, "广告牌")
        else:
            sf.write_csv(new_rows, sf.GARDEN_HEADERS, path, "utf-8-sig")
    frame = pd.DataFrame(truth, columns=["category", "id", "kind", "previous_id", "note"])
    write_table(frame, out / "truth" / "round_changes.csv")
    write_text(readme(frame), sdir / "README.md")
    return frame


def readme(changes: pd.DataFrame) -> str:
    """``survey_round2/README.md``: what round 2 is and the planted changes."""
    lines = ["# Survey round 2 (复查) of the synthetic demo", "",
             "The same five files as `survey/`, a later census round: round 1's valid rows (the planted defects "
             "left out) with the changes below planted. Every other point is as in round 1. Machine-readable: "
             "`../truth/round_changes.csv`. Match tolerance they are made for: 50 m (`followup.tolerance_m`).", "",
             "| category | id | kind | previous id | what was planted |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {r.category} | {r.id} | {r.kind} | {r.previous_id} | {r.note} |" for r in changes.itertuples()]
    return "\n".join(lines) + "\n"
