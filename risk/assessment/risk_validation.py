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
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from risk.errors import InputError

AREA_STEPS = np.r_[0.0, np.geomspace(1e-4, 1.0, 121)]
"""Area shares the capture curve is reported at: geometric from 0.01 % (harm concentrates in a small share of the
area where people live), and 0."""

BASELINES = ("exposure", "hazard", "hazard_x_people")


def capture_curve(score: np.ndarray, harm: np.ndarray, area_steps: np.ndarray = AREA_STEPS) -> np.ndarray:
    """Cumulative share of ``harm`` captured by the highest-``score`` cells at each share of the area.

    ``score`` and ``harm`` are 1-D over the valid cells; equal scores are averaged over.

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
    total = harm.sum()
    if score.size == 0 or total <= 0:
        return np.full(len(area_steps), np.nan)
    uniq, inv = np.unique(-score, return_inverse=True)  # groups of equal score, highest first
    area = np.bincount(inv, minlength=uniq.size).astype("f8")
    got = np.bincount(inv, weights=harm, minlength=uniq.size)
    x = np.r_[0.0, np.cumsum(area) / score.size]
    y = np.r_[0.0, np.cumsum(got) / total]
    return np.interp(area_steps, x, y)


def township_spearman(score: np.ndarray, labels: np.ndarray, harm_by_label: np.ndarray) -> float | None:
    """Spearman between each township's mean ``score`` and its recorded harm (labels 1..n; NaN-safe)."""
    n = len(harm_by_label)
    ok = np.isfinite(score) & (labels >= 1) & (labels <= n)
    s = np.bincount(labels[ok] - 1, weights=score[ok], minlength=n)
    c = np.bincount(labels[ok] - 1, minlength=n)
    have = c > 0
    if have.sum() < 3:
        return None
    rho = spearmanr(s[have] / c[have], harm_by_label[have]).statistic
    return None if not np.isfinite(rho) else round(float(rho), 4)


def record_cells(record: pd.DataFrame, rows: np.ndarray, cols: np.ndarray, shape, harm_column: str,
                 where: str = "disaster record") -> np.ndarray:
    """Recorded harm summed per cell (2-D), from each row's cell; rows off the grid are dropped."""
    if harm_column not in record:
        raise InputError(f"{where}: no column {harm_column!r} (validation.harm_column); it has "
                         f"{', '.join(map(str, record.columns))}")
    harm = pd.to_numeric(record[harm_column], errors="coerce").fillna(0.0).to_numpy("f8")
    ok = (rows >= 0) & (rows < shape[0]) & (cols >= 0) & (cols < shape[1])
    out = np.zeros(shape, dtype="f8")
    np.add.at(out, (rows[ok], cols[ok]), harm[ok])
    return out


def validate_hazard(scores: Mapping[str, np.ndarray], zones: np.ndarray, harm_cells: np.ndarray,
                    labels: np.ndarray, harm_by_label: np.ndarray, top_area_share: float = 0.01) -> dict:
    """The figures of one hazard for every score (``risk`` first, then the baselines).

    Parameters
    ----------
    scores : mapping
        Name -> 2-D score raster (NaN outside the study area), ``risk`` among them.
    zones : ndarray
        The risk zoning (1–5, 0 outside).
    harm_cells : ndarray
        Recorded harm per cell (:func:`record_cells`).
    labels, harm_by_label : ndarray
        Township label of every cell (1..n, 0 none) and the harm recorded in each township.
    top_area_share : float
        Area share of ``harm_share_top``.
    """
    valid = np.isfinite(scores["risk"]) & (zones > 0)
    harm = harm_cells[valid]
    high = zones[valid] >= 4
    high_area = float(high.mean())
    out = {"recorded_harm": round(float(harm.sum()), 3), "zones45_area_share": round(high_area, 4), "scores": {}}
    for name, arr in scores.items():
        s = np.nan_to_num(arr[valid], nan=0.0)
        curve = capture_curve(s, harm)
        harm45 = float(harm[high].sum() / harm.sum()) if name == "risk" and harm.sum() > 0 else \
            float(np.interp(high_area, AREA_STEPS, curve))
        out["scores"][name] = {
            "capture_auc": round(float(np.trapezoid(curve, AREA_STEPS)), 4),
            "harm_share_top": round(float(np.interp(top_area_share, AREA_STEPS, curve)), 4),
            "harm_share_zones45": round(harm45, 4),
            "township_spearman": township_spearman(arr[valid], labels[valid], harm_by_label),
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
    labels : ndarray
        Township label of every cell (1..n in the order of ``township_names``).
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
        cells = record_cells(sub, rows[sel], cols[sel], labels.shape, harm_column)
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
            "hazard_x_people": hazard * np.nan_to_num(people, nan=0.0)}


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
        Hazard -> ``{"risk", "exposure", "hazard", "zones"}`` 2-D arrays on the grid, or a function without
        arguments that returns them (called when that hazard's turn comes, so that only one hazard's rasters
        are held at a time).
    people : ndarray
        Residents per cell.
    """
    from risk.assessment.township_tables import township_names
    from risk.capacity.comprehensive_risk import township_labels

    record = parse_record(table, where)
    rows, cols = record_rowcol(record, grid)
    labels = np.asarray(township_labels(townships, grid, dask_=False).values)
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
