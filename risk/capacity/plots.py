"""Figures of the capacity stage: priority townships, shelters, relief reach, progress towards the targets.

Functions return matplotlib Figures (saving is the caller's business). Labels are bilingual when a
CJK font is available (:func:`risk.io.figures.use_cjk_font`); without one they fall back to English only,
so a machine without Chinese fonts still gets readable figures instead of empty boxes.
"""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from risk.assessment.zoning import ZONE_COLORS, ZONE_LABELS
from risk.io.figures import (  # picks the backend: Agg in rules, inline in Jupyter
    draw_boundaries,
    legend_outside,
    map_axes,
    map_furniture,
)


def has_cjk() -> bool:
    """Select a CJK font if one can be found; whether Chinese labels will render."""
    try:
        from risk.io.figures import use_cjk_font
    except ImportError:  # pragma: no cover
        return False
    return use_cjk_font() is not None


def bi(zh: str, en: str, cjk: bool | None = None) -> str:
    """``"zh en"`` when Chinese can be drawn, else ``en``."""
    cjk = has_cjk() if cjk is None else cjk
    return f"{zh} {en}" if cjk and zh else en


def priority_map(townships, table: pd.DataFrame, area_name: str = ""):
    """Townships coloured by mean comprehensive risk; priority townships outlined and hatched.

    ``townships`` has ``code`` and geometry; ``table`` the output of
    :func:`risk.capacity.comprehensive_risk.priority_townships`.
    """
    cjk = has_cjk()
    t = table.copy()
    t["code"] = t["code"].astype(str)
    g = townships[["code", "geometry"]].assign(code=lambda d: d["code"].astype(str)).merge(t, on="code")
    fig, ax = plt.subplots(figsize=(8.5, 8.5), dpi=110)
    g.plot(column="comprehensive_mean", ax=ax, cmap="RdYlGn_r", edgecolor="#555555", linewidth=0.5, legend=True,
           legend_kwds={"shrink": 0.6, "label": bi("综合风险均值", "Mean comprehensive risk", cjk)},
           missing_kwds={"color": "#dddddd"})
    pr = g[g["priority"]]
    if len(pr):
        pr.plot(ax=ax, facecolor="none", edgecolor="#7b0000", linewidth=2.2, hatch="///")
    for _, row in g.iterrows():
        p = row.geometry.representative_point()
        name = str(row["name"]) if cjk else str(row["code"])
        grade = row.get("grade_zh") if cjk else row.get("grade_en")
        ax.annotate(f"{name}\n{grade}", (p.x, p.y), ha="center", va="center", fontsize=6.5,
                    color="#000000" if not row["priority"] else "#7b0000",
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "#7b0000", "lw": 0.8, "alpha": 0.8}
                    if row["priority"] else None)
    handles = [Patch(facecolor="none", edgecolor="#7b0000", hatch="///", linewidth=2,
                     label=bi("优先乡镇（风险高、能力低）", "Priority: high risk, low capacity", cjk))]
    legend_outside(ax, handles, below=True)  # the colour bar is on the right
    title = bi("三高一低 优先治理乡镇", "Priority townships (high risk, low capacity)", cjk)
    map_axes(ax, f"{area_name}  {title}" if area_name else title)
    map_furniture(ax)
    ax.text(0.01, 0.99, bi("标注：乡镇名、减灾能力等级", "Labels: township name, capacity grade", cjk)
            if cjk else "Labels: township code, capacity grade", transform=ax.transAxes, fontsize=7, va="top")
    fig.tight_layout()
    return fig


