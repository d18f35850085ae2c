"""The plan's quantified targets for 2025, and whether each is on track.

Each indicator is computed from a yearly statistics table (one row per year from the 2020
baseline on) and judged by one documented rule:

* the **trend** is the least-squares line through every year from the baseline year on; the
  **projection** is that line at the target year (clipped at 0, and at 100 for shares in %; the
  observed value if the target year is in the table; the latest value if only one year is known);
* ``reduce_by_pct`` (e.g. deaths −15 % against 2020): on track if the projection is at most
  ``baseline × (1 − p / 100)``;
* ``at_most`` / ``at_least`` (e.g. warning coverage ≥ 92 %): on track if the projection meets the
  level; *achieved* if the latest year already meets it too;
* ``period_mean_at_most`` (the plan's "年均" yearly averages, e.g. natural-disaster deaths < 1 per
  million people per year): the expected average over the plan period (observed years, the
  trend for the years still to come) must be at most the level.

The status is ``on_track`` when the rule holds, ``achieved`` when, in addition, the latest year
already meets the target (for yearly averages: when the whole period has been observed),
``off_track`` otherwise, and ``no_data`` when the table has no value for the indicator.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from risk.capacity.capacity_index import header_map
from risk.errors import InputError

logger = logging.getLogger(__name__)

KINDS = ("reduce_by_pct", "at_most", "at_least", "period_mean_at_most")

STATISTICS_COLUMNS: dict[str, tuple[str, str, str]] = {
    "year": ("年份", "Year", "年"),
    "population": ("常住人口", "Resident population", "人 persons"),
    "gdp_100m_yuan": ("地区生产总值", "Gross domestic product", "亿元 100 million yuan"),
    "workers_industry_mining_commerce": ("工矿商贸从业人员", "Workers in industry, mining and commerce",
                                         "人 persons"),
    "safety_deaths": ("生产安全事故死亡人数", "Deaths in production-safety accidents", "人 persons"),
    "accidents_total": ("生产安全事故起数", "Production-safety accidents", "起 accidents"),
    "accidents_larger_and_above": ("较大及以上生产安全事故起数", "Accidents of the larger class and above",
                                   "起 accidents"),
    "natural_disaster_deaths": ("自然灾害死亡失踪人数", "Deaths and missing in natural disasters", "人 persons"),
    "people_affected": ("自然灾害受灾人次", "People affected by natural disasters", "人次 person-times"),
    "direct_loss_10k_yuan": ("自然灾害直接经济损失", "Direct economic loss from natural disasters",
                             "万元 10,000 yuan"),
    "fulltime_firefighters": ("专职消防员", "Full-time firefighters", "人 persons"),
    "first_aid_trained": ("接受急救培训人数", "People trained in first aid", "人 persons"),
    "warning_coverage_pct": ("预警信息公众覆盖率", "Public coverage of warnings", "%"),
    "relief_hours": ("受灾群众基本生活救助时间", "Hours until disaster victims get basic relief",
                     "小时 hours"),
}
"""Columns of the yearly statistics table; a header may be the key or the Chinese name (units in brackets
ignored)."""


@dataclass(frozen=True)
class TargetIndicator:
    """One indicator of the plan: names, unit, the columns it needs and how it is computed."""

    key: str
    zh: str
    en: str
    unit: str
    columns: tuple[str, ...]
    compute: Callable[[pd.DataFrame], pd.Series]
    upper: float | None = None
    """Largest possible value (100 for shares in %): projections are clipped to it."""


def _ratio(num: str, den: str, scale: float) -> Callable[[pd.DataFrame], pd.Series]:
    def f(t: pd.DataFrame) -> pd.Series:
        d = t[den].astype("f8")
        return (t[num].astype("f8") * scale / d).where(d > 0)
    return f


def _col(name: str) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda t: t[name].astype("f8")


INDICATORS: tuple[TargetIndicator, ...] = (
    TargetIndicator("safety_deaths", "生产安全事故死亡人数", "Production-safety deaths", "人",
                    ("safety_deaths",), _col("safety_deaths")),
    TargetIndicator("larger_accidents", "较大及以上生产安全事故起数", "Accidents of the larger class and above",
                    "起", ("accidents_larger_and_above",), _col("accidents_larger_and_above")),
    TargetIndicator("deaths_per_100m_gdp", "亿元地区生产总值生产安全事故死亡率",
                    "Production-safety deaths per 100 million yuan of GDP", "人/亿元",
                    ("safety_deaths", "gdp_100m_yuan"), _ratio("safety_deaths", "gdp_100m_yuan", 1.0)),
    TargetIndicator("deaths_per_100k_workers", "工矿商贸就业人员十万人生产安全事故死亡率",
                    "Deaths per 100,000 workers in industry, mining and commerce", "人/10万人",
                    ("safety_deaths", "workers_industry_mining_commerce"),
                    _ratio("safety_deaths", "workers_industry_mining_commerce", 1e5)),
    TargetIndicator("larger_accident_share_pct", "较大及以上事故起数占比",
                    "Share of accidents of the larger class and above", "%",
                    ("accidents_larger_and_above", "accidents_total"),
                    _ratio("accidents_larger_and_above", "accidents_total", 100.0), upper=100.0),
    TargetIndicator("disaster_deaths_per_million", "年均每百万人口因自然灾害死亡率",
                    "Natural-disaster deaths per million people per year", "人/百万人",
                    ("natural_disaster_deaths", "population"), _ratio("natural_disaster_deaths", "population", 1e6)),
    TargetIndicator("affected_per_100k", "年均每十万人受灾人次", "People affected per 100,000 people per year",
                    "人次/10万人", ("people_affected", "population"), _ratio("people_affected", "population", 1e5)),
    TargetIndicator("loss_share_of_gdp_pct", "年均因自然灾害直接经济损失占地区生产总值比例",
                    "Direct natural-disaster losses as a share of GDP", "%",
                    ("direct_loss_10k_yuan", "gdp_100m_yuan"),
                    # 万元 / (亿元 × 10⁴) × 100
                    _ratio("direct_loss_10k_yuan", "gdp_100m_yuan", 100.0 / 1e4)),
    TargetIndicator("firefighters_per_mille", "专职消防员占常住人口比例",
                    "Full-time firefighters per 1,000 residents", "‰",
                    ("fulltime_firefighters", "population"), _ratio("fulltime_firefighters", "population", 1e3)),
    TargetIndicator("first_aid_trained_pct", "急救培训普及率", "Share of residents trained in first aid", "%",
                    ("first_aid_trained", "population"), _ratio("first_aid_trained", "population", 100.0), upper=100.0),
    TargetIndicator("warning_coverage_pct", "预警信息公众覆盖率", "Public coverage of warnings", "%",
                    ("warning_coverage_pct",), _col("warning_coverage_pct"), upper=100.0),
    TargetIndicator("relief_hours", "受灾群众基本生活得到有效救助时间", "Hours until victims get basic relief",
                    "小时", ("relief_hours",), _col("relief_hours")),
)
INDICATOR_KEYS = tuple(i.key for i in INDICATORS)

STATUS = {"achieved": ("已达到", "Achieved"), "on_track": ("按进度可实现", "On track"),
          "off_track": ("存在差距", "Off track"), "no_data": ("无数据", "No data")}


class StatisticsTableError(InputError):
    """The yearly statistics table is malformed; the message names the file, line and column."""


def validate_statistics(raw: pd.DataFrame, needed=None, source: str = "yearly statistics") -> pd.DataFrame:
    """Check the yearly statistics table (cells as text) and return it as numbers indexed by year.

    Only the columns ``needed`` (default: all of :data:`STATISTICS_COLUMNS`) must be present; empty
    cells become NaN (a year without that figure). Non-numeric or negative cells, a repeated or
    non-integer year, and missing columns raise :class:`StatisticsTableError` naming the file, the
    line (header = line 1) and the column.
    """
    df = raw.rename(columns=header_map(raw.columns, STATISTICS_COLUMNS))
    needed = list(dict.fromkeys(["year", *(needed or STATISTICS_COLUMNS)]))
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise StatisticsTableError(f"{source}: missing column(s) "
                                   + ", ".join(f"'{c}' ({STATISTICS_COLUMNS[c][0]})" for c in missing))
    errors = []
    out: dict[int, dict] = {}
    seen: dict[int, int] = {}
    for i, (_, row) in enumerate(df.iterrows()):
        line = i + 2
        vals = {}
        for col in needed:
            cell = row[col]
            text = "" if cell is None or (isinstance(cell, float) and np.isnan(cell)) else \
                str(cell).strip().replace(",", "").rstrip("%")
            if text == "":
                if col == "year":
                    errors.append(f"{source}, line {line}, column 'year': empty")
                vals[col] = np.nan
                continue
            try:
                v = float(text)
            except ValueError:
                errors.append(f"{source}, line {line}, column '{col}' ({STATISTICS_COLUMNS[col][0]}): "
                              f"'{cell}' is not a number")
                continue
            if not np.isfinite(v) or v < 0:
                errors.append(f"{source}, line {line}, column '{col}': {v:g} must be a non-negative number")
                continue
            vals[col] = v
        y = vals.get("year")
        if y is None or not np.isfinite(y):
            continue
        if y != int(y):
            errors.append(f"{source}, line {line}, column 'year': {y:g} is not a whole year")
            continue
        if int(y) in seen:
            errors.append(f"{source}, line {line}, column 'year': {int(y)} already given on line {seen[int(y)]}")
            continue
        seen[int(y)] = line
        out[int(y)] = vals
    if errors:
        raise StatisticsTableError(f"{source}: {len(errors)} problem(s):\n  " + "\n  ".join(errors[:20]))
    tab = pd.DataFrame.from_dict(out, orient="index").sort_index()
    tab.index.name = "year"
    return tab.drop(columns="year")


def indicator_series(stats: pd.DataFrame) -> pd.DataFrame:
    """Every indicator whose columns are present, per year (rows = years)."""
    cols = {}
    for ind in INDICATORS:
        if all(c in stats.columns for c in ind.columns):
            cols[ind.key] = ind.compute(stats)
    return pd.DataFrame(cols, index=stats.index)


def linear_projection(years, values, at: float, upper: float | None = None) -> tuple[float, float]:
    """Least-squares line through the finite ``(year, value)`` pairs: its value at ``at`` and its slope.

    One point: that value and slope 0. No point: NaN. The projection is clipped to ``[0, upper]``.

    Examples
    --------
    >>> [round(v, 6) for v in linear_projection([2020, 2021, 2022], [10, 9, 8], 2025)]
    [5.0, -1.0]
    """
    x = np.asarray(years, dtype="f8")
    y = np.asarray(values, dtype="f8")
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if x.size == 0:
        return float("nan"), float("nan")
    hi = np.inf if upper is None else float(upper)
    if x.size == 1 or np.ptp(x) == 0:
        return float(np.clip(y[-1], 0.0, hi)), 0.0
    xc = x - x.mean()
    slope = float((xc * (y - y.mean())).sum() / (xc * xc).sum())
    return float(np.clip(y.mean() + slope * (at - x.mean()), 0.0, hi)), slope


def assess_progress(stats: pd.DataFrame, targets: Mapping[str, Mapping], baseline_year: int = 2020,
                    target_year: int = 2025, period_start: int = 2021,
                    baselines: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Progress of each configured indicator towards its target (see the module docstring).

    Parameters
    ----------
    stats : pandas.DataFrame
        Output of :func:`validate_statistics` (indexed by year).
    targets : mapping
        ``{indicator: {"kind": one of KINDS, "value": number}}``; ``reduce_by_pct`` values are
        percentages (15 = −15 %).
    baselines : mapping, optional
        Official baseline values overriding the table's baseline-year values.

    Returns
    -------
    pandas.DataFrame
        One row per indicator: names, unit, ``kind``, ``rule``, ``baseline_year``, ``baseline``,
        ``target`` (the level to reach), ``target_year``, ``latest_year``, ``latest``,
        ``change_vs_baseline_pct``, ``trend_per_year``, ``projected`` (at the target year, or the
        expected period average), ``on_track`` (bool), ``status`` and ``status_zh``.
    """
    series = indicator_series(stats)
    meta = {i.key: i for i in INDICATORS}
    baselines = dict(baselines or {})
    rows = []
    unknown = [k for k in targets if k not in meta]
    if unknown:
        raise ValueError(f"targets.indicators.{unknown[0]}: unknown indicator; known: {', '.join(INDICATOR_KEYS)}")
    for key in [k for k in INDICATOR_KEYS if k in targets]:  # the plan's order, whatever the config's
        spec = targets[key]
        kind, value = spec["kind"], float(spec["value"])
        if kind not in KINDS:
            raise ValueError(f"targets.indicators.{key}.kind: {kind!r} is not one of {', '.join(KINDS)}")
        ind = meta[key]
        s = series[key].dropna() if key in series else pd.Series(dtype="f8")
        s = s[s.index >= baseline_year]
        base = float(baselines[key]) if key in baselines else (
            float(s.loc[baseline_year]) if baseline_year in s.index else np.nan)
        row = {"indicator": key, "name_zh": ind.zh, "name_en": ind.en, "unit": ind.unit, "kind": kind,
               "baseline_year": baseline_year, "baseline": base, "target_year": target_year}
        if s.empty:
            row.update(rule=_rule(kind, value), target=np.nan, latest_year=np.nan, latest=np.nan,
                       change_vs_baseline_pct=np.nan, trend_per_year=np.nan, projected=np.nan, on_track=False,
                       status="no_data")
        else:
            latest_year, latest = int(s.index[-1]), float(s.iloc[-1])
            if target_year in s.index:
                proj, slope = float(s.loc[target_year]), linear_projection(s.index, s.to_numpy(), target_year)[1]
            else:
                proj, slope = linear_projection(s.index, s.to_numpy(), target_year, ind.upper)
            if kind == "reduce_by_pct":
                target = base * (1.0 - value / 100.0)
                ok = proj <= target + 1e-12
                met_now = latest <= target + 1e-12
            elif kind == "at_most":
                target, ok, met_now = value, proj <= value + 1e-12, latest <= value + 1e-12
            elif kind == "at_least":
                target, ok, met_now = value, proj >= value - 1e-12, latest >= value - 1e-12
            else:
                target = value
                years = range(period_start, target_year + 1)
                vals = [float(s.loc[y]) if y in s.index else linear_projection(s.index, s.to_numpy(), y, ind.upper)[0]
                        for y in years]
                proj = float(np.mean(vals))
                ok = proj <= value + 1e-12
                met_now = all(y in s.index for y in years)  # the whole period is observed
            status = "achieved" if ok and met_now else "on_track" if ok else "off_track"
            row.update(rule=_rule(kind, value), target=target, latest_year=latest_year, latest=latest,
                       change_vs_baseline_pct=(latest / base - 1.0) * 100.0 if base and np.isfinite(base) else np.nan,
                       trend_per_year=slope, projected=proj, on_track=bool(ok), status=status)
        row["status_zh"] = STATUS[row["status"]][0]
        rows.append(row)
    cols = ["indicator", "name_zh", "name_en", "unit", "kind", "rule", "baseline_year", "baseline", "target",
            "target_year", "latest_year", "latest", "change_vs_baseline_pct", "trend_per_year", "projected",
            "on_track", "status", "status_zh"]
    return pd.DataFrame(rows, columns=cols)


