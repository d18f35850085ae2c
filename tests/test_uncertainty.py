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
