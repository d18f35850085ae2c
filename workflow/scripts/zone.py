"""Cut a risk index raster into five zones and write the QGIS-ready COG and its style."""

import logging
from pathlib import Path

from risk import io, zoning
from risk.grid import Grid
from risk.runtime import configure_logging, dask_session

logger = logging.getLogger(__name__)


def main(snakemake):
    configure_logging(snakemake.log[0])
    p = snakemake.params
    name = snakemake.wildcards.zoned
    grid = Grid.from_json(Path(snakemake.input.grid).read_text())
    with dask_session(**p.dask):
        index = io.read_raster_on_grid(snakemake.input.index, grid, resampling="nearest")
        sample = zoning.systematic_sample(index, p.sample_size)
        breaks = zoning.class_breaks(sample, p.method, thresholds=p.thresholds)
        logger.info("%s: %s breaks %s from %d sampled cells", name, p.method, breaks.round(4).tolist(), sample.size)
        zones = zoning.classify(index, breaks)
        io.write_raster(zones, snakemake.output.tif, grid, nodata=0, dtype="uint8", cog=True,
                        tags=zoning.zoning_tags(name, p.method, breaks, Path(snakemake.input.index).name),
                        band_description=zoning.band_description(name), colormap=zoning.ZONE_COLORS,
                        overview_resampling="nearest")
    io.write_text(zoning.zoning_qml(zoning.band_description(name)), snakemake.output.qml)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
