"""Two runs compared (risk.followup.compare, risk compare A B) and scenarios (risk.followup.scenario)."""

from __future__ import annotations

import json

import dask.array as da
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import yaml

from risk.__main__ import main
from risk.followup.compare import (
    cost_effectiveness,
    coverage_changes,
    rank_scenarios,
    register_changes,
    register_summary,
    township_changes,
    zone_change,
    zone_transitions,
)
from risk.followup.scenario import merge_config, raise_capacity, rewrite_record, shelters_with_selected
from risk.grid import Grid
from risk.io import read_raster, write_json, write_layers, write_raster, write_table

RNG = np.random.default_rng(5)
SHAPE = (60, 80)


def _rasters():
    a = RNG.integers(1, 6, SHAPE).astype("uint8")
    b = a.copy()
    b[10:30, 10:50] = np.clip(a[10:30, 10:50].astype(int) - 2, 1, 5)
    b[40:50, 60:70] = 5
    a[0, :] = b[0, :] = 0  # outside
    town = np.zeros(SHAPE, "int64")
    town[:, :40], town[:, 40:] = 1, 2
    people = RNG.uniform(0, 10, SHAPE)
    people[5, 5] = np.nan
    return a, b, town, people


def test_zone_transitions_numpy_and_dask_agree_and_add_up():
    a, b, town, people = _rasters()
    np_t = zone_transitions(a, b, town, people, 0.01, ["T1", "T2"])
    for chunks in (16, 23):
        d = zone_transitions(*(da.from_array(x, chunks=chunks) for x in (a, b, town, people)), 0.01, ["T1", "T2"])
        pd.testing.assert_frame_equal(np_t, d)
    inside = (a > 0) & (b > 0)
    assert np_t["area_km2"].sum() == pytest.approx(inside.sum() * 0.01)
    assert np_t["people"].sum() == pytest.approx(np.nansum(people[inside]), abs=0.5)
    t1 = np_t[np_t["township"] == "T1"]
    moved = (a[:, :40] != b[:, :40]) & inside[:, :40]
    assert t1.loc[t1.from_level != t1.to_level, "area_km2"].sum() == pytest.approx(moved.sum() * 0.01)


def test_zone_change_is_b_minus_a_and_nan_outside():
    a, b, _, _ = _rasters()
    d = zone_change(a, b)
    assert np.isnan(d[0]).all() and (d[1:] == b[1:].astype("f4") - a[1:]).all()
    dd = zone_change(da.from_array(a, chunks=16), da.from_array(b, chunks=16)).compute()
    np.testing.assert_array_equal(d, dd)


def test_township_and_coverage_changes():
    cap_a = pd.DataFrame({"name": ["A", "B"], "capacity_index": [0.2, 0.8], "grade": [1, 4], "grade_zh": ["弱", "较强"]})
    cap_b = cap_a.assign(capacity_index=[0.5, 0.8], grade=[3, 4])
    pri_a = pd.DataFrame({"name": ["A", "B"], "comprehensive_mean": [0.6, 0.2], "three_high_one_low": [True, False]})
    pri_b = pri_a.assign(comprehensive_mean=[0.4, 0.2], three_high_one_low=[False, False])
    t = township_changes(cap_a, cap_b, pri_a, pri_b).set_index("name")
    assert t.loc["A", "grade_change"] == 2 and t.loc["A", "priority_status"] == "removed 移出"
    assert t.loc["A", "comprehensive_change"] == pytest.approx(-0.2) and t.loc["B", "priority_status"] == ""
    cov_a = pd.DataFrame({"township": ["A", "A", "B"], "name": ["v1", "v2", "v3"], "covered": [0.0, 50.0, 10.0]})
    cov_b = cov_a.assign(covered=[30.0, 40.0, 10.0])
    reach_a = pd.DataFrame({"name": ["A", "B"], "population_reached": [100.0, 50.0], "high_risk_reached": [10.0, 5.0]})
    reach_b = reach_a.assign(population_reached=[120.0, 50.0])
    c = coverage_changes(cov_a, cov_b, reach_a, reach_b).set_index("township")
    assert c.loc["A", "newly_covered"] == 30 and c.loc["A", "covered_lost"] == 10 and c.loc["A", "newly_reached"] == 20
    costs = cost_effectiveness({"averted_comprehensive_risk": 5.0, "people_newly_covered": 300.0,
                                "people_leaving_high_comprehensive_zones": 50.0}, 100.0)
    assert costs["people_newly_covered_per_10k_yuan"] == 3.0 and cost_effectiveness({}, None) == {}


