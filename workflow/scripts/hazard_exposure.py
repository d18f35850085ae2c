"""Exposure and vulnerability of every hazard: what it threatens (people and the surveyed structures it
acts on, in person-equivalents per cell) and the damage ratio of that exposure.

Writes ``exposure/by_hazard/<hazard>.tif`` and ``vulnerability/by_hazard/<hazard>.tif``
(:func:`risk.assessment.harm.exposure_layers`).
"""

from risk import io
from risk.assessment.harm import exposure_layers
from risk.io.batchwrite import write_rasters
from risk.runtime import rule_session


def main(snakemake):
    p, inp, out = snakemake.params, snakemake.input, snakemake.output
    grid = io.read_grid(inp.grid)
    paths = {**{f"exposure:{h}": f for h, f in zip(p.hazards, out.exposure, strict=True)},
             **{f"vulnerability:{h}": f for h, f in zip(p.hazards, out.vulnerability, strict=True)}}
    with rule_session(snakemake.log[0], p.dask):
        terrain = {k: io.read_raster_on_grid(inp[k], grid, "bilinear") for k in ("slope", "dem") if k in inp.keys()}
        layers, tags, descriptions = exposure_layers(
            p.hazards, io.read_population_on_grid(inp.population, grid),
            io.read_raster_on_grid(inp.landcover, grid, "nearest", dtype="uint8"),
            io.read_vector(inp.points, layer="points", crs=grid.crs), grid,
            landcover_classes=p.landcover_classes, people_landcover=p.people_landcover,
            asset_value=p.asset_value, category_hazards=p.category_hazards, asset_sigma_m=p.asset_sigma_m,
            on_slopes=p.on_slopes, **terrain)
        write_rasters(layers, grid, paths=paths, mask=io.read_raster_on_grid(inp.mask, grid, "nearest",
                      dtype="uint8"), tags=tags, descriptions=descriptions, cog=True)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
