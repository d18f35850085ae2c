"""Indicator weights for index models: AHP, the entropy method, and their combination.

* **AHP** (Saaty's analytic hierarchy process): an expert fills a reciprocal pairwise-comparison
  matrix ``A`` (``A[i, j]`` = how much more indicator *i* matters than *j* on the 1-9 scale,
  ``A[j, i] = 1 / A[i, j]``). The weights are its principal eigenvector, normalised to sum to 1.
  The consistency ratio ``CR = CI / RI`` with ``CI = (lambda_max - n) / (n - 1)`` and Saaty's random
  index ``RI`` must stay below 0.1, otherwise the judgements contradict each other and are rejected.
* **Entropy method** (objective weights): with indicator values ``x_ij >= 0`` (cells *i*,
  indicators *j*) and ``p_ij = x_ij / sum_i x_ij``, the entropy ``e_j = -sum_i p_ij ln p_ij / ln n``;
  indicators that vary more (lower entropy) weigh more: ``w_j = (1 - e_j) / sum_k (1 - e_k)``.
* **Combination**: ``linear`` ``w = alpha * w_ahp + (1 - alpha) * w_entropy`` (default alpha 0.5), or
  ``multiplicative`` ``w ∝ w_ahp * w_entropy`` (renormalised), the two usual "subjective + objective"
  combinations of the Chinese risk-assessment literature.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from risk.errors import InputError

RANDOM_INDEX = {1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41, 9: 1.45, 10: 1.49,
                11: 1.51, 12: 1.48, 13: 1.56, 14: 1.57, 15: 1.59}
"""Saaty's random consistency index by matrix order."""

CR_LIMIT = 0.1
WEIGHT_METHODS = ("ahp", "entropy", "ahp_entropy", "fixed")
COMBINATIONS = ("linear", "multiplicative")


class InconsistentJudgementError(InputError):
    """An AHP matrix is not reciprocal, or its consistency ratio is 0.1 or more."""


@dataclass(frozen=True)
class AHPResult:
    """Weights of an AHP matrix and its consistency."""

    weights: np.ndarray
    lambda_max: float
    ci: float
    cr: float

    def as_dict(self, names=None) -> dict:
        w = [round(float(x), 6) for x in self.weights]
        return {"weights": dict(zip(names, w, strict=True)) if names is not None else w,
                "lambda_max": round(self.lambda_max, 6), "ci": round(self.ci, 6), "cr": round(self.cr, 6)}


def ahp_weights(matrix, key: str = "ahp_matrix", cr_limit: float = CR_LIMIT, tol: float = 1e-3) -> AHPResult:
    """Weights and consistency ratio of a pairwise-comparison matrix.

    Parameters
    ----------
    matrix : array-like, shape (n, n)
        Positive reciprocal matrix (``A[j, i] == 1 / A[i, j]``, ones on the diagonal).
    key : str
        Config key the matrix came from, named in error messages.
    cr_limit : float
        Largest consistency ratio accepted (Saaty: 0.1).

    Raises
    ------
    InconsistentJudgementError
        Not square, not positive, not reciprocal, or ``CR >= cr_limit``.

    Examples
    --------
    >>> r = ahp_weights([[1, 3, 5], [1 / 3, 1, 3], [1 / 5, 1 / 3, 1]])
    >>> r.weights.round(3).tolist(), round(r.cr, 3)
    ([0.637, 0.258, 0.105], 0.033)
    """
    a = np.asarray(matrix, dtype="f8")
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] == 0:
        raise InconsistentJudgementError(f"{key}: expected a square matrix, got shape {a.shape}")
    n = a.shape[0]
    if not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise InconsistentJudgementError(f"{key}: every judgement must be a positive number")
    if not np.allclose(np.diag(a), 1.0, rtol=0, atol=tol):
        raise InconsistentJudgementError(f"{key}: the diagonal must be 1 (an indicator compared with itself)")
    bad = np.argwhere(~np.isclose(a * a.T, 1.0, rtol=0, atol=max(tol, 0.02)))
    if bad.size:
        i, j = bad[0]
        raise InconsistentJudgementError(
            f"{key}: not reciprocal: [{i}][{j}] = {a[i, j]:g} but [{j}][{i}] = {a[j, i]:g} "
            f"(expected {1 / a[i, j]:.4g})")
    vals, vecs = np.linalg.eig(a)
    k = int(np.argmax(vals.real))
    lam = float(vals[k].real)
    w = np.abs(vecs[:, k].real)
    w = w / w.sum()
    ci = (lam - n) / (n - 1) if n > 2 else 0.0
    ri = RANDOM_INDEX.get(n, 1.59)
    cr = ci / ri if ri > 0 else 0.0
    cr = max(cr, 0.0)
    if cr >= cr_limit:
        raise InconsistentJudgementError(
            f"{key}: consistency ratio CR = {cr:.3f} >= {cr_limit} (lambda_max {lam:.3f}, n {n}); the pairwise "
            "judgements contradict each other: revise the matrix")
    return AHPResult(weights=w, lambda_max=lam, ci=float(ci), cr=float(cr))


