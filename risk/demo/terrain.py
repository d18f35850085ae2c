"""Synthetic terrain: a drained fluvial landscape with hills, ridges and valleys carved along its rivers.

1. **Guide surface** (:func:`base_surface`): fractional Brownian noise built coarse to fine on
   B-spline lattices (32 km down to ~125 m), ridged noise ``(1 - |n|)^2`` at 8-1 km where a
   large-scale mask says "mountains", a meandering main valley across the AOI and a tilt along it.
   The lattices are anchored to the AOI, not the grid, so the landscape hardly changes with the
   resolution.
2. **Drainage** (:func:`drainage`) on a coarse grid of ~40,000 cells (≥ 120 m): invasion
   percolation from the border over the guide (a priority flood; the claiming cell is the
   receiver) gives a dendritic drainage forest without pits or flats; flow accumulation on it.
3. **Elevation** (:func:`stream_power_surface`): from the border inwards every cell sits above
   its receiver by step length times ``0.03 A^-0.45`` (A drained area in km², the steady-state
   stream-power law) on channels and a steep 0.35 on hillslopes (A < 0.5 km²), times a smooth
   spatial factor; then scaled so the area spans about 300-1,100 m. Add hillslope texture below
   the coarse grid (:func:`hill_noise`, ~30 m at 1 km).
4. **River network** (:func:`river_network`): cells draining more than a threshold area
   (``area/400``, 1-10 km²) are streams; each Hack stream (head to its junction with a larger one)
   is smoothed, named, and split where its Strahler order changes; reaches of the two highest
   orders are ``main``. Bed elevation = the surface minus a small incision growing with the
   drained area, so beds fall monotonically downstream.
5. **Carving** (:func:`carve`): with ``d`` the distance to the nearest cell a river line touches,
   ``z_r`` its bed elevation and ``w`` the valley-floor half-width (150 m-1.2 km with the drained
   area), the surface becomes ``z_r + (z - z_r) * (1 - exp(-(d/w)^2))``: flat floodplains, then
   valley sides.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

import numpy as np
import scipy.ndimage as ndi
import shapely
from rasterio.features import rasterize
from shapely import LineString

from risk.demo.common import (
    ROWS,
    Lattice,
    band_distance,
    distance_to,
    feature_transform,
    smooth_noise,
    smooth_polyline,
)
from risk.grid import Grid

ELEV_LOW, ELEV_SPAN = 300.0, 800.0
HURST, VALLEY, TILT = 0.6, 2.0, 1.0
CHANNEL_K, HILL_AREA, HILL_SLOPE = 0.03, 0.5, 0.35


@dataclass
class RiverPiece:
    """One reach of a river: vertices (projected), bed elevation and drained area at each vertex."""

    xy: np.ndarray
    zr: np.ndarray
    area_km2: np.ndarray
    order: int
    river: int  # Hack stream id
    name: str = ""
    klass: str = "tributary"


@dataclass
class Terrain:
    """Everything later stages need from the terrain step."""

    base: Lattice  # elevation surface before carving (m)
    regional: Lattice  # a smooth (4 km) version of it, for the climate fields
    hydro: Grid  # the coarse drainage grid
    coarse: Carved  # the carved surface on ``hydro``
    acc_km2: np.ndarray  # drained area on ``hydro``
    pieces: list[RiverPiece] = field(default_factory=list)
    main_order: int = 3
    threshold_km2: float = 1.0


def base_step(area_km2: float) -> float:
    """Finest lattice step of the base surface: ~125 m, coarser for very large areas."""
    target = max(120.0, math.sqrt(area_km2 * 1e6) / 600.0)
    k = max(0, int(math.floor(math.log2(32000.0 / target))))
    return 32000.0 / 2 ** k


def trunk_line(rng: np.random.Generator, aoi_bounds, angle: float) -> LineString:
    """The main valley: a meandering line across the AOI's box along direction ``angle`` (downstream)."""
    xmin, ymin, xmax, ymax = aoi_bounds
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    half = 0.75 * math.hypot(xmax - xmin, ymax - ymin)
    u = np.array([math.cos(angle), math.sin(angle)])
    v = np.array([-u[1], u[0]])
    s = np.linspace(-half, half, 121)
    wig = smooth_noise(rng, (-half, -1.0, half, 1.0), max(half / 4, 2000.0)).at(s, np.zeros_like(s))
    off = rng.uniform(-0.12, 0.12) * half + 0.12 * half * wig
    pts = np.array([cx, cy])[None, :] + s[:, None] * u[None, :] + off[:, None] * v[None, :]
    return LineString(pts)


