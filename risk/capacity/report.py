"""The township capacity assessment report: what each section says, from the capacity stage's tables.

Sections follow the report structure of GB/T 43981-2024 (乡镇（街道）综合减灾能力评估): cover, data and their
quality, indicators and their values, weights, the capacity index, the grade, findings and recommendations.
Functions here take the tables (``capacity_index.csv``, ``weights.csv``, ``priority_townships.csv`` and the
filled-in input table) and return plain dictionaries and lists; :mod:`risk.io.capacity_report` renders them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from risk.capacity.capacity_index import GRADE_LABELS, GROUPS

SECTIONS = (
    ("cover", "封面", "Cover"),
    ("data", "数据来源与质量", "Data and quality"),
    ("indicators", "评估指标与指标值", "Indicators and values"),
    ("weights", "指标权重", "Weights"),
    ("index", "综合减灾能力指数", "Capacity index"),
    ("grade", "能力等级", "Grade"),
    ("findings", "结论与建议", "Findings and recommendations"),
)
"""Every report's sections, in order: (anchor, 中文, English)."""

WEAK_SHARE = 0.35
"""An indicator counts as a weakness of a township when its normalised value is below this (0 = the county's
weakest township, 1 = its strongest, by the run's normalisation)."""


def report_file(code) -> str:
    """File name of a township's report: its code, with anything but letters, digits, ``-`` and ``.`` as ``_``."""
    import re

    return re.sub(r"[^\w.-]", "_", str(code)) + ".html"


def _num(v, digits: int = 3):
    return None if v is None or (isinstance(v, float) and not np.isfinite(v)) else round(float(v), digits)


def data_quality(raw: pd.DataFrame, capacity: pd.DataFrame, weights: pd.DataFrame) -> dict:
    """What the data are and how complete: townships in the input table and in the result, missing values."""
    ind = list(weights["indicator"])
    missing = {i: int(capacity[i].isna().sum()) for i in ind if i in capacity}
    return {
        "input_rows": int(len(raw)),
        "input_columns": [str(c) for c in raw.columns],
        "townships": int(len(capacity)),
        "indicators": len(ind),
        "missing": {k: v for k, v in missing.items() if v},
        "complete": not any(missing.values()),
        "methods": str(weights["method"].iloc[0]) if "method" in weights and len(weights) else "",
    }


def indicator_rows(town: pd.Series, capacity: pd.DataFrame, weights: pd.DataFrame) -> list[dict]:
    """Each indicator of a township: its value, the county's range and median, and its normalised score."""
    rows = []
    for w in weights.itertuples(index=False):
        col = capacity[w.indicator].astype("f8")
        rows.append({
            "indicator": w.indicator, "group": w.group, "group_zh": w.group_zh, "name_zh": w.name_zh,
            "name_en": w.name_en, "unit": w.unit, "formula": w.formula,
            "value": _num(town[w.indicator]), "normalised": _num(town[f"n_{w.indicator}"]),
            "county_min": _num(col.min()), "county_median": _num(col.median()), "county_max": _num(col.max()),
        })
    return rows


def weight_rows(weights: pd.DataFrame) -> list[dict]:
    """The weights: subjective (AHP), objective (entropy), combined, and each group's weight."""
    cols = ["indicator", "group", "group_zh", "name_zh", "name_en", "w_ahp", "w_entropy", "weight", "group_weight"]
    out = weights[[c for c in cols if c in weights]].to_dict("records")
    for r in out:
        for k in ("w_ahp", "w_entropy", "weight", "group_weight"):
            if k in r:
                r[k] = _num(r[k], 4)
    return out


def grade_scale(weights: pd.DataFrame) -> list[dict]:
    """The five grades with their index ranges (from the recorded grade breaks)."""
    breaks = [float(b) for b in str(weights["grade_breaks"].iloc[0]).split(";")] if "grade_breaks" in weights else []
    edges = [-np.inf, *breaks, np.inf]
    return [{"grade": g, "zh": GRADE_LABELS[g][0], "en": GRADE_LABELS[g][1],
             "low": _num(edges[g - 1]) if np.isfinite(edges[g - 1]) else None,
             "high": _num(edges[g]) if np.isfinite(edges[g]) else None} for g in range(1, len(edges))]


