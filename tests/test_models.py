"""Susceptibility models: sampling, spatial CV, training, prediction (numpy-vs-Dask parity)."""

import dask.array as da
import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from risk.grid import Grid
from risk.models import index_model as index
from risk.models import sampling, spatial_cv
from risk.models import susceptibility as S


def synthetic(seed=0, shape=(120, 160), n_events=150, chunk=None):
    """Smooth random features, a known probability surface and events drawn from it."""
    g = Grid.from_bounds((500_000, 4_500_000, 500_000 + shape[1] * 100, 4_500_000 + shape[0] * 100),
                         "EPSG:4549", 100, chunk=chunk or 32)
    rng = np.random.default_rng(seed)
    feats = []
    for i in range(4):
        f = gaussian_filter(rng.normal(size=g.shape), 4 + 2 * i)
        feats.append(((f - f.mean()) / f.std()).astype("f4"))
    outside = np.zeros(g.shape, bool)
    outside[:20, :30] = True
    for f in feats:
        f[outside] = np.nan
    p = 1 / (1 + np.exp(-(1.8 * feats[0] - 0.8 * feats[1] ** 2 - 2.5)))
    w = np.nan_to_num(p).ravel()
    idx = rng.choice(g.size, n_events, p=w / w.sum(), replace=False)
    r, c = idx // g.width, idx % g.width
    xs, ys = g.xmin + (c + 0.5) * g.res, g.ymax - (r + 0.5) * g.res
    wrap = (lambda a: a) if chunk is None else (lambda a: da.from_array(a, chunks=chunk))
    F = [g.like(wrap(f), name=f"f{i}") for i, f in enumerate(feats)]
    return g, F, xs, ys, p


def test_presence_cells_dedup_and_off_grid(small_grid):
    g = small_grid
    xs = np.array([g.xmin + 5, g.xmin + 6, g.xmin + 45, g.xmin - 100])
    ys = np.array([g.ymax - 5, g.ymax - 7, g.ymax - 5, g.ymax - 5])
    r, c = sampling.presence_cells(xs, ys, g)
    assert r.tolist() == [0, 0] and c.tolist() == [0, 1]


def test_background_sampling_scheme():
    g, F, xs, ys, _ = synthetic(chunk=32)
    pr, pc = sampling.presence_cells(xs, ys, g)
    br, bc, X = sampling.sample_background(F, g, 800, pr, pc, exclusion_m=150, seed=3)
    assert len(br) == 800 and np.all(np.isfinite(X))
    flat = br * g.width + bc
    assert np.unique(flat).size == 800  # without replacement
    # nothing within 150 m (1.5 cells -> radius 2 cells) of a presence, nothing outside the area
    d2 = (br[:, None] - pr[None, :]) ** 2 + (bc[:, None] - pc[None, :]) ** 2
    assert d2.min() > 4
    assert not np.any((br < 20) & (bc < 30))
    # reproducible, and numpy-backed features give the same draw
    again = sampling.sample_background(synthetic()[1], g, 800, pr, pc, exclusion_m=150, seed=3)
    np.testing.assert_array_equal(again[0], br)
    np.testing.assert_array_equal(again[2], X)
    assert sampling.n_background(30) == 1000 and sampling.n_background(300) == 3000
    assert sampling.n_background(10_000) == 5000


def test_autocorrelation_range_tracks_smoothing():
    rng = np.random.default_rng(0)
    g = Grid.from_bounds((0, 0, 20_000, 20_000), "EPSG:4549", 100)
    short = g.like(gaussian_filter(rng.normal(size=g.shape), 2), name="short")
    long_ = g.like(gaussian_filter(rng.normal(size=g.shape), 12), name="long")
    size, ranges = spatial_cv.data_block_size([short, long_], seed=0)
    assert ranges["short"] < ranges["long"]
    assert ranges["short"] < size < ranges["long"]
    # the same from scattered samples (the background cells), without reading the rasters again
    r, c = rng.integers(0, g.height, 1500), rng.integers(0, g.width, 1500)
    X = np.column_stack([short.values[r, c], long_.values[r, c]])
    _, from_samples = spatial_cv.data_block_size(samples=X, xs=g.x[c], ys=g.y[r], names=["short", "long"])
    assert from_samples["short"] < from_samples["long"]
    assert 0.5 < from_samples["long"] / ranges["long"] < 2


