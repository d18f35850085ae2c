"""Exposure and vulnerability per hazard, expected harm and the risk matrix: values and numpy-vs-Dask parity."""

import dask.array as da
import geopandas as gpd
import numpy as np
import pytest
import shapely
import xarray as xr

from risk.assessment import combine_risk as combine
from risk.assessment import harm

CLASSES = {"1": "forest", "3": "cropland", "4": "built_up", "5": "water"}
CAT_H = {"billboard": ["wind"], "power": ["wind", "waterlogging"], "waterlogging": ["waterlogging"]}


def _inputs(grid, chunk=None):
    rng = np.random.default_rng(5)
    people = rng.gamma(0.5, 20, grid.shape).astype("f4")
    people[rng.random(grid.shape) < 0.5] = 0
    people[3:5, 5:8] = np.nan
    lc = rng.choice(np.array([1, 3, 4, 5], dtype="uint8"), grid.shape)
    x0, y1 = grid.xmin, grid.ymax
    pts = gpd.GeoDataFrame({"category": ["billboard", "power", "waterlogging", "billboard"],
                            "vulnerability_wind": [0.5, 0.2, 0.1, 1.0],
                            "vulnerability_waterlogging": [0.0, 0.8, 0.6, 0.0]},
                           geometry=[shapely.Point(x0 + 45, y1 - 45), shapely.Point(x0 + 45, y1 - 45),
                                     shapely.Point(x0 + 105, y1 - 15), shapely.Point(x0 + 315, y1 - 615)],
                           crs=grid.crs)
    wrap = (lambda a: grid.like(a)) if chunk is None else (lambda a: grid.like(da.from_array(a, chunks=chunk)))
    return wrap(people), wrap(lc), pts, people, lc


def _expo(grid, hazard, chunk=None, sigma=0.0):
    p, lc, pts, _, _ = _inputs(grid, chunk)
    return harm.hazard_exposure(hazard, p, lc, pts, grid, landcover_classes=CLASSES,
                                people_landcover={"built_up": 1.0, "cropland": 0.5},
                                asset_value={"billboard": 2, "power": 20, "waterlogging": 10},
                                category_hazards=CAT_H, asset_sigma_m=sigma)


def test_exposure_counts_people_and_the_structures_the_hazard_acts_on(small_grid):
    e, v, tags = _expo(small_grid, "wind")
    _, _, _, people, lc = _inputs(small_grid)
    e, v = e.values, v.values
    # cell (1, 1) holds a billboard (2, v 0.5) and a power tower (20, v 0.2); the waterlogging spot is not wind's
    p = people[1, 1]
    vl = {1: 0.0, 3: 0.5, 4: 1.0, 5: 0.0}[int(lc[1, 1])]
    assert e[1, 1] == pytest.approx(p + 22, rel=1e-5)
    assert v[1, 1] == pytest.approx((p * vl + 2 * 0.5 + 20 * 0.2) / (p + 22), rel=1e-5)
    assert e[0, 3] == pytest.approx(people[0, 3], rel=1e-6)  # waterlogging spot ignored by wind
    assert np.isnan(e[3, 5]) and np.isnan(v[3, 5])
    assert tags["exposure"]["CATEGORIES"] == "billboard,power"
    # nothing exposed: vulnerability 0, not NaN
    empty = (people == 0) & (e == 0)
    assert empty.any() and (v[empty] == 0).all()


def test_exposure_of_another_hazard_differs(small_grid):
    e_wind, _, _ = _expo(small_grid, "wind")
    e_wl, v_wl, _ = _expo(small_grid, "waterlogging")
    _, _, _, people, _ = _inputs(small_grid)
    assert e_wl.values[0, 3] == pytest.approx(people[0, 3] + 10, rel=1e-5)
    assert e_wl.values[1, 1] == pytest.approx(people[1, 1] + 20, rel=1e-5)
    assert not np.allclose(np.nan_to_num(e_wind.values), np.nan_to_num(e_wl.values))


@pytest.mark.parametrize("hazard", ["wind", "waterlogging"])
def test_exposure_parity_numpy_dask(small_grid, hazard):
    e, v, _ = _expo(small_grid, hazard)
    for chunk in (16, 23):
        e2, v2, _ = _expo(small_grid, hazard, chunk)
        assert isinstance(e2.data, da.Array)
        np.testing.assert_array_equal(e2.values, e.values)
        np.testing.assert_array_equal(v2.values, v.values)


