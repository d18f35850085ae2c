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
from risk.hazard import indicators, normalize, vs30

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
    t = terrain.terrain(d, relief_radius_m=60, flow_tile=32, flow_halo=8)
    layers = {k: t[k] for k in ("slope", "aspect", "curvature", "relief", "twi", "depression_depth")}
    layers.update(dem=d, landcover=wrap(lc))
    for name, lo in (("rain_max24h", 80), ("pga", 0.1), ("wind50", 20), ("distance_rivers", 0),
                     ("distance_roads", 0), ("distance_settlements", 0)):
        layers[name] = wrap((rng.random(grid.shape) * lo + lo + 1).astype("f4"))
    return layers


def test_every_hazard_has_documented_indicators_and_default_weights():
    schema = _schema()["properties"]["indicators"]["properties"]
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
    assert config["indicators"]["weights"] == weights


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
