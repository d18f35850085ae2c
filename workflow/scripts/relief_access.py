"""Relief reach: travel hours from the supply depots (roads + Tobler off-road), and who is reached in time."""

import logging
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from risk import io
from risk.capacity import relief_access as access
from risk.capacity.comprehensive_risk import township_labels
from risk.grid import Grid
from risk.io.figures import index_map
from risk.io.tables import read_population_on_grid
from risk.runtime import configure_logging

logger = logging.getLogger(__name__)


def main(snakemake):
    configure_logging(snakemake.log[0])
    p = snakemake.params
    inp = snakemake.input
    grid = Grid.from_json(Path(inp.grid).read_text())
    mask = io.read_raster_on_grid(inp.mask, grid, resampling="nearest", dtype="uint8", dask_=False).values > 0
    slope = io.read_raster_on_grid(inp.slope, grid, resampling="bilinear", dask_=False).values
    off = p.offroad
    offroad = access.tobler_speed(slope, off["max_kmh"], off["factor"], off["min_kmh"])
    del slope
    roads = io.read_vector(inp.roads, crs=grid.crs)
    if "class" not in roads.columns:
        raise ValueError(f"{inp.roads}: the roads layer needs a `class` field")
    roads = roads[roads.geometry.notna() & ~roads.geometry.is_empty].copy()
    roads["speed_kmh"] = access.road_speed_table(roads["class"], p.road_speeds_kmh, p.unknown_road_kmh)
    roads = roads.sort_values("speed_kmh", kind="stable")  # burnt in order: the fastest class wins a cell
    road = grid.rasterize(roads.geometry.values, roads["speed_kmh"].to_numpy("f4"), fill=0, dtype="float32",
                          all_touched=True, dask=False).values
    speed = access.cell_speed(offroad, road)
    del offroad
    depots = io.read_vector(inp.depots, crs=grid.crs)
    rows, cols = grid.rowcol(depots.geometry.x.to_numpy(), depots.geometry.y.to_numpy())
    on = grid.inside(rows, cols)
    if (~on).any():
        logger.warning("%d depot(s) lie off the grid and are ignored", int((~on).sum()))
    rows, cols = rows[on], cols[on]
    k = int(p.coarsen)
    logger.info("cost-distance on %d x %d cells (coarsen %d) from %d depots, %d road cells", -(-grid.height // k),
                -(-grid.width // k), k, len(rows), int((road > 0).sum()))
    hours = access.travel_hours(access.coarsen_speed(speed, road, k), rows // k, cols // k, grid.res * k,
                                p.dispatch_hours)
    if k > 1:
        hours = np.repeat(np.repeat(hours, k, axis=0), k, axis=1)[: grid.height, : grid.width]
    del speed, road
    hours = np.where(mask & np.isfinite(hours), hours, np.nan).astype("f4")
    zones = io.read_raster_on_grid(inp.zones, grid, resampling="nearest", dtype="uint8", dask_=False).values
    high = np.isin(zones, list(p.high_levels))
    pop = read_population_on_grid(inp.population, grid, dask_=False).values
    townships = io.read_vector(inp.townships, crs=grid.crs)
    townships["code"] = townships["code"].astype(str)
    labels = township_labels(townships, grid, dask_=False).values
    labels = np.where(mask, labels, 0)
    table = access.reach_table(hours, pop, labels, high, townships, p.max_hours)
    tot = table.iloc[-1]
    logger.info("high-risk people %.0f, reached within %g h: %.0f (%.1f %%); median cell hours %.2f",
                tot["population_high_risk"], p.max_hours, tot["high_risk_reached"],
                100 * tot["share_high_risk_reached"], float(np.nanmedian(hours)))
    io.write_raster(grid.like(hours), snakemake.output.hours, grid, cog=True,
                    tags={"UNITS": "hours", "METHOD": "skimage.graph.MCP_Geometric cost-distance, 8-connected",
                          "ROAD_SPEEDS_KMH": str(dict(p.road_speeds_kmh)), "OFFROAD": f"Tobler {dict(off)}",
                          "COARSEN": str(k), "NODATA_MEANING": "outside the area or unreachable"},
                    band_description="救援到达时间 Relief travel time from the nearest depot (hours)")
    io.write_table(table.round({"population": 0, "population_high_risk": 0, "high_risk_reached": 0,
                                "population_reached": 0, "share_high_risk_reached": 4,
                                "share_population_reached": 4, "mean_hours_high_risk": 3,
                                "max_hours_high_risk": 3}), snakemake.output.reach)
    top = min(1.5 * float(p.max_hours), max(1.0, float(np.nanmax(hours)) if np.isfinite(hours).any() else 1.0))
    fig = index_map(np.minimum(hours, top), grid, f"{p.area_name}  救援到达时间 Relief travel time (h)",
                    label="小时 hours", boundaries=townships, cmap="magma_r", vmin=0, vmax=top)
    ax = fig.axes[0]
    if np.nanmax(hours) > p.max_hours:
        xmin, ymin, xmax, ymax = grid.bounds
        step = max(1, int(np.ceil(np.sqrt(hours.size / 1_500_000))))
        ax.contour(np.flipud(hours[::step, ::step]), levels=[p.max_hours], colors="#00bcd4", linewidths=1.0,
                   extent=(xmin, xmax, ymin, ymax))
    ax.scatter(depots.geometry.x, depots.geometry.y, marker="s", s=30, c="#00bcd4", edgecolors="k", zorder=4)
    with io.atomic_path(snakemake.output.png, ".tmp.png") as tmp:
        fig.savefig(tmp, dpi=130)
    plt.close(fig)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
