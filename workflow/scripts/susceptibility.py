"""Train a hazard's susceptibility model on its events, validate it by spatial CV, predict the grid.

Writes ``models/<hazard>/metrics.json``, ``models/<hazard>/model.joblib``, ``hazard/<hazard>.tif`` and
``models/<hazard>/cv_samples.csv`` (every presence and background cell with its spatial fold and
the out-of-fold prediction of the chosen model, so the validation can be re-scored independently).
With fewer presences than ``min_presences`` the hazard falls back to its index model (recorded in
the metrics) rather than fitting noise (:func:`risk.models.susceptibility.fit_hazard`).
"""


from risk import io
from risk.hazard.point_rasters import point_xy
from risk.io.styles import index_qml
from risk.models.susceptibility import fit_hazard
from risk.runtime import rule_session


def main(snakemake):
    p, inp, out = snakemake.params, snakemake.input, snakemake.output
    grid = io.read_grid(inp.grid)
    with rule_session(snakemake.log[0], p.dask):
        features = io.read_rasters_on_grid(inp.features, grid, names=p.settings["features"])
        aoi = io.read_raster_on_grid(inp.aoi, grid, resampling="nearest", dtype="uint8")
        xs, ys = point_xy(io.read_vector(inp.presence, layer=p.presence_layer, crs=grid.crs), drop_empty=True)
        hazard, metrics, payload, samples = fit_hazard(
            features, grid, xs, ys, hazard=p.hazard, settings=p.settings, training=p.training,
            normalize_cfg=p.normalize, index_sample_size=p.index_sample_size, presence_desc=p.presence_desc,
            n_jobs=snakemake.threads)
        io.write_raster(hazard.where(aoi == 1), out.hazard, grid, cog=True,
                        tags={"HAZARD": p.hazard, "MODE": metrics["mode"]},
                        band_description=f"{p.hazard} hazard index 0-1 ({metrics['mode']})")
    io.write_text(index_qml(f"{p.hazard} hazard"), out.qml)
    io.write_json(metrics, out.metrics)
    io.write_table(samples, out.samples)
    io.write_joblib(payload, out.model)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
