"""Capacity index (综合减灾能力) of every township from the planner-filled capacity table."""

import logging

from risk import io
from risk.capacity import capacity_index as capacity
from risk.io.tables import read_text_table
from risk.runtime import configure_logging

logger = logging.getLogger(__name__)


def main(snakemake):
    configure_logging(snakemake.log[0])
    p = snakemake.params
    townships = io.read_vector(snakemake.input.townships, crs=p.crs)
    for col in ("code", "name"):
        if col not in townships.columns:
            raise ValueError(f"{snakemake.input.townships}: the townships layer needs a `{col}` field")
    townships["code"] = townships["code"].astype(str)
    table = capacity.validate_capacity_table(read_text_table(snakemake.input.table), townships,
                                             source=str(snakemake.input.table))
    result, weights, info = capacity.capacity_index(
        table, normalization=p.normalization, weighting=p.weighting, ahp=p.ahp, combination=p.combination,
        alpha=p.alpha, cr_limit=p.max_cr, aggregation=p.aggregation, grading=p.grading["method"],
        thresholds=p.grading["thresholds"])
    logger.info("AHP consistency ratios: %s", {k: round(v, 4) for k, v in info["consistency_ratio"].items()})
    logger.info("grade breaks (%s): %s", info["grading"], [round(b, 4) for b in info["grade_breaks"]])
    for _, r in result.sort_values("rank").iterrows():
        logger.info("%2d %s %.3f %s", r["rank"], r["name"], r["capacity_index"], r["grade_zh"])
    for grp, cr in info["consistency_ratio"].items():
        weights.loc[weights["group"] == grp, "group_cr"] = cr
    weights["groups_cr"] = info["consistency_ratio"].get("groups")
    weights["method"] = (f"{info['weighting']}" + (f" ({info['combination']})" if info["combination"] else "")
                         + f", {info['aggregation']}, {info['normalization']}")
    weights["grade_breaks"] = ";".join(f"{b:.6f}" for b in info["grade_breaks"])
    io.write_table(result, snakemake.output.csv)
    io.write_table(weights, snakemake.output.weights)
    gdf = townships[["code", "geometry"]].merge(result, on="code", how="right")
    io.write_vector(gdf.set_geometry("geometry"), snakemake.output.gpkg, layer="capacity_index")


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
