"""Shelter coverage: one gap recomputed by brute force, and the greedy choice of new sites."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from risk.capacity import shelters as S

CRS = "EPSG:4549"


def world(seed=3, n_settlements=40, n_shelters=6, n_candidates=12):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 20_000, size=(n_settlements, 2))
    sett = gpd.GeoDataFrame({"name": [f"村{i}" for i in range(n_settlements)],
                             "population": rng.integers(100, 3000, n_settlements).astype(float),
                             "hazard_prone": rng.random(n_settlements) < 0.7},
                            geometry=[Point(x, y) for x, y in xy], crs=CRS)
    sxy = rng.uniform(0, 20_000, size=(n_shelters, 2))
    shel = gpd.GeoDataFrame({"name": [f"避难所{i}" for i in range(n_shelters)], "kind": "park",
                             "capacity": rng.integers(500, 4000, n_shelters).astype(float),
                             "usable": [1, 1, 0, 1, 1, 1][:n_shelters]},
                            geometry=[Point(x, y) for x, y in sxy], crs=CRS)
    cxy = rng.uniform(0, 20_000, size=(n_candidates, 2))
    cand = gpd.GeoDataFrame({"name": [f"学校{i}" for i in range(n_candidates)],
                             "kind": ["school", "stadium", "square"] * (n_candidates // 3),
                             "capacity": rng.integers(300, 3000, n_candidates).astype(float)},
                            geometry=[Point(x, y) for x, y in cxy], crs=CRS)
    return sett, shel, cand


def test_one_gap_recomputed_by_brute_force():
    sett, shel, _ = world()
    D, share = 4000.0, 0.8
    cov, load = S.shelter_coverage(sett, shel, D, share)
    usable = shel[shel["usable"] == 1].reset_index(drop=True)
    # brute force: nearest usable shelter of every settlement, loads, then one settlement's gap
    d = np.hypot(sett.geometry.x.to_numpy()[:, None] - usable.geometry.x.to_numpy()[None, :],
                 sett.geometry.y.to_numpy()[:, None] - usable.geometry.y.to_numpy()[None, :])
    nearest = d.argmin(axis=1)
    served = sett["hazard_prone"].to_numpy() & (d.min(axis=1) <= D)
    demand = sett["population"].to_numpy() * share * sett["hazard_prone"].to_numpy()
    # a settlement whose shelter is over capacity
    loads = {j: demand[served & (nearest == j)].sum() for j in range(len(usable))}
    over = [i for i in range(len(sett)) if served[i] and loads[nearest[i]] > usable["capacity"][nearest[i]]]
    assert over, "the test world should have an overloaded shelter"
    i = over[0]
    j = nearest[i]
    expected_gap = demand[i] - demand[i] * usable["capacity"][j] / loads[j]
    row = cov.iloc[i]
    assert row["shelter"] == usable["name"][j]
    assert row["distance_m"] == pytest.approx(d[i, j])
    assert row["shelter_load"] == pytest.approx(loads[j])
    assert row["gap"] == pytest.approx(expected_gap)
    assert row["status"] == "over_capacity"
    # a hazard-prone settlement with no usable shelter in reach: its whole demand is the gap
    none = [k for k in range(len(sett)) if sett["hazard_prone"][k] and d[k].min() > D]
    assert none
    assert cov.iloc[none[0]]["gap"] == pytest.approx(demand[none[0]])
    assert cov.iloc[none[0]]["status"] == "no_shelter"
    # not prone: no demand, no gap; the unusable shelter serves nobody
    assert (cov.loc[~sett["hazard_prone"], "gap"] == 0).all()
    assert "避难所2" not in set(cov["shelter"])
    # conservation: covered + gap = demand, and no shelter gives more than its places
    np.testing.assert_allclose(cov["covered"] + cov["gap"], cov["demand"])
    got = cov.groupby("shelter")["covered"].sum()
    for name, c in got.items():
        if name:
            assert c <= float(usable.set_index("name").loc[name, "capacity"]) + 1e-6
    assert load["assigned_demand"].sum() == pytest.approx(cov.loc[cov["shelter"] != "", "demand"].sum())


def test_greedy_selection_cumulative_share():
    sett, shel, cand = world()
    cov, _ = S.shelter_coverage(sett, shel, 4000.0)
    gaps = cov[cov["gap"] > 0]
    sel, closed_by = S.select_sites(gaps, cand, 4000.0)
    total = gaps["gap"].sum()
    assert len(sel) >= 1
    # the first pick closes the most gap of any single candidate
    tree_gain = []
    for _, c in cand.iterrows():
        dd = np.hypot(gaps.geometry.x - c.geometry.x, gaps.geometry.y - c.geometry.y)
        tree_gain.append(min(c["capacity"], gaps.loc[dd <= 4000.0, "gap"].sum()))
    assert sel.iloc[0]["people_closed"] == pytest.approx(max(tree_gain))
    # cumulative share is increasing, consistent with the people closed, and at most 1
    np.testing.assert_allclose(sel["cumulative_closed"], sel["people_closed"].cumsum())
    np.testing.assert_allclose(sel["cumulative_share"], sel["cumulative_closed"] / total)
    assert (np.diff(sel["people_closed"]) <= 1e-9).all()  # greedy gains never grow
    assert sel["cumulative_share"].iloc[-1] <= 1 + 1e-12
    assert sum(sum(v.values()) for v in closed_by.values()) == pytest.approx(sel["people_closed"].sum())
    # gap table: after the new sites the remaining gap matches the last remaining_gap
    gt = S.gap_table(cov, closed_by)
    assert gt["gap_after_new_sites"].sum() == pytest.approx(sel["remaining_gap"].iloc[-1])
    assert gt["gap"].is_monotonic_decreasing


def test_selection_limits_and_kinds():
    sett, shel, cand = world()
    cov, _ = S.shelter_coverage(sett, shel, 4000.0)
    sel, _ = S.select_sites(cov, cand, 4000.0, max_sites=2, kinds=["school"])
    assert len(sel) <= 2 and set(sel["kind"]) <= {"school"}
    empty, _ = S.select_sites(cov.assign(gap=0.0), cand, 4000.0)
    assert len(empty) == 0 and "cumulative_share" in empty.columns


def test_hazard_prone_levels():
    lv = pd.DataFrame({"geological": [5, 0, 3], "wildfire": [1, 4, 3]})
    hp = S.hazard_prone(lv, 4)
    assert hp["hazard_prone"].tolist() == [True, True, False]
    assert hp["prone_hazards"].tolist() == ["geological", "wildfire", ""]
    assert hp["max_level"].tolist() == [5, 4, 3]


def test_geographic_crs_is_refused():
    sett, shel, _ = world()
    with pytest.raises(ValueError, match="projected CRS"):
        S.shelter_coverage(sett.to_crs("EPSG:4326"), shel.to_crs("EPSG:4326"), 1000)


def test_zone_levels_from_zonings_or_cut_from_hazard_indices(small_grid):
    g = small_grid
    xmin, ymin, xmax, ymax = g.bounds
    # the first cell, the last cell, a point off the grid, and cell (10, 20)
    xs = np.array([xmin + 5, xmax - 5, xmax + 100, xmin + 20 * 30 + 15])
    ys = np.array([ymax - 5, ymin + 5, ymin + 5, ymax - 10 * 30 - 15])
    zones = np.zeros(g.shape, "uint8")
    zones[0, 0], zones[-1, -1], zones[10, 20] = 5, 2, 4
    lv = S.zone_levels({"geological": g.like(zones)}, g, xs, ys, basis="risk")
    assert lv["geological"].tolist() == [5, 2, 0, 4] and lv["geological"].dtype == "int64"
    # hazard basis: the index is cut with the zoning config (fixed thresholds here); NaN and off grid -> 0
    index = np.full(g.shape, 0.1, "f4")
    index[0, 0], index[-1, -1], index[10, 20] = 0.9, np.nan, 0.3
    z = {"method": "fixed", "sample_size": 1000, "thresholds": [0.2, 0.4, 0.6, 0.8]}
    lv = S.zone_levels({"wind": g.like(index), "flat": g.like(np.full(g.shape, 0.5, "f4"))}, g, xs, ys,
                       basis="hazard", zoning_config=z)
    assert lv.to_dict("list") == {"wind": [5, 0, 0, 2], "flat": [3, 3, 0, 3]}


def test_shelter_plan_matches_its_steps(small_grid):
    g = small_grid
    xmin, ymin, _, _ = g.bounds
    # the test world shrunk onto the grid (20 km -> 2 km by 1.8 km)
    sett, shel, cand = (gdf.set_geometry(gdf.geometry.scale(0.1, 0.09, origin=(0, 0)).translate(xmin, ymin))
                        for gdf in world(n_settlements=30))
    sett = sett.drop(columns="hazard_prone")
    sett.loc[3, "geometry"] = None  # a settlement without a location is left out
    zones = np.where(np.arange(g.width) < g.width // 2, 5, 1).astype("uint8")[None, :].repeat(g.height, axis=0)
    rasters = {"wind": g.like(zones)}
    coverage, gaps, load, sites = S.shelter_plan(sett, shel, cand, rasters, g, zone_basis="risk", min_level=4,
                                                 max_distance_m=400.0, demand_share=0.5)
    # the same by hand
    kept = sett.drop(index=3).reset_index(drop=True)
    levels = S.zone_levels(rasters, g, kept.geometry.x, kept.geometry.y, basis="risk")
    kept = kept.join(levels.add_prefix("zone_")).join(S.hazard_prone(levels, 4))
    cov, ld = S.shelter_coverage(kept, shel, 400.0, 0.5)
    sel, closed_by = S.select_sites(cov[cov["gap"] > 1e-9], cand, 400.0)
    assert len(coverage) == 29 and coverage["hazard_prone"].any() and not coverage["hazard_prone"].all()
    assert (coverage["zone_wind"] == np.where(coverage["hazard_prone"], 5, 1)).all()
    pd.testing.assert_frame_equal(pd.DataFrame(coverage), pd.DataFrame(cov.round(S.DECIMALS)))
    pd.testing.assert_frame_equal(gaps, S.gap_table(cov, closed_by).round(
        {**S.DECIMALS, "closed_by_new_sites": 1, "gap_after_new_sites": 1}))
    pd.testing.assert_frame_equal(load, ld.round({"assigned_demand": 1, "utilisation": 3}))
    assert len(sites) == len(sel) and (sites["cumulative_share"] == sel["cumulative_share"].round(4)).all()