def _register(scores, levels, rectified=None):
    reg = pd.DataFrame({"rank": [1, 2, 3], "category": ["billboard", "crane", "waterlogging"],
                        "category_zh": ["广告牌", "大型起重设备", "内涝点"], "id": ["GG-1", "QZ-1", "=NL-1"],
                        "name": ["a", "b", "c"], "township": ["甲镇", "甲镇", "乙乡"],
                        "risk_score": scores, "risk_level": levels})
    return reg if rectified is None else reg.assign(rectified=rectified)


def test_register_changes_and_the_ranking_of_scenarios():
    a = _register([0.9, 0.5, 0.2], [5, 3, 1])
    b = _register([0.1, 0.5, 0.3], [1, 3, 2], rectified=[True, False, False]).iloc[[2, 0, 1]]
    pts = register_changes(a, b)
    assert list(pts["id"]) == ["GG-1", "QZ-1", "=NL-1"]  # most averted first
    assert pts["averted_risk"].tolist() == pytest.approx([0.8, 0.0, -0.1])
    assert pts["rectified"].tolist() == [True, False, False]
    s = register_summary(pts)
    assert s == {"points_rectified": 1, "register_risk_averted": pytest.approx(0.7), "points_leaving_levels_4_5": 1,
                 "points_entering_levels_4_5": 0, "register_risk_averted_at_rectified_points": pytest.approx(0.8)}
    one_side = register_changes(a, b.iloc[:2])  # a point only in A: no averted risk claimed for it
    assert one_side["averted_risk"].isna().sum() == 1
    ranked = rank_scenarios({
        "cheap": {"averted_comprehensive_risk": 10.0, "cost": cost_effectiveness({"averted_comprehensive_risk": 10.0},
                                                                                  10)},
        "dear": {"averted_comprehensive_risk": 50.0, "cost": cost_effectiveness({"averted_comprehensive_risk": 50.0},
                                                                                 100)},
        "free": {"averted_comprehensive_risk": 5.0, "cost": {}}})
    assert list(ranked["scenario"]) == ["cheap", "dear", "free"] and list(ranked["rank"]) == [1, 2, 3]
    assert ranked["averted_comprehensive_risk_per_10k_yuan"].tolist()[:2] == [1.0, 0.5]


def _results(folder, grid, zones, risk, pri, covered, cost=None, register=None):
    towns = gpd.GeoDataFrame({"township_id": [1, 2], "name_zh": ["甲镇", "乙乡"]},
                             geometry=[shapely.box(0, 0, 400 * 30, 600 * 30 * 2), shapely.box(400 * 30, 0, 2400 * 30,
                                                                                                 1800 * 30)],
                             crs=grid.crs)
    (folder / "grid").mkdir(parents=True)
    (folder / "grid" / "grid.json").write_text(grid.to_json())
    write_layers({"townships": towns}, folder / "zoning" / "townships.gpkg")
    write_raster(np.full(grid.shape, 100.0, "f4"), folder / "exposure" / "population.tif", grid,
                 tags={"UNITS": "persons per km2"})
    for name, z in zones.items():
        write_raster(z, folder / "zoning" / f"{name}.tif", grid, nodata=0, dtype="uint8")
    write_raster(risk, folder / "risk" / "comprehensive.tif", grid)
    write_table(pd.DataFrame({"name": ["甲镇", "乙乡"], "capacity_index": [0.3, 0.6], "grade": [2, 3],
                              "grade_zh": ["较弱", "中等"]}), folder / "capacity" / "capacity_index.csv")
    write_table(pd.DataFrame({"name": ["甲镇", "乙乡"], "comprehensive_mean": [0.5, 0.2],
                              "three_high_one_low": pri}), folder / "capacity" / "priority_townships.csv")
    write_table(pd.DataFrame({"township": ["甲镇", "乙乡"], "name": ["v1", "v2"], "covered": covered}),
                folder / "shelters" / "settlement_coverage.csv")
    write_table(pd.DataFrame({"name": ["甲镇", "乙乡"], "population_reached": [10.0, 20.0],
                              "high_risk_reached": [1.0, 2.0]}), folder / "access" / "reach_by_township.csv")
    if cost:
        (folder / "scenario_config.yaml").write_text(yaml.safe_dump({"scenario": {"cost_10k_yuan": cost}}))
    if register is not None:
        write_table(register, folder / "points" / "risk_register.csv")
        write_raster(risk * 2, folder / "risk" / "multi_hazard.tif", grid)