def base_surface(rng: np.random.Generator, bounds, aoi_bounds) -> Lattice:
    """The guide surface (about 300-1,100 m) that the drainage follows."""
    xmin, ymin, xmax, ymax = aoi_bounds
    area_km2 = (xmax - xmin) * (ymax - ymin) / 1e6
    finest = base_step(area_km2)
    step = 32000.0
    lat = Lattice.noise(rng, bounds, step)
    while step / 2 >= finest - 1e-6:
        step /= 2
        nxt = lat.resampled(step, bounds)
        nxt.values += (step / 32000.0) ** HURST * rng.standard_normal(nxt.values.shape)
        lat = nxt
    xs, ys = lat.xs, lat.ys
    # ridged noise where a 24 km mask says "mountains"
    ridges = np.zeros_like(lat.values)
    for s, a in ((8000.0, 1.0), (4000.0, 0.6), (2000.0, 0.35), (1000.0, 0.2)):
        n = smooth_noise(rng, bounds, s).on_axes(xs, ys)
        ridges += a * (1.0 - np.minimum(np.abs(n), 1.5) / 1.5) ** 2
    mask = smooth_noise(rng, bounds, 24000.0).on_axes(xs, ys)
    mask = 1.0 / (1.0 + np.exp(-2.5 * (mask + 0.3)))
    # a main valley draining along a random direction, and the land rising away from it
    angle = rng.uniform(0, 2 * np.pi)
    span = max(xmax - xmin, ymax - ymin)
    trunk = trunk_line(rng, aoi_bounds, angle)
    coarse = Lattice.covering(bounds, 1000.0)
    gx, gy = np.meshgrid(coarse.xs, coarse.ys)
    coarse.values = shapely.distance(shapely.points(gx.ravel(), gy.ravel()), trunk).reshape(gx.shape)
    dist = coarse.on_axes(xs, ys)
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    along = ((xs[None, :] - cx) * np.cos(angle) + (ys[:, None] - cy) * np.sin(angle)) / span
    raw = (lat.values / np.std(lat.values) + 1.3 * mask * (ridges - ridges.mean())
           + VALLEY * (1.0 - np.exp(-dist / (0.22 * span))) - TILT * along)
    inside = ((xs >= xmin) & (xs <= xmax))[None, :] & ((ys >= ymin) & (ys <= ymax))[:, None]
    q0, q1 = np.percentile(raw[inside], [1.0, 99.5])
    u = np.clip((raw - q0) / (q1 - q0), -0.08, 1.1)
    elev = ELEV_LOW + ELEV_SPAN * np.sign(u) * np.abs(u) ** 1.25
    return Lattice(lat.x0, lat.y0, lat.step, elev)


def hydro_grid(aoi_bounds, crs: str, res: float) -> Grid:
    """The coarse drainage grid: about 40,000 cells over the AOI's box, never finer than 120 m."""
    xmin, ymin, xmax, ymax = aoi_bounds
    rc = max(base_step((xmax - xmin) * (ymax - ymin) / 1e6), math.sqrt((xmax - xmin) * (ymax - ymin) / 40000.0),
             float(res))
    rc = float(round(rc))
    return Grid.from_bounds(aoi_bounds, crs, rc, pad=4)


_NBR = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]


