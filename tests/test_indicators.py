"""Hazard indicators, normalisation and weighted indices: the table, the maths, numpy = Dask."""

from pathlib import Path

import dask.array as da
import numpy as np
import pytest
import xarray as xr
import yaml
from scipy.ndimage import gaussian_filter

from risk import HAZARDS
from risk.assessment import exposure
from risk.grid import Grid
from risk.hazard import indicator_index as indices
from risk.hazard import indicators, normalize, point_rasters, vs30

ROOT = Path(__file__).resolve().parents[1]
CHUNKS = (16, 23)
CLASSES = {1: "forest", 2: "grassland", 3: "cropland", 4: "built_up", 5: "water"}


def _schema():
    return yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def grid():
    return Grid.from_bounds((500_000, 4_500_000, 502_400, 4_501_800), "EPSG:4549", 30, chunk=16)


def _base_layers(grid, chunk):
    from risk.hazard import terrain

    rng = np.random.default_rng(5)
    dem = (gaussian_filter(rng.random(grid.shape), 3) * 300 + 200).astype("f4")
    lc = rng.integers(0, 6, grid.shape).astype("uint8")
    g = grid if chunk is None else grid.with_chunk(chunk)

    def wrap(a):
        return g.like(a if chunk is None else da.from_array(a, chunks=chunk))

    d = wrap(dem)
    t = terrain.terrain(d, relief_radius_m=60, flow_tile=32)
    layers = {k: t[k] for k in ("slope", "aspect", "curvature", "relief", "twi", "depression_depth")}
    layers.update(dem=d, landcover=wrap(lc))
    for name, lo in (("rain_max24h", 80), ("pga", 0.1), ("wind50", 20), ("distance_rivers", 0),
                     ("distance_roads", 0), ("distance_settlements", 0)):
        layers[name] = wrap((rng.random(grid.shape) * lo + lo + 1).astype("f4"))
    return layers


def test_every_hazard_has_documented_indicators_and_default_weights():
    schema = _schema()["properties"]["indicator_index"]["properties"]
    weights = {h: schema["weights"]["properties"][h]["default"] for h in HAZARDS}
    assert set(indicators.INDICATORS) == set(HAZARDS)
    for h in HAZARDS:
        names = indicators.indicator_names(h)
        assert len(names) == len(set(names))
        assert set(weights[h]) == set(names), h
        for ind in indicators.INDICATORS[h]:
            assert ind.direction in ("more", "less") and ind.meaning and ind.unit and ind.source
    table = indicators.indicator_table()
    assert table.count("\n") == 2 + sum(len(v) for v in indicators.INDICATORS.values())
    config = yaml.safe_load((ROOT / "configs" / "config.yaml").read_text(encoding="utf-8"))
    assert config["indicator_index"]["weights"] == weights


def test_hazard_indicators_same_on_numpy_and_dask(grid):
    scores = _schema()["properties"]["indicators"]["properties"]["landcover_scores"]["properties"]
    kw = dict(landcover_classes=CLASSES, landcover_scores={k: v["default"] for k, v in scores.items()},
              built_up_radius_m=90, exposure_radius_m=150, vs30_params={"smoothing_m": 60})
    ref = indicators.hazard_indicators(_base_layers(grid, None), **kw)
    assert {h: list(v) for h, v in ref.items()} == {h: indicators.indicator_names(h) for h in HAZARDS}
    for chunk in CHUNKS:
        got = indicators.hazard_indicators(_base_layers(grid, chunk), **kw)
        for h in HAZARDS:
            for name, arr in got[h].items():
                assert isinstance(arr.data, da.Array) and arr.name == name
                np.testing.assert_allclose(arr.values, ref[h][name].values, rtol=1e-5, atol=1e-6,
                                           equal_nan=True, err_msg=f"{h}/{name}")
    fuel = ref["wildfire"]["fuel"].values
    lc = _base_layers(grid, None)["landcover"].values
    assert np.all(fuel[lc == 1] == 1.0) and np.isnan(fuel[lc == 0]).all()
    share = ref["waterlogging"]["built_up_share"].values
    assert np.nanmin(share) >= 0 and np.nanmax(share) <= 1


def test_aspect_dryness_and_landcover_score(grid):
    a = np.zeros(grid.shape, "f4")
    a[0, :4] = [-1.0, 202.5, 22.5, 112.5]
    asp = grid.like(a)
    d = indicators.aspect_dryness(asp).values[0, :4]
    np.testing.assert_allclose(d, [0.5, 1.0, 0.0, 0.5], atol=1e-6)
    lc = grid.like(np.full(grid.shape, 4, "uint8"))
    assert (indicators.landcover_score(lc, CLASSES, {"built_up": 0.7}).values == np.float32(0.7)).all()
    assert np.isnan(indicators.landcover_score(grid.like(np.zeros(grid.shape, "uint8")), CLASSES, {}).values).all()
    # uint8 codes index the table directly: the same scores as the same codes in any other dtype
    codes = np.random.default_rng(2).integers(0, 256, grid.shape).astype("uint8")
    scores = {k: 0.1 * i for i, k in enumerate(sorted(set(CLASSES.values())))}
    want = indicators.landcover_score(grid.like(codes.astype("f4")), CLASSES, scores).values
    for arr in (codes, da.from_array(codes, chunks=7)):
        np.testing.assert_array_equal(indicators.landcover_score(grid.like(arr), CLASSES, scores).values, want)


