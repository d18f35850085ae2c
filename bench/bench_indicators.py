#!/usr/bin/env python
"""Benchmark the indicator stage on synthetic regions of 10⁶, 10⁷ and 10⁸ cells (a script, not a test).

For each size a synthetic region is written first (a smooth multi-scale DEM with micro-relief,
land cover, survey-like points at 1 per 10⁴ cells — 10,000 at 10⁸ as in
``shared/spec/performance.md`` — and road-like lines), then every step runs in a fresh
subprocess, which reports its wall time; its peak RSS is the child's own ``ru_maxrss`` (from
``os.wait4``). Steps:

``stage``
    the indicator stage on the pipeline's code path: terrain (7 layers from the DEM file, flow
    tiles of 1024 + 256), distances to the points and to the lines, point density, built-up share,
    then 5 indicators normalised (quantile bounds recorded while writing) and weighted into an
    index — every raster written as a GeoTIFF with :func:`risk.io.batchwrite.write_rasters`, as the
    rules do.
``distance`` / ``density``
    distance to the nearest point (source raster file in, Float32 GeoTIFF out: the project's
    options, tiled 512 × 512, DEFLATE level 1, floating-point predictor) and Gaussian point
    density (σ = 500 m, points in, GeoTIFF out); ``*_compute`` the same without files (result
    reduced in memory), the setting of performance.md's rows.
``distance_uncompressed``
    ``distance`` written as uncompressed 512 × 512 tiles: the format ``gdal_proximity_cli`` writes
    (GDAL's default GeoTIFF, uncompressed; its strips instead of tiles).
``gdal_proximity`` / ``gdal_proximity_cli`` / ``gdal_proximity_cli_deflate``
    GDAL's own proximity on the same source file: through ``gdal.ComputeProximity`` (system Python
    with GDAL's bindings) into memory, copied to a GeoTIFF with the project's options; through the
    ``gdal_proximity.py`` tool with its default output (uncompressed); and the tool followed by
    ``gdal_translate`` to the project's options (the tool writing DEFLATE tiles itself recompresses
    every tile on each of its line writes: 290 s at 10⁸ cells, and past 4 GB). Skipped with a message
    when GDAL's bindings or tools are missing (``apt-get install gdal-bin python3-gdal``).

Usage::

    .venv/bin/python bench/bench_indicators.py                    # 1e6, 1e7, 1e8 (≈ 10 min, 6 GB disk)
    .venv/bin/python bench/bench_indicators.py --sizes 1e6,1e7    # quick run
    .venv/bin/python bench/bench_indicators.py --steps distance,gdal_proximity --sizes 1e8
    .venv/bin/python bench/bench_indicators.py --sizes 1e8 --repeat 3 \
        --steps distance,distance_uncompressed,gdal_proximity_cli,gdal_proximity_cli_deflate

Only the standard library is imported at the top: the GDAL workers run under the system Python.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RES = 30.0
ORIGIN = (500_000.0, 4_400_000.0)
CHUNK = 1024
FLOW_TILE = 1024
SIGMA_M = 500.0
POINTS_PER_CELL = 1e-4
SAMPLE, Q = 100_000, (0.02, 0.98)  # normalisation sample, recorded while writing (as the rules do)
STEPS = ("stage", "distance", "distance_uncompressed", "distance_compute", "density", "density_compute",
         "gdal_proximity", "gdal_proximity_cli", "gdal_proximity_cli_deflate")
SYSTEM_PYTHON = "/usr/bin/python3"
GTIFF_OPTIONS = ["TILED=YES", "BLOCKXSIZE=512", "BLOCKYSIZE=512", "COMPRESS=DEFLATE", "ZLEVEL=1", "PREDICTOR=3",
                 "NUM_THREADS=ALL_CPUS", "BIGTIFF=IF_SAFER"]


# -- synthetic region (worker side) ------------------------------------------------------------
def _grid(n: int, chunk: int = CHUNK):
    from risk.grid import Grid

    side = int(round(n ** 0.5))
    x0, y0 = ORIGIN
    return Grid.from_bounds((x0, y0, x0 + side * RES, y0 + side * RES), "EPSG:4549", RES, chunk=chunk)


def _dem_block(xx, yy):
    import numpy as np

    x, y = xx - ORIGIN[0], yy - ORIGIN[1]
    z = (400 + 250 * np.sin(x / 7000) * np.cos(y / 9000) + 120 * np.sin(x / 2300 + 1.3) * np.sin(y / 1700 + 0.4)
         + 40 * np.sin(x / 600 + 2) * np.cos(y / 800 + 1) + 8 * np.sin(x / 137) * np.sin(y / 211))
    h = np.sin(x * 0.129898 + y * 0.78233) * 43758.5453
    return (z + 3 * (h - np.floor(h) - 0.5)).astype("float32")


def _landcover_block(z):
    import numpy as np

    h = np.sin(np.arange(z.size).reshape(z.shape) * 12.9898) * 43758.5453
    r = h - np.floor(h)
    lc = np.full(z.shape, 3, dtype="uint8")  # cropland
    lc[z > 420] = 2  # grassland
    lc[z > 520] = 1  # forest
    lc[(z < 330) & (r < 0.35)] = 4  # built-up
    lc[z < 200] = 5  # water
    return lc


def setup(d: Path, n: int, seed: int = 0) -> dict:
    import dask
    import geopandas as gpd
    import numpy as np
    from shapely.geometry import LineString, Point

    from risk.hazard import point_rasters as points
    from risk.io.batchwrite import write_rasters

    grid = _grid(n)
    (d / "grid.json").write_text(grid.to_json())
    xx, yy = grid.coordinates(dask=True)
    with dask.config.set(scheduler="threads", num_workers=2):
        dem = grid.like(xx.data.map_blocks(_dem_block, yy.data, dtype="float32"))
        lc = grid.like(dem.data.map_blocks(_landcover_block, dtype="uint8"))
        write_rasters({d / "dem.tif": dem}, grid)
        write_rasters({d / "landcover.tif": lc}, grid, dtype="uint8", nodata=0)
        rng = np.random.default_rng(seed)
        x0, y0, x1, y1 = grid.bounds
        k = max(10, int(round(grid.size * POINTS_PER_CELL)))
        px, py = rng.uniform(x0, x1, k), rng.uniform(y0, y1, k)
        gpd.GeoDataFrame(geometry=[Point(a, b) for a, b in zip(px, py, strict=True)], crs=grid.crs).to_file(
            d / "points.gpkg", engine="pyogrio")
        src = points.point_raster(grid, px, py, dtype="uint8")
        write_rasters({d / "points_src.tif": src}, grid, dtype="uint8", nodata=None)
        lines = []
        for _ in range(max(5, int(grid.size / 2e6))):
            steps = rng.normal(0, 300, (60, 2)).cumsum(axis=0) + [rng.uniform(x0, x1), rng.uniform(y0, y1)]
            lines.append(LineString(steps))
        gpd.GeoDataFrame(geometry=lines, crs=grid.crs).to_file(d / "lines.gpkg", engine="pyogrio")
    return {"cells": grid.size, "points": k, "lines": len(lines), "shape": list(grid.shape)}


# -- steps (worker side) -----------------------------------------------------------------------
def _points(d: Path):
    import geopandas as gpd

    g = gpd.read_file(d / "points.gpkg", engine="pyogrio")
    return g.geometry.x.to_numpy(), g.geometry.y.to_numpy()


def step_stage(d: Path, n: int) -> None:
    import geopandas as gpd

    from risk import io
    from risk.hazard import point_rasters as points
    from risk.hazard import proximity, terrain
    from risk.hazard.indicator_index import weighted_index
    from risk.hazard.indicators import built_up_share
    from risk.hazard.normalize import normalize
    from risk.io.batchwrite import sample_bounds, write_rasters

    grid = _grid(n)
    out = d / "stage"
    out.mkdir(exist_ok=True)
    tgrid = grid.with_chunk(FLOW_TILE)
    dem = io.read_raster_on_grid(d / "dem.tif", tgrid, "bilinear")
    t = terrain.terrain(dem, flow_tile=FLOW_TILE)
    write_rasters({out / f"{k}.tif": v for k, v in t.items()}, tgrid, sample_size=SAMPLE, quantiles=Q)
    xs, ys = _points(d)
    lines = gpd.read_file(d / "lines.gpkg", engine="pyogrio").geometry.values
    classes = {1: "forest", 2: "grassland", 3: "cropland", 4: "built_up", 5: "water"}
    ind = {
        "distance_points": proximity.distance(points.point_raster(grid, xs, ys, dtype="uint8")),
        "distance_lines": proximity.distance(grid.rasterize(lines, 1, 0, "uint8", all_touched=True)),
        "density": points.kernel_density(grid, xs, ys, SIGMA_M),
        "built_up_share": built_up_share(io.read_raster_on_grid(d / "landcover.tif", grid, "nearest",
                                                                dtype="uint8"), classes, 500.0),
    }
    write_rasters({out / f"{k}.tif": v for k, v in ind.items()}, grid, sample_size=SAMPLE, quantiles=Q)
    names = {"slope": "more", "twi": "more", "distance_lines": "less", "density": "more", "built_up_share": "more"}
    layers = {k: normalize(io.read_raster_on_grid(out / f"{k}.tif", grid, "nearest"), v,
                           bounds=sample_bounds(out / f"{k}.tif", SAMPLE, Q)) for k, v in names.items()}
    write_rasters({out / "index.tif": weighted_index(layers, dict.fromkeys(names, 1.0))}, grid)


def step_distance(d: Path, n: int, name: str = "distance.tif", compress: str = "DEFLATE") -> None:
    from risk import io
    from risk.hazard import proximity
    from risk.io.batchwrite import write_rasters

    grid = _grid(n)
    src = io.read_raster_on_grid(d / "points_src.tif", grid, "nearest", dtype="uint8")
    write_rasters({d / name: proximity.distance(src)}, grid, compress=compress)


def step_distance_uncompressed(d: Path, n: int) -> None:
    step_distance(d, n, "distance_uncompressed.tif", compress="NONE")


def step_distance_compute(d: Path, n: int) -> None:
    from risk.hazard import point_rasters as points
    from risk.hazard import proximity

    grid = _grid(n)
    xs, ys = _points(d)
    proximity.distance(points.point_raster(grid, xs, ys, dtype="uint8")).data.max().compute()


def step_density(d: Path, n: int) -> None:
    from risk.hazard import point_rasters as points
    from risk.io.batchwrite import write_rasters

    grid = _grid(n)
    xs, ys = _points(d)
    write_rasters({d / "density.tif": points.kernel_density(grid, xs, ys, SIGMA_M)}, grid)


def step_density_compute(d: Path, n: int) -> None:
    from risk.hazard import point_rasters as points

    grid = _grid(n)
    xs, ys = _points(d)
    points.kernel_density(grid, xs, ys, SIGMA_M).data.max().compute()


def gdal_proximity(d: Path) -> None:
    """GDAL's proximity algorithm, file to file (runs under the system Python).

    ``ComputeProximity`` rewrites its output band line by line in two passes; straight into a
    DEFLATE-compressed tiled GeoTIFF that re-compresses every tile many times (minutes at 10⁶
    cells), so GDAL computes into an in-memory band and copies it to the same compressed
    GeoTIFF as ours, the fastest way to use it for this output.
    """
    from osgeo import gdal

    gdal.UseExceptions()
    src = gdal.Open(str(d / "points_src.tif"))
    mem = gdal.GetDriverByName("MEM").Create("", src.RasterXSize, src.RasterYSize, 1, gdal.GDT_Float32)
    mem.SetGeoTransform(src.GetGeoTransform())
    mem.SetProjection(src.GetProjection())
    gdal.ComputeProximity(src.GetRasterBand(1), mem.GetRasterBand(1), ["DISTUNITS=GEO"])
    gdal.GetDriverByName("GTiff").CreateCopy(str(d / "gdal_distance.tif"), mem, options=GTIFF_OPTIONS)


def worker(step: str, d: Path, n: int, cachemax: int) -> None:
    os.environ["GDAL_CACHEMAX"] = str(cachemax)
    if step == "gdal_proximity":
        t0 = time.perf_counter()
        gdal_proximity(d)
        print(json.dumps({"seconds": time.perf_counter() - t0}))
        return
    from risk.runtime import dask_session

    t0 = time.perf_counter()
    if step == "setup":
        info = setup(d, n)
        print(json.dumps({"seconds": time.perf_counter() - t0, **info}))
        return
    # compile the numba kernels first (ours load from numba's disk cache; xarray-spatial's are compiled
    # in every process, ≈ 2 s): the timing is the operation's, not the compiler's
    _warm()
    with dask_session(scheduler="threads", n_workers=2, gdal_cachemax_mb=cachemax):
        t0 = time.perf_counter()
        globals()[f"step_{step}"](d, n)
        print(json.dumps({"seconds": time.perf_counter() - t0}))


def _warm() -> None:
    import distributed  # noqa: F401  (dask imports it on the first compute: ≈ 0.5 s, once per process)
    import geopandas  # noqa: F401  (imported before the clock starts, as a rule's script does)
    import numpy as np
    import xarray as xr
    import xrspatial

    from risk.hazard import hydrology, proximity
    from risk.hazard import point_rasters as points

    proximity.edt_squared(np.zeros((4, 4), dtype=bool))
    for dt in ("uint8", "bool"):
        proximity.edt_block(np.zeros((4, 4), dtype=dt), 0, 0, 4, 4, 1.0, -1.0)
    z = xr.DataArray(np.ones((4, 4), dtype="float32"), dims=("y", "x"), attrs={"res": 1.0})
    xrspatial.slope(z), xrspatial.aspect(z), xrspatial.curvature(z)
    hydrology.route_tiled(np.ones((4, 4), dtype="float32"), 2)
    points._stamp(np.zeros((3, 3)), np.array([1]), np.array([1]), np.array([1.0]), np.ones(3))


# -- driver ------------------------------------------------------------------------------------
def _run(cmd: list[str], env=None) -> tuple[dict, float, float]:
    """Run a child; return its JSON report, wall time and peak RSS (MB)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed:\n{err[-3000:]}")
    report = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
    return report, wall, usage.ru_maxrss / 1024.0


