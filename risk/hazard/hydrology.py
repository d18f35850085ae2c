"""Flow routing on a DEM: depression filling, D8 flow directions and flow accumulation.

Flow routing is global: water may cross the whole raster. To keep memory bounded on any area
it runs tile by tile (:func:`risk.blockwise.apply_tiled`): each tile of ``tile`` cells is routed
together with a ``halo`` of context on every side, and only the tile is kept.

Edge treatment (documented in ``docs/indicators.md``): the border of each window, and any cell
next to a no-data cell, is an outlet. So

* a depression that fits inside the window is filled exactly; one that reaches the window's edge
  drains there and is filled only up to that outlet (its depth is underestimated);
* flow accumulation counts the upslope area inside the window only: it is exact where the whole
  catchment of a cell lies within ``halo`` cells of its tile, and an underestimate for larger
  catchments (main rivers), which enter the indicators through the river network instead.

The kernel is Priority-Flood+ε (Barnes et al. 2014, *Computers & Geosciences* 62): cells are
flooded from the outlets inwards in order of elevation; a cell not higher than the cell that
reached it is raised to the next representable number above it, so every cell keeps a strictly
lower neighbour and D8 steepest descent is defined everywhere, flats and pits included. Flow is
then accumulated in topological order (Kahn's algorithm), O(n) after the O(n log n) flood.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_DR = np.array([-1, -1, -1, 0, 0, 1, 1, 1], dtype=np.int64)
_DC = np.array([-1, 0, 1, -1, 1, -1, 0, 1], dtype=np.int64)
_DIST = np.array([np.sqrt(2.0), 1.0, np.sqrt(2.0), 1.0, 1.0, np.sqrt(2.0), 1.0, np.sqrt(2.0)])


@njit(cache=True, nogil=True)
def _heap_push(keys, ids, size, key, idx):
    # Binary min-heap on (keys, ids) arrays; sift the hole up rather than swapping.
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        if key < keys[parent]:
            keys[i] = keys[parent]
            ids[i] = ids[parent]
            i = parent
        else:
            break
    keys[i] = key
    ids[i] = idx
    return size + 1


@njit(cache=True, nogil=True)
def _heap_pop(keys, ids, size):
    top = ids[0]
    size -= 1
    key = keys[size]
    idx = ids[size]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        if child + 1 < size and keys[child + 1] < keys[child]:
            child += 1
        if keys[child] < key:
            keys[i] = keys[child]
            ids[i] = ids[child]
            i = child
        else:
            break
    keys[i] = key
    ids[i] = idx
    return top, size


@njit(cache=True, nogil=True)
def fill_epsilon(dem):
    """Priority-Flood+ε: the DEM raised (as float64) so that every cell drains to an outlet.

    Outlets are the window border and cells next to no-data (NaN). NaN cells stay NaN.
    """
    h, w = dem.shape
    n = h * w
    z = np.empty(n, dtype=np.float64)
    flat = dem.ravel()
    for i in range(n):
        z[i] = flat[i]
    closed = np.zeros(n, dtype=np.uint8)
    keys = np.empty(n, dtype=np.float64)
    ids = np.empty(n, dtype=np.int32)
    pit = np.empty(n, dtype=np.int32)
    size = 0
    for i in range(n):
        if not np.isfinite(z[i]):
            closed[i] = 1
    for r in range(h):
        for c in range(w):
            i = r * w + c
            if closed[i]:
                continue
            edge = r == 0 or c == 0 or r == h - 1 or c == w - 1
            if not edge:
                for k in range(8):
                    j = (r + _DR[k]) * w + c + _DC[k]
                    if not np.isfinite(z[j]):
                        edge = True
                        break
            if edge:
                closed[i] = 1
                size = _heap_push(keys, ids, size, z[i], i)
    head = 0
    tail = 0
    while size > 0 or head < tail:
        if head < tail and not (size > 0 and keys[0] == z[pit[head]]):
            c_idx = pit[head]
            head += 1
        else:
            c_idx, size = _heap_pop(keys, ids, size)
        r = c_idx // w
        c = c_idx - r * w
        zc = z[c_idx]
        up = np.nextafter(zc, np.inf)
        for k in range(8):
            rr = r + _DR[k]
            cc = c + _DC[k]
            if rr < 0 or rr >= h or cc < 0 or cc >= w:
                continue
            j = rr * w + cc
            if closed[j]:
                continue
            closed[j] = 1
            if z[j] <= up:
                z[j] = up
                pit[tail] = j
                tail += 1
            else:
                size = _heap_push(keys, ids, size, z[j], j)
    return z.reshape(h, w)


@njit(cache=True, nogil=True)
def d8_receivers(z):
    """Index of each cell's steepest-descent neighbour (-1 for outlets and no-data)."""
    h, w = z.shape
    rec = np.full(h * w, -1, dtype=np.int32)
    for r in range(h):
        for c in range(w):
            zc = z[r, c]
            if not np.isfinite(zc):
                continue
            best = 0.0
            bj = -1
            for k in range(8):
                rr = r + _DR[k]
                cc = c + _DC[k]
                if rr < 0 or rr >= h or cc < 0 or cc >= w:
                    continue
                zn = z[rr, cc]
                if not np.isfinite(zn) or zn >= zc:
                    continue
                s = (zc - zn) / _DIST[k]
                if s > best:
                    best = s
                    bj = rr * w + cc
            rec[r * w + c] = bj
    return rec


