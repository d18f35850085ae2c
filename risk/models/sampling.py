"""Training samples for presence-background susceptibility models.

Scheme (documented in ``docs/models.md``):

* **Presences**: the event points (or the waterlogging survey spots), snapped to grid cells and
  de-duplicated to one presence per cell; points off the grid or on a cell where an indicator is
  NaN (outside the study area) are dropped.
* **Background**: cells drawn uniformly at random without replacement from the study area
  (cells where every indicator is finite), excluding presence cells and, with ``exclusion_m``, the
  cells within that distance of a presence. Their number is
  ``clip(ratio × n_presence, min_background, max_background)`` (defaults 10×, 1,000, 5,000): enough
  to describe the available environment, few enough to train in seconds. Draws are rejection
  samples on random cell indices, so a grid of any size is never loaded whole.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from risk.grid import Grid
from risk.hazard.point_rasters import values_at_cells


def presence_cells(xs, ys, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """Unique ``(rows, cols)`` of the cells holding the points (points off the grid dropped)."""
    rows, cols = grid.rowcol(xs, ys)
    keep = grid.inside(rows, cols)
    flat = np.unique(rows[keep] * grid.width + cols[keep])
    return flat // grid.width, flat % grid.width


def n_background(n_presence: int, ratio: float = 10.0, min_background: int = 1000,
                 max_background: int = 5000) -> int:
    """Number of background cells for ``n_presence`` presences (see the module docstring)."""
    return int(np.clip(round(ratio * n_presence), min_background, max_background))


def _exclusion_flat(rows, cols, grid: Grid, radius_cells: int) -> np.ndarray:
    if radius_cells <= 0 or len(rows) == 0:
        return np.asarray(rows, dtype=np.int64) * grid.width + np.asarray(cols, dtype=np.int64)
    dr, dc = np.mgrid[-radius_cells:radius_cells + 1, -radius_cells:radius_cells + 1]
    disk = dr ** 2 + dc ** 2 <= radius_cells ** 2
    dr, dc = dr[disk], dc[disk]
    rr = (np.asarray(rows)[:, None] + dr[None, :]).ravel()
    cc = (np.asarray(cols)[:, None] + dc[None, :]).ravel()
    ok = grid.inside(rr, cc)
    return np.unique(rr[ok] * grid.width + cc[ok])


def _candidates(grid: Grid, k: int, rng: np.random.Generator, excluded: np.ndarray) -> np.ndarray:
    cand = rng.choice(grid.size, size=min(grid.size, k), replace=False)
    return cand[~np.isin(cand, excluded)]


def sample_background(features: list[xr.DataArray], grid: Grid, n: int, presence_rows=(), presence_cols=(),
                      exclusion_m: float = 0.0, seed: int = 0, max_rounds: int = 20, extra=None):
    """Background cells and their feature values.

    ``extra`` (rows, cols), optional: cells whose features are read in the same pass as the first
    round of candidates (one read of every block instead of two); their values come back as a
    fourth item.

    Returns
    -------
    rows, cols : numpy.ndarray
        Cells drawn (at most ``n``; fewer only if the study area has fewer valid cells).
    X : numpy.ndarray
        ``(len(rows), n_features)`` float32 feature values, all finite.
    """
    rng = np.random.default_rng(seed)
    excluded = _exclusion_flat(np.asarray(presence_rows, dtype=np.int64), np.asarray(presence_cols, dtype=np.int64),
                               grid, int(np.ceil(exclusion_m / grid.res)) if exclusion_m > 0 else 0)
    taken = np.empty(0, dtype=np.int64)
    got_rows, got_cols, got_x = [], [], []
    have = 0
    extra_x = None
    for _ in range(max_rounds):
        need = n - have
        if need <= 0:
            break
        # Oversample: cells outside the study area (NaN features) are rejected.
        cand = _candidates(grid, max(3 * need, 256), rng, np.concatenate([excluded, taken]))
        if cand.size == 0:
            continue
        r, c = cand // grid.width, cand % grid.width
        if extra is not None and extra_x is None:
            er, ec = (np.asarray(a, dtype=np.int64) for a in extra)
            both = values_at_cells(features, np.concatenate([er, r]), np.concatenate([ec, c]))
            extra_x, X = both[:er.size], both[er.size:]
        else:
            X = values_at_cells(features, r, c)
        ok = np.all(np.isfinite(X), axis=1)
        taken = np.concatenate([taken, cand])
        r, c, X = r[ok][:need], c[ok][:need], X[ok][:need]
        got_rows.append(r)
        got_cols.append(c)
        got_x.append(X)
        have += r.size
    if extra is not None and extra_x is None:
        extra_x = values_at_cells(features, *extra)
    if not got_rows:
        out = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty((0, len(features)), "f4"))
    else:
        out = (np.concatenate(got_rows), np.concatenate(got_cols), np.concatenate(got_x))
    return (*out, extra_x) if extra is not None else out


def training_table(features: list[xr.DataArray], grid: Grid, xs, ys, *, ratio: float = 10.0,
                   min_background: int = 1000, max_background: int = 5000, exclusion_m: float = 0.0,
                   seed: int = 0):
    """Presence and background samples with their features, cell centres and labels.

    Returns
    -------
    X : numpy.ndarray
        ``(n, n_features)`` float32.
    y : numpy.ndarray
        1 for presence, 0 for background.
    cx, cy : numpy.ndarray
        Cell-centre coordinates (CRS units) of each sample.
    """
    pr, pc = presence_cells(xs, ys, grid)
    nb = n_background(pr.size, ratio, min_background, max_background)
    # Presences are read in the same pass over the blocks as the first background candidates.
    br, bc, Xb, Xp = sample_background(features, grid, nb, pr, pc, exclusion_m, seed, extra=(pr, pc))
    ok = np.all(np.isfinite(Xp), axis=1)
    pr, pc, Xp = pr[ok], pc[ok], Xp[ok]
    if pr.size < 10:
        raise ValueError(f"only {pr.size} presence cell(s) inside the study area: at least 10 are needed to "
                         "train a susceptibility model (switch the hazard to index mode)")
    rows = np.concatenate([pr, br])
    cols = np.concatenate([pc, bc])
    X = np.concatenate([Xp, Xb]).astype("f4")
    y = np.concatenate([np.ones(pr.size, "i1"), np.zeros(br.size, "i1")])
    cx = grid.xmin + (cols + 0.5) * grid.res
    cy = grid.ymax - (rows + 0.5) * grid.res
    return X, y, cx, cy
