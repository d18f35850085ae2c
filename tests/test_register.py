"""The risk register agrees with the rasters and ranks the worst points first."""

import dask.array as da
import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point

from risk.assessment import risk_register as register
from risk.assessment.combine_risk import risk_kernel, risk_settings
from risk.hazard.point_rasters import values_at_points


def test_register_recomputes_from_rasters(small_grid):
    g = small_grid
    rng = np.random.default_rng(7)
    hz = {h: rng.random(g.shape).astype("f4") for h in ("waterlogging", "wind", "earthquake")}
    expo = rng.random(g.shape).astype("f4")
    rng.random(g.shape)  # (keeps the random stream of the fixture stable)
    n = 60
    rows, cols = rng.integers(0, g.height, n), rng.integers(0, g.width, n)
    pts = gpd.GeoDataFrame(
        {"category": rng.choice(["waterlogging", "billboard", "crane"], n), "id": [f"P{i}" for i in range(n)],
         "name": [f"点{i}" for i in range(n)], "exposed_people": rng.integers(0, 50, n)},
        geometry=[Point(g.xmin + (c + 0.4) * g.res, g.ymax - (r + 0.7) * g.res) for r, c in zip(rows, cols, strict=True)],
        crs=g.crs)
    rasters = {h: g.like(da.from_array(a, chunks=16)) for h, a in hz.items()}
    rasters["exposure"] = g.like(da.from_array(expo, chunks=23))
    at = values_at_points(rasters, g, pts.geometry.x, pts.geometry.y)
    point_vul = rng.random(n).astype("f4")
    breaks = {"waterlogging": [0.2, 0.3, 0.4, 0.5], "wind": [0.1, 0.3, 0.5, 0.7], "earthquake": [0.3, 0.4, 0.5, 0.6]}
    weights = {"wind": (0.5, 0.25, 0.25)}
    reg = register.risk_register(pts, {h: at[h] for h in hz}, at["exposure"], point_vul, breaks=breaks,
                                 risk_weights=weights, cell_zone=np.ones(n, "uint8"))
    assert len(reg) == n and reg["rank"].tolist() == list(range(1, n + 1))
    # ranked: level descending, then score descending
    key = list(zip(-reg["risk_level"].astype(int), -reg["risk_score"], strict=True))
    assert key == sorted(key)
    cat_h = register.DEFAULT_CATEGORY_HAZARDS
    for _, row in reg.iterrows():
        i = int(row["id"][1:])
        r, c = rows[i], cols[i]
        for h in hz:
            assert row[f"hazard_{h}"] == pytest.approx(hz[h][r, c], abs=1e-5)
        assert row["exposure"] == pytest.approx(expo[r, c], abs=1e-5)
        rel = [h for h in cat_h[row["category"]] if h in hz]
        rs = {h: float(risk_kernel(hz[h][r, c], expo[r, c], point_vul[i], "geometric",
                                   weights.get(h, (1 / 3, 1 / 3, 1 / 3)))) for h in rel}
        dom = max(rs, key=rs.get)
        assert row["dominant_hazard"] == dom
        assert row["risk_score"] == pytest.approx(rs[dom], abs=1e-5)
        assert row["risk_level"] == np.searchsorted(np.float32(breaks[dom]), np.float32(rs[dom]), side="left") + 1
        assert np.isnan(row["risk_earthquake"]) == ("earthquake" not in rel)
    assert reg.crs == pts.crs and reg["risk_level_label"].str.contains("(?i)low|high|medium").all()


def test_values_at_points_off_grid_is_nan(small_grid):
    g = small_grid
    r = {"a": g.like(np.ones(g.shape, "f4"))}
    out = values_at_points(r, g, [g.xmin - 10, g.xmin + 10], [g.ymax - 10, g.ymax - 10])
    assert np.isnan(out["a"][0]) and out["a"][1] == 1


def _points(n=4, crs="EPSG:4549"):
    return gpd.GeoDataFrame({"category": ["crane", "crane", "billboard", "garden"][:n],
                             "id": [f"P{i}" for i in range(n)]},
                            geometry=[Point(500_000 + 100 * i, 4_500_000) for i in range(n)], crs=crs)


def test_point_vulnerability_matches_by_category_and_id():
    pts = _points()
    vp = gpd.GeoDataFrame({"category": ["crane", "billboard", "crane", "crane"],
                           "id": ["P1", "P2", "P0", "P1"], "vulnerability": [0.9, "n/a", 0.3, 0.1]},
                          geometry=[Point(0, 0)] * 4, crs=pts.crs)
    out, matched = register.point_vulnerability(pts, vp, [0.5, 0.5, 0.5, 0.5])
    # P0 and P1 matched (the first P1 row wins), P2 has no number (raster kept), P3 has no row
    np.testing.assert_allclose(out, [0.3, 0.9, 0.5, 0.5], rtol=1e-6)
    assert out.dtype == np.float32 and matched == 2


def test_point_vulnerability_nearest_point_and_no_score_column():
    pts = _points()
    vp = gpd.GeoDataFrame({"score": [0.7, 0.2]}, crs=pts.crs,
                          geometry=[Point(500_000.5, 4_500_000), Point(500_200, 4_500_000)])
    out, matched = register.point_vulnerability(pts, vp, np.full(4, 0.5, "f4"))
    np.testing.assert_allclose(out, [0.7, 0.5, 0.2, 0.5], rtol=1e-6)
    assert matched == 2
    fallback = np.array([0.1, 0.2, 0.3, 0.4], "f4")
    out, matched = register.point_vulnerability(pts, vp.drop(columns="score"), fallback)
    np.testing.assert_array_equal(out, fallback)
    assert matched == 0 and out is not fallback


def test_build_register_uses_the_config_and_point_scores():
    pts = _points()
    at = {"wind": np.array([0.9, 0.1, 0.5, 0.7], "f4"), "earthquake": np.array([0.2, 0.8, 0.5, 0.1], "f4"),
          "exposure": np.full(4, 0.5, "f4"), "vulnerability": np.full(4, 0.4, "f4"),
          "multi_zone": np.array([3, np.nan, 5, 1], "f4")}
    vp = gpd.GeoDataFrame({"category": ["crane"], "id": ["P0"], "vulnerability": [0.8]},
                          geometry=[Point(0, 0)], crs=pts.crs)
    cfg = {"method": "index", "formula": "geometric", "weights": None, "category_hazards": {"garden": ["wind"]},
           "per_hazard": {"wind": {"formula": "arithmetic"}}}
    breaks = {"wind": [0.2, 0.4, 0.6, 0.8], "earthquake": [0.1, 0.2, 0.3, 0.4]}
    reg = register.build_register(pts, vp, at, ["wind", "earthquake"], cfg, breaks)
    settings = {h: risk_settings(cfg, h) for h in ("wind", "earthquake")}
    ref = register.risk_register(pts, {h: at[h] for h in ("wind", "earthquake")}, at["exposure"],
                                 np.array([0.8, 0.4, 0.4, 0.4], "f4"), breaks=breaks, formula="geometric",
                                 risk_weights={h: s[1] for h, s in settings.items()},
                                 category_hazards={"garden": ["wind"]}, cell_zone=np.array([3, 0, 5, 1]),
                                 formulas={h: s[0] for h, s in settings.items()})
    assert reg.equals(ref)
    assert reg.set_index("id").loc["P0", "vulnerability"] == pytest.approx(0.8)
    assert reg.set_index("id").loc["P1", "cell_zone_multi_hazard"] == 0
