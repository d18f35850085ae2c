"""The risk register: every surveyed point with its hazards, vulnerability, risk score and level, ranked.

Writes ``points/risk_register.gpkg`` (layer ``risk_register``) and ``points/risk_register.csv``.
"""

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio

from risk import io
from risk.assessment import risk_register as register
from risk.assessment import township_tables as tables
from risk.assessment.combine_risk import risk_settings
from risk.grid import Grid
from risk.io.survey_db import read_survey_points
from risk.runtime import configure_logging, dask_session

logger = logging.getLogger(__name__)

SCORE_FIELDS = ("vulnerability", "vulnerability_score", "vuln", "score")


def point_vulnerability(points, vpoints, fallback):
    """Each point's own vulnerability score, matched by (category, id), else the raster value at its cell."""
    out = np.asarray(fallback, dtype="f4").copy()
    col = next((c for c in SCORE_FIELDS if c in vpoints.columns), None)
    if col is None or len(vpoints) == 0:
        logger.warning("vulnerability points carry no score column (%s): using the raster", ", ".join(SCORE_FIELDS))
        return out, 0
    if {"category", "id"} <= set(vpoints.columns):
        key = vpoints["category"].astype(str) + "\x1f" + vpoints["id"].astype(str)
        lut = pd.Series(pd.to_numeric(vpoints[col], errors="coerce").to_numpy(), index=key)
        lut = lut[~lut.index.duplicated()]
        mine = points["category"].astype(str) + "\x1f" + points["id"].astype(str)
        got = mine.map(lut).to_numpy(dtype="f8")
    else:
        import geopandas as gpd

        j = gpd.sjoin_nearest(points[["geometry"]], vpoints[[col, "geometry"]], how="left", max_distance=1.0)
        j = j[~j.index.duplicated()]
        got = pd.to_numeric(j[col], errors="coerce").reindex(points.index).to_numpy(dtype="f8")
    ok = np.isfinite(got)
    out[ok] = got[ok]
    return out, int(ok.sum())


def main(snakemake):
    configure_logging(snakemake.log[0])
    p = snakemake.params
    inp = snakemake.input
    grid = Grid.from_json(Path(inp.grid).read_text())
    hazards = list(p.hazards)
    breaks = {}
    for h, path in zip(hazards, inp.zones, strict=True):
        with rasterio.open(path) as src:
            breaks[h] = tables.zoning_meta(src.tags())[1]
    pts = read_survey_points(inp.survey, grid.crs).reset_index(drop=True)
    vpts = io.read_vector(inp.vulnerability_points, crs=grid.crs)
    with dask_session(**p.dask):
        rasters = {h: io.read_raster_on_grid(path, grid, resampling="nearest")
                   for h, path in zip(hazards, inp.hazards, strict=True)}
        rasters["exposure"] = io.read_raster_on_grid(inp.exposure, grid, resampling="nearest")
        rasters["vulnerability"] = io.read_raster_on_grid(inp.vulnerability, grid, resampling="nearest")
        rasters["multi_zone"] = io.read_raster_on_grid(inp.multi_zone, grid, resampling="nearest", dtype="uint8")
        at = register.values_at_points(rasters, pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy(), grid)
    vul, matched = point_vulnerability(pts, vpts, at["vulnerability"])
    logger.info("%d surveyed points; %d with their own vulnerability score", len(pts), matched)
    settings = {h: risk_settings(p.risk, h) for h in hazards}
    reg = register.risk_register(
        pts, {h: at[h] for h in hazards}, at["exposure"], vul, breaks=breaks,
        formula=p.risk["formula"], risk_weights={h: s[1] for h, s in settings.items()},
        category_hazards=p.risk["category_hazards"], cell_zone=np.nan_to_num(at["multi_zone"]),
        formulas={h: s[0] for h, s in settings.items()})
    io.write_layers({"risk_register": reg}, snakemake.output.gpkg)
    io.write_table(pd.DataFrame(reg.drop(columns="geometry")), snakemake.output.csv)
    top = reg.head(5)
    for _, r in top.iterrows():
        logger.info("rank %d: %s %s (%s) level %d, risk %.3f from %s", r["rank"], r["category"], r.get("id", ""),
                    r.get("name", ""), r["risk_level"], r["risk_score"], r["dominant_hazard"])


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
