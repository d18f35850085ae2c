"""Validation of the risk against a historical-disaster record (历史灾情), beside simple baselines.

A record row is one disaster: its hazard, location and recorded harm (``harm_column``, by default the
direct loss in 万元). Per hazard, every score raster (the risk, and as baselines the exposure alone, the
hazard alone and the plain product hazard × people) is judged by:

* the **harm-capture curve**: cells ranked by the score (highest first), the cumulative share of the
  recorded harm against the cumulative share of the area. Ties are averaged (the curve runs straight
  across a group of equal scores, as a random order of them would on average), so a score that is 0 on
  most of the area gains nothing from it. ``capture_auc`` is the area under the curve (0.5 = no skill);
  ``harm_share_top`` the harm share of the top ``top_area_share`` of the area;
* **zones 4–5**: the share of the area in the risk zoning's zones 4–5 and the share of the harm there;
  for a baseline, the harm share of its top cells over the same area share;
* the **township Spearman** between the mean score of a township and the harm recorded in it.

Every figure comes from sums over blocks of cells (:func:`validate_hazard`): memory stays at one block per
worker whatever the size of the grid, and the numbers are those of ranking every cell (:func:`capture_curve`).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

import dask
import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr
from scipy.stats import spearmanr

from risk.errors import InputError

AREA_STEPS = np.r_[0.0, np.geomspace(1e-4, 1.0, 121)]
"""Area shares the capture curve is reported at: geometric from 0.01 % (harm concentrates in a small share of the
area where people live), and 0."""

BASELINES = ("exposure", "hazard", "hazard_x_people")


def curve_from_groups(area: np.ndarray, got: np.ndarray, total: float,
                      area_steps: np.ndarray = AREA_STEPS) -> np.ndarray:
    """Capture curve from groups of equally scored cells, highest score first: their cell counts ``area`` and
    the harm ``got`` recorded in each; ``total`` is the harm of all groups. The curve runs straight across a group.

    Examples
    --------
    >>> curve_from_groups(np.array([1.0, 3.0]), np.array([2.0, 2.0]), 4.0, np.array([0, .25, .5, 1])).tolist()
    [0.0, 0.5, 0.6666666666666666, 1.0]
    """
    area = np.asarray(area, dtype="f8")
    if area.sum() == 0 or not total > 0:
        return np.full(len(area_steps), np.nan)
    x = np.r_[0.0, np.cumsum(area) / area.sum()]
    y = np.r_[0.0, np.cumsum(np.asarray(got, dtype="f8")) / total]
    return np.interp(area_steps, x, y)


def capture_curve(score: np.ndarray, harm: np.ndarray, area_steps: np.ndarray = AREA_STEPS) -> np.ndarray:
    """Cumulative share of ``harm`` captured by the highest-``score`` cells at each share of the area.

    ``score`` and ``harm`` are 1-D over the valid cells; equal scores are averaged over. This ranks every
    cell; a raster's curve, block by block, is :func:`validate_hazard` (the same numbers).

    Examples
    --------
    >>> capture_curve(np.array([3.0, 2.0, 1.0, 0.0]), np.array([1.0, 1.0, 0.0, 0.0]),
    ...               np.array([0, .5, 1])).tolist()
    [0.0, 1.0, 1.0]
    >>> capture_curve(np.zeros(4), np.array([1.0, 0, 0, 0]), np.array([0, .5, 1])).tolist()
    [0.0, 0.5, 1.0]
    """
    score = np.asarray(score, dtype="f8")
    harm = np.asarray(harm, dtype="f8")
    if score.size == 0:
        return np.full(len(area_steps), np.nan)
    uniq, inv = np.unique(-score, return_inverse=True)  # groups of equal score, highest first
    area = np.bincount(inv, minlength=uniq.size)
    return curve_from_groups(area, np.bincount(inv, weights=harm, minlength=uniq.size), harm.sum(), area_steps)


def spearman_from_sums(sums: np.ndarray, counts: np.ndarray, harm_by_label: np.ndarray) -> float | None:
    """Spearman between each township's mean score (``sums / counts``) and its recorded harm; None for fewer
    than three townships with cells."""
    have = np.asarray(counts) > 0
    if have.sum() < 3:
        return None
    rho = spearmanr(np.asarray(sums)[have] / np.asarray(counts)[have], np.asarray(harm_by_label)[have]).statistic
    return None if not np.isfinite(rho) else round(float(rho), 4)


def township_spearman(score: np.ndarray, labels: np.ndarray, harm_by_label: np.ndarray) -> float | None:
    """Spearman between each township's mean ``score`` and its recorded harm (labels 1..n; NaN-safe)."""
    n = len(harm_by_label)
    ok = np.isfinite(score) & (labels >= 1) & (labels <= n)
    s = np.bincount(labels[ok] - 1, weights=score[ok], minlength=n)
    c = np.bincount(labels[ok] - 1, minlength=n)
    return spearman_from_sums(s, c, harm_by_label)


