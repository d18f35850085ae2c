#!/usr/bin/env python
"""The raster stages on a prefecture-sized region: wall, CPU, cells/s and peak RSS per stage, 10⁷ to 10⁸ cells.

A region of about N cells is made by **mirror-tiling** a finished run of a county (by default the demo, 凌源市 at
30 m: its inputs and its ``results_dir``): every row and column of the region maps to one of the county's grid by
reflection at the county's edges (rows ``0 … H-1, H-1 … 0, 0 …``), so the DEM stays continuous across the seams
and catchments cross them. Built block by block, never a whole region array in memory:

* fine rasters on the county's grid (DEM, land cover, and the county run's exposure and vulnerability rasters, total
  and per hazard, which ``combine_risk`` needs and which come from the survey) are read through rasterio windows of
  at most one Dask block of the county and written on the region's grid with :func:`risk.io.batchwrite.write_rasters`;
* the coarse climate and seismic rasters (rain, PGA, wind) are sampled on a grid 30 × coarser and read by the stages
  through the warped reader, as real coarse inputs are;
* rivers, roads, settlements and townships are mirrored copy by copy (affine transforms) and clipped;
* the area of interest is the region's rectangle (so every grid cell is in the study area up to the hazards; the
  mirrored exposure and vulnerability are NaN outside the county copies, about half the cells, as in the county run).

Then each stage runs in a fresh process as Snakemake would run its rule (:func:`risk.mock.mock_snakemake` builds the
job from the real Snakefile, the region's config and ``profiles/local``; the rule's own script runs on Dask chunks):
``build_grid``, ``terrain``, ``indicators``, ``indicator_index``, the hazard of each trained hazard (``predict_<h>``:
the county run's fitted model, ``models/<h>/model.joblib``, predicted on the region block by block with
:func:`risk.models.susceptibility.predict_grid`, written as the ``susceptibility`` rule writes it: training is the
county's, not a raster stage), ``index_model_<h>`` of each index hazard, ``combine_risk`` and ``zoning``. Per stage:
wall (s) of the rule's ``main``, CPU (s) of the process over it, cells/s (grid cells / wall), and peak RSS (MB) of
the whole child process from ``os.wait4`` (``getrusage`` of the child, as :mod:`bench.bench_dag` reads each rule's).
A watchdog stops a stage whose resident memory passes ``--max-rss-mb`` (default 6,000) and reports it. Last, the
calibration figure of :func:`bench_dag.calibration` before and after, the machine's load, peak RSS and time per
cell of each stage against the smallest size, and the 10⁹-cell wall **extrapolated** from the largest size.

    nice -n 10 .venv/bin/python bench/bench_region.py --cells 1e7 1e8            # about an hour on 2 cores
    .venv/bin/python bench/bench_region.py --cells 1e6 --keep /tmp/region        # a quick look, kept
    .venv/bin/python bench/bench_region.py --source-config my_run.yaml ...       # another finished run as source
    nice -n 10 .venv/bin/python bench/bench_region.py --cells 1e9 --from-stage indicator_index --lean-disk \
        --source-config RUN/config.yaml --keep /tmp/r9                           # the late stages at 10⁹ cells

``--lean-disk`` (for 10⁹ cells, where the whole set of rasters needs about 150 GiB): each stage's upstream rasters
are mirrored just before it runs and every raster no later stage reads is removed after it, so the disk holds about
one stage's inputs and outputs; the summary line gives the results folder's largest size after a stage.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

COARSE = 30  # coarse inputs: cells of COARSE × the grid's resolution
FINE_INPUTS = ("dem", "landcover")
COARSE_INPUTS = ("rain_max24h", "pga", "wind50")
VECTOR_INPUTS = ("rivers", "roads", "settlements", "townships")


# -- the region (child side) ---------------------------------------------------------------------
def reflect(i, n: int):
    """Index of the county's row (or column) that region index ``i`` (any integer, or array) mirrors."""
    import numpy as np

    m = np.mod(i, 2 * n)
    return np.where(m < n, m, 2 * n - 1 - m)


def _abs(path) -> Path:
    p = Path(path)
    return p if p.is_absolute() else ROOT / p


