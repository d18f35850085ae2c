"""Two runs compared: two survey rounds, or a baseline and a scenario (``risk compare A B``).

* :func:`zone_transitions` -- per township, the area and people moving from each level of a zoning raster in A to
  each level in B (numpy or Dask, the same numbers);
* :func:`zone_change` -- the change raster ``level_B - level_A`` (-4..4, NaN outside);
* :func:`township_changes` -- capacity index and grade, comprehensive risk, 三高一低 status per township;
* :func:`coverage_changes` -- people newly covered by a shelter, people reached within the relief time limit;
* :func:`register_changes` -- each point of the risk register: level and risk in A and B, the risk averted;
* :func:`cost_effectiveness` -- for a scenario with a cost: what it averts per 10,000 yuan;
* :func:`rank_scenarios` -- several scenarios against one baseline, ranked by averted risk per unit cost.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

LEVELS = 6  # 0 outside, 1-5


def _bincount(codes, weights, n: int):
    if hasattr(codes, "dask") or type(codes).__module__.startswith("dask"):
        import dask.array as da

        return da.bincount(codes.ravel(), weights=weights.ravel(), minlength=n).compute()[:n]
    return np.bincount(codes.ravel(), weights=weights.ravel(), minlength=n)[:n]


def zone_transitions(zone_a, zone_b, township, people, cell_area_km2: float, names) -> pd.DataFrame:
    """Area and people moving between levels, per township.

    Parameters
    ----------
    zone_a, zone_b : array-like (numpy or Dask), uint8
        The same zoning raster of the two runs on one grid (0 = outside, 1-5 levels).
    township : array-like of int
        Township number of each cell (1..len(names), 0 outside every township).
    people : array-like of float
        People per cell (NaN counts as 0).
    cell_area_km2 : float
        Area of one cell.
    names : sequence of str
        Township names, in the order of their numbers.

    Returns
    -------
    pandas.DataFrame
        ``township, from_level, to_level, area_km2, people`` for every pair with cells (level 0 left out).
    """
    xp = np
    if type(zone_a).__module__.startswith("dask"):
        import dask.array as xp
    a = xp.clip(zone_a.astype("int64"), 0, LEVELS - 1)
    b = xp.clip(zone_b.astype("int64"), 0, LEVELS - 1)
    t = township.astype("int64")
    n = (len(names) + 1) * LEVELS * LEVELS
    codes = t * LEVELS * LEVELS + a * LEVELS + b
    cells = _bincount(codes, xp.ones_like(codes, dtype="f8"), n)
    pop = _bincount(codes, xp.nan_to_num(people.astype("f8")), n)
    idx = np.flatnonzero(cells)
    town, rest = np.divmod(idx, LEVELS * LEVELS)
    fa, fb = np.divmod(rest, LEVELS)
    keep = (town > 0) & (fa > 0) & (fb > 0)
    label = np.array(["", *map(str, names)], dtype=object)
    return pd.DataFrame({"township": label[town[keep]], "from_level": fa[keep], "to_level": fb[keep],
                         "area_km2": (cells[idx[keep]] * cell_area_km2).round(4),
                         "people": pop[idx[keep]].round(1)})


def transition_summary(trans: pd.DataFrame) -> pd.DataFrame:
    """Per township: area and people whose level went up, went down, and now in levels 4-5 (before and after)."""
    t = trans.assign(up=trans["to_level"] > trans["from_level"], down=trans["to_level"] < trans["from_level"])
    g = t.groupby("township")
    out = pd.DataFrame({
        "area_up_km2": g.apply(lambda d: d.loc[d["up"], "area_km2"].sum(), include_groups=False),
        "area_down_km2": g.apply(lambda d: d.loc[d["down"], "area_km2"].sum(), include_groups=False),
        "people_up": g.apply(lambda d: d.loc[d["up"], "people"].sum(), include_groups=False),
        "people_down": g.apply(lambda d: d.loc[d["down"], "people"].sum(), include_groups=False),
        "people_high_a": g.apply(lambda d: d.loc[d["from_level"] >= 4, "people"].sum(), include_groups=False),
        "people_high_b": g.apply(lambda d: d.loc[d["to_level"] >= 4, "people"].sum(), include_groups=False),
    }).round(2)
    return out.reset_index()


def zone_change(zone_a, zone_b):
    """``level_B - level_A`` as float32 (-4..4), NaN where either run has no level; numpy, Dask or xarray."""
    a = zone_a.astype("f4")
    b = zone_b.astype("f4")
    d = b - a
    outside = (a == 0) | (b == 0)
    if hasattr(d, "where"):
        return d.where(~outside)
    return np.where(outside, np.float32(np.nan), d).astype("f4")


def township_changes(cap_a: pd.DataFrame, cap_b: pd.DataFrame, pri_a: pd.DataFrame,
                     pri_b: pd.DataFrame) -> pd.DataFrame:
    """Capacity index and grade, mean comprehensive risk and 三高一低 per township, A beside B.

    ``cap_*`` are ``capacity/capacity_index.csv`` (``name``, ``capacity_index``, ``grade``, ``grade_zh``),
    ``pri_*`` ``capacity/priority_townships.csv`` (``name``, ``comprehensive_mean``, ``three_high_one_low``).
    """
    def one(cap, pri, s):
        c = cap[["name", "capacity_index", "grade", "grade_zh"]].rename(columns=lambda k: k if k == "name" else k + s)
        p = pri[["name", "comprehensive_mean", "three_high_one_low"]].rename(
            columns=lambda k: k if k == "name" else k + s)
        return c.merge(p, on="name", how="outer")

    out = one(cap_a, pri_a, "_a").merge(one(cap_b, pri_b, "_b"), on="name", how="outer")
    out["capacity_change"] = (out["capacity_index_b"] - out["capacity_index_a"]).round(4)
    out["grade_change"] = out["grade_b"] - out["grade_a"]
    out["comprehensive_change"] = (out["comprehensive_mean_b"] - out["comprehensive_mean_a"]).round(4)
    a = out["three_high_one_low_a"].astype("boolean").fillna(False)
    b = out["three_high_one_low_b"].astype("boolean").fillna(False)
    out["priority_status"] = np.select([a & ~b, ~a & b, a & b], ["removed 移出", "added 新增", "still 仍是"], "")
    return out.sort_values("name").reset_index(drop=True)


def coverage_changes(cov_a: pd.DataFrame, cov_b: pd.DataFrame, reach_a: pd.DataFrame,
                     reach_b: pd.DataFrame) -> pd.DataFrame:
    """Per township: people covered by a shelter and people reached within the relief time limit, A and B.

    ``cov_*`` are ``shelters/settlement_coverage.csv`` (``name``, ``township``, ``covered``), ``reach_*``
    ``access/reach_by_township.csv`` (``name``, ``population_reached``, ``high_risk_reached``). People newly
    covered count each settlement's gain (a settlement covered less in B counts as a loss in ``covered_lost``).
    """
    key = ["township", "name"]
    c = cov_a[[*key, "covered"]].merge(cov_b[[*key, "covered"]], on=key, how="outer", suffixes=("_a", "_b"))
    c[["covered_a", "covered_b"]] = c[["covered_a", "covered_b"]].fillna(0.0)
    d = c["covered_b"] - c["covered_a"]
    c = c.assign(newly_covered=d.clip(lower=0), covered_lost=(-d).clip(lower=0))
    per = c.groupby("township")[["covered_a", "covered_b", "newly_covered", "covered_lost"]].sum()
    r = reach_a[["name", "population_reached", "high_risk_reached"]].merge(
        reach_b[["name", "population_reached", "high_risk_reached"]], on="name", how="outer", suffixes=("_a", "_b"))
    r = r.rename(columns={"name": "township"}).set_index("township")
    out = per.join(r, how="outer").fillna(0.0)
    out["newly_reached"] = (out["population_reached_b"] - out["population_reached_a"]).clip(lower=0)
    return out.round(1).reset_index()


def register_changes(reg_a: pd.DataFrame, reg_b: pd.DataFrame) -> pd.DataFrame:
    """Each point of two risk registers (``points/risk_register.csv``) matched by category and id.

    Returns
    -------
    pandas.DataFrame
        ``category, category_zh, id, name, township`` (B's, else A's), ``rectified`` (when B's register has it:
        a scenario's rectified points), ``risk_level_a/_b``, ``risk_score_a/_b`` and ``averted_risk`` (A - B;
        NaN for a point in one register only), the most averted first.
    """
    key = ["category", "id"]
    info = [c for c in ("category_zh", "name", "township", "rectified") if c in reg_b.columns or c in reg_a.columns]

    def side(reg, s):
        r = reg.assign(id=reg["id"].astype(str))
        return r[key + [c for c in info if c in r.columns] + ["risk_level", "risk_score"]].drop_duplicates(key) \
            .rename(columns={c: c + s for c in (*info, "risk_level", "risk_score")})

    out = side(reg_a, "_a").merge(side(reg_b, "_b"), on=key, how="outer")
    for c in info:
        b, a = out.get(c + "_b"), out.get(c + "_a")
        out[c] = b if a is None else (a if b is None else b.where(b.notna(), a))
    if "rectified" in out:
        out["rectified"] = out["rectified"].astype("boolean").fillna(False).astype(bool)
    out["averted_risk"] = (out["risk_score_a"] - out["risk_score_b"]).round(6)
    cols = [*key, *info, "risk_level_a", "risk_level_b", "risk_score_a", "risk_score_b", "averted_risk"]
    out = out[cols].sort_values(["averted_risk", "category", "id"], ascending=[False, True, True],
                                na_position="last", kind="stable")
    return out.reset_index(drop=True)


def register_summary(points: pd.DataFrame) -> dict:
    """Totals of :func:`register_changes`: rectified points, risk averted at the points, levels 4-5 left/entered."""
    both = points.dropna(subset=["risk_score_a", "risk_score_b"])
    high_a, high_b = both["risk_level_a"] >= 4, both["risk_level_b"] >= 4
    out = {"points_rectified": int(points["rectified"].sum()) if "rectified" in points else 0,
           "register_risk_averted": round(float(both["averted_risk"].sum()), 4),
           "points_leaving_levels_4_5": int((high_a & ~high_b).sum()),
           "points_entering_levels_4_5": int((~high_a & high_b).sum())}
    if "rectified" in points:
        out["register_risk_averted_at_rectified_points"] = round(float(
            both.loc[both["rectified"], "averted_risk"].sum()), 4)
    return out


PER_COST = {  # summary total -> its per-10,000-yuan name (only those the summary has)
    "averted_comprehensive_risk": "averted_comprehensive_risk_per_10k_yuan",
    "averted_multi_hazard_risk": "averted_multi_hazard_risk_per_10k_yuan",
    "register_risk_averted": "register_risk_averted_per_10k_yuan",
    "people_newly_covered": "people_newly_covered_per_10k_yuan",
    "people_leaving_high_comprehensive_zones": "people_leaving_high_comprehensive_zones_per_10k_yuan",
}


def cost_effectiveness(summary: dict, cost_10k_yuan: float | None) -> dict:
    """What the measures avert per 10,000 yuan (万元), from :func:`summary`-style totals; {} without a cost.

    Examples
    --------
    >>> cost_effectiveness({"averted_comprehensive_risk": 50.0, "people_newly_covered": 1000.0}, 200)
    {'cost_10k_yuan': 200.0, 'averted_comprehensive_risk_per_10k_yuan': 0.25, 'people_newly_covered_per_10k_yuan': 5.0}
    """
    if not cost_10k_yuan:
        return {}
    c = float(cost_10k_yuan)
    return {"cost_10k_yuan": c, **{per: round(float(summary[k]) / c, 6) for k, per in PER_COST.items() if k in summary}}


def rank_scenarios(results: dict) -> pd.DataFrame:
    """Scenarios against one baseline, ranked by comprehensive risk averted per 10,000 yuan.

    Parameters
    ----------
    results : dict
        ``{scenario: summary.json of its comparison}`` (its totals and ``cost``, the cost-effectiveness).

    Returns
    -------
    pandas.DataFrame
        One row per scenario: ``rank`` (1 = most risk averted per unit cost; scenarios without a cost last),
        ``scenario``, ``cost_10k_yuan``, the totals and their per-cost values.
    """
    rows = []
    for name, s in results.items():
        row = {"scenario": name, "cost_10k_yuan": (s.get("cost") or {}).get("cost_10k_yuan", np.nan)}
        for k, per in PER_COST.items():
            if k in s:
                row[k] = s[k]
                row[per] = (s.get("cost") or {}).get(per, np.nan)
        rows.append(row)
    out = pd.DataFrame(rows)
    key = "averted_comprehensive_risk_per_10k_yuan"
    if key not in out:
        out[key] = np.nan
    out = out.sort_values([key, "scenario"], ascending=[False, True], na_position="last", kind="stable")
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out.reset_index(drop=True)


def markdown_summary(title: str, summary: dict, per_zoning: pd.DataFrame, towns: pd.DataFrame,
                     coverage: pd.DataFrame, costs: dict, points: pd.DataFrame | None = None) -> str:
    """The change report as Markdown (bilingual headings); ``points``: the register's points whose risk changed."""
    lines = [f"# {title}", "", "## 总览 Summary", "", "| | |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in summary.items()]
    if costs:
        lines += ["", "## 成本效益 Averted per unit cost", "", "| | |", "| --- | --- |"]
        lines += [f"| {k} | {v} |" for k, v in costs.items()]
    lines += ["", "## 分区变化 Zone changes (area km², people)", "", per_zoning.to_markdown(index=False), "",
              "## 乡镇能力与综合风险 Township capacity and comprehensive risk", "",
              towns.to_markdown(index=False), "", "## 避难与救援覆盖 Shelter coverage and relief reach", "",
              coverage.to_markdown(index=False), ""]
    if points is not None and len(points):
        lines += ["## 风险隐患点变化 Register points whose risk changed most (top 20)", "",
                  points.head(20).to_markdown(index=False), ""]
    return "\n".join(lines)
