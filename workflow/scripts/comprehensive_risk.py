"""Comprehensive risk (multi-hazard risk lowered by township capacity), zoned like the hazards."""

import logging
from pathlib import Path

from risk import io
from risk.assessment import zoning
from risk.capacity import comprehensive_risk as comprehensive
from risk.grid import Grid
from risk.io import styles
from risk.runtime import configure_logging, dask_session

logger = logging.getLogger(__name__)

NAME = "comprehensive"
DESCRIPTION = "综合风险区划 Comprehensive risk zone (1 低 Low … 5 高 High, 0 nodata)"


def main(snakemake):
    configure_logging(snakemake.log[0])
    p = snakemake.params
    grid = Grid.from_json(Path(snakemake.input.grid).read_text())
    cap = io.read_vector(snakemake.input.capacity, crs=grid.crs)
    with dask_session(**p.dask):
        multi = io.read_raster_on_grid(snakemake.input.multi_hazard, grid, resampling="nearest")
        labels = comprehensive.township_labels(cap, grid)
        c = comprehensive.capacity_raster(labels, cap["capacity_index"].to_numpy())
        risk = comprehensive.comprehensive_risk(multi, c, p.capacity_effect)
        io.write_raster(risk, snakemake.output.index, grid, cog=True,
                        tags={"FORMULA": f"R_c = R_multi_hazard * (1 - {p.capacity_effect} * C_township)",
                              "SOURCE_INDEX": Path(snakemake.input.multi_hazard).name},
                        band_description="综合风险指数 Comprehensive risk index (0-1)")
        index = io.read_raster_on_grid(snakemake.output.index, grid, resampling="nearest")
        sample = zoning.systematic_sample(index, p.sample_size)
        breaks = zoning.class_breaks(sample, p.method, thresholds=p.thresholds)
        logger.info("%s: %s breaks %s from %d sampled cells", NAME, p.method, breaks.round(4).tolist(), sample.size)
        zones = zoning.classify(index, breaks)
        io.write_raster(zones, snakemake.output.tif, grid, nodata=0, dtype="uint8", cog=True,
                        tags=zoning.zoning_tags(NAME, p.method, breaks, Path(snakemake.output.index).name),
                        band_description=DESCRIPTION, colormap=zoning.ZONE_COLORS, overview_resampling="nearest")
    io.write_text(styles.zoning_qml(DESCRIPTION), snakemake.output.qml)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