class Mirror:
    """Maps the region's grid onto the county's: ``rows(r0, r1)`` and ``cols(c0, c1)`` are county indices."""

    def __init__(self, county, region):
        self.county, self.region = county, region
        self.dr = round((region.ymax - county.ymax) / county.res)  # region rows above the county's first
        self.dc = round((county.xmin - region.xmin) / county.res)

    def rows(self, r0, r1):
        import numpy as np

        return reflect(np.arange(r0, r1) - self.dr, self.county.height)

    def cols(self, c0, c1):
        import numpy as np

        return reflect(np.arange(c0, c1) - self.dc, self.county.width)

    def raster(self, path, dtype):
        """The county raster at ``path`` (on the county's grid) mirrored onto the region, as a Dask DataArray."""
        import dask
        import dask.array as da
        import rasterio
        from rasterio.windows import Window

        def block(r0, c0, nr, nc):
            rows, cols = self.rows(r0, r0 + nr), self.cols(c0, c0 + nc)
            a, b = int(rows.min()), int(cols.min())
            with rasterio.open(path) as src:
                win = src.read(1, window=Window(b, a, int(cols.max()) - b + 1, int(rows.max()) - a + 1))
            return win[(rows - a)[:, None], (cols - b)[None, :]].astype(dtype, copy=False)

        rows = []
        r0 = 0
        for nr in self.region.chunks[0]:
            c0, row = 0, []
            for nc in self.region.chunks[1]:
                row.append(da.from_delayed(dask.delayed(block)(r0, c0, nr, nc), (nr, nc), dtype=dtype))
                c0 += nc
            rows.append(da.concatenate(row, axis=1))
            r0 += nr
        return self.region.like(da.concatenate(rows, axis=0))

    def vectors(self, gdf):
        """Every feature of ``gdf`` (in the county grid's CRS) copied into each mirror tile, clipped to the region."""
        import pandas as pd

        c, g = self.county, self.region
        w, h = c.width * c.res, c.height * c.res
        parts = []
        for ty in range(math.floor(-self.dr / c.height), math.floor((g.height - 1 - self.dr) / c.height) + 1):
            for tx in range(math.floor(-self.dc / c.width), math.floor((g.width - 1 - self.dc) / c.width) + 1):
                a, xoff = (1, tx * w) if tx % 2 == 0 else (-1, 2 * c.xmin + tx * w + w)
                e, yoff = (1, -ty * h) if ty % 2 == 0 else (-1, 2 * c.ymax - ty * h - h)
                part = gdf.copy()
                part["geometry"] = gdf.geometry.affine_transform([a, 0, 0, e, xoff, yoff])
                parts.append(part)
        out = pd.concat(parts, ignore_index=True)
        x0, y0, x1, y1 = g.bounds
        return out.cx[x0:x1, y0:y1].reset_index(drop=True)


