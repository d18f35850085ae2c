"""Hidden-danger rectification (隐患整改): each point's status across survey rounds, and what is open too long.

A surveyed point is an **open hidden danger** in a round when its inspection failed, expired or is missing
(不合格/过期/未检) or, for a waterlogging spot, its ponding is ``open_depth_m`` or deeper; it is ``closed``
otherwise (passed, taken down, shallow). :func:`point_history` gives every point of this round its history:
when it was first surveyed, its status in each round, since when it has been open and for how many days;
:func:`join_history` puts it in the risk register. :func:`open_past_deadline` lists the points open longer than the deadline, worst risk first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from risk.followup.changes import BAD_INSPECTION

HISTORY_COLUMNS = ["previous_id", "change", "first_seen", "status", "status_history", "open_since", "days_open"]


def is_open(points, open_depth_m: float = 0.5) -> np.ndarray:
    """Whether each point is an open hidden danger (see the module docstring); bool array."""
    insp = points["inspection"].astype("string").fillna("").str.strip() if "inspection" in points else \
        pd.Series("", index=points.index)
    bad = insp.isin(BAD_INSPECTION).to_numpy().copy()
    if "max_depth_m" in points:
        depth = pd.to_numeric(points["max_depth_m"], errors="coerce").to_numpy(dtype="f8")
        wl = (points["category"].astype(str) == "waterlogging").to_numpy()
        bad |= wl & (np.nan_to_num(depth, nan=0.0) >= open_depth_m)
    return bad


def _key(cat, ident) -> pd.Series:
    return pd.Series(cat, dtype=str).str.cat(pd.Series(ident, dtype=str), sep="\x1f")


def point_history(current, previous, changes, date: str, previous_date: str,
                  previous_history: pd.DataFrame | None = None, open_depth_m: float = 0.5) -> pd.DataFrame:
    """Each point of this round with its history across rounds.

    Parameters
    ----------
    current, previous : geopandas.GeoDataFrame
        The survey points of this and the previous round (``category``, ``id``, ``inspection``, ``max_depth_m``).
    changes : pandas.DataFrame
        :func:`risk.followup.changes.match_rounds` of the two rounds (gives each current point its previous id).
    date, previous_date : str
        ISO dates of this and the previous round.
    previous_history : pandas.DataFrame, optional
        The previous round's own history (``category``, ``id``, ``first_seen``, ``open_since``,
        ``status_history``: its ``changes/point_history.csv``), when the previous round was itself compared to an
        earlier one: the history goes back through every round. A table without these columns is ignored.
    open_depth_m : float
        Ponding depth from which a waterlogging spot is open.

    Returns
    -------
    pandas.DataFrame
        ``category``, ``id`` and :data:`HISTORY_COLUMNS`, one row per point of this round with an id (the first
        of an id used twice): ``status`` ``open``/``closed`` in this round, ``status_history`` like
        ``2022-10-31 open; 2024-06-30 closed``, ``days_open`` (NaN when closed).
    """
    changes = changes.assign(id=changes["id"].fillna("").astype(str),
                             previous_id=changes["previous_id"].fillna("").astype(str))
    cur = pd.DataFrame({"category": current["category"].astype(str).to_numpy(),
                        "id": current["id"].map(lambda v: "" if pd.isna(v) else str(v).strip()).to_numpy(),
                        "_open": is_open(current, open_depth_m)})
    cur = cur[cur["id"].ne("")].drop_duplicates(["category", "id"]).reset_index(drop=True)
    prev_open = pd.Series(is_open(previous, open_depth_m),
                          index=_key(previous["category"], previous["id"]).to_numpy())
    prev_open = prev_open[~prev_open.index.duplicated()]
    paired = changes[changes["id"].astype(str).ne("") & changes["previous_id"].astype(str).ne("")
                     & changes["kind"].ne("ambiguous") & changes["kind"].ne("removed")]
    prev_of = pd.Series(paired["previous_id"].astype(str).to_numpy(),
                        index=_key(paired["category"], paired["id"]).to_numpy())
    kind_of = pd.Series(changes["kind"].to_numpy(), index=_key(changes["category"], changes["id"]).to_numpy())
    kind_of = kind_of[~kind_of.index.duplicated()]
    hist = None
    if previous_history is not None and len(previous_history) and \
            {"category", "id", "first_seen", "open_since", "status_history"} <= set(previous_history.columns):
        hist = previous_history.assign(_k=_key(previous_history["category"], previous_history["id"]).to_numpy())
        hist = hist.drop_duplicates("_k").set_index("_k")
    rows = []
    for k, cat, now_open in zip(_key(cur["category"], cur["id"]).to_numpy(), cur["category"], cur["_open"],
                                strict=True):
        status = "open" if now_open else "closed"
        pid = prev_of.get(k)
        pk = None if pid is None else _key([cat], [pid]).iloc[0]
        if pk is None or pk not in prev_open.index:
            first, since, past = date, (date if now_open else None), ""
        else:
            was_open = bool(prev_open[pk])
            h = hist.loc[pk] if hist is not None and pk in hist.index else None
            first = str(h["first_seen"]) if h is not None else previous_date
            past = str(h["status_history"]) if h is not None else f"{previous_date} {'open' if was_open else 'closed'}"
            prev_since = (str(h["open_since"]) if h is not None and isinstance(h["open_since"], str)
                          and h["open_since"] else (previous_date if was_open else None))
            since = (prev_since if was_open else date) if now_open else None
        rows.append({"previous_id": pid or "", "change": kind_of.get(k, ""), "first_seen": first, "status": status,
                     "status_history": (past + "; " if past else "") + f"{date} {status}", "open_since": since or ""})
    out = pd.concat([cur[["category", "id"]], pd.DataFrame(rows, columns=HISTORY_COLUMNS[:-1])], axis=1)
    since = pd.to_datetime(out["open_since"].replace("", None), errors="coerce")
    out["days_open"] = (pd.Timestamp(date) - since).dt.days.astype("float64")
    return out


def join_history(register, history: pd.DataFrame):
    """The risk register with :data:`HISTORY_COLUMNS` of :func:`point_history` joined on (category, id).

    ``history`` may come back from a CSV (empty text read as NaN): text columns are given back as text, so a
    point the history does not know gets empty text and NaN ``days_open``.
    """
    h = history.assign(_k=_key(history["category"], history["id"].astype(str)).to_numpy())
    h = h.drop_duplicates("_k").set_index("_k")
    keys = _key(register["category"], register["id"].astype(str)).to_numpy()
    out = register.copy()
    for c in HISTORY_COLUMNS:
        col = h[c].reindex(keys).to_numpy()
        out[c] = pd.to_numeric(col, errors="coerce") if c == "days_open" else \
            pd.Series(col, index=out.index).fillna("").astype(str).to_numpy()
    return out


def open_past_deadline(history, deadline_days: float) -> pd.DataFrame:
    """Points still open after more than ``deadline_days`` days, worst risk first (level, score, days open)."""
    keep = history[(history["status"] == "open") & (history["days_open"] > deadline_days)]
    keep = keep.sort_values(["risk_level", "risk_score", "days_open"], ascending=False, kind="stable")
    cols = [c for c in ("rank", "category", "category_zh", "id", "previous_id", "name", "township", "risk_level",
                        "risk_level_label", "risk_score", "dominant_hazard", "first_seen", "open_since",
                        "days_open", "status_history", "x", "y") if c in keep.columns]
    return pd.DataFrame(keep[cols]).reset_index(drop=True)
