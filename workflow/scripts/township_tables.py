"""Per-township tables: zone shares, mean risk, people and survey points by zone, zoning method and breaks.

Writes ``zoning/townships.gpkg`` (layer ``townships`` with the polygons, layer ``points_by_zone`` the
long table of survey points by township, category, zoned layer and zone) and ``zoning/townships.csv``.
"""

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio

from risk import CATEGORIES, io
from risk.assessment import township_tables as tables
from risk.assessment.risk_register import values_at_points
from risk.grid import Grid
from risk.io.survey_db import read_survey_points
from risk.runtime import configure_logging, dask_session

logger = logging.getLogger(__name__)


def population_source(path, grid):
    """The population raster itself when it lies on the grid, else persons per cell resampled onto it."""
    with rasterio.open(path) as src:
        on_grid = (src.crs is not None and src.crs.to_string() == grid.crs and src.transform.almost_equals(
            grid.transform) and (src.height, src.width) == grid.shape)
        src_res = abs(src.transform.a) if src.crs is not None and src.crs.is_projected else None
    if on_grid:
        return str(path)
    pop = io.read_raster_on_grid(path, grid, resampling="average")
    if src_res:  # persons per source cell -> persons per grid cell
        pop = pop * float((grid.res / src_res) ** 2)
    logger.info("population raster is not on the grid: resampled (sum-preserving for projected sources)")
    return pop.fillna(0).compute()


def main(snakemake):
    configure_logging(snakemake.log[0])
    p = snakemake.params
    inp = snakemake.input
    grid = Grid.from_json(Path(inp.grid).read_text())
    towns = io.read_vector(inp.townships, crs=grid.crs)
    names = list(p.zoned)
    tags = {}
    for n, path in zip(names, inp.zones, strict=True):
        with rasterio.open(path) as src:
            tags[n] = src.tags()
    with dask_session(**p.dask):
        pts = read_survey_points(inp.survey, grid.crs)
        zones = {n: io.read_raster_on_grid(path, grid, resampling="nearest", dtype="uint8")
                 for n, path in zip(names, inp.zones, strict=True)}
        pz = values_at_points(zones, pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy(), grid) if len(pts) else {}
        pz = {k: np.nan_to_num(v).astype(int) for k, v in pz.items()}
        pop = population_source(inp.population, grid)
        gdf, long = tables.township_table(
            towns, dict(zip(names, inp.zones, strict=True)), dict(zip(names, inp.risks, strict=True)),
            zoning_tags=tags, population=pop, aoi=inp.aoi, grid=grid, points=pts, point_zones=pz,
            points_layer="multi_hazard", categories=CATEGORIES, name_field=p.name_field)
    logger.info("%d townships, %d survey points tabulated", len(gdf), len(pts))
    io.write_layers({"townships": gdf, "points_by_zone": gpd.GeoDataFrame(long)}, snakemake.output.gpkg)
    io.write_table(pd.DataFrame(gdf.drop(columns="geometry")), snakemake.output.csv)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
