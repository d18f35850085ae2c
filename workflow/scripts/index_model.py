"""Hazard index where no training labels exist: normalised indicators weighted by AHP / entropy.

Writes ``models/<hazard>/metrics.json`` (weights, consistency ratio, normalisation),
``models/<hazard>/model.joblib`` (the same, to recompute the index) and ``hazard/<hazard>.tif``.
"""

import logging
from pathlib import Path

import joblib

from risk import io
from risk.grid import Grid
from risk.io.styles import index_qml
from risk.models import index_model as index
from risk.runtime import configure_logging, dask_session

logger = logging.getLogger(__name__)


def main(snakemake):
    configure_logging(snakemake.log[0])
    p = snakemake.params
    hp = p.settings
    grid = Grid.from_json(Path(snakemake.input.grid).read_text())
    names = list(hp["features"])
    with dask_session(**p.dask):
        features = [io.read_raster_on_grid(f, grid, resampling="nearest", name=n)
                    for f, n in zip(snakemake.input.features, names, strict=True)]
        aoi = io.read_raster_on_grid(snakemake.input.aoi, grid, resampling="nearest", dtype="uint8")
        nq = p.normalize
        out, metrics = index.fit_index(features, list(hp["features"].values()), hp["weights"],
                                       ahp_matrix=hp.get("ahp_matrix"), fixed=hp.get("fixed_weights"),
                                       combination=hp["combination"], alpha=hp["alpha"],
                                       q=(nq["lower_quantile"], nq["upper_quantile"]), sample_size=p.sample_size,
                                       key=f"hazards.{p.hazard}")
        metrics["hazard"] = p.hazard
        logger.info("%s: index weights %s%s", p.hazard, metrics["weights"],
                    f" (AHP CR {metrics['consistency_ratio']:.3f})" if "consistency_ratio" in metrics else "")
        io.write_raster(out.where(aoi == 1), snakemake.output.hazard, grid,
                        tags={"HAZARD": p.hazard, "MODE": "index"},
                        band_description=f"{p.hazard} hazard index 0-1 (index)")
    io.write_text(index_qml(f"{p.hazard} hazard"), snakemake.output.qml)
    io.write_json(metrics, snakemake.output.metrics)
    payload = {"mode": "index", "hazard": p.hazard,
               **{k: metrics[k] for k in ("features", "normalisation", "weights")}}
    with io.atomic_path(Path(snakemake.output.model), ".tmp.joblib") as tmp:
        joblib.dump(payload, tmp, compress=3)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
