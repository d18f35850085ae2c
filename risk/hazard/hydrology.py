"""Flow routing on a DEM: depression filling, D8 flow directions and flow accumulation, exact at any size.

Flow routing is global: water may cross the whole raster. :func:`route` computes it exactly
(the same, cell for cell, as routing the whole raster at once) while holding one tile per worker,
on tiles that exchange only their edges (Barnes 2016, "Parallel Priority-Flood"; Barnes 2017,
"Parallel non-divergent flow accumulation"); see ``docs/indicators.md``:

1. per tile, a labelled Priority-Flood from the perimeter and its label graph, kept as a minimum
   spanning forest; minimax levels over all tiles' labels (Kruskal's order, union-find) give every
   perimeter cell its filled level; each tile is
   flooded again from its perimeter at those levels (:func:`_label_flood`, :func:`_spanning_forest`,
   :func:`_spill_levels`, :func:`_seeded_fill`);
2. flats drain to their nearest exit: a per-tile breadth-first distance, tiles whose flats cross
   their edge exchanging perimeter distances until none changes (:func:`_flat_distance`); D8
   steepest descent with ties resolved by that distance (:func:`_receivers`) is D8 on the
   Priority-Flood+ε surface;
3. per tile, accumulation and the paths leaving it; the tiles' exits chained downstream give
   the flow entering each tile, which is accumulated once more (:func:`_accumulate_tile`, :func:`_chain`).

Outlets are the raster's edge and every cell next to no data (NaN). The one-window kernel
(:func:`route_window`: Priority-Flood+ε, Barnes et al. 2014, *Computers & Geosciences* 62, then
D8 and Kahn's topological accumulation) routes a whole in-memory raster at once; it is the
reference the tiles reproduce whenever no two cells tie (on exact ties its flats follow its heap's
order among equal keys). The kernels are hand-written numba because no library offers tiles that
exchange edges (pyflwdir, pysheds and richdem route whole in-memory rasters).
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit, types
from numba.typed import Dict

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
    _drain_downstream(queue, tail, rec, acc, indeg)
    return acc


def route_window(dem):
    """Depression depth (m) and flow accumulation (cells) of one in-memory window, stacked as (2, h, w).

    The whole window is routed at once (Priority-Flood+ε, D8, float32 counts): the one-window
    reference for :func:`route`.

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


# -- exact routing on tiles that exchange only their edges ---------------------------------------
# Windows are a tile plus a one-cell ring (NaN beyond the raster); cell i of a window of width
# w2 has its 8 neighbours at i + _DR[k] * w2 + _DC[k]. Only tile cells are routed; the ring
# holds the neighbours' values that the global edge solutions provide.
_INF = np.iinfo(np.int64).max // 4
_WALL = np.float32(3e38)


@njit(cache=True, nogil=True)
def _is_outlet(z, i, w2):
    for k in range(8):
        if not np.isfinite(z[i + _DR[k] * w2 + _DC[k]]):
            return True
    return False


@njit(cache=True, nogil=True)
def _label_flood(zw):
    """Barnes (2016) step 1: Priority-Flood of one tile from its perimeter, with watershed labels.

    Label 0 is the ocean (outlets: cells next to no data, the raster's edge included); every
    other perimeter cell starts a label of its own (1, 2, ...). Returns the labels of the window
    (-1 on the ring and no data) and the label graph: for every pair of labels that touch, the
    lowest level (max of the two locally filled cells) at which water crosses between them.
    """
    h2, w2 = zw.shape
    h, w = h2 - 2, w2 - 2
    n = h2 * w2
    z = zw.ravel()
    zl = np.empty(n, dtype=np.float32)
    lab = np.full(n, -1, dtype=np.int32)
    closed = np.ones(n, dtype=np.uint8)
    keys = np.empty(n, dtype=np.float32)
    ids = np.empty(n, dtype=np.int32)
    pit = np.empty(n, dtype=np.int32)
    size = 0
    nlab = 1
    for r in range(1, h + 1):
        for c in range(1, w + 1):
            i = r * w2 + c
            zl[i] = z[i]
            if not np.isfinite(z[i]):
                continue
            if _is_outlet(z, i, w2):
                lab[i] = 0
            elif r == 1 or c == 1 or r == h or c == w:
                lab[i] = nlab
                nlab += 1
            else:
                closed[i] = 0
                continue
            size = _heap_push(keys, ids, size, z[i], i)
    best = Dict.empty(key_type=types.int64, value_type=types.float32)
    head = 0
    tail = 0
    while size > 0 or head < tail:
        if head < tail:
            ci = pit[head]
            head += 1
        else:
            ci, size = _heap_pop(keys, ids, size)
        zc = zl[ci]
        lc = lab[ci]
        for k in range(8):
            j = ci + _DR[k] * w2 + _DC[k]
            if closed[j]:
                lj = lab[j]
                if lj >= 0 and lj != lc:
                    key = min(lc, lj) * np.int64(nlab) + max(lc, lj)
                    wgt = max(zc, zl[j])
                    if key not in best or wgt < best[key]:
                        best[key] = wgt
                continue
            closed[j] = 1
            lab[j] = lc
            if z[j] <= zc:
                zl[j] = zc
                pit[tail] = j
                tail += 1
            else:
                zl[j] = z[j]
                size = _heap_push(keys, ids, size, z[j], j)
    m = len(best)
    ea = np.empty(m, dtype=np.int64)
    eb = np.empty(m, dtype=np.int64)
    ew = np.empty(m, dtype=np.float32)
    e = 0
    for key, wgt in best.items():
        ea[e] = key // nlab
        eb[e] = key % nlab
        ew[e] = wgt
        e += 1
    return lab.reshape(h2, w2), nlab, ea, eb, ew


