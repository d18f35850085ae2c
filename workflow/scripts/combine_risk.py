"""Risk per hazard from its hazard, exposure and vulnerability indices, and multi-hazard risk.

Writes ``risk/<hazard>.tif`` for every hazard and ``risk/multi_hazard.tif`` (float32 0-1, NaN outside
the study area), each with a QGIS style beside it, written in one pass over the blocks
(:func:`risk.io.batchwrite.write_rasters`).
"""

import logging
from pathlib import Path

from risk import io
from risk.assessment import combine_risk as combine
from risk.grid import Grid
from risk.io.batchwrite import write_rasters
from risk.io.styles import index_qml
from risk.runtime import configure_logging, dask_session

logger = logging.getLogger(__name__)


def main(snakemake):
    configure_logging(snakemake.log[0])
    p = snakemake.params
    inp, out = snakemake.input, snakemake.output
    grid = Grid.from_json(Path(inp.grid).read_text())
    hazards = list(p.hazards)
    mh = p.risk["multi_hazard"]
    with dask_session(**p.dask):
        exposure = io.read_raster_on_grid(inp.exposure, grid, resampling="nearest")
        vulnerability = io.read_raster_on_grid(inp.vulnerability, grid, resampling="nearest")
        risks, tags, descr = {}, {}, {}
        for h, hpath, rpath in zip(hazards, inp.hazards, out.risks, strict=True):
            formula, w = combine.risk_settings(p.risk, h)
            logger.info("%s: risk = %s of hazard, exposure, vulnerability, weights %s", h, formula,
                        [round(x, 4) for x in w])
            hazard = io.read_raster_on_grid(hpath, grid, resampling="nearest")
            risks[h] = combine.risk_index(hazard, exposure, vulnerability, formula,
                                          dict(zip(combine.FACTORS, w, strict=True)))
            tags[rpath] = {"HAZARD": h, "RISK_FORMULA": formula, "RISK_WEIGHTS": str([round(x, 6) for x in w])}
            descr[rpath] = f"{h} risk index 0-1 ({formula})"
        logger.info("multi-hazard risk of %s by %s", ", ".join(hazards), mh["rule"])
        multi = combine.multi_hazard({h: risks[h] for h in sorted(hazards)}, mh["rule"], mh.get("weights") or None)
        tags[out.multi] = {"HAZARD": "multi_hazard", "MULTI_HAZARD_RULE": mh["rule"], "HAZARDS": ",".join(sorted(hazards))}
        descr[out.multi] = f"multi-hazard risk index 0-1 ({mh['rule']})"
        # One pass: each hazard's risk is computed once and feeds both its file and the multi-hazard one.
        write_rasters({**{r: risks[h] for h, r in zip(hazards, out.risks, strict=True)}, out.multi: multi}, grid,
                      tags=tags, descriptions=descr)
    for h, q in zip(hazards, out.qml, strict=True):
        io.write_text(index_qml(f"{h} risk"), q)
    io.write_text(index_qml("multi-hazard risk"), out.multi_qml)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
