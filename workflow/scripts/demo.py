"""Write the synthetic demo inputs for the configured AOI (same seed, same bytes)."""

import logging
from pathlib import Path

from risk import io
from risk.demo import generate
from risk.runtime import configure_logging

logger = logging.getLogger(__name__)


def main(snakemake):
    configure_logging(snakemake.log[0])
    p = snakemake.params
    aoi = io.read_aoi(snakemake.input.aoi)
    out = Path(snakemake.output.config).parent
    generate(aoi, out, seed=p.seed, crs=p.crs, res=float(p.res))
    logger.info("demo inputs written to %s", out)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