@njit(cache=True, nogil=True)
def _find(parent, a):
    while parent[a] != a:
        parent[a] = parent[parent[a]]
        a = parent[a]
    return a


@njit(cache=True, nogil=True)
def _spill_levels(nlab, ea, eb, ew):
    """Barnes (2016) step 2: the water level of every label, flooding the label graph from the ocean.

    The level of a label is the lowest, over paths to the ocean (label 0), of the highest crossing on
    the path (a minimax path). Kruskal's order gives it with no adjacency lists: the edges joined
    lowest first, a label's level is the crossing at which its component first joins the ocean's
    (union-find; each component keeps the list of its labels). About 17 bytes a label and the edge
    order (8 bytes an edge); a minimax Dijkstra over the graph needed about 5 times that.
    """
    parent = np.arange(nlab, dtype=np.int32)
    nxt = np.full(nlab, -1, dtype=np.int32)  # each component's labels as a linked list
    last = np.arange(nlab, dtype=np.int32)
    wet = np.zeros(nlab, dtype=np.uint8)  # the component holds the ocean
    wet[0] = 1
    level = np.full(nlab, np.inf, dtype=np.float32)
    level[0] = -np.inf
    for e in np.argsort(ew, kind="mergesort"):
        a = _find(parent, ea[e])
        b = _find(parent, eb[e])
        if a == b:
            continue
        if wet[a] != wet[b]:  # a dry component reaches the ocean at this crossing
            i = b if wet[a] else a
            while i >= 0:
                level[i] = ew[e]
                i = nxt[i]
        if b < a:
            a, b = b, a
        parent[b] = a
        nxt[last[a]] = b
        last[a] = last[b]
        wet[a] |= wet[b]
    return level


@njit(cache=True, nogil=True)
def _spanning_forest(nlab, ea, eb, ew):
    """The edges of a minimum spanning forest of a label graph (Kruskal, union-find), as int32 labels.

    Levels from :func:`_spill_levels` depend only on the minimax (bottleneck) paths between labels, and
    a minimum spanning forest keeps every such path's value: an edge left out is the highest of a cycle,
    so some path avoiding it crosses no higher. A tile's graph has several edges per label, its forest
    fewer than one; the graph of all tiles, which grows with the area, shrinks accordingly.
    """
    parent = np.arange(nlab, dtype=np.int32)
    keep = np.zeros(ea.size, dtype=np.bool_)
    for e in np.argsort(ew, kind="mergesort"):
        a = _find(parent, ea[e])
        b = _find(parent, eb[e])
        if a != b:
            parent[max(a, b)] = min(a, b)
            keep[e] = True
    return ea[keep].astype(np.int32), eb[keep].astype(np.int32), ew[keep]


@njit(cache=True, nogil=True)
def _seeded_fill(fw, zw):
    """Barnes (2016) step 3: Priority-Flood of the tile from its perimeter cells at their global levels.

    ``fw`` holds the ring (neighbours' filled levels) and, on the tile's perimeter, the global
    filled level; the interior is raised in place to its exact filled level.
    """
    h2, w2 = fw.shape
    h, w = h2 - 2, w2 - 2
    n = h2 * w2
    f = fw.ravel()
    z = zw.ravel()
    closed = np.ones(n, dtype=np.uint8)
    keys = np.empty(n, dtype=np.float32)
    ids = np.empty(n, dtype=np.int32)
    pit = np.empty(n, dtype=np.int32)
    size = 0
    for r in range(1, h + 1):
        for c in range(1, w + 1):
            i = r * w2 + c
            if not np.isfinite(z[i]):
                continue
            if r == 1 or c == 1 or r == h or c == w or _is_outlet(z, i, w2):
                size = _heap_push(keys, ids, size, f[i], i)
            else:
                closed[i] = 0
    head = 0
    tail = 0
    while size > 0 or head < tail:
        if head < tail:
            ci = pit[head]
            head += 1
        else:
            ci, size = _heap_pop(keys, ids, size)
        fc = f[ci]
        for k in range(8):
            j = ci + _DR[k] * w2 + _DC[k]
            if closed[j]:
                continue
            closed[j] = 1
            if f[j] <= fc:
                f[j] = fc
                pit[tail] = j
                tail += 1
            else:
                size = _heap_push(keys, ids, size, f[j], j)


