"""Trained susceptibility: candidate classifiers chosen by spatial CV, and prediction to the grid.

Candidates (scikit-learn): ``logistic`` (standardised logistic regression), ``random_forest`` and
``hist_gradient_boosting``. Each is scored by spatial block CV (:mod:`risk.models.spatial_cv`);
the one with the highest mean spatial-CV AUC is refitted on all samples. Random K-fold AUC is
computed beside it only to show the optimism that spatial autocorrelation hides. Permutation
importance is measured on the held-out blocks of each spatial fold (AUC drop when a feature is
shuffled), then averaged over folds.

Presences and background are weighted to equal total weight (``class_weight="balanced"``), so the
output reads as a relative likelihood on 0-1 with 0.5 at the prevalence-neutral point rather than a
probability shrunk towards the arbitrary presence/background ratio.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from risk.grid import Grid
from risk.models import sampling, spatial_cv
from risk.models.index_model import fit_hazard_index, index_payload

logger = logging.getLogger(__name__)

CANDIDATES = ("logistic", "random_forest", "hist_gradient_boosting")

DEFAULT_PARAMS = {
    "logistic": {"C": 1.0, "max_iter": 2000},
    "random_forest": {"n_estimators": 60, "max_depth": 10, "min_samples_leaf": 5, "max_features": "sqrt"},
    "hist_gradient_boosting": {"max_iter": 100, "learning_rate": 0.08, "max_leaf_nodes": 15,
                               "min_samples_leaf": 20, "l2_regularization": 1.0},
}


def make_estimator(name: str, params: dict | None = None, seed: int = 0, n_jobs: int = 2):
    """A fresh scikit-learn classifier for candidate ``name`` with defaults overridden by ``params``."""
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if name not in CANDIDATES:
        raise ValueError(f"hazards.training.candidates: {name!r} is not one of {', '.join(CANDIDATES)}")
    p = {**DEFAULT_PARAMS[name], **(params or {})}
    if name == "logistic":
        return make_pipeline(StandardScaler(), LogisticRegression(class_weight="balanced", **p))
    if name == "random_forest":
        return RandomForestClassifier(class_weight="balanced_subsample", random_state=seed, n_jobs=n_jobs, **p)
    return HistGradientBoostingClassifier(class_weight="balanced", early_stopping=False, random_state=seed, **p)


def describe_estimator(est) -> dict:
    """Class name and the non-default-looking parameters of an estimator (JSON-ready)."""
    final = est.steps[-1][1] if hasattr(est, "steps") else est
    # n_jobs / verbose say how it ran, not what it is (and would make metrics depend on the rule's threads)
    params = {k: v for k, v in final.get_params(deep=False).items()
              if isinstance(v, (int, float, str, bool, type(None))) and k not in ("n_jobs", "verbose")}
    out = {"estimator": type(final).__name__, "params": params}
    if hasattr(est, "steps"):
        out["pipeline"] = [type(s).__name__ for _, s in est.steps]
    return out


def _auc(y, p) -> float:
    return float(roc_auc_score(y, p)) if np.unique(y).size == 2 else float("nan")


def _proba(est, X) -> np.ndarray:
    return est.predict_proba(X)[:, 1]


def cv_scores(est, X, y, folds) -> tuple[list[float], np.ndarray, list]:
    """AUC of each fold, out-of-fold predictions, and the model fitted on each fold's training part."""
    folds = np.asarray(folds)
    oof = np.full(len(y), np.nan)
    aucs, fitted = [], []
    for f in np.unique(folds):
        test = folds == f
        m = clone(est).fit(X[~test], y[~test])
        oof[test] = _proba(m, X[test])
        aucs.append(_auc(y[test], oof[test]))
        fitted.append(m)
    return aucs, oof, fitted


def random_folds(y, n_folds: int, seed: int = 0) -> np.ndarray:
    """Stratified random K-fold assignment (the optimistic reference)."""
    folds = np.empty(len(y), dtype=np.int64)
    skf = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    for i, (_, test) in enumerate(skf.split(np.zeros(len(y)), y)):
        folds[test] = i
    return folds