@njit(cache=True, nogil=True)
def accumulate(rec, valid):
    """Number of cells draining through each cell (itself included), in topological order.

    float32 counts are exact up to 2**24 cells, far more than a routing window holds.
    """
    n = rec.size
    acc = np.zeros(n, dtype=np.float32)
    indeg = np.zeros(n, dtype=np.int32)
    for i in range(n):
        if valid[i]:
            acc[i] = 1.0
            if rec[i] >= 0:
                indeg[rec[i]] += 1
    queue = np.empty(n, dtype=np.int32)
    tail = 0
    for i in range(n):
        if valid[i] and indeg[i] == 0:
            queue[tail] = i
            tail += 1
    head = 0
    while head < tail:
        i = queue[head]
        head += 1
        j = rec[i]
        if j >= 0:
            acc[j] += acc[i]
            indeg[j] -= 1
            if indeg[j] == 0:
                queue[tail] = j
                tail += 1
    return acc


def route_window(dem):
    """Depression depth (m) and flow accumulation (cells) of one window, stacked as (2, h, w).

    Only the bounding box of the finite cells is routed (no-data cells around it change
    nothing: cells next to no data are outlets either way), so a window padded with NaN beyond
    the raster costs what its data costs. Peak memory is about 33 bytes per routed cell.
    """
    dem = np.asarray(dem, dtype="float32")
    finite = np.isfinite(dem)
    out = np.full((2, *dem.shape), np.nan, dtype=np.float32)
    rows = np.flatnonzero(finite.any(axis=1))
    if rows.size == 0:
        return out
    cols = np.flatnonzero(finite.any(axis=0))
    r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    _route(np.ascontiguousarray(dem[r0:r1, c0:c1]), out[:, r0:r1, c0:c1])
    return out


@njit(cache=True, nogil=True)
def _fill_depth_receivers(dem, out):
    # separate from _route so that the float64 filled surface is freed before accumulating
    h, w = dem.shape
    z = fill_epsilon(dem)
    for r in range(h):
        for c in range(w):
            d = z[r, c] - dem[r, c]
            out[0, r, c] = d if d > 1e-6 else (0.0 if np.isfinite(d) else np.nan)
    return d8_receivers(z)


@njit(cache=True, nogil=True)
def _route(dem, out):
    h, w = dem.shape
    rec = _fill_depth_receivers(dem, out)
    valid = np.isfinite(dem.ravel())
    acc = accumulate(rec, valid)
    for r in range(h):
        for c in range(w):
            i = r * w + c
            out[1, r, c] = acc[i] if valid[i] else np.nan