def record_cells(record: pd.DataFrame, rows: np.ndarray, cols: np.ndarray, shape, harm_column: str,
                 where: str = "disaster record") -> tuple[np.ndarray, np.ndarray]:
    """Recorded harm summed per cell: the cells (flat indices on a grid of ``shape``, ascending) and their harm.

    Rows off the grid are dropped.

    Examples
    --------
    >>> rec = pd.DataFrame({"loss": [1.0, 2.0, 4.0, 8.0]})
    >>> cells, harm = record_cells(rec, np.array([1, 0, 1, 5]), np.array([1, 2, 1, 0]), (3, 3), "loss")
    >>> cells.tolist(), harm.tolist()
    ([2, 4], [2.0, 5.0])
    """
    if harm_column not in record:
        raise InputError(f"{where}: no column {harm_column!r} (validation.harm_column); it has "
                         f"{', '.join(map(str, record.columns))}")
    harm = pd.to_numeric(record[harm_column], errors="coerce").fillna(0.0).to_numpy("f8")
    rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    ok = (rows >= 0) & (rows < shape[0]) & (cols >= 0) & (cols < shape[1])
    cells, inv = np.unique(rows[ok] * shape[1] + cols[ok], return_inverse=True)
    out = np.zeros(cells.size)
    np.add.at(out, inv, harm[ok])
    return cells, out


def _raw(a):
    return a.data if isinstance(a, xr.DataArray) else a


def _at_cells(arrays, cells: np.ndarray, shape) -> list[np.ndarray]:
    """Values of each 2-D array (numpy or Dask, dtype kept) at flat ``cells``; Dask ones in one compute."""
    rows, cols = np.unravel_index(cells, shape)
    parts = [a.vindex[rows, cols] if isinstance(a, da.Array) else np.asarray(a)[rows, cols] for a in arrays]
    return [np.asarray(p) for p in dask.compute(*parts)]


def _block_sums(zones, labels, risk, *scores, thresholds, n: int) -> np.ndarray:
    """One block's partial sums (all additive): valid cells (finite ``risk``, a zone), of them in zones 4-5;
    per score its per-township sum and count of finite values (labels 0..n) and its cells in each group of
    :func:`_groups`."""
    valid = np.isfinite(risk) & (np.asarray(zones) > 0)
    lab = np.asarray(labels)[valid].astype(np.int64)
    lab = np.where((lab >= 1) & (lab <= n), lab, 0)
    out = [np.array([valid.sum(), (np.asarray(zones)[valid] >= 4).sum()], dtype="f8")]
    for s, t in zip(scores, thresholds, strict=True):
        v = np.asarray(s)[valid]
        fin = np.isfinite(v) & (lab > 0)
        out.append(np.bincount(lab[fin], weights=v[fin], minlength=n + 1))
        out.append(np.bincount(lab[fin], minlength=n + 1).astype("f8"))
        out.append(np.bincount(_groups(np.nan_to_num(v.astype("f8"), nan=0.0), t), minlength=2 * t.size + 1)
                   .astype("f8"))
    return np.concatenate(out)


