"""Class stability of every zoning under Monte-Carlo perturbation of the weights.

Writes ``uncertainty/<name>_stability.tif`` for each hazard and ``multi_hazard`` (share of draws in
which a cell keeps its published zone, 0-1) and ``uncertainty/<name>_stability.json`` (the draws:
spread, seed, mean and spread of the redrawn breaks). All six names share the same draws and are
computed in one pass over the blocks (:func:`risk.assessment.class_stability.zone_stability`).
"""

import json
from pathlib import Path

from risk import io
from risk.assessment import class_stability as U
from risk.io.batchwrite import write_rasters
from risk.runtime import rule_session


def main(snakemake):
    p, inp, out = snakemake.params, snakemake.input, snakemake.output
    grid = io.read_grid(inp.grid)
    metrics = {h: json.loads(Path(m).read_text(encoding="utf-8"))
               for h, m in zip(p.hazards, inp.metrics, strict=True)}
    paths = {**{f"hazard:{h}": x for h, x in zip(p.hazards, inp.hazards, strict=True)},
             **{f"indicator:{k}": x for k, x in zip(p.indicator_keys, inp.indicators, strict=True)},
             **{f"exposure:{h}": x for h, x in zip(p.hazards, inp.hazard_exposure, strict=True)},
             **{f"vulnerability:{h}": x for h, x in zip(p.hazards, inp.hazard_vulnerability, strict=True)},
             "exposure": inp.exposure, "vulnerability": inp.vulnerability}
    tags = {name: io.read_tags(path) for name, path in zip(p.zoned, inp.zones, strict=True)}
    with rule_session(snakemake.log[0], p.dask):
        layers = {k: io.read_raster_on_grid(v, grid, resampling="nearest") for k, v in paths.items()}
        zones = {n: io.read_raster_on_grid(z, grid, resampling="nearest", dtype="uint8")
                 for n, z in zip(p.zoned, inp.zones, strict=True)}
        stab, info, rtags, descr = U.zone_stability(metrics, p.risk, layers, zones, tags, p.uncertainty,
                                                     p.hazard_method)
        write_rasters({n: stab[n] for n in p.zoned}, grid, paths=dict(zip(p.zoned, out.tifs, strict=True)),
                      tags=rtags, descriptions=descr, cog=True)
        for n, tif, info_path in zip(p.zoned, out.tifs, out.infos, strict=True):
            io.write_json(U.with_mean_stability(
                info[n], io.read_raster_on_grid(tif, grid, resampling="nearest")), info_path)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
