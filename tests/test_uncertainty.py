"""Monte-Carlo class stability: parity, limits, reproducibility."""

import dask.array as da
import numpy as np
import pytest

from risk.assessment import class_stability as U
from risk.assessment.zoning import class_breaks, classify


def _setup(grid, chunk=None, seed=0):
    rng = np.random.default_rng(seed)
    names = ["hazard:a", "hazard:b", "indicator:c/x1", "indicator:c/x2", "exposure", "vulnerability"]
    arrs = {k: rng.random(grid.shape).astype("f4") for k in names}
    for a in arrs.values():
        a[:4, :6] = np.nan
    wrap = (lambda a: a) if chunk is None else (lambda a: da.from_array(a, chunks=chunk))
    layers = {k: grid.like(wrap(a)) for k, a in arrs.items()}
    spec = {"hazards": {"a": {"layer": "hazard:a"}, "b": {"layer": "hazard:b"},
                        "c": {"index": {"features": ["indicator:c/x1", "indicator:c/x2"],
                                        "norms": [[0.0, 1.0, "more"], [0.0, 1.0, "less", "none"]], "weights": [0.7, 0.3]}}},
            "formula": {"a": "geometric", "b": "geometric", "c": "arithmetic"},
            "risk_weights": {"a": [0.5, 0.25, 0.25], "b": [1 / 3, 1 / 3, 1 / 3], "c": [0.4, 0.3, 0.3]},
            "multi": {"rule": "weighted_sum", "weights": [0.5, 0.3, 0.2]}}
    return layers, spec


def _base(layers, spec, name, grid):
    r = U.evaluate(spec, name, {k: np.asarray(v.values) for k, v in layers.items()})
    b = class_breaks(r[np.isfinite(r)][::7], "quantiles")
    return classify(grid.like(r), b)


def test_perturb_keeps_sum_and_spread():
    rng = np.random.default_rng(0)
    w = np.array([0.5, 0.3, 0.2])
    draws = np.array([U.perturb(w, 0.2, rng) for _ in range(500)])
    np.testing.assert_allclose(draws.sum(axis=1), 1.0)
    assert (np.abs(draws / w - 1) < 0.5).all() and draws.std(axis=0).min() > 0.005
    np.testing.assert_array_equal(U.perturb(w, 0.0, rng), w)
    with pytest.raises(ValueError, match="spread"):
        U.perturb(w, 1.5, rng)


@pytest.mark.parametrize("name", ["a", "c", "multi_hazard"])
def test_stability_parity_numpy_dask(small_grid, name):
    layers, spec = _setup(small_grid)
    base = _base(layers, spec, name, small_grid)
    ref, info = U.class_stability(layers, spec, name, base, "quantiles", n_draws=8, spread=0.2, seed=1,
                                  sample_size=1500)
    ref = ref.values
    assert np.isnan(ref[:4, :6]).all() and np.nanmin(ref) >= 0 and np.nanmax(ref) <= 1
    assert info["n_draws"] == 8 and len(info["breaks_mean"]) == 4
    for chunk in (16, 23):
        dl, _ = _setup(small_grid, chunk)
        db = base.copy(data=da.from_array(base.values, chunks=chunk))
        got, _ = U.class_stability(dl, spec, name, db, "quantiles", n_draws=8, spread=0.2, seed=1,
                                   sample_size=1500)
        assert isinstance(got.data, da.Array)
        np.testing.assert_array_equal(got.values, ref)


def test_zero_spread_is_fully_stable_and_spread_lowers_it(small_grid):
    layers, spec = _setup(small_grid)
    # fixed thresholds: with no perturbation every cell keeps its zone
    base = classify(small_grid.like(U.evaluate(spec, "multi_hazard", {k: v.values for k, v in layers.items()})),
                    [0.2, 0.4, 0.6, 0.8])
    s0, _ = U.class_stability(layers, spec, "multi_hazard", base, "fixed", [0.2, 0.4, 0.6, 0.8], n_draws=5,
                              spread=0.0)
    assert np.nanmin(s0.values) == 1.0
    s1, _ = U.class_stability(layers, spec, "multi_hazard", base, "fixed", [0.2, 0.4, 0.6, 0.8], n_draws=20,
                              spread=0.5, seed=3)
    assert 0.3 < np.nanmean(s1.values) < 1.0
    # reproducible
    s2, _ = U.class_stability(layers, spec, "multi_hazard", base, "fixed", [0.2, 0.4, 0.6, 0.8], n_draws=20,
                              spread=0.5, seed=3)
    np.testing.assert_array_equal(s1.values, s2.values)