@njit(cache=True, nogil=True)
def _flat_distance(fw, zw, dw):
    """Steps from every tile cell to the nearest exit of its flat, over cells of equal filled level.

    Exits (distance 0) are outlets and cells with a lower neighbour; ``dw``'s ring holds the
    neighbours' distances (``_INF`` unknown) and the tile is written in place. Returns whether
    a flat reaches the ring (the tile's distances then depend on its neighbours').
    """
    h2, w2 = fw.shape
    h, w = h2 - 2, w2 - 2
    n = h2 * w2
    f = fw.ravel()
    z = zw.ravel()
    d = dw.ravel()
    for r in range(1, h + 1):
        for c in range(1, w + 1):
            i = r * w2 + c
            fc = f[i]
            d[i] = _INF
            if not np.isfinite(fc):
                continue
            if _is_outlet(z, i, w2):
                d[i] = 0
            else:
                for k in range(8):
                    if f[i + _DR[k] * w2 + _DC[k]] < fc:
                        d[i] = 0
                        break
    # a FIFO queue with re-entry on improvement (unit steps: BFS, exact also with the ring's
    # distances as extra sources); sources are exits next to a flat cell and the ring's known cells
    queue = np.empty(n + 1, dtype=np.int64)
    inq = np.zeros(n, dtype=np.uint8)
    tail = 0
    shared = False
    for i in range(n):
        r = i // w2
        c = i - r * w2
        ring = r == 0 or c == 0 or r == h2 - 1 or c == w2 - 1
        if not np.isfinite(f[i]) or (d[i] >= _INF and not ring):
            continue
        for k in range(8):
            rr = r + _DR[k]
            cc = c + _DC[k]
            if rr < 1 or rr > h or cc < 1 or cc > w:
                continue
            j = rr * w2 + cc
            if d[j] == _INF and f[j] == f[i]:
                shared = shared or ring
                if d[i] >= _INF:
                    break
                queue[tail] = i
                tail += 1
                inq[i] = 1
                break
    head = 0
    count = tail
    while count > 0:
        i = queue[head]
        head = head + 1 if head < n else 0
        count -= 1
        inq[i] = 0
        r = i // w2
        c = i - r * w2
        nd = d[i] + 1
        for k in range(8):
            rr = r + _DR[k]
            cc = c + _DC[k]
            if rr < 1 or rr > h or cc < 1 or cc > w:
                continue
            j = rr * w2 + cc
            if f[j] == f[i] and d[j] > nd:
                d[j] = nd
                if not inq[j]:
                    inq[j] = 1
                    queue[tail] = j
                    tail = tail + 1 if tail < n else 0
                    count += 1
    return shared


@njit(cache=True, nogil=True)
def _on_ring(i, h2, w2):
    r = i // w2
    c = i - r * w2
    return r == 0 or c == 0 or r == h2 - 1 or c == w2 - 1


@njit(cache=True, nogil=True)
def _receivers(fw, dw):
    """D8 steepest descent on the filled surface, ties and flats resolved by the flat distance.

    This is D8 on the Priority-Flood+ε surface (a flat cell ``d`` steps from its exit sits ``d``
    ulps above the flat): the steepest drop wins; between equal drops into one flat the cell
    nearer its exit; a flat cell drains to a neighbour one step nearer the exit, a cardinal one
    first. Returns, per tile cell (row-major), the tile index of its receiver, -1 for none (an
    outlet) or -2 - (window index) for a ring cell; and whether a ring distance was read.
    """
    h2, w2 = fw.shape
    h, w = h2 - 2, w2 - 2
    f = fw.ravel()
    d = dw.ravel()
    rec = np.full(h * w, -1, dtype=np.int64)
    ring = False
    for r in range(1, h + 1):
        for c in range(1, w + 1):
            i = r * w2 + c
            fc = f[i]
            if not np.isfinite(fc):
                continue
            best = 0.0
            bj = -1
            for k in range(8):
                j = i + _DR[k] * w2 + _DC[k]
                fn = f[j]
                if not (fn < fc):
                    continue
                s = (fc - fn) / _DIST[k]
                if s > best:
                    best = s
                    bj = j
                elif s == best and fn == f[bj]:
                    # equal drops into one level: the ε surface prefers the cell nearer its exit
                    ring = ring or _on_ring(j, h2, w2) or _on_ring(bj, h2, w2)
                    if d[j] < d[bj]:
                        bj = j
            if bj < 0 and d[i] > 0 and d[i] < _INF:
                best = 0.0
                for k in range(8):
                    rr = r + _DR[k]
                    cc = c + _DC[k]
                    j = rr * w2 + cc
                    if f[j] == fc and d[j] < d[i]:
                        ring = ring or _on_ring(j, h2, w2)
                        s = 1.0 / _DIST[k]
                        if s > best:
                            best = s
                            bj = j
            if bj >= 0:
                if _on_ring(bj, h2, w2):
                    rec[(r - 1) * w + c - 1] = -2 - bj
                else:
                    br = bj // w2
                    rec[(r - 1) * w + c - 1] = (br - 1) * w + bj - br * w2 - 1
    return rec, ring


@njit(cache=True, nogil=True)
def _drain_downstream(queue, tail, down, acc, indeg):
    """Pass ``acc`` downstream in topological order (Kahn): ``queue[:tail]`` holds the sources, ``down[i]`` the
    receiver of ``i`` (-1 none), ``indeg`` the unprocessed donors of each node. Returns how many were ordered
    (fewer than the nodes when ``down`` has a cycle); ``queue`` then holds that order."""
    head = 0
    while head < tail:
        i = queue[head]
        head += 1
        j = down[i]
        if j >= 0:
            acc[j] += acc[i]
            indeg[j] -= 1
            if indeg[j] == 0:
                queue[tail] = j
                tail += 1
    return tail


