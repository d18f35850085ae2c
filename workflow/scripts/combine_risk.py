"""Risk per hazard from its hazard, exposure and vulnerability (``risk.method``), and multi-hazard risk.

Writes ``risk/<hazard>.tif`` for every hazard and ``risk/multi_hazard.tif`` (float32, NaN outside the
study area; expected harm in person-equivalents per cell, risk-matrix levels or a 0-1 index), each with
a QGIS style beside it, written in one pass over the blocks
(:func:`risk.assessment.combine_risk.combine_all`, :func:`risk.io.batchwrite.write_rasters`).
"""

from risk import io
from risk.assessment.combine_risk import combine_all, risk_range
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
        read = io.read_raster_on_grid
        by_hazard = {h: (read(e, grid, "nearest"), read(v, grid, "nearest"))
                     for h, e, v in zip(p.hazards, inp.hazard_exposure, inp.hazard_vulnerability, strict=True)}
        risks, tags, descr = combine_all(hazards, read(inp.exposure, grid, "nearest"),
                                         read(inp.vulnerability, grid, "nearest"), p.risk, by_hazard,
                                         p.hazard_method)
        # One pass: each hazard's risk is computed once and feeds both its file and the multi-hazard one.
        write_rasters({n: risks[n] for n in names}, grid, paths=paths, tags=tags, descriptions=descr,
                      sample_size=100_000, quantiles=(0.5, 0.99), cog=True)
    for name, qml in zip(names, [*out.qml, out.multi_qml], strict=True):
        io.write_text(index_qml(f"{name} risk", *risk_range(p.risk, io.read_tags(paths[name]))), qml)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