def _gdal_available() -> tuple[bool, bool, str]:
    bindings = False
    if Path(SYSTEM_PYTHON).exists():
        bindings = subprocess.run([SYSTEM_PYTHON, "-c", "from osgeo import gdal"], capture_output=True).returncode == 0
    tool = shutil.which("gdal_proximity.py") or shutil.which("gdal_proximity")
    return bindings, bool(tool), tool or ""


def _gdal_step(step: str, d: Path, n: int, tool: str, cachemax: int) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of one of GDAL's steps."""
    if step == "gdal_proximity":
        rep, _, rss = _run([SYSTEM_PYTHON, str(Path(__file__).resolve()), "--worker", step, "--dir", str(d),
                            "--n", str(n), "--gdal-cachemax", str(cachemax)])
        return rep["seconds"], rss
    env = {**os.environ, "GDAL_CACHEMAX": str(cachemax)}
    out = d / ("gdal_cli_distance.tif" if step == "gdal_proximity_cli" else "gdal_cli_uncompressed.tif")
    # the tool's default output (uncompressed strips): it writes line by line (see gdal_proximity's docstring)
    _, wall, rss = _run([tool, str(d / "points_src.tif"), str(out), "-distunits", "GEO", "-ot", "Float32", "-q"], env)
    if step == "gdal_proximity_cli_deflate":  # then the project's format, as GDAL's tools make it
        co = [a for o in GTIFF_OPTIONS for a in ("-co", o)]
        _, wall2, rss2 = _run([shutil.which("gdal_translate"), "-q", *co, str(out), str(d / "gdal_cli_deflate.tif")],
                              env)
        out.unlink()
        wall, rss = wall + wall2, max(rss, rss2)
    return wall, rss


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1e6,1e7,1e8", help="comma-separated cell counts (default 1e6,1e7,1e8)")
    ap.add_argument("--steps", default=",".join(STEPS), help=f"comma-separated steps of {', '.join(STEPS)}")
    ap.add_argument("--repeat", type=int, default=1, help="run each step this many times, report the fastest")
    ap.add_argument("--out", default=None, help="work folder (default: a temporary folder, removed)")
    ap.add_argument("--gdal-cachemax", type=int, default=256, help="GDAL block cache, MB (as the profile resource gdal_cachemax_mb)")
    ap.add_argument("--keep", action="store_true", help="keep the synthetic inputs and outputs")
    ap.add_argument("--reuse", action="store_true", help="with --out: use the synthetic inputs a --keep run left there")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--dir", help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args.worker, Path(args.dir), args.n, args.gdal_cachemax)
        return
    sizes = [int(float(s)) for s in args.sizes.split(",") if s]
    steps = [s for s in args.steps.split(",") if s]
    unknown = sorted(set(steps) - set(STEPS))
    if unknown:
        ap.error(f"unknown steps: {', '.join(unknown)}")
    bindings, has_tool, tool = _gdal_available()
    root = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="bench_indicators_"))
    root.mkdir(parents=True, exist_ok=True)
    me = [sys.executable, str(Path(__file__).resolve())]
    rows = []
    print(f"# indicator-stage benchmark: sizes {sizes}, 2 threads, chunk {CHUNK}, GDAL_CACHEMAX {args.gdal_cachemax} MB"
          + (f", best of {args.repeat}" if args.repeat > 1 else ""))
    print("| cells | step | wall time (s) | Mpx/s | peak RSS (MB) |\n| --- | --- | --- | --- | --- |", flush=True)
    try:
        for n in sizes:
            d = root / f"n{n:.0e}".replace("+", "")
            d.mkdir(exist_ok=True)
            if args.reuse and (d / "setup.json").exists():
                info, wall, rss = json.loads((d / "setup.json").read_text()), 0.0, 0.0
            else:
                info, wall, rss = _run([*me, "--worker", "setup", "--dir", str(d), "--n", str(n)])
                (d / "setup.json").write_text(json.dumps(info))
            n_cells = info["cells"]
            print(f"| {n_cells:.2e} | (setup: {info['points']} points, {info['lines']} lines) | {wall:.1f} | | "
                  f"{rss:.0f} |", flush=True)
            for step in steps:
                if step == "gdal_proximity" and not bindings:
                    print(f"| {n_cells:.2e} | {step} | skipped: GDAL's Python bindings not found for {SYSTEM_PYTHON} "
                          "(apt-get install python3-gdal) | | |", flush=True)
                    continue
                if step.startswith("gdal_proximity_cli") and not (has_tool and shutil.which("gdal_translate")):
                    print(f"| {n_cells:.2e} | {step} | skipped: gdal_proximity.py or gdal_translate not on PATH "
                          "(apt-get install gdal-bin python3-gdal) | | |", flush=True)
                    continue
                runs = []
                for _ in range(max(1, args.repeat)):
                    if step.startswith("gdal_proximity"):
                        runs.append(_gdal_step(step, d, n, tool, args.gdal_cachemax))
                    else:
                        rep, _, rss = _run([*me, "--worker", step, "--dir", str(d), "--n", str(n),
                                            "--gdal-cachemax", str(args.gdal_cachemax)])
                        runs.append((rep["seconds"], rss))
                sec, rss = min(runs)
                rows.append({"cells": n_cells, "step": step, "seconds": sec, "rss_mb": rss})
                print(f"| {n_cells:.2e} | {step} | {sec:.2f} | {n_cells / sec / 1e6:.1f} | {rss:.0f} |", flush=True)
            if not args.keep:
                shutil.rmtree(d, ignore_errors=True)
    finally:
        if not args.keep and not args.out:
            shutil.rmtree(root, ignore_errors=True)
    _summary(rows)


