"""The whole DAG end to end on a small, coarse demo, checked against the outputs contract."""

import json
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import yaml

from risk import HAZARDS
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

ZONED = [*HAZARDS, "multi_hazard"]


def snakemake(*args, cwd=ROOT, check=True):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "snakemake", "--cores", "2", "--snakefile", str(ROOT / "Snakefile"), *args]
    # no timeout: on a busy machine the whole DAG may take long, and a wall-clock limit would fail a correct run
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}")
    return proc


def small_config(tmp: Path) -> dict:
    """configs/test.yaml with every path moved into ``tmp``."""
    text = (ROOT / "configs" / "test.yaml").read_text(encoding="utf-8")
    text = text.replace("data/demo_test", str(tmp / "demo"))
    cfg = yaml.safe_load(text)
    cfg["results_dir"] = str(tmp / "results")
    cfg["aoi"] = str(ROOT / cfg["aoi"])
    return cfg


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e")
    cfg = small_config(tmp)
    cfg_path = tmp / "config.yaml"
    cfg_path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    snakemake("--configfile", str(cfg_path))
    return tmp, cfg, cfg_path


def test_zoning_rasters_follow_the_contract(run):
    tmp, cfg, _ = run
    grid = json.loads((tmp / "results" / "grid" / "grid.json").read_text())
    for name in ZONED:
        path = tmp / "results" / "zoning" / f"{name}.tif"
        with rasterio.open(path) as src:
            assert src.count == 1 and src.dtypes[0] == "uint8" and src.nodata == 0
            assert src.crs.to_epsg() == 4549 and src.res == (150.0, 150.0)
            assert (src.width, src.height) == (grid["width"], grid["height"])
            assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
            assert src.compression.name == "deflate" and src.profile["tiled"]
            cmap = src.colormap(1)
            assert cmap[5][:3] == (215, 25, 28) and cmap[1][:3] == (26, 150, 65)
            assert "Low" in src.descriptions[0] and "高" in src.descriptions[0]
            tags = src.tags()
            breaks = json.loads(tags["ZONING_BREAKS"])
            assert tags["ZONING_METHOD"] == "natural_breaks" and len(breaks) == 4
            assert breaks == sorted(breaks)
            z = src.read(1)
        with rasterio.open(tmp / "results" / "grid" / "aoi_mask.tif") as m:
            inside = m.read(1) == 1
        assert set(np.unique(z[inside])) <= {1, 2, 3, 4, 5} and len(np.unique(z[inside])) >= 3
        assert (z[~inside] == 0).all()
        qml = (tmp / "results" / "zoning" / f"{name}.qml").read_text(encoding="utf-8")
        assert "较高 Moderately high" in qml and 'type="paletted"' in qml


def test_zones_follow_the_recorded_breaks(run):
    tmp, _, _ = run
    with rasterio.open(tmp / "results" / "zoning" / "multi_hazard.tif") as src:
        z = src.read(1)
        breaks = np.asarray(json.loads(src.tags()["ZONING_BREAKS"]), dtype="f4")
    with rasterio.open(tmp / "results" / "risk" / "multi_hazard.tif") as src:
        r = src.read(1)
    ok = np.isfinite(r)
    expected = np.searchsorted(breaks, r[ok], side="left") + 1
    np.testing.assert_array_equal(z[ok], expected)


def test_survey_database_accounts_for_every_row(run):
    tmp, cfg, _ = run
    gpkg = tmp / "results" / "survey" / "survey.gpkg"
    layers = set(gpd.list_layers(gpkg)["name"])
    assert {"waterlogging", "crane", "power", "billboard", "garden", "rejected"} <= layers
    report = pd.read_csv(tmp / "results" / "survey" / "ingest_report.csv", encoding="utf-8-sig")
    assert len(report) == len(cfg["survey"]["sources"])
    assert (report["rows_read"] == report["accepted"] + report["rejected"]).all()
    rejected = gpd.read_file(gpkg, layer="rejected")
    assert rejected["reason"].notna().all() and len(rejected) == report["rejected"].sum()
    for cat in ("waterlogging", "crane", "power", "billboard", "garden"):
        layer = gpd.read_file(gpkg, layer=cat)
        assert layer.crs.to_epsg() == 4549 and len(layer) > 0
        assert layer["id"].is_unique


