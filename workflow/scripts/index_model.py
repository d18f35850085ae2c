"""Hazard index where no training labels exist: normalised indicators weighted by AHP / entropy.

Writes ``models/<hazard>/metrics.json`` (weights, consistency ratio, normalisation),
``models/<hazard>/model.joblib`` (the same, to recompute the index) and ``hazard/<hazard>.tif``
(:func:`risk.models.index_model.index_model`).
"""


from risk import io
from risk.io.styles import index_qml
from risk.models.index_model import index_model
from risk.runtime import rule_session


def main(snakemake):
    p, inp, out = snakemake.params, snakemake.input, snakemake.output
    grid = io.read_grid(inp.grid)
    with rule_session(snakemake.log[0], p.dask):
        features = io.read_rasters_on_grid(inp.features, grid, names=p.settings["features"])
        aoi = io.read_raster_on_grid(inp.aoi, grid, resampling="nearest", dtype="uint8")
        hazard, metrics, payload = index_model(features, p.settings, p.normalize, p.sample_size, p.hazard)
        io.write_raster(hazard.where(aoi == 1), out.hazard, grid, cog=True, tags={"HAZARD": p.hazard, "MODE": "index"},
                        band_description=f"{p.hazard} hazard index 0-1 (index)")
    io.write_text(index_qml(f"{p.hazard} hazard"), out.qml)
    io.write_json(metrics, out.metrics)
    io.write_joblib(payload, out.model)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