def shelter_map(townships, coverage, shelters, selected, zones=None, grid=None, area_name: str = "",
                max_pixels: int = 1_000_000):
    """Settlements by coverage status over the multi-hazard zones, existing shelters and new sites."""
    cjk = has_cjk()
    fig, ax = plt.subplots(figsize=(11, 8), dpi=110)
    handles = []
    if zones is not None and grid is not None:
        from matplotlib.colors import BoundaryNorm, ListedColormap

        step = max(1, int(np.ceil(np.sqrt(zones.size / max_pixels))))
        z = np.asarray(zones)[::step, ::step].astype("f4")
        z[z == 0] = np.nan
        cmap = ListedColormap([np.array(ZONE_COLORS[k][:3]) / 255 for k in range(1, 6)])
        xmin, ymin, xmax, ymax = grid.bounds
        ax.imshow(z, extent=(xmin, xmax, ymin, ymax), cmap=cmap, norm=BoundaryNorm(np.arange(0.5, 6.5), 5),
                  interpolation="nearest", alpha=0.45)
        handles += [Patch(color=np.array(ZONE_COLORS[k][:3]) / 255, alpha=0.45,
                          label=(bi("底图：多灾种综合风险区划", "Background: multi-hazard risk zones", cjk) + "\n"
                                 if k == 5 else "") + bi(*ZONE_LABELS[k], cjk)) for k in (5, 4, 3, 2, 1)]
    if townships is not None and len(townships):
        draw_boundaries(ax, townships, color="#555555", linewidth=0.4)
    style = {"not_prone": ("#9e9e9e", 6, bi("不在高风险区", "not in hazard zone", cjk)),
             "covered": ("#1a9641", 12, bi("已覆盖", "covered", cjk)),
             "over_capacity": ("#fdae61", 18, bi("容量不足", "over capacity", cjk)),
             "no_shelter": ("#d7191c", 18, bi("无可用避难场所", "no shelter in reach", cjk))}
    for status, (color, size, label) in style.items():
        sub = coverage[coverage["status"] == status]
        if len(sub):
            ax.scatter(sub.geometry.x, sub.geometry.y, s=size, c=color, edgecolors="k", linewidths=0.2, zorder=3)
        handles.append(Line2D([], [], marker="o", ls="", color=color, markeredgecolor="k", markersize=5,
                              label=f"{label} ({len(sub)})"))
    if shelters is not None and len(shelters):
        us = shelters[shelters["usable"].astype(float) > 0]
        un = shelters[shelters["usable"].astype(float) <= 0]
        ax.scatter(us.geometry.x, us.geometry.y, marker="^", s=40, c="#2b83ba", edgecolors="k", linewidths=0.4,
                   zorder=4)
        ax.scatter(un.geometry.x, un.geometry.y, marker="^", s=40, c="white", edgecolors="#2b83ba",
                   linewidths=0.8, zorder=4)
        handles += [Line2D([], [], marker="^", ls="", color="#2b83ba", markeredgecolor="k",
                           label=bi("可用避难场所", "usable shelter", cjk) + f" ({len(us)})"),
                    Line2D([], [], marker="^", ls="", color="white", markeredgecolor="#2b83ba",
                           label=bi("不可用避难场所", "unusable shelter", cjk) + f" ({len(un)})")]
    if selected is not None and len(selected):
        ax.scatter(selected.geometry.x, selected.geometry.y, marker="*", s=160, c="#ffd700", edgecolors="k",
                   linewidths=0.6, zorder=5)
        for _, r in selected.iterrows():
            ax.annotate(str(int(r["order"])), (r.geometry.x, r.geometry.y), xytext=(4, 4),
                        textcoords="offset points", fontsize=7, zorder=6)
        handles.append(Line2D([], [], marker="*", ls="", color="#ffd700", markeredgecolor="k", markersize=11,
                              label=bi("建议新增场所（按选取顺序）", "proposed new sites (pick order)", cjk)
                              + f" ({len(selected)})"))
    legend_outside(ax, handles, fontsize=7.5)
    title = bi("避难场所覆盖与缺口", "Shelter coverage and gaps", cjk)
    map_axes(ax, f"{area_name}  {title}" if area_name else title)
    map_furniture(ax)
    fig.tight_layout()
    return fig


