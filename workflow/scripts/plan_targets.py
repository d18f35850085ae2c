"""Progress of the plan's quantified targets: one row per indicator, on track for the target year or not."""

import logging

import matplotlib.pyplot as plt

from risk import io
from risk.capacity import plan_targets as targets
from risk.capacity.plots import progress_chart
from risk.io.tables import read_text_table
from risk.runtime import configure_logging

logger = logging.getLogger(__name__)


def main(snakemake):
    configure_logging(snakemake.log[0])
    p = snakemake.params
    wanted = {i.key: i for i in targets.INDICATORS if i.key in p.indicators}
    needed = sorted({c for i in wanted.values() for c in i.columns})
    stats = targets.validate_statistics(read_text_table(snakemake.input.table), needed,
                                        source=str(snakemake.input.table))
    progress = targets.assess_progress(stats, p.indicators, p.baseline_year, p.target_year, p.period_start,
                                       p.baselines)
    for _, r in progress.iterrows():
        logger.info("%-28s latest %s projected %.4g target %.4g -> %s", r["indicator"], r["latest"],
                    r["projected"], r["target"], r["status"])
    io.write_table(progress.round({"baseline": 6, "target": 6, "latest": 6, "change_vs_baseline_pct": 2,
                                   "trend_per_year": 6, "projected": 6}), snakemake.output.csv)
    fig = progress_chart(targets.indicator_series(stats), progress, p.target_year)
    with io.atomic_path(snakemake.output.png, ".tmp.png") as tmp:
        fig.savefig(tmp, dpi=130)
    plt.close(fig)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