def test_spread_structures_keep_their_value_and_parity(small_grid):
    """asset_sigma_m spreads each structure's person-equivalents around it; the county total is kept."""
    _, _, _, people, _ = _inputs(small_grid)
    e0, v0, _ = _expo(small_grid, "wind")
    e1, v1, tags = _expo(small_grid, "wind", sigma=45.0)
    # the lone billboard (value 2, vulnerability 1.0) at cell (20, 10), far from the edges and the NaN hole
    win = (slice(12, 29), slice(2, 19))
    p = np.nan_to_num(people[win])
    assert float((e0.values[win] - p).sum()) == pytest.approx(2.0, rel=1e-4)
    assert float((e1.values[win] - p).sum()) == pytest.approx(2.0, rel=1e-3)  # total kept
    assert float((e1.values[win] * v1.values[win]).sum() - (e0.values[win] * v0.values[win]).sum()) == \
        pytest.approx(0.0, abs=1e-3)  # so is the value times its vulnerability
    assert e1.values[20, 10] - people[20, 10] < 1.0  # its own cell keeps a share only
    assert (e1.values[19:22, 9:12] - people[19:22, 9:12] > 0.05).all()  # its neighbours are now exposed
    assert tags["exposure"]["ASSET_SIGMA_M"] == str({"billboard": 45.0, "power": 45.0})
    # per category: the power tower (cell (1, 1)) spreads wide, the billboards stay in their cells
    e2, _, tags2 = _expo(small_grid, "wind", sigma={"power": 300.0})
    assert e2.values[20, 10] - people[20, 10] == pytest.approx(2.0, abs=0.01)  # plus a trace of the tower
    assert 2.0 < e2.values[1, 1] - people[1, 1] < 3.0  # its own billboard (2) and a share of the tower
    assert tags2["exposure"]["ASSET_SIGMA_M"] == str({"billboard": 0.0, "power": 300.0})
    for chunk in (16, 23):
        e2, v2, _ = _expo(small_grid, "wind", chunk, sigma=45.0)
        np.testing.assert_allclose(e2.values, e1.values, rtol=1e-6)
        np.testing.assert_allclose(v2.values, v1.values, rtol=1e-6, atol=1e-7)


def test_expected_harm_is_hazard_times_exposure_times_vulnerability(small_grid):
    rng = np.random.default_rng(1)
    h, e, v = (rng.random(small_grid.shape).astype("f4") for _ in range(3))
    e *= 100
    ref = harm.expected_harm(small_grid.like(h), small_grid.like(e), small_grid.like(v)).values
    np.testing.assert_allclose(ref, h * e * v, rtol=1e-6)
    for chunk in (16, 23):
        got = harm.expected_harm(*(small_grid.like(da.from_array(a, chunks=chunk)) for a in (h, e, v)))
        np.testing.assert_array_equal(got.values, ref)


def test_matrix_levels_and_parity(small_grid):
    rng = np.random.default_rng(2)
    h = rng.random(small_grid.shape).astype("f4")
    ev = (rng.random(small_grid.shape) * 10).astype("f4")
    ev[ev < 2] = 0
    hb, eb = [0.2, 0.4, 0.6, 0.8], [2.5, 5, 7.5, 9]
    ref = harm.matrix_risk(small_grid.like(h), small_grid.like(ev), hb, eb, harm.DEFAULT_MATRIX).values
    lh = np.searchsorted(hb, h) + 1
    le = np.searchsorted(eb, ev) + 1
    want = np.where(ev > 0, np.array(harm.DEFAULT_MATRIX)[lh - 1, le - 1], 0)
    np.testing.assert_array_equal(ref, want)
    got = harm.matrix_risk(small_grid.like(da.from_array(h, chunks=23)), small_grid.like(da.from_array(ev, chunks=23)),
                           hb, eb, harm.DEFAULT_MATRIX)
    np.testing.assert_array_equal(got.values, ref)
    with pytest.raises(ValueError, match=r"risk\.matrix"):
        harm.validate_matrix([[1, 2], [3, 4]])


def test_combine_all_expected_harm_and_matrix(small_grid):
    rng = np.random.default_rng(3)
    hz = {k: small_grid.like(rng.random(small_grid.shape).astype("f4")) for k in ("wind", "geological")}
    by = {k: (small_grid.like((rng.random(small_grid.shape) * 50).astype("f4")),
              small_grid.like(rng.random(small_grid.shape).astype("f4"))) for k in hz}
    cfg = {"method": "expected_harm", "multi_hazard": {"rule": "sum"}}
    risks, tags, _ = combine.combine_all(hz, None, None, cfg, by)
    np.testing.assert_allclose(risks["wind"].values, hz["wind"].values * by["wind"][0].values * by["wind"][1].values,
                               rtol=1e-6)
    np.testing.assert_allclose(risks["multi_hazard"].values, risks["wind"].values + risks["geological"].values,
                               rtol=1e-6)
    assert tags["wind"]["RISK_METHOD"] == "expected_harm"
    risks, tags, _ = combine.combine_all(hz, None, None, {**cfg, "method": "matrix",
                                                           "multi_hazard": {"rule": "max"}}, by)
    assert set(np.unique(risks["wind"].values)) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    assert tags["wind"]["UNITS"] == "level"
    with pytest.raises(ValueError, match=r"risk\.method"):
        combine.combine_all(hz, None, None, {**cfg, "method": "other"}, by)
    with pytest.raises(ValueError, match="union"):
        combine.combine_all(hz, None, None, {**cfg, "multi_hazard": {"rule": "union"}}, by)