def test_manifest_records_inputs_outputs_and_versions(run):
    tmp, _, _ = run
    m = json.loads((tmp / "results" / "manifest.json").read_text(encoding="utf-8"))
    assert len(m["config_sha256"]) == 64 and m["packages"]["snakemake"] != "not installed"
    assert any(k.endswith("zoning/multi_hazard.tif") for k in m["outputs"])
    assert any(k.endswith("内涝点.csv") for k in m["inputs"])


def test_rerun_after_a_lost_output_gives_the_same_bytes(run):
    tmp, _, cfg_path = run
    path = tmp / "results" / "zoning" / "wind.tif"
    before = path.read_bytes()
    path.unlink()
    snakemake(str(path), "--configfile", str(cfg_path))  # --configfile takes several values: targets first
    assert path.read_bytes() == before


def test_survey_only_config_builds_nothing_else(run, tmp_path):
    tmp, cfg, _ = run
    minimal = {"aoi": cfg["aoi"], "results_dir": str(tmp_path / "out"),
               "survey": {"sources": cfg["survey"]["sources"]}}
    p = tmp_path / "survey_only.yaml"
    p.write_text(yaml.safe_dump(minimal, allow_unicode=True), encoding="utf-8")
    snakemake(str(tmp_path / "out" / "survey" / "survey.gpkg"), "--configfile", str(p))
    made = {q.relative_to(tmp_path / "out").parts[0] for q in (tmp_path / "out").rglob("*") if q.is_file()}
    assert made <= {"survey", "logs", "benchmarks", "validation_warnings.csv"}  # the door check runs first
    assert (tmp_path / "out" / "survey" / "ingest_report.csv").exists()


def test_bad_config_stops_with_the_key_named(tmp_path):
    cfg = small_config(tmp_path)
    cfg["grid"]["resolution"] = "thirty"
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    proc = snakemake("--configfile", str(p), "-n", check=False)
    assert proc.returncode != 0
    assert "grid.resolution" in proc.stdout + proc.stderr


def test_dry_run_of_the_demo_config_is_clean():
    # lint and the dry runs with each profile are fast tests (tests/test_workflow.py)
    snakemake("-n", "--configfile", str(ROOT / "configs" / "config.yaml"))


def test_reviewers_notebooks_show_their_figures(run):
    import nbformat

    from risk.io.notebooks import count_images

    tmp, cfg, _ = run
    expected = {"01_survey": 2, "02_indicators": 6, "03_models": 5, "04_risk_zoning": 8, "05_capacity_access": 3}
    sources = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert sources == sorted(expected)
    for name, least in expected.items():
        nb = nbformat.read(tmp / "results" / "notebooks" / f"{name}.ipynb", as_version=4)  # executed by the run
        outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
        assert not [o for o in outputs if o.get("output_type") == "error"], name
        assert count_images(nb) >= least, (name, count_images(nb))
        html = (tmp / "results" / "notebooks" / f"{name}.html").read_text(encoding="utf-8")
        assert cfg["area_name"] in html and "data:image/png;base64" in html


def test_capacity_report_for_every_township(run):
    from risk.capacity.report import SECTIONS, report_file

    tmp, cfg, _ = run
    folder = tmp / "results" / "capacity" / "report"
    towns = pd.read_csv(tmp / "results" / "capacity" / "capacity_index.csv", encoding="utf-8-sig")
    assert sorted(p.name for p in folder.glob("*.html")) == sorted([*map(report_file, towns["code"]), "index.html"])
    for path in folder.glob("*.html"):
        html = path.read_text(encoding="utf-8")
        assert all(f'id="{anchor}"' in html and en in html for anchor, _, en in SECTIONS), path.name
        assert cfg["area_name"] in html


