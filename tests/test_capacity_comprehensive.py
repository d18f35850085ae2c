"""Comprehensive risk and priority townships: formula, chunk independence, zonal sums, flags."""

import dask.array as da
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from risk.capacity import comprehensive_risk as K


def townships_on(grid):
    xmin, ymin, xmax, ymax = grid.bounds
    xm, ym = (xmin + xmax) / 2, (ymin + ymax) / 2
    geoms = [box(xmin, ym, xm, ymax), box(xm, ym, xmax, ymax), box(xmin, ymin, xm, ym), box(xm, ymin, xmax, ym)]
    return gpd.GeoDataFrame({"code": ["1", "2", "3", "4"], "name": ["甲", "乙", "丙", "丁"]}, geometry=geoms,
                            crs=grid.crs)


@pytest.mark.parametrize("chunk", [16, 23, None])
def test_comprehensive_numpy_dask_agree(small_grid, rng, chunk):
    g = small_grid if chunk is None else small_grid.with_chunk(chunk)
    tw = townships_on(g)
    r = rng.random(g.shape).astype("f4")
    r[:3] = np.nan
    cap = np.array([0.2, 0.9, 0.5, 0.0])
    lab = K.township_labels(tw, g, dask_=chunk is not None)
    multi = g.like(da.from_array(r, chunks=g.chunks) if chunk else r)
    out = K.comprehensive_risk(multi, K.capacity_raster(lab, cap), 0.5).values
    lab_np = K.township_labels(tw, small_grid, dask_=False).values
    want = r * (1 - 0.5 * np.concatenate([[cap.mean()], cap])[lab_np])
    np.testing.assert_allclose(out, want, rtol=1e-6)
    assert np.isnan(out[:3]).all()


def test_zonal_sums_match_brute_force(small_grid, rng):
    g = small_grid.with_chunk(23)
    tw = townships_on(g)
    lab = K.township_labels(tw, g)
    v = rng.random(g.shape)
    v[v < 0.1] = np.nan
    s = K.zonal_sums(lab, {"v": g.like(da.from_array(v, chunks=g.chunks))}, 4)
    ln = lab.values
    for i in range(4):
        sel = (ln == i + 1) & np.isfinite(v)
        assert s.loc[i, "v_sum"] == pytest.approx(v[sel].sum())
        assert s.loc[i, "v_count"] == sel.sum()
    s_np = K.zonal_sums(ln, {"v": v}, 4)
    np.testing.assert_allclose(s_np.to_numpy(), s.to_numpy())


def test_township_table_and_priority_flags(small_grid):
    g = small_grid
    tw = townships_on(g)
    lab = K.township_labels(tw, g, dask_=False)
    ln = lab.values
    # township 2 is risky everywhere, township 3 half, the others low
    multi = np.select([ln == 2, ln == 3], [0.9, 0.6], 0.1).astype("f4")
    zones = np.select([ln == 2, ln == 3], [5, 4], 1).astype("uint8")
    zones[(ln == 3) & (np.arange(g.width)[None, :] % 2 == 0)] = 2
    pop = np.full(g.shape, 2.0, "f4")
    comp = multi * 0.8
    t = K.township_risk_table(g.like(ln), tw, g.like(multi), g.like(zones), g.like(comp), g.like(pop),
                              g.cell_area / 1e6)
    t2 = t.set_index("code").loc["2"]
    assert t2["multi_hazard_mean"] == pytest.approx(0.9)
    assert t2["high_zone_share"] == 1.0
    assert t2["people_high_zone"] == pytest.approx(2.0 * (ln == 2).sum())
    assert t2["area_km2"] == pytest.approx((ln == 2).sum() * 0.0009)
    assert t.set_index("code").loc["3", "high_zone_share"] == pytest.approx(0.5, abs=0.02)
    cap = pd.DataFrame({"code": ["1", "2", "3", "4"], "capacity_index": [0.8, 0.1, 0.3, 0.7],
                        "grade": [5, 1, 2, 4], "grade_zh": ["强", "弱", "较弱", "较强"],
                        "grade_en": ["Strong", "Weak", "Fairly weak", "Fairly strong"]})
    p = K.priority_townships(t, cap, high_sd=0.5, low_grades=(1, 2), min_highs=2)
    assert p.iloc[0]["code"] == "2" and p.iloc[0]["priority"] and p.iloc[0]["three_high_one_low"]
    assert "减灾能力低 low capacity" in p.iloc[0]["reason"]
    assert not p.set_index("code").loc["1", "priority"]
    assert p["rank"].tolist() == [1, 2, 3, 4]


def test_capacity_effect_bounds():
    with pytest.raises(ValueError, match="capacity_effect"):
        K.comprehensive_risk(np.ones(2), np.ones(2), 1.5)


def test_comprehensive_raster_applies_each_townships_capacity(small_grid, rng):
    g = small_grid
    tw = townships_on(g).assign(capacity_index=[0.2, 0.9, 0.5, 0.0])
    r = rng.random(g.shape).astype("f4")
    out = K.comprehensive_raster(g.like(da.from_array(r, chunks=g.chunks)), tw, g, 0.4)
    lab = K.township_labels(tw, g, dask_=False).values
    cap = np.concatenate([[np.float32(0.4)], tw["capacity_index"].to_numpy()]).astype("f4")  # 0.4: their mean
    assert out.dtype == "float32" and out.name == "comprehensive_risk"
    np.testing.assert_array_equal(out.values, K.comprehensive_risk(r, cap[lab], 0.4))
    assert K.index_tags(0.4, "m.tif") == {"FORMULA": "R_c = R_multi_hazard * (1 - 0.4 * C_township)",
                                          "SOURCE_INDEX": "m.tif"}


def test_priority_table_from_the_rasters(small_grid):
    g = small_grid
    cap = townships_on(g).assign(capacity_index=[0.8, 0.1, 0.3, 0.7], grade=[5, 1, 2, 4],
                                 grade_zh=["强", "弱", "较弱", "较强"],
                                 grade_en=["Strong", "Weak", "Fairly weak", "Fairly strong"])
    ln = K.township_labels(cap, g, dask_=False).values
    multi = np.select([ln == 2, ln == 3], [0.9, 0.6], 0.1).astype("f4")
    zones = np.select([ln == 2, ln == 3], [5, 4], 1).astype("uint8")
    pop = np.full(g.shape, 2.0, "f4")
    pr = {"high_levels": [4, 5], "high_sd": 0.5, "low_grades": [1, 2], "min_highs": 2}
    got = K.priority_table(cap, g, g.like(multi), g.like(zones), g.like(multi * 0.8), g.like(pop), pr)
    risk = K.township_risk_table(g.like(ln), cap, g.like(multi), g.like(zones), g.like(multi * 0.8), g.like(pop),
                                 g.cell_area / 1e6, (4, 5))
    pd.testing.assert_frame_equal(got, K.priority_townships(risk, cap, 0.5, (1, 2), 2))
    assert got.iloc[0]["code"] == "2" and got.iloc[0]["priority"]
    assert set(K.PRIORITY_DECIMALS) <= set(got.columns)
