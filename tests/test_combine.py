"""Risk formula and multi-hazard rules: values, numpy-vs-Dask parity, chunk independence."""

import dask.array as da
import numpy as np
import pytest

from risk.assessment import combine_risk as combine


def _layers(grid, rng, chunk=None):
    arrs = [rng.random(grid.shape).astype("f4") for _ in range(3)]
    for a in arrs:
        a[:3, :5] = np.nan
    if chunk is None:
        return [grid.like(a) for a in arrs]
    return [grid.like(da.from_array(a, chunks=chunk)) for a in arrs]


@pytest.mark.parametrize("formula", combine.FORMULAS)
def test_risk_index_parity(small_grid, formula):
    w = {"hazard": 0.5, "exposure": 0.3, "vulnerability": 0.2}
    ref = combine.risk_index(*_layers(small_grid, np.random.default_rng(1)), formula, w).values
    for chunk in (16, 23):
        got = combine.risk_index(*_layers(small_grid, np.random.default_rng(1), chunk), formula, w)
        assert isinstance(got.data, da.Array)
        np.testing.assert_array_equal(got.values, ref)
    assert ref.dtype == np.float32 and np.isnan(ref[0, 0]) and np.nanmax(ref) <= 1


def test_risk_formulas_values():
    h, e, v = np.float32(0.8), np.float32(0.5), np.float32(0.2)
    assert combine.risk_kernel(h, e, v, "geometric") == pytest.approx((0.8 * 0.5 * 0.2) ** (1 / 3), rel=1e-5)
    assert combine.risk_kernel(h, e, v, "product") == pytest.approx(0.08, rel=1e-5)
    assert combine.risk_kernel(h, e, v, "arithmetic", (0.5, 0.25, 0.25)) == pytest.approx(0.575, rel=1e-5)
    assert combine.risk_kernel(h, np.float32(0), v, "geometric") == 0
    with pytest.raises(ValueError, match=r"risk\.formula"):
        combine.risk_kernel(h, e, v, "other")


@pytest.mark.parametrize("rule", combine.MULTI_RULES)
def test_multi_hazard_parity(small_grid, rule):
    rng = np.random.default_rng(2)
    arrs = [rng.random(small_grid.shape).astype("f4") for _ in range(3)]
    ref = combine.multi_hazard({f"h{i}": small_grid.like(a) for i, a in enumerate(arrs)}, rule,
                               {"h0": 2, "h1": 1, "h2": 1}).values
    for chunk in (16, 23):
        got = combine.multi_hazard({f"h{i}": small_grid.like(da.from_array(a, chunks=chunk))
                                    for i, a in enumerate(arrs)}, rule, {"h0": 2, "h1": 1, "h2": 1})
        np.testing.assert_array_equal(got.values, ref)
    if rule == "max":
        np.testing.assert_array_equal(ref, np.max(arrs, axis=0))
    elif rule == "union":
        np.testing.assert_allclose(ref, 1 - np.prod([1 - a for a in arrs], axis=0), atol=1e-6)
    elif rule == "sum":
        np.testing.assert_allclose(ref, arrs[0] + arrs[1] + arrs[2], atol=1e-6)
    else:
        np.testing.assert_allclose(ref, 0.5 * arrs[0] + 0.25 * arrs[1] + 0.25 * arrs[2], atol=1e-6)


def test_combine_all_risks_multi_tags_and_descriptions(small_grid):
    rng = np.random.default_rng(3)
    h1, h2, e, v = (small_grid.like(rng.random(small_grid.shape).astype("f4")) for _ in range(4))
    cfg = {"method": "index", "formula": "geometric", "weights": {"hazard": 2, "exposure": 1, "vulnerability": 1},
           "per_hazard": {"wind": {"formula": "arithmetic"}},
           "multi_hazard": {"rule": "weighted_sum", "weights": {"wind": 3}}}
    risks, tags, descr = combine.combine_all({"wind": h1, "earthquake": h2}, e, v, cfg)
    assert list(risks) == list(tags) == list(descr) == ["wind", "earthquake", "multi_hazard"]
    w = {"hazard": 0.5, "exposure": 0.25, "vulnerability": 0.25}
    np.testing.assert_array_equal(risks["wind"].values, combine.risk_index(h1, e, v, "arithmetic", w).values)
    ref = combine.risk_index(h2, e, v, "geometric", w)
    np.testing.assert_array_equal(risks["earthquake"].values, ref.values)
    # the multi-hazard rule sees the hazards sorted by name
    ref = combine.multi_hazard({"earthquake": risks["earthquake"], "wind": risks["wind"]}, "weighted_sum",
                               {"wind": 3})
    np.testing.assert_array_equal(risks["multi_hazard"].values, ref.values)
    assert tags["wind"] == {"HAZARD": "wind", "RISK_METHOD": "index", "RISK_FORMULA": "arithmetic",
                            "RISK_WEIGHTS": "[0.5, 0.25, 0.25]"}
    assert tags["multi_hazard"] == {"HAZARD": "multi_hazard", "MULTI_HAZARD_RULE": "weighted_sum",
                                    "HAZARDS": "earthquake,wind"}
    assert descr["earthquake"] == "earthquake risk index 0-1 (geometric)"
    assert descr["multi_hazard"] == "multi-hazard risk index 0-1 (weighted_sum)"
