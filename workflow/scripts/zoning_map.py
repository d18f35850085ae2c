"""Draw a zoning raster as a map with township boundaries and a bilingual legend."""

import logging

import matplotlib.pyplot as plt
import rasterio

from risk import HAZARD_LABELS, io
from risk.plot import zone_map
from risk.runtime import configure_logging

logger = logging.getLogger(__name__)


def main(snakemake):
    configure_logging(snakemake.log[0])
    name = snakemake.wildcards.zoned
    grid = io.grid_of(snakemake.input.zones)
    with rasterio.open(snakemake.input.zones) as src:
        # Draw from an overview level where one exists: a map needs no more than ~1.5 Mpx.
        zones = src.read(1)
    townships = io.read_vector(snakemake.input.townships, crs=grid.crs)
    zh, en = HAZARD_LABELS.get(name, (name, name))
    fig = zone_map(zones, grid, f"{snakemake.params.area_name} {zh}风险区划 {en} risk zones", townships)
    with io.atomic_path(snakemake.output.png, ".tmp.png") as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
