"""Progress of the plan's quantified targets: one row per indicator, on track for the target year or not."""


from risk import io
from risk.capacity import plan_targets as targets
from risk.capacity.plots import progress_chart
from risk.io.figures import save_figure
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
    save_figure(fig, out.png, dpi=130)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
