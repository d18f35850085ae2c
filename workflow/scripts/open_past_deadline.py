"""Rectification tracking (隐患整改): the hidden dangers open longer than the deadline, worst risk first.

Reads the risk register, which carries each point's history across rounds, and writes
``changes/open_past_deadline.csv`` (:func:`risk.followup.history.open_past_deadline`).
"""

import logging

from risk import io
from risk.followup.history import open_past_deadline
from risk.runtime import rule_session

logger = logging.getLogger(__name__)


def main(snakemake):
    p = snakemake.params
    with rule_session(snakemake.log[0], p.dask):
        register = io.read_vector(snakemake.input.register)
        overdue = open_past_deadline(register, p.deadline_days)
        logger.info("%d points open, %d past %s days", int((register["status"] == "open").sum()), len(overdue),
                    p.deadline_days)
    io.write_table(overdue, snakemake.output.overdue)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