def test_block_folds_keep_blocks_whole_and_balance():
    rng = np.random.default_rng(1)
    xs, ys = rng.uniform(0, 10_000, 2000), rng.uniform(0, 10_000, 2000)
    y = (rng.random(2000) < 0.1).astype(int)
    folds, info = spatial_cv.spatial_folds(xs, ys, y, (0, 10_000), 5, block_size=2000, seed=0)
    blocks = spatial_cv.block_ids(xs, ys, info["block_size_m"], (0, 10_000))
    for b in np.unique(blocks):
        assert np.unique(folds[blocks == b]).size == 1
    pres = np.bincount(folds[y == 1], minlength=5)
    assert pres.min() > 0 and pres.max() - pres.min() <= np.bincount(blocks[y == 1]).max()
    # too few occupied blocks -> the size shrinks
    folds, info = spatial_cv.spatial_folds(xs, ys, y, (0, 10_000), 5, block_size=9000, seed=0)
    assert info["block_size_m"] < 9000 and "block_size_note" in info


@pytest.fixture(scope="module")
def trained():
    g, F, xs, ys, p = synthetic(chunk=32)
    X, y, cx, cy = sampling.training_table(F, g, xs, ys, min_background=600, max_background=1500, seed=0)
    folds, info = spatial_cv.spatial_folds(cx, cy, y, (g.xmin, g.ymax), 4, None, F, seed=0)
    res = S.train(X, y, cx, cy, [f.name for f in F], folds, info, n_folds=4, n_repeats=2, seed=0,
                  params={"random_forest": {"n_estimators": 40}, "hist_gradient_boosting": {"max_iter": 60}})
    return g, F, p, res, (X, y, cx, cy, folds)


def test_train_metrics_contract(trained):
    g, F, p, res, _ = trained
    m = res.metrics
    for key in ("model", "features", "n_presence", "n_background", "auc_spatial_cv", "auc_spatial_cv_folds",
                "auc_random_cv", "cv", "feature_importance"):
        assert key in m
    assert len(m["auc_spatial_cv_folds"]) == 4
    assert m["auc_spatial_cv"] == pytest.approx(np.mean(m["auc_spatial_cv_folds"]), abs=1e-3)
    assert set(m["candidates"]) == set(S.CANDIDATES)
    assert m["model"]["name"] == max(m["candidates"], key=lambda k: m["candidates"][k]["auc_spatial_cv"])
    assert m["auc_spatial_cv"] > 0.7
    # the feature that drives the truth ranks first; pure-noise features near zero
    assert next(iter(m["feature_importance"])) == "f0"
    assert m["cv"]["block_size_m"] > 0 and "autocorrelation_range_m" in m["cv"]


def test_train_is_reproducible(trained):
    *_, res, (X, y, cx, cy, folds) = trained
    again = S.train(X, y, cx, cy, res.features, folds, {}, n_folds=4, n_repeats=2, seed=0,
                    params={"random_forest": {"n_estimators": 40}, "hist_gradient_boosting": {"max_iter": 60}})
    assert again.metrics["auc_spatial_cv_folds"] == res.metrics["auc_spatial_cv_folds"]
    assert again.metrics["feature_importance"] == res.metrics["feature_importance"]


