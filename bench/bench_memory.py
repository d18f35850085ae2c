"""Peak RSS (and CPU) of the two jobs issue 13 measured above 1.5 GB at 10 m: the demo generator and relief_access.

Each runs in this process; peak RSS is the process's own ``getrusage`` maximum, so run one at a time.

* ``demo``: :func:`risk.demo.generate` on the county's boundary, as the ``demo`` rule calls it, into ``--out``
  (the same seed and bytes as ``data/demo`` at 30 m).
* ``relief``: ``workflow/scripts/relief_access.py`` (a mocked ``snakemake`` object, the schema's default
  ``access`` settings) on synthetic inputs shaped like the county's grid (91.95 x 67.05 km: 61.7 Mpx at
  10 m), an ellipse covering 61 % of the box as the area (NaN outside), random slope (0-30°), population
  and zones, 12 roads and 2 depots, written as files into ``--out`` first (by another process, so that
  they do not count in the peak; kept and reused if ``--out`` already holds them).

    .venv/bin/python bench/bench_memory.py demo --res 15 --out /tmp/demo15
    .venv/bin/python bench/bench_memory.py relief --res 10 --out /tmp/relief10
"""

from __future__ import annotations

import argparse
import resource
import runpy
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]


class Named(SimpleNamespace):
    def __getitem__(self, i):
        return list(vars(self).values())[i]


def relief_inputs(res: float, d: Path) -> None:
    """The synthetic county-shaped inputs of relief_access (see the module docstring)."""
    import geopandas as gpd
    import numpy as np
    from shapely import affinity
    from shapely.geometry import LineString, Point, box

    from risk import io
    from risk.grid import Grid

    w, h, x0, y0 = 91_950, 67_050, 500_000, 4_500_000
    g = Grid.from_bounds((x0, y0, x0 + w, y0 + h), "EPSG:4549", res)
    aoi = affinity.scale(Point(x0 + w / 2, y0 + h / 2).buffer(1.0, 256), 0.88 * w / 2, 0.88 * h / 2)
    io.write_text(g.to_json(), d / "grid.json")
    mask = g.rasterize([aoi], np.array([1], "uint8"), fill=0, dtype="uint8", dask=False).values
    io.write_raster(mask, d / "aoi_mask.tif", g, nodata=None, dtype="uint8")
    rng = np.random.default_rng(0)
    for name, scale in (("slope", 30.0), ("population", 1.0)):
        a = rng.random(g.shape, dtype=np.float32) * np.float32(scale)
        a[mask == 0] = np.nan
        io.write_raster(a, d / f"{name}.tif", g)
        del a
    z = rng.integers(1, 6, g.shape).astype("uint8")
    z[mask == 0] = 0
    io.write_raster(z, d / "zones.tif", g, nodata=0, dtype="uint8")
    del z, mask
    ys = np.linspace(y0 + 1000, y0 + h - 1000, 12)
    gpd.GeoDataFrame({"class": ["national", "county", "rural"] * 4},
                     geometry=[LineString([(x0, y), (x0 + w, y + 3000)]) for y in ys], crs=g.crs
                     ).to_file(d / "roads.gpkg")
    gpd.GeoDataFrame({"name": ["a", "b"]}, geometry=gpd.points_from_xy([x0 + 20_000, x0 + 60_000], [ys[5], ys[7]]),
                     crs=g.crs).to_file(d / "depots.gpkg")
    halves = [box(x0, y0, x0 + w / 2, y0 + h), box(x0 + w / 2, y0, x0 + w, y0 + h)]
    gpd.GeoDataFrame({"code": ["a", "b"], "name": ["A", "B"]}, geometry=[b.intersection(aoi) for b in halves],
                     crs=g.crs).to_file(d / "townships.gpkg")


def run_relief(d: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from tests.test_capacity_pipeline import defaults

    ac = defaults("access")
    params = {k: ac[k] for k in ("road_speeds_kmh", "unknown_road_kmh", "offroad", "dispatch_hours", "max_hours",
                                 "high_levels", "coarsen", "max_search_cells")}
    names = ("depots", "roads", "slope", "population", "zones", "townships", "mask", "grid")
    files = ("depots.gpkg", "roads.gpkg", "slope.tif", "population.tif", "zones.tif", "townships.gpkg",
             "aoi_mask.tif", "grid.json")
    sm = SimpleNamespace(input=Named(**{k: str(d / f) for k, f in zip(names, files, strict=True)}),
                         output=Named(hours=str(d / "out" / "relief_hours.tif"), reach=str(d / "out" / "reach.csv"),
                                      png=str(d / "out" / "relief_hours.png")),
                         params=Named(**params, area_name="bench", dask={"scheduler": "threads", "n_workers": 1}),
                         log=[str(d / "out" / "relief_access.log")], wildcards=Named())
    runpy.run_path(str(ROOT / "workflow" / "scripts" / "relief_access.py"), run_name="bench")["main"](sm)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("job", choices=("demo", "relief", "relief-inputs"))
    ap.add_argument("--res", type=float, default=30.0, help="cell size (m)")
    ap.add_argument("--out", required=True, help="folder for the inputs and outputs")
    args = ap.parse_args()
    out = Path(args.out)
    if args.job == "relief-inputs":
        relief_inputs(args.res, out)
        return
    if args.job == "relief" and not (out / "grid.json").exists():  # made in another process: not in this peak
        import subprocess

        subprocess.run([sys.executable, __file__, "relief-inputs", "--res", str(args.res), "--out", str(out)],
                       check=True)
    t, w = time.process_time(), time.perf_counter()
    if args.job == "demo":
        from risk import io
        from risk.demo import generate

        generate(io.read_aoi(ROOT / "data" / "lingyuan_boundary.geojson"), out, seed=42, crs="EPSG:4549", res=args.res)
    else:
        run_relief(out)
    print(f"{args.job} at {args.res:g} m: CPU {time.process_time() - t:.1f} s, wall {time.perf_counter() - w:.1f} s, "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