def test_risk_compare_on_two_tiny_results_folders(tmp_path):
    grid = Grid("EPSG:4549", 30.0, 0.0, 1800.0, 80, 60, 32)
    a, b, _, _ = _rasters()
    risk_a = np.full(grid.shape, 0.5, "f4")
    risk_b = risk_a.copy()
    risk_b[:, :40] = 0.25
    _results(tmp_path / "A", grid, {"multi_hazard": a, "comprehensive": a}, risk_a, [True, False], [0.0, 10.0])
    _results(tmp_path / "B", grid, {"multi_hazard": a, "comprehensive": b}, risk_b, [False, False], [40.0, 10.0],
             cost=200)
    assert main(["compare", str(tmp_path / "A"), str(tmp_path / "B")]) == 0
    out = tmp_path / "B" / "compare"
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["averted_comprehensive_risk"] == pytest.approx(0.25 * 60 * 40, rel=1e-5)
    assert summary["people_newly_covered"] == 40 and summary["三高一低 removed"] == "甲镇"
    assert summary["cost"]["people_newly_covered_per_10k_yuan"] == pytest.approx(0.2)
    trans = pd.read_csv(out / "zone_transitions.csv", encoding="utf-8-sig")
    mh = trans[trans["zoning"] == "multi_hazard"]
    assert (mh["from_level"] == mh["to_level"]).all()  # unchanged raster: nothing moves
    comp = trans[trans["zoning"] == "comprehensive"]
    moved = comp[comp["from_level"] != comp["to_level"]]
    cells = int(((a != b) & (a > 0)).sum())
    assert moved["area_km2"].sum() == pytest.approx(cells * 0.0009)
    assert moved["people"].sum() == pytest.approx(cells * 0.09, abs=0.05 * len(moved))  # 100/km² × 0.0009 km²
    change, _ = read_raster(out / "comprehensive_change.tif")
    assert np.nanmin(change) == -2 and np.nanmax(change) > 0 and np.isnan(change[0]).all()
    assert (out / "comprehensive_change.png").stat().st_size > 10_000
    md = (out / "summary.md").read_text(encoding="utf-8")
    assert "成本效益 Averted per unit cost" in md and "甲镇" in md


