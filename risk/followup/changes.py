"""What changed between two survey rounds: points matched by id, then by category and distance.

Every point of either round ends in exactly one row of :func:`match_rounds`, with a ``kind``:

* ``new`` -- in this round only; ``removed`` -- in the previous round only;
* ``moved`` -- same id, now more than ``tolerance_m`` (and at most ``max_move_m``) away;
* ``rematched`` -- a new id, but the only point of its category within ``tolerance_m`` of a previous point
  that lost its id (and that point's only candidate): the same point renumbered;
* ``rectified`` -- inspection passed (or the structure taken down, 检测情况/检验状态 ``已拆除``) where it had
  failed, expired or was missing (不合格/过期/未检), or the waterlogging depth fell by more than
  ``depth_tolerance_m``; ``worsened`` -- the opposite;
* ``unchanged`` -- the same point, nothing of the above;
* ``ambiguous`` -- what cannot be matched safely, with the reason in ``note``: an id used in both rounds for
  points of different categories, more than ``max_move_m`` apart, or moved beyond ``tolerance_m`` under another
  name; an id twice in one round; or a point with several candidates within the tolerance. Nothing is silently
  paired.

A change of attributes wins over a change of place (a moved point that was also rectified is ``rectified``;
``distance_m`` still says how far it moved, ``match`` how it was matched).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from risk import CATEGORY_LABELS
from risk.assessment.vulnerability import TAKEN_DOWN
from risk.errors import InputError

KINDS = ("new", "removed", "moved", "rematched", "rectified", "worsened", "unchanged", "ambiguous")
KIND_LABELS = {
    "new": ("新增", "New"), "removed": ("消失", "Removed"), "moved": ("位置变动", "Moved"),
    "rematched": ("编号变更", "Renumbered (matched by place)"), "rectified": ("已整改", "Rectified"),
    "worsened": ("隐患加重", "Worsened"), "unchanged": ("无变化", "Unchanged"), "ambiguous": ("待核实", "Ambiguous"),
}
BAD_INSPECTION = ("不合格", "过期", "未检")
COLUMNS = ["kind", "kind_zh", "category", "category_zh", "id", "previous_id", "township", "name", "match",
           "distance_m", "note", "x", "y", "previous_x", "previous_y"]


class RoundMismatch(InputError):
    """Two rounds that cannot be compared as they are (no CRS, geographic CRS, different categories, no overlap)."""


def align_rounds(prev, cur, prev_categories=None, cur_categories=None, max_gap_m: float = 10_000.0):
    """``prev`` in ``cur``'s CRS, after checking that the two rounds can be compared.

    Parameters
    ----------
    prev, cur : geopandas.GeoDataFrame
        Points of the previous and this round (``category``, ``id``, point geometry).
    prev_categories, cur_categories : iterable of str, optional
        The categories each round surveyed (its survey database's layers); by default the categories of its
        points.
    max_gap_m : float
        Two rounds whose points lie farther apart than this (between their bounding boxes) are not of one area.

    Returns
    -------
    prev : geopandas.GeoDataFrame
        Reprojected to ``cur.crs`` when it was in another CRS.
    note : str
        What was done ("" when nothing).

    Raises
    ------
    RoundMismatch
        A round without a CRS, a CRS in degrees, category sets that differ (naming each category and the round
        that lacks it), or rounds that do not overlap (a wrong CRS, another area).
    """
    for name, g in (("previous round", prev), ("this round", cur)):
        if g.crs is None:
            raise RoundMismatch(f"the {name}'s survey points have no CRS: cannot compare positions")
    if not cur.crs.is_projected:
        raise RoundMismatch(f"this round's CRS {cur.crs.to_string()} is not projected (metres): the match "
                            "tolerance needs metres")
    pc = set(prev_categories if prev_categories is not None else prev["category"].astype(str))
    cc = set(cur_categories if cur_categories is not None else cur["category"].astype(str))
    if pc != cc:
        parts = []
        if pc - cc:
            parts.append("only in the previous round: " + ", ".join(sorted(pc - cc)))
        if cc - pc:
            parts.append("only in this round: " + ", ".join(sorted(cc - pc)))
        raise RoundMismatch("the two rounds surveyed different categories (" + "; ".join(parts) + "): every point "
                            "of such a category would read as new or removed. Survey the same categories, or "
                            "compare only the shared ones")
    note = ""
    if prev.crs != cur.crs:
        note = f"previous round reprojected from {prev.crs.to_string()} to {cur.crs.to_string()}"
        prev = prev.to_crs(cur.crs)
    if len(prev) and len(cur):
        (a0, b0, a1, b1), (c0, d0, c1, d1) = prev.total_bounds, cur.total_bounds
        gap = max(c0 - a1, a0 - c1, d0 - b1, b0 - d1, 0.0)
        if not np.isfinite(gap) or gap > max_gap_m:
            raise RoundMismatch(f"the two rounds do not overlap (their points are {gap / 1000:.0f} km apart, in "
                                f"{cur.crs.to_string()}): a round in another area, or with a wrong CRS?")
    return prev, note


def _text(v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    return str(v).strip()


def _inspection_state(v) -> str:
    """``bad``, ``good``, ``down`` (taken down) or ``""`` (not recorded)."""
    t = _text(v)
    if not t:
        return ""
    if TAKEN_DOWN in t:
        return "down"
    return "bad" if t in BAD_INSPECTION else "good"


def attribute_change(prev_row, cur_row, depth_tolerance_m: float = 0.05) -> tuple[str, str]:
    """``("rectified" | "worsened" | "", note)`` between two records of one point."""
    a, b = _inspection_state(prev_row.get("inspection")), _inspection_state(cur_row.get("inspection"))
    if b == "down" and a != "down":
        return "rectified", f"taken down 已拆除 (inspection was {_text(prev_row.get('inspection')) or 'not recorded'})"
    if a == "bad" and b == "good":
        return "rectified", f"inspection {_text(prev_row.get('inspection'))} -> {_text(cur_row.get('inspection'))}"
    if a in ("good", "down") and b == "bad":
        return "worsened", f"inspection {_text(prev_row.get('inspection'))} -> {_text(cur_row.get('inspection'))}"
    da = pd.to_numeric(prev_row.get("max_depth_m"), errors="coerce")
    db = pd.to_numeric(cur_row.get("max_depth_m"), errors="coerce")
    if np.isfinite(da) and np.isfinite(db):
        if db < da - depth_tolerance_m:
            return "rectified", f"max depth {da:g} -> {db:g} m"
        if db > da + depth_tolerance_m:
            return "worsened", f"max depth {da:g} -> {db:g} m"
    return "", ""


def _row(kind, cat, cur=None, prev=None, match="", dist=np.nan, note=""):
    src = cur if cur is not None else prev
    return {
        "kind": kind, "kind_zh": KIND_LABELS[kind][0], "category": cat,
        "category_zh": CATEGORY_LABELS.get(cat, (cat, cat))[0],
        "id": _text(cur.get("id")) if cur is not None else _text(prev.get("id")),
        "previous_id": _text(prev.get("id")) if prev is not None else "",
        "township": _text(src.get("township")), "name": _text(src.get("name")), "match": match,
        "distance_m": round(float(dist), 2) if np.isfinite(dist) else np.nan, "note": note,
        "x": float(cur.geometry.x) if cur is not None else np.nan,
        "y": float(cur.geometry.y) if cur is not None else np.nan,
        "previous_x": float(prev.geometry.x) if prev is not None else np.nan,
        "previous_y": float(prev.geometry.y) if prev is not None else np.nan,
    }


def _paired(kind_attr, note_attr, match, dist, tolerance_m):
    if kind_attr:
        return kind_attr, note_attr
    if match == "id" and dist > tolerance_m:
        return "moved", f"moved {dist:.0f} m"
    if match == "distance":
        return "rematched", f"matched by category and distance ({dist:.1f} m)"
    return "unchanged", ""


def match_rounds(prev, cur, tolerance_m: float = 50.0, max_move_m: float = 1000.0,
                 depth_tolerance_m: float = 0.05, prev_categories=None, cur_categories=None):
    """Every point of two survey rounds, matched and classified (see the module docstring).

    Parameters
    ----------
    prev, cur : geopandas.GeoDataFrame
        Points of the previous and this round: ``category``, ``id``, point geometry, and where surveyed
        ``inspection``, ``max_depth_m``, ``township``, ``name``.
    tolerance_m : float
        A point within this distance of its previous position has not moved; points that lost their id are
        matched within it.
    max_move_m : float
        An id whose two points are farther apart than this is reported as reused (``ambiguous``), not moved.
    depth_tolerance_m : float
        Smallest change of ``max_depth_m`` that counts.
    prev_categories, cur_categories : iterable of str, optional
        Categories each round surveyed (:func:`align_rounds`).

    Returns
    -------
    changes : geopandas.GeoDataFrame
        :data:`COLUMNS`, geometry at the current position (the previous one for ``removed``), sorted by
        category, kind and id.
    note : str
        What :func:`align_rounds` did to the previous round ("" when nothing).
    """
    import geopandas as gpd
    from scipy.spatial import cKDTree

    prev, note = align_rounds(prev, cur, prev_categories, cur_categories)
    prev = prev.reset_index(drop=True)
    cur = cur.reset_index(drop=True)
    prev_ids, cur_ids = prev["id"].map(_text), cur["id"].map(_text)
    rows = []
    free_prev = np.ones(len(prev), dtype=bool)
    free_cur = np.ones(len(cur), dtype=bool)
    for ids, frame, free, which in ((prev_ids, prev, free_prev, "the previous round"), (cur_ids, cur, free_cur,
                                                                                   "this round")):
        dup = ids.duplicated(keep=False) & (ids != "")
        for i in np.flatnonzero(dup.to_numpy()):
            free[i] = False
            r = frame.iloc[i]
            rows.append(_row("ambiguous", str(r["category"]), cur=r if which == "this round" else None,
                             prev=r if which != "this round" else None,
                             note=f"id {ids.iloc[i]} used for {int((ids == ids.iloc[i]).sum())} points in {which}"))
    # 1. by id
    where_prev = {v: i for i, v in enumerate(prev_ids) if v and free_prev[i]}
    for j, v in enumerate(cur_ids):
        i = where_prev.get(v)
        if not v or i is None or not free_cur[j]:
            continue
        p, c = prev.iloc[i], cur.iloc[j]
        free_prev[i] = free_cur[j] = False
        dist = float(p.geometry.distance(c.geometry))
        if str(p["category"]) != str(c["category"]):
            why = f"id {v} is a {p['category']} in the previous round and a {c['category']} in this one"
            rows.append(_row("ambiguous", str(c["category"]), cur=c, match="id", dist=dist, note=why))
            rows.append(_row("ambiguous", str(p["category"]), prev=p, match="id", dist=dist, note=why))
            continue
        if dist > max_move_m:
            why = f"id {v} reused {dist:.0f} m away (more than max_move_m {max_move_m:g} m): a different point?"
            rows.append(_row("ambiguous", str(c["category"]), cur=c, prev=p, match="id", dist=dist, note=why))
            continue
        na, nb = _text(p.get("name")), _text(c.get("name"))
        if dist > tolerance_m and na and nb and na != nb:
            why = f"id {v} moved {dist:.0f} m and renamed {na} -> {nb}: the same point, or the id reused?"
            rows.append(_row("ambiguous", str(c["category"]), cur=c, prev=p, match="id", dist=dist, note=why))
            continue
        kind, why = _paired(*attribute_change(p, c, depth_tolerance_m), "id", dist, tolerance_m)
        rows.append(_row(kind, str(c["category"]), cur=c, prev=p, match="id", dist=dist, note=why))
    # 2. what is left: by category and distance, only unique mutual candidates
    for cat in sorted(set(prev["category"].astype(str)) | set(cur["category"].astype(str))):
        pi = np.flatnonzero(free_prev & (prev["category"].astype(str) == cat).to_numpy())
        ci = np.flatnonzero(free_cur & (cur["category"].astype(str) == cat).to_numpy())
        cand_p = {int(i): [] for i in pi}
        cand_c = {int(j): [] for j in ci}
        if len(pi) and len(ci):
            pxy = np.column_stack([prev.geometry.x.to_numpy()[pi], prev.geometry.y.to_numpy()[pi]])
            cxy = np.column_stack([cur.geometry.x.to_numpy()[ci], cur.geometry.y.to_numpy()[ci]])
            for a, near in enumerate(cKDTree(cxy).query_ball_point(pxy, r=tolerance_m)):
                for b in near:
                    cand_p[int(pi[a])].append(int(ci[b]))
                    cand_c[int(ci[b])].append(int(pi[a]))
        for i, cs in cand_p.items():
            p = prev.iloc[i]
            if not cs:
                rows.append(_row("removed", cat, prev=p))
            elif len(cs) == 1 and len(cand_c[cs[0]]) == 1:
                c = cur.iloc[cs[0]]
                dist = float(p.geometry.distance(c.geometry))
                kind, why = _paired(*attribute_change(p, c, depth_tolerance_m), "distance", dist, tolerance_m)
                if kind != "rematched":
                    why = f"{why}; renumbered {_text(p.get('id'))} -> {_text(c.get('id'))}"
                rows.append(_row(kind, cat, cur=c, prev=p, match="distance", dist=dist, note=why))
            else:
                others = sorted({_text(cur.iloc[j].get("id")) for j in cs})
                rows.append(_row("ambiguous", cat, prev=p, note="several points of this round within "
                                 f"{tolerance_m:g} m of a previous point that lost its id: " + ", ".join(others)))
        for j, ps in cand_c.items():
            c = cur.iloc[j]
            if not ps:
                rows.append(_row("new", cat, cur=c))
            elif not (len(ps) == 1 and len(cand_p[ps[0]]) == 1):
                others = sorted({_text(prev.iloc[i].get("id")) for i in ps})
                rows.append(_row("ambiguous", cat, cur=c, note="several points of the previous round within "
                                 f"{tolerance_m:g} m of a new id: " + ", ".join(others)))
    out = pd.DataFrame(rows, columns=COLUMNS)
    order = {k: n for n, k in enumerate(KINDS)}
    out = out.assign(_k=out["kind"].map(order)).sort_values(["category", "_k", "id", "previous_id"],
                                                            kind="stable").drop(columns="_k")
    out = out.reset_index(drop=True)
    x = out["x"].where(out["x"].notna(), out["previous_x"])
    y = out["y"].where(out["y"].notna(), out["previous_y"])
    return gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(x, y), crs=cur.crs), note


def change_counts(changes) -> pd.DataFrame:
    """Points per township, category and kind (one column per kind, a ``total`` row per category)."""
    t = changes.assign(township=changes["township"].replace("", "(未填 not given)"))
    table = (t.groupby(["township", "category", "kind"]).size().unstack("kind", fill_value=0)
             .reindex(columns=list(KINDS), fill_value=0).reset_index())
    total = table.groupby("category", as_index=False)[list(KINDS)].sum().assign(township="合计 total")
    out = pd.concat([table, total[table.columns]], ignore_index=True)
    out.columns.name = None
    return out