def test_report_has_the_run_models_uncertainty_and_tables(run):
    tmp, _, cfg_path = run
    out = tmp / "report.html"
    snakemake("--configfile", str(cfg_path), "--report", str(out))
    html = out.read_text(encoding="utf-8")
    digest = json.loads((tmp / "results" / "manifest.json").read_text(encoding="utf-8"))["config_sha256"]
    assert digest in html  # the landing page says which run this is (the manifest's hash)
    for name in ("validation.csv", "model_geological.png", "stability.png", "zoning_comprehensive.png",
                 "ingest_report.csv", "townships.csv", "risk_register.csv", "capacity_index.csv"):
        assert name in html, name
    assert "ROC curve of each spatial" in html and "Comprehensive risk zones of" in html


def test_every_published_raster_is_a_cog_with_overviews(run):
    from rio_cogeo.cogeo import cog_validate

    tmp, _, _ = run
    tifs = sorted((tmp / "results").rglob("*.tif"))
    assert len(tifs) > 50
    bad = {str(t.relative_to(tmp)): cog_validate(str(t), quiet=True)[1] for t in tifs}
    assert not {k: v for k, v in bad.items() if v}  # (the 165 x 125 test grid needs no overviews: one tile)


def test_round2_survey_changes_find_every_planted_change(run, tmp_path):
    tmp, cfg, cfg_path = run
    overlay = yaml.safe_load((ROOT / "configs" / "round2.yaml").read_text(encoding="utf-8"))
    overlay["results_dir"] = str(tmp_path / "round2")
    overlay["followup"]["previous"] = str(tmp / "results")
    for s in overlay["survey"]["sources"]:
        s["path"] = s["path"].replace("data/demo/", str(tmp / "demo") + "/")
    p = tmp_path / "round2.yaml"
    p.write_text(yaml.safe_dump(overlay, allow_unicode=True), encoding="utf-8")
    target = tmp_path / "round2" / "changes" / "survey_changes.csv"
    snakemake(str(target), "--configfile", str(cfg_path), str(p))
    got = pd.read_csv(target, encoding="utf-8-sig", keep_default_na=False)
    truth = pd.read_csv(tmp / "demo" / "truth" / "round_changes.csv", encoding="utf-8-sig", keep_default_na=False)
    found = got[got["kind"] != "unchanged"]
    assert sorted(zip(found["category"], found["id"], found["kind"], strict=True)) == \
        sorted(zip(truth["category"], truth["id"], truth["kind"], strict=True))
    assert (tmp_path / "round2" / "changes" / "survey_changes.png").stat().st_size > 20_000


def _job_counts(text: str) -> dict:
    lines = text.splitlines()
    start = next(i for i, t in enumerate(lines) if t.startswith("job ") and "count" in t)
    out = {}
    for t in lines[start + 2:]:
        parts = t.split()
        if len(parts) != 2 or parts[0] == "total":
            break
        out[parts[0]] = int(parts[1])
    return out


