"""Township tables agree with the rasters (recomputed with plain numpy masks)."""

import json

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, box

from risk.assessment import township_tables as tables
from risk.assessment.zoning import zoning_tags


@pytest.fixture
def setup(small_grid):
    g = small_grid
    rng = np.random.default_rng(5)
    zones = {n: rng.integers(1, 6, g.shape).astype("uint8") for n in ("wind", "multi_hazard")}
    risks = {n: rng.random(g.shape).astype("f4") for n in zones}
    aoi = np.ones(g.shape, "uint8")
    aoi[:, :10] = 0  # outside the study area: zone 0, risk NaN
    for n in zones:
        risks[n][(zones[n] == 1) & (rng.random(g.shape) < 0.5)] = 0.0  # nothing exposed: risk 0, zone 1
        zones[n][aoi == 0] = 0
        risks[n][aoi == 0] = np.nan
    pop = rng.random(g.shape).astype("f4") * 10
    # three townships whose edges follow cell edges: rows [r0, r1) x cols [c0, c1)
    cells = [(0, 30, 0, 40), (30, 60, 0, 40), (0, 60, 40, 80)]
    polys = [box(g.xmin + c0 * g.res, g.ymax - r1 * g.res, g.xmin + c1 * g.res, g.ymax - r0 * g.res)
             for r0, r1, c0, c1 in cells]
    tw = gpd.GeoDataFrame({"name": ["城关街道", "北炉乡", "三十家子镇"], "name_en": ["Chengguan", "Beilu", "Sanshijiazi"]},
                          geometry=polys, crs=g.crs)
    return g, zones, risks, aoi, pop, tw, cells


def test_township_table_matches_numpy(setup):
    g, zones, risks, aoi, pop, tw, cells = setup
    rng = np.random.default_rng(1)
    n = 200
    rows, cols = rng.integers(0, 60, n), rng.integers(0, 80, n)
    pts = gpd.GeoDataFrame({"category": rng.choice(["crane", "billboard"], n)},
                           geometry=[Point(g.xmin + (c + 0.5) * g.res, g.ymax - (r + 0.5) * g.res)
                                     for r, c in zip(rows, cols, strict=True)], crs=g.crs)
    pz = {k: v[rows, cols] for k, v in zones.items()}
    tags = {k: zoning_tags(k, "quantiles", [0.2, 0.4, 0.6, 0.8]) for k in zones}
    gdf, long = tables.township_table(tw, {k: g.like(v) for k, v in zones.items()},
                                      {k: g.like(v) for k, v in risks.items()}, zoning_tags=tags,
                                      population=g.like(pop), aoi=g.like(aoi), grid=g, points=pts,
                                      point_zones=pz, categories=["crane", "billboard", "power"])
    assert gdf["name_zh"].tolist() == ["城关街道", "北炉乡", "三十家子镇"]
    assert gdf["name_en"].tolist() == ["Chengguan", "Beilu", "Sanshijiazi"]
    assert gdf["township_id"].tolist() == ["T001", "T002", "T003"]
    for i, (r0, r1, c0, c1) in enumerate(cells):
        inside = np.zeros(g.shape, bool)
        inside[r0:r1, c0:c1] = True
        row = gdf.iloc[i]
        assert row["area_km2"] == pytest.approx(inside.sum() * g.cell_area / 1e6)
        assert row["people"] == pytest.approx(pop[inside & (aoi == 1)].sum(), rel=1e-5)
        for name in zones:
            z = zones[name][inside]
            valid = z > 0
            assert row[f"{name}_mean_risk"] == pytest.approx(np.nanmean(risks[name][inside]), rel=1e-5)
            r = risks[name][inside]
            assert row[f"{name}_unexposed_share"] == pytest.approx(np.mean(r[np.isfinite(r)] <= 0), abs=1e-6)
            assert row[f"{name}_zoning_method"] == "quantiles"
            assert json.loads(row[f"{name}_zoning_breaks"]) == [0.2, 0.4, 0.6, 0.8]
            none = np.isfinite(r) & (r <= 0)
            assert 0 < row[f"{name}_unexposed_share"] < 1
            assert row[f"{name}_unexposed_people"] == pytest.approx(pop[inside][none].sum(), rel=1e-4, abs=0.1)
            for k in range(1, 6):
                zk = (z == k) & ~none  # zone 1 without the unexposed cells, their own class
                assert row[f"{name}_z{k}_share"] == pytest.approx(zk[valid].mean(), abs=1e-6)
                assert row[f"{name}_z{k}_people"] == pytest.approx(pop[inside][zk].sum(), rel=1e-4, abs=0.1)
            shares = [row[f"{name}_unexposed_share"]] + [row[f"{name}_z{k}_share"] for k in range(1, 6)]
            assert sum(shares) == pytest.approx(1.0, abs=1e-5)
        order = list(gdf.columns)
        assert order.index("wind_unexposed_share") == order.index("wind_z1_share") - 1
        # points by category and multi-hazard zone
        in_t = (rows >= r0) & (rows < r1) & (cols >= c0) & (cols < c1)
        for cat in ("crane", "billboard"):
            sel = in_t & (pts["category"].to_numpy() == cat)
            zz = pz["multi_hazard"][sel]
            assert row[f"pts_{cat}_total"] == (zz > 0).sum()
            for k in range(1, 6):
                assert row[f"pts_{cat}_z{k}"] == (zz == k).sum()
        assert row["pts_power_total"] == 0
    assert set(long["layer"]) == {"wind", "multi_hazard"} and long["count"].sum() == (pz["wind"] > 0).sum() + (
        pz["multi_hazard"] > 0).sum()


