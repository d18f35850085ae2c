"""Configurable-weight hazard indices and the multi-hazard index (hazard/index/*.tif).

Each indicator is scaled to 0-1 (quantile-clipped min-max on a systematic sample, direction
applied; fixed bounds for scores), weighted with ``indicators.weights.<hazard>`` and averaged;
the hazard indices combine into the multi-hazard index. The bounds and weights used are written
to hazard/index/index.json and into each file's metadata. Quantile bounds come from the sample
the indicator rule recorded in each file (the same systematic sample, drawn while writing), so
each indicator is read once.
"""

import json
import logging
from pathlib import Path

from risk import io
from risk.grid import Grid
from risk.hazard.indicator_index import check_weights, combine, weighted_index
from risk.hazard.indicators import INDICATORS
from risk.hazard.normalize import normalize, quantile_bounds
from risk.io.batchwrite import sample_bounds, write_rasters
from risk.runtime import configure_logging, dask_session

logger = logging.getLogger(__name__)


def main(snakemake):
    configure_logging(snakemake.log[0])
    p = snakemake.params
    inp, out = snakemake.input, snakemake.output
    grid = Grid.from_json(Path(inp.grid).read_text())
    ind_dir = Path(inp.indicators[0]).parent.parent
    q = (p.normalize["lower_quantile"], p.normalize["upper_quantile"])
    record = {"normalisation": "clip((x - lo) / (hi - lo), 0, 1), 1 - that where less is more dangerous; "
                               f"lo, hi = quantiles {list(q)} of a systematic sample unless fixed",
              "hazards": {}, "multi_hazard": {"method": p.multi_hazard["method"],
                                              "weights": p.multi_hazard["weights"]}}
    with dask_session(**p.dask):
        aoi = io.read_raster_on_grid(inp.mask, grid, "nearest", dtype="uint8")
        indices, outputs, tags = {}, {}, {}
        raw, bounds = {}, {}  # an indicator name is the same raster in every hazard folder: read it once
        for hazard, inds in INDICATORS.items():
            weights = check_weights(p.weights.get(hazard, {}), [i.name for i in inds], f"indicators.weights.{hazard}")
            normed, rec = {}, {}
            for ind in inds:
                if ind.name not in weights:
                    continue
                path = ind_dir / hazard / f"{ind.name}.tif"
                if ind.name not in raw:
                    raw[ind.name] = io.read_raster_on_grid(path, grid, "nearest", name=ind.name)
                key = (ind.name, ind.transform)
                if ind.bounds is not None:
                    bounds[key] = ind.bounds
                elif key not in bounds:
                    recorded = sample_bounds(path, p.normalize["sample_size"], q) if ind.transform == "none" else None
                    bounds[key] = recorded or quantile_bounds(raw[ind.name], q, p.normalize["sample_size"],
                                                              ind.transform)
                n = normalize(raw[ind.name], ind.direction, bounds=bounds[key], transform=ind.transform)
                normed[ind.name] = n
                rec[ind.name] = {"weight": weights[ind.name], "direction": ind.direction,
                                 "transform": ind.transform, "lo": n.attrs["norm_lo"], "hi": n.attrs["norm_hi"]}
            indices[hazard] = weighted_index(normed, weights).rename(hazard)
            record["hazards"][hazard] = rec
            logger.info("%s index from %s", hazard, ", ".join(f"{k} {v['weight']:g}" for k, v in rec.items()))
        multi = combine(indices, p.multi_hazard["weights"], p.multi_hazard["method"])
        for hazard, arr in indices.items():
            path = getattr(out, hazard)
            outputs[path] = arr
            tags[path] = {"HAZARD": hazard, "UNITS": "1", "INDEX": json.dumps(record["hazards"][hazard])}
        outputs[out.multi_hazard] = multi
        tags[out.multi_hazard] = {"HAZARD": "multi_hazard", "UNITS": "1",
                                  "INDEX": json.dumps(record["multi_hazard"])}
        write_rasters(outputs, grid, tags=tags, mask=aoi,
                      descriptions={k: f"{v['HAZARD']} hazard index (0-1, configurable weights)"
                                    for k, v in tags.items()})
    io.write_json(record, out.record)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