def drainage(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Invasion percolation from the grid border over the guide surface ``z``.

    Cells are claimed lowest first from the border inwards (a priority flood); the cell that
    claims a neighbour becomes its receiver. The receivers form a drainage forest that follows
    the guide's valleys and has no pits or flats by construction. Returns the receiver of every
    cell (flat index, -1 for the border roots) and the claim order (every cell after its receiver).
    """
    h, w = z.shape
    zf = z.astype("f8").ravel()
    closed = np.zeros(h * w, dtype=bool)
    rec = np.full(h * w, -1, dtype=np.int64)
    heap: list[tuple[float, int]] = []
    border = np.zeros((h, w), dtype=bool)
    border[0, :] = border[-1, :] = border[:, 0] = border[:, -1] = True
    for c in np.flatnonzero(border.ravel()):
        heap.append((zf[c], int(c)))
        closed[c] = True
    heapq.heapify(heap)
    order: list[int] = []
    while heap:
        _, c = heapq.heappop(heap)
        order.append(c)
        r, q = divmod(c, w)
        for dr, dq in _NBR:
            rr, qq = r + dr, q + dq
            if 0 <= rr < h and 0 <= qq < w:
                n = rr * w + qq
                if not closed[n]:
                    closed[n] = True
                    rec[n] = c
                    heapq.heappush(heap, (zf[n], n))
    return rec, np.asarray(order, dtype=np.int64)


def stream_power_surface(root: np.ndarray, factor: np.ndarray, receiver: np.ndarray, order: np.ndarray,
                         acc_km2: np.ndarray, res: float) -> np.ndarray:
    """Elevation rising upstream along the drainage forest.

    Roots (border cells) take ``root``; every other cell sits above its receiver by the step
    length times a slope: ``CHANNEL_K * A^-0.45`` (A in km^2, the steady-state stream-power
    law) where more than ``HILL_AREA`` km^2 drains through, a steep ``HILL_SLOPE`` on the
    hillslopes above, both times the spatial ``factor``. The surface drains everywhere.
    """
    h, w = root.shape
    z = root.astype("f8").ravel().copy()
    a = np.maximum(acc_km2, 1e-6)
    slope = factor.ravel() * np.where(a < HILL_AREA, HILL_SLOPE, CHANNEL_K * np.power(a, -0.45))
    cols = np.arange(h * w) % w
    rows = np.arange(h * w) // w
    zl, rl, sl = z.tolist(), receiver.tolist(), slope.tolist()
    for c in order.tolist():
        r = rl[c]
        if r >= 0:
            dist = res * (1.4142135623730951 if (rows[c] != rows[r] and cols[c] != cols[r]) else 1.0)
            zl[c] = zl[r] + dist * sl[c]
    return np.asarray(zl).reshape(h, w)


def accumulate(receiver: np.ndarray, order: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
    """Upstream cell count (or sum of ``weight``) for every cell, including itself."""
    acc = np.ones(len(receiver)) if weight is None else weight.astype("f8").copy()
    rec = receiver.tolist()
    a = acc.tolist()
    for c in order.tolist():
        r = rec[c]
        if r >= 0:
            a[r] += a[c]
    return np.asarray(a)


def river_network(hg: Grid, filled: np.ndarray, receiver: np.ndarray, order: np.ndarray, acc: np.ndarray,
                  threshold_km2: float) -> tuple[list[RiverPiece], int]:
    """Stream reaches from the drainage of the coarse grid (see module docstring).

    Returns the reaches and the Strahler order from which a reach counts as a main river.
    """
    h, w = filled.shape
    cell_km2 = hg.res * hg.res / 1e6
    acc_km2 = acc * cell_km2
    stream = acc_km2 >= threshold_km2
    # Strahler orders, upstream first
    strahler = np.zeros(h * w, dtype=np.int64)
    max_in = np.zeros(h * w, dtype=np.int64)
    n_max = np.zeros(h * w, dtype=np.int64)
    main_donor = np.full(h * w, -1, dtype=np.int64)
    s_order = [c for c in order.tolist() if stream[c]]
    for c in s_order:
        strahler[c] = 1 if max_in[c] == 0 else max_in[c] + (1 if n_max[c] >= 2 else 0)
        r = receiver[c]
        if r >= 0 and stream[r]:
            if strahler[c] > max_in[r]:
                max_in[r], n_max[r] = strahler[c], 1
            elif strahler[c] == max_in[r]:
                n_max[r] += 1
            d = main_donor[r]
            if d < 0 or acc[c] > acc[d]:
                main_donor[r] = c
    # Hack streams, downstream first
    river = np.full(h * w, -1, dtype=np.int64)
    n_rivers = 0
    for c in reversed(s_order):
        r = receiver[c]
        if r >= 0 and stream[r] and main_donor[r] == c:
            river[c] = river[r]
        else:
            river[c] = n_rivers
            n_rivers += 1
    cells_of: list[list[int]] = [[] for _ in range(n_rivers)]
    for c in s_order:  # upstream first, so each list runs head -> mouth
        cells_of[river[c]].append(c)
    incision = np.minimum(12.0, 2.0 + 2.0 * np.log2(np.maximum(acc_km2, threshold_km2) / threshold_km2))
    bed = filled.ravel() - incision
    xs = hg.xmin + (np.arange(h * w) % w + 0.5) * hg.res
    ys = hg.ymax - (np.arange(h * w) // w + 0.5) * hg.res
    # smooth each river's own cells (ends fixed), mouths first so tributaries can join the smoothed line
    smoothed: dict[int, tuple[float, float]] = {}
    pieces: list[RiverPiece] = []
    river_rank = sorted(range(n_rivers), key=lambda k: acc[cells_of[k][-1]], reverse=True)
    for k in river_rank:
        cells = cells_of[k]
        xy = smooth_polyline(np.column_stack([xs[cells], ys[cells]]), passes=3)
        for c, p in zip(cells, xy, strict=True):
            smoothed[c] = (p[0], p[1])
        mouth = receiver[cells[-1]]
        if mouth >= 0 and mouth in smoothed:
            cells = cells + [int(mouth)]
            xy = np.vstack([xy, smoothed[int(mouth)]])
        if len(cells) < 2:
            continue
        orders = strahler[cells[:len(xy)]]
        if len(cells) > len(cells_of[k]):
            orders[-1] = orders[-2]
        start = 0
        for i in range(1, len(cells) + 1):
            if i == len(cells) or orders[i] != orders[start]:
                stop = min(i + 1, len(cells))
                if stop - start >= 2:
                    sl = slice(start, stop)
                    pieces.append(RiverPiece(xy[sl].copy(), bed[cells[sl]], acc_km2[cells[sl]],
                                             int(orders[start]), k))
                start = i
    top = max((p.order for p in pieces), default=1)
    main_order = max(2, top - 1)
    for p in pieces:
        p.klass = "main" if p.order >= main_order else "tributary"
    return pieces, main_order


def valley_halfwidth(area_km2: np.ndarray, threshold_km2: float) -> np.ndarray:
    """Valley-floor half-width (m) growing with the drained area: 150 m at the threshold, up to 1.2 km."""
    return np.minimum(1200.0, 150.0 + 130.0 * np.log2(np.maximum(area_km2, threshold_km2) / threshold_km2))


def channel_halfwidth(area_km2: np.ndarray, klass: str, order: int) -> float:
    """Half-width (m) of the open water channel: main rivers 40-90 m, larger tributaries 15 m, else none."""
    if klass == "main":
        return float(min(90.0, 40.0 + 6.0 * np.log2(max(float(np.max(area_km2)), 1.0))))
    return 15.0 if order >= 3 else 0.0


def segments(pieces: list[RiverPiece], threshold_km2: float):
    """Per two-vertex segment: geometry, bed elevation, valley half-width, channel half-width, main flag."""
    geoms, zr, vw, ch, main = [], [], [], [], []
    for p in pieces:
        chw = channel_halfwidth(p.area_km2, p.klass, p.order)
        hw = valley_halfwidth(p.area_km2, threshold_km2)
        for i in range(len(p.xy) - 1):
            geoms.append(LineString(p.xy[i:i + 2]))
            zr.append(0.5 * (p.zr[i] + p.zr[i + 1]))
            vw.append(0.5 * (hw[i] + hw[i + 1]))
            ch.append(chw)
            main.append(p.klass == "main")
    zr = np.asarray(zr)
    order = np.argsort(-zr, kind="stable")  # burn the lowest last
    return ([geoms[i] for i in order], zr[order], np.asarray(vw)[order], np.asarray(ch)[order],
            np.asarray(main, dtype=bool)[order])


@dataclass
class Carved:
    dem: np.ndarray
    river_dist: np.ndarray  # m, to the nearest cell the river lines touch
    bed_near: np.ndarray  # bed elevation of that river cell
    channel_hw: np.ndarray  # channel half-width of that river (m, 0 = no open water)
    main_near: np.ndarray  # nearest river is a main river
    river_mask: np.ndarray


def carve(z: np.ndarray, grid: Grid, segs) -> Carved:
    """Carve valleys into ``z`` (on ``grid``) along the river segments."""
    geoms, zr, vw, ch, main = segs
    if len(geoms) == 0:
        zeros = np.zeros(grid.shape, dtype="f4")
        return Carved(z.astype("f4"), np.full(grid.shape, 1e6, "f4"), z.astype("f4"), zeros,
                      np.zeros(grid.shape, bool), np.zeros(grid.shape, bool))
    ids = rasterize(((g, i) for i, g in enumerate(geoms)), out_shape=grid.shape, transform=grid.transform,
                    fill=-1, all_touched=True, dtype="int32")
    mask = ids >= 0
    d, idx = distance_to(mask, grid.res, indices=True)
    near = ids[idx[0], idx[1]]
    del idx
    bed = zr[near].astype("f4")
    hw = vw[near].astype("f4")
    g = 1.0 - np.exp(-np.square(d / hw))
    dem = (bed + (z.astype("f4") - bed) * g).astype("f4")
    return Carved(dem, d, bed, ch[near].astype("f4"), main[near], mask)


def carve_into(z: np.ndarray, grid: Grid, segs, store, rows: int = ROWS) -> np.ndarray:
    """:func:`carve` on the analysis grid, a band of ``rows`` rows at a time, for the generator.

    ``z`` (float32) becomes the carved DEM in place and is returned; the layers later steps need go to
    ``store`` (:class:`risk.demo.common.Store`) band by band: ``river_dist`` (m), ``hand`` (the DEM
    minus the bed elevation of the nearest river cell) and ``water`` (open channel: within the
    channel half-width of its river, or on a river cell of a main river or at ``res <= 60``). Every
    value equals :func:`carve`'s; the rivers' cells are kept as a sorted list rather than a raster of
    segment ids, and the distances come from the feature transform a band at a time.
    """
    geoms, zr, vw, ch, main = segs
    h, w = grid.shape
    for name, dtype in (("river_dist", "f4"), ("hand", "f4"), ("water", bool)):
        store.create(name, grid.shape, dtype)
    if len(geoms) == 0:
        for r0 in range(0, h, rows):
            n = min(rows, h - r0)
            store.write_rows("river_dist", r0, np.full((n, w), 1e6, "f4"))
            store.write_rows("hand", r0, np.zeros((n, w), "f4"))
            store.write_rows("water", r0, np.zeros((n, w), bool))
        return z
    ids = rasterize(((g, i) for i, g in enumerate(geoms)), out_shape=grid.shape, transform=grid.transform,
                    fill=-1, all_touched=True, dtype="int32")
    cells = np.flatnonzero(ids >= 0)  # sorted
    cell_id = ids.ravel()[cells]
    del ids
    mask = np.zeros(grid.shape, dtype=bool)
    mask.ravel()[cells] = True
    ft = feature_transform(mask, float(grid.res))
    del mask
    for r0 in range(0, h, rows):
        r1 = min(r0 + rows, h)
        d = band_distance(ft, r0, r1, grid.res)
        near = cell_id[np.searchsorted(cells, ft[0, r0:r1].astype(np.int64) * w + ft[1, r0:r1])]
        bed = zr[near].astype("f4")
        hw = vw[near].astype("f4")
        g = 1.0 - np.exp(-np.square(d / hw))
        dem = (bed + (z[r0:r1].astype("f4") - bed) * g).astype("f4")
        z[r0:r1] = dem
        chw = ch[near].astype("f4")
        water = (chw > 0) & ((d <= chw) | ((d == 0) & (main[near] | (grid.res <= 60))))
        store.write_rows("river_dist", r0, d)
        store.write_rows("hand", r0, dem - bed)
        store.write_rows("water", r0, water)
    return z


RIVER_NAMES_LINGYUAN = ["大凌河", "青龙河", "渗津河", "牤牛河", "老哈河", "瀑河", "西大河", "热水汤河"]
_RIVER_PREFIX = ["石", "黑", "白", "老虎", "柳", "杨", "马", "羊", "北", "南", "东", "西", "大", "小", "前", "后",
                 "长", "清水", "沙", "榆树", "黄土", "梨树", "桃花", "红石", "鹰", "狼", "鸽子", "杏树", "双庙",
                 "三道", "二道", "头道", "四道", "五道", "蘑菇", "榛子", "松树", "椴木", "龙潭", "碾子", "平房",
                 "獾子", "牛心", "孤山", "瓦窑", "磨石", "黄花", "山神庙", "烧锅", "板城", "柴胡", "荒地"]
_RIVER_SUFFIX = ["河", "沟", "沟河", "川"]


def name_rivers(rng: np.random.Generator, pieces: list[RiverPiece], real_names: bool) -> None:
    """Give every Hack stream one name: the largest real Lingyuan rivers first when ``real_names``."""
    size: dict[int, float] = {}
    for p in pieces:
        size[p.river] = max(size.get(p.river, 0.0), float(np.max(p.area_km2)))
    ranked = sorted(size, key=lambda k: (-size[k], k))
    used: set[str] = set()
    names: dict[int, str] = {}
    fixed = list(RIVER_NAMES_LINGYUAN) if real_names else []
    for k in ranked:
        if fixed:
            nm = fixed.pop(0)
        else:  # unique while the name space lasts; common names repeat across a large area, as they do
            nm = ""
            for _ in range(10):
                suffix = "河" if size[k] >= 100.0 else _RIVER_SUFFIX[int(rng.integers(len(_RIVER_SUFFIX)))]
                nm = _RIVER_PREFIX[int(rng.integers(len(_RIVER_PREFIX)))] + suffix
                if nm not in used:
                    break
        used.add(nm)
        names[k] = nm
    for p in pieces:
        p.name = names[p.river]


def build_terrain(rng: np.random.Generator, aoi_bounds, crs: str, res: float, real_names: bool) -> Terrain:
    """Guide surface, drainage forest, stream-power elevation, rivers and the carved coarse DEM."""
    xmin, ymin, xmax, ymax = aoi_bounds
    bounds = (xmin - 6000, ymin - 6000, xmax + 6000, ymax + 6000)
    guide = base_surface(rng, bounds, aoi_bounds)
    hg = hydro_grid(aoi_bounds, crs, res)
    gz = guide.on_grid(hg, dtype="f8")
    rec, claim = drainage(gz)
    up = claim[::-1]
    acc = accumulate(rec, up)
    cell_m2 = hg.res * hg.res
    factor = np.exp(0.3 * smooth_noise(rng, bounds, 16000.0).on_grid(hg, dtype="f8"))
    root = ELEV_LOW + 0.3 * (gz - ELEV_LOW)
    z = stream_power_surface(root, factor, rec, claim, acc * cell_m2 / 1e6, hg.res)
    xs, ys = hg.x, hg.y
    inside = ((xs >= xmin) & (xs <= xmax))[None, :] & ((ys >= ymin) & (ys <= ymax))[:, None]
    top = float(np.percentile(z[inside], 99.5))
    z = ELEV_LOW + (z - ELEV_LOW) * float(np.clip(ELEV_SPAN / max(top - ELEV_LOW, 1.0), 0.6, 1.25))
    z = np.clip(z, ELEV_LOW - 60.0, 1450.0)
    base = Lattice(hg.xmin + hg.res / 2, hg.ymax - hg.res / 2, hg.res, z)
    regional = Lattice(base.x0, base.y0, base.step, ndi.gaussian_filter(z, 2000.0 / hg.res, mode="nearest"))
    area = (xmax - xmin) * (ymax - ymin) / 1e6
    threshold = float(np.clip(area / 400.0, 1.0, 10.0))
    threshold = max(threshold, 6 * cell_m2 / 1e6)
    pieces, main_order = river_network(hg, z, rec, up, acc, threshold)
    name_rivers(rng, pieces, real_names)
    carved = carve(base.on_grid(hg, dtype="f8"), hg, segments(pieces, threshold))
    return Terrain(base, regional, hg, carved, (acc * cell_m2 / 1e6).reshape(hg.shape), pieces, main_order,
                   threshold)


def hill_noise(rng: np.random.Generator, bounds, finest: float) -> Lattice:
    """Hillslope texture below the drainage grid: 1 km down to ``finest``, about 30 m high at 1 km."""
    step = 1000.0
    lat = Lattice.noise(rng, bounds, step)
    lat.values *= 30.0
    while step / 2 >= finest - 1e-6:
        step /= 2
        nxt = lat.resampled(step, bounds)
        nxt.values += 30.0 * (step / 1000.0) ** 0.7 * rng.standard_normal(nxt.values.shape)
        lat = nxt
    return lat


def fine_dem(terrain: Terrain, grid: Grid, rng: np.random.Generator, store) -> np.ndarray:
    """The carved DEM on the analysis grid: the drainage surface plus hillslope texture, valleys carved
    (:func:`carve_into`: the river distance, HAND and open water go to ``store``)."""
    z = terrain.base.on_grid(grid)
    z += hill_noise(rng, grid.bounds, max(2.0 * grid.res, 60.0)).on_grid(grid)
    return carve_into(z, grid, segments(terrain.pieces, terrain.threshold_km2), store)