def region_config(source_config: Path, cells: int, folder: Path, *, fine_inputs: bool = True,
                  survey_rasters: bool = True) -> Path:
    """Write the region's inputs and config under ``folder`` (mirror-tiled from the run of ``source_config``).

    ``fine_inputs=False`` leaves the DEM and land cover out (the config keeps the county's: no stage from
    ``indicator_index`` on reads them); ``survey_rasters=False`` leaves the exposure and vulnerability rasters to be
    mirrored when a stage needs them (:func:`mirror_upstream`)."""
    import geopandas as gpd
    import numpy as np
    import rasterio
    import yaml
    from shapely.geometry import box

    from risk import HAZARDS, io
    from risk.config import load_config
    from risk.grid import Grid
    from risk.io.batchwrite import write_rasters
    from risk.io.rasters import on_the_grid
    from risk.runtime import dask_session

    schema = ROOT / "workflow" / "schemas" / "config.schema.yaml"
    cfg = load_config(source_config, schema)
    src_results = _abs(cfg["results_dir"])
    county = io.read_grid(src_results / "grid" / "grid.json").with_chunk(1024)
    side = round(math.sqrt(cells))
    inputs, results = folder / "inputs", folder / "results"
    inputs.mkdir(parents=True, exist_ok=True)
    x0, y1 = county.xmin, county.ymax
    aoi = gpd.GeoDataFrame(geometry=[box(x0, y1 - side * county.res, x0 + side * county.res, y1)], crs=county.crs)
    aoi.to_file(inputs / "aoi.gpkg", engine="pyogrio")
    g = cfg["grid"]
    region = Grid.from_aoi(aoi, g["crs"], g["resolution"], g["chunk_size"], g["pad_cells"]).with_chunk(1024)
    if region.res != county.res:
        raise SystemExit(f"the source run's grid is {county.res} m, its config says {region.res} m")
    mirror = Mirror(county, region)
    new = {}
    with dask_session(scheduler="threads", n_workers=2, gdal_cachemax_mb=256):
        fine = {}
        for name in FINE_INPUTS if fine_inputs else ():
            path = _abs(cfg["inputs"][name])
            with rasterio.open(path) as src:
                if not on_the_grid(src, county):
                    raise SystemExit(f"{path} is not on the source run's grid: cannot mirror it window by window")
                dtype, nodata = src.dtypes[0], src.nodata
            new[name] = inputs / f"{name}.tif"
            fine[name] = (mirror.raster(path, dtype), dtype, nodata)
        for name, (arr, dtype, nodata) in fine.items():
            write_rasters({new[name]: arr}, region, dtype=dtype, nodata=np.nan if nodata is None else nodata)
        # the county run's exposure and vulnerability (they come from the survey), into the region's results
        kept = ["exposure/exposure.tif", "vulnerability/vulnerability.tif",
                *(f"{k}/by_hazard/{h}.tif" for k in ("exposure", "vulnerability") for h in HAZARDS)]
        for rel in kept if survey_rasters else ():
            (results / rel).parent.mkdir(parents=True, exist_ok=True)
            write_rasters({results / rel: mirror.raster(src_results / rel, "float32")}, region)
    coarse = Grid(region.crs, region.res * COARSE, region.xmin, region.ymax, math.ceil(region.width / COARSE),
                  math.ceil(region.height / COARSE), 1024)
    mid = COARSE // 2
    rows = mirror.rows(mid, coarse.height * COARSE)[::COARSE]
    cols = mirror.cols(mid, coarse.width * COARSE)[::COARSE]
    for name in COARSE_INPUTS:  # the county's coarse raster on its own grid (fixed size), sampled at coarse centres
        county_values = io.read_raster_on_grid(_abs(cfg["inputs"][name]), county, "bilinear").values
        new[name] = inputs / f"{name}.tif"
        io.write_raster(county_values[rows[:, None], cols[None, :]], new[name], coarse)
        del county_values
    for name in VECTOR_INPUTS:
        new[name] = inputs / f"{name}.gpkg"
        mirror.vectors(io.read_vector(_abs(cfg["inputs"][name]), crs=county.crs)).to_file(new[name],
                                                                                          engine="pyogrio")
    raw = yaml.safe_load(source_config.read_text(encoding="utf-8"))
    raw["results_dir"] = str(results)
    raw["aoi"] = str(inputs / "aoi.gpkg")
    raw["area_name"] = f"mirror-tiled region, {region.size / 1e6:.0f} Mpx"
    raw["demo"] = {**raw.get("demo", {}), "enabled": False}
    raw["inputs"] = {k: (str(new[k]) if k in new else v) for k, v in raw["inputs"].items()}
    out = folder / "config.yaml"
    out.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (folder / "region.json").write_text(json.dumps({"cells": region.size, "shape": list(region.shape),
                                                   "source_results": str(src_results)}))
    return out


# -- the stages (child side) ---------------------------------------------------------------------
def predict_with_model(snakemake, model_path) -> None:
    """The ``susceptibility`` rule's prediction and output raster with an already fitted model (no training)."""
    import joblib

    from risk import io
    from risk.models.susceptibility import predict_grid
    from risk.runtime import rule_session

    p, inp, out = snakemake.params, snakemake.input, snakemake.output
    payload = joblib.load(model_path)
    if payload.get("mode") != "model" or list(payload["features"]) != list(p.settings["features"]):
        raise SystemExit(f"{model_path}: not a fitted model of features {p.settings['features']}")
    grid = io.read_grid(inp.grid)
    with rule_session(snakemake.log[0], p.dask):
        features = io.read_rasters_on_grid(inp.features, grid, names=p.settings["features"])
        aoi = io.read_raster_on_grid(inp.aoi, grid, resampling="nearest", dtype="uint8")
        hazard = predict_grid(payload["estimator"], features)
        io.write_raster(hazard.where(aoi == 1), out.hazard, grid, cog=True, tags={"HAZARD": p.hazard, "MODE": "model"},
                        band_description=f"{p.hazard} hazard index 0-1 (model)")


