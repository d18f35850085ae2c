"""``risk compare A B``: read two results folders, compare them (:mod:`risk.followup.compare`), write the report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from risk import HAZARD_LABELS, HAZARDS

ZONINGS = [*HAZARDS, "multi_hazard", "comprehensive"]


def _csv(folder: Path, rel: str) -> pd.DataFrame | None:
    from risk.io import read_table

    p = folder / rel
    return read_table(p) if p.is_file() else None


def _cost(folder: Path) -> float | None:
    import yaml

    p = folder / "scenario_config.yaml"
    if not p.is_file():
        return None
    return (yaml.safe_load(p.read_text(encoding="utf-8")).get("scenario") or {}).get("cost_10k_yuan")


def compare_folders(a, b, out=None) -> Path:
    """Write the change report of results folder ``b`` against ``a`` into ``out`` (default ``b/compare``).

    Writes ``zone_transitions.csv`` (township, zoning, from and to level, area, people), ``zone_summary.csv``,
    ``townships.csv`` (capacity, grade, comprehensive risk, 三高一低), ``coverage.csv`` (shelters, relief reach),
    ``points.csv`` (each register point's level and risk in A and B, the risk averted),
    ``<zoning>_change.tif`` and ``.png`` (level B - A), ``summary.json`` and ``summary.md``.

    Raises
    ------
    InputError
        When the two runs are not on the same grid (their rasters cannot be compared cell by cell).
    """
    from risk.errors import InputError
    from risk.followup import compare as cmp
    from risk.followup.plots import zone_change_map
    from risk.io import (
        read_grid,
        read_raster_on_grid,
        read_tags,
        read_vector,
        write_json,
        write_raster,
        write_table,
        write_text,
    )
    from risk.io.figures import save_figure

    a, b = Path(a), Path(b)
    out = Path(out) if out else b / "compare"
    grid = read_grid(a / "grid" / "grid.json")
    if read_grid(b / "grid" / "grid.json").to_json() != grid.to_json():
        raise InputError(f"{a} and {b} are not on the same grid (grid/grid.json differs): compare runs of one area "
                         "and grid")
    towns = read_vector(a / "zoning" / "townships.gpkg", layer="townships", crs=grid.crs)
    names = towns["name_zh"].astype(str).tolist()
    labels = grid.rasterize(towns.geometry, values=np.arange(1, len(towns) + 1), dtype="int32").data
    cell_km2 = grid.cell_area / 1e6
    pop_path = a / "exposure" / "population.tif"
    per_km2 = "km2" in read_tags(pop_path).get("UNITS", "")  # the exposure stage writes persons per km²
    people = read_raster_on_grid(pop_path, grid, "nearest").data * (cell_km2 if per_km2 else 1.0)
    frames, summary = [], {"a": str(a), "b": str(b)}
    for z in ZONINGS:
        pa, pb = a / "zoning" / f"{z}.tif", b / "zoning" / f"{z}.tif"
        if not (pa.is_file() and pb.is_file()):
            continue
        za = read_raster_on_grid(pa, grid, "nearest", dtype="uint8")
        zb = read_raster_on_grid(pb, grid, "nearest", dtype="uint8")
        frames.append(cmp.zone_transitions(za.data, zb.data, labels, people, cell_km2, names).assign(zoning=z))
        delta = cmp.zone_change(za, zb)
        write_raster(delta, out / f"{z}_change.tif", grid, cog=True,
                     tags={"A": str(a), "B": str(b), "meaning": "zone level in B minus zone level in A"},
                     band_description=f"{z} zone level change B - A")
        zh, en = {**HAZARD_LABELS, "comprehensive": ("综合（考虑减灾能力）", "Comprehensive")}.get(z, (z, z))
        save_figure(zone_change_map(delta.values, (grid.bounds[0], grid.bounds[2], grid.bounds[1], grid.bounds[3]),
                                    f"{zh} 风险分区变化 {en} zone change: {b.name} vs {a.name}", towns),
                    out / f"{z}_change.png")
    trans = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["township", "from_level", "to_level", "area_km2", "people", "zoning"])
    per_zoning = pd.concat([cmp.transition_summary(t).assign(zoning=z) for z, t in trans.groupby("zoning")],
                           ignore_index=True) if len(trans) else pd.DataFrame()
    towns_t = cmp.township_changes(_csv(a, "capacity/capacity_index.csv"), _csv(b, "capacity/capacity_index.csv"),
                                   _csv(a, "capacity/priority_townships.csv"),
                                   _csv(b, "capacity/priority_townships.csv")) \
        if (a / "capacity" / "priority_townships.csv").is_file() else pd.DataFrame()
    cov = cmp.coverage_changes(_csv(a, "shelters/settlement_coverage.csv"), _csv(b, "shelters/settlement_coverage.csv"),
                               _csv(a, "access/reach_by_township.csv"), _csv(b, "access/reach_by_township.csv")) \
        if (a / "shelters" / "settlement_coverage.csv").is_file() else pd.DataFrame()
    moved = trans[trans["from_level"] != trans["to_level"]]
    for z, t in moved.groupby("zoning"):
        summary[f"{z}: people whose zone rose / fell"] = (round(float(t.loc[t.to_level > t.from_level, "people"].sum())),
                                                          round(float(t.loc[t.to_level < t.from_level, "people"].sum())))
    comp = trans[trans["zoning"] == "comprehensive"]
    summary["people_leaving_high_comprehensive_zones"] = round(float(
        comp.loc[(comp.from_level >= 4) & (comp.to_level < 4), "people"].sum()
        - comp.loc[(comp.from_level < 4) & (comp.to_level >= 4), "people"].sum()))
    for name in ("comprehensive", "multi_hazard"):
        ra, rb = a / "risk" / f"{name}.tif", b / "risk" / f"{name}.tif"
        summary[f"averted_{name}_risk"] = round(float(
            (read_raster_on_grid(ra, grid, "nearest") - read_raster_on_grid(rb, grid, "nearest")).sum().compute()),
            4) if ra.is_file() and rb.is_file() else 0.0
    reg_a, reg_b = _csv(a, "points/risk_register.csv"), _csv(b, "points/risk_register.csv")
    points = cmp.register_changes(reg_a, reg_b) if reg_a is not None and reg_b is not None else pd.DataFrame()
    if len(points):
        summary.update(cmp.register_summary(points))
    summary["people_newly_covered"] = round(float(cov["newly_covered"].sum()), 1) if len(cov) else 0.0
    summary["people_newly_reached_10h"] = round(float(cov["newly_reached"].sum()), 1) if len(cov) else 0.0
    if len(towns_t):
        summary["三高一低 added"] = ", ".join(towns_t.loc[towns_t["priority_status"] == "added 新增", "name"]) or "-"
        summary["三高一低 removed"] = ", ".join(towns_t.loc[towns_t["priority_status"] == "removed 移出", "name"]) or "-"
        summary["capacity grade changed"] = int((towns_t["grade_change"].fillna(0) != 0).sum())
    costs = cmp.cost_effectiveness(summary, _cost(b))
    write_table(trans, out / "zone_transitions.csv")
    write_table(per_zoning, out / "zone_summary.csv")
    write_table(towns_t, out / "townships.csv")
    write_table(cov, out / "coverage.csv")
    write_table(points, out / "points.csv")
    write_json({**{k: (list(v) if isinstance(v, tuple) else v) for k, v in summary.items()}, "cost": costs},
               out / "summary.json")
    changed = points[points["averted_risk"].fillna(1.0) != 0] if len(points) else None
    write_text(cmp.markdown_summary(f"变化对比 Comparison: {b} vs {a}", summary, per_zoning, towns_t, cov, costs,
                                    changed), out / "summary.md")
    return out


def rank_folders(a, bs, out=None) -> Path:
    """Rank scenarios ``bs`` (results folders already compared with ``a``) by averted risk per unit cost.

    Reads each ``<b>/compare/summary.json`` (:func:`compare_folders`) and writes ``ranking.csv`` and ``ranking.md``
    into ``out`` (default ``a/compare``).
    """
    import json

    from risk.followup.compare import rank_scenarios
    from risk.io import write_table, write_text

    out = Path(out) if out else Path(a) / "compare"
    table = rank_scenarios({Path(b).name: json.loads((Path(b) / "compare" / "summary.json").read_text())
                            for b in bs})
    write_table(table, out / "ranking.csv")
    write_text(f"# 情景排序 Scenarios ranked by averted risk per 10,000 yuan (baseline {a})\n\n"
               + table.to_markdown(index=False) + "\n", out / "ranking.md")
    return out


__all__ = ["compare_folders", "rank_folders"]