DECIMALS = {"baseline": 6, "target": 6, "latest": 6, "change_vs_baseline_pct": 2, "trend_per_year": 6,
            "projected": 6}
"""Decimals of the progress table's columns as written."""


def needed_columns(targets: Mapping[str, Mapping]) -> list[str]:
    """The statistics columns the configured indicators are computed from, sorted.

    Examples
    --------
    >>> needed_columns({"relief_hours": {"kind": "at_most", "value": 10}})
    ['relief_hours']
    """
    return sorted({c for i in INDICATORS if i.key in targets for c in i.columns})


def target_progress(raw: pd.DataFrame, targets: Mapping[str, Mapping], baseline_year: int = 2020,
                    target_year: int = 2025, period_start: int = 2021,
                    baselines: Mapping[str, float] | None = None,
                    source: str = "yearly statistics") -> tuple[pd.DataFrame, pd.DataFrame]:
    """What the ``plan_targets`` rule needs from the table as read: the indicators by year and the progress.

    The table is checked for the columns the configured indicators need (:func:`needed_columns`,
    :func:`validate_statistics`), then :func:`assess_progress`.

    Returns
    -------
    (series, progress)
        :func:`indicator_series` of the table (indexed by year) and :func:`assess_progress`'s table.
    """
    stats = validate_statistics(raw, needed_columns(targets), source=source)
    progress = assess_progress(stats, targets, baseline_year, target_year, period_start, baselines)
    for _, r in progress.iterrows():
        logger.info("%-28s latest %s projected %.4g target %.4g -> %s", r["indicator"], r["latest"],
                    r["projected"], r["target"], r["status"])
    return indicator_series(stats), progress


def _rule(kind: str, value: float) -> str:
    if kind == "reduce_by_pct":
        return f"linear trend at the target year <= baseline x (1 - {value:g}%)"
    if kind == "at_most":
        return f"linear trend at the target year <= {value:g}"
    if kind == "at_least":
        return f"linear trend at the target year >= {value:g}"
    return f"mean over the plan period (observed, then trend) <= {value:g}"