def test_township_table_from_files(setup, tmp_path):
    from risk import io

    g, zones, risks, aoi, pop, tw, cells = setup
    paths = {}
    for k, v in zones.items():
        paths[k] = tmp_path / f"z_{k}.tif"
        io.write_raster(g.like(v), paths[k], g, nodata=0, dtype="uint8")
    io.write_raster(g.like(risks["wind"]), tmp_path / "r.tif", g)
    io.write_raster(g.like(pop), tmp_path / "pop.tif", g)
    io.write_raster(g.like(aoi), tmp_path / "aoi.tif", g, nodata=None, dtype="uint8")
    a = tables.zone_stats(tw, {k: str(p) for k, p in paths.items()}, {"wind": str(tmp_path / "r.tif")},
                          str(tmp_path / "pop.tif"), str(tmp_path / "aoi.tif"))
    b = tables.zone_stats(tw, {k: g.like(v) for k, v in zones.items()}, {"wind": g.like(risks["wind"])},
                          g.like(pop), g.like(aoi), g)
    np.testing.assert_allclose(a.to_numpy(float), b.to_numpy(float), rtol=1e-5)


def test_nan_population_counts_as_no_people(setup):
    g, zones, risks, aoi, pop, tw, cells = setup
    holed = pop.copy()
    holed[::7, ::5] = np.nan
    a = tables.zone_stats(tw, {k: g.like(v) for k, v in zones.items()}, {}, g.like(holed), g.like(aoi), g)
    b = tables.zone_stats(tw, {k: g.like(v) for k, v in zones.items()}, {}, g.like(np.nan_to_num(holed)),
                          g.like(aoi), g)
    np.testing.assert_array_equal(a.to_numpy(float), b.to_numpy(float))
    assert (a["multi_hazard_z3_people"] > 0).all()


def test_zone_numbers_are_integers_with_zero_off_the_grid():
    out = tables.zone_numbers({"a": np.array([1.0, np.nan, 5.0], "f4"), "b": np.array([], "f4")})
    assert out["a"].tolist() == [1, 0, 5] and out["a"].dtype.kind == "i" and out["b"].size == 0


def test_township_table_with_no_points(setup):
    g, zones, risks, aoi, pop, tw, cells = setup
    pts = gpd.GeoDataFrame({"category": []}, geometry=[], crs=g.crs)
    from risk.hazard.point_rasters import values_at_points

    pz = tables.zone_numbers(values_at_points({k: g.like(v) for k, v in zones.items()}, g,
                                              pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy()))
    assert all(v.size == 0 for v in pz.values())
    gdf, long = tables.township_table(tw, {k: g.like(v) for k, v in zones.items()}, {},
                                      zoning_tags={}, grid=g, points=pts, point_zones=pz,
                                      categories=["crane"])
    assert long.empty and gdf["pts_crane_total"].tolist() == [0, 0, 0]


def test_zone_stats_same_on_numpy_and_dask_whatever_the_windows(setup):
    """Dask rasters are read a window (strip of rows) at a time: the same table as numpy, whatever the chunks
    and the window rows (16-row strips against the whole grid in one window)."""
    g, zones, risks, aoi, pop, tw, cells = setup

    def run(chunk=None, rows=None):
        def arr(v):
            a = g.like(v)
            return a.chunk(chunk) if chunk else a
        return tables.zone_stats(tw, {k: arr(v) for k, v in zones.items()}, {k: arr(v) for k, v in risks.items()},
                                 arr(pop), arr(aoi), g, window_rows=rows)

    whole = run(rows=1000)
    for chunk, rows in ((None, None), (16, None), (23, 7), (23, 23)):
        got = run(chunk, rows)
        assert list(got.columns) == list(whole.columns)
        np.testing.assert_allclose(got.to_numpy(float), whole.to_numpy(float), rtol=1e-9, atol=1e-6)


def test_exposed_source_reads_windows_of_a_file(setup, tmp_path):
    from risk import io

    g, zones, risks, aoi, pop, tw, cells = setup
    io.write_raster(g.like(risks["wind"]), tmp_path / "r.tif", g)
    src = tables.exposed_source(str(tmp_path / "r.tif"), g, "x")
    r = risks["wind"][5:12, 3:40]
    want = np.where(np.isfinite(r), (r > 0).astype("f4"), np.nan)
    np.testing.assert_array_equal(src.read_window(3, 5, 37, 7), want)
    assert src.extent() == g.bounds and src.res() == (g.res, g.res)
