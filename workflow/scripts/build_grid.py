"""Derive the run's analysis grid from the AOI and burn the AOI mask onto it."""

import logging

from risk import io
from risk.grid import Grid
from risk.runtime import rule_session

logger = logging.getLogger(__name__)


def main(snakemake):
    p = snakemake.params
    with rule_session(snakemake.log[0], p.dask):
        aoi = io.read_aoi(snakemake.input.aoi, p.crs)
        grid = Grid.from_aoi(aoi, p.crs, p.resolution, p.chunk_size, p.pad_cells)
        logger.info("grid %s x %s cells (%.1f Mpx) at %s m in %s", grid.width, grid.height, grid.size / 1e6,
                    grid.res, grid.crs)
        io.write_text(grid.to_json() + "\n", snakemake.output.grid)
        mask = io.aoi_mask(aoi, grid)
        io.write_raster(mask.astype("uint8"), snakemake.output.mask, grid, nodata=None, dtype="uint8", cog=True,
                        overview_resampling="nearest",
                        tags={"description": "1 inside the area of interest, 0 outside"})


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
