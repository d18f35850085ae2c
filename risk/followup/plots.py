"""Maps of the follow-up stage: survey changes between rounds, and zone changes between two runs.

Functions return matplotlib Figures (saving is the caller's business); labels are bilingual.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import BoundaryNorm, ListedColormap  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from risk.followup.changes import KIND_LABELS  # noqa: E402
from risk.io.figures import draw_boundaries, legend_outside, map_axes, map_furniture, use_cjk_font  # noqa: E402

KIND_STYLE = {  # colour, marker, size
    "new": ("#1f78b4", "^", 46), "removed": ("#6a3d9a", "x", 46), "moved": ("#ff7f00", "D", 34),
    "rematched": ("#b15928", "s", 34), "rectified": ("#33a02c", "o", 46), "worsened": ("#e31a1c", "o", 46),
    "ambiguous": ("#000000", "*", 90), "unchanged": ("#bbbbbb", ".", 8),
}


def changes_map(changes, boundaries=None, title: str = ""):
    """Every point of two survey rounds by kind of change; moved points with a line from their old place."""
    use_cjk_font()
    fig, ax = plt.subplots(figsize=(9.5, 8), dpi=110)
    if boundaries is not None and len(boundaries):
        draw_boundaries(ax, boundaries, color="#666666", linewidth=0.5)
    handles = []
    for kind in ("unchanged", "removed", "new", "moved", "rematched", "rectified", "worsened", "ambiguous"):
        sel = changes[changes["kind"] == kind]
        colour, marker, size = KIND_STYLE[kind]
        if kind == "moved" and len(sel):
            for r in sel.itertuples():
                ax.plot([r.previous_x, r.x], [r.previous_y, r.y], color=colour, lw=0.8)
        ax.scatter(sel.geometry.x, sel.geometry.y, c=colour, marker=marker, s=size, zorder=3,
                   linewidths=1.2 if marker == "x" else 0.3, edgecolors="none" if marker in ".x" else "white")
        zh, en = KIND_LABELS[kind]
        handles.append(Line2D([], [], color=colour, marker=marker, ls="", markersize=7 if size > 10 else 4,
                              label=f"{zh} {en} ({len(sel)})"))
    if boundaries is not None and len(boundaries):
        handles.append(Line2D([], [], color="#666666", lw=0.8, label="乡镇界 Township boundary"))
    map_axes(ax, title or "风险点普查两轮变化 Survey changes between rounds")
    legend_outside(ax, handles, "变化类型 Change")
    map_furniture(ax)
    fig.tight_layout()
    return fig


CHANGE_COLORS = ["#1a9641", "#a6d96a", "#f0f0f0", "#fdae61", "#d7191c"]


def zone_change_map(delta: np.ndarray, extent, title: str, boundaries=None, max_pixels: int = 1_500_000):
    """Map of a zone-change raster (levels B - A, -4..4; NaN outside): lower in green, higher in red."""
    use_cjk_font()
    step = max(1, int(np.ceil(np.sqrt(delta.size / max_pixels))))
    d = np.asarray(delta, dtype="f4")[::step, ::step]
    bounds = [-4.5, -1.5, -0.5, 0.5, 1.5, 4.5]
    fig, ax = plt.subplots(figsize=(9, 7.5), dpi=110)
    ax.imshow(d, extent=extent, cmap=ListedColormap(CHANGE_COLORS), norm=BoundaryNorm(bounds, 5),
              interpolation="nearest")
    if boundaries is not None and len(boundaries):
        draw_boundaries(ax, boundaries, color="#444444", linewidth=0.5)
    labels = ["降 ≥ 2 级 down 2+ levels", "降 1 级 down 1 level", "不变 unchanged", "升 1 级 up 1 level",
              "升 ≥ 2 级 up 2+ levels"]
    handles = [Patch(color=c, label=lab) for c, lab in zip(CHANGE_COLORS, labels, strict=True)]
    map_axes(ax, title)
    legend_outside(ax, handles[::-1], "等级变化 Level change")
    map_furniture(ax)
    fig.tight_layout()
    return fig
