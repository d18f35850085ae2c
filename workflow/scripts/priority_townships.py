"""Priority townships (三高一低): high multi-hazard risk, large high-risk area, many people exposed, low capacity."""

import logging
from pathlib import Path

import matplotlib.pyplot as plt

from risk import io
from risk.capacity import comprehensive_risk as comprehensive
from risk.capacity.plots import priority_map
from risk.grid import Grid
from risk.io.tables import read_population_on_grid
from risk.runtime import configure_logging, dask_session

logger = logging.getLogger(__name__)


def main(snakemake):
    configure_logging(snakemake.log[0])
    p = snakemake.params
    pr = p.priority
    grid = Grid.from_json(Path(snakemake.input.grid).read_text())
    cap = io.read_vector(snakemake.input.capacity, crs=grid.crs)
    cap["code"] = cap["code"].astype(str)
    with dask_session(**p.dask):
        labels = comprehensive.township_labels(cap, grid)
        multi = io.read_raster_on_grid(snakemake.input.multi_hazard, grid, resampling="nearest")
        zones = io.read_raster_on_grid(snakemake.input.zones, grid, resampling="nearest", dtype="uint8")
        comp = io.read_raster_on_grid(snakemake.input.comprehensive, grid, resampling="nearest")
        pop = read_population_on_grid(snakemake.input.population, grid)
        risk_table = comprehensive.township_risk_table(labels, cap, multi, zones, comp, pop, grid.cell_area / 1e6,
                                                       tuple(pr["high_levels"]))
    table = comprehensive.priority_townships(risk_table, cap, pr["high_sd"], tuple(pr["low_grades"]),
                                             pr["min_highs"])
    flagged = table[table["priority"]]
    logger.info("%d of %d townships are priorities: %s", len(flagged), len(table), ", ".join(flagged["name"]))
    io.write_table(table.round({"area_km2": 3, "high_zone_km2": 3, "population_grid": 0, "people_high_zone": 0,
                                "multi_hazard_mean": 4, "comprehensive_mean": 4, "high_zone_share": 4,
                                "capacity_index": 4}), snakemake.output.csv)
    fig = priority_map(cap, table, p.area_name)
    with io.atomic_path(snakemake.output.png, ".tmp.png") as tmp:
        fig.savefig(tmp, dpi=130)
    plt.close(fig)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
