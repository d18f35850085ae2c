"""Class stability per township agrees with the stability rasters (recomputed with numpy masks)."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from risk.assessment.uncertainty_summary import stable_share, township_stability


def test_stable_share_sums_the_stable_values():
    assert stable_share([0.5, 0.8, 1.0], [0.2, 0.3, 0.5], 0.8) == pytest.approx(0.8)
    assert stable_share([0.79999995], [1.0], 0.8) == 1.0  # within the tolerance
    assert stable_share(0.5, 1.0, 0.8) == 0.0  # scalars from a one-value township
    assert np.isnan(stable_share([], [], 0.8))


def test_township_stability_matches_numpy(small_grid):
    g = small_grid
    rng = np.random.default_rng(3)
    n_draws = 10
    stab = {n: (rng.integers(0, n_draws + 1, g.shape) / n_draws).astype("f4")
            for n in ("wind", "multi_hazard")}
    for a in stab.values():
        a[:, :8] = np.nan
    cells = [(0, 30, 0, 40), (30, 60, 0, 40), (0, 60, 40, 80)]
    polys = [box(g.xmin + c0 * g.res, g.ymax - r1 * g.res, g.xmin + c1 * g.res, g.ymax - r0 * g.res)
             for r0, r1, c0, c1 in cells]
    tw = gpd.GeoDataFrame({"name": ["甲", "乙", "丙"]}, geometry=polys, crs=g.crs, index=[7, 8, 9])
    out = township_stability(tw, {k: g.like(v) for k, v in stab.items()}, g, 0.8)
    assert list(out.columns) == ["township_id", "name_zh", "name_en",
                                 "wind_mean_stability", "wind_stable_share",
                                 "multi_hazard_mean_stability", "multi_hazard_stable_share",
                                 "stable_threshold"]
    assert out["name_zh"].tolist() == ["甲", "乙", "丙"] and (out["stable_threshold"] == 0.8).all()
    for i, (r0, r1, c0, c1) in enumerate(cells):
        for name, a in stab.items():
            v = a[r0:r1, c0:c1]
            v = v[np.isfinite(v)]
            assert out.loc[i, f"{name}_mean_stability"] == pytest.approx(round(float(v.mean()), 4), abs=1e-4)
            share = round(float((v >= 0.8 - 1e-6).mean()), 4)
            assert out.loc[i, f"{name}_stable_share"] == pytest.approx(share, abs=1e-4)


def test_township_stability_same_on_numpy_and_dask_whatever_the_windows(small_grid):
    g = small_grid
    rng = np.random.default_rng(4)
    stab = {n: (rng.integers(0, 11, g.shape) / 10).astype("f4") for n in ("wind", "multi_hazard")}
    xmin, ymin, xmax, ymax = g.bounds  # polygons cutting cells: partial cells weigh in
    polys = [box(xmin + 100, ymin + 100, xmin + 1300, ymax - 50), box(xmin + 1300, ymin, xmax, ymax)]
    tw = gpd.GeoDataFrame({"name": ["甲", "乙"]}, geometry=polys, crs=g.crs)
    whole = township_stability(tw, {k: g.like(v) for k, v in stab.items()}, g, window_rows=1000)
    for chunk, rows in ((16, None), (23, 5)):
        got = township_stability(tw, {k: g.like(v).chunk(chunk) for k, v in stab.items()}, g, window_rows=rows)
        pd.testing.assert_frame_equal(got, whole)
