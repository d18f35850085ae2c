"""The risk register agrees with the rasters and ranks the worst points first."""

import dask.array as da
import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point

from risk.assessment import risk_register as register
from risk.assessment.combine_risk import risk_kernel


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
    at = register.values_at_points(rasters, pts.geometry.x, pts.geometry.y, g)
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
    out = register.values_at_points(r, [g.xmin - 10, g.xmin + 10], [g.ymax - 10, g.ymax - 10], g)
    assert np.isnan(out["a"][0]) and out["a"][1] == 1
