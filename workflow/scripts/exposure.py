"""Exposure components (population, built-up share, survey-point density) and their 0-1 index."""

import json
import logging
from pathlib import Path

from risk import io
from risk.assessment import exposure
from risk.grid import Grid
from risk.io.batchwrite import sample_bounds, write_rasters
from risk.runtime import configure_logging, dask_session

logger = logging.getLogger(__name__)


def source_cell_area(path) -> float:
    """Area (m²) of one cell of a raster; for lon/lat rasters, at its centre latitude."""
    import math

    import rasterio

    with rasterio.open(path) as src:
        a, e = abs(src.transform.a), abs(src.transform.e)
        if src.crs is not None and src.crs.is_geographic:
            lat = math.radians((src.bounds.top + src.bounds.bottom) / 2)
            return a * 111_320.0 * math.cos(lat) * e * 110_574.0
        return a * e


def main(snakemake):
    configure_logging(snakemake.log[0])
    p = snakemake.params
    inp, out = snakemake.input, snakemake.output
    grid = Grid.from_json(Path(inp.grid).read_text())
    with dask_session(**p.dask):
        read = io.read_raster_on_grid
        aoi = read(inp.mask, grid, "nearest", dtype="uint8")
        # persons per source cell, averaged onto the grid, is a density per source-cell area
        src_area = source_cell_area(inp.population)
        pop = exposure.per_km2(read(inp.population, grid, "average"), src_area, name="population")
        built = read(inp.built_up_share, grid, "nearest")
        dens = [read(path, grid, "nearest") for path in inp.survey_density]
        survey = sum(dens[1:], dens[0]).rename("survey_points")
        q = (p.normalize["lower_quantile"], p.normalize["upper_quantile"])
        write_rasters({out.population: pop, out.built_up: built, out.survey_points: survey}, grid, mask=aoi,
                      sample_size=p.normalize["sample_size"], quantiles=q,
                      tags={out.population: {"UNITS": "persons per km2"}, out.built_up: {"UNITS": "fraction"},
                            out.survey_points: {"UNITS": "points per km2", "SIGMA_M": p.sigma_m}},
                      descriptions={out.population: "population (persons per km2)",
                                    out.built_up: "built-up share (0-1)",
                                    out.survey_points: "survey point density (points per km2)"})
        comps = {"population": read(out.population, grid, "nearest"),
                 "built_up": read(out.built_up, grid, "nearest"),
                 "survey_points": read(out.survey_points, grid, "nearest")}
        recorded = {k: sample_bounds(getattr(out, k), p.normalize["sample_size"], q) for k in comps
                    if p.transforms.get(k, "none") == "none"}
        index, record = exposure.exposure_index(comps, p.weights, p.transforms, q, p.normalize["sample_size"],
                                                bounds={k: v for k, v in recorded.items() if v})
        logger.info("exposure components: %s", record)
        write_rasters({out.exposure: index}, grid, mask=aoi,
                      tags={out.exposure: {"UNITS": "1", "COMPONENTS": json.dumps(record)}},
                      descriptions={out.exposure: "exposure index (0-1)"})


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
