"""Train a hazard's susceptibility model on its events, validate it by spatial CV, predict the grid.

Writes ``models/<hazard>/metrics.json``, ``models/<hazard>/model.joblib``, ``hazard/<hazard>.tif`` and
``models/<hazard>/cv_samples.csv`` (every presence and background cell with its spatial fold and
the out-of-fold prediction of the chosen model, so the validation can be re-scored independently).
With fewer presences than ``min_presences`` the hazard falls back to its index model (recorded in
the metrics) rather than fitting noise.
"""

import logging
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import sklearn

from risk import io
from risk.grid import Grid
from risk.io.styles import index_qml
from risk.models import index_model as index
from risk.models import sampling, spatial_cv
from risk.models import susceptibility as S
from risk.runtime import configure_logging, dask_session

logger = logging.getLogger(__name__)


def read_features(paths, names, grid):
    return [io.read_raster_on_grid(p, grid, resampling="nearest", name=n) for p, n in zip(paths, names, strict=True)]


def read_presences(path, layer, grid):
    pts = io.read_vector(path, layer=layer, crs=grid.crs)
    pts = pts[pts.geometry.notna() & ~pts.geometry.is_empty]
    return pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy()


def fallback_index(features, hp, p, reason):
    logger.warning("%s: %s; falling back to the index model", p.hazard, reason)
    nq = p.normalize
    out, metrics = index.fit_index(features, list(hp["features"].values()), hp["weights"],
                                   ahp_matrix=hp.get("ahp_matrix"), fixed=hp.get("fixed_weights"),
                                   combination=hp["combination"], alpha=hp["alpha"],
                                   q=(nq["lower_quantile"], nq["upper_quantile"]), sample_size=p.index_sample_size,
                                   key=f"hazards.{p.hazard}")
    metrics["fallback_reason"] = reason
    return out, metrics, {"mode": "index", **{k: metrics[k] for k in ("features", "normalisation", "weights")}}


def main(snakemake):
    configure_logging(snakemake.log[0])
    p = snakemake.params
    hp, tr = p.settings, p.training
    grid = Grid.from_json(Path(snakemake.input.grid).read_text())
    names = list(hp["features"])
    with dask_session(**p.dask):
        features = read_features(snakemake.input.features, names, grid)
        aoi = io.read_raster_on_grid(snakemake.input.aoi, grid, resampling="nearest", dtype="uint8")
        xs, ys = read_presences(snakemake.input.presence, p.presence_layer, grid)
        logger.info("%s: %d presence points, %d features", p.hazard, len(xs), len(names))
        bg = tr["background"]
        n_cells = sampling.presence_cells(xs, ys, grid)[0].size
        samples = pd.DataFrame(columns=["x", "y", "label", "fold", "oof"])
        if n_cells < tr["min_presences"]:
            out, metrics, payload = fallback_index(
                features, hp, p, f"only {n_cells} presence cell(s), fewer than "
                f"hazards.training.min_presences = {tr['min_presences']}")
        else:
            X, y, cx, cy = sampling.training_table(features, grid, xs, ys, ratio=bg["ratio"],
                                                   min_background=bg["min"], max_background=bg["max"],
                                                   exclusion_m=bg["exclusion_m"], seed=tr["seed"])
            cv = tr["cv"]
            folds, info = spatial_cv.spatial_folds(cx, cy, y, (grid.xmin, grid.ymax), cv["n_folds"],
                                                   cv["block_size_m"], None, cv["min_blocks_per_fold"],
                                                   min_size=2 * grid.res, seed=tr["seed"], X=X, names=names)
            logger.info("%s: %d presences, %d background; blocks of %.0f m, presences per fold %s", p.hazard,
                        int(y.sum()), int((y == 0).sum()), info["block_size_m"], info["presences_per_fold"])
            res = S.train(X, y, cx, cy, names, folds, info, candidates=tr["candidates"], params=tr["params"],
                          n_folds=cv["n_folds"], n_repeats=tr["importance_repeats"], seed=tr["seed"],
                          n_jobs=snakemake.threads)
            metrics = res.metrics
            metrics["background_scheme"] = {
                "sampling": "uniform random cells of the study area (all features finite), without replacement, "
                            "excluding presence cells" + (f" and cells within {bg['exclusion_m']} m of one"
                                                          if bg["exclusion_m"] else ""),
                "n": "clip(ratio * n_presence, min, max)", **bg}
            metrics["presence_source"] = p.presence_desc
            for name, sc in metrics["candidates"].items():
                logger.info("%s: %-24s spatial-CV AUC %.3f", p.hazard, name, sc["auc_spatial_cv"])
            logger.info("%s: chose %s, spatial-CV AUC %.3f (random CV %.3f)", p.hazard, res.name,
                        metrics["auc_spatial_cv"], metrics["auc_random_cv"])
            out = S.predict_grid(res.model, features)
            payload = {"mode": "model", "estimator": res.model, "features": names}
            samples = res.samples.assign(x=res.samples["x"].round(3), y=res.samples["y"].round(3),
                                         oof=res.samples["oof"].round(6))
        metrics["hazard"] = p.hazard
        out = out.where(aoi == 1)
        io.write_raster(out, snakemake.output.hazard, grid, tags={"HAZARD": p.hazard, "MODE": metrics["mode"]},
                        band_description=f"{p.hazard} hazard index 0-1 ({metrics['mode']})")
    io.write_text(index_qml(f"{p.hazard} hazard"), snakemake.output.qml)
    io.write_json(metrics, snakemake.output.metrics)
    io.write_table(samples, snakemake.output.samples)
    payload.update(hazard=p.hazard, sklearn_version=sklearn.__version__, numpy_version=np.__version__)
    out_path = Path(snakemake.output.model)
    with io.atomic_path(out_path, ".tmp.joblib") as tmp:
        joblib.dump(payload, tmp, compress=3)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
