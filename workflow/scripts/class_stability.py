"""Class stability of every zoning under Monte-Carlo perturbation of the weights.

Writes ``uncertainty/<name>_stability.tif`` for each hazard and ``multi_hazard`` (share of draws in
which a cell keeps its published zone, 0-1) and ``uncertainty/<name>_stability.json`` (the draws:
spread, seed, mean and spread of the redrawn breaks). All six names share the same draws and are
computed in one pass over the blocks (:func:`risk.assessment.class_stability.class_stability_many`).
"""

import json
import logging
from pathlib import Path

import numpy as np
import rasterio

from risk import io
from risk.assessment import class_stability as uncertainty
from risk.assessment.township_tables import zoning_meta
from risk.assessment.zoning import systematic_sample
from risk.grid import Grid
from risk.io.batchwrite import write_rasters
from risk.runtime import configure_logging, dask_session

logger = logging.getLogger(__name__)


def main(snakemake):
    configure_logging(snakemake.log[0])
    p = snakemake.params
    inp, out = snakemake.input, snakemake.output
    grid = Grid.from_json(Path(inp.grid).read_text())
    hazards = list(p.hazards)
    metrics = {h: json.loads(Path(m).read_text(encoding="utf-8")) for h, m in zip(hazards, inp.metrics, strict=True)}
    spec = uncertainty.build_spec(metrics, p.risk)
    paths = {f"hazard:{h}": path for h, path in zip(hazards, inp.hazards, strict=True)}
    paths.update({f"indicator:{k}": v for k, v in zip(p.indicator_keys, inp.indicators, strict=True)})
    paths.update(exposure=inp.exposure, vulnerability=inp.vulnerability)
    u = p.uncertainty
    names = list(p.zoned)
    methods, thresholds, tifs, infos = {}, {}, {}, {}
    for name, zpath, tif, info_path in zip(names, inp.zones, out.tifs, out.infos, strict=True):
        with rasterio.open(zpath) as src:
            methods[name], breaks = zoning_meta(src.tags())
        if methods[name] == "fixed":
            thresholds[name] = breaks
        tifs[name], infos[name] = tif, info_path
    with dask_session(**p.dask):
        layers = {k: io.read_raster_on_grid(v, grid, resampling="nearest") for k, v in paths.items()}
        zones = {n: io.read_raster_on_grid(z, grid, resampling="nearest", dtype="uint8")
                 for n, z in zip(names, inp.zones, strict=True)}
        keys = set().union(*(uncertainty.layer_keys(spec, n) for n in names))
        stab, info = uncertainty.class_stability_many({k: layers[k] for k in keys}, spec, names, zones, methods,
                                                      thresholds, u["n_draws"], u["spread"], u["seed"],
                                                      u["sample_size"])
        write_rasters({tifs[n]: stab[n] for n in names}, grid,
                      tags={tifs[n]: {"NAME": n, "N_DRAWS": u["n_draws"], "SPREAD": u["spread"], "SEED": u["seed"],
                                      "ZONING_METHOD": methods[n]} for n in names},
                      descriptions={tifs[n]: f"{n}: share of {u['n_draws']} weight draws keeping the zone (0-1)"
                                    for n in names})
        for n in names:
            sample = systematic_sample(io.read_raster_on_grid(tifs[n], grid, resampling="nearest"), 200_000)
            info[n]["mean_stability"] = round(float(np.mean(sample)), 4) if sample.size else None
            logger.info("%s: mean class stability %s over %d draws (spread ±%d %%)", n, info[n]["mean_stability"],
                        u["n_draws"], round(100 * u["spread"]))
            io.write_json(info[n], infos[n])


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
