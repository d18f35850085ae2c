"""Capacity index (综合减灾能力) of every township from the planner-filled capacity table."""

from risk import io
from risk.capacity import capacity_index as capacity
from risk.capacity.layers import require_fields
from risk.io.tables import read_text_table
from risk.runtime import rule_session


def main(snakemake):
    p, inp, out = snakemake.params, snakemake.input, snakemake.output
    with rule_session(snakemake.log[0], snakemake.params.dask):
        townships = require_fields(io.read_vector(inp.townships, crs=p.crs), ("code", "name"), inp.townships,
                                   "townships")
        result, weights, layer = capacity.township_capacity(
            read_text_table(inp.table), townships, source=str(inp.table), normalization=p.normalization,
            weighting=p.weighting, ahp=p.ahp, combination=p.combination, alpha=p.alpha, cr_limit=p.max_cr,
            aggregation=p.aggregation, grading=p.grading["method"], thresholds=p.grading["thresholds"])
        io.write_table(result, out.csv)
        io.write_table(weights, out.weights)
        io.write_vector(layer, out.gpkg, layer="capacity_index")


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
