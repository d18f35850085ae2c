"""Write the indicator rasters of every hazard (indicators/<hazard>/<indicator>.tif).

Inputs are read onto the grid block by block (coarse climate and seismic rasters bilinearly,
land cover by nearest neighbour), lines and points are burnt onto the grid and turned into exact
distances, and the terrain layers come from the terrain rule. Layers shared by several hazards
(slope, distance to roads, ...) are computed once: all files are written in one pass.
"""

import logging
from pathlib import Path

from risk import io
from risk.grid import Grid
from risk.hazard import point_rasters as points
from risk.hazard import proximity
from risk.hazard.indicators import INDICATORS, hazard_indicators
from risk.io.batchwrite import write_rasters
from risk.runtime import configure_logging, dask_session

logger = logging.getLogger(__name__)


def line_sources(path, grid: Grid):
    """Cells touched by the lines of a vector file (block by block)."""
    gdf = io.read_vector(path, crs=grid.crs)
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    logger.info("%s: %d features", Path(path).name, len(gdf))
    return grid.rasterize(gdf.geometry.values, 1, 0, "uint8", all_touched=True, name=Path(path).stem)


def point_sources(path, grid: Grid):
    """Cells holding a point of a vector file."""
    gdf = io.read_vector(path, crs=grid.crs)
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    xy = gdf.geometry.representative_point()
    logger.info("%s: %d points", Path(path).name, len(gdf))
    return points.point_raster(grid, xy.x.to_numpy(), xy.y.to_numpy(), dtype="uint8")


def main(snakemake):
    configure_logging(snakemake.log[0])
    p = snakemake.params
    inp = snakemake.input
    grid = Grid.from_json(Path(inp.grid).read_text())
    classes = {int(k): v for k, v in p.landcover_classes.items()}
    with dask_session(**p.dask):
        read = io.read_raster_on_grid
        layers = {
            "dem": read(inp.dem, grid, "bilinear"),
            "landcover": read(inp.landcover, grid, "nearest", dtype="uint8"),
            "rain_max24h": read(inp.rain_max24h, grid, "bilinear"),
            "pga": read(inp.pga, grid, "bilinear"),
            "wind50": read(inp.wind50, grid, "bilinear"),
        }
        for name in ("slope", "aspect", "curvature", "relief", "twi", "depression_depth"):
            layers[name] = read(getattr(inp, name), grid, "nearest")
        cap = float(p.max_distance_m)
        layers["distance_rivers"] = proximity.distance(line_sources(inp.rivers, grid), max_distance=cap)
        layers["distance_roads"] = proximity.distance(line_sources(inp.roads, grid), max_distance=cap)
        layers["distance_settlements"] = proximity.distance(point_sources(inp.settlements, grid), max_distance=cap)
        stacks = hazard_indicators(layers, landcover_classes=classes, landcover_scores=p.landcover_scores,
                                   built_up_radius_m=p.built_up_radius_m, exposure_radius_m=p.exposure_radius_m,
                                   vs30_params=p.vs30)
        aoi = read(inp.mask, grid, "nearest", dtype="uint8")
        outputs, tags, descriptions = {}, {}, {}
        out_dir = Path(snakemake.output[0]).parent.parent
        for hazard, stack in stacks.items():
            for ind in INDICATORS[hazard]:
                path = str(out_dir / hazard / f"{ind.name}.tif")
                outputs[path] = stack[ind.name]
                tags[path] = {"HAZARD": hazard, "INDICATOR": ind.name, "MEANING": ind.meaning, "UNITS": ind.unit,
                              "SOURCE": ind.source, "DIRECTION": ind.direction}
                descriptions[path] = f"{hazard} {ind.name} ({ind.unit})"
        missing = sorted(set(map(str, snakemake.output)) - set(outputs))
        if missing:
            raise RuntimeError(f"no indicator computed for {missing}")
        q = (p.normalize["lower_quantile"], p.normalize["upper_quantile"])
        write_rasters(outputs, grid, tags=tags, descriptions=descriptions, mask=aoi,
                      sample_size=p.normalize["sample_size"], quantiles=q)
    logger.info("wrote %d indicator rasters for %d hazards", len(outputs), len(stacks))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
