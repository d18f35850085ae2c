"""Compile the project's numba kernels ahead of the jobs that call them.

Numba compiles a kernel at its first call and keeps the machine code in its disk cache beside the module
(``cache=True``), so a run finds the kernels compiled by the runs before it. The first run of a fresh clone
compiled them inside its jobs: on the demo, terrain took 12.5 s instead of 5.7 s (its flow routing's ~20
kernels, on the run's critical path), relief_access 5.0 instead of 2.5, point_rasters 6.8 instead of 4.8.

:func:`rehearse` calls every kernel family once on tiny inputs of the types the rules give them, so that
numba compiles and caches exactly the specialisations the rules use; the jobs then load them from the cache.
The warm server (:mod:`risk.warm`) runs it in a child process at the start of a local run, on the core that
the single-threaded demo rule leaves idle. A job that needs a kernel before the rehearsal has reached it
compiles it itself, as before (numba writes its cache files atomically). Nothing here changes a result.

``tests/test_jit.py`` checks that the rehearsal covers every compiled kernel of the package, and that the rules'
own entry points compile nothing more after it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

MARK = Path(__file__).resolve().parent / "__pycache__" / "jit-rehearsed.txt"
"""Written after a rehearsal: the state of the package's sources it compiled (see :func:`rehearsed`)."""


def _terrain() -> None:
    """Flow routing across several tiles (fill, flats, edges, accumulation) and the xarray-spatial kernels."""
    import dask
    import dask.array as da

    from risk.grid import Grid
    from risk.hazard import terrain

    tile, h, w = 16, 40, 36
    rows, cols = np.mgrid[0:h, 0:w]
    dem = (200.0 + 0.8 * rows + 0.5 * np.abs(cols - w / 2)).astype("f4")  # a valley draining across the tiles
    dem[5:9, 20:26] = 150.0  # a pit, filled to a flat
    dem[20:24, 4:8] = dem[20:24, 4:8].min()  # a flat on a slope
    dem[30:33, 30:34] = np.nan  # nodata inside the raster
    grid = Grid(crs="EPSG:4549", res=30.0, xmin=0.0, ymax=h * 30.0, width=w, height=h, chunk=tile)
    layers = terrain.terrain(grid.like(da.from_array(dem, chunks=tile)), relief_radius_m=60.0, flow_tile=tile)
    dask.compute(*layers.values(), scheduler="synchronous")


def _distance() -> None:
    """The exact Euclidean distance of the indicators (block EDT, and the coarse one beyond the cap)."""
    import dask.array as da

    from risk.grid import Grid
    from risk.hazard import proximity

    grid = Grid(crs="EPSG:4549", res=30.0, xmin=0.0, ymax=960.0, width=40, height=32, chunk=16)
    src = np.zeros(grid.shape, dtype="uint8")
    src[3, 4] = src[20, 30] = 1
    proximity.distance(grid.like(da.from_array(src, chunks=16)), max_distance=300.0).compute(scheduler="synchronous")


def _points() -> None:
    """The survey points' kernel density (stamped kernels)."""
    from risk.grid import Grid
    from risk.hazard.point_rasters import kernel_density

    grid = Grid(crs="EPSG:4549", res=30.0, xmin=0.0, ymax=960.0, width=40, height=32, chunk=16)
    kernel_density(grid, [100.0, 600.0], [500.0, 200.0], sigma_m=60.0, method="stamp").compute(
        scheduler="synchronous")


def _index() -> None:
    """The weighted index and the linear scaling of the indicators (float32 and float64 inputs)."""
    from risk.hazard.indicator_index import weighted_kernel
    from risk.hazard.normalize import scale

    a = np.array([[0.0, 0.5, np.nan]], dtype="f4")
    weighted_kernel(a, a, w=[1.0, 2.0], skipna=False)
    for dtype in ("f4", "f8"):
        scale(a.astype(dtype), 0.0, 1.0, "more")


def _zoning() -> None:
    """Natural breaks and the class stability's Monte-Carlo count."""
    from risk.assessment.class_stability import _count_kept
    from risk.assessment.zoning import fisher_jenks

    fisher_jenks(np.linspace(0.0, 1.0, 50), 5)
    z = np.zeros(4, dtype="f4")
    _count_kept(z, np.array([0.5], dtype="f4"), z, z.copy(), np.float32(1.0))


def _relief() -> None:
    """The relief least-cost search (float32 speeds and hours, as the rule runs it)."""
    from risk.capacity.relief_access import travel_hours

    travel_hours(np.full((3, 4), 10.0, dtype="f4"), [0], [0], 30.0, dtype="float32")


STEPS = (_terrain, _distance, _points, _index, _zoning, _relief)
"""In the order a run needs them: terrain's kernels first (the critical path), relief access's last."""


def rehearse() -> None:
    """Compile (or load from numba's cache) every kernel family of the package on tiny inputs, then :data:`MARK`."""
    for step in STEPS:
        step()
    try:
        MARK.parent.mkdir(exist_ok=True)
        MARK.write_text(_sources_key(), encoding="utf-8")
    except OSError:  # a read-only installation: the next run rehearses again (about 1 s of cache loads)
        pass


def needed() -> bool:
    """Whether a rehearsal would do anything: numba compiles (``NUMBA_DISABLE_JIT`` unset) and none ran yet."""
    import numba

    return not numba.config.DISABLE_JIT and not rehearsed()


def rehearsed() -> bool:
    """Whether a rehearsal ran on the package's sources as they are (same files, numba and cache folder).

    Numba's cache is invalidated by a module's modification time and size; so is this mark, for every module
    of the package at once: after any edit the next run rehearses again (the unchanged kernels load from the
    cache). Deleting :data:`MARK` forces a rehearsal.
    """
    try:
        return MARK.read_text(encoding="utf-8") == _sources_key()
    except OSError:
        return False


def _sources_key() -> str:
    import hashlib
    import sys
    from importlib.metadata import version

    import numba

    h = hashlib.sha1(f"{sys.version} numba {numba.__version__} xarray-spatial {version('xarray-spatial')} "
                     f"{os.environ.get('NUMBA_CACHE_DIR', '')}".encode())
    for p in sorted(Path(__file__).resolve().parent.rglob("*.py")):
        st = p.stat()
        h.update(f"{p} {st.st_mtime_ns} {st.st_size}\n".encode())
    return h.hexdigest()
