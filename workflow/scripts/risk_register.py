"""The risk register: every surveyed point with its hazards, vulnerability, risk score and level, ranked.

Writes ``points/risk_register.gpkg`` (layer ``risk_register``) and ``points/risk_register.csv``
(:func:`risk.assessment.risk_register.build_register`). With an earlier survey round (``followup.previous``)
each point carries its history across rounds (:func:`risk.followup.history.join_history`).
"""

import pandas as pd

from risk import io
from risk.assessment.risk_register import build_register
from risk.assessment.township_tables import zoning_meta
from risk.followup.history import join_history
from risk.hazard.point_rasters import values_at_points
from risk.io.followup import read_history
from risk.io.survey_db import read_survey_points
from risk.runtime import rule_session


def main(snakemake):
    p, inp = snakemake.params, snakemake.input
    grid = io.read_grid(inp.grid)
    breaks = {h: zoning_meta(io.read_tags(path))[1] for h, path in zip(p.hazards, inp.zones, strict=True)}
    with rule_session(snakemake.log[0], p.dask):
        pts = read_survey_points(inp.survey, grid.crs).reset_index(drop=True)
        rasters = {h: io.read_raster_on_grid(path, grid, resampling="nearest")
                   for h, path in [*zip(p.hazards, inp.hazards, strict=True),
                                   *zip([f"risk:{h}" for h in p.hazards], inp.risks, strict=True)]}
        rasters.update(exposure=io.read_raster_on_grid(inp.exposure, grid, resampling="nearest"),
                       vulnerability=io.read_raster_on_grid(inp.vulnerability, grid, resampling="nearest"),
                       multi_zone=io.read_raster_on_grid(inp.multi_zone, grid, resampling="nearest",
                                                         dtype="uint8"))
        at = values_at_points(rasters, grid, pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy())
        reg = build_register(pts, io.read_vector(inp.vulnerability_points, crs=grid.crs), at, p.hazards,
                             p.risk, breaks)
        if inp.history:
            reg = join_history(reg, read_history(inp.history))
    io.write_layers({"risk_register": reg}, snakemake.output.gpkg)
    io.write_table(pd.DataFrame(reg.drop(columns="geometry")), snakemake.output.csv)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