def test_scenario_reuses_the_unchanged_outputs_of_the_base_run(run, tmp_path):
    tmp, cfg, cfg_path = run
    overlay = {"results_dir": str(tmp_path / "scenario"),
               "scenario": {"name": "new shelters, stronger capacity effect", "cost_10k_yuan": 100,
                            "build_selected_shelters": True},
               "capacity": {"comprehensive": {"capacity_effect": 0.8}}}
    p = tmp_path / "scenario.yaml"
    p.write_text(yaml.safe_dump(overlay, allow_unicode=True), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "risk", "scenario", str(p), "--base", str(cfg_path), "-n"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    jobs = _job_counts(proc.stdout)
    # new shelters rerun the shelter step; the stronger capacity effect the comprehensive risk; what reads them
    # follows (capacity report, figures, the notebooks of those stages); every indicator, model, risk and zoning
    # raster of the base run is reused, and the input checks that gate every rule rerun nothing
    assert set(jobs) == {"shelters", "comprehensive_risk", "priority_townships", "capacity_report", "report_figures",
                         "notebook", "layer_styles", "qgis_project", "manifest", "all"}
    assert jobs["notebook"] < len(list((ROOT / "notebooks").glob("*.ipynb")))
    fresh = dict(cfg, results_dir=str(tmp_path / "fresh"))
    q = tmp_path / "fresh.yaml"
    q.write_text(yaml.safe_dump(fresh, allow_unicode=True), encoding="utf-8")
    full = _job_counts(snakemake("-n", "--configfile", str(q)).stdout)
    rerun = sum(n for k, n in jobs.items() if k != "all")
    assert rerun * 3 < sum(n for k, n in full.items() if k != "all")  # 11 of 39 on the test config
    assert (tmp_path / "scenario" / "zoning" / "wind.tif").samefile(tmp / "results" / "zoning" / "wind.tif")


def test_prefecture_benchmark_mirrors_the_run_and_times_every_raster_stage(run, tmp_path):
    """bench/bench_region.py on a tiny region (the test run mirror-tiled to about 1.7 × its cells)."""
    tmp, cfg, cfg_path = run
    proc = subprocess.run([sys.executable, "bench/bench_region.py", "--source-config", str(cfg_path), "--cells",
                           "3.2e4", "--keep", str(tmp_path)], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rows = {c[0]: c[1:] for c in (line.strip("|").split("|") for line in proc.stdout.splitlines()
                                  if line.startswith("| ") and not line.startswith("| stage"))}
    rows = {k.strip(): [v.strip() for v in vals] for k, vals in rows.items()}
    hazards = [f"predict_{h}" if f"predict_{h}" in rows else f"index_model_{h}" for h in HAZARDS]
    for name in ["build_grid", "terrain", "indicators", "indicator_index", "combine_risk", "zoning", *hazards]:
        wall, cpu, rate, rss = (float(v.replace(",", "")) for v in rows[name])
        assert wall > 0 and cpu > 0 and rate > 0 and rss > 100, (name, rows[name])
    assert "calibration:" in proc.stdout
    # the region is the county reflected at its edges, cell for cell
    region = tmp_path / "n3e04"
    grid = json.loads((region / "results" / "grid" / "grid.json").read_text())
    assert abs(grid["width"] * grid["height"] - 3.2e4) < 0.05 * 3.2e4
    county = json.loads((tmp / "results" / "grid" / "grid.json").read_text())
    with rasterio.open(tmp / "demo" / "dem.tif") as src:
        dem = src.read(1)
    assert dem.shape == (county["height"], county["width"])
    with rasterio.open(region / "inputs" / "dem.tif") as src:
        mirrored = src.read(1)
        assert src.shape == (grid["height"], grid["width"]) and src.shape[0] > dem.shape[0]

    def reflect(i, n):
        m = np.mod(i, 2 * n)
        return np.where(m < n, m, 2 * n - 1 - m)

    dr = round((grid["ymax"] - county["ymax"]) / county["res"])
    dc = round((county["xmin"] - grid["xmin"]) / county["res"])
    rr = reflect(np.arange(grid["height"]) - dr, dem.shape[0])
    cc = reflect(np.arange(grid["width"]) - dc, dem.shape[1])
    np.testing.assert_array_equal(mirrored, dem[rr[:, None], cc[None, :]])
    with rasterio.open(region / "results" / "zoning" / "multi_hazard.tif") as src:
        z = src.read(1)
    assert z.shape == mirrored.shape and set(np.unique(z)) <= {0, 1, 2, 3, 4, 5} and (z > 0).mean() > 0.2


def test_prefecture_benchmark_lean_disk_keeps_only_what_later_stages_read(run, tmp_path):
    """--lean-disk (for 10⁹ cells): upstream rasters mirrored just before the stage that reads them, and removed
    once no later stage reads them, so the disk holds about one stage's inputs and outputs."""
    tmp, cfg, cfg_path = run
    proc = subprocess.run([sys.executable, "bench/bench_region.py", "--source-config", str(cfg_path), "--cells",
                           "3.2e4", "--from-stage", "combine_risk", "--lean-disk", "--keep", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    stages = [line.split("|")[1].strip() for line in proc.stdout.splitlines()
              if line.startswith("| ") and not line.startswith(("| stage", "| ---"))]
    assert stages == ["build_grid", "combine_risk", "zoning"]
    region = tmp_path / "n3e04"
    assert "mirrored 17 rasters" in (region / "mirror_upstream_combine_risk.log").read_text()  # hazards, E and V
    assert not (region / "inputs" / "dem.tif").exists()  # no stage from combine_risk on reads the DEM
    results = region / "results"
    assert not list((results / "hazard").rglob("*.tif")) and not list((results / "exposure").rglob("*.tif"))
    assert "GiB that no stage after combine_risk reads" in (region / "prune_combine_risk.log").read_text()
    for h in HAZARDS:  # what zoning read, and what it wrote
        assert (results / "risk" / f"{h}.tif").exists() and (results / "zoning" / f"{h}.tif").exists()
    with rasterio.open(results / "zoning" / "multi_hazard.tif") as src:
        assert (src.read(1) > 0).mean() > 0.2
    # a run stopped before its last stage goes on from there with --resume (the rows measured are kept)
    rows = json.loads((region / "rows.json").read_text())
    (region / "rows.json").write_text(json.dumps([r for r in rows if r["stage"] != "zoning"]))
    (results / "zoning" / "multi_hazard.tif").unlink()
    again = subprocess.run([sys.executable, "bench/bench_region.py", "--source-config", str(cfg_path), "--cells",
                            "3.2e4", "--from-stage", "combine_risk", "--lean-disk", "--resume", "--keep", str(tmp_path)],
                           cwd=ROOT, capture_output=True, text=True)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "resuming in" in again.stdout and "after build_grid, combine_risk" in again.stdout
    assert [r["stage"] for r in json.loads((region / "rows.json").read_text())] == stages
    assert (results / "zoning" / "multi_hazard.tif").exists()


def test_rectified_points_scenario_lowers_their_risk_and_compare_reports_it(run, tmp_path):
    tmp, cfg, cfg_path = run
    reg = pd.read_csv(tmp / "results" / "points" / "risk_register.csv", encoding="utf-8-sig", keep_default_na=False)
    worst = {c: reg.loc[reg["category"] == c, "id"].head(2).tolist() for c in ("billboard", "waterlogging", "crane")}
    overlay = {"results_dir": str(tmp_path / "rectify"),
               "scenario": {"name": "rectify the worst points", "cost_10k_yuan": 50, "rectified": worst}}
    p = tmp_path / "rectify.yaml"
    p.write_text(yaml.safe_dump(overlay, allow_unicode=True), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "risk", "scenario", str(p), "--base", str(cfg_path)], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    jobs = _job_counts(proc.stderr)  # a real run logs its job stats to stderr (a dry run prints them to stdout)
    # the rectified points' scores change: what reads them reruns; hazards, models and terrain are reused
    assert {"vulnerability", "hazard_exposure", "combine_risk", "zoning", "risk_register"} <= set(jobs)
    assert not {"terrain", "indicators", "susceptibility", "index_model", "exposure", "point_rasters"} & set(jobs)
    new = pd.read_csv(tmp_path / "rectify" / "points" / "risk_register.csv", encoding="utf-8-sig",
                      keep_default_na=False)
    assert list(new.columns) == [*reg.columns, "rectified"] and new["rectified"].sum() == 6
    assert "rectified" not in reg.columns
    b = pd.merge(reg, new, on=["category", "id"], suffixes=("_a", "_b"))
    fixed = b[b["rectified"]]
    assert (fixed["vulnerability_b"] <= fixed["vulnerability_a"]).all()  # a point that passed already stays as it was
    assert (fixed["vulnerability_b"] < fixed["vulnerability_a"]).sum() >= 2
    assert (fixed.loc[fixed["category"] == "billboard", "vulnerability_b"] == 0).all()  # taken down
    assert (fixed["risk_score_b"] <= fixed["risk_score_a"]).all() and (fixed["risk_score_b"] < fixed["risk_score_a"]).any()
    proc = subprocess.run([sys.executable, "-m", "risk", "compare", str(tmp / "results"), str(tmp_path / "rectify")],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    s = json.loads((tmp_path / "rectify" / "compare" / "summary.json").read_text(encoding="utf-8"))
    assert s["points_rectified"] == 6 and s["register_risk_averted_at_rectified_points"] > 0
    assert s["averted_multi_hazard_risk"] > 0 and s["cost"]["averted_multi_hazard_risk_per_10k_yuan"] > 0