def test_threatened_categories():
    assert harm.threatened_categories("waterlogging", CAT_H) == ["power", "waterlogging"]
    assert harm.threatened_categories("earthquake", CAT_H) == []


def _terrain(grid):
    """A valley floor (rows below 30) under a steep wall (rows 0-29 rising 10 m per 30 m cell: slope 18°)
    with a cliff band (slope 40°) in rows 10-14."""
    rows = np.arange(grid.shape[0], dtype="f8")[:, None] * np.ones(grid.shape[1])
    dem = np.where(rows < 30, 10.0 * (30 - rows), 0.0)
    slope = np.where(rows < 30, 18.0, 1.0)
    slope[10:15] = 40.0
    return slope.astype("f4"), dem.astype("f4")


def test_slope_reach_on_and_below_steep_slopes_parity(small_grid):
    slope, dem = _terrain(small_grid)
    ref = harm.slope_reach(small_grid.like(slope), small_grid.like(dem), 25, 90, 30).values
    # the cliff band and the three rows below it (90 m, lower) are reached; what lies above it is not
    assert (ref[10:18] == 1).all()
    assert (ref[:10] == 0).all() and (ref[18:] == 0).all()
    soft = harm.slope_reach(small_grid.like(slope), small_grid.like(dem), 25, 90, 30, outside=0.2).values
    assert set(np.unique(soft).tolist()) == {0.2, 1.0} or np.allclose(np.unique(soft), [0.2, 1.0])
    wide = harm.slope_reach(small_grid.like(slope), small_grid.like(dem), 15, 300, 30).values
    assert (wide[:40] == 1).all() and (wide[41:] == 0).all()  # 18° wall reaches 10 cells into the valley
    for chunk in (16, 23):
        got = harm.slope_reach(small_grid.like(da.from_array(slope, chunks=chunk)),
                               small_grid.like(da.from_array(dem, chunks=chunk)), 25, 90, 30)
        assert isinstance(got.data, da.Array)
        np.testing.assert_array_equal(got.values, ref)
    with pytest.raises(ValueError, match="outside"):
        harm.slope_reach(small_grid.like(slope), small_grid.like(dem), 25, 90, 30, outside=2)


def test_exposure_layers_on_slopes_only_for_the_listed_hazard(small_grid):
    slope, dem = _terrain(small_grid)
    p, lc, pts, people, _ = _inputs(small_grid)
    kw = dict(landcover_classes=CLASSES, people_landcover={}, asset_value={"billboard": 2, "power": 20,
              "waterlogging": 10}, category_hazards=CAT_H)
    cfg = {"wind": {"slope_deg": 25, "run_out_m": 90}}
    layers, tags, _ = harm.exposure_layers(["wind", "waterlogging"], p, lc, pts, small_grid, on_slopes=cfg,
                                           slope=small_grid.like(slope), dem=small_grid.like(dem), **kw)
    e = layers["exposure:wind"].values
    assert np.nansum(e[:10]) == 0 and np.nansum(e[18:]) == 0
    np.testing.assert_allclose(e[12], np.nan_to_num(people[12], nan=np.nan), rtol=1e-6)
    assert np.nansum(layers["exposure:waterlogging"].values[18:]) > 0  # not listed: everywhere
    assert "slope_deg" in tags["exposure:wind"]["ON_SLOPES"] and tags["exposure:waterlogging"]["ON_SLOPES"] == "no"
    layers2, _, _ = harm.exposure_layers(["wind"], small_grid.like(da.from_array(people, chunks=23)),
                                         small_grid.like(da.from_array(lc, chunks=23)), pts, small_grid,
                                         on_slopes=cfg, slope=small_grid.like(da.from_array(slope, chunks=23)),
                                         dem=small_grid.like(da.from_array(dem, chunks=23)), **kw)
    np.testing.assert_array_equal(layers2["exposure:wind"].values, e)
    with pytest.raises(ValueError, match="on_slopes.wind"):
        harm.exposure_layers(["wind"], p, lc, pts, small_grid, on_slopes=cfg, **kw)