def held_out_importance(fitted, X, y, folds, features, n_repeats: int = 5, seed: int = 0) -> dict:
    """Permutation importance (drop in AUC) on each fold's held-out blocks, averaged over folds."""
    from sklearn.inspection import permutation_importance

    folds = np.asarray(folds)
    per_fold = []
    for f, m in zip(np.unique(folds), fitted, strict=True):
        test = folds == f
        if np.unique(y[test]).size < 2:
            continue
        r = permutation_importance(m, X[test], y[test], scoring="roc_auc", n_repeats=n_repeats,
                                   random_state=seed, n_jobs=1)
        per_fold.append(r.importances_mean)
    arr = np.array(per_fold)
    out = {}
    for j, name in enumerate(features):
        out[name] = {"mean": round(float(arr[:, j].mean()), 5), "std": round(float(arr[:, j].std()), 5),
                     "per_fold": [round(float(x), 5) for x in arr[:, j]]}
    return dict(sorted(out.items(), key=lambda kv: -kv[1]["mean"]))


@dataclass
class TrainResult:
    """A fitted susceptibility model, its validation and the samples it was validated on."""

    model: object
    name: str
    features: list[str]
    metrics: dict
    samples: pd.DataFrame = field(repr=False)


def train(X, y, xs, ys, features: list[str], folds, cv_info: dict, *, candidates=CANDIDATES,
          params: dict | None = None, n_folds: int = 5, n_repeats: int = 5, seed: int = 0,
          n_jobs: int = 2) -> TrainResult:
    """Score every candidate by spatial CV, pick the best, refit on all samples, measure the rest.

    Parameters
    ----------
    X : numpy.ndarray
        ``(n, n_features)`` float32 samples; ``y`` 1 presence / 0 background.
    xs, ys : numpy.ndarray
        Sample coordinates (kept in the returned samples table).
    folds : numpy.ndarray
        Spatial fold of each sample (:func:`risk.models.spatial_cv.spatial_folds`).
    cv_info : dict
        Description of the blocking, copied into the metrics.

    Returns
    -------
    TrainResult
        ``metrics`` follows the ``models/<hazard>/metrics.json`` contract; ``samples`` has one row
        per sample with ``x, y, label, fold, oof`` (the chosen model's spatial out-of-fold prediction).
    """
    from threadpoolctl import threadpool_limits

    # OpenMP (histogram gradient boosting) on a few thousand samples gains nothing from threads and
    # spin-waits badly on a busy machine: train single-threaded; random forests use n_jobs threads.
    with threadpool_limits(limits=1, user_api="openmp"):
        return _train(X, y, xs, ys, features, folds, cv_info, candidates=candidates, params=params,
                      n_folds=n_folds, n_repeats=n_repeats, seed=seed, n_jobs=n_jobs)


def _train(X, y, xs, ys, features, folds, cv_info, *, candidates, params, n_folds, n_repeats, seed,
           n_jobs) -> TrainResult:
    X = np.asarray(X, dtype="f4")
    y = np.asarray(y).astype(np.int64)
    params = params or {}
    rfolds = random_folds(y, n_folds, seed)
    scores = {}
    best = None
    for name in candidates:
        est = make_estimator(name, params.get(name), seed, n_jobs)
        aucs, oof, fitted = cv_scores(est, X, y, folds)
        scores[name] = {"auc_spatial_cv": round(float(np.nanmean(aucs)), 4),
                        "auc_spatial_cv_folds": [round(a, 4) for a in aucs]}
        if best is None or np.nanmean(aucs) > best[1] + 1e-9:
            best = (name, float(np.nanmean(aucs)), aucs, oof, fitted)
    name, mean_auc, aucs, oof, fitted = best
    # Random CV only for the chosen model: it is reported for the optimism it hides, never used to choose.
    r_aucs, _, _ = cv_scores(make_estimator(name, params.get(name), seed, n_jobs), X, y, rfolds)
    scores[name].update(auc_random_cv=round(float(np.nanmean(r_aucs)), 4))
    fitted = [single_threaded(m) for m in fitted]
    importance = held_out_importance(fitted, X, y, folds, features, n_repeats, seed)
    model = make_estimator(name, params.get(name), seed, n_jobs).fit(X, y)
    metrics = {
        "mode": "model",
        "model": {"name": name, **describe_estimator(model),
                  "class_weight": "balanced (presences and background weigh the same in total)"},
        "features": list(features),
        "n_presence": int((y == 1).sum()),
        "n_background": int((y == 0).sum()),
        "auc_spatial_cv": round(mean_auc, 4),
        "auc_spatial_cv_folds": [round(a, 4) for a in aucs],
        "auc_random_cv": round(float(np.nanmean(r_aucs)), 4),
        "auc_random_cv_folds": [round(a, 4) for a in r_aucs],
        "cv": {**cv_info, "random_cv": f"stratified {n_folds}-fold, shuffled, seed {seed}",
               "selection": "highest mean spatial-CV AUC among the candidates"},
        "candidates": scores,
        "feature_importance": importance,
        "feature_ranking": list(importance),
        "feature_importance_method": (f"permutation importance on the held-out blocks of each spatial fold "
                                      f"(drop in ROC AUC, {n_repeats} repeats), mean and std over folds"),
        "seed": int(seed),
    }
    samples = pd.DataFrame({"x": xs, "y": ys, "label": y, "fold": np.asarray(folds), "oof": oof})
    return TrainResult(model=model, name=name, features=list(features), metrics=metrics, samples=samples)


