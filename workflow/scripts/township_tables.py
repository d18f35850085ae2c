"""Per-township tables: zone shares, mean risk, people and survey points by zone, zoning method and breaks.

Writes ``zoning/townships.gpkg`` (layer ``townships`` with the polygons, layer ``points_by_zone`` the
long table of survey points by township, category, zoned layer and zone) and ``zoning/townships.csv``
(:func:`risk.assessment.township_tables.township_table`). People per cell come from
:func:`risk.io.read_population_on_grid`, right for projected and lon/lat population rasters.
"""

import geopandas as gpd
import pandas as pd

from risk import CATEGORIES, io
from risk.assessment import township_tables as tables
from risk.hazard.point_rasters import values_at_points
from risk.io.survey_db import read_survey_points
from risk.runtime import rule_session


def main(snakemake):
    p, inp = snakemake.params, snakemake.input
    grid = io.read_grid(inp.grid)
    tags = {n: io.read_tags(path) for n, path in zip(p.zoned, inp.zones, strict=True)}
    with rule_session(snakemake.log[0], p.dask):
        towns = io.read_vector(inp.townships, crs=grid.crs)
        pts = read_survey_points(inp.survey, grid.crs)
        zones = {n: io.read_raster_on_grid(path, grid, resampling="nearest", dtype="uint8")
                 for n, path in zip(p.zoned, inp.zones, strict=True)}
        gdf, long = tables.township_table(
            towns, dict(zip(p.zoned, inp.zones, strict=True)), dict(zip(p.zoned, inp.risks, strict=True)),
            zoning_tags=tags, population=io.read_population_on_grid(inp.population, grid), aoi=inp.aoi,
            grid=grid,
            points=pts, points_layer="multi_hazard", categories=CATEGORIES, name_field=p.name_field,
            point_zones=tables.zone_numbers(values_at_points(zones, grid, pts.geometry.x.to_numpy(),
                                                             pts.geometry.y.to_numpy())))
    io.write_layers({"townships": gdf, "points_by_zone": gpd.GeoDataFrame(long)}, snakemake.output.gpkg)
    io.write_table(pd.DataFrame(gdf.drop(columns="geometry")), snakemake.output.csv)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
