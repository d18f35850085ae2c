"""Rectification tracking (隐患整改): the risk register with each point's history, and what is open too long.

Writes ``changes/register_history.{gpkg,csv}`` (:func:`risk.followup.history.register_history`) and
``changes/open_past_deadline.csv`` (:func:`risk.followup.history.open_past_deadline`).
"""

import logging

import pandas as pd

from risk import io
from risk.followup.history import open_past_deadline, register_history
from risk.io.followup import read_round
from risk.runtime import rule_session

logger = logging.getLogger(__name__)


def main(snakemake):
    p, inp, out = snakemake.params, snakemake.input, snakemake.output
    with rule_session(snakemake.log[0], p.dask):
        history = io.read_table(inp.history[0]) if inp.history else None
        hist = register_history(io.read_vector(inp.register), read_round(inp.current)[0],
                                read_round(inp.previous)[0], io.read_table(inp.changes), p.date, p.previous_date,
                                history, p.open_depth_m)
        overdue = open_past_deadline(hist, p.deadline_days)
        logger.info("%d points open, %d past %s days", int((hist["status"] == "open").sum()), len(overdue),
                    p.deadline_days)
    io.write_layers({"register_history": hist}, out.gpkg)
    io.write_table(pd.DataFrame(hist.drop(columns="geometry")), out.csv)
    io.write_table(overdue, out.overdue)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