def test_risk_compare_ranks_several_scenarios_by_averted_risk_per_cost(tmp_path):
    grid = Grid("EPSG:4549", 30.0, 0.0, 1800.0, 80, 60, 32)
    a, _, _, _ = _rasters()
    base = np.full(grid.shape, 0.5, "f4")
    _results(tmp_path / "A", grid, {"comprehensive": a}, base, [True, False], [0.0, 10.0],
             register=_register([0.9, 0.5, 0.2], [5, 3, 1]))
    for name, risk_cut, cost in (("rectify", 0.1, 10), ("shelters", 0.2, 100)):
        _results(tmp_path / name, grid, {"comprehensive": a}, base - risk_cut, [True, False], [0.0, 10.0], cost=cost,
                 register=_register([0.1, 0.5, 0.2], [1, 3, 1], rectified=[name == "rectify", False, False]))
    assert main(["compare", str(tmp_path / "A"), str(tmp_path / "rectify"), str(tmp_path / "shelters")]) == 0
    s = json.loads((tmp_path / "rectify" / "compare" / "summary.json").read_text(encoding="utf-8"))
    assert s["points_rectified"] == 1 and s["register_risk_averted"] == pytest.approx(0.8)
    assert s["averted_multi_hazard_risk"] == pytest.approx(0.2 * 80 * 60, rel=1e-5)
    assert s["cost"]["register_risk_averted_per_10k_yuan"] == pytest.approx(0.08)
    pts = pd.read_csv(tmp_path / "rectify" / "compare" / "points.csv", encoding="utf-8-sig", keep_default_na=False)
    assert pts.loc[0, "id"] == "GG-1" and "'=NL-1" in set(pts["id"])  # formulas neutralised for Excel
    ranking = pd.read_csv(tmp_path / "A" / "compare" / "ranking.csv", encoding="utf-8-sig")
    assert list(ranking["scenario"]) == ["rectify", "shelters"]  # 480 / 10 before 960 / 100 per 10,000 yuan
    assert ranking["averted_comprehensive_risk_per_10k_yuan"].tolist() == pytest.approx([48.0, 9.6], rel=1e-5)
    assert (tmp_path / "A" / "compare" / "ranking.md").is_file()
    assert main(["compare", str(tmp_path / "A"), str(tmp_path / "rectify"), str(tmp_path / "shelters"),
                 "--out", str(tmp_path / "x")]) == 2


def test_compare_refuses_runs_on_other_grids(tmp_path, capsys):
    g1 = Grid("EPSG:4549", 30.0, 0.0, 1800.0, 80, 60, 32)
    g2 = Grid("EPSG:4549", 60.0, 0.0, 1800.0, 40, 30, 32)
    for name, g in (("A", g1), ("B", g2)):
        (tmp_path / name / "grid").mkdir(parents=True)
        (tmp_path / name / "grid" / "grid.json").write_text(g.to_json())
    assert main(["compare", str(tmp_path / "A"), str(tmp_path / "B")]) == 2  # one line, no traceback
    assert "not on the same grid" in capsys.readouterr().err


def test_scenario_overlay_pieces():
    base = {"results_dir": "results", "capacity": {"comprehensive": {"capacity_effect": 0.5}, "max_cr": 0.1},
            "survey": {"sources": [{"path": "a"}, {"path": "b"}]}}
    merged = merge_config(base, {"results_dir": "r2", "capacity": {"comprehensive": {"capacity_effect": 0.8}},
                                 "survey": {"sources": [{"path": "c"}]}})
    assert merged == {"results_dir": "r2", "capacity": {"comprehensive": {"capacity_effect": 0.8}, "max_cr": 0.1},
                      "survey": {"sources": [{"path": "c"}]}}
    assert base["capacity"]["comprehensive"]["capacity_effect"] == 0.5
    table = pd.DataFrame({"township": ["甲镇", "乙乡"], "firefighters": [3, 5]})
    assert list(raise_capacity(table, {"甲镇": {"firefighters": 30}})["firefighters"]) == [30, 5]
    with pytest.raises(KeyError, match="丙村"):
        raise_capacity(table, {"丙村": {"firefighters": 1}})
    with pytest.raises(KeyError, match="'nurses' is not a column"):
        raise_capacity(table, {"甲镇": {"nurses": 1}})
    rec = {"input": ["results/a.tif", "data/x.tif"], "params": ["'results/b'", "'results'", "'results_old/x'"],
           "code": "results/c",
           "input_checksums": {"results/a.tif": "sha"}, "log": ["results/logs/x.log"]}
    new = rewrite_record(rec, "results", "results_s")
    assert new["input"] == ["results_s/a.tif", "data/x.tif"]
    assert new["params"] == ["'results_s/b'", "'results_s'", "'results_old/x'"]  # the folder itself, not a sibling
    assert new["input_checksums"] == {"results_s/a.tif": "sha"} and new["code"] == "results/c"
    shelters = gpd.GeoDataFrame({"name": ["S1"], "kind": ["school"], "capacity": [100], "usable": [0]},
                                geometry=[shapely.Point(0, 0)], crs="EPSG:4549")
    sel = gpd.GeoDataFrame({"order": [1], "name": ["N1"], "kind": ["square"], "capacity": [50]},
                           geometry=[shapely.Point(10, 10)], crs="EPSG:4549")
    built = shelters_with_selected(shelters, sel)
    assert list(built["capacity"]) == [100, 50] and list(built["usable"]) == [0, 1]
    assert list(built["status"]) == ["existing", "new"] and built["capacity"].dtype == shelters["capacity"].dtype


