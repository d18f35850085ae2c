"""Risk per hazard from its hazard, exposure and vulnerability indices, and multi-hazard risk.

Writes ``risk/<hazard>.tif`` for every hazard and ``risk/multi_hazard.tif`` (float32 0-1, NaN outside
the study area), each with a QGIS style beside it, written in one pass over the blocks
(:func:`risk.assessment.combine_risk.combine_all`, :func:`risk.io.batchwrite.write_rasters`).
"""

from risk import io
from risk.assessment.combine_risk import combine_all
from risk.io.batchwrite import write_rasters
from risk.io.styles import index_qml
from risk.runtime import rule_session


def main(snakemake):
    p, inp, out = snakemake.params, snakemake.input, snakemake.output
    grid = io.read_grid(inp.grid)
    names = [*p.hazards, "multi_hazard"]
    paths = dict(zip(names, [*out.risks, out.multi], strict=True))
    with rule_session(snakemake.log[0], p.dask):
        hazards = {h: io.read_raster_on_grid(path, grid, resampling="nearest")
                   for h, path in zip(p.hazards, inp.hazards, strict=True)}
        exposure = io.read_raster_on_grid(inp.exposure, grid, resampling="nearest")
        vulnerability = io.read_raster_on_grid(inp.vulnerability, grid, resampling="nearest")
        risks, tags, descr = combine_all(hazards, exposure, vulnerability, p.risk)
        # One pass: each hazard's risk is computed once and feeds both its file and the multi-hazard one.
        write_rasters({n: risks[n] for n in names}, grid, paths=paths, tags=tags, descriptions=descr, cog=True)
    for h, qml in zip(p.hazards, out.qml, strict=True):
        io.write_text(index_qml(f"{h} risk"), qml)
    io.write_text(index_qml("multi-hazard risk"), out.multi_qml)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
