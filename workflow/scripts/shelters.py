"""Shelter coverage of hazard-prone settlements, the gaps, and a greedy choice of new sites."""


from risk import io
from risk.capacity import shelters
from risk.capacity.layers import points_table, require_fields
from risk.capacity.plots import shelter_map
from risk.io.figures import save_figure
from risk.runtime import rule_session


def main(snakemake):
    p, inp, out = snakemake.params, snakemake.input, snakemake.output
    with rule_session(snakemake.log[0], snakemake.params.dask):
        grid = io.read_grid(inp.grid)
        layers = {name: require_fields(io.read_vector(getattr(inp, name), crs=grid.crs), fields,
                                       getattr(inp, name), name)
                  for name, fields in shelters.INPUT_FIELDS.items()}
        rasters = {h: io.read_raster_on_grid(path, grid, resampling="nearest",
                                             dtype="uint8" if p.zone_basis == "risk" else "float32")
                   for h, path in zip(p.hazards, inp.zones, strict=True)}
        coverage, gaps, load, sites = shelters.shelter_plan(
            layers["settlements"], layers["shelters"], layers["candidates"], rasters, grid,
            zone_basis=p.zone_basis, zoning_config=p.zoning, min_level=p.min_level,
            max_distance_m=p.max_distance_m, demand_share=p.demand_share, max_new_sites=p.max_new_sites,
            candidate_kinds=p.candidate_kinds)
        io.write_vector(coverage, out.coverage_gpkg, layer="settlement_coverage")
        io.write_table(points_table(coverage), out.coverage_csv)
        io.write_table(gaps, out.gaps)
        io.write_table(load, out.load)
        io.write_vector(sites, out.sites_gpkg, layer="selected_sites")
        io.write_table(points_table(sites), out.sites_csv)
        fig = shelter_map(layers["townships"], coverage, layers["shelters"], sites,
                          io.read_raster_on_grid(inp.multi_hazard, grid, resampling="nearest", dtype="uint8",
                                                 dask_=False).values, grid, p.area_name)
    save_figure(fig, out.png, dpi=130)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