def _summary(rows) -> None:
    stage = {r["cells"]: r for r in rows if r["step"] == "stage"}
    if len(stage) >= 2:
        small, big = stage[min(stage)], stage[max(stage)]
        print(f"\nstage peak RSS: {big['rss_mb']:.0f} MB at {big['cells']:.1e} cells = "
              f"{big['rss_mb'] / small['rss_mb']:.2f} x that at {small['cells']:.1e} (target <= 1.5 x, <= 1500 MB)")
        cells = sorted(stage)
        if len(cells) >= 3:
            a, b = stage[cells[-2]], stage[cells[-1]]
            ratio = (b["seconds"] / b["cells"]) / (a["seconds"] / a["cells"])
            print(f"stage time per cell at {b['cells']:.1e} = {ratio:.2f} x that at {a['cells']:.1e} (target <= 1.2 x)")
    pairs = [("distance", "gdal_proximity", "GDAL's proximity through its Python API, same file format"),
             ("distance_compute", "gdal_proximity", "GDAL's proximity through its Python API, file to file"),
             ("distance", "gdal_proximity_cli_deflate", "gdal_proximity.py + gdal_translate, same file format"),
             ("distance_uncompressed", "gdal_proximity_cli", "gdal_proximity.py, both uncompressed")]
    for ours, theirs, what in pairs:
        for n in sorted({r["cells"] for r in rows}):
            o = next((r for r in rows if r["cells"] == n and r["step"] == ours), None)
            g = next((r for r in rows if r["cells"] == n and r["step"] == theirs), None)
            if o and g:
                print(f"{ours} at {n:.1e}: {g['seconds'] / o['seconds']:.2f} x the speed of {what}, in this run")


if __name__ == "__main__":
    main()
