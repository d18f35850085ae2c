"""Exposure components (population, built-up share, survey-point density) and their 0-1 index.

The components are written first (:func:`risk.assessment.exposure.components`), then read back
and combined with the quantiles recorded while writing them
(:func:`risk.assessment.exposure.index_layer`).
"""

from risk import io
from risk.assessment import exposure
from risk.io.batchwrite import sample_bounds, write_rasters
from risk.runtime import rule_session


def main(snakemake):
    p, inp, out = snakemake.params, snakemake.input, snakemake.output
    q, n = (p.normalize["lower_quantile"], p.normalize["upper_quantile"]), p.normalize["sample_size"]
    with rule_session(snakemake.log[0], p.dask):
        grid = io.read_grid(inp.grid)
        read = io.read_raster_on_grid
        aoi = read(inp.mask, grid, "nearest", dtype="uint8")
        layers, tags, descriptions = exposure.components(
            read(inp.population, grid, "average"), io.source_cell_area_m2(inp.population),
            read(inp.built_up_share, grid, "nearest"), [read(f, grid, "nearest") for f in inp.survey_density],
            sigma_m=p.sigma_m)
        paths = {k: getattr(out, k) for k in (*layers, "exposure")}
        write_rasters(layers, grid, paths=paths, mask=aoi, sample_size=n, quantiles=q, tags=tags,
                      descriptions=descriptions, cog=True)
        index, tags, descriptions = exposure.index_layer(
            {k: read(paths[k], grid, "nearest") for k in layers},
            {k: sample_bounds(paths[k], n, q) for k in layers}, p.weights, p.transforms, q, n)
        write_rasters(index, grid, paths=paths, mask=aoi, tags=tags, descriptions=descriptions, cog=True)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
