"""Figures a planner would rather look at than read: zone maps and index maps with bilingual labels.

Functions return matplotlib Figures; saving is the caller's business. Chinese glyphs come from
the Noto Sans CJK SC font shipped by the ``mplfonts`` package, so maps render the same on any
machine without system fonts.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

import matplotlib

# Rules draw off-screen (Agg). A Jupyter kernel (its inline backend) or an MPLBACKEND set by the user keeps its
# own backend, so the notebooks show their maps.
if "ipykernel" not in sys.modules and not os.environ.get("MPLBACKEND"):
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


def draw_boundaries(ax, polygons, color: str = "#444444", linewidth: float = 0.5):
    """Outline ``polygons`` (a GeoDataFrame or GeoSeries) on a map: one line collection, equal aspect.

    What ``polygons.boundary.plot(ax=ax, ...)`` draws, without the full redraw of the figure geopandas
    asks for after every plot (on the Agg and inline backends that draw renders every map already on
    the figure: a grid of small maps with boundaries drew itself once per map).
    """
    import shapely
    from matplotlib.collections import LineCollection

    geoms = polygons.geometry.values if hasattr(polygons, "geometry") else polygons.values
    # normalised as geopandas does (same lines in the same order and direction: the same pixels)
    lines = shapely.get_parts(shapely.normalize(shapely.boundary(geoms[~(shapely.is_missing(geoms)
                                                                         | shapely.is_empty(geoms))])))
    ax.set_aspect("equal")
    ax.add_collection(LineCollection([shapely.get_coordinates(g) for g in lines], color=color, linewidth=linewidth),
                      autolim=True)
    ax.autoscale_view()


def _decorate(ax, title, boundaries=None):
    if boundaries is not None and len(boundaries):
        draw_boundaries(ax, boundaries, color="#444444", linewidth=0.5)
    ax.set_title(title, fontsize=11)
    ax.set_xlabel("x (m)", fontsize="small")  # the size geopandas gave them when it drew the boundaries
    ax.set_ylabel("y (m)", fontsize="small")
    ax.ticklabel_format(style="plain")
    ax.tick_params(labelsize=7)
    ax.set_aspect("equal")


def map_axes(ax, title: str) -> None:
    """Title, equal aspect and plain metre ticks of a map drawn with geopandas or scatter (small labels)."""
    ax.set_title(title, fontsize=11)
    ax.set_aspect("equal")
    ax.ticklabel_format(style="plain")
    ax.tick_params(labelsize=7)
    ax.set_xlabel("x (m)", fontsize=8)
    ax.set_ylabel("y (m)", fontsize=8)


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
    v = np.asarray(values[::step, ::step], dtype="f4")  # sliced first: a Dask array is read decimated
    fig, ax = plt.subplots(figsize=(7, 7.5), dpi=110)
    im = ax.imshow(v, extent=_extent(grid), cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    _decorate(ax, title, boundaries)
    fig.colorbar(im, ax=ax, shrink=0.7, label=label)
    map_furniture(ax)
    fig.tight_layout()
    return fig


def small_multiples(arrays: dict, grid, boundaries=None, ncols: int = 4, cmap: str = "viridis",
                    suptitle: str = "", robust: bool = True):
    """A grid of small maps of continuous rasters (title -> 2-D array spanning ``grid``), one colour bar each.

    ``robust`` stretches each map over its 2–98 % range, so one outlier does not flatten the picture.
    """
    use_cjk_font()
    n = max(1, len(arrays))
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.3 * ncols, 3.0 * nrows), dpi=90, squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_axis_off()
    for ax, (title, arr) in zip(axes.flat, arrays.items(), strict=False):
        v = np.asarray(arr, dtype="f4")
        finite = v[np.isfinite(v)]
        lo, hi = (np.percentile(finite, [2, 98]) if robust and finite.size else (None, None))
        if lo is not None and not hi > lo:  # a nearly constant layer: its own full range
            lo, hi = None, None
        im = ax.imshow(v, extent=_extent(grid), cmap=cmap, vmin=lo, vmax=hi, interpolation="nearest")
        if boundaries is not None and len(boundaries):
            draw_boundaries(ax, boundaries, color="#444444", linewidth=0.3)
        ax.set_title(title, fontsize=8)
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_aspect("equal")
        fig.colorbar(im, ax=ax, shrink=0.75).ax.tick_params(labelsize=6)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    fig.tight_layout()
    return fig


def model_figure(metrics: dict, samples=None, title: str = ""):
    """Validation of a hazard model: ROC curve of each spatial-CV fold and the held-out feature importance.

    ``metrics`` is a model's ``metrics.json``; ``samples`` its ``cv_samples.csv`` (columns ``label``, ``fold``,
    ``oof``: each sample's out-of-fold prediction). Without samples (an index hazard) only the importance or
    weights are drawn.
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    use_cjk_font()
    has_roc = samples is not None and len(samples) and samples["label"].nunique() == 2
    fig, axes = plt.subplots(1, 2 if has_roc else 1, figsize=(10 if has_roc else 5.5, 4.2), dpi=100,
                             squeeze=False)
    axes = list(axes[0])
    if has_roc:
        ax = axes.pop(0)
        for fold, part in samples.groupby("fold"):
            if part["label"].nunique() < 2:
                continue
            fpr, tpr, _ = roc_curve(part["label"], part["oof"])
            ax.plot(fpr, tpr, lw=1.2, label=f"fold {fold} (AUC {roc_auc_score(part['label'], part['oof']):.2f})")
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
        ax.set_xlabel("假阳性率 false-positive rate", fontsize=8)
        ax.set_ylabel("真阳性率 true-positive rate", fontsize=8)
        ax.set_title(f"空间交叉验证 ROC per spatial fold (mean AUC {metrics.get('auc_spatial_cv', float('nan')):.2f})",
                     fontsize=9)
        ax.legend(fontsize=7, loc="lower right")
        ax.tick_params(labelsize=7)
    ax = axes[0]
    imp = metrics.get("feature_importance") or {}
    if imp:
        names = list(imp)[::-1]
        ax.barh(names, [imp[k]["mean"] for k in names], xerr=[imp[k].get("std", 0) for k in names], color="#4575b4")
        ax.set_xlabel("AUC 下降 drop in held-out AUC when permuted", fontsize=8)
        ax.set_title("特征重要性 feature importance", fontsize=9)
    else:
        weights = metrics.get("weights") or {}
        names = list(weights)[::-1]
        ax.barh(names, [float(weights[k]) for k in names], color="#4575b4")
        ax.set_xlabel("权重 weight", fontsize=8)
        ax.set_title("指标权重 indicator weights", fontsize=9)
    ax.tick_params(labelsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
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