def stage_list(config_path: Path) -> list[tuple[str, str, str | None]]:
    """(stage name, rule, hazard) in the DAG's order, for the region's config."""
    from risk import HAZARDS
    from risk.config import load_config

    cfg = load_config(config_path, ROOT / "workflow" / "schemas" / "config.schema.yaml")  # with the defaults
    out = [("build_grid", "build_grid", None), ("terrain", "terrain", None), ("indicators", "indicators", None),
           ("indicator_index", "indicator_index", None)]
    for h in HAZARDS:
        if cfg["hazards"][h]["mode"] == "model":
            out.append((f"predict_{h}", "susceptibility", h))
        else:
            out.append((f"index_model_{h}", "index_model", h))
    return [*out, ("combine_risk", "combine_risk", None), ("zoning", "zoning", None)]


def mirror_upstream(config_path: Path, from_stage: str, only: str | None = None) -> None:
    """Mirror the county run's outputs that the stages from ``from_stage`` on read and no earlier of them writes
    (with their tags), instead of computing them: to measure the later stages alone. With ``only`` (a stage name),
    only what that stage reads, just before it runs (``--lean-disk``)."""
    import rasterio

    from risk import io
    from risk.io.batchwrite import write_rasters
    from risk.mock import mock_snakemake
    from risk.runtime import dask_session

    stages = stage_list(config_path)
    start = [s[0] for s in stages].index(from_stage)
    region_dir = Path(json.loads((config_path.parent / "region.json").read_text())["source_results"])
    results = config_path.parent / "results"
    produced, needed = set(), []
    for name, rule, hazard in stages[start:]:
        sm = mock_snakemake(rule, configfile=config_path, **({"hazard": hazard} if hazard else {}))
        if only is None or name == only:
            needed += [Path(f) for f in sm.input if str(f).endswith(".tif") and Path(f).is_relative_to(results)
                       and str(f) not in produced and not Path(f).exists() and Path(f) not in needed]
        if name == only:
            break
        produced |= {str(f) for f in sm.output}
    county = io.read_grid(region_dir / "grid" / "grid.json")
    region = io.read_grid(results / "grid" / "grid.json").with_chunk(1024)
    mirror = Mirror(county, region)
    with dask_session(scheduler="threads", n_workers=2, gdal_cachemax_mb=256):
        for path in needed:
            src = region_dir / path.relative_to(results)
            with rasterio.open(src) as f:
                tags = f.tags()
            path.parent.mkdir(parents=True, exist_ok=True)
            write_rasters({path: mirror.raster(src, "float32")}, region, tags={str(path): tags})
    print(f"mirrored {len(needed)} rasters of the stages before {from_stage}"
          + (f" that {only} reads" if only else ""))


def prune(config_path: Path, later: list[tuple[str, str, str | None]]) -> float:
    """Remove the region's result rasters that none of the ``later`` stages reads (``--lean-disk``); GiB freed."""
    from risk.mock import mock_snakemake

    results = (config_path.parent / "results").resolve()
    read = set()
    for _, rule, hazard in later:
        sm = mock_snakemake(rule, configfile=config_path, **({"hazard": hazard} if hazard else {}))
        read |= {Path(f).resolve() for f in sm.input}
    freed = 0
    for f in results.rglob("*.tif"):
        if f.resolve() not in read:
            freed += f.stat().st_size
            f.unlink()
    return freed / 2 ** 30


def results_gib(folder: Path) -> float:
    """Size of the region's results folder (GiB)."""
    return sum(f.stat().st_size for f in (folder / "results").rglob("*") if f.is_file()) / 2 ** 30


def run_stage(config_path: Path, rule: str, hazard: str | None, report: Path) -> None:
    import resource

    from risk.mock import mock_snakemake, script_main

    sm = mock_snakemake(rule, configfile=config_path, **({"hazard": hazard} if hazard else {}))
    if rule == "susceptibility":
        source = Path(json.loads((config_path.parent / "region.json").read_text())["source_results"])
        main = lambda s: predict_with_model(s, source / "models" / hazard / "model.joblib")  # noqa: E731
    else:
        main = script_main(rule)
    ru0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    main(sm)
    wall, ru1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    report.write_text(json.dumps({"wall": wall, "cpu": cpu}))


