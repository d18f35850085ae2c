"""Validate the risk of every hazard against the historical-disaster record, beside exposure alone,
hazard alone and hazard × people (:mod:`risk.assessment.risk_validation`).

Writes ``validation/risk_validation.json`` (capture curves and figures), ``validation/risk_validation.csv``
(the table) and ``figures/risk_validation.png`` (the capture curves).
"""

from functools import partial

from risk import io
from risk.assessment import risk_validation as V
from risk.io.figures import capture_figure, save_figure
from risk.io.tables import read_text_table
from risk.runtime import rule_session


def _read(grid, files):
    return {k: io.read_raster_on_grid(f, grid, "nearest").data  # Dask: reduced block by block
            for k, f in zip(("risk", "exposure", "hazard", "zones"), files, strict=True)}


def main(snakemake):
    p, inp, out = snakemake.params, snakemake.input, snakemake.output
    grid = io.read_grid(inp.grid)
    with rule_session(snakemake.log[0], p.dask):
        layers = {h: partial(_read, grid, files)  # read when the hazard's turn comes: one hazard in memory
                  for h, *files in zip(p.hazards, inp.risks, inp.exposures, inp.hazards, inp.zones, strict=True)}
        result = V.validate_run(read_text_table(inp.disasters), inp.disasters, grid,
                                io.read_vector(inp.townships, crs=grid.crs), layers,
                                io.read_population_on_grid(inp.population, grid).data,
                                name_field=p.name_field, harm_column=p.harm_column,
                                top_area_share=p.top_area_share)
        io.write_json(result, out.json)
        io.write_table(V.table(result), out.csv)
        fig = capture_figure(result, p.area_name)
        save_figure(fig, out.png, dpi=110)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