def test_many_names_in_one_pass_equal_one_by_one(small_grid):
    layers, spec = _setup(small_grid, 16)
    names = ["a", "c", "multi_hazard"]
    np_layers = {k: v.compute() for k, v in layers.items()}
    bases = {n: _base(np_layers, spec, n, small_grid).chunk(16) for n in names}
    many, infos = U.class_stability_many(layers, spec, names, bases, dict.fromkeys(names, "quantiles"), n_draws=6,
                                         seed=4, sample_size=1500)
    for n in names:
        one, info = U.class_stability(layers, spec, n, bases[n], "quantiles", n_draws=6, seed=4, sample_size=1500)
        np.testing.assert_array_equal(many[n].values, one.values)
        assert infos[n] == info


def test_zoning_settings_from_tags():
    from risk.assessment.zoning import zoning_tags

    tags = {"a": zoning_tags("a", "fixed", [0.1, 0.2, 0.3, 0.4]),
            "b": zoning_tags("b", "natural_breaks", [1, 2, 3, 4])}
    methods, thresholds = U.zoning_settings(tags)
    assert methods == {"a": "fixed", "b": "natural_breaks"} and thresholds == {"a": [0.1, 0.2, 0.3, 0.4]}


def test_zone_stability_of_a_run(small_grid):
    from risk.assessment.zoning import zoning_tags

    layers, _ = _setup(small_grid, 16)
    metrics = {"a": {"mode": "model"}, "b": {"mode": "model"},
               "c": {"mode": "index", "features": ["c/x1", "c/x2"], "weights": {"c/x1": 0.7, "c/x2": 0.3},
                     "normalisation": {
                         "c/x1": {"lo": 0.0, "hi": 1.0, "direction": "more"},
                         "c/x2": {"lo": 0.0, "hi": 1.0, "direction": "less", "transform": "none"}}}}
    risk_cfg = {"method": "index", "formula": "geometric", "multi_hazard": {"rule": "max"}}
    spec = U.build_spec(metrics, risk_cfg)
    np_layers = {k: v.compute() for k, v in layers.items()}
    names = ["c", "multi_hazard"]
    zones = {n: _base(np_layers, spec, n, small_grid).chunk(16) for n in names}
    tags = {"c": zoning_tags("c", "quantiles", [0, 0, 0, 0]),
            "multi_hazard": zoning_tags("m", "fixed", [0.2, 0.4, 0.6, 0.8])}
    u = {"n_draws": 5, "spread": 0.2, "seed": 2, "sample_size": 1500}
    extra = {**layers, "hazard:unused": layers["exposure"]}
    rasters, infos, rtags, descr = U.zone_stability(metrics, risk_cfg, extra, zones, tags, u)
    ref, rinfo = U.class_stability_many(layers, spec, names, zones,
                                        {"c": "quantiles", "multi_hazard": "fixed"},
                                        {"multi_hazard": [0.2, 0.4, 0.6, 0.8]}, 5, 0.2, 2, 1500)
    for n in names:
        np.testing.assert_array_equal(rasters[n].values, ref[n].values)
    assert infos == rinfo
    assert rtags["multi_hazard"] == {"NAME": "multi_hazard", "N_DRAWS": 5, "SPREAD": 0.2, "SEED": 2,
                                     "ZONING_METHOD": "fixed"}
    assert descr["c"] == "c: share of 5 weight draws keeping the zone (0-1)"


def test_with_mean_stability_appends_the_sample_mean(small_grid):
    a = np.full(small_grid.shape, 0.5, "f4")
    a[:10] = 1.0
    a[-5:] = np.nan
    info = {"name": "x", "n_draws": 4, "spread": 0.2}
    out = U.with_mean_stability(info, small_grid.like(a), 100)
    from risk.grid import systematic_sample

    assert list(out) == ["name", "n_draws", "spread", "mean_stability"] and "mean_stability" not in info
    assert out["mean_stability"] == round(float(np.mean(systematic_sample(small_grid.like(a), 100))), 4)
    empty = small_grid.like(np.full(small_grid.shape, np.nan, "f4"))
    assert U.with_mean_stability(info, empty)["mean_stability"] is None


