"""Write the synthetic demo inputs for the configured AOI (same seed, same bytes)."""

import logging
from pathlib import Path

from risk import io
from risk.demo import generate
from risk.runtime import rule_session

logger = logging.getLogger(__name__)


def main(snakemake):
    p = snakemake.params
    out = Path(snakemake.output.config).parent
    with rule_session(snakemake.log[0], snakemake.params.dask):
        generate(io.read_aoi(snakemake.input.aoi), out, seed=p.seed, crs=p.crs, res=float(p.res))
        logger.info("demo inputs written to %s", out)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
