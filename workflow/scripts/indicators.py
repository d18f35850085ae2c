"""Write the indicator rasters of every hazard (indicators/<hazard>/<indicator>.tif).

Inputs are read onto the grid block by block (coarse climate and seismic rasters bilinearly,
land cover by nearest neighbour, see :data:`risk.hazard.indicators.RASTER_INPUTS`), lines and
points are burnt onto the grid and turned into exact distances, and the terrain layers come from
the terrain rule (:func:`risk.hazard.indicators.build`). Layers shared by several hazards
(slope, distance to roads, ...) are computed once: all files are written in one pass.
"""

import logging
from pathlib import Path

from risk import io
from risk.hazard import indicators
from risk.hazard.normalize import sample_settings
from risk.io.batchwrite import write_rasters
from risk.runtime import rule_session

logger = logging.getLogger(__name__)


def main(snakemake):
    p, inp = snakemake.params, snakemake.input
    with rule_session(snakemake.log[0], p.dask):
        grid = io.read_grid(inp.grid)
        rasters = {name: io.read_raster_on_grid(getattr(inp, name), grid, resampling, dtype=dtype)
                   for name, (resampling, dtype) in indicators.RASTER_INPUTS.items()}
        features = {name: io.read_vector(getattr(inp, name), crs=grid.crs) for name in indicators.VECTOR_INPUTS}
        layers, tags, descriptions = indicators.build(
            rasters, features, grid, landcover_classes=p.landcover_classes, landcover_scores=p.landcover_scores,
            built_up_radius_m=p.built_up_radius_m, exposure_radius_m=p.exposure_radius_m,
            max_distance_m=p.max_distance_m, vs30=p.vs30)
        aoi = io.read_raster_on_grid(inp.mask, grid, "nearest", dtype="uint8")
        paths = indicators.indicator_paths(layers, Path(snakemake.output[0]).parent.parent, snakemake.output)
        write_rasters(layers, grid, paths=paths, mask=aoi, tags=tags, descriptions=descriptions, cog=True,
                      **sample_settings(p.normalize))
    logger.info("wrote %d indicator rasters", len(layers))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