def test_vs30_follows_wald_and_allen():
    table = vs30.VS30_TABLES["active"]
    for v_lo, v_hi, s_lo, s_hi in table:
        np.testing.assert_allclose(vs30.vs30_from_slope(np.array([s_lo, s_hi])), [v_lo, v_hi], rtol=1e-6)
        mid = np.sqrt(s_lo * s_hi)  # log-linear interpolation: the geometric mean slope ...
        np.testing.assert_allclose(vs30.vs30_from_slope(np.array([mid])), [np.sqrt(v_lo * v_hi)], rtol=1e-6)
    assert vs30.vs30_from_slope(np.array([0.0]))[0] == 180.0
    assert vs30.vs30_from_slope(np.array([5.0]))[0] == 900.0
    assert vs30.vs30_from_slope(np.array([0.01]), "stable")[0] > vs30.vs30_from_slope(np.array([0.01]))[0]
    amp = vs30.site_amplification(xr.DataArray(np.array([[760.0, 180.0]]), dims=("y", "x"))).values
    np.testing.assert_allclose(amp, [[1.0, (760 / 180) ** 0.35]], rtol=1e-6)
    with pytest.raises(ValueError, match="region"):
        vs30.vs30_from_slope(np.array([0.1]), "moon")


def test_normalize_is_robust_directed_and_chunk_independent(grid):
    rng = np.random.default_rng(2)
    x = rng.normal(10, 2, grid.shape).astype("f4")
    x[0, 0] = 1e6  # an outlier does not squash the rest
    x[1, 1] = np.nan
    ref = normalize.normalize(grid.like(x), q=(0.05, 0.95), sample_size=2000)
    vals = ref.values
    assert np.nanmin(vals) == 0 and np.nanmax(vals) == 1 and np.isnan(vals[1, 1])
    assert 0.3 < np.nanmedian(vals) < 0.7
    for chunk in CHUNKS:
        got = normalize.normalize(grid.with_chunk(chunk).like(da.from_array(x, chunks=chunk)), q=(0.05, 0.95),
                                  sample_size=2000)
        assert got.attrs["norm_lo"] == ref.attrs["norm_lo"] and got.attrs["norm_hi"] == ref.attrs["norm_hi"]
        np.testing.assert_array_equal(got.values, vals)
    less = normalize.normalize(grid.like(x), "less", bounds=(ref.attrs["norm_lo"], ref.attrs["norm_hi"]))
    np.testing.assert_allclose(less.values, 1 - vals, atol=1e-6)
    const = normalize.normalize(grid.like(np.full(grid.shape, 3.0, "f4")))
    assert (const.values == 0).all()
    logged = normalize.normalize(grid.like(np.full(grid.shape, np.e - 1, "f4")), bounds=(0, 2), transform="log1p")
    np.testing.assert_allclose(logged.values, 0.5, rtol=1e-6)
    with pytest.raises(ValueError, match="direction"):
        normalize.normalize(grid.like(x), "up")


def test_scale_is_the_float64_formula_bit_for_bit():
    # scale's compiled pass does numpy's float64 operations cell by cell: the same bits (NaN, ±inf, -0, integers,
    # strided blocks, a 0-d value, both directions and transforms, empty bounds).
    def ref(x, lo, hi, direction, transform):
        x = normalize._transform(np.asarray(x).astype("float64"), transform)
        if not (hi > lo):
            return np.where(np.isfinite(x), 0.0, np.nan).astype("float32")
        y = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
        return (1.0 - y if direction == "less" else y).astype("float32")

    x = (np.random.default_rng(4).normal(size=(40, 50)) * 10).astype("f4")
    x[::7, ::3] = np.nan
    x[0, :8] = [-0.0, 0.0, np.inf, -np.inf, 1e30, -1e-30, -3.0, 12.5]
    for arr in (x, x.astype("f8"), (x > 0).astype("uint8"), x[:, ::2], np.float32(3.0)):
        for lo, hi in ((-3.0, 12.5), (np.float64(-1e-3), np.float64(7)), (2.0, 2.0), (np.nan, np.nan)):
            for direction in ("more", "less"):
                for transform in ("none", "log1p"):
                    got = normalize.scale(arr, lo, hi, direction, transform)
                    want = ref(arr, lo, hi, direction, transform)
                    assert got.dtype == want.dtype and got.shape == want.shape and got.tobytes() == want.tobytes()


