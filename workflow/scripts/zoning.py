"""Cut each risk index raster into five zones; write the QGIS-ready COG, its style and a map."""

import logging
from pathlib import Path

import matplotlib.pyplot as plt

from risk import HAZARD_LABELS, io
from risk.assessment import zoning
from risk.grid import Grid
from risk.io import styles
from risk.io.figures import zone_map
from risk.runtime import configure_logging, dask_session

logger = logging.getLogger(__name__)


def zone_one(index_path, tif, qml, png, name, grid, p, townships):
    """Zone one index raster and write its three outputs."""
    index = io.read_raster_on_grid(index_path, grid, resampling="nearest")
    sample = zoning.systematic_sample(index, p.sample_size)
    breaks = zoning.class_breaks(sample, p.method, thresholds=p.thresholds)
    logger.info("%s: %s breaks %s from %d sampled cells", name, p.method, breaks.round(4).tolist(), sample.size)
    zones = zoning.classify(index, breaks)
    io.write_raster(zones, tif, grid, nodata=0, dtype="uint8", cog=True,
                    tags=zoning.zoning_tags(name, p.method, breaks, Path(index_path).name),
                    band_description=zoning.band_description(name), colormap=zoning.ZONE_COLORS,
                    overview_resampling="nearest")
    io.write_text(styles.zoning_qml(zoning.band_description(name)), qml)
    zh, en = HAZARD_LABELS.get(name, (name, name))
    small, small_grid = io.read_decimated(tif)  # the map needs ~1.5 Mpx, not the full grid
    fig = zone_map(small, small_grid, f"{p.area_name} {zh}风险区划 {en} risk zones", townships)
    with io.atomic_path(png, ".tmp.png") as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)


def main(snakemake):
    configure_logging(snakemake.log[0])
    p = snakemake.params
    grid = Grid.from_json(Path(snakemake.input.grid).read_text())
    townships = io.read_vector(snakemake.input.townships, crs=grid.crs)
    out = snakemake.output
    with dask_session(**p.dask):
        for name, index, tif, qml, png in zip(p.names, snakemake.input.index, out.tif, out.qml, out.png,
                                              strict=True):
            zone_one(index, tif, qml, png, name, grid, p, townships)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