@pytest.mark.parametrize("name", S.CANDIDATES)
def test_predict_grid_parity(trained, name):
    g, F, p, res, (X, y, *_rest) = trained
    model = S.make_estimator(name, {"n_estimators": 20} if name == "random_forest" else
                             ({"max_iter": 30} if name == "hist_gradient_boosting" else None)).fit(X, y)
    small = [f[:60, :80] for f in synthetic()[1]]
    ref = S.predict_grid(model, small).values
    assert ref.dtype == np.float32
    assert np.isnan(ref[:20, :30]).all() and np.isfinite(ref[20:, 30:]).all()
    assert np.nanmin(ref) >= 0 and np.nanmax(ref) <= 1
    for chunk in (16, 23):
        dsk = [f.copy(data=da.from_array(f.values, chunks=chunk)) for f in small]
        got = S.predict_grid(model, dsk)
        assert isinstance(got.data, da.Array)
        np.testing.assert_allclose(got.values, ref, rtol=0, atol=1e-6)


def test_index_model_parity_and_weights():
    from risk.hazard.indicator_index import weighted_index as indicator_stage_index
    from risk.hazard.normalize import normalize

    _, F, *_ = synthetic()
    small = [f[:60, :80] for f in F]
    specs = [{"direction": "more"}, {"direction": "less"}, {"direction": "more", "transform": "log1p"},
             {"direction": "more", "bounds": (-1.0, 1.0)}]
    ahp = [[1, 2, 3, 4], [1 / 2, 1, 2, 3], [1 / 3, 1 / 2, 1, 2], [1 / 4, 1 / 3, 1 / 2, 1]]
    out, m = index.fit_index(small, specs, "ahp_entropy", ahp_matrix=ahp, sample_size=2000, key="hazards.wind")
    assert m["mode"] == "index" and 0 <= m["consistency_ratio"] < 0.1
    assert sum(m["weights"].values()) == pytest.approx(1.0, abs=1e-5)
    assert m["normalisation"]["f3"]["lo"] == -1.0 and m["normalisation"]["f2"]["transform"] == "log1p"
    ref = out.values
    assert np.nanmin(ref) >= 0 and np.nanmax(ref) <= 1 and np.isnan(ref[0, 0])
    # the indicator stage's own functions give the same index
    normed = {f.name: normalize(f, s["direction"], s.get("bounds"), (0.02, 0.98), 2000, s.get("transform", "none"))
              for f, s in zip(small, specs, strict=True)}
    np.testing.assert_allclose(indicator_stage_index(normed, m["weights"]).values, ref, atol=1e-6)
    # recomputed from the recorded metrics, numpy and Dask with two chunkings
    norms = [(v["lo"], v["hi"], v["direction"], v["transform"]) for v in m["normalisation"].values()]
    w = list(m["weights"].values())
    np.testing.assert_allclose(index.weighted_index(small, norms, w).values, ref, atol=1e-6)
    for chunk in (16, 23):
        got = index.weighted_index([f.copy(data=da.from_array(f.values, chunks=chunk)) for f in small], norms, w)
        assert isinstance(got.data, da.Array)
        np.testing.assert_allclose(got.values, ref, atol=1e-6)
    # fit_index itself on Dask (bounds from the same systematic sample, entropy from the same cells)
    for chunk in (16, 23):
        dsk = [f.copy(data=da.from_array(f.values, chunks=chunk)) for f in small]
        got, m2 = index.fit_index(dsk, specs, "ahp_entropy", ahp_matrix=ahp, sample_size=2000, key="hazards.wind")
        assert isinstance(got.data, da.Array) and m2 == m
        np.testing.assert_allclose(got.values, ref, atol=1e-6)
    with pytest.raises(ValueError, match=r"hazards\.wind\.ahp_matrix: consistency ratio"):
        index.fit_index(small[:3], specs[:3], "ahp", ahp_matrix=[[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]],
                        key="hazards.wind")


def _hazard_settings(names):
    return {"features": {n: {"direction": "more", "bounds": None, "transform": "none"} for n in names},
            "weights": "entropy", "combination": "linear", "alpha": 0.5}


