"""Relief reach: travel times checked against an independent Dijkstra, Tobler, roads, reach per township."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import LineString

from risk.capacity import relief_access as A


def dijkstra_hours(speed, starts, res):
    """Least travel time on the 8-connected grid, built edge by edge (independent of scikit-image)."""
    h, w = speed.shape
    pace = np.where(np.isfinite(speed) & (speed > 0), 1.0 / (speed * 1000.0), np.inf)  # hours per metre
    rows, cols, vals = [], [], []
    for r in range(h):
        for c in range(w):
            for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
                r2, c2 = r + dr, c + dc
                if not (0 <= r2 < h and 0 <= c2 < w):
                    continue
                if not (np.isfinite(pace[r, c]) and np.isfinite(pace[r2, c2])):
                    continue
                length = res * (np.sqrt(2.0) if dr and dc else 1.0)
                t = length * (pace[r, c] + pace[r2, c2]) / 2.0
                rows += [r * w + c, r2 * w + c2]
                cols += [r2 * w + c2, r * w + c]
                vals += [t, t]
    g = coo_matrix((vals, (rows, cols)), shape=(h * w, h * w)).tocsr()
    d = dijkstra(g, indices=[r * w + c for r, c in starts], min_only=True)
    return d.reshape(h, w)


def test_travel_time_matches_independent_dijkstra():
    rng = np.random.default_rng(7)
    slope = rng.uniform(0, 35, size=(18, 22))
    off = A.tobler_speed(slope)
    road = np.zeros_like(off)
    road[9, :] = 60.0          # a national road across the middle
    road[:, 4] = 30.0          # a rural road down the side
    speed = A.cell_speed(off, road)
    speed[3:6, 12:15] = np.nan  # a lake: impassable
    starts = [(0, 0), (17, 21)]
    got = A.travel_hours(speed, [r for r, _ in starts], [c for _, c in starts], 30.0)
    want = dijkstra_hours(speed, starts, 30.0)
    np.testing.assert_allclose(got[np.isfinite(want)], want[np.isfinite(want)], rtol=1e-9)
    assert np.isinf(got[4, 13]) and np.isinf(want[4, 13])
    # one travel time spelled out: along the national road from (9, 5) to (9, 15), 10 cells of 30 m at 60 km/h
    on_road = A.travel_hours(np.where(road > 0, road, np.nan), [9], [5], 30.0)
    assert on_road[9, 15] == pytest.approx(10 * 30 / 60_000)
    # and across the junction cell (9, 4), which is the rural road at 30 km/h: half a cell at each pace
    assert on_road[9, 3] == pytest.approx(15 / 60_000 + 30 / 30_000 + 15 / 60_000)


def test_float32_hours_are_the_float64_search_rounded_once():
    """The float32 result is not a float32 search: every cell holds exactly the float64 time rounded to float32."""
    rng = np.random.default_rng(11)
    for speed in (A.tobler_speed(rng.uniform(0, 40, size=(120, 150))),  # all different
                  np.where(rng.random((120, 150)) < 0.1, np.nan, 5.0)):  # many ties, some walls
        speed[60, :] = np.where(np.arange(150) % 7 == 0, 0.0, 60.0)  # a road with gaps
        for sp in (speed, speed.astype("f4")):
            f64 = A.travel_hours(sp, [0, 119, 60], [0, 149, 75], 10.0, start_hours=0.3)
            f32 = A.travel_hours(sp, [0, 119, 60], [0, 149, 75], 10.0, start_hours=0.3, dtype="float32")
            assert f32.dtype == np.float32 and np.isfinite(f64).sum() > 10_000
            np.testing.assert_array_equal(f32, f64.astype("f4"))


def test_relief_hours_reads_a_dask_slope_a_band_at_a_time(small_grid):
    import dask.array as da

    g = small_grid
    slope = np.random.default_rng(3).uniform(0, 30, g.shape).astype("f4")
    roads = gpd.GeoDataFrame({"class": ["rural"]}, geometry=[LineString([(g.xmin, g.y[5]), (g.bounds[2], g.y[5])])],
                             crs=g.crs)
    depots = gpd.GeoDataFrame(geometry=gpd.points_from_xy([g.x[3]], [g.y[5]]), crs=g.crs)
    mask = np.ones(g.shape, "uint8")
    mask[:4] = 0
    kw = dict(road_speeds_kmh=A.DEFAULT_ROAD_SPEEDS, offroad={"max_kmh": 6.0, "factor": 1.0, "min_kmh": 0.1})
    want = A.relief_hours(slope, mask, roads, depots, g, **kw)
    got = A.relief_hours(da.from_array(slope, chunks=(7, 9)), da.from_array(mask, chunks=5), roads, depots, g, **kw)
    np.testing.assert_array_equal(got, want)
    assert np.isnan(got[:4]).all() and np.isfinite(got[4:]).all()


def test_coarsened_search_holds_nothing_of_the_grid_size_and_equals_the_whole_array_formula(small_grid):
    import dask.array as da

    g = small_grid.with_chunk(7)  # bands of 6 rows for k = 3: chunks and coarse cells do not line up
    slope = np.random.default_rng(5).uniform(0, 30, g.shape).astype("f4")
    roads = gpd.GeoDataFrame({"class": ["national", "rural"]}, crs=g.crs, geometry=[
        LineString([(g.xmin, g.y[5]), (g.bounds[2], g.y[5])]), LineString([(g.x[4], g.ymax), (g.x[4], g.bounds[1])])])
    depots = gpd.GeoDataFrame(geometry=gpd.points_from_xy([g.x[3], g.x[-2]], [g.y[5], g.y[-1]]), crs=g.crs)
    mask = np.ones(g.shape, "uint8")
    mask[:4] = 0
    off = {"max_kmh": 6.0, "factor": 1.0, "min_kmh": 0.1}
    kw = dict(road_speeds_kmh=A.DEFAULT_ROAD_SPEEDS, offroad=off, coarsen=3, dispatch_hours=0.2)
    # the formula on whole arrays: coarse speeds, the search, each coarse cell's hours on its 3 x 3 cells
    road = A.road_speed_raster(roads, g, A.DEFAULT_ROAD_SPEEDS)
    speed = A.cell_speed(A.tobler_speed(slope, 6.0, 1.0, 0.1), road).astype("f4")
    rows, cols = g.rowcol(depots.geometry.x.to_numpy(), depots.geometry.y.to_numpy())
    coarse = A.travel_hours(A.coarsen_speed(speed, road, 3), rows // 3, cols // 3, g.res * 3, 0.2, dtype="float32")
    want = np.repeat(np.repeat(coarse, 3, axis=0), 3, axis=1)[:g.height, :g.width]
    want[(mask == 0) | ~np.isfinite(want)] = np.nan
    eager = A.relief_hours(slope, mask, roads, depots, g, **kw)
    lazy = A.relief_hours(da.from_array(slope, chunks=(7, 9)), da.from_array(mask, chunks=g.chunks), roads, depots,
                          g, **kw)
    assert isinstance(lazy, da.Array) and lazy.chunks == g.chunks and np.isfinite(want).sum() > 100
    np.testing.assert_array_equal(eager, want)
    np.testing.assert_array_equal(lazy.compute(), want)
    # the speeds made in bands of 3 rows inside the rows of chunks: the same coarse speeds
    bands = [A._coarse_speed_bands(slope, road, off, 3, 12, rows=r)[0] for r in (3, 256)]
    np.testing.assert_array_equal(bands[0], bands[1])
    np.testing.assert_array_equal(bands[0], A.coarsen_speed(speed, road, 3))
    assert A.search_factor("auto", g.shape, g.size) == 1 and A.search_factor(3, g.shape, 1) == 3
    assert A.search_factor("auto", (60, 80), 1200) == 2 and A.search_factor("auto", (60, 81), 1200) == 3  # 30 x 41 > 1200


def test_straight_road_and_dispatch():
    h = A.travel_hours(np.full((1, 11), 40.0), [0], [0], 100.0, start_hours=0.5)
    np.testing.assert_allclose(h[0], 0.5 + np.arange(11) * 100 / 40_000)


def test_tobler_speeds():
    assert A.tobler_speed([0.0])[0] == pytest.approx(6 * np.exp(-0.175))
    s = A.tobler_speed([0.0, 10.0, 30.0, np.nan], max_kmh=6, factor=0.6)
    assert s[0] > s[1] > s[2] and np.isnan(s[3])
    assert A.tobler_speed([89.0], min_kmh=0.2)[0] == pytest.approx(0.2)


def test_road_speeds_by_class():
    v = A.road_speed_table(["national", "Rural", "track"], A.DEFAULT_ROAD_SPEEDS, unknown_kmh=15)
    assert v.tolist() == [60.0, 30.0, 15.0]
    with pytest.raises(ValueError, match="track"):
        A.road_speed_table(["track"], A.DEFAULT_ROAD_SPEEDS, None)


def test_roads_burnt_fastest_wins(small_grid):
    g = small_grid
    y = g.y[10]
    line = LineString([(g.xmin, y), (g.bounds[2], y)])
    roads = gpd.GeoDataFrame({"class": ["national", "rural", "county"]}, geometry=[line, line, None], crs=g.crs)
    r = A.road_speed_raster(roads, g, A.DEFAULT_ROAD_SPEEDS)
    assert r.dtype == "float32" and r.shape == g.shape
    assert (r[10] == 60.0).all() and (np.delete(r, 10, axis=0) == 0).all()  # the road without a line is dropped
    with pytest.raises(ValueError, match="track"):
        A.road_speed_raster(roads.assign(**{"class": "track"}), g, A.DEFAULT_ROAD_SPEEDS)


def test_relief_hours_on_the_grid(small_grid, caplog):
    g = small_grid
    y = float(g.y[10])
    roads = gpd.GeoDataFrame({"class": ["national"]}, geometry=[LineString([(g.xmin, y), (g.bounds[2], y)])],
                             crs=g.crs)
    depots = gpd.GeoDataFrame({"name": ["库", "far"]}, geometry=gpd.points_from_xy([g.x[0], g.xmin - 1e4], [y, y]),
                              crs=g.crs)
    slope = np.full(g.shape, 10.0, "f4")
    mask = np.ones(g.shape, "uint8")
    mask[:, -3:] = 0
    off = {"max_kmh": 6.0, "factor": 1.0, "min_kmh": 0.1}
    with caplog.at_level("WARNING"):
        hours = A.relief_hours(slope, mask, roads, depots, g, road_speeds_kmh=A.DEFAULT_ROAD_SPEEDS, offroad=off,
                               dispatch_hours=0.25)
    assert "1 depot(s) lie off the grid" in caplog.text
    road = A.road_speed_raster(roads, g, A.DEFAULT_ROAD_SPEEDS)
    speed = A.cell_speed(A.tobler_speed(slope, 6.0, 1.0, 0.1), road).astype("f4")  # relief_hours keeps float32
    want = A.travel_hours(speed, [10], [0], g.res, 0.25)
    assert hours.dtype == "float32" and np.isnan(hours[:, -3:]).all()
    np.testing.assert_array_equal(hours[:, :-3], want[:, :-3].astype("f4"))
    assert hours[10, 20] == pytest.approx(0.25 + 20 * 30 / 60_000)
    # coarsened: the search on 2 x 2 cells, spread back onto the grid
    coarse = A.relief_hours(slope, mask, roads, depots, g, road_speeds_kmh=A.DEFAULT_ROAD_SPEEDS, offroad=off,
                            coarsen=2)
    assert coarse.shape == g.shape and np.isnan(coarse[:, -3:]).all()
    assert coarse[10, 0] == coarse[11, 1] == 0.0 and coarse[10, 20] == pytest.approx(20 * 30 / 60_000, rel=0.1)
    assert A.hours_tags(A.DEFAULT_ROAD_SPEEDS, off, 2)["COARSEN"] == "2"


def test_reach_by_township_masks_and_picks_the_high_zones(small_grid):
    g = small_grid
    from shapely.geometry import box

    xmin, ymin, xmax, ymax = g.bounds
    xm = (xmin + xmax) / 2
    tw = gpd.GeoDataFrame({"code": [1, 2], "name": ["西", "东"]}, geometry=[box(xmin, ymin, xm, ymax),
                                                                          box(xm, ymin, xmax, ymax)], crs=g.crs)
    hours = np.full(g.shape, 2.0, "f4")
    hours[:, :5] = 20.0
    pop = np.ones(g.shape, "f4")
    zones = np.full(g.shape, 4, "uint8")
    zones[:30] = 3
    mask = np.ones(g.shape, bool)
    mask[:, -1] = False
    t = A.reach_by_township(hours, pop, zones, mask, tw, g, high_levels=[4, 5], max_hours=10).set_index("code")
    east = int((g.x[:-1] > xm).sum())  # columns of the east township inside the mask
    assert t.loc["2", "population"] == 60 * east
    assert t.loc["2", "population_high_risk"] == 30 * east and t.loc["2", "share_high_risk_reached"] == 1.0
    assert t.loc["1", "high_risk_reached"] == t.loc["1", "population_high_risk"] - 30 * 5
    # the same table from Dask inputs, summed a row of chunks at a time (labels rasterized lazily)
    import dask.array as da

    pop[7, 3], hours[40, 2] = np.nan, np.inf
    want = A.reach_by_township(hours, pop, zones, mask, tw, g, high_levels=[4, 5], max_hours=10)
    lazy = A.reach_by_township(hours, da.from_array(pop, chunks=(9, 11)), da.from_array(zones, chunks=(9, 11)),
                               mask, tw, g, high_levels=[4, 5], max_hours=10)
    pd.testing.assert_frame_equal(lazy, want)


def test_coarsen_keeps_roads_and_scales():
    speed = np.full((6, 6), 5.0)
    road = np.zeros((6, 6))
    road[2, :] = 60.0
    speed = A.cell_speed(speed, road)
    c = A.coarsen_speed(speed, road, 3)
    assert c.shape == (2, 2)
    assert c[0].tolist() == [60.0, 60.0] and c[1].tolist() == [5.0, 5.0]
    assert A.coarsen_speed(speed, road, 1) is not None


def test_reach_table_one_township_by_hand():
    hours = np.array([[1.0, 12.0, np.inf], [3.0, 9.0, 2.0]])
    pop = np.array([[100.0, 50.0, 20.0], [10.0, 5.0, np.nan]])
    labels = np.array([[1, 1, 1], [2, 2, 0]])
    high = np.array([[True, True, True], [False, True, True]])
    tw = pd.DataFrame({"code": ["a", "b"], "name": ["甲镇", "乙镇"]})
    t = A.reach_table(hours, pop, labels, high, tw, max_hours=10).set_index("code")
    a = t.loc["a"]
    assert a["population_high_risk"] == 170 and a["high_risk_reached"] == 100
    assert a["share_high_risk_reached"] == pytest.approx(100 / 170)
    assert a["mean_hours_high_risk"] == pytest.approx((1 * 100 + 12 * 50) / 150)
    assert np.isinf(a["max_hours_high_risk"])
    assert t.loc["b", "share_high_risk_reached"] == 1.0
    assert t.loc["total", "population_high_risk"] == 175  # the unlabelled cell is not counted
