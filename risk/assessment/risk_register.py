"""The risk register: every surveyed point with its hazards, vulnerability, risk and level, ranked.

For a point *p* of category *c*:

* ``hazard_<h>`` -- the hazard index (0-1) of its grid cell, for every hazard;
* ``exposure`` -- the exposure index of its cell; ``vulnerability`` -- the point's own score
  from the vulnerability stage (the vulnerability raster at its cell where the point has none);
* ``risk_<h>``: with ``risk.method`` ``expected_harm`` or ``matrix``, the risk raster of ``h`` at the
  point's cell (the point's structure is part of that cell's exposure); with ``index``,
  ``f(hazard_<h>, exposure, vulnerability)`` with the run's risk formula
  (:mod:`risk.assessment.combine_risk`); for the hazards relevant to its category (``risk.assessment.risk_register.category_hazards``,
  e.g. billboards: strong wind; waterlogging spots: waterlogging), NaN for the others;
* ``risk_score`` -- the highest relevant ``risk_<h>``; ``dominant_hazard`` -- the hazard giving it;
* ``risk_level`` 1-5 -- the zone ``risk_score`` falls in under the class breaks of the dominant
  hazard's zoning raster, so a point reads on the same scale as the map; ``risk_level_label`` in
  Chinese and English;
* ``rank`` -- 1 = inspect first: by level, then score, then people exposed (when surveyed);
* ``rectified`` -- only in a scenario that rectifies points (``scenario.rectified``): whether this one is.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from risk import CATEGORY_LABELS, HAZARD_LABELS
from risk.assessment.combine_risk import risk_kernel, risk_method, risk_settings
from risk.assessment.zoning import ZONE_LABELS

DEFAULT_CATEGORY_HAZARDS = {
    "waterlogging": ["waterlogging"],
    "crane": ["wind", "earthquake"],
    "power": ["wind", "geological", "earthquake", "wildfire", "waterlogging"],
    "billboard": ["wind"],
    "garden": ["wind", "wildfire"],
}
KEEP_FIELDS = ("id", "name", "township", "kind", "exposed_people", "exposed_property")
SCORE_FIELDS = ("vulnerability", "vulnerability_score", "vuln", "score")

logger = logging.getLogger(__name__)


def risk_register(points, hazard_at: Mapping[str, np.ndarray], exposure_at, vulnerability_at, *,
                  breaks: Mapping[str, Sequence[float]], formula: str = "geometric",
                  risk_weights: Mapping[str, Sequence[float]] | None = None,
                  category_hazards: Mapping[str, Sequence[str]] | None = None,
                  cell_zone=None, cell_zone_name: str = "multi_hazard",
                  formulas: Mapping[str, str] | None = None, risk_at: Mapping[str, np.ndarray] | None = None):
    """Build the ranked register (GeoDataFrame, one row per point; see the module docstring).

    Parameters
    ----------
    points : geopandas.GeoDataFrame
        Surveyed points with a ``category`` column (and ``id``, ``name``, ``township`` ...).
    hazard_at : mapping
        ``{hazard: values at the points}``.
    exposure_at, vulnerability_at : numpy.ndarray
        Values at the points (0-1).
    breaks : mapping
        ``{hazard: zoning breaks}`` (4 increasing numbers) used for ``risk_level``.
    risk_weights : mapping, optional
        ``{hazard: (w_H, w_E, w_V)}``; equal thirds by default.
    cell_zone : numpy.ndarray, optional
        Zone of each point's cell in the ``cell_zone_name`` zoning raster, kept for reference.
    formulas : mapping, optional
        ``{hazard: formula}`` overriding ``formula`` per hazard.
    risk_at : mapping, optional
        ``{hazard: risk raster values at the points}``: used as ``risk_<h>`` as they are (``risk.method``
        ``expected_harm`` or ``matrix``: the point's cell's risk, on the scale of the map) instead of the
        index formula.
    """
    import geopandas as gpd

    cat_h = {**DEFAULT_CATEGORY_HAZARDS, **(category_hazards or {})}
    hazards = list(hazard_at)
    n = len(points)
    cats = points["category"].astype(str).to_numpy()
    e = np.asarray(exposure_at, dtype="f4")
    v = np.asarray(vulnerability_at, dtype="f4")
    out = pd.DataFrame(index=range(n))
    out["category"] = cats
    out["category_zh"] = [CATEGORY_LABELS.get(c, (c, c))[0] for c in cats]
    for f in KEEP_FIELDS:
        if f in points.columns:
            out[f] = points[f].to_numpy()
    out["x"] = points.geometry.x.to_numpy().round(2)
    out["y"] = points.geometry.y.to_numpy().round(2)
    for h in hazards:
        out[f"hazard_{h}"] = np.asarray(hazard_at[h], dtype="f4").round(5)
    out["exposure"] = e.round(5)
    out["vulnerability"] = v.round(5)
    risks = np.full((n, len(hazards)), np.nan, dtype="f4")
    for j, h in enumerate(hazards):
        w = (risk_weights or {}).get(h, (1 / 3, 1 / 3, 1 / 3))
        if risk_at is not None:
            r = np.asarray(risk_at[h], dtype="f4")
        else:
            r = risk_kernel(np.asarray(hazard_at[h], "f4"), e, v, (formulas or {}).get(h, formula), w)
        relevant = np.array([h in cat_h.get(c, hazards) for c in cats])
        risks[relevant, j] = r[relevant]
        out[f"risk_{h}"] = risks[:, j].round(5)
    any_r = np.any(np.isfinite(risks), axis=1)
    score = np.full(n, np.nan, dtype="f4")
    dom_idx = np.zeros(n, dtype=int)
    if any_r.any():
        filled = np.where(np.isfinite(risks), risks, -np.inf)
        dom_idx = np.argmax(filled, axis=1)
        score[any_r] = filled[any_r, dom_idx[any_r]]
    dominant = np.array([hazards[i] if ok else "" for i, ok in zip(dom_idx, any_r, strict=True)], dtype=object)
    level = np.zeros(n, dtype=np.uint8)
    for h in hazards:
        sel = (dominant == h) & np.isfinite(score)
        if sel.any():
            b = np.asarray(breaks[h], dtype="f4")  # float32, as risk.assessment.zoning.classify compares
            level[sel] = np.searchsorted(b, score[sel], side="left") + 1
    out["relevant_hazards"] = [",".join(x for x in cat_h.get(c, hazards) if x in hazards) for c in cats]
    out["dominant_hazard"] = dominant
    out["dominant_hazard_zh"] = [HAZARD_LABELS.get(h, ("", ""))[0] if h else "" for h in dominant]
    out["risk_score"] = score.round(5)
    out["risk_level"] = level
    out["risk_level_label"] = [" ".join(ZONE_LABELS[int(k)]) if k else "" for k in level]
    if cell_zone is not None:
        out[f"cell_zone_{cell_zone_name}"] = np.asarray(cell_zone).astype(np.uint8)
    people = pd.to_numeric(out["exposed_people"], errors="coerce").fillna(0) if "exposed_people" in out else 0
    order = pd.DataFrame({"lvl": -out["risk_level"].astype(int), "score": -np.nan_to_num(score, nan=-1.0),
                          "people": -people if isinstance(people, pd.Series) else 0, "i": np.arange(n)})
    order = order.sort_values(["lvl", "score", "people", "i"], kind="stable").index.to_numpy()
    out = out.iloc[order].reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, n + 1))
    geom = points.geometry.to_numpy()[order]
    return gpd.GeoDataFrame(out, geometry=geom, crs=points.crs)


def point_vulnerability(points, vpoints, fallback) -> tuple[np.ndarray, int]:
    """Each point's own vulnerability score, else ``fallback`` (the vulnerability raster at its cell).

    Points are matched to the vulnerability stage's points by ``(category, id)`` when both layers
    have them, else to the nearest vulnerability point within 1 CRS unit. The score is the first of
    :data:`SCORE_FIELDS` that ``vpoints`` has.

    Returns
    -------
    values : numpy.ndarray
        float32, one per point.
    matched : int
        How many points got their own score.
    """
    out = np.asarray(fallback, dtype="f4").copy()
    col = next((c for c in SCORE_FIELDS if c in vpoints.columns), None)
    if col is None or len(vpoints) == 0:
        logger.warning("vulnerability points carry no score column (%s): using the raster",
                       ", ".join(SCORE_FIELDS))
        return out, 0
    if {"category", "id"} <= set(vpoints.columns):
        key = vpoints["category"].astype(str) + "\x1f" + vpoints["id"].astype(str)
        lut = pd.Series(pd.to_numeric(vpoints[col], errors="coerce").to_numpy(), index=key)
        lut = lut[~lut.index.duplicated()]
        mine = points["category"].astype(str) + "\x1f" + points["id"].astype(str)
        got = mine.map(lut).to_numpy(dtype="f8")
    else:
        import geopandas as gpd

        j = gpd.sjoin_nearest(points[["geometry"]], vpoints[[col, "geometry"]], how="left", max_distance=1.0)
        j = j[~j.index.duplicated()]
        got = pd.to_numeric(j[col], errors="coerce").reindex(points.index).to_numpy(dtype="f8")
    ok = np.isfinite(got)
    out[ok] = got[ok]
    return out, int(ok.sum())


def build_register(points, vpoints, at: Mapping[str, np.ndarray], hazards: Sequence[str], risk_cfg: Mapping,
                   breaks: Mapping[str, Sequence[float]]):
    """The run's risk register from the rasters' values at the points and the config's ``risk`` section.

    Parameters
    ----------
    points : geopandas.GeoDataFrame
        The surveyed points (index 0..n-1).
    vpoints : geopandas.GeoDataFrame
        The vulnerability stage's points with their scores (:func:`point_vulnerability`).
    at : mapping
        Values at the points of every hazard, ``exposure``, ``vulnerability`` and ``multi_zone``
        (the multi-hazard zone, NaN off the grid), and ``risk:<h>`` of every hazard (the risk rasters,
        used as they are unless ``risk.method`` is ``index``).
    breaks : mapping
        ``{hazard: zoning breaks}``.
    """
    hazards = list(hazards)
    vul, matched = point_vulnerability(points, vpoints, at["vulnerability"])
    logger.info("%d surveyed points; %d with their own vulnerability score", len(points), matched)
    settings = {h: risk_settings(risk_cfg, h) for h in hazards}
    reg = risk_register(
        points, {h: at[h] for h in hazards}, at["exposure"], vul, breaks=breaks,
        formula=risk_cfg["formula"], risk_weights={h: s[1] for h, s in settings.items()},
        category_hazards=risk_cfg["category_hazards"], cell_zone=np.nan_to_num(at["multi_zone"]),
        formulas={h: s[0] for h, s in settings.items()},
        risk_at=None if risk_method(risk_cfg) == "index" else {h: at[f"risk:{h}"] for h in hazards})
    if "rectified" in vpoints.columns and "id" in reg.columns:  # a scenario's rectified points, marked
        key = vpoints["category"].astype(str) + "\x1f" + vpoints["id"].astype(str)
        lut = pd.Series(vpoints["rectified"].astype(bool).to_numpy(), index=key)
        reg["rectified"] = (reg["category"].astype(str) + "\x1f" + reg["id"].astype(str)).map(
            lut[~lut.index.duplicated()]).fillna(False).astype(bool)
        logger.info("%d rectified points (scenario.rectified)", int(reg["rectified"].sum()))
    for _, r in reg.head(5).iterrows():
        logger.info("rank %d: %s %s (%s) level %d, risk %.3f from %s", r["rank"], r["category"],
                    r.get("id", ""), r.get("name", ""), r["risk_level"], r["risk_score"],
                    r["dominant_hazard"])
    return reg
