"""Derive the terrain layers (slope, aspect, curvature, relief, flow routing, wetness) from the DEM.

Flow routing runs on fixed tiles of ``flow_tile`` cells; the DEM is read on the grid with that
chunk size, so each tile is one Dask block and is routed once while all seven layers are
written in one pass (:func:`risk.io.batchwrite.write_rasters`).
"""

import logging
from pathlib import Path

from risk import io
from risk.grid import Grid
from risk.hazard import terrain
from risk.io.batchwrite import write_rasters
from risk.runtime import configure_logging, dask_session

logger = logging.getLogger(__name__)

DESCRIPTIONS = {
    "slope": "slope (degree)",
    "aspect": "aspect (compass degree of the downslope direction, -1 flat)",
    "curvature": "total curvature (1/100 m-1, > 0 convex)",
    "relief": "local relief (m)",
    "twi": "topographic wetness index ln(a / tan b)",
    "flow_accumulation": "upslope contributing area (m2), tile-wise D8",
    "depression_depth": "depth of closed depressions (m), Priority-Flood fill minus DEM",
}


def main(snakemake):
    configure_logging(snakemake.log[0])
    p = snakemake.params
    grid = Grid.from_json(Path(snakemake.input.grid).read_text())
    tgrid = grid.with_chunk(p.flow_tile)
    logger.info("terrain on %d x %d cells; flow tiles of %d cells with a %d-cell halo", grid.width, grid.height,
                p.flow_tile, p.flow_halo)
    with dask_session(**p.dask):
        dem = io.read_raster_on_grid(snakemake.input.dem, tgrid, resampling="bilinear", name="dem")
        aoi = io.read_raster_on_grid(snakemake.input.mask, tgrid, resampling="nearest", dtype="uint8")
        layers = terrain.terrain(dem, relief_radius_m=p.relief_radius_m, flow_tile=p.flow_tile,
                                 flow_halo=p.flow_halo, twi_min_tan=p.twi_min_tan)
        outputs = {getattr(snakemake.output, name): layers[name] for name in terrain.TERRAIN_LAYERS}
        tags = {getattr(snakemake.output, name): {"LAYER": name, "UNITS": layers[name].attrs.get("units", ""),
                                                  "SOURCE": Path(snakemake.input.dem).name,
                                                  "FLOW_TILE": p.flow_tile, "FLOW_HALO": p.flow_halo}
                for name in terrain.TERRAIN_LAYERS}
        descriptions = {getattr(snakemake.output, n): DESCRIPTIONS[n] for n in terrain.TERRAIN_LAYERS}
        q = (p.normalize["lower_quantile"], p.normalize["upper_quantile"])
        write_rasters(outputs, tgrid, tags=tags, descriptions=descriptions, mask=aoi,
                      sample_size=p.normalize["sample_size"], quantiles=q)
    logger.info("wrote %d terrain layers", len(outputs))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