# -- driver --------------------------------------------------------------------------------------
def rss_mb(pid: int) -> float:
    """Resident memory (MB) of process ``pid`` now (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run_child(args: list[str], max_rss_mb: float, log: Path) -> dict:
    """Run this script with ``args`` in a child process; its wall, CPU and peak RSS (``os.wait4``), killed past
    ``max_rss_mb`` of resident memory (``aborted`` is then True)."""
    t0 = time.perf_counter()
    with open(log, "w", encoding="utf-8") as f:
        proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), *args], stdout=f,
                                stderr=subprocess.STDOUT, cwd=ROOT)
    aborted = False
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if not aborted and rss_mb(proc.pid) > max_rss_mb:
            aborted = True
            proc.kill()
        time.sleep(0.2)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"wall_process": time.perf_counter() - t0, "cpu_process": usage.ru_utime + usage.ru_stime,
            "rss": usage.ru_maxrss / 1024, "aborted": aborted, "returncode": proc.returncode}


def machine() -> str:
    load = os.getloadavg()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30
    return f"{os.cpu_count()} cores, {mem:.0f} GiB, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}"


def fmt_cells(n: float) -> str:
    e = int(math.floor(math.log10(n)))
    m = n / 10 ** e
    return f"10^{e}" if abs(m - 1) < 0.05 else f"{m:.1f}·10^{e}"


def check_source(source_config: Path) -> None:
    """Stop with one line if the run to mirror is not finished (its grid, rasters and fitted models)."""
    from risk import HAZARDS
    from risk.config import load_config

    cfg = load_config(source_config, ROOT / "workflow" / "schemas" / "config.schema.yaml")
    results = _abs(cfg["results_dir"])
    need = [results / "grid" / "grid.json", results / "exposure" / "exposure.tif",
            *(results / "models" / h / "model.joblib" for h in HAZARDS if cfg["hazards"][h]["mode"] == "model")]
    missing = [str(p) for p in need if not p.exists()]
    if missing:
        raise SystemExit(f"{source_config}: its run is not finished ({', '.join(missing[:3])} missing): "
                         f"run it first (`make run CONFIG={source_config}`)")


def measure(size: int, args, folder: Path) -> tuple[int, list[dict]]:
    folder.mkdir(parents=True, exist_ok=True)
    done = json.loads((folder / "rows.json").read_text()) if args.resume and (folder / "rows.json").exists() else []
    done = {r["stage"]: r for r in done if r["returncode"] == 0}
    if done and (folder / "region.json").exists():
        for tmp in (folder / "results").rglob(".*.tmp*"):  # a killed stage's unfinished files
            tmp.unlink()
        print(f"\n{fmt_cells(size)} cells: resuming in {folder} after {', '.join(done)}", flush=True)
    else:
        done = {}
        t = run_child(["--setup", str(args.source_config), "--cells", str(size), "--dir", str(folder),
                       *(["--from-stage", args.from_stage] if args.from_stage else []),
                       *(["--lean-disk"] if args.lean_disk else [])], args.max_rss_mb, folder / "setup.log")
        if t["returncode"]:
            raise SystemExit(f"making the region failed (exit {t['returncode']}); see {folder / 'setup.log'}")
        print(f"\n{fmt_cells(size)} cells: region made in {t['wall_process']:.0f} s (CPU {t['cpu_process']:.0f} s, "
              f"peak RSS {t['rss']:.0f} MB; not in the table) in {folder}", flush=True)
    cells = json.loads((folder / "region.json").read_text())["cells"]
    print(f"{cells:,} grid cells\n| stage | wall (s) | CPU (s) | cells/s | peak RSS (MB) |\n"
          "| --- | ---: | ---: | ---: | ---: |", flush=True)
    config = folder / "config.yaml"
    rows = []
    stages = stage_list(config)
    skip = [s[0] for s in stages].index(args.from_stage) if args.from_stage else 0
    peak_disk = 0.0
    for i, (name, rule, hazard) in enumerate(stages):
        if 0 < i < skip:
            continue
        if name in done:  # --resume: measured before the run was stopped
            row = done[name]
            rows.append(row)
            print(f"| {name} | {row['wall']:.1f} | {row['cpu']:.1f} | {cells / row['wall']:,.0f} | {row['rss']:.0f} |",
                  flush=True)
            continue
        if (i == skip and skip) or (args.lean_disk and i):
            log = folder / f"mirror_upstream{'_' + name if args.lean_disk else ''}.log"
            t = run_child(["--mirror-upstream", str(config), "--from-stage", stages[skip][0],
                           *(["--only", name] if args.lean_disk else [])], args.max_rss_mb, log)
            if t["returncode"]:
                raise SystemExit(f"mirroring the upstream outputs failed; see {log}")
            if args.lean_disk:
                print(f"(what {name} reads from stages not run mirrored in {t['wall_process']:.0f} s)", flush=True)
            else:
                print(f"(stages before {args.from_stage} not run: their outputs mirrored from the county run in "
                      f"{t['wall_process']:.0f} s, not in the table)", flush=True)
        report = folder / f"{name}.json"
        r = run_child(["--stage", rule, "--config", str(config), "--report", str(report),
                       *(["--hazard", hazard] if hazard else [])], args.max_rss_mb, folder / f"{name}.log")
        row = {"stage": name, "cells": cells, **r}
        if r["returncode"] == 0 and report.exists():
            row.update(json.loads(report.read_text()))
            print(f"| {name} | {row['wall']:.1f} | {row['cpu']:.1f} | {cells / row['wall']:,.0f} | {r['rss']:.0f} |",
                  flush=True)
        else:
            why = f"aborted past {args.max_rss_mb:.0f} MB" if r["aborted"] else f"failed (exit {r['returncode']})"
            print(f"| {name} | {why}, see {folder / (name + '.log')} | | | {r['rss']:.0f} |", flush=True)
        rows.append(row)
        (folder / "rows.json").write_text(json.dumps(rows))  # after each stage: --resume goes on from here
        peak_disk = max(peak_disk, results_gib(folder))
        if r["returncode"]:
            break  # the next stages need this one's outputs
        if args.lean_disk and i + 1 < len(stages):
            log = folder / f"prune_{name}.log"
            t = run_child(["--prune", str(config), "--after", name], args.max_rss_mb, log)
            if t["returncode"]:
                raise SystemExit(f"removing the rasters no later stage reads failed; see {log}")
    lean = ": inputs mirrored just before each stage, removed once no later stage reads them" if args.lean_disk else ""
    print(f"stages: wall {sum(r.get('wall', 0) for r in rows):.0f} s, CPU {sum(r.get('cpu', 0) for r in rows):.0f} s; "
          f"results {results_gib(folder):.1f} GiB on disk (at most {peak_disk:.1f} GiB after a stage{lean}); "
          f"machine now: {machine()}", flush=True)
    (folder / "rows.json").write_text(json.dumps(rows))
    return cells, rows


def compare(runs: dict[int, list[dict]], cal: float) -> None:
    """Peak RSS and time per cell of every stage against the smallest size; 10⁹ extrapolated from the largest."""
    sizes = sorted(runs)
    small, big = sizes[0], sizes[-1]
    by = {n: {r["stage"]: r for r in runs[n] if "wall" in r} for n in sizes}
    print(f"\npeak RSS, wall and CPU per cell at {fmt_cells(big)} against {fmt_cells(small)} (memory flat: ≤ 1.5 ×); "
          "10^9 EXTRAPOLATED (not measured), linearly from the largest run: its wall, and its CPU-seconds on 2 "
          "idle cores")
    print("| stage | peak RSS (MB) | RSS ratio | flat | wall per cell ratio | CPU per cell ratio | "
          "10^9 wall at this load (h) | 10^9 on 2 idle cores (h) |")
    print("| --- | --- | ---: | --- | ---: | ---: | ---: | ---: |")
    tot_wall = tot_cpu = 0.0
    for name in by[big]:
        b, s = by[big][name], by[small].get(name)
        per = 1e9 / b["cells"] / 3600
        tot_wall, tot_cpu = tot_wall + b["wall"] * per, tot_cpu + b["cpu"] * per / 2
        if s is None:
            print(f"| {name} | {b['rss']:.0f} | – | – | – | – | {b['wall'] * per:.2f} | {b['cpu'] * per / 2:.2f} |")
            continue
        rss = b["rss"] / s["rss"]
        wall = (b["wall"] / b["cells"]) / (s["wall"] / s["cells"])
        cpu = (b["cpu"] / b["cells"]) / (s["cpu"] / s["cells"])
        print(f"| {name} | {s['rss']:.0f} → {b['rss']:.0f} | {rss:.2f} | {'yes' if rss <= 1.5 else 'NO'} | "
              f"{wall:.2f} | {cpu:.2f} | {b['wall'] * per:.2f} | {b['cpu'] * per / 2:.2f} |")
    print(f"all stages at 10^9 cells (extrapolated): {tot_wall:.1f} h at this run's load, {tot_cpu:.1f} h on 2 idle "
          f"cores at its CPU-seconds per cell (calibration {cal:.3f} s)")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=float, nargs="+", default=[1e7, 1e8], help="region sizes, grid cells")
    ap.add_argument("--source-config", type=Path, default=ROOT / "configs" / "config.yaml",
                    help="config of a finished run (its inputs and results_dir) to mirror-tile (default: the demo)")
    ap.add_argument("--keep", type=Path, default=None, help="folder for the regions (default: temporary, removed)")
    ap.add_argument("--max-rss-mb", type=float, default=6000, help="stop a stage past this resident memory")
    ap.add_argument("--compare-only", action="store_true",
                    help="only compare the sizes already measured in --keep (runs made one size at a time)")
    ap.add_argument("--from-stage", default=None,
                    help="run build_grid, then only the stages from this one on; what they read from the stages "
                         "skipped is mirrored from the county run's outputs (to measure the late stages alone)")
    ap.add_argument("--lean-disk", action="store_true",
                    help="mirror each stage's upstream rasters just before it and remove the rasters no later stage "
                         "reads after it: the disk holds about one stage's inputs and outputs (for 10^9 cells)")
    ap.add_argument("--resume", action="store_true",
                    help="in a --keep folder of a run that was stopped: go on from the first stage not measured")
    ap.add_argument("--setup", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--prune", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--after", help=argparse.SUPPRESS)
    ap.add_argument("--only", help=argparse.SUPPRESS)
    ap.add_argument("--mirror-upstream", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--stage", help=argparse.SUPPRESS)
    ap.add_argument("--config", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--hazard", help=argparse.SUPPRESS)
    ap.add_argument("--report", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.setup:
        late = args.from_stage not in (None, "build_grid", "terrain", "indicators")  # no stage reads the DEM
        region_config(args.setup.resolve(), int(args.cells[0]), args.dir, fine_inputs=not late,
                      survey_rasters=not args.lean_disk)
        return
    if args.mirror_upstream:
        mirror_upstream(args.mirror_upstream, args.from_stage, args.only)
        return
    if args.prune:
        stages = stage_list(args.prune)
        later = stages[[s[0] for s in stages].index(args.after) + 1:]
        print(f"removed {prune(args.prune, later):.1f} GiB that no stage after {args.after} reads")
        return
    if args.stage:
        run_stage(args.config, args.stage, args.hazard, args.report)
        return
    from bench_dag import calibration

    if args.compare_only:
        runs = {r[0]["cells"]: r for r in (json.loads(f.read_text()) for f in sorted(args.keep.glob("*/rows.json")))}
        compare(runs, calibration())
        return
    args.source_config = args.source_config.resolve()
    check_source(args.source_config)
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_region_"))
    print(f"# raster stages on mirror-tiled regions of {args.source_config}; {machine()}", flush=True)
    cal_before = calibration()
    print(f"calibration before: {cal_before:.3f} s", flush=True)
    runs = {}
    try:
        for size in (int(c) for c in args.cells):
            cells, rows = measure(size, args, work / f"n{size:.0e}".replace("+", ""))
            runs[cells] = rows
            if not args.keep:
                shutil.rmtree(work / f"n{size:.0e}".replace("+", ""), ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    cal_after = calibration()
    cal = (cal_before + cal_after) / 2
    print(f"\ncalibration: {cal:.3f} s (before {cal_before:.3f}, after {cal_after:.3f}; bench_dag.calibration: "
          "sort 10⁷ float64 + 3×3 box sum of 16 Mpx float32, best of 5); divide walls by it to compare machines")
    if len(runs) >= 2:
        compare(runs, cal)


if __name__ == "__main__":
    main()
