"""Derive the terrain layers (slope, aspect, curvature, relief, flow routing, wetness) from the DEM.

Flow routing runs on fixed tiles of ``flow_tile`` cells that exchange their edges; the DEM is read
on the grid with that chunk size, so each tile is one Dask block, read twice to solve the edges and
once more while all seven layers are written in one pass (:func:`risk.io.batchwrite.write_rasters`).
The layers and their metadata come from :func:`risk.hazard.terrain.build`.
"""

import logging
from pathlib import Path

from risk import io
from risk.hazard import terrain
from risk.hazard.normalize import sample_settings
from risk.io.batchwrite import write_rasters
from risk.runtime import rule_session

logger = logging.getLogger(__name__)


def main(snakemake):
    p, inp = snakemake.params, snakemake.input
    paths = {name: getattr(snakemake.output, name) for name in terrain.TERRAIN_LAYERS}
    with rule_session(snakemake.log[0], p.dask):
        grid = io.read_grid(inp.grid).with_chunk(p.flow_tile)
        logger.info("terrain on %d x %d cells; exact flow routing on tiles of %d cells", grid.width,
                    grid.height, p.flow_tile)
        dem = io.read_raster_on_grid(inp.dem, grid, resampling="bilinear", name="dem")
        aoi = io.read_raster_on_grid(inp.mask, grid, resampling="nearest", dtype="uint8")
        layers, tags, descriptions = terrain.build(
            dem, source=Path(inp.dem).name, relief_radius_m=p.relief_radius_m, flow_tile=p.flow_tile,
            twi_min_tan=p.twi_min_tan)
        write_rasters(layers, grid, paths=paths, mask=aoi, tags=tags, descriptions=descriptions, cog=True,
                      **sample_settings(p.normalize))
    logger.info("wrote %d terrain layers", len(layers))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
