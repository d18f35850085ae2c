"""Figures a planner would rather look at than read: zone maps and index maps with bilingual labels.

Functions return matplotlib Figures; saving is the caller's business. Chinese glyphs come from
the Noto Sans CJK SC font shipped by the ``mplfonts`` package, so maps render the same on any
machine without system fonts.
"""

from __future__ import annotations

import functools
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import BoundaryNorm, ListedColormap  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from risk.assessment.zoning import ZONE_COLORS, ZONE_LABELS  # noqa: E402


@functools.cache
def use_cjk_font() -> str | None:
    """Register and select a CJK-capable font; return its family name (None if unavailable)."""
    from matplotlib import font_manager

    try:
        import mplfonts
    except ImportError:  # pragma: no cover - mplfonts is a dependency
        return None
    path = Path(mplfonts.__file__).parent / "fonts" / "NotoSansCJKsc-Regular.otf"
    if not path.exists():  # pragma: no cover
        return None
    font_manager.fontManager.addfont(str(path))
    family = font_manager.FontProperties(fname=str(path)).get_name()
    plt.rcParams["font.family"] = "sans-serif"
    plt.rcParams["font.sans-serif"] = [family, "DejaVu Sans"]
    plt.rcParams["axes.unicode_minus"] = False
    return family


def _extent(grid):
    xmin, ymin, xmax, ymax = grid.bounds
    return (xmin, xmax, ymin, ymax)


def _decorate(ax, title, boundaries=None):
    if boundaries is not None and len(boundaries):
        boundaries.boundary.plot(ax=ax, color="#444444", linewidth=0.5)
    ax.set_title(title, fontsize=11)
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    ax.ticklabel_format(style="plain")
    ax.tick_params(labelsize=7)
    ax.set_aspect("equal")