def test_write_json_roundtrip(tmp_path):  # the summary is plain JSON
    write_json({"a": [1, 2]}, tmp_path / "s.json")
    assert json.loads((tmp_path / "s.json").read_text()) == {"a": [1, 2]}


def test_seed_results_links_outputs_and_moves_their_records(tmp_path):
    from base64 import urlsafe_b64encode

    from risk.io.scenario import seed_results

    out = tmp_path / "results" / "zoning" / "x.tif"
    out.parent.mkdir(parents=True)
    out.write_bytes(b"raster")
    (tmp_path / "results" / "report.html").write_text("report")
    meta = tmp_path / ".snakemake" / "metadata"
    meta.mkdir(parents=True)
    rec = {"rule": "zoning", "input": ["results/risk/x.tif", "data/dem.tif"], "params": ["0.5"], "code": "c",
           "input_checksums": {"results/risk/x.tif": "sha256:1"}, "log": ["results/logs/zoning.log"]}
    (meta / urlsafe_b64encode(b"results/zoning/x.tif").decode()).write_text(json.dumps(rec))
    (meta / urlsafe_b64encode(b"elsewhere/y.tif").decode()).write_text(json.dumps(rec))
    assert seed_results("./results", "scen", tmp_path) == {"files": 1, "records": 1}
    assert (tmp_path / "scen" / "zoning" / "x.tif").samefile(out)
    assert not (tmp_path / "scen" / "report.html").exists()
    new = json.loads((meta / urlsafe_b64encode(b"scen/zoning/x.tif").decode()).read_text())
    assert new["input"] == ["scen/risk/x.tif", "data/dem.tif"] and new["log"] == ["scen/logs/zoning.log"]
    assert new["input_checksums"] == {"scen/risk/x.tif": "sha256:1"} and new["params"] == ["0.5"]
    assert seed_results("results", "scen", tmp_path) == {"files": 0, "records": 0}  # a rerun keeps what is there


def test_backdated_checks_sit_between_the_new_inputs_and_the_base_outputs(tmp_path):
    import os

    from risk.io.scenario import backdate_checked_inputs

    base, target = tmp_path / "base", tmp_path / "scenario"
    base.mkdir(), target.mkdir()
    (base / "validation_warnings.csv").write_text("file,check\n")
    os.utime(base / "validation_warnings.csv", (1_000_000, 1_000_000))
    new = target / "shelters.gpkg"
    new.write_text("x")
    (target / "validation_warnings.csv").write_text("file,check\n")  # the scenario's checks, just rerun
    backdate_checked_inputs(base, target, [str(new)], checked=False)
    assert new.stat().st_mtime == 999_999
    backdate_checked_inputs(base, target, [str(new)], checked=True)
    assert (target / "validation_warnings.csv").stat().st_mtime == 1_000_000
    assert new.stat().st_mtime < (target / "validation_warnings.csv").stat().st_mtime
    (base / "validation_warnings.csv").unlink()  # a base run older than the checks: nothing to date against
    backdate_checked_inputs(base, target, [str(new)], checked=True)
    assert new.stat().st_mtime == 999_999
