"""AHP, entropy and combined weights."""

import numpy as np
import pytest

from risk import weights as W


def test_ahp_consistent_matrix_weights_and_cr():
    # A perfectly consistent matrix built from known weights: CR = 0 and the weights come back.
    w = np.array([0.5, 0.3, 0.2])
    a = w[:, None] / w[None, :]
    r = W.ahp_weights(a)
    np.testing.assert_allclose(r.weights, w, atol=1e-9)
    assert r.cr == pytest.approx(0.0, abs=1e-9)
    assert r.lambda_max == pytest.approx(3.0)


def test_ahp_saaty_example():
    r = W.ahp_weights([[1, 3, 5], [1 / 3, 1, 3], [1 / 5, 1 / 3, 1]])
    np.testing.assert_allclose(r.weights, [0.637, 0.258, 0.105], atol=1e-3)
    assert 0 < r.cr < 0.1


def test_ahp_inconsistent_names_key():
    bad = [[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]]  # a > b > c > a
    with pytest.raises(W.InconsistentJudgementError, match=r"hazards\.wind\.ahp_matrix: consistency ratio"):
        W.ahp_weights(bad, key="hazards.wind.ahp_matrix")


def test_ahp_not_reciprocal():
    with pytest.raises(W.InconsistentJudgementError, match=r"k: not reciprocal: \[0\]\[1\]"):
        W.ahp_weights([[1, 3], [3, 1]], key="k")
    with pytest.raises(W.InconsistentJudgementError, match="square"):
        W.ahp_weights([[1, 2, 3]], key="k")


def test_entropy_weights():
    rng = np.random.default_rng(0)
    x = np.column_stack([rng.random(500), 0.5 + 0.01 * rng.random(500), np.full(500, 0.3)])
    w = W.entropy_weights(x)
    assert w.sum() == pytest.approx(1.0)
    assert w[0] > 0.9 and w[2] == 0.0
    # NaN rows are ignored
    x[:10, 1] = np.nan
    assert W.entropy_weights(x).sum() == pytest.approx(1.0)


def test_combine_weights():
    a, e = np.array([0.6, 0.4]), np.array([0.2, 0.8])
    np.testing.assert_allclose(W.combine_weights(a, e, "linear", 0.5), [0.4, 0.6])
    np.testing.assert_allclose(W.combine_weights(a, e, "multiplicative"), [0.12 / 0.44, 0.32 / 0.44])
    with pytest.raises(ValueError, match="method"):
        W.combine_weights(a, e, "other")


def test_normalise_weights():
    np.testing.assert_allclose(W.normalise_weights({"b": 1, "a": 3}, ["a", "b"]), [0.75, 0.25])
    with pytest.raises(ValueError, match="no weight for b"):
        W.normalise_weights({"a": 1}, ["a", "b"], key="x")


def test_hazard_weight_settings_fail_early_with_the_key():
    from risk.models.index_model import check_weight_settings

    ok = {"mode": "index", "weights": "ahp", "ahp_matrix": [[1, 3], [1 / 3, 1]]}
    check_weight_settings("wind", ok, 2)
    with pytest.raises(ValueError, match=r"hazards\.wind\.ahp_matrix: is 2×2 but the hazard has 3 features"):
        check_weight_settings("wind", ok, 3)
    bad = {"mode": "index", "weights": "ahp_entropy", "ahp_matrix": [[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]]}
    with pytest.raises(W.InconsistentJudgementError, match=r"hazards\.earthquake\.ahp_matrix: consistency ratio"):
        check_weight_settings("earthquake", bad, 3)
    with pytest.raises(ValueError, match=r"hazards\.wind\.ahp_matrix: required"):
        check_weight_settings("wind", {"mode": "index", "weights": "ahp", "ahp_matrix": None}, 3)
    check_weight_settings("geological", {"mode": "model", "weights": "entropy", "ahp_matrix": None}, 7)