def relief_map(hours: np.ndarray, grid, townships, depots, max_hours: float = 10.0, area_name: str = ""):
    """Travel hours from the depots (capped at 1.5 × ``max_hours``), the ``max_hours`` line where some cells
    lie beyond it, and the depots."""
    from risk.io.figures import index_map

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # no reachable cell: NaN
        hmax = float(np.nanmax(hours))  # one pass over a Dask array
    top = min(1.5 * float(max_hours), max(1.0, hmax if np.isfinite(hmax) else 1.0))
    fig = index_map(np.minimum(hours, top), grid, f"{area_name}  救援到达时间 Relief travel time (h)",
                    label="小时 hours", boundaries=townships, cmap="magma_r", vmin=0, vmax=top)
    ax = fig.axes[0]
    if hmax > max_hours:
        xmin, ymin, xmax, ymax = grid.bounds
        step = max(1, int(np.ceil(np.sqrt(hours.size / 1_500_000))))
        ax.contour(np.flipud(hours[::step, ::step]), levels=[max_hours], colors="#00bcd4", linewidths=1.0,
                   extent=(xmin, xmax, ymin, ymax))
    ax.scatter(depots.geometry.x, depots.geometry.y, marker="s", s=30, c="#00bcd4", edgecolors="k", zorder=4)
    return fig


def progress_chart(series: pd.DataFrame, progress: pd.DataFrame, target_year: int = 2025):
    """One small panel per indicator: the yearly values, the trend to the target year, the target."""
    cjk = has_cjk()
    keys = [k for k in progress["indicator"] if k in series.columns]
    n = len(keys)
    cols = 4 if n > 6 else max(1, min(3, n))
    rows = int(np.ceil(n / cols)) if n else 1
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.9 * rows), dpi=110, squeeze=False)
    colors = {"achieved": "#1a9641", "on_track": "#1a9641", "off_track": "#d7191c", "no_data": "#777777"}
    for ax, key in zip(axes.ravel(), keys, strict=False):
        p = progress[progress["indicator"] == key].iloc[0]
        s = series[key].dropna()
        s = s[s.index >= p["baseline_year"]]
        ax.plot(s.index, s.to_numpy(), "o-", color="#2b83ba", ms=3.5, lw=1.2)
        if len(s) and np.isfinite(p["trend_per_year"]):
            x0 = s.index[-1]
            ax.plot([x0, target_year], [s.iloc[-1], s.iloc[-1] + p["trend_per_year"] * (target_year - x0)], "--",
                    color="#2b83ba", lw=1)
            if p["kind"] != "period_mean_at_most":
                ax.plot([target_year], [p["projected"]], "o", mfc="none", color="#2b83ba", ms=5)
        if np.isfinite(p["target"]):
            ax.axhline(p["target"], color="#d7191c", lw=1, ls=":")
            ax.annotate(bi("目标", "target", cjk) + f" {_fmt(p['target'])}", (0.02, p["target"]),
                        xycoords=("axes fraction", "data"), fontsize=6.5, color="#d7191c", va="bottom")
        status = bi(*_status_labels(p["status"]), cjk)
        title = f"{p['name_zh']}\n{p['name_en']}" if cjk else str(p["name_en"])
        ax.set_title(f"{title}\n({p['unit']}) — {status}", fontsize=7.5, color=colors.get(p["status"], "k"))
        ax.tick_params(labelsize=6.5)
        ax.set_xlim(p["baseline_year"] - 0.3, target_year + 0.3)
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    fig.suptitle(bi("规划核心指标进展（虚线：线性趋势外推）", "Progress towards the plan's targets (dashed: linear trend)",
                    cjk), fontsize=11)
    fig.tight_layout()
    return fig


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"


def _status_labels(status: str) -> tuple[str, str]:
    from risk.capacity.plan_targets import STATUS

    return STATUS.get(status, (status, status))