def map_furniture(ax, crs_units: str = "m") -> None:
    """A scale bar (lower left) and a north arrow (upper right) on a map in a projected CRS.

    The scale bar is matplotlib-scalebar's (axis units are metres of the analysis grid). The arrow is
    drawn by hand: matplotlib has no north arrow and the grid is north-up (a Gauss-Krüger grid's
    north differs from true north by under 2° within a county, less than the arrow's width).
    """
    from matplotlib_scalebar.scalebar import ScaleBar

    ax.add_artist(ScaleBar(1.0, crs_units, location="lower left", length_fraction=0.3, box_alpha=0.8,
                           font_properties={"size": 8}, border_pad=0.6))
    ax.annotate("N", xy=(0.95, 0.97), xytext=(0.95, 0.86), xycoords="axes fraction", ha="center", va="center",
                fontsize=11,
                arrowprops={"facecolor": "black", "edgecolor": "black", "width": 4, "headwidth": 11,
                            "headlength": 10},
                bbox={"boxstyle": "circle,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})


def legend_outside(ax, handles, title: str | None = None, fontsize: float = 8, below: bool = False):
    """The legend to the right of the map (``below``: under it, when a colour bar takes the right), never
    over the county."""
    where = dict(loc="upper center", bbox_to_anchor=(0.5, -0.1)) if below else \
        dict(loc="upper left", bbox_to_anchor=(1.02, 1.0))
    return ax.legend(handles=handles, borderaxespad=0.0, fontsize=fontsize, title=title, title_fontsize=fontsize,
                     framealpha=0.95, **where)


def zone_map(zones: np.ndarray, grid, title: str, boundaries=None, labels=None, max_pixels: int = 1_500_000,
             colors=None, legend_title: str = "风险等级 Level"):
    """Map of a 1-5 zoning raster with the five bilingual classes in the legend.

    ``zones`` is a 2-D uint8 array on ``grid`` (0 = nodata); it is decimated for drawing when large.
    """
    use_cjk_font()
    step = max(1, int(np.ceil(np.sqrt(zones.size / max_pixels))))
    z = np.asarray(zones)[::step, ::step].astype("f4")
    z[z == 0] = np.nan
    labels, colors = labels or ZONE_LABELS, colors or ZONE_COLORS
    n = len(labels)
    cmap = ListedColormap([np.array(colors[k][:3]) / 255 for k in range(1, n + 1)])
    fig, ax = plt.subplots(figsize=(9, 7.5), dpi=110)
    ax.imshow(z, extent=_extent(grid), cmap=cmap, norm=BoundaryNorm(np.arange(0.5, n + 1.5), n),
              interpolation="nearest")
    _decorate(ax, title, boundaries)
    handles = [Patch(color=np.array(colors[k][:3]) / 255, label=f"{k} {labels[k][0]} {labels[k][1]}")
               for k in range(n, 0, -1)]
    if boundaries is not None and len(boundaries):
        handles.append(Line2D([], [], color="#444444", linewidth=0.8, label="乡镇界 Township boundary"))
    legend_outside(ax, handles, legend_title)
    map_furniture(ax)
    fig.tight_layout()
    return fig


def index_map(values: np.ndarray, grid, title: str, label: str = "", boundaries=None, cmap: str = "RdYlGn_r",
              vmin=None, vmax=None, max_pixels: int = 1_500_000):
    """Map of a continuous raster (NaN = nodata) with a colour bar."""
    use_cjk_font()
    step = max(1, int(np.ceil(np.sqrt(values.size / max_pixels))))
    v = np.asarray(values, dtype="f4")[::step, ::step]
    fig, ax = plt.subplots(figsize=(7, 7.5), dpi=110)
    im = ax.imshow(v, extent=_extent(grid), cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    _decorate(ax, title, boundaries)
    fig.colorbar(im, ax=ax, shrink=0.7, label=label)
    map_furniture(ax)
    fig.tight_layout()
    return fig


SCORE_LABELS = {"risk": "风险 risk", "exposure": "暴露 exposure alone", "hazard": "危险性 hazard alone",
                "hazard_x_people": "危险性×人口 hazard × people"}


def capture_figure(result: dict, area_name: str = ""):
    """Harm-capture curves of every validated hazard (:func:`risk.assessment.risk_validation.validate`)."""
    use_cjk_font()
    hazards = list(result["hazards"])
    n = max(1, len(hazards))
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 4.4), dpi=110, squeeze=False)
    x = np.asarray(result["area_steps"])
    for ax, h in zip(axes[0], hazards, strict=False):
        r = result["hazards"][h]
        for name, s in r["scores"].items():
            ax.plot(x, s["curve"], lw=2.2 if name == "risk" else 1.2,
                    label=f"{SCORE_LABELS.get(name, name)} (AUC {s['capture_auc']:.2f})")
        ax.plot(x[1:], x[1:], color="grey", lw=0.8, ls="--")
        ax.set_xscale("log")
        ax.axvline(r["zones45_area_share"], color="firebrick", lw=0.8, ls=":")
        ax.set_title(f"{h} ({r['disasters']} 灾情 disasters)", fontsize=9)
        ax.set_xlabel("面积占比 share of area (ranked by score, log scale)", fontsize=8)
        ax.set_ylabel("灾损占比 share of recorded harm", fontsize=8)
        ax.legend(fontsize=7, loc="upper left")
        ax.tick_params(labelsize=7)
    fig.suptitle(f"{area_name} 历史灾情检验 validation against the disaster record".strip(), fontsize=10)
    fig.tight_layout()
    return fig


def save_figure(fig, path, dpi: int = 110) -> None:
    """Write a matplotlib figure to ``path`` atomically (PNG by its suffix) and close it."""
    import matplotlib.pyplot as plt

    from risk.io.files import atomic_path

    try:
        with atomic_path(path, ".tmp" + str(path)[str(path).rfind("."):]) as tmp:
            fig.savefig(tmp, dpi=dpi)
    finally:
        plt.close(fig)
