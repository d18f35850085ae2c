"""Build the disaster-prevention database: survey files in, one point layer per category plus `rejected` out.

Every source is read and checked first (a file that cannot be used stops the rule with one message
naming it, before anything is written); then every row lands either in its category's layer or in
`rejected` with a reason, and the per-file counts table is logged and written beside the GeoPackage.
"""

import logging

from risk import io
from risk.runtime import rule_session
from risk.survey import check_sources, format_report, ingest

logger = logging.getLogger(__name__)


def main(snakemake):
    p = snakemake.params
    with rule_session(snakemake.log[0], snakemake.params.dask):
        raws = check_sources(p.sources, p.root)
        for raw in raws:
            logger.info("%s (%s): %d rows, %s", raw.label, raw.spec.category, len(raw.frame), raw.read_as)
        result = ingest(raws, io.read_aoi(snakemake.input.aoi), p.crs, float(p.tolerance_m))
        logger.info("survey ingest, rows per file:\n%s", format_report(result.report))
        for category, layer in result.layers.items():
            logger.info("layer %s: %d points", category, len(layer))
        logger.info("layer rejected: %d rows", len(result.rejected))
        db = result.database()
        io.write_layers(db, snakemake.output.gpkg, geometry_types={name: "Point" for name in db})
        io.write_table(result.report, snakemake.output.report)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