@pytest.mark.parametrize("skipna", [False, True])
def test_weighted_kernel_is_the_float64_formula_bit_for_bit(skipna):
    # The compiled kernel does the numpy formula's float64 operations in the same order: the same bits, for
    # float32, float64 and integer layers, NaN, -0 and a weight of 0.
    rng = np.random.default_rng(3)
    blocks = [rng.random((37, 41)).astype("f4"), (rng.random((37, 41)) * 9).astype("f8"),
              (rng.random((37, 41)) * 5).astype("uint8"), rng.random((37, 41)).astype("f4")]
    for b in (blocks[0], blocks[1], blocks[3]):
        b[rng.random(b.shape) < 0.1] = np.nan
    blocks[3][:3] = -0.0
    w = [0.7, 1.3, 0.0, 2.1]
    num, den = np.zeros((37, 41)), np.zeros((37, 41))
    for b, wi in zip(blocks, w, strict=True):
        b = b.astype("f8")
        ok = np.isfinite(b)
        num += np.where(ok, b, 0.0) * wi
        den += ok * wi
        if not skipna:
            num[~ok] = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        ref = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan).astype("f4")
    got = indices.weighted_kernel(*blocks, w=w, skipna=skipna)
    assert got.dtype == np.float32 and got.tobytes() == ref.tobytes()
    assert indices.weighted_kernel(blocks[0][:, ::2], w=[1.0]).tobytes() == blocks[0][:, ::2].tobytes()


def test_weighted_index_and_multi_hazard(grid):
    a = np.random.default_rng(1).random(grid.shape).astype("f4")
    b = 1 - a
    a[2, 3] = np.nan
    ref = indices.weighted_index({"a": grid.like(a), "b": grid.like(b)}, {"a": 3, "b": 1})
    np.testing.assert_allclose(ref.values[0, 0], 0.75 * a[0, 0] + 0.25 * b[0, 0], rtol=1e-6)
    assert np.isnan(ref.values[2, 3])
    skip = indices.weighted_index({"a": grid.like(a), "b": grid.like(b)}, {"a": 3, "b": 1}, skipna=True)
    assert skip.values[2, 3] == pytest.approx(b[2, 3])
    for chunk in CHUNKS:
        g = grid.with_chunk(chunk)
        layers = {"a": g.like(da.from_array(a, chunks=chunk)), "b": g.like(da.from_array(b, chunks=chunk))}
        np.testing.assert_allclose(indices.weighted_index(layers, {"a": 3, "b": 1}).values, ref.values,
                                   rtol=1e-6, equal_nan=True)
        mx = indices.combine(layers, {"a": 1, "b": 1}, "max").values
        np.testing.assert_allclose(mx, np.where(np.isnan(a), np.nan, np.maximum(a, b)), equal_nan=True)
    with pytest.raises(ValueError, match="no layer named c"):
        indices.weighted_index({"a": grid.like(a)}, {"c": 1})
    with pytest.raises(ValueError, match="at least one weight"):
        indices.weighted_index({"a": grid.like(a)}, {"a": 0})
    with pytest.raises(ValueError, match="method"):
        indices.combine({"a": grid.like(a)}, {"a": 1}, "sum")


def test_exposure_index(grid):
    rng = np.random.default_rng(4)
    pop = grid.like((rng.pareto(1.5, grid.shape) * 100).astype("f4"))
    built = grid.like(rng.random(grid.shape).astype("f4"))
    pts = grid.like(np.zeros(grid.shape, "f4"))
    idx, rec = exposure.exposure_index({"population": pop, "built_up": built, "survey_points": pts},
                                       {"population": 0.5, "built_up": 0.3, "survey_points": 0.2},
                                       {"population": "log1p"})
    v = idx.values
    assert np.nanmin(v) >= 0 and np.nanmax(v) <= 1 and rec["population"]["transform"] == "log1p"
    dens = exposure.per_km2(pop, 900.0).values
    np.testing.assert_allclose(dens, pop.values * 1e6 / 900, rtol=1e-6)


def _features(grid):
    import geopandas as gpd
    from shapely.geometry import LineString, Point

    x0, y0 = grid.xmin, grid.ymax
    river = LineString([(x0 + 15, y0 - 15), (x0 + 15 + 20 * 30, y0 - 15)])  # row 0, columns 0-20
    road = LineString([(x0 - 100, y0 - 15 - 59 * 30), (x0 + 81 * 30, y0 - 15 - 59 * 30)])  # the last row
    return {"rivers": gpd.GeoDataFrame(geometry=[river, None], crs=grid.crs),
            "roads": gpd.GeoDataFrame(geometry=[road], crs=grid.crs),
            "settlements": gpd.GeoDataFrame(geometry=[Point(x0 + 45, y0 - 45)], crs=grid.crs)}


