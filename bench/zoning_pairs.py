"""Draw every hazard's hazard zoning beside its risk zoning in one figure (for the README).

Usage::

    python bench/zoning_pairs.py --results results --out docs/img/hazard_vs_risk_zoning.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import rasterio  # noqa: E402
from matplotlib.colors import BoundaryNorm, ListedColormap  # noqa: E402

from risk import HAZARD_LABELS, HAZARDS  # noqa: E402
from risk.assessment.zoning import level_scheme  # noqa: E402
from risk.io.figures import use_cjk_font  # noqa: E402


def _zones(path: Path, step: int):
    with rasterio.open(path) as src:
        z = src.read(1)[::step, ::step].astype("f4")
        levels = int(src.tags().get("LEVELS", 5))
    z[z == 0] = np.nan
    return z, levels


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", default="results")
    ap.add_argument("--out", default="docs/img/hazard_vs_risk_zoning.png")
    ap.add_argument("--step", type=int, default=6, help="decimation of the rasters")
    a = ap.parse_args(argv)
    use_cjk_font()
    res = Path(a.results)
    fig, axes = plt.subplots(len(HAZARDS), 2, figsize=(6.4, 3.0 * len(HAZARDS)), dpi=80)
    for row, h in zip(axes, HAZARDS, strict=True):
        zh, en = HAZARD_LABELS[h]
        for ax, path, title in ((row[0], res / "zoning" / "hazard" / f"{h}.tif", f"{zh}危险性 {en} hazard"),
                                (row[1], res / "zoning" / f"{h}.tif", f"{zh}风险 {en} risk")):
            z, k = _zones(path, a.step)
            labels, colors = level_scheme(k)
            cmap = ListedColormap([np.array(colors[i][:3]) / 255 for i in range(1, k + 1)])
            ax.imshow(z, cmap=cmap, norm=BoundaryNorm(np.arange(0.5, k + 1.5), k), interpolation="nearest")
            ax.set_title(f"{title} (1 {labels[1][0]} … {k} {labels[k][0]})", fontsize=6.5)
            ax.set_axis_off()
    fig.tight_layout()
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(a.out)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
