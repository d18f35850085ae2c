"""Class stability per township: mean stability and the share of area that keeps its zone.

For every zoned name (a hazard or ``multi_hazard``), exactextract weighs each cell of the stability
raster (:mod:`risk.assessment.class_stability`) by the fraction of it a township covers:

* ``<name>_mean_stability`` -- the area-weighted mean class stability of the township;
* ``<name>_stable_share`` -- the share of its area whose stability is at least ``stable_threshold``.

Stability takes ``n_draws + 1`` distinct values (``k / n_draws``): the area share of each value
(exactextract's ``unique`` and ``frac``) gives the stable share without holding the cells' values.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from risk.assessment.township_tables import extract, op_columns, raster_source, township_names
from risk.grid import Grid


def stable_share(values, fractions, threshold: float) -> float:
    """Share of area whose value is at least ``threshold`` (less 1e-6), from values and their area shares.

    Examples
    --------
    >>> stable_share([0.5, 0.8, 1.0], [0.2, 0.3, 0.5], 0.8)
    0.8
    >>> stable_share([], [], 0.8)
    nan
    """
    v, f = np.atleast_1d(np.asarray(values, "f8")), np.atleast_1d(np.asarray(fractions, "f8"))
    return float(f[v >= threshold - 1e-6].sum()) if v.size else np.nan


def township_stability(townships, stability: Mapping[str, object], grid: Grid | None = None,
                       stable_threshold: float = 0.8, name_field: str | None = None,
                       window_rows: int | None = None) -> pd.DataFrame:
    """One row per township: its ids and names, then ``<name>_mean_stability`` and ``<name>_stable_share``.

    Parameters
    ----------
    townships : geopandas.GeoDataFrame
        Polygons in the grid's CRS.
    stability : mapping
        ``{name: stability raster}`` (a path, or a DataArray on ``grid``), float 0-1, NaN outside.
    stable_threshold : float
        Least stability that counts as stable; recorded in the ``stable_threshold`` column.
    name_field : str, optional
        Column with the townships' names (:func:`risk.assessment.township_tables.township_names`).
    window_rows : int, optional
        Rows of the rasters read at a time (default: at most 2²¹ cells; see
        :func:`risk.assessment.township_tables.extract`): memory stays flat as the grid grows.
    """
    towns = townships.reset_index(drop=True)
    out = township_names(towns, name_field).reset_index(drop=True)
    gdf = towns[["geometry"]].copy()
    gdf["_row"] = np.arange(len(gdf))
    thr = float(stable_threshold)
    names = list(stability)
    ops = ["mean", "unique", "frac"]
    t = extract([raster_source(stability[n], grid, n) for n in names], gdf, ops, grid, rows=window_rows)
    for name in names:
        col = op_columns(t, name, ops, len(names))
        out[f"{name}_mean_stability"] = t[col["mean"]].to_numpy(dtype="f8").round(4)
        share = [stable_share(v, f, thr) for v, f in zip(t[col["unique"]], t[col["frac"]], strict=True)]
        out[f"{name}_stable_share"] = np.round(share, 4)
    out["stable_threshold"] = thr
    return out