def _groups(v: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Group of each value against the ascending thresholds ``t``: ``2k + 1`` equal to ``t[k]``, ``2k`` strictly
    between ``t[k - 1]`` and ``t[k]`` (``2 t.size`` above the last).

    Examples
    --------
    >>> _groups(np.array([0.0, 1.0, 1.5, 2.0, 3.0]), np.array([1.0, 2.0])).tolist()
    [0, 1, 2, 3, 4]
    """
    k = np.searchsorted(t, v, side="left")
    eq = np.zeros(v.shape, dtype=bool) if t.size == 0 else t[np.minimum(k, t.size - 1)] == v
    return 2 * k + eq


def raster_sums(zones, labels, scores: Mapping[str, object], thresholds: Mapping[str, np.ndarray],
                n: int) -> np.ndarray:
    """:func:`_block_sums` over whole rasters (numpy) or summed over their Dask blocks (the same numbers).

    ``scores`` holds ``risk`` (it sets the valid cells); ``thresholds`` the ascending harm-cell scores of each.
    """
    names = list(scores)
    arrs = [_raw(zones), _raw(labels), _raw(scores["risk"])] + [_raw(scores[k]) for k in names]
    kernel = partial(_block_sums, thresholds=[thresholds[k] for k in names], n=n)
    chunked = [a for a in arrs if isinstance(a, da.Array)]
    if not chunked:
        return kernel(*arrs)
    chunks = chunked[0].chunks
    arrs = [a.rechunk(chunks) if isinstance(a, da.Array) else da.from_array(np.asarray(a), chunks=chunks)
            for a in arrs]
    parts = [dask.delayed(kernel)(*blocks) for blocks in zip(*(a.to_delayed().ravel() for a in arrs), strict=True)]
    return np.sum(dask.compute(*parts), axis=0)


def validate_hazard(scores: Mapping[str, object], zones, harm_cells: tuple[np.ndarray, np.ndarray],
                    labels, harm_by_label: np.ndarray, top_area_share: float = 0.01) -> dict:
    """The figures of one hazard for every score (``risk`` first, then the baselines), block by block.

    The capture curve needs the cells of each score ranked; only the groups of equal score that hold recorded
    harm matter (between them the curve is flat), so one pass counts, per block, the cells above, at and
    between the scores of the harm cells: the same curve as :func:`capture_curve` of every cell, in one
    block's memory.

    Parameters
    ----------
    scores : mapping
        Name -> 2-D score raster (numpy, Dask or DataArray; NaN outside the study area), ``risk`` among them.
    zones : array
        The risk zoning (1–5, 0 outside).
    harm_cells : tuple of ndarray
        Cells with recorded harm and their harm (:func:`record_cells`).
    labels, harm_by_label : array
        Township label of every cell (1..n, 0 none) and the harm recorded in each township.
    top_area_share : float
        Area share of ``harm_share_top``.
    """
    names = list(scores)
    n = len(harm_by_label)
    cells, harm = harm_cells
    z_at, r_at, *s_at = _at_cells([_raw(zones), _raw(scores["risk"])] + [_raw(scores[k]) for k in names], cells,
                                  np.shape(_raw(zones)))
    valid_at = np.isfinite(r_at) & (z_at > 0)
    harm = harm[valid_at]
    thresholds, got = {}, {}
    for k, v in zip(names, s_at, strict=True):
        t, inv = np.unique(np.nan_to_num(v[valid_at].astype("f8"), nan=0.0), return_inverse=True)
        thresholds[k] = t
        got[k] = np.zeros(2 * t.size + 1)
        got[k][1::2] = np.bincount(inv, weights=harm, minlength=t.size)  # harm cells in flat order
    sums = raster_sums(zones, labels, scores, thresholds, n)
    n_valid, n_high = sums[0], sums[1]
    high_area = n_high / n_valid if n_valid else np.nan
    total = harm.sum()
    out = {"recorded_harm": round(float(total), 3), "zones45_area_share": round(float(high_area), 4), "scores": {}}
    i = 2
    for k in names:
        lab_sum, lab_count = sums[i + 1: i + 1 + n], sums[i + n + 2: i + 2 * n + 2]
        i += 2 * (n + 1)
        area = sums[i: i + 2 * thresholds[k].size + 1][::-1]  # highest score first
        i += 2 * thresholds[k].size + 1
        keep = area > 0
        curve = curve_from_groups(area[keep], got[k][::-1][keep], total)
        harm45 = float(harm[z_at[valid_at] >= 4].sum() / total) if k == "risk" and total > 0 else \
            float(np.interp(high_area, AREA_STEPS, curve))
        out["scores"][k] = {
            "capture_auc": round(float(np.trapezoid(curve, AREA_STEPS)), 4),
            "harm_share_top": round(float(np.interp(top_area_share, AREA_STEPS, curve)), 4),
            "harm_share_zones45": round(harm45, 4),
            "township_spearman": spearman_from_sums(lab_sum, lab_count, harm_by_label),
            "curve": [round(float(x), 4) for x in curve],
        }
    out["top_area_share"] = top_area_share
    return out


def validate(record: pd.DataFrame, rows: np.ndarray, cols: np.ndarray, scores: Mapping[str, Mapping],
             zones: Mapping[str, np.ndarray], labels: np.ndarray, township_names: list[str], *,
             harm_column: str = "direct_loss_10k_yuan", top_area_share: float = 0.01) -> dict:
    """Validation of every hazard of ``scores`` that the record has disasters of.

    Parameters
    ----------
    record : DataFrame
        The disaster record (``hazard``, ``township``, ``harm_column``).
    rows, cols : ndarray
        Grid cell of every record row.
    scores : mapping
        Hazard -> {score name -> 2-D raster}.
    zones : mapping
        Hazard -> its risk zoning.
    labels : array
        Township label of every cell (1..n in the order of ``township_names``), numpy or Dask.
    township_names : list of str
        Names of the townships, matched against the record's ``township``; a row whose township is not
        among them counts for its cell only.
    """
    if "hazard" not in record:
        raise InputError("disaster record: no column 'hazard'")
    out = {"harm_column": harm_column, "area_steps": [float(f"{x:.6g}") for x in AREA_STEPS], "hazards": {}}
    hz = record["hazard"].astype(str).to_numpy()
    for h, sc in scores.items():
        sel = hz == h
        if not sel.any():
            continue
        sub = record[sel]
        cells = record_cells(sub, rows[sel], cols[sel], np.shape(_raw(labels)), harm_column)
        harm = pd.to_numeric(sub[harm_column], errors="coerce").fillna(0.0)
        by_name = harm.groupby(sub["township"].astype(str) if "township" in sub else 0).sum()
        per_label = np.array([float(by_name.get(n, 0.0)) for n in township_names])
        res = validate_hazard(sc, zones[h], cells, labels, per_label, top_area_share)
        res["disasters"] = int(sel.sum())
        out["hazards"][h] = res
    return out


def table(result: dict) -> pd.DataFrame:
    """One row per hazard and score: capture AUC, top-area and zones 4–5 harm shares, township Spearman."""
    rows = []
    for h, r in result["hazards"].items():
        for name, s in r["scores"].items():
            rows.append({"hazard": h, "score": name, "disasters": r["disasters"],
                         "capture_auc": s["capture_auc"], "harm_share_top": s["harm_share_top"],
                         "zones45_area_share": r["zones45_area_share"], "harm_share_zones45": s["harm_share_zones45"],
                         "township_spearman": s["township_spearman"]})
    return pd.DataFrame(rows)


def parse_record(table: pd.DataFrame, where: str = "disaster record") -> pd.DataFrame:
    """The record with numeric ``lon``/``lat`` (WGS84), checked: a bad row is named by its line.

    Parameters
    ----------
    table : DataFrame
        The record as read, every cell as text (:func:`risk.io.tables.read_text_table`).
    where : str
        The file, for the messages.
    """
    need = ("hazard", "lon", "lat")
    missing = [c for c in need if c not in table]
    if missing:
        raise InputError(f"{where}: missing column(s) {', '.join(missing)}")
    out = table.copy()
    for c in ("lon", "lat"):
        out[c] = pd.to_numeric(out[c], errors="coerce")
    bad = out[["lon", "lat"]].isna().any(axis=1) | ~out["lon"].between(-180, 180) | ~out["lat"].between(-90, 90)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"{where}: line {i + 2}: lon/lat {table['lon'].iloc[i]!r}, {table['lat'].iloc[i]!r} "
                         "are not WGS84 degrees")
    return out


def record_rowcol(record: pd.DataFrame, grid) -> tuple[np.ndarray, np.ndarray]:
    """Grid row and column of every record row (``lon``/``lat`` in WGS84; may fall off the grid)."""
    from pyproj import Transformer

    x, y = Transformer.from_crs("EPSG:4326", grid.crs, always_xy=True).transform(
        record["lon"].to_numpy("f8"), record["lat"].to_numpy("f8"))
    return grid.rowcol(x, y)


def hazard_scores(risk: np.ndarray, exposure: np.ndarray, hazard: np.ndarray, people: np.ndarray) -> dict:
    """The risk and its three baselines: exposure alone, hazard alone, hazard × people.

    Examples
    --------
    >>> s = hazard_scores(np.ones(2), np.ones(2), np.array([0.5, 0.2]), np.array([10.0, np.nan]))
    >>> list(s), s["hazard_x_people"].tolist()
    (['risk', 'exposure', 'hazard', 'hazard_x_people'], [5.0, 0.0])
    """
    return {"risk": risk, "exposure": exposure, "hazard": hazard,
            "hazard_x_people": hazard * np.nan_to_num(people)}  # NaN: no people (Dask takes no nan=)


def validate_run(table: pd.DataFrame, where: str, grid, townships, layers: Mapping[str, Mapping[str, np.ndarray]],
                 people: np.ndarray, *, name_field: str | None = None,
                 harm_column: str = "direct_loss_10k_yuan", top_area_share: float = 0.01) -> dict:
    """:func:`validate` of a run from the record as read and the run's rasters.

    Parameters
    ----------
    table : DataFrame
        The disaster record as read (text cells); ``where`` names it in errors.
    grid : Grid
        The analysis grid.
    townships : GeoDataFrame
        Township polygons (their name field is matched against the record's ``township``).
    layers : mapping
        Hazard -> ``{"risk", "exposure", "hazard", "zones"}`` 2-D arrays on the grid (numpy or Dask: a Dask
        one is reduced block by block, never whole in memory), or a function without
        arguments that returns them (called when that hazard's turn comes, so that only one hazard's rasters
        are held at a time).
    people : array
        Residents per cell (numpy or Dask).
    """
    from risk.assessment.township_tables import township_names
    from risk.capacity.comprehensive_risk import township_labels

    record = parse_record(table, where)
    rows, cols = record_rowcol(record, grid)
    labels = township_labels(townships, grid).data  # block by block, as the rasters
    names = list(township_names(townships, name_field)["name_zh"])
    kw = {"harm_column": harm_column, "top_area_share": top_area_share}
    out = validate(record, rows, cols, {}, {}, labels, names, **kw)
    for h, x in layers.items():  # one hazard's rasters in memory at a time
        x = x() if callable(x) else x
        one = validate(record, rows, cols, {h: hazard_scores(x["risk"], x["exposure"], x["hazard"], people)},
                       {h: np.nan_to_num(x["zones"]).astype("uint8")}, labels, names, **kw)
        out["hazards"].update(one["hazards"])
        del x, one
    return out
