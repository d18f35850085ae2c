"""risk.jit: the rehearsal compiles every kernel the rules call, in the specialisations they call, and nothing
is left for the rules' own entry points to compile after it; the warm server runs it beside the jobs."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

NOT_CALLED_BY_RULES = {
    # the in-memory flow routing: the exact reference the tiled routing is tested against, not used by a rule
    "risk.hazard.hydrology._route", "risk.hazard.hydrology.accumulate", "risk.hazard.hydrology.d8_receivers",
    "risk.hazard.hydrology.fill_epsilon", "risk.hazard.hydrology._fill_depth_receivers",
}

# In a fresh Python: every module of the package imported, the rehearsal, then the rules' entry points on other
# inputs (read from files as the rules read them); prints how many specialisations each kernel has at each step.
PROBE = r'''
import importlib, json, pkgutil, sys
import numpy as np, dask, geopandas as gpd, shapely
from numba.core.registry import CPUDispatcher
import risk
for m in pkgutil.walk_packages(risk.__path__, "risk."):
    if not m.name.startswith("risk.demo"):
        importlib.import_module(m.name)

def signatures():
    return {f"{m}.{k}": len(v.signatures) for m in list(sys.modules) if m.startswith("risk.")
            for k, v in vars(sys.modules[m]).items() if isinstance(v, CPUDispatcher) and v.__module__ == m}

before = signatures()
from risk.jit import rehearse
rehearse()
rehearsed = signatures()

from risk import io
from risk.grid import Grid
from risk.hazard import indicator_index, normalize, point_rasters, proximity, terrain
from risk.assessment import zoning
from risk.capacity.relief_access import travel_hours
folder = sys.argv[1]
grid = Grid(crs="EPSG:4549", res=25.0, xmin=500000.0, ymax=4500000.0, width=90, height=70, chunk=32)
rng = np.random.default_rng(3)
rows, cols = np.mgrid[0:grid.height, 0:grid.width]
dem = (300 + 2.0 * rows + 10 * np.sin(cols / 7.0) + rng.normal(0, 1, grid.shape)).astype("f4")
dem[40:50, 10:20] = 250.0
io.write_raster(dem, f"{folder}/dem.tif", grid)
dem = io.read_raster_on_grid(f"{folder}/dem.tif", grid, resampling="bilinear", name="dem")
layers = terrain.terrain(dem, relief_radius_m=100.0, flow_tile=32)
dask.compute(*layers.values())
xs, ys = grid.xmin + rng.uniform(0, 2000, 30), grid.ymax - rng.uniform(0, 1700, 30)
lines = gpd.GeoDataFrame(geometry=[shapely.LineString([(xs[0], ys[0]), (xs[1], ys[1])])], crs=grid.crs)
d = proximity.distance(proximity.line_sources(lines, grid), max_distance=500.0).compute()
point_rasters.kernel_density(grid, xs, ys, sigma_m=75.0, weights=rng.uniform(1, 2, 30)).compute()
idx = indicator_index.weighted_index({"a": layers["slope"] / 90, "b": layers["relief"] / 100}, {"a": 1, "b": 2})
normalize.normalize(idx).compute()
zoning.zone(idx.compute())
travel_hours(np.full(grid.shape, 20.0, dtype="f4"), [3, 9], [4, 60], grid.res, dtype="float32")
print(json.dumps({"before": before, "rehearsed": rehearsed, "after": signatures()}))
'''


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    """The probe on an empty numba cache: a kernel loaded from the cache does not list the kernels it calls,
    a compiled one does (about 15 s of compiling)."""
    folder = tmp_path_factory.mktemp("jit")
    out = subprocess.run([sys.executable, "-c", PROBE, str(folder)], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "RISK_WARM": "0", "NUMBA_CACHE_DIR": str(folder / "numba")})
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_the_rehearsal_compiles_every_kernel_the_rules_call(probe):
    kernels = set(probe["before"])
    assert len(kernels) >= 30 and not any(probe["before"].values())  # found, and nothing compiled at import
    missing = {k for k, n in probe["rehearsed"].items() if n == 0}
    assert missing == NOT_CALLED_BY_RULES, "a kernel the rehearsal (risk.jit.STEPS) does not reach"


@pytest.mark.slow
def test_after_the_rehearsal_the_rules_entry_points_compile_nothing_more(probe):
    grown = {k: (probe["rehearsed"][k], n) for k, n in probe["after"].items() if n != probe["rehearsed"][k]}
    assert not grown, f"specialisations the rehearsal missed (before, after): {grown}"


def test_the_mark_follows_the_sources(tmp_path, monkeypatch):
    from risk import jit

    monkeypatch.setattr(jit, "MARK", tmp_path / "mark.txt")
    monkeypatch.setattr(jit, "STEPS", ())
    assert not jit.rehearsed()
    jit.rehearse()
    assert jit.rehearsed()
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "elsewhere"))  # another cache: not rehearsed there
    assert not jit.rehearsed()


# In a fresh Python (no threads to fork beside, as in the warm server): the rehearsal's child with stand-in steps
CHILD = r"""
import json, os, socket, sys, time
from pathlib import Path
from risk import jit
from risk.warm import _rehearse_kernels, stop_server
folder = Path(sys.argv[1])
jit.MARK, started = folder / "mark.txt", folder / "started"
jit.STEPS = (lambda: started.write_text(str(os.nice(0))),)
listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
pid = _rehearse_kernels(listener)
status = os.waitpid(pid, 0)[1]
done = {"status": status, "marked": jit.rehearsed(), "nice": int(started.read_text()),
        "again": _rehearse_kernels(listener)}
jit.MARK.unlink()
started.unlink()
jit.STEPS = (lambda: (started.write_text("sleeping"), time.sleep(600)),)
pid = _rehearse_kernels(listener)
while not started.exists():
    time.sleep(0.05)
stop_server(pid)
try:
    os.waitpid(pid, os.WNOHANG)
    done["reaped"] = False
except ChildProcessError:
    done["reaped"] = True
done["marked_after_stop"] = jit.rehearsed()
print(json.dumps(done))
"""


def test_the_server_rehearses_in_a_child_that_marks_its_work_or_is_stopped(tmp_path):
    """What the warm server does with ``kernels``: a low-priority child runs the steps and writes the mark; a
    child still working when the server stops is stopped and reaped."""
    out = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr[-3000:]
    done = json.loads(out.stdout.strip().splitlines()[-1])
    assert done["status"] == 0 and done["marked"] and done["nice"] >= 10  # done, marked, at low priority
    assert done["again"] is None  # nothing to do on the same sources
    assert done["reaped"] and not done["marked_after_stop"]  # stopped mid-way: reaped, nothing marked


def test_nothing_to_rehearse_when_numba_does_not_compile(monkeypatch, tmp_path):
    import numba

    from risk import jit

    monkeypatch.setattr(jit, "MARK", tmp_path / "mark.txt")
    assert jit.needed()
    monkeypatch.setattr(numba.config, "DISABLE_JIT", True)
    assert not jit.needed()
