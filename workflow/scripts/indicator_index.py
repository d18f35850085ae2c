"""Configurable-weight hazard indices and the multi-hazard index (hazard/index/*.tif).

Each indicator is scaled to 0-1 (quantile-clipped min-max on a systematic sample, direction
applied; fixed bounds for scores), weighted with ``indicator_index.weights.<hazard>`` and averaged;
the hazard indices combine into the multi-hazard index (:func:`risk.hazard.indicator_index.build`).
The bounds and weights used are written to hazard/index/index.json and into each file's metadata.
Quantile bounds come from the sample the indicator rule recorded in each file (the same
systematic sample, drawn while writing), so each indicator is read once.
"""

from pathlib import Path

from risk import io
from risk.hazard import indicator_index
from risk.io.batchwrite import sample_bounds, write_rasters
from risk.runtime import rule_session


def main(snakemake):
    p, inp, out = snakemake.params, snakemake.input, snakemake.output
    q, n = (p.normalize["lower_quantile"], p.normalize["upper_quantile"]), p.normalize["sample_size"]
    # an indicator is the same raster in every hazard folder: one file of each name is read
    files = {Path(f).stem: f for f in reversed(inp.indicators)}
    with rule_session(snakemake.log[0], p.dask):
        grid = io.read_grid(inp.grid)
        aoi = io.read_raster_on_grid(inp.mask, grid, "nearest", dtype="uint8")
        layers, tags, descriptions, record = indicator_index.build(
            {name: io.read_raster_on_grid(f, grid, "nearest") for name, f in files.items()},
            {name: sample_bounds(f, n, q) for name, f in files.items()}, p.weights, p.multi_hazard, q, n)
        paths = {k: getattr(out, k) for k in layers}
        write_rasters(layers, grid, paths=paths, mask=aoi, tags=tags, descriptions=descriptions, cog=True)
    io.write_json(record, out.record)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