@njit(cache=True, nogil=True)
def _accumulate_tile(rec, init):
    """Barnes (2017): flow accumulation within one tile, from ``init`` (NaN = no data).

    ``init`` is each cell's own count plus the flow entering it from other tiles. Returns the
    accumulation and, per cell, the tile index of the last cell of its path inside the tile if
    that path leaves the tile (-1 if it ends at an outlet).
    """
    n = rec.size
    acc = np.zeros(n, dtype=np.float64)
    indeg = np.zeros(n, dtype=np.int32)
    nvalid = 0
    for i in range(n):
        if np.isfinite(init[i]):
            acc[i] = init[i]
            nvalid += 1
            if rec[i] >= 0:
                indeg[rec[i]] += 1
    queue = np.empty(nvalid, dtype=np.int64)
    tail = 0
    for i in range(n):
        if np.isfinite(init[i]) and indeg[i] == 0:
            queue[tail] = i
            tail += 1
    tail = _drain_downstream(queue, tail, rec, acc, indeg)
    if tail != nvalid:
        raise ValueError("flow directions form a cycle")
    leave = np.full(n, -1, dtype=np.int64)
    for q in range(tail - 1, -1, -1):
        i = queue[q]
        j = rec[i]
        if j >= 0:
            leave[i] = leave[j]
        elif j <= -2:
            leave[i] = i
    return acc, leave


@njit(cache=True, nogil=True)
def _cross_edges(zr, lr, pairs, step):
    """Label-graph edges between the facing perimeter lines of neighbouring tiles.

    ``zr``/``lr`` hold elevations and global labels of the perimeter lines (one line per row),
    ``pairs`` the index pairs of facing lines; every 8-neighbour pair across gives an edge.
    """
    m = pairs.shape[0] * zr.shape[1] * 6
    ea = np.empty(m, dtype=np.int32)
    eb = np.empty(m, dtype=np.int32)
    ew = np.empty(m, dtype=np.float32)
    e = 0
    n = zr.shape[1]
    for p in range(pairs.shape[0]):
        a, b = pairs[p, 0], pairs[p, 1]
        for c in range(n):
            la = lr[a, c]
            if la < 0:
                continue
            for dc in range(-step, step + 1):
                c2 = c + dc
                if c2 < 0 or c2 >= n:
                    continue
                ea[e] = la
                if lr[b, c2] < 0:  # no data across: an outlet, tied to the ocean at its own level
                    eb[e] = 0
                    ew[e] = zr[a, c]
                else:
                    eb[e] = lr[b, c2]
                    ew[e] = max(zr[a, c], zr[b, c2])
                e += 1
        for c in range(n):
            lb = lr[b, c]
            if lb < 0:
                continue
            for dc in range(-step, step + 1):
                c2 = c + dc
                if 0 <= c2 < n and lr[a, c2] < 0:
                    ea[e] = lb
                    eb[e] = 0
                    ew[e] = zr[b, c]
                    e += 1
    return ea[:e].copy(), eb[:e].copy(), ew[:e].copy()  # copies: the buffer is sized for the worst case


@njit(cache=True, nogil=True)
def _chain(dep, acc):
    """Barnes (2017) global step: outflow of every tile exit, following exits downstream in topological order.

    ``dep[e]`` is the exit whose path receives exit ``e``'s outflow (-1 if none); ``acc`` the
    local accumulation at each exit. Returns the total outflow of every exit.
    """
    m = dep.size
    out = acc.copy()
    indeg = np.zeros(m, dtype=np.int64)
    for e in range(m):
        if dep[e] >= 0:
            indeg[dep[e]] += 1
    queue = np.empty(m, dtype=np.int64)
    tail = 0
    for e in range(m):
        if indeg[e] == 0:
            queue[tail] = e
            tail += 1
    tail = _drain_downstream(queue, tail, dep, out, indeg)
    if tail != m:
        raise ValueError("flow between tiles forms a cycle")
    return out


