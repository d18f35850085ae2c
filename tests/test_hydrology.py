"""Exact flow routing on tiles: the same cell for cell as whole-raster references, whatever the tile.

References: the project's own Priority-Flood+ε kernel run on the whole raster as one window
(:func:`risk.hazard.hydrology.route_window`), and pyflwdir (an independent implementation):
its depression filling, and its upstream area on the same D8 directions.
"""

import gc
import os
from pathlib import Path

import numpy as np
import pyflwdir
import pytest
import rasterio
from scipy.ndimage import gaussian_filter

from risk.hazard import hydrology
from tests.conftest import ROOT

TILES = (5, 16, 37)
_D8 = {(0, 1): 1, (1, 1): 2, (1, 0): 4, (1, -1): 8, (0, -1): 16, (-1, -1): 32, (-1, 0): 64, (-1, 1): 128}


def _valley(seed):
    """Hills along a long valley that drains the whole raster south, with pits and a hole of no data."""
    rng = np.random.default_rng(seed)
    n, m = 150, 170
    yy, xx = np.mgrid[0:n, 0:m]
    z = gaussian_filter(rng.random((n, m)), 3) * 400 + 0.3 * np.abs(xx - m / 2) + 0.2 * yy + 300
    z[40:43, 60:64] = np.nan
    return z.astype("float32")


def _flats(seed):
    """Whole-metre elevations (ties and flats everywhere), a flat-floored pit across many tiles,
    a snaking flat channel and a wall of no data."""
    rng = np.random.default_rng(seed)
    n, m = 120, 140
    yy, xx = np.mgrid[0:n, 0:m]
    z = np.round(gaussian_filter(rng.random((n, m)), 4) * 60 + 0.05 * np.abs(xx - m / 2) + 0.03 * yy + 300)
    z[30:90, 25:115] = z[30:90, 25:115].min() - 5
    z[95:118:4, 5:135] = 250.0  # a flat channel snaking through the tiles, draining at one end
    z[97:116:8, 134] = 250.0
    z[99:118:8, 5] = 250.0
    z[117, 5] = 249.0
    z[50:52, 40:120] = np.nan
    return z.astype("float32")


def _demo_tile():
    with rasterio.open(ROOT / "tests" / "data" / "demo_dem_192.tif") as src:  # a 192 x 192 crop of the demo DEM
        return src.read(1)


def _upstream_cells_pyflwdir(z):
    h, w = z.shape
    rec = hydrology.receivers(z)
    i = np.arange(h * w)
    d8 = np.where(np.isfinite(z.ravel()), 0, 247).astype("uint8")
    has = rec >= 0
    dr, dc = rec[has] // w - i[has] // w, rec[has] % w - i[has] % w
    d8[has] = [_D8[(a, b)] for a, b in zip(dr, dc, strict=True)]
    return pyflwdir.from_array(d8.reshape(h, w), ftype="d8").upstream_area(unit="cell")


@pytest.mark.parametrize("make", [_valley, _flats])
@pytest.mark.parametrize("seed", [0, 1])
def test_tiles_give_the_whole_raster_result_cell_for_cell(make, seed):
    z = make(seed)
    whole = hydrology.route_tiled(z, max(z.shape))
    assert np.nanmax(whole[1]) > 1000  # the largest catchment crosses 40 tiles of 5 x 5 cells or more
    for tile in TILES:
        np.testing.assert_array_equal(hydrology.route_tiled(z, tile), whole, err_msg=f"tile {tile}")


def test_raised_cells_kept_in_files_beyond_the_budget_give_the_same_routing(monkeypatch):
    z = _flats(0)
    in_memory = hydrology.route_tiled(z, 16)
    kept = []
    real = hydrology._RaisedCells

    def small(budget=None):  # room for about two tiles' raised cells: the others go to files
        cells = real(budget=2_000)
        kept.append(cells)
        return cells

    monkeypatch.setattr(hydrology, "_RaisedCells", small)
    np.testing.assert_array_equal(hydrology.route_tiled(z, 16), in_memory)
    cells = kept[0]
    assert cells.memory and len(cells.files) > 10 and cells.bytes <= 2_000
    folder = cells.folder
    assert len(list(Path(folder).iterdir())) == len(cells.files)
    del cells, kept[:]
    gc.collect()
    assert not os.path.exists(folder)  # the folder goes with the solution


@pytest.mark.parametrize("make", [_valley, _flats])
def test_accumulation_and_depth_equal_pyflwdir(make):
    z = make(0)
    out = hydrology.route_tiled(z, 16)
    valid = np.isfinite(z)
    ups = _upstream_cells_pyflwdir(z)
    np.testing.assert_array_equal(out[1][valid], ups[valid])
    filled, _ = pyflwdir.dem.fill_depressions(np.where(valid, z, -9999.0), nodata=-9999.0)
    np.testing.assert_allclose(out[0][valid], (filled - z)[valid], atol=1e-6)
    assert (out[0] > 1).sum() > 500  # the pit is filled across tiles


def test_without_ties_tiles_equal_the_one_window_kernel():
    # With no two equal elevations Priority-Flood+ε is fully determined, and the tiles reproduce it.
    # (On tied flats the one-window kernel follows its heap's order among equal keys; the tiles
    # drain every flat cell towards its nearest exit instead, the same for every tile.)
    noise = np.random.default_rng(0).random((192, 192)) * 1e-2
    for z in (_valley(2), (_demo_tile() + noise).astype("float32")):
        ref = hydrology.route_window(z)
        for tile in TILES:
            np.testing.assert_array_equal(hydrology.route_tiled(z, tile), ref, err_msg=f"tile {tile}")


def test_the_demo_tile_equals_pyflwdir():
    z = _demo_tile()
    out = hydrology.route_tiled(z, 32)
    np.testing.assert_array_equal(out[1], _upstream_cells_pyflwdir(z))
    filled, _ = pyflwdir.dem.fill_depressions(z.astype("float64"), nodata=-9999.0)
    np.testing.assert_allclose(out[0], filled - z, atol=1e-4)
    assert out[1].max() > 6 * 32 * 32


def test_every_cell_reaches_one_outlet():
    z = _flats(3)
    rec = hydrology.receivers(z)
    acc = hydrology.route_tiled(z, 9)[1].ravel()
    valid = np.isfinite(z.ravel())
    assert acc[valid & (rec == -1)].sum() == valid.sum()


def test_numpy_and_dask_agree_whatever_the_chunks():
    import dask.array as da

    z = _flats(1)
    ref = hydrology.route(z, 16)
    for chunks in ((16, 16), (23, 31), (120, 7)):
        got = hydrology.route(da.from_array(z, chunks=chunks), 16)
        assert got[0].chunks == da.from_array(z, chunks=chunks).chunks
        for a, b in zip(got, ref, strict=True):
            np.testing.assert_array_equal(a.compute(), b)


def test_a_bad_tile_is_refused():
    with pytest.raises(ValueError, match="flow tile"):
        hydrology.route(np.zeros((4, 4), "float32"), 0)
