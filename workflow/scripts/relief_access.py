"""Relief reach: travel hours from the supply depots (roads + Tobler off-road), and who is reached in time."""


from risk import io
from risk.capacity import relief_access as access
from risk.capacity.layers import require_fields
from risk.capacity.plots import relief_map
from risk.io.figures import save_figure
from risk.runtime import rule_session


def main(snakemake):
    p, inp, out = snakemake.params, snakemake.input, snakemake.output
    with rule_session(snakemake.log[0], p.dask):
        grid = io.read_grid(inp.grid)
        # slope and mask stay lazy: slope read a row of chunks at a time, the mask after the search
        slope, mask = (io.read_raster_on_grid(path, grid, resampling=rs, dtype=dt).data
                       for path, rs, dt in ((inp.slope, "bilinear", "float32"), (inp.mask, "nearest", "uint8")))
        roads = require_fields(io.read_vector(inp.roads, crs=grid.crs), ("class",), inp.roads, "roads")
        depots, townships = (io.read_vector(path, crs=grid.crs) for path in (inp.depots, inp.townships))
        k = access.search_factor(p.coarsen, grid.shape, p.max_search_cells)
        hours = access.relief_hours(
            slope, mask, roads, depots, grid, road_speeds_kmh=p.road_speeds_kmh, unknown_road_kmh=p.unknown_road_kmh,
            offroad=p.offroad, coarsen=k, dispatch_hours=p.dispatch_hours)
        table = access.reach_by_township(  # population and zones read a row of chunks at a time as well
            hours, io.read_population_on_grid(inp.population, grid).data,
            io.read_raster_on_grid(inp.zones, grid, resampling="nearest", dtype="uint8").data,
            mask, townships, grid, p.high_levels, p.max_hours)
        io.write_raster(grid.like(hours), out.hours, grid, cog=True,
                        tags=access.hours_tags(p.road_speeds_kmh, p.offroad, k),
                        band_description=access.HOURS_DESCRIPTION)
        io.write_table(table.round(access.DECIMALS), out.reach)
        fig = relief_map(hours, grid, townships, depots, p.max_hours, p.area_name)
    save_figure(fig, out.png, dpi=130)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