def test_expected_harm_spec_recomputes_the_published_risk(small_grid):
    from risk.assessment.combine_risk import combine_all

    rng = np.random.default_rng(4)
    h = {k: small_grid.like(rng.random(small_grid.shape).astype("f4")) for k in ("a", "b")}
    ev = {k: (small_grid.like((rng.random(small_grid.shape) * 30).astype("f4")),
              small_grid.like(rng.random(small_grid.shape).astype("f4"))) for k in h}
    cfg = {"method": "expected_harm", "multi_hazard": {"rule": "max"},
           "intensity_damage": {"b": {"curve": "lognormal", "range": [0.05, 0.4], "median": 0.2, "beta": 0.5,
                                      "annual_probability": 0.5}}}
    risks, _, _ = combine_all(h, None, None, cfg, ev)
    assert not np.allclose(risks["b"].values, h["b"].values * ev["b"][0].values * ev["b"][1].values)
    spec = U.build_spec({"a": {"mode": "model"}, "b": {"mode": "model"}}, cfg)
    assert U.layer_keys(spec, "a") == ["hazard:a", "exposure:a", "vulnerability:a"]
    layers = {**{f"hazard:{k}": v.values for k, v in h.items()},
              **{f"exposure:{k}": v[0].values for k, v in ev.items()},
              **{f"vulnerability:{k}": v[1].values for k, v in ev.items()}}
    for name in ("a", "b", "multi_hazard"):
        np.testing.assert_allclose(U.evaluate(spec, name, layers), risks[name].values, rtol=1e-6)


@pytest.mark.parametrize("chunk", [None, 23])
def test_matrix_class_stability(small_grid, chunk):
    """risk.method matrix: an unperturbed draw reproduces the published levels; perturbed weights move the
    zones of the index hazard only (a trained hazard's levels do not depend on any weight)."""
    from risk.assessment.combine_risk import combine_all
    from risk.assessment.zoning import MATRIX_THRESHOLDS

    g = small_grid
    arrs, metrics = _two_hazards(g, seed=6)
    cfg = {"method": "matrix", "multi_hazard": {"rule": "max"}}
    spec = U.build_spec(metrics, cfg, "quantiles")
    assert spec["formula"] == {"a": "matrix", "c": "matrix"} and spec["matrix"][4][4] == 5
    hz_c = U._hazard(spec, "c", U.prepare(spec, arrs, ["c"]))[0]
    risks, _, _ = combine_all({"a": g.like(arrs["hazard:a"]), "c": g.like(hz_c)}, None, None, cfg,
                              {h: (g.like(arrs[f"exposure:{h}"]), g.like(arrs[f"vulnerability:{h}"])) for h in "ac"},
                              hazard_method="quantiles")
    names = ["a", "c", "multi_hazard"]
    zones = {n: classify(g.like(risks[n].values), list(MATRIX_THRESHOLDS)) for n in names}
    wrap = (lambda a: g.like(a)) if chunk is None else (lambda a: g.like(da.from_array(a, chunks=chunk)))
    layers = {k: wrap(a) for k, a in arrs.items()}
    fixed = dict.fromkeys(names, "fixed")
    thr = dict.fromkeys(names, list(MATRIX_THRESHOLDS))
    kw = dict(n_draws=6, seed=1)
    still, _ = U.class_stability_many(layers, spec, names, zones, fixed, thr, spread=0.0, **kw)
    inside = np.isfinite(arrs["hazard:a"])
    for n in names:
        np.testing.assert_array_equal(still[n].values[inside], 1.0)
    moved, _ = U.class_stability_many(layers, spec, names, zones, fixed, thr, spread=0.5, **kw)
    np.testing.assert_array_equal(moved["a"].values[inside], 1.0)
    assert np.nanmin(moved["c"].values) < 1.0 and np.isnan(moved["c"].values[0, 0])


def _two_hazards(grid, seed):
    """Layers of a trained hazard ``a`` and an index hazard ``c`` (two indicators), NaN in one corner, and their
    metrics."""
    rng = np.random.default_rng(seed)
    arrs = {k: rng.random(grid.shape).astype("f4") for k in ("hazard:a", "indicator:c/x1", "indicator:c/x2")}
    for h in ("a", "c"):
        arrs[f"exposure:{h}"] = np.where(rng.random(grid.shape) < 0.3, 0, rng.random(grid.shape) * 40).astype("f4")
        arrs[f"vulnerability:{h}"] = rng.random(grid.shape).astype("f4")
    for a in arrs.values():
        a[:4, :6] = np.nan
    metrics = {"a": {"mode": "model"},
               "c": {"mode": "index", "features": ["c/x1", "c/x2"], "weights": {"c/x1": 0.6, "c/x2": 0.4},
                     "normalisation": {"c/x1": {"lo": 0, "hi": 1, "direction": "more"},
                                       "c/x2": {"lo": 0, "hi": 1, "direction": "less"}}}}
    return arrs, metrics


