"""Kernel density and distance to the nearest point of each survey category.

Writes indicators/survey/<category>_density.tif (points per km², Gaussian kernel) and
<category>_distance.tif (m, capped at ``max_distance_m``) for every category, also those with
no point in the survey (density 0, distance = the cap), so that the file set is fixed.
"""

import logging
from pathlib import Path

from risk import CATEGORIES, io
from risk.grid import Grid
from risk.hazard import point_rasters as points
from risk.hazard import proximity
from risk.io.batchwrite import write_rasters
from risk.io.survey_db import read_survey_points
from risk.runtime import configure_logging, dask_session

logger = logging.getLogger(__name__)


def main(snakemake):
    configure_logging(snakemake.log[0])
    p = snakemake.params
    grid = Grid.from_json(Path(snakemake.input.grid).read_text())
    pts = read_survey_points(snakemake.input.survey, crs=grid.crs)
    out_dir = Path(snakemake.output[0]).parent
    with dask_session(**p.dask):
        aoi = io.read_raster_on_grid(snakemake.input.mask, grid, "nearest", dtype="uint8")
        outputs, tags = {}, {}
        for cat in CATEGORIES:
            sel = pts[pts["category"] == cat]
            xy = sel.geometry.representative_point() if len(sel) else sel.geometry
            xs, ys = (xy.x.to_numpy(), xy.y.to_numpy()) if len(sel) else ([], [])
            logger.info("%s: %d points", cat, len(sel))
            dens = points.kernel_density(grid, xs, ys, p.sigma_m, name=f"{cat}_density")
            dist = proximity.distance(points.point_raster(grid, xs, ys, dtype="uint8"),
                                      max_distance=float(p.max_distance_m), name=f"{cat}_distance")
            for kind, arr, unit in (("density", dens, "points per km2"), ("distance", dist, "m")):
                path = str(out_dir / f"{cat}_{kind}.tif")
                outputs[path] = arr
                tags[path] = {"CATEGORY": cat, "UNITS": unit, "POINTS": len(sel),
                              "SIGMA_M": p.sigma_m if kind == "density" else "",
                              "MAX_DISTANCE_M": p.max_distance_m if kind == "distance" else ""}
        q = (p.normalize["lower_quantile"], p.normalize["upper_quantile"])
        write_rasters(outputs, grid, tags=tags, mask=aoi, sample_size=p.normalize["sample_size"], quantiles=q,
                      descriptions={k: f"{v['CATEGORY']} {Path(k).stem.split('_')[-1]} ({v['UNITS']})"
                                    for k, v in tags.items()})


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