def test_intensity_damage_curves_values_and_parity(small_grid):
    from scipy.stats import norm

    eq = {"curve": "lognormal", "range": [0.05, 0.4], "median": 0.3, "beta": 0.6, "annual_probability": 0.0021}
    wind = {"curve": "cubic", "range": [15, 35], "threshold": 20, "half": 45, "annual_probability": 0.02}
    h = np.array([[0.0, 0.5, 1.0, np.nan]], dtype="f4")
    got = harm.intensity_hazard(xr.DataArray(h, dims=("y", "x")), "earthquake", eq).values
    pga = np.array([0.05, 0.225, 0.4])
    np.testing.assert_allclose(got[0, :3], 0.0021 * norm.cdf(np.log(pga / 0.3) / 0.6), rtol=1e-5)
    assert np.isnan(got[0, 3]) and (np.diff(got[0, :3]) > 0).all()
    w = harm.intensity_hazard(xr.DataArray(h, dims=("y", "x")), "wind", wind).values
    v = np.maximum(np.array([15.0, 25.0, 35.0]) - 20, 0) / 25
    np.testing.assert_allclose(w[0, :3], 0.02 * v ** 3 / (1 + v ** 3), rtol=1e-5, atol=1e-9)
    assert w[0, 0] == 0  # below the threshold nothing is damaged
    rng = np.random.default_rng(9)
    big = rng.random(small_grid.shape).astype("f4")
    ref = harm.intensity_hazard(small_grid.like(big), "wind", wind).values
    for chunk in (16, 23):
        np.testing.assert_array_equal(
            harm.intensity_hazard(small_grid.like(da.from_array(big, chunks=chunk)), "wind", wind).values, ref)
    with pytest.raises(ValueError, match=r"intensity_damage\.wind\.range"):
        harm.check_curve("wind", {**wind, "range": [30, 20]})
    with pytest.raises(ValueError, match=r"intensity_damage\.earthquake\.curve"):
        harm.check_curve("earthquake", {**eq, "curve": "linear"})


def test_combine_all_puts_index_hazards_on_the_probability_scale(small_grid):
    rng = np.random.default_rng(3)
    hz = {k: small_grid.like(rng.random(small_grid.shape).astype("f4")) for k in ("wind", "geological")}
    by = {k: (small_grid.like((rng.random(small_grid.shape) * 50).astype("f4")),
              small_grid.like(rng.random(small_grid.shape).astype("f4"))) for k in hz}
    curve = {"curve": "cubic", "range": [15, 35], "threshold": 20, "half": 45, "annual_probability": 0.02}
    cfg = {"method": "expected_harm", "multi_hazard": {"rule": "max"}, "intensity_damage": {"wind": curve}}
    risks, tags, _ = combine.combine_all(hz, None, None, cfg, by)
    p = harm.damage_kernel(hz["wind"].values, **harm.check_curve("wind", curve))
    np.testing.assert_allclose(risks["wind"].values, p * by["wind"][0].values * by["wind"][1].values, rtol=1e-5)
    geo = hz["geological"].values * by["geological"][0].values * by["geological"][1].values
    np.testing.assert_allclose(risks["geological"].values, geo, rtol=1e-6)  # trained hazard untouched
    assert "cubic" in tags["wind"]["INTENSITY_DAMAGE"] and tags["geological"]["INTENSITY_DAMAGE"] == "no"


@pytest.mark.parametrize("kw", [dict(curve="lognormal", lo=0.08, hi=0.16, median=0.3, beta=0.6, annual_probability=0.0021),
                                dict(curve="lognormal", lo=0.0, hi=0.2, median=0.25, beta=0.5, annual_probability=1.0),
                                dict(curve="cubic", lo=23.7, hi=25.9, threshold=20.0, half=45.0, annual_probability=0.02),
                                dict(curve="cubic", lo=10.0, hi=60.0, threshold=20.0, half=45.0, annual_probability=1.0)])
def test_damage_kernel_in_place_equals_the_plain_formula(kw):
    # The in-place kernel gives the bits of the plain expressions of its docstring, NaN, 0 and out-of-range included.
    from scipy.special import ndtr

    rng = np.random.default_rng(7)
    h = rng.uniform(-0.2, 1.2, 20_000).astype("f4")
    h[::17], h[::19], h[::23] = np.nan, 0.0, -0.0
    x = kw["lo"] + np.clip(h.astype("f8"), 0.0, 1.0) * (kw["hi"] - kw["lo"])
    with np.errstate(divide="ignore"):
        if kw["curve"] == "lognormal":
            d = ndtr(np.log(np.maximum(x, 0.0) / kw["median"]) / kw["beta"])
        else:
            v = np.maximum(x - kw["threshold"], 0.0) / (kw["half"] - kw["threshold"])
            d = v ** 3 / (1.0 + v ** 3)
    expected = np.where(np.isfinite(x), kw["annual_probability"] * d, np.nan).astype("f4")
    got = harm.damage_kernel(h, **kw)
    assert got.dtype == np.float32 and got.tobytes() == expected.tobytes()
    assert got.tobytes() == harm.damage_kernel(h.reshape(100, 200), **kw).ravel().tobytes()
