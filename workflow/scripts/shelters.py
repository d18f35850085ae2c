"""Shelter coverage of hazard-prone settlements, the gaps, and a greedy choice of new sites."""

import logging
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr

from risk import io
from risk.assessment import zoning
from risk.capacity import shelters
from risk.capacity.plots import shelter_map
from risk.grid import Grid
from risk.io.tables import values_at_points
from risk.runtime import configure_logging

logger = logging.getLogger(__name__)


def _need(gdf, path, cols):
    missing = [c for c in cols if c not in gdf.columns]
    if missing:
        raise ValueError(f"{path}: missing field(s) {', '.join(missing)}")


def zones_at(path, xs, ys, grid, p) -> np.ndarray:
    """Zone 0-5 at the points: read from a zoning raster, or cut a hazard index with the zoning config."""
    if p.zone_basis == "risk":
        return values_at_points(path, xs, ys).astype("int64")
    z = p.zoning
    index = io.read_raster_on_grid(path, grid, resampling="nearest")
    breaks = zoning.class_breaks(zoning.systematic_sample(index, z["sample_size"]), z["method"],
                                 thresholds=z["thresholds"])
    values = values_at_points(path, xs, ys, fill=np.nan).astype("f8")
    levels = zoning.classify(xr.DataArray(values, dims="point"), breaks).to_numpy().astype("int64")
    logger.info("%s: hazard zones by %s breaks %s; %d settlements in zones >= %d", Path(path).stem, z["method"],
                np.round(breaks, 4).tolist(), int((levels >= p.min_level).sum()), p.min_level)
    return levels


def main(snakemake):
    configure_logging(snakemake.log[0])
    p = snakemake.params
    inp = snakemake.input
    grid = Grid.from_json(Path(inp.grid).read_text())
    settlements = io.read_vector(inp.settlements, crs=grid.crs)
    existing = io.read_vector(inp.shelters, crs=grid.crs)
    candidates = io.read_vector(inp.candidates, crs=grid.crs)
    townships = io.read_vector(inp.townships, crs=grid.crs)
    _need(settlements, inp.settlements, ["name", "population"])
    _need(existing, inp.shelters, ["name", "capacity", "usable"])
    _need(candidates, inp.candidates, ["name", "kind", "capacity"])
    settlements = settlements[settlements.geometry.notna() & ~settlements.geometry.is_empty].reset_index(drop=True)
    xs, ys = settlements.geometry.x.to_numpy(), settlements.geometry.y.to_numpy()
    levels = pd.DataFrame({h: zones_at(path, xs, ys, grid, p) for h, path in zip(p.hazards, inp.zones, strict=True)})
    settlements = settlements.join(levels.add_prefix("zone_")).join(shelters.hazard_prone(levels, p.min_level))
    coverage, load = shelters.shelter_coverage(settlements, existing, p.max_distance_m, p.demand_share)
    gaps = coverage[coverage["gap"] > 1e-9]
    selected, closed_by = shelters.select_sites(gaps, candidates, p.max_distance_m, p.max_new_sites,
                                                p.candidate_kinds)
    gap_tab = shelters.gap_table(coverage, closed_by)
    prone = coverage["hazard_prone"]
    logger.info("%d settlements, %d hazard-prone (%.0f people); demand %.0f, covered %.0f, gap %.0f people in %d "
                "settlements", len(coverage), int(prone.sum()), coverage.loc[prone, "population"].sum(),
                coverage["demand"].sum(), coverage["covered"].sum(), coverage["gap"].sum(), len(gap_tab))
    if len(selected):
        last = selected.iloc[-1]
        logger.info("%d new sites close %.0f of %.0f people (%.1f %%)", len(selected), last["cumulative_closed"],
                    coverage["gap"].sum(), 100 * last["cumulative_share"])
    people = {"demand": 1, "covered": 1, "gap": 1, "shelter_load": 1, "distance_m": 0, "nearest_usable_m": 0}
    coverage = coverage.round(people)
    gap_tab = gap_tab.round({**people, "closed_by_new_sites": 1, "gap_after_new_sites": 1})
    load = load.round({"assigned_demand": 1, "utilisation": 3})
    selected = selected.round({"people_closed": 1, "cumulative_closed": 1, "cumulative_share": 4,
                               "remaining_gap": 1})
    io.write_vector(coverage, snakemake.output.coverage_gpkg, layer="settlement_coverage")
    io.write_table(pd.DataFrame(coverage.drop(columns="geometry")).assign(
        x=coverage.geometry.x, y=coverage.geometry.y), snakemake.output.coverage_csv)
    io.write_table(gap_tab, snakemake.output.gaps)
    io.write_table(load, snakemake.output.load)
    io.write_vector(selected, snakemake.output.sites_gpkg, layer="selected_sites")
    io.write_table(pd.DataFrame(selected.drop(columns="geometry")).assign(
        x=selected.geometry.x, y=selected.geometry.y), snakemake.output.sites_csv)
    zones = io.read_raster_on_grid(inp.multi_hazard, grid, resampling="nearest", dtype="uint8", dask_=False)
    fig = shelter_map(townships, coverage, existing, selected, zones.values, grid, p.area_name)
    with io.atomic_path(snakemake.output.png, ".tmp.png") as tmp:
        fig.savefig(tmp, dpi=130)
    plt.close(fig)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821