def _harm_setup(grid, chunk=None):
    arrs, metrics = _two_hazards(grid, seed=8)
    cfg = {"method": "expected_harm", "multi_hazard": {"rule": "max"},
           "intensity_damage": {"c": {"curve": "lognormal", "range": [0.05, 0.4], "median": 0.2, "beta": 0.5,
                                      "annual_probability": 0.5}}}
    wrap = (lambda a: grid.like(a)) if chunk is None else (lambda a: grid.like(da.from_array(a, chunks=chunk)))
    return arrs, {k: wrap(a) for k, a in arrs.items()}, U.build_spec(metrics, cfg)


def test_expected_harm_draws_share_one_context_without_leaking(small_grid):
    # A block's context serves every draw: the trained hazard's risk is computed once, the draws' arrays are
    # their own, and every draw gives the bits of a fresh evaluation; the layers are not changed.
    arrs, _, spec = _harm_setup(small_grid)
    before = {k: a.copy() for k, a in arrs.items()}
    names = ["a", "c", "multi_hazard"]
    ctx = U.prepare(spec, arrs)
    draws = U.draw_specs(spec, 4, 0.2, seed=3)
    shared = [{n: r.copy() for n, r in U.evaluate_prepared(s, names, ctx).items()} for s in draws]
    for s, got in zip(draws, shared, strict=True):
        fresh = U.evaluate_prepared(s, names, U.prepare(spec, arrs))
        for n in names:
            assert got[n].tobytes() == fresh[n].tobytes()
    assert not np.array_equal(shared[0]["c"], shared[1]["c"], equal_nan=True)  # the draws do move c
    assert U.evaluate_prepared(draws[0], ["a"], ctx)["a"] is U.evaluate_prepared(draws[1], ["a"], ctx)["a"]
    for k, a in arrs.items():
        np.testing.assert_array_equal(a, before[k])


def test_expected_harm_stability_parity_numpy_dask(small_grid):
    names = ["a", "c", "multi_hazard"]
    out = {}
    for chunk in (None, 23):
        arrs, layers, spec = _harm_setup(small_grid, chunk)
        zones = {}
        for n in names:
            r = U.evaluate(spec, n, arrs)
            zones[n] = classify(small_grid.like(r), class_breaks(r[np.isfinite(r)][::5], "quantiles"))
        out[chunk], _ = U.class_stability_many(layers, spec, names, zones, dict.fromkeys(names, "quantiles"),
                                               n_draws=5, seed=2)
    for n in names:
        np.testing.assert_array_equal(out[None][n].values, out[23][n].values)
        assert 0.5 < np.nanmean(out[None][n].values) < 1


def test_expected_harm_stability_equals_counting_every_draw_afresh(small_grid):
    # The breaks of a draw whose sample repeats an earlier draw's (the trained hazard "a") are drawn once, and a
    # risk that repeats the draw before is counted once times its draws: the shares of counting every draw afresh.
    from risk.assessment.zoning import draw_breaks
    from risk.grid import systematic_sample

    arrs, layers, spec = _harm_setup(small_grid)
    names = ["a", "c", "multi_hazard"]
    zones = {}
    for n in names:
        r = U.evaluate(spec, n, arrs)
        zones[n] = classify(small_grid.like(r), class_breaks(r[np.isfinite(r)][::5], "quantiles"))
    got, info = U.class_stability_many(layers, spec, names, zones, dict.fromkeys(names, "quantiles"), n_draws=6,
                                       seed=4, sample_size=700)
    samp = {k: systematic_sample(layers[k], 700, dropna=False) for k in arrs}
    for n in names:
        base = np.asarray(zones[n].values, "f4")
        kept = np.zeros(base.shape, "f4")
        for s in U.draw_specs(spec, 6, 0.2, seed=4):
            br = np.asarray(draw_breaks(U.evaluate(s, n, samp), "quantiles"), "f4")
            r = U.evaluate(s, n, arrs)
            kept += (np.searchsorted(br, r, side="left") + 1 == base) & np.isfinite(r)
        np.testing.assert_array_equal(got[n].values, np.where(base > 0, kept / np.float32(6), np.float32(np.nan)))
    assert max(info["a"]["breaks_std"]) == 0 < max(info["c"]["breaks_std"])
