"""Kernel density and distance to the nearest point of each survey category.

Writes indicators/survey/<category>_density.tif (points per km², Gaussian kernel) and
<category>_distance.tif (m, capped at ``max_distance_m``) for every category, also those with
no point in the survey (density 0, distance = the cap), so that the file set is fixed
(:func:`risk.hazard.point_rasters.survey_rasters`).
"""

from pathlib import Path

from risk import io
from risk.hazard import point_rasters
from risk.hazard.normalize import sample_settings
from risk.io.batchwrite import write_rasters
from risk.io.survey_db import read_survey_points
from risk.runtime import rule_session


def main(snakemake):
    p = snakemake.params
    out_dir = Path(snakemake.output[0]).parent
    with rule_session(snakemake.log[0], p.dask):
        grid = io.read_grid(snakemake.input.grid)
        pts = read_survey_points(snakemake.input.survey, crs=grid.crs)
        aoi = io.read_raster_on_grid(snakemake.input.mask, grid, "nearest", dtype="uint8")
        layers, tags, descriptions = point_rasters.survey_rasters(pts, grid, sigma_m=p.sigma_m,
                                                               max_distance_m=p.max_distance_m)
        paths = {k: str(out_dir / f"{k}.tif") for k in layers}
        write_rasters(layers, grid, paths=paths, mask=aoi, tags=tags, descriptions=descriptions, cog=True,
                      **sample_settings(p.normalize))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
