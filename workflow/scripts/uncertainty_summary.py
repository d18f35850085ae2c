"""Per-township summary of class stability: mean stability and the share of area that is stable.

Writes ``uncertainty/townships_stability.csv``: ``<name>_mean_stability`` and ``<name>_stable_share``
(share of the township's area keeping its zone in at least ``stable_threshold`` of the draws;
:func:`risk.assessment.uncertainty_summary.township_stability`).
"""

import logging

from risk import io
from risk.assessment.uncertainty_summary import township_stability
from risk.runtime import rule_session

logger = logging.getLogger(__name__)


def main(snakemake):
    p = snakemake.params
    with rule_session(snakemake.log[0], p.dask):
        grid = io.read_grid(snakemake.input.grid)
        towns = io.read_vector(snakemake.input.townships, crs=grid.crs)
        out = township_stability(towns, dict(zip(p.zoned, snakemake.input.stability, strict=True)), grid,
                                 p.stable_threshold, p.name_field)
        io.write_table(out, snakemake.output.csv)
        logger.info("class stability summarised for %d townships", len(out))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
