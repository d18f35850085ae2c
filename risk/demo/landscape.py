"""Townships, settlements and roads, laid out on the coarse drainage grid of :mod:`risk.demo.terrain`.

- **Suitability** for living: ``exp(-slope/7°) * exp(-HAND/60 m) * (0.25 + exp(-d_river/2 km))``
  (HAND = height above the nearest river bed), zero on main-river channels.
- **Seats**: the city in the best valley site near the AOI's centre; for Lingyuan-sized AOIs six
  more subdistrict (街道) seats around it; town/township seats spread by a greedy max-min rule
  weighted by suitability.
- **Townships**: every drainage-grid cell goes to the seat nearest by travel cost
  (``1 + (slope/8°)^2``, i.e. ridges are boundaries), polygonised, coverage-simplified and cut to
  the AOI: an exact partition of the AOI.
- **Settlements**: city communities, a community or village at each seat, and villages drawn
  with probability ∝ suitability² at a minimum spacing.
- **Roads**: least-cost paths on the drainage grid (cost ``1 + (slope/5°)^2``, more on main-river
  channels, less along roads already built): an expressway and national roads through the city,
  provincial/county roads along the minimum spanning tree of the seats, a rural road from every
  village to the nearest road.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from rasterio.features import rasterize, shapes
from shapely.geometry import shape as to_shape
from skimage.graph import MCP_Geometric

from risk.demo import names as nm
from risk.demo.common import distance_to, scale_count, slope_aspect, smooth_polyline, spaced_sample
from risk.demo.terrain import Terrain
from risk.grid import Grid


@dataclass
class Seat:
    row: int
    col: int
    x: float
    y: float
    kind: str  # city | subdistrict | town | township
    name: str = ""
    name_en: str = ""
    code: str = ""
    score: float = 0.0


@dataclass
class Coarse:
    """Per-cell layers of the drainage grid used for placing things."""

    grid: Grid
    slope: np.ndarray
    suit: np.ndarray
    in_aoi: np.ndarray
    inner: np.ndarray  # at least ~1.5 km inside the AOI
    water: np.ndarray
    xs: np.ndarray  # cell-centre coordinates (2-D)
    ys: np.ndarray


def coarse_layers(terrain: Terrain, aoi_geom) -> Coarse:
    hg = terrain.hydro
    c = terrain.coarse
    slope, _ = slope_aspect(c.dem, hg.res)
    hand = np.maximum(c.dem - c.bed_near, 0.0)
    water = c.river_mask & c.main_near
    suit = np.exp(-slope / 7.0) * np.exp(-hand / 60.0) * (0.25 + np.exp(-c.river_dist / 2000.0))
    suit = np.where(water, 0.0, suit)
    in_aoi = rasterize([aoi_geom], out_shape=hg.shape, transform=hg.transform, fill=0, dtype="uint8") > 0
    if not in_aoi.any():  # AOI smaller than a cell: all_touched fallback
        in_aoi = rasterize([aoi_geom], out_shape=hg.shape, transform=hg.transform, fill=0, dtype="uint8",
                           all_touched=True) > 0
    d_out = distance_to(~in_aoi, hg.res)
    inner = in_aoi & (d_out >= min(1500.0, float(np.percentile(d_out[in_aoi], 60))))
    xs = np.broadcast_to(hg.x[None, :], hg.shape)
    ys = np.broadcast_to(hg.y[:, None], hg.shape)
    return Coarse(hg, slope, suit, in_aoi, inner, water, xs, ys)


# -- seats and townships -------------------------------------------------------------------------------
def place_seats(rng: np.random.Generator, cl: Coarse, terrain: Terrain, aoi_geom, n_units: int,
                real_names: bool) -> list[Seat]:
    hg = cl.grid
    cen = aoi_geom.representative_point() if not aoi_geom.centroid.within(aoi_geom) else aoi_geom.centroid
    size = np.sqrt(aoi_geom.area)
    dc = np.hypot(cl.xs - cen.x, cl.ys - cen.y)
    main_near = terrain.coarse.main_near & (terrain.coarse.river_dist < 3000.0)
    score = cl.suit * np.exp(-np.square(dc / (0.3 * size))) * (1.0 + 1.5 * main_near)
    score = np.where(cl.inner, score, -1.0)
    r, c = np.unravel_index(int(np.argmax(score)), hg.shape)
    seats = [Seat(int(r), int(c), float(cl.xs[r, c]), float(cl.ys[r, c]), "city", score=float(cl.suit[r, c]))]
    taken = {(int(r), int(c))}
    if real_names:
        for bearing in nm.SUBDISTRICT_BEARINGS[1:]:
            dx, dy = cl.xs - seats[0].x, cl.ys - seats[0].y
            dist = np.hypot(dx, dy)
            ang = np.degrees(np.arctan2(dy, dx))
            dang = np.abs((ang - bearing + 180.0) % 360.0 - 180.0)
            ok = cl.in_aoi & (dist >= 1800) & (dist <= 5000) & (dang <= 35)
            for rr, cc in taken:
                ok[rr, cc] = False
            if not ok.any():
                ok = cl.in_aoi & (dist >= 1000) & (dist <= 9000)
                for rr, cc in taken:
                    ok[rr, cc] = False
            s = np.where(ok, cl.suit + 1e-6, -1.0)
            r, c = np.unravel_index(int(np.argmax(s)), hg.shape)
            taken.add((int(r), int(c)))
            seats.append(Seat(int(r), int(c), float(cl.xs[r, c]), float(cl.ys[r, c]), "subdistrict",
                              score=float(cl.suit[r, c])))
    n_more = n_units - len(seats)
    cand = np.flatnonzero((cl.inner if cl.inner.sum() >= 4 * n_more else cl.in_aoi).ravel())
    cx, cy = cl.xs.ravel()[cand], cl.ys.ravel()[cand]
    cs = cl.suit.ravel()[cand] * np.exp(0.25 * rng.standard_normal(len(cand)))
    mind = np.full(len(cand), np.inf)
    for s in seats:
        mind = np.minimum(mind, np.hypot(cx - s.x, cy - s.y))
    for _ in range(n_more):
        i = int(np.argmax(np.sqrt(cs) * mind))
        r, c = divmod(int(cand[i]), hg.width)
        seats.append(Seat(r, c, float(cx[i]), float(cy[i]), "town", score=float(cl.suit[r, c])))
        mind = np.minimum(mind, np.hypot(cx - cx[i], cy - cy[i]))
        mind[i] = 0.0
    return seats


def name_seats(seats: list[Seat], real_names: bool) -> None:
    """Name, code and classify the seats (Lingyuan's real units, or 乡镇01…)."""
    if real_names:
        subs = [s for s in seats if s.kind in ("city", "subdistrict")]
        for s, (name, en) in zip(subs, nm.SUBDISTRICTS, strict=True):
            s.name, s.name_en = name, en
        for i, s in enumerate(subs):
            s.code = f"211382{i + 1:03d}"
        towns = sorted([s for s in seats if s.kind == "town"], key=lambda s: -s.score)
        for i, s in enumerate(towns):
            if i < len(nm.TOWNS):
                s.name, s.name_en = nm.TOWNS[i]
                s.code = f"211382{100 + i:03d}"
            else:
                s.kind = "township"
                s.name, s.name_en = nm.TOWNSHIPS[i - len(nm.TOWNS)]
                s.code = f"211382{200 + i - len(nm.TOWNS):03d}"
        return
    city = seats[0]
    rest = sorted(seats[1:], key=lambda s: np.hypot(s.x - city.x, s.y - city.y))
    for i, s in enumerate([city] + rest):
        s.name, s.name_en, s.code = f"乡镇{i + 1:02d}", f"Township {i + 1:02d}", f"T{i + 1:02d}"
        if s.kind != "city":
            s.kind = "town" if i % 2 else "township"


def allocate(cl: Coarse, seats: list[Seat]) -> np.ndarray:
    """Label every drainage-grid cell with the index of the seat nearest by slope-weighted travel cost."""
    cost = 1.0 + np.square(cl.slope.astype("f8") / 8.0) + 3.0 * cl.water
    mcp = MCP_Geometric(cost, fully_connected=True)
    costs, tb = mcp.find_costs([(s.row, s.col) for s in seats])
    off = np.asarray(mcp.offsets, dtype=np.int64)
    h, w = cost.shape
    label = np.full(h * w, -1, dtype=np.int64)
    for i, s in enumerate(seats):
        label[s.row * w + s.col] = i
    tbf = np.asarray(tb).ravel()
    offr = (off[:, 0] * w + off[:, 1]).tolist()
    lab = label.tolist()
    tbl = tbf.tolist()
    for f in np.argsort(np.asarray(costs).ravel(), kind="stable").tolist():
        if lab[f] >= 0:
            continue
        k = tbl[f]
        lab[f] = lab[f - offr[k]] if k >= 0 else 0
    return np.asarray(lab, dtype=np.int64).reshape(h, w)


def township_polygons(cl: Coarse, labels: np.ndarray, seats: list[Seat], aoi_geom) -> gpd.GeoDataFrame:
    """Polygonise the labels, simplify them as a coverage (shared edges stay shared) and cut to the AOI."""
    parts = defaultdict(list)
    for geom, val in shapes(labels.astype("int32"), transform=cl.grid.transform, connectivity=4):
        parts[int(val)].append(to_shape(geom))
    polys = [shapely.union_all(parts[i]) if parts[i] else shapely.Polygon() for i in range(len(seats))]
    polys = list(shapely.coverage_simplify(np.asarray(polys, dtype=object), tolerance=1.2 * cl.grid.res,
                                           simplify_boundary=False))
    out = []
    for p in polys:
        q = shapely.intersection(shapely.make_valid(p), aoi_geom)
        pieces = [g for g in shapely.get_parts(q) if g.geom_type == "Polygon" and not g.is_empty]
        out.append(shapely.MultiPolygon(pieces) if len(pieces) != 1 else pieces[0])
    kinds = [("subdistrict" if s.name.endswith("街道") else "town") if s.kind == "city" else s.kind for s in seats]
    gdf = gpd.GeoDataFrame({"code": [s.code for s in seats], "name": [s.name for s in seats],
                            "name_en": [s.name_en for s in seats], "kind": kinds},
                           geometry=out, crs=cl.grid.crs)
    gdf["area_km2"] = (gdf.geometry.area / 1e6).round(2)
    return gdf


def township_of(townships: gpd.GeoDataFrame, xs, ys) -> np.ndarray:
    """Name of the township containing each point (nearest township when on no polygon)."""
    xs, ys = np.asarray(xs, dtype="f8"), np.asarray(ys, dtype="f8")
    out = np.full(len(xs), None, dtype=object)
    for name, geom in zip(townships["name"], townships.geometry, strict=True):
        hit = shapely.contains_xy(geom, xs, ys) & (out == None)  # noqa: E711
        out[hit] = name
    missing = np.flatnonzero(out == None)  # noqa: E711
    for i in missing:
        d = townships.geometry.distance(shapely.Point(xs[i], ys[i])).to_numpy()
        out[i] = townships["name"].iloc[int(np.argmin(d))]
    return out


# -- settlements ---------------------------------------------------------------------------------------
def place_settlements(rng: np.random.Generator, cl: Coarse, seats: list[Seat], aoi_geom, area_km2: float,
                      real_names: bool) -> gpd.GeoDataFrame:
    """Communities and villages with populations (about 600,000 people for a Lingyuan-sized area)."""
    vname = nm.unique_namer(rng)
    cname = nm.community_namer(rng)
    hg = cl.grid
    rows = []  # name, kind, population, x, y, radius (built-up, m), role

    def inside(x, y) -> bool:
        return bool(shapely.contains_xy(aoi_geom, x, y))

    city = seats[0]
    city_pop = 58.0 * area_km2 * rng.uniform(0.9, 1.1)
    n_cc = 24 if real_names else max(2, int(round(24 * area_km2 / 3287.0)))
    r_city = 2600.0 * np.sqrt(city_pop / 190000.0)
    pops = rng.dirichlet(np.full(n_cc, 6.0)) * city_pop
    placed = []
    tries = 0
    while len(placed) < n_cc and tries < 5000:
        tries += 1
        rad = r_city * np.sqrt(rng.uniform(0.0, 1.0)) * (0.15 if not placed else 1.0)
        ang = rng.uniform(0, 2 * np.pi)
        x, y = city.x + rad * np.cos(ang), city.y + rad * np.sin(ang)
        if not inside(x, y):
            continue
        rr, cc = hg.rowcol([x], [y])
        if not hg.inside(rr, cc)[0] or cl.water[rr[0], cc[0]]:
            continue
        if tries < 3000 and cl.slope[rr[0], cc[0]] > 14:
            continue
        if placed and min(np.hypot(px - x, py - y) for px, py in placed) < r_city / 4 and tries < 3000:
            continue
        placed.append((x, y))
    for (x, y), p in zip(placed, pops, strict=False):
        rows.append((cname(), "community", p, x, y, 650.0 * np.sqrt(p / 8000.0), "city"))
    for s in seats[1:]:
        short = nm.short_name(s.name) if real_names else s.name
        if s.kind == "subdistrict":
            continue
        if s.kind == "town":
            p = rng.uniform(2000, 6000) * (1.0 if real_names else min(1.0, 0.5 + area_km2 / 3287.0))
            rows.append((cname(short if real_names else ""), "community", p, s.x, s.y,
                         450.0 * np.sqrt(p / 3000.0), "seat"))
        else:
            p = rng.uniform(1500, 3000)
            vn = short + "村" if real_names and short + "村" not in vname.used else vname()
            vname.used.add(vn)
            rows.append((vn, "village", p, s.x, s.y, 250.0 * np.sqrt(p / 1000.0), "seat"))
    n_v = scale_count(263, area_km2, 6)
    cand = np.flatnonzero(cl.in_aoi.ravel() & (cl.suit.ravel() > 0))
    cx, cy = cl.xs.ravel()[cand], cl.ys.ravel()[cand]
    w = np.square(cl.suit.ravel()[cand])
    avoid_x = [r[3] for r in rows]
    avoid_y = [r[4] for r in rows]
    spacing = 0.5 * np.sqrt(area_km2 * 1e6 / max(n_v, 1))
    pick = spaced_sample(rng, cx, cy, w, n_v, spacing, avoid_x, avoid_y, max(1500.0, spacing))
    if len(pick) < n_v:  # crowded: relax the spacing
        pick = spaced_sample(rng, cx, cy, w, n_v, spacing / 3, avoid_x, avoid_y, 700.0)
    for i in pick:
        x = cx[i] + rng.uniform(-0.35, 0.35) * hg.res
        y = cy[i] + rng.uniform(-0.35, 0.35) * hg.res
        if not inside(x, y):
            x, y = cx[i], cy[i]
        p = float(np.clip(rng.lognormal(np.log(1300.0), 0.4), 300, 4500))
        rows.append((vname(), "village", p, x, y, 250.0 * np.sqrt(p / 1000.0), "village"))
    gdf = gpd.GeoDataFrame(
        {"name": [r[0] for r in rows], "kind": [r[1] for r in rows],
         "population": np.round(np.asarray([r[2] for r in rows]) / 10.0).astype(np.int64) * 10,
         "radius_m": [float(r[5]) for r in rows], "role": [r[6] for r in rows]},
        geometry=gpd.points_from_xy([r[3] for r in rows], [r[4] for r in rows]), crs=hg.crs)
    return gdf


# -- roads ---------------------------------------------------------------------------------------------
class _Router:
    def __init__(self, cl: Coarse):
        self.cl = cl
        self.base = 1.0 + np.square(cl.slope.astype("f8") / 5.0) + 8.0 * cl.water
        self.on_road = np.zeros(cl.grid.shape, dtype=bool)

    def cost(self) -> np.ndarray:
        return np.where(self.on_road, 0.35 * self.base, self.base)

    def path(self, start: tuple[int, int], end: tuple[int, int]) -> list[tuple[int, int]]:
        if start == end:
            return [start]
        mcp = MCP_Geometric(self.cost(), fully_connected=True)
        mcp.find_costs([start], [end])
        return [tuple(p) for p in mcp.traceback(end)]

    def mark(self, cells) -> None:
        for r, c in cells:
            self.on_road[r, c] = True


def _line(cl: Coarse, cells, start_xy=None, end_xy=None):
    xy = np.array([[cl.xs[r, c], cl.ys[r, c]] for r, c in cells], dtype="f8")
    if start_xy is not None:
        xy[0] = start_xy
    if end_xy is not None:
        xy[-1] = end_xy
    if len(xy) < 2:
        return None
    xy = smooth_polyline(xy, passes=2)
    line = shapely.LineString(xy).simplify(0.15 * cl.grid.res)
    return line if line.length > 0 else None


def _border_cell(cl: Coarse, origin: Seat, angle: float) -> tuple[int, int]:
    """The grid-border cell lying most nearly in direction ``angle`` from ``origin`` (cheap terrain preferred)."""
    g = cl.grid
    b = np.zeros(g.shape, dtype=bool)
    b[0, :] = b[-1, :] = b[:, 0] = b[:, -1] = True
    rr, cc = np.nonzero(b)
    dx, dy = cl.xs[rr, cc] - origin.x, cl.ys[rr, cc] - origin.y
    align = (dx * np.cos(angle) + dy * np.sin(angle)) / np.maximum(np.hypot(dx, dy), 1.0)
    score = align - 0.01 * cl.slope[rr, cc]
    i = int(np.argmax(score))
    return int(rr[i]), int(cc[i])


def build_roads(rng: np.random.Generator, cl: Coarse, terrain: Terrain, seats: list[Seat],
                settlements: gpd.GeoDataFrame, area_km2: float, real_names: bool) -> gpd.GeoDataFrame:
    router = _Router(cl)
    out: list[tuple[str, str, object]] = []
    city = seats[0]
    # main valley direction from the main rivers' vertices
    mains = [p.xy for p in terrain.pieces if p.klass == "main"] or [p.xy for p in terrain.pieces]
    if mains:
        pts = np.vstack(mains)
        pts = pts - pts.mean(axis=0)
        _, _, vt = np.linalg.svd(pts, full_matrices=False)
        theta = float(np.arctan2(vt[0, 1], vt[0, 0]))
    else:
        theta = 0.0

    def through_city(angle: float) -> list:
        lines = []
        for a in (angle, angle + np.pi):
            end = _border_cell(cl, city, a)
            cells = router.path((city.row, city.col), end)
            router.mark(cells)
            lines.append(cells)
        return lines

    def add(name: str, klass: str, cells, start_xy=None, end_xy=None) -> None:
        line = _line(cl, cells, start_xy, end_xy)
        if line is not None:
            out.append((name, klass, line))

    if area_km2 >= 1000:
        a, b = through_city(theta)
        nm_e = "G25长深高速" if real_names else "高速公路"
        add(nm_e, "expressway", a[::-1] + b[1:])
    n_nat = 2 if area_km2 >= 1500 else (1 if area_km2 >= 100 else 0)
    nat_names = ["G101京沈线", "G306绥克线"] if real_names else [f"G{n}国道" for n in rng.choice(
        np.arange(102, 400), size=2, replace=False)]
    for k in range(n_nat):
        a, b = through_city(theta + (0.35 if k == 0 else 1.7) + rng.uniform(-0.2, 0.2))
        add(nat_names[k], "national", a[::-1] + b[1:])
    # minimum spanning tree over the city and the town/township seats
    hubs = [s for s in seats if s.kind in ("city", "town", "township")]
    n = len(hubs)
    if n >= 2:
        px = np.array([s.x for s in hubs])
        py = np.array([s.y for s in hubs])
        dist = np.hypot(px[:, None] - px[None, :], py[:, None] - py[None, :])
        in_tree = np.zeros(n, dtype=bool)
        in_tree[0] = True
        best = dist[0].copy()
        parent = np.zeros(n, dtype=np.int64)
        edges = []
        for _ in range(n - 1):
            cand = np.where(in_tree, np.inf, best)
            j = int(np.argmin(cand))
            edges.append((int(parent[j]), j))
            in_tree[j] = True
            closer = dist[j] < best
            parent = np.where(closer & ~in_tree, j, parent)
            best = np.minimum(best, dist[j])
        prov_no = rng.choice(np.arange(201, 400), size=len(edges), replace=False)
        cnty_no = rng.choice(np.arange(401, 700), size=len(edges), replace=False)
        for k, (i, j) in enumerate(edges):
            a_, b_ = hubs[i], hubs[j]
            provincial = a_.kind == "city" or (a_.kind == "town" and b_.kind == "town")
            cells = router.path((a_.row, a_.col), (b_.row, b_.col))
            router.mark(cells)
            if provincial:
                add(f"S{prov_no[k]}省道", "provincial", cells, (a_.x, a_.y), (b_.x, b_.y))
            else:
                add(f"X{cnty_no[k]}县道", "county", cells, (a_.x, a_.y), (b_.x, b_.y))
    # rural roads: every settlement outside the city to the nearest road
    g = cl.grid
    if not router.on_road.any():
        router.on_road[city.row, city.col] = True
    mcp = MCP_Geometric(router.base, fully_connected=True)
    mcp.find_costs([tuple(p) for p in np.argwhere(router.on_road)])
    xs = settlements.geometry.x.to_numpy()
    ys = settlements.geometry.y.to_numpy()
    rr, cc = g.rowcol(xs, ys)
    for i in range(len(settlements)):
        if settlements["role"].iloc[i] == "city":
            continue
        r, c = int(np.clip(rr[i], 0, g.height - 1)), int(np.clip(cc[i], 0, g.width - 1))
        cells = [tuple(p) for p in mcp.traceback((r, c))]
        name = settlements["name"].iloc[i]
        if len(cells) == 1:
            continue  # the settlement sits on a road
        add(f"{nm.short_name(name).removesuffix('村').removesuffix('社区')}通村路", "rural", cells,
            None, (xs[i], ys[i]))
    return gpd.GeoDataFrame({"name": [o[0] for o in out], "class": [o[1] for o in out]},
                            geometry=[o[2] for o in out], crs=g.crs)
