"""Flow routing throughput (cells/s) and peak memory: exact tiles against whole-raster references.

Methods, each run in a fresh process (so that its peak RSS is its own; numba caches warm, a
small call first so that compilation is not timed):

* ``tiled``   -- :func:`risk.hazard.hydrology.route` on a Dask DEM made tile by tile (nothing
  of the raster is ever whole in memory; outputs are reduced block by block), tiles of 1024; its
  time includes making each DEM tile three times (the tiles are read three times), which the
  in-memory methods do before the clock starts;
* ``tiled-np`` -- :func:`risk.hazard.hydrology.route_tiled` on an in-memory numpy DEM;
* ``window``  -- the project's Priority-Flood+ε kernel on the whole raster as one window
  (:func:`risk.hazard.hydrology.route_window`, the pre-tiling reference);
* ``pyflwdir`` -- pyflwdir: ``fill_depressions`` (fill + D8) then ``upstream_area``;
* ``levels``  -- only the global fill problem of ``tiled`` (:func:`risk.hazard.hydrology.fill_levels`: every
  tile flooded once, then the levels of all labels), on the DEM made tile by tile: the part of the memory that
  grows with the area (the perimeters' labels and edges), measurable at 10⁹ cells in minutes. With ``--dem``
  the DEM is a real one mirror-tiled to the size (:func:`bench_region.reflect`, as the region benchmark makes
  its regions) instead of the synthetic one.

All compute depression depth and flow accumulation of the same DEM: a long valley across the
raster with sine hills and pits, plus a small hash noise so that no two cells tie.

    .venv/bin/python bench/bench_hydrology.py --sizes 1e6 1e7 1e8 --methods tiled tiled-np window pyflwdir
    .venv/bin/python bench/bench_hydrology.py --sizes 1e7 1e8 1e9 --methods levels [--dem data/demo/dem.tif]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time

import numpy as np

TILE = 1024


def dem_block(r0: int, c0: int, h: int, w: int, width: int) -> np.ndarray:
    """The synthetic DEM on rows r0:r0+h, cols c0:c0+w of a raster ``width`` cells wide."""
    r, c = np.mgrid[r0:r0 + h, c0:c0 + w].astype("float64")
    noise = np.modf(np.sin(r * 12.9898 + c * 78.233) * 43758.5453)[0]
    z = (0.1 * np.abs(c - width / 2) + 0.05 * r + 12 * np.sin(r / 37) * np.cos(c / 53)
         + 3 * np.sin(r / 11 + c / 17) + 0.01 * noise + 1000)
    return z.astype("float32")


def mirrored(path: str):
    """``dem_block`` of a real DEM mirror-tiled without end (float32, NaN for no data)."""
    import rasterio
    from bench_region import reflect

    with rasterio.open(path) as src:
        base = src.read(1, masked=True).astype("float32").filled(np.nan)

    def block(r0, c0, h, w, width):
        return base[np.ix_(reflect(np.arange(r0, r0 + h), base.shape[0]), reflect(np.arange(c0, c0 + w), base.shape[1]))]

    return block


def run_one(method: str, side: int, dem_path: str | None = None) -> tuple[float, float]:
    """Seconds taken and a checksum (sum of accumulation) for one method on a side x side DEM."""
    from risk.hazard import hydrology

    dem_block_ = mirrored(dem_path) if dem_path else dem_block

    if method == "tiled":
        import dask
        import dask.array as da

        hydrology.route(da.from_array(dem_block(0, 0, 64, 64, 64), chunks=32), 32)[1].sum().compute()
        blocks = [[da.from_delayed(dask.delayed(dem_block)(r, c, min(TILE, side - r), min(TILE, side - c), side),
                                   (min(TILE, side - r), min(TILE, side - c)), dtype="float32")
                   for c in range(0, side, TILE)] for r in range(0, side, TILE)]
        dem = da.block(blocks)
        t0 = time.perf_counter()
        depth, acc = hydrology.route(dem, TILE)
        total, _ = dask.compute(acc.astype("float64").sum(), depth.max())  # one pass over the tiles
        return time.perf_counter() - t0, float(total)
    if method == "levels":
        hydrology.fill_levels(lambda ij: dem_block(0, 0, 64, 64, 64), hydrology._Tiling((64, 64), 64), 2)

        def read(ij):
            r0, c0 = ij[0] * TILE, ij[1] * TILE
            return dem_block_(r0, c0, min(TILE, side - r0), min(TILE, side - c0), side)

        t0 = time.perf_counter()
        _, level = hydrology.fill_levels(read, hydrology._Tiling((side, side), TILE), 2)
        return time.perf_counter() - t0, float(np.nansum(level.rows, dtype="float64"))
    dem = dem_block(0, 0, side, side, side)
    if method == "tiled-np":
        hydrology.route_tiled(dem[:64, :64], 32)
        t0 = time.perf_counter()
        out = hydrology.route_tiled(dem, TILE)
    elif method == "window":
        hydrology.route_window(dem[:64, :64])
        t0 = time.perf_counter()
        out = hydrology.route_window(dem)
    elif method == "pyflwdir":
        import pyflwdir

        pyflwdir.dem.fill_depressions(dem[:64, :64])
        t0 = time.perf_counter()
        filled, d8 = pyflwdir.dem.fill_depressions(dem, nodata=-9999.0)
        acc = pyflwdir.from_array(d8, ftype="d8", check_ftype=False).upstream_area(unit="cell")
        out = (filled - dem, acc)
    else:
        raise ValueError(f"unknown method {method!r}")
    dt = time.perf_counter() - t0
    return dt, float(np.asarray(out[1], dtype="float64").sum())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=float, nargs="+", default=[1e6, 1e7])
    ap.add_argument("--methods", nargs="+", default=["tiled", "tiled-np", "window", "pyflwdir"])
    ap.add_argument("--dem", help="levels: a real DEM, mirror-tiled to each size (default: the synthetic DEM)")
    ap.add_argument("--one", nargs=2, metavar=("METHOD", "SIDE"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        import dask

        with dask.config.set(scheduler="threads", num_workers=2):
            dt, total = run_one(args.one[0], int(args.one[1]), args.dem)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{dt} {total} {rss}")
        return
    print(f"{'method':<10}{'cells':>14}{'seconds':>10}{'M cells/s':>11}{'peak RSS MB':>13}  checksum (sum of accumulation;"
          " levels: of the perimeters' filled levels)")
    for size in args.sizes:
        side = int(round(np.sqrt(size)))
        for method in args.methods:
            res = subprocess.run([sys.executable, __file__, "--one", method, str(side)]
                                 + (["--dem", args.dem] if args.dem else []), capture_output=True, text=True)
            if res.returncode:
                print(f"{method:<10}{side * side:>14,d}  failed: {res.stderr.strip().splitlines()[-1:]}")
                continue
            dt, total, rss = (float(v) for v in res.stdout.split())
            print(f"{method:<10}{side * side:>14,d}{dt:>10.2f}{side * side / dt / 1e6:>11.2f}{rss:>13.0f}  {total:.0f}",
                  flush=True)


if __name__ == "__main__":
    main()