def findings(town: pd.Series, weights: pd.DataFrame, capacity: pd.DataFrame, priority: pd.Series | None) -> dict:
    """Strengths, weaknesses and recommendations of one township, in words a planner can act on."""
    n = {w: float(town[f"n_{w}"]) for w in weights["indicator"] if pd.notna(town.get(f"n_{w}"))}
    by = weights.set_index("indicator")
    weak = sorted((w for w, v in n.items() if v < WEAK_SHARE), key=lambda w: (n[w], -by.loc[w, "weight"]))
    strong = sorted((w for w, v in n.items() if v >= 1 - WEAK_SHARE), key=lambda w: -n[w])
    med = capacity[list(n)].astype("f8").median()
    recs = [f"提高{by.loc[w, 'name_zh']}（现为 {_num(town[w])} {by.loc[w, 'unit']}，全县中位数 {_num(med[w])}）"
            f" Raise {by.loc[w, 'name_en'].lower()} (now {_num(town[w])} {by.loc[w, 'unit']}, county median "
            f"{_num(med[w])})." for w in weak[:5]]
    groups = {g: float(town[g]) for g in GROUPS if g in town and pd.notna(town[g])}
    weakest_group = min(groups, key=groups.get) if groups else None
    out = {
        "weak": [{"name_zh": by.loc[w, "name_zh"], "name_en": by.loc[w, "name_en"], "normalised": _num(n[w])}
                 for w in weak],
        "strong": [{"name_zh": by.loc[w, "name_zh"], "name_en": by.loc[w, "name_en"], "normalised": _num(n[w])}
                   for w in strong],
        "weakest_group": (GROUPS[weakest_group] if weakest_group else None),
        "recommendations": recs,
        "priority": bool(priority["priority"]) if priority is not None and "priority" in priority else False,
        "priority_reason": str(priority["reason"]) if priority is not None and pd.notna(priority.get("reason"))
        else "",
    }
    if out["priority"]:
        out["recommendations"].insert(0, "列为重点乡镇：优先安排风险隐患治理、避难场所与救援力量建设。 A priority "
                                         "township: first in line for hazard mitigation, shelters and rescue forces.")
    if not out["recommendations"]:
        out["recommendations"].append("各项指标均不低于全县水平，保持现有投入并开展演练。 No indicator lags the county: "
                                      "keep the present effort and drill regularly.")
    return out


def township_report(town: pd.Series, capacity: pd.DataFrame, weights: pd.DataFrame,
                    priority: pd.DataFrame | None = None) -> dict:
    """Everything one township's report shows (see :data:`SECTIONS`)."""
    prow = None
    if priority is not None and len(priority):
        hit = priority[priority["code"].astype(str) == str(town["code"])]
        prow = hit.iloc[0] if len(hit) else None
    return {
        "code": str(town["code"]), "name": str(town["name"]), "file": report_file(town["code"]),
        "population": _num(town.get("population"), 0),
        "indicators": indicator_rows(town, capacity, weights),
        "groups": [{"group": g, "zh": zh, "en": en, "score": _num(town.get(g))} for g, (zh, en) in GROUPS.items()
                   if g in town],
        "capacity_index": _num(town["capacity_index"]),
        "rank": int(town["rank"]), "n_townships": int(len(capacity)),
        "grade": int(town["grade"]), "grade_zh": str(town["grade_zh"]), "grade_en": str(town["grade_en"]),
        "findings": findings(town, weights, capacity, prow),
    }


def county_summary(capacity: pd.DataFrame, weights: pd.DataFrame, priority: pd.DataFrame | None = None) -> dict:
    """The county's summary: every township ranked, the grade distribution, the priority townships."""
    cap = capacity.sort_values("rank")
    counts = cap["grade"].value_counts().to_dict()
    groups = [g for g in GROUPS if g in cap]
    prio = [] if priority is None or "priority" not in priority else \
        priority[priority["priority"].astype(bool)][["code", "name", "reason"]].to_dict("records")
    group_means = {g: float(cap[g].mean()) for g in groups}
    return {
        "townships": [{"code": str(r["code"]), "name": str(r["name"]), "file": report_file(r["code"]),
                       "rank": int(r["rank"]),
                       "capacity_index": _num(r["capacity_index"]), "grade": int(r["grade"]),
                       "grade_zh": str(r["grade_zh"]), "grade_en": str(r["grade_en"]),
                       **{g: _num(r[g]) for g in groups}} for _, r in cap.iterrows()],
        "groups": [{"group": g, "zh": GROUPS[g][0], "en": GROUPS[g][1], "mean": _num(group_means[g])}
                   for g in groups],
        "grade_counts": [{"grade": g, "zh": GRADE_LABELS[g][0], "en": GRADE_LABELS[g][1],
                          "n": int(counts.get(g, 0))} for g in range(5, 0, -1)],
        "mean_index": _num(cap["capacity_index"].mean()),
        "weakest_group": GROUPS[min(group_means, key=group_means.get)] if group_means else None,
        "priority": prio,
        "weakest": [str(n) for n in cap.sort_values("capacity_index")["name"].head(3)],
    }