# -- prediction ---------------------------------------------------------------------------------
def predict_block(block: np.ndarray, model) -> np.ndarray:
    """Predict one ``(n_features, rows, cols)`` block to a ``(rows, cols)`` float32 0-1 array.

    Cells where any feature is NaN stay NaN. Runs the estimator single-threaded: Dask supplies the
    parallelism across blocks.
    """
    from threadpoolctl import threadpool_limits

    nf, nr, nc = block.shape
    X = np.ascontiguousarray(block.reshape(nf, -1).T, dtype="f4")
    ok = np.all(np.isfinite(X), axis=1)
    out = np.full(nr * nc, np.nan, dtype="f4")
    if ok.any():
        with threadpool_limits(1):
            out[ok] = model.predict_proba(X[ok])[:, 1].astype("f4")
    return out.reshape(nr, nc)


def single_threaded(model):
    """A shallow copy of ``model`` that predicts on one thread (random forests spawn ``n_jobs`` threads)."""
    import copy

    m = copy.copy(model)
    if hasattr(m, "get_params") and "n_jobs" in m.get_params(deep=False):
        m.set_params(n_jobs=1)
    return m


def predict_grid(model, features: list[xr.DataArray]) -> xr.DataArray:
    """Susceptibility on the whole grid (float32 0-1, NaN where a feature is NaN).

    Dask-backed features are stacked to ``(n_features, y, x)`` blocks and predicted block by block
    with ``dask.array.map_blocks`` (memory: one block of features per worker thread); numpy-backed
    features are predicted in one go.
    """
    model = single_threaded(model)
    ref = features[0]
    if isinstance(ref.data, da.Array):
        stack = da.stack([f.data.astype("f4") for f in features], axis=0).rechunk({0: -1})
        out = stack.map_blocks(predict_block, model, drop_axis=0, dtype="f4", meta=np.empty((0, 0), "f4"))
    else:
        out = predict_block(np.stack([np.asarray(f.data, dtype="f4") for f in features]), model)
    res = xr.DataArray(out, dims=ref.dims, coords=ref.coords, name="susceptibility")
    res.attrs = {k: v for k, v in ref.attrs.items() if k in ("crs", "res")}
    return res


# -- one hazard, end to end ----------------------------------------------------------------------
SAMPLE_COLUMNS = ("x", "y", "label", "fold", "oof")


def background_scheme(background: Mapping) -> dict:
    """How the background cells were drawn (``background_scheme`` of ``metrics.json``).

    ``background`` is the config's ``hazards.training.background`` section, copied into the record.
    """
    bg = background
    return {"sampling": "uniform random cells of the study area (all features finite), without replacement, "
                        "excluding presence cells" + (f" and cells within {bg['exclusion_m']} m of one"
                                                      if bg["exclusion_m"] else ""),
            "n": "clip(ratio * n_presence, min, max)", **bg}


