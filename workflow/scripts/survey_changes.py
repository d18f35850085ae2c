"""Survey changes between rounds: every point of this round and the earlier one matched and classified.

Writes ``changes/survey_changes.{gpkg,csv}`` (:func:`risk.followup.changes.match_rounds`), the counts per township,
category and kind (``changes/change_counts.csv``), a map (``changes/survey_changes.png``) and each point's history
across rounds (``changes/point_history.csv``, :func:`risk.followup.history.point_history`, which the risk register
joins).
"""

import logging

import pandas as pd

from risk import io
from risk.followup.changes import change_counts, match_rounds
from risk.followup.history import point_history
from risk.followup.plots import changes_map
from risk.io.figures import save_figure
from risk.io.followup import read_history, read_round
from risk.runtime import rule_session

logger = logging.getLogger(__name__)


def main(snakemake):
    p, inp, out = snakemake.params, snakemake.input, snakemake.output
    with rule_session(snakemake.log[0], p.dask):
        (cur, cur_cats), (prev, prev_cats) = read_round(inp.current), read_round(inp.previous)
        changes, note = match_rounds(prev, cur, p.tolerance_m, p.max_move_m, p.depth_tolerance_m, prev_cats, cur_cats)
        logger.info("%s; changes by kind:\n%s", note or "same CRS", changes["kind"].value_counts().to_string())
        history = point_history(cur, prev, changes, p.date, p.previous_date, read_history(inp.history), p.open_depth_m)
    io.write_layers({"survey_changes": changes}, out.gpkg)
    io.write_table(pd.DataFrame(changes.drop(columns="geometry")), out.csv)
    io.write_table(change_counts(changes), out.counts)
    io.write_table(history, out.history)
    towns = io.read_vector(inp.townships[0], crs=changes.crs) if inp.townships else None
    save_figure(changes_map(changes, towns, f"{p.area_name} 风险点变化 Survey changes {p.previous_date} → {p.date}"),
                out.png)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