class _Lines:
    """Values on the perimeter of every tile: one full-width line per tile-boundary row and one
    full-height line per tile-boundary column (O(perimeter) memory)."""

    def __init__(self, tiling, dtype, fill):
        t = tiling
        self.t = t
        self.fill = fill
        self.rows = np.full((t.brow.size, t.width), fill, dtype=dtype)
        self.cols = np.full((t.height, t.bcol.size), fill, dtype=dtype)

    def put(self, ij, arr):
        """Store the perimeter of a tile's array (h, w)."""
        r0, r1, c0, c1 = self.t.bounds(ij)
        rp, cp = self.t.rowpos, self.t.colpos
        self.rows[rp[r0], c0:c1] = arr[0]
        self.rows[rp[r1 - 1], c0:c1] = arr[-1]
        self.cols[r0:r1, cp[c0]] = arr[:, 0]
        self.cols[r0:r1, cp[c1 - 1]] = arr[:, -1]

    def get(self, ij):
        """The tile's perimeter values as an (h, w) array (``fill`` inside)."""
        r0, r1, c0, c1 = self.t.bounds(ij)
        out = np.full((r1 - r0, c1 - c0), self.fill, dtype=self.rows.dtype)
        rp, cp = self.t.rowpos, self.t.colpos
        out[0] = self.rows[rp[r0], c0:c1]
        out[-1] = self.rows[rp[r1 - 1], c0:c1]
        out[:, 0] = self.cols[r0:r1, cp[c0]]
        out[:, -1] = self.cols[r0:r1, cp[c1 - 1]]
        return out

    def ring(self, ij, win):
        """Write the one-cell ring around the tile (the neighbours' perimeters) into ``win`` (h + 2, w + 2)."""
        r0, r1, c0, c1 = self.t.bounds(ij)
        rp, cp = self.t.rowpos, self.t.colpos
        a, b = max(c0 - 1, 0), min(c1 + 1, self.t.width)
        if r0 > 0:
            win[0, a - c0 + 1:b - c0 + 1] = self.rows[rp[r0 - 1], a:b]
        if r1 < self.t.height:
            win[-1, a - c0 + 1:b - c0 + 1] = self.rows[rp[r1], a:b]
        a, b = max(r0 - 1, 0), min(r1 + 1, self.t.height)
        if c0 > 0:
            win[a - r0 + 1:b - r0 + 1, 0] = self.cols[a:b, cp[c0 - 1]]
        if c1 < self.t.width:
            win[a - r0 + 1:b - r0 + 1, -1] = self.cols[a:b, cp[c1]]
        return win


