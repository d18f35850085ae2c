"""Priority townships (三高一低): high multi-hazard risk, large high-risk area, many people exposed, low capacity."""


from risk import io
from risk.capacity import comprehensive_risk as comprehensive
from risk.capacity.plots import priority_map
from risk.io.figures import save_figure
from risk.runtime import rule_session


def main(snakemake):
    p, inp = snakemake.params, snakemake.input
    with rule_session(snakemake.log[0], p.dask):
        grid = io.read_grid(inp.grid)
        cap = io.read_vector(inp.capacity, crs=grid.crs)
        multi, comp = (io.read_raster_on_grid(path, grid, resampling="nearest")
                       for path in (inp.multi_hazard, inp.comprehensive))
        zones = io.read_raster_on_grid(inp.zones, grid, resampling="nearest", dtype="uint8")
        table = comprehensive.priority_table(cap, grid, multi, zones, comp,
                                             io.read_population_on_grid(inp.population, grid), p.priority)
    io.write_table(table.round(comprehensive.PRIORITY_DECIMALS), snakemake.output.csv)
    fig = priority_map(cap, table, p.area_name)
    save_figure(fig, snakemake.output.png, dpi=130)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
