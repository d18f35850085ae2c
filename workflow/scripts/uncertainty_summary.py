"""Per-township summary of class stability: mean stability and the share of area that is stable.

Writes ``uncertainty/townships_stability.csv``: ``<name>_mean_stability`` and ``<name>_stable_share``
(share of the township's area keeping its zone in at least ``stable_threshold`` of the draws).
"""

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from risk import io
from risk.assessment import township_tables as tables
from risk.grid import Grid
from risk.runtime import configure_logging

logger = logging.getLogger(__name__)


def main(snakemake):
    from exactextract import exact_extract

    configure_logging(snakemake.log[0])
    p = snakemake.params
    grid = Grid.from_json(Path(snakemake.input.grid).read_text())
    towns = io.read_vector(snakemake.input.townships, crs=grid.crs).reset_index(drop=True)
    out = tables.township_names(towns, p.name_field).reset_index(drop=True)
    gdf = towns[["geometry"]].copy()
    gdf["_row"] = np.arange(len(gdf))
    thr = float(p.stable_threshold)
    names = list(p.zoned)
    # Stability takes n_draws + 1 distinct values (k / n_draws): the area share of each (frac) gives
    # the stable share without holding the cells' values.
    ops = ["mean", "unique", "frac"]
    t = exact_extract([tables.raster_source(path, grid, n) for n, path in zip(names, snakemake.input.stability,
                                                                             strict=True)],
                      gdf, ops, include_cols=["_row"], output="pandas", strategy="raster-sequential")
    t = t.set_index("_row").reindex(gdf["_row"])
    for name in names:
        col = tables.op_columns(t, name, ops, len(names))
        out[f"{name}_mean_stability"] = t[col["mean"]].to_numpy(dtype="f8").round(4)
        share = []
        for v, f in zip(t[col["unique"]], t[col["frac"]], strict=True):
            v, f = np.atleast_1d(np.asarray(v, "f8")), np.atleast_1d(np.asarray(f, "f8"))
            share.append(float(f[v >= thr - 1e-6].sum()) if v.size else np.nan)
        out[f"{name}_stable_share"] = np.round(share, 4)
    out["stable_threshold"] = thr
    io.write_table(pd.DataFrame(out), snakemake.output.csv)
    logger.info("class stability summarised for %d townships", len(out))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
