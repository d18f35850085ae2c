"""Comprehensive risk (multi-hazard risk lowered by township capacity), zoned like the hazards."""

from pathlib import Path

from risk import io
from risk.assessment import zoning
from risk.capacity import comprehensive_risk as comprehensive
from risk.io import styles
from risk.runtime import rule_session

NAME = "comprehensive"


def main(snakemake):
    p, inp, out = snakemake.params, snakemake.input, snakemake.output
    with rule_session(snakemake.log[0], p.dask):
        grid = io.read_grid(inp.grid)
        multi = io.read_raster_on_grid(inp.multi_hazard, grid, resampling="nearest")
        risk = comprehensive.comprehensive_raster(multi, io.read_vector(inp.capacity, crs=grid.crs), grid,
                                                  p.capacity_effect)
        io.write_raster(risk, out.index, grid, cog=True,
                        tags=comprehensive.index_tags(p.capacity_effect, Path(inp.multi_hazard).name),
                        band_description=comprehensive.INDEX_DESCRIPTION)
        index = io.read_raster_on_grid(out.index, grid, resampling="nearest")
        zones, breaks = zoning.zone(index, p.method, p.sample_size, p.thresholds, NAME)
        io.write_raster(zones, out.tif, grid, nodata=0, dtype="uint8", cog=True,
                        tags=zoning.zoning_tags(NAME, p.method, breaks, Path(out.index).name),
                        band_description=comprehensive.ZONES_DESCRIPTION, colormap=zoning.ZONE_COLORS,
                        overview_resampling="nearest")
    io.write_text(styles.zoning_qml(comprehensive.ZONES_DESCRIPTION), out.qml)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