def fit_susceptibility(features: list[xr.DataArray], grid: Grid, xs, ys, training: Mapping, *,
                       hazard: str = "", presence_desc: str = "", n_jobs: int = 1):
    """Sample presences and background, fold them in space, train, choose and predict the grid.

    Parameters
    ----------
    features : list of xarray.DataArray
        Indicator rasters on ``grid``, named (the names are the model's features).
    xs, ys : numpy.ndarray
        Presence points in the grid's CRS.
    training : mapping
        The config's ``hazards.training`` section (background, cv, candidates, params, seed ...).

    Returns
    -------
    out : xarray.DataArray
        Predicted susceptibility (float32 0-1, NaN where a feature is NaN).
    metrics, payload : dict
        The ``metrics.json`` record and the model file's content (``mode``, ``estimator``, ``features``).
    samples : pandas.DataFrame
        ``x, y, label, fold, oof`` of every sample, rounded as ``cv_samples.csv`` holds them.
    """
    tr, bg, cv = training, training["background"], training["cv"]
    names = [str(f.name) for f in features]
    X, y, cx, cy = sampling.training_table(features, grid, xs, ys, ratio=bg["ratio"],
                                           min_background=bg["min"], max_background=bg["max"],
                                           exclusion_m=bg["exclusion_m"], seed=tr["seed"])
    folds, info = spatial_cv.spatial_folds(cx, cy, y, (grid.xmin, grid.ymax), cv["n_folds"],
                                           cv["block_size_m"], None, cv["min_blocks_per_fold"],
                                           min_size=2 * grid.res, seed=tr["seed"], X=X, names=names)
    logger.info("%s: %d presences, %d background; blocks of %.0f m, presences per fold %s", hazard,
                int(y.sum()), int((y == 0).sum()), info["block_size_m"], info["presences_per_fold"])
    res = train(X, y, cx, cy, names, folds, info, candidates=tr["candidates"], params=tr["params"],
                n_folds=cv["n_folds"], n_repeats=tr["importance_repeats"], seed=tr["seed"], n_jobs=n_jobs)
    metrics = res.metrics
    metrics["background_scheme"] = background_scheme(bg)
    metrics["presence_source"] = presence_desc
    for name, sc in metrics["candidates"].items():
        logger.info("%s: %-24s spatial-CV AUC %.3f", hazard, name, sc["auc_spatial_cv"])
    logger.info("%s: chose %s, spatial-CV AUC %.3f (random CV %.3f)", hazard, res.name,
                metrics["auc_spatial_cv"], metrics["auc_random_cv"])
    samples = res.samples.assign(x=res.samples["x"].round(3), y=res.samples["y"].round(3),
                                 oof=res.samples["oof"].round(6))
    payload = {"mode": "model", "estimator": res.model, "features": names}
    return predict_grid(res.model, features), metrics, payload, samples


def fit_hazard(features: list[xr.DataArray], grid: Grid, xs, ys, *, hazard: str, settings: Mapping,
               training: Mapping, normalize_cfg: Mapping, index_sample_size: int, presence_desc: str = "",
               n_jobs: int = 1):
    """A trained hazard's model, or its index model when too few presence cells label it.

    With fewer presence cells than ``training["min_presences"]`` the hazard falls back to
    :func:`risk.models.index_model.fit_hazard_index` (the reason recorded in the metrics) rather
    than fitting noise; otherwise :func:`fit_susceptibility`.

    Parameters
    ----------
    settings : mapping
        The hazard's settings (``hazards.<hazard>`` with ``features`` resolved to their specs).
    normalize_cfg : mapping
        The config's ``indicators.normalize`` section (quantiles of the index fallback).

    Returns
    -------
    out, metrics, payload, samples
        As :func:`fit_susceptibility`; ``metrics`` and ``payload`` also name the hazard, and the
        payload records the scikit-learn and numpy versions. ``samples`` is empty for the fallback.
    """
    import sklearn

    logger.info("%s: %d presence points, %d features", hazard, len(xs), len(settings["features"]))
    n_cells = sampling.presence_cells(xs, ys, grid)[0].size
    if n_cells < training["min_presences"]:
        reason = (f"only {n_cells} presence cell(s), fewer than hazards.training.min_presences = "
                  f"{training['min_presences']}")
        logger.warning("%s: %s; falling back to the index model", hazard, reason)
        out, metrics = fit_hazard_index(features, settings, normalize_cfg, index_sample_size, hazard)
        metrics["fallback_reason"] = reason
        payload = index_payload(metrics)
        samples = pd.DataFrame(columns=list(SAMPLE_COLUMNS))
    else:
        out, metrics, payload, samples = fit_susceptibility(features, grid, xs, ys, training, hazard=hazard,
                                                            presence_desc=presence_desc, n_jobs=n_jobs)
    metrics["hazard"] = hazard
    payload.update(hazard=hazard, sklearn_version=sklearn.__version__, numpy_version=np.__version__)
    return out, metrics, payload, samples