def entropy_weights(values) -> np.ndarray:
    """Entropy-method weights of the columns of ``values`` (cells × indicators, non-negative).

    Rows with a non-finite value are dropped. A column that is constant carries no information
    and gets weight 0 (all constant: equal weights).

    Examples
    --------
    >>> entropy_weights(np.array([[0.1, 0.5], [0.9, 0.5], [0.5, 0.5]])).round(3).tolist()
    [1.0, 0.0]
    """
    x = np.asarray(values, dtype="f8")
    if x.ndim != 2:
        raise ValueError(f"entropy_weights: expected a 2-D array (cells × indicators), got shape {x.shape}")
    x = x[np.all(np.isfinite(x), axis=1)]
    m = x.shape[1]
    if x.shape[0] < 2:
        raise ValueError("entropy_weights: needs at least two cells with finite values")
    if np.any(x < 0):
        raise ValueError("entropy_weights: values must be normalised to be non-negative")
    n = x.shape[0]
    col = x.sum(axis=0)
    p = np.divide(x, col, out=np.full_like(x, 1.0 / n), where=col > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(p), 0.0)
    e = -plogp.sum(axis=0) / np.log(n)
    d = np.clip(1.0 - e, 0.0, None)
    if d.sum() <= 1e-12:
        return np.full(m, 1.0 / m)
    return d / d.sum()


def combine_weights(w_ahp, w_entropy, method: str = "linear", alpha: float = 0.5) -> np.ndarray:
    """Combine subjective (AHP) and objective (entropy) weights; see the module docstring."""
    a = np.asarray(w_ahp, dtype="f8")
    e = np.asarray(w_entropy, dtype="f8")
    if a.shape != e.shape:
        raise ValueError(f"combine_weights: {a.shape} AHP weights but {e.shape} entropy weights")
    if method == "linear":
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"combine_weights: alpha must lie in [0, 1], got {alpha}")
        w = alpha * a + (1.0 - alpha) * e
    elif method == "multiplicative":
        w = a * e
        if w.sum() <= 0:
            w = a.copy()
    else:
        raise ValueError(f"combine_weights: method {method!r} is not one of {', '.join(COMBINATIONS)}")
    return w / w.sum()


def normalise_weights(weights, names=None, key: str = "weights") -> np.ndarray:
    """Non-negative weights scaled to sum to 1 (a dict is read in the order of ``names``)."""
    if isinstance(weights, dict):
        if names is None:
            names = list(weights)
        missing = [n for n in names if n not in weights]
        if missing:
            raise ValueError(f"{key}: no weight for {', '.join(missing)}")
        w = np.array([weights[n] for n in names], dtype="f8")
    else:
        w = np.asarray(weights, dtype="f8")
    if w.ndim != 1 or w.size == 0 or np.any(~np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError(f"{key}: weights must be non-negative numbers with a positive sum, got {weights!r}")
    return w / w.sum()
