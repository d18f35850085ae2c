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
    y = small_grid.y[10]
    roads = gpd.GeoDataFrame({"class": ["national", "rural"]},
                             geometry=[LineString([(small_grid.xmin, y), (small_grid.bounds[2], y)])] * 2,
                             crs=small_grid.crs)
    roads["speed_kmh"] = A.road_speed_table(roads["class"], A.DEFAULT_ROAD_SPEEDS)
    roads = roads.sort_values("speed_kmh")
    r = small_grid.rasterize(roads.geometry.values, roads["speed_kmh"].to_numpy("f4"), fill=0, dtype="float32",
                             all_touched=True, dask=False).values
    assert r[10].min() == 60.0


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
