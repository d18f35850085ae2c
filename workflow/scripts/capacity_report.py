"""Township capacity assessment reports (HTML): capacity/report/<code>.html per township and index.html.

Sections follow GB/T 43981-2024's report structure (:mod:`risk.capacity.report`); the date is the data's
(:func:`risk.io.manifest.data_date`), so a rerun on the same inputs writes the same bytes.
"""

import logging

from risk import io
from risk.io.capacity_report import write_reports
from risk.io.manifest import config_hash, data_date, sha256_file
from risk.io.tables import read_text_table
from risk.runtime import rule_session


def main(snakemake):
    inp, p = snakemake.input, snakemake.params
    with rule_session(snakemake.log[0], None):
        meta = {"area_name": p.area_name, "date": data_date([inp.table]), "config_sha256": config_hash(p.config),
                "source": str(inp.table), "source_sha256": sha256_file(inp.table)}
        written = write_reports(inp.template, snakemake.output[0], io.read_table(inp.capacity),
                                io.read_table(inp.weights), read_text_table(inp.table), io.read_table(inp.priority),
                                meta)
        logging.getLogger(__name__).info("capacity reports: %d files", len(written))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