def test_build_makes_every_indicator_file_with_its_metadata(grid):
    scores = _schema()["properties"]["indicators"]["properties"]["landcover_scores"]["properties"]
    kw = dict(landcover_scores={k: v["default"] for k, v in scores.items()}, built_up_radius_m=90,
              exposure_radius_m=150)
    rasters = {k: v for k, v in _base_layers(grid, 16).items() if k in indicators.RASTER_INPUTS}
    assert set(rasters) == set(indicators.RASTER_INPUTS)
    layers, tags, descriptions = indicators.build(
        rasters, _features(grid), grid, landcover_classes={str(k): v for k, v in CLASSES.items()},
        max_distance_m=600, vs30={"smoothing_m": 60}, **kw)
    keys = [f"{h}/{i.name}" for h in HAZARDS for i in indicators.INDICATORS[h]]
    assert list(layers) == list(tags) == list(descriptions) == keys
    assert layers["geological/slope"] is layers["earthquake/slope"] is layers["wildfire/slope"]
    rivers = layers["waterlogging/distance_rivers"].values
    assert (rivers[0, :21] == 0).all() and rivers[1, 0] == 30 and rivers.max() == 600
    assert (layers["geological/distance_roads"].values[-1] == 0).all()
    settle = layers["wildfire/distance_settlements"].values
    assert settle[1, 1] == 0 and settle[1, 3] == 60
    ref = indicators.hazard_indicators({**rasters, "distance_rivers": layers["geological/distance_rivers"],
                                        "distance_roads": layers["geological/distance_roads"],
                                        "distance_settlements": layers["wildfire/distance_settlements"]},
                                       landcover_classes=CLASSES, vs30_params={"smoothing_m": 60}, **kw)
    np.testing.assert_array_equal(layers["wildfire/fuel"].values, ref["wildfire"]["fuel"].values)
    np.testing.assert_array_equal(layers["earthquake/vs30"].values, ref["earthquake"]["vs30"].values)
    ind = indicators.indicator("wind", "roughness")
    assert tags["wind/roughness"] == {"HAZARD": "wind", "INDICATOR": "roughness", "MEANING": ind.meaning,
                                      "UNITS": ind.unit, "SOURCE": ind.source, "DIRECTION": "less"}
    assert descriptions["wind/roughness"] == f"wind roughness ({ind.unit})"


def test_indicator_paths_and_missing_outputs():
    paths = indicators.indicator_paths(["wind/wind50", "wind/roughness"], Path("r/indicators"))
    assert paths == {"wind/wind50": str(Path("r/indicators/wind/wind50.tif")),
                     "wind/roughness": str(Path("r/indicators/wind/roughness.tif"))}
    with pytest.raises(RuntimeError, match="no indicator computed for"):
        indicators.indicator_paths(["wind/wind50"], "r/indicators", ["r/indicators/wind/extra.tif"])


def test_survey_rasters_of_every_category(grid):
    import geopandas as gpd
    from shapely.geometry import Point


    x0, y0 = grid.xmin, grid.ymax
    pts = gpd.GeoDataFrame({"category": ["crane", "crane", "power"]},
                           geometry=[Point(x0 + 45, y0 - 45), Point(x0 + 45 + 600, y0 - 45 - 600),
                                     Point(x0 + 1000, y0 - 1000)], crs=grid.crs)
    layers, tags, descriptions = point_rasters.survey_rasters(pts, grid, sigma_m=90, max_distance_m=500,
                                                           categories=("crane", "power", "garden"))
    assert list(layers) == list(tags) == list(descriptions) == [
        "crane_density", "crane_distance", "power_density", "power_distance", "garden_density", "garden_distance"]
    xs, ys = np.array([x0 + 45, x0 + 645]), np.array([y0 - 45, y0 - 645])
    np.testing.assert_array_equal(layers["crane_density"].values,
                                  point_rasters.kernel_density(grid, xs, ys, 90).values)
    crane = layers["crane_distance"].values
    assert crane[1, 1] == 0 and crane[21, 21] == 0 and crane.max() == 500
    assert (layers["garden_density"].values == 0).all() and (layers["garden_distance"].values == 500).all()
    assert tags["crane_density"] == {"CATEGORY": "crane", "UNITS": "points per km2", "POINTS": 2, "SIGMA_M": 90,
                                     "MAX_DISTANCE_M": ""}
    assert tags["garden_distance"] == {"CATEGORY": "garden", "UNITS": "m", "POINTS": 0, "SIGMA_M": "",
                                       "MAX_DISTANCE_M": 500}
    assert descriptions["power_distance"] == "power distance (m)"