TRAINING = {"background": {"ratio": 10, "min": 300, "max": 600, "exclusion_m": 0},
            "cv": {"n_folds": 3, "block_size_m": 2000, "min_blocks_per_fold": 1},
            "min_presences": 20, "seed": 0, "candidates": ["logistic"], "params": {}, "importance_repeats": 1}
NORMALIZE = {"lower_quantile": 0.02, "upper_quantile": 0.98}


def test_fit_hazard_falls_back_to_the_index_model():
    g, F, xs, ys, _ = synthetic()
    settings = _hazard_settings([f.name for f in F])
    out, m, payload, samples = S.fit_hazard(F, g, xs[:5], ys[:5], hazard="wind", settings=settings,
                                            training=TRAINING, normalize_cfg=NORMALIZE,
                                            index_sample_size=2000)
    ref, mi = index.fit_hazard_index(F, settings, NORMALIZE, 2000, "wind")
    np.testing.assert_array_equal(out.values, ref.values)
    assert m["mode"] == "index" and m["fallback_reason"].startswith("only 5 presence cell(s)")
    assert list(m)[-2:] == ["fallback_reason", "hazard"] and m["hazard"] == "wind"
    assert {k: v for k, v in m.items() if k not in ("fallback_reason", "hazard")} == mi
    assert list(payload) == ["mode", "features", "normalisation", "weights", "hazard", "sklearn_version",
                             "numpy_version"]
    assert samples.empty and list(samples.columns) == list(S.SAMPLE_COLUMNS)


def test_fit_hazard_trains_and_predicts():
    g, F, xs, ys, _ = synthetic()
    settings = _hazard_settings([f.name for f in F])
    out, m, payload, samples = S.fit_hazard(F, g, xs, ys, hazard="geological", settings=settings,
                                            training=TRAINING, normalize_cfg=NORMALIZE,
                                            index_sample_size=2000, presence_desc="events")
    assert m["mode"] == "model" and m["hazard"] == "geological" and m["presence_source"] == "events"
    assert m["background_scheme"]["n"] == "clip(ratio * n_presence, min, max)"
    assert m["background_scheme"]["sampling"].endswith("excluding presence cells")
    assert list(m)[-3:] == ["background_scheme", "presence_source", "hazard"]
    assert payload["mode"] == "model" and payload["features"] == ["f0", "f1", "f2", "f3"]
    assert list(payload)[-3:] == ["hazard", "sklearn_version", "numpy_version"]
    assert list(samples.columns) == list(S.SAMPLE_COLUMNS)
    assert len(samples) == m["n_presence"] + m["n_background"]
    assert (samples["x"] == samples["x"].round(3)).all() and (samples["oof"] == samples["oof"].round(6)).all()
    np.testing.assert_array_equal(out.values, S.predict_grid(payload["estimator"], F).values)


def test_background_scheme_names_the_exclusion():
    bg = {"ratio": 10, "min": 1000, "max": 5000, "exclusion_m": 250}
    rec = S.background_scheme(bg)
    assert rec["sampling"].endswith("and cells within 250 m of one") and rec["exclusion_m"] == 250
    assert list(rec)[:2] == ["sampling", "n"]


def test_index_model_records_hazard_and_payload():
    _, F, *_ = synthetic()
    small = [f[:60, :80] for f in F]
    settings = _hazard_settings([f.name for f in small])
    out, m, payload = index.index_model(small, settings, NORMALIZE, 2000, "earthquake")
    ref, mi = index.fit_index(small, list(settings["features"].values()), "entropy", sample_size=2000,
                              key="hazards.earthquake")
    np.testing.assert_array_equal(out.values, ref.values)
    assert m == {**mi, "hazard": "earthquake"} and list(m)[-1] == "hazard"
    assert payload == {"mode": "index", "hazard": "earthquake", "features": mi["features"],
                       "normalisation": mi["normalisation"], "weights": mi["weights"]}
    assert list(payload) == ["mode", "hazard", "features", "normalisation", "weights"]