class _Tiling:
    """The lattice of ``tile``-cell tiles anchored at the upper-left cell."""

    def __init__(self, shape, tile):
        self.height, self.width = shape
        self.tile = tile
        self.n_rows, self.n_cols = -(-self.height // tile), -(-self.width // tile)
        self.brow = np.unique(np.r_[np.arange(self.n_rows) * tile,
                                    np.minimum(np.arange(1, self.n_rows + 1) * tile, self.height) - 1])
        self.bcol = np.unique(np.r_[np.arange(self.n_cols) * tile,
                                    np.minimum(np.arange(1, self.n_cols + 1) * tile, self.width) - 1])
        self.rowpos = np.full(self.height, -1, dtype=np.int64)
        self.rowpos[self.brow] = np.arange(self.brow.size)
        self.colpos = np.full(self.width, -1, dtype=np.int64)
        self.colpos[self.bcol] = np.arange(self.bcol.size)

    def tiles(self):
        return [(i, j) for i in range(self.n_rows) for j in range(self.n_cols)]

    def bounds(self, ij):
        i, j = ij
        t = self.tile
        return i * t, min((i + 1) * t, self.height), j * t, min((j + 1) * t, self.width)

    def facing(self, pos, n):
        """Index pairs (in ``pos``) of the facing perimeter lines of neighbouring tiles along an axis of ``n`` cells."""
        firsts = np.arange(self.tile, n, self.tile)
        return np.stack([pos[firsts - 1], pos[firsts]], axis=1).astype(np.int64)


def _perimeter_index(h, w):
    """Row-major tile indices of a tile's perimeter cells."""
    m = np.zeros((h, w), dtype=bool)
    m[0] = m[-1] = True
    m[:, 0] = m[:, -1] = True
    return np.flatnonzero(m)


RAISED_CACHE_BYTES = 256 * 2**20
"""Raised cells kept in memory (:class:`_RaisedCells`); beyond, in a temporary folder."""


class _RaisedCells:
    """Per tile, the cells its flood raised and their levels (:func:`_sparse`), so that later passes need not
    flood it again: in memory up to :data:`RAISED_CACHE_BYTES`, beyond that in files of a temporary folder
    (removed with the object, or by the next terrain job if this one is killed: :mod:`risk.tempfiles`). They add
    up to about 0.4-0.6 bytes a cell of the raster on real DEMs: 0.5 GB at 10⁹ cells, which in memory made the
    terrain rule's peak grow with the area."""

    def __init__(self, budget: int | None = None):
        self.budget = RAISED_CACHE_BYTES if budget is None else budget
        self.memory, self.files, self.bytes, self.folder = {}, {}, 0, None

    def __setitem__(self, ij, value):
        idx, fv = value
        if self.bytes + idx.nbytes + fv.nbytes <= self.budget:
            self.memory[ij] = value
            self.bytes += idx.nbytes + fv.nbytes
            return
        if self.folder is None:
            import shutil
            import weakref

            from risk.tempfiles import new_temp_path

            self.folder = new_temp_path("risk-raised-")  # those of terrain jobs that were killed are removed
            os.mkdir(self.folder, 0o700)
            weakref.finalize(self, shutil.rmtree, self.folder, ignore_errors=True)
        path = os.path.join(self.folder, f"{ij[0]}_{ij[1]}.npz")
        np.savez(path, idx=idx, fv=fv)
        self.files[ij] = path

    def __contains__(self, ij):
        return ij in self.memory or ij in self.files

    def __getitem__(self, ij):
        if ij in self.memory:
            return self.memory[ij]
        with np.load(self.files[ij]) as f:
            return f["idx"], f["fv"]


class FlowSolution:
    """The global edge solutions of :func:`solve`: everything a tile needs to be routed exactly.

    Attributes: ``tiling``; ``level`` (filled level of every tile's perimeter, :class:`_Lines`),
    ``dist`` (flat distances of the perimeters) and ``inflow`` (per tile: tile indices of cells
    receiving flow from other tiles, and that flow in cells).
    """

    def __init__(self, tiling, elev, level, dist, inflow):
        self.tiling, self.elev, self.level, self.dist, self.inflow = tiling, elev, level, dist, inflow
        self.cache = _RaisedCells()

    def window(self, ij, tile):
        """The tile with a one-cell ring of its neighbours' elevations (NaN beyond the raster)."""
        h, w = tile.shape
        zw = np.full((h + 2, w + 2), np.nan, dtype=np.float32)
        zw[1:-1, 1:-1] = tile
        return self.elev.ring(ij, zw)

    def _filled(self, ij, zw):
        fw = zw.copy()
        fw[0], fw[-1], fw[:, 0], fw[:, -1] = np.nan, np.nan, np.nan, np.nan
        self.level.ring(ij, fw)
        if ij in self.cache:  # the raised cells kept from an earlier flood of this tile
            idx, fv = self.cache[ij]
            inner = fw[1:-1, 1:-1].copy()
            inner.ravel()[idx] = fv
            fw[1:-1, 1:-1] = inner
            return fw
        per = self.level.get(ij)
        inner = fw[1:-1, 1:-1]
        edge = np.zeros(inner.shape, dtype=bool)
        edge[0] = edge[-1] = True
        edge[:, 0] = edge[:, -1] = True
        inner[edge] = per[edge]
        _seeded_fill(fw, zw)
        return fw

    def _directions(self, ij, fw, zw):
        dw = np.full(fw.shape, _INF, dtype=np.int64)
        self.dist.ring(ij, dw)
        shared = _flat_distance(fw, zw, dw)
        rec, ring = _receivers(fw, dw)
        return dw, rec, shared, ring

    def route(self, ij, tile):
        """Depression depth (m) and flow accumulation (cells) of tile ``ij``, stacked as (2, h, w) float32."""
        zw = self.window(ij, np.asarray(tile, dtype=np.float32))
        h, w = zw.shape[0] - 2, zw.shape[1] - 2
        fw = self._filled(ij, zw)
        _, rec, _, _ = self._directions(ij, fw, zw)
        z = zw[1:-1, 1:-1]
        init = np.where(np.isfinite(z), 1.0, np.nan).ravel()
        idx, val = self.inflow.get(ij, (np.zeros(0, np.int64), np.zeros(0)))
        init[idx] += val
        acc, _ = _accumulate_tile(rec, init)
        out = np.empty((2, h, w), dtype=np.float32)
        depth = fw[1:-1, 1:-1].astype(np.float64) - z
        out[0] = np.where(depth > 1e-6, depth, np.where(np.isfinite(depth), 0.0, np.nan))
        out[1] = np.where(np.isfinite(z), acc.reshape(h, w), np.nan)
        return out


def _summary(sol, ij, rec, zw):
    # the tile's exits (cells draining into another tile) and where each perimeter cell's path leaves
    t = sol.tiling
    r0, _, c0, _ = t.bounds(ij)
    h, w = zw.shape[0] - 2, zw.shape[1] - 2
    init = np.where(np.isfinite(zw[1:-1, 1:-1]), 1.0, np.nan).ravel()
    acc, leave = _accumulate_tile(rec, init)

    def glob(local):
        return (r0 + local // w) * t.width + c0 + local % w

    ex = np.flatnonzero(rec <= -2)
    wi = -2 - rec[ex]
    target = (r0 - 1 + wi // (w + 2)) * t.width + c0 - 1 + wi % (w + 2)
    per = _perimeter_index(h, w)
    per = per[np.isfinite(init[per])]
    lv = leave[per]
    return (glob(ex), acc[ex], target), (glob(per), np.where(lv >= 0, glob(lv), -1))


def _inflows(sol, exits, links):
    """Barnes (2017) global step: the flow every tile receives from the others, per receiving cell."""
    t = sol.tiling
    e_g, e_acc, e_t = (np.concatenate(a) for a in zip(*exits, strict=True)) if exits else (np.zeros(0, np.int64),) * 3
    if e_g.size == 0:
        return {}
    q_g, q_l = (np.concatenate(a) for a in zip(*links, strict=True))
    o = np.argsort(e_g)
    e_g, e_acc, e_t = e_g[o], e_acc[o].astype(np.float64), e_t[o]
    o = np.argsort(q_g)
    q_g, q_l = q_g[o], q_l[o]
    pos = np.searchsorted(q_g, e_t)
    if not (pos < q_g.size).all() or not (q_g[np.minimum(pos, q_g.size - 1)] == e_t).all():
        raise RuntimeError("a tile exit drains into a cell that no tile reported")
    lk = q_l[pos]
    dep = np.where(lk >= 0, np.searchsorted(e_g, lk), -1)
    out = _chain(dep, e_acc)
    cells, inv = np.unique(e_t, return_inverse=True)
    flow = np.bincount(inv, weights=out)
    r, c = cells // t.width, cells % t.width
    key = (r // t.tile) * t.n_cols + c // t.tile
    inflow = {}
    for k in np.unique(key):
        sel = key == k
        ij = (int(k) // t.n_cols, int(k) % t.n_cols)
        r0, r1, c0, c1 = t.bounds(ij)
        inflow[ij] = ((r[sel] - r0) * (c1 - c0) + c[sel] - c0, flow[sel])
    return inflow


def fill_levels(read, tiling, workers):
    """Barnes (2016) parallel Priority-Flood, the global step: the filled level of every tile's perimeter.

    Each tile is read once and flooded from its perimeter with labels (its graph kept as a minimum
    spanning forest); the graphs of all tiles and the edges between facing perimeters give every label
    its level (:func:`_spill_levels`). Memory: the perimeters' lines and the edges, about 4 cells in
    ``tile`` of the raster (:mod:`bench.bench_hydrology` ``levels`` measures it).

    Returns
    -------
    elev, level : _Lines
        Elevations and filled levels of the perimeters (NaN for no data).
    """
    t = tiling
    elev = _Lines(t, np.float32, np.nan)
    labels = _Lines(t, np.int32, -1)

    def flood(ij):
        z = np.asarray(read(ij), dtype=np.float32)
        # the ring: NaN beyond the raster, a high wall elsewhere (the neighbours are not known yet;
        # a perimeter cell next to their no data is tied to the ocean by _cross_edges)
        win = np.full((z.shape[0] + 2, z.shape[1] + 2), np.nan, dtype=np.float32)
        r0, r1, c0, c1 = t.bounds(ij)
        win[int(r0 == 0):win.shape[0] - int(r1 == t.height), int(c0 == 0):win.shape[1] - int(c1 == t.width)] = _WALL
        win[1:-1, 1:-1] = z
        lab, nlab, ea, eb, ew = _label_flood(win)
        return ij, z, lab[1:-1, 1:-1], nlab, *_spanning_forest(nlab, ea, eb, ew)

    # per tile a labelled flood and its label graph ...
    edges, offset = [], 0
    for ij, z, lab, nlab, ea, eb, ew in _ordered(flood, t.tiles(), workers):
        elev.put(ij, z)
        labels.put(ij, np.where(lab > 0, lab + offset, lab))
        edges.append((np.where(ea > 0, ea + offset, 0), np.where(eb > 0, eb + offset, 0), ew))
        offset += nlab - 1
    # ... the edges between facing perimeters, and the levels of all labels from the ocean
    edges.append(_cross_edges(elev.rows, labels.rows, t.facing(t.rowpos, t.height), 1))
    edges.append(_cross_edges(np.ascontiguousarray(elev.cols.T), np.ascontiguousarray(labels.cols.T),
                              t.facing(t.colpos, t.width), 1))
    ea, eb, ew = (np.concatenate(a) for a in zip(*edges, strict=True))
    edges.clear()
    lv = _spill_levels(offset + 1, ea, eb, ew)
    del ea, eb, ew
    level = _Lines(t, np.float32, np.nan)
    for name in ("rows", "cols"):
        lab = getattr(labels, name)
        setattr(level, name, np.where(lab >= 0, np.maximum(getattr(elev, name), lv[np.maximum(lab, 0)]), np.nan)
                .astype(np.float32))
    return elev, level


def solve(read, shape, tile, workers=None):
    """Solve the global edge problems of exact flow routing, one tile in memory at a time.

    Parameters
    ----------
    read : callable
        ``read((i, j))`` returns tile ``(i, j)`` of the DEM (float32, NaN = no data) on the
        lattice of ``tile``-cell tiles anchored at the upper-left cell.
    shape : tuple of int
        Raster shape.
    tile : int
        Tile size (cells).
    workers : int, optional
        Tiles routed at once on threads (the kernels release the GIL); default: the CPUs
        available, at most 4.

    Returns
    -------
    FlowSolution
        Ready to :meth:`FlowSolution.route` any tile exactly. The tiles are read twice, plus
        once per round for those crossed by a flat or drained by a tie-break across their edge.
    """
    workers = workers or min(4, len(os.sched_getaffinity(0)))
    t = _Tiling(shape, int(tile))
    elev, level = fill_levels(read, t, workers)  # 1. Barnes (2016): the perimeters' filled levels
    # 2. per tile: filled levels, flat distances, directions; tiles whose flats cross their edge
    #    exchange perimeter distances until none changes (distances only decrease)
    sol = FlowSolution(t, elev, level, _Lines(t, np.int64, _INF), {})
    exits, links, pending = [], [], []

    def directions(ij):
        zw = sol.window(ij, np.asarray(read(ij), dtype=np.float32))
        fw = sol._filled(ij, zw)
        dw, rec, shared, ring = sol._directions(ij, fw, zw)
        summary = None if shared or ring else _summary(sol, ij, rec, zw)
        return ij, dw, shared, summary, _sparse(fw, zw)

    for ij, dw, shared, summary, cached in _ordered(directions, t.tiles(), workers):
        sol.dist.put(ij, dw[1:-1, 1:-1])
        if cached is not None:
            sol.cache[ij] = cached
        if summary is None:
            pending.append((ij, shared))
            continue
        exits.append(summary[0])
        links.append(summary[1])
    # rounds: a shared tile is routed again while a neighbour's perimeter distances changed
    todo = {ij for ij, shared in pending if shared}
    shared_tiles = set(todo)
    while todo:
        changed = set()
        for ij in sorted(todo):
            zw = sol.window(ij, np.asarray(read(ij), dtype=np.float32))
            dw, _, _, _ = sol._directions(ij, sol._filled(ij, zw), zw)
            if not np.array_equal(sol.dist.get(ij), np.where(_perimeter_mask(dw.shape), dw, _INF)[1:-1, 1:-1]):
                sol.dist.put(ij, dw[1:-1, 1:-1])
                changed.add(ij)
        todo = {(i + a, j + b) for i, j in changed for a in (-1, 0, 1) for b in (-1, 0, 1)} & shared_tiles
    for ij, _ in pending:
        zw = sol.window(ij, np.asarray(read(ij), dtype=np.float32))
        fw = sol._filled(ij, zw)
        dw, rec, _, _ = sol._directions(ij, fw, zw)
        ex, lk = _summary(sol, ij, rec, zw)
        exits.append(ex)
        links.append(lk)
    # 3. Barnes (2017): chain the tiles' exits downstream into the flow entering each tile
    sol.inflow = _inflows(sol, exits, links)
    return sol


def _ordered(fn, items, workers):
    """``map(fn, items)`` on ``workers`` threads, in order, with at most 2 × ``workers`` results held."""
    if workers <= 1:
        yield from map(fn, items)
        return
    with ThreadPoolExecutor(workers) as ex:
        queue = deque()
        for item in items:
            queue.append(ex.submit(fn, item))
            if len(queue) >= 2 * workers:
                yield queue.popleft().result()
        while queue:
            yield queue.popleft().result()


def _sparse(fw, zw):
    """The cells of a tile raised by the flood and their levels, so that later passes need not flood
    it again; None if over a quarter of the tile (the cache stays under 2 bytes per cell)."""
    f, z = fw[1:-1, 1:-1], zw[1:-1, 1:-1]
    idx = np.flatnonzero((f != z) & np.isfinite(z))
    if idx.size * 4 > z.size:
        return None
    return idx.astype(np.int32), f.ravel()[idx]


def _perimeter_mask(shape):
    # the tile's perimeter within a window (h + 2, w + 2)
    m = np.zeros(shape, dtype=bool)
    m[1, 1:-1] = m[-2, 1:-1] = True
    m[1:-1, 1] = m[1:-1, -2] = True
    return m


def route_tiled(dem, tile):
    """Depression depth (m) and flow accumulation (cells) of a whole numpy DEM, stacked as (2, h, w).

    Exact at any size (see the module notes); ``tile`` only bounds the memory.
    """
    dem = np.asarray(dem, dtype=np.float32)
    t = int(tile)

    def read(ij):
        i, j = ij
        return dem[i * t:(i + 1) * t, j * t:(j + 1) * t]

    workers = min(4, len(os.sched_getaffinity(0)))
    sol = solve(read, dem.shape, t, workers)
    out = np.empty((2, *dem.shape), dtype=np.float32)

    def finish(ij):
        r0, r1, c0, c1 = sol.tiling.bounds(ij)
        out[:, r0:r1, c0:c1] = sol.route(ij, read(ij))

    for _ in _ordered(finish, sol.tiling.tiles(), workers):
        pass
    return out


def receivers(dem):
    """D8 receiver of every cell of an in-memory DEM (flat index, -1 for outlets and no data).

    The flow directions that :func:`route_tiled` accumulates, whatever its tile; for comparisons
    with other implementations (the tests hand them to pyflwdir).
    """
    dem = np.asarray(dem, dtype=np.float32)
    sol = solve(lambda ij: dem, dem.shape, max(dem.shape))
    zw = sol.window((0, 0), dem)
    _, rec, _, _ = sol._directions((0, 0), sol._filled((0, 0), zw), zw)
    return np.where(np.isfinite(dem.ravel()), rec, -1)


def route(data, tile):
    """Depression depth (m) and flow accumulation (cells) of a numpy or Dask DEM, exact at any size.

    Parameters
    ----------
    data : numpy or dask array
        The DEM (float32, NaN = no data).
    tile : int
        Tile size (cells). Only memory depends on it: each step holds one tile (Dask: one per
        worker) plus the tiles' perimeters; the results are the same for every ``tile``.

    Returns
    -------
    depth, acc : arrays of the input's backend (Dask: its chunks)
        float32. The global edge problems are solved eagerly (the DEM is read twice, tile by
        tile); the Dask results are lazy and read it once more.
    """
    import dask.array as da

    tile = int(tile)
    if tile < 1:
        raise ValueError(f"flow tile ({tile}) must be >= 1")
    if not isinstance(data, da.Array):
        out = route_tiled(data, tile)
        return out[0], out[1]
    chunks = data.chunks
    x = data.astype(np.float32).rechunk((tile, tile))
    sol = solve(lambda ij: np.asarray(x.blocks[ij].compute()), x.shape, tile)

    def run(block, block_info=None):
        return sol.route(tuple(block_info[0]["chunk-location"]), block)

    out = x.map_blocks(run, new_axis=0, chunks=((2,), *x.chunks), dtype=np.float32,
                       meta=np.array((), dtype=np.float32))
    return out[0].rechunk(chunks), out[1].rechunk(chunks)
