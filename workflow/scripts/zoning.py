"""Cut each risk index raster into five zones; write the QGIS-ready COG, its style and a map.

Zones and breaks come from :func:`risk.assessment.zoning.zone`.
"""

from pathlib import Path

from risk import io
from risk.assessment import zoning
from risk.io import styles
from risk.io.figures import save_figure, zone_map
from risk.runtime import rule_session


def main(snakemake):
    p, out = snakemake.params, snakemake.output
    grid = io.read_grid(snakemake.input.grid)
    with rule_session(snakemake.log[0], p.dask):
        townships = io.read_vector(snakemake.input.townships, crs=grid.crs)
        indexes = {n: io.read_raster_on_grid(i, grid, resampling="nearest")
                   for n, i in zip(p.names, snakemake.input.index, strict=True)}
        how = zoning.risk_zoning_settings({n: io.read_tags(i) for n, i in zip(p.names, snakemake.input.index,
                                                                               strict=True)},
                                          p.method, p.thresholds, p.log_breaks, p.exposed_only)
        zoned = zoning.zone_many(indexes, sample_size=p.sample_size, settings=how)
        for name, index, tif, qml, png in zip(p.names, snakemake.input.index, out.tif, out.qml, out.png,
                                              strict=True):
            zones, breaks = zoned[name]
            io.write_raster(zones, tif, grid, nodata=0, dtype="uint8", cog=True,
                            tags=zoning.zoning_tags(name, how[name]["method"], breaks, Path(index).name,
                                                    exposed_only=p.exposed_only, log_breaks=how[name]["log_breaks"]),
                            band_description=zoning.band_description(name), colormap=zoning.ZONE_COLORS,
                            overview_resampling="nearest")
            io.write_text(styles.zoning_qml(zoning.band_description(name)), qml)
            small, small_grid = io.read_decimated(tif)  # the map needs ~1.5 Mpx, not the full grid
            fig = zone_map(small, small_grid, zoning.map_title(p.area_name, name), townships)
            save_figure(fig, png, dpi=110)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
