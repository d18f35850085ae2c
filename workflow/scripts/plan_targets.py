"""Progress of the plan's quantified targets: one row per indicator, on track for the target year or not."""

import matplotlib.pyplot as plt

from risk import io
from risk.capacity import plan_targets as targets
from risk.capacity.plots import progress_chart
from risk.io.tables import read_text_table
from risk.runtime import rule_session


def main(snakemake):
    p, out = snakemake.params, snakemake.output
    with rule_session(snakemake.log[0], snakemake.params.dask):
        series, progress = targets.target_progress(
            read_text_table(snakemake.input.table), p.indicators, p.baseline_year, p.target_year,
            p.period_start, p.baselines, source=str(snakemake.input.table))
        io.write_table(progress.round(targets.DECIMALS), out.csv)
        fig = progress_chart(series, progress, p.target_year)
    with io.atomic_path(out.png, ".tmp.png") as tmp:
        fig.savefig(tmp, dpi=130)
    plt.close(fig)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
