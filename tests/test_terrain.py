"""Terrain layers and flow routing: correct, and the same on numpy and Dask whatever the chunks."""

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter
from skimage.morphology import reconstruction

from risk.grid import Grid
from risk.hazard import hydrology, terrain

CHUNKS = (16, 23)


@pytest.fixture
def grid():
    return Grid.from_bounds((500_000, 4_500_000, 502_400, 4_501_800), "EPSG:4549", 30, chunk=16)


@pytest.fixture
def dem(grid):
    rng = np.random.default_rng(3)
    z = gaussian_filter(rng.random(grid.shape), 2.5) * 400 + 300
    z[10:13, 40:44] = np.nan  # a hole of no data
    return z.astype("float32")


def _layers(grid, dem, chunk):
    if chunk is None:
        arr = grid.like(dem)
    else:
        arr = grid.with_chunk(chunk).like(__import__("dask.array").array.from_array(dem, chunks=chunk))
    out = terrain.terrain(arr, relief_radius_m=90, flow_tile=32)
    out["tpi"] = terrain.topographic_position(arr, 200)
    out["smooth"] = terrain.smooth(arr, 60)
    out["gradient"] = terrain.gradient(arr)
    out["smooth_gradient"] = terrain.smooth_gradient(arr, 60)
    return {k: np.asarray(v.values) for k, v in out.items()}, out


def test_numpy_and_dask_agree_whatever_the_chunks(grid, dem):
    ref, lazy_ref = _layers(grid, dem, None)
    for chunk in CHUNKS:
        got, lazy = _layers(grid, dem, chunk)
        expected = grid.with_chunk(chunk).chunks
        assert all(v.data.chunks == expected for v in lazy.values())
        for name in ref:
            assert got[name].dtype == np.float32, name
            np.testing.assert_allclose(got[name], ref[name], rtol=1e-5, atol=1e-5, equal_nan=True, err_msg=name)
    assert set(terrain.TERRAIN_LAYERS) <= set(ref)


def test_smooth_gradient_is_the_gradient_of_the_smoothed_dem_in_one_pass(grid, dem):
    for chunk in (None, *CHUNKS):
        g = grid if chunk is None else grid.with_chunk(chunk)
        arr = g.like(dem if chunk is None else __import__("dask.array").array.from_array(dem, chunks=chunk))
        chained = terrain.gradient(terrain.smooth(arr, 60)).values
        one_pass = terrain.smooth_gradient(arr, 60)
        np.testing.assert_array_equal(one_pass.values, chained)  # the same bits
        if chunk is not None:
            # one neighbourhood pass over the DEM: no smoothing task feeds another overlap
            assert not any("_gauss_kernel" in str(k) for k in one_pass.data.__dask_graph__())
    np.testing.assert_array_equal(terrain.smooth_gradient(grid.like(dem), 1).values,
                                  terrain.gradient(grid.like(dem)).values)  # below one cell: no smoothing


def test_slope_of_a_plane_and_the_edge_ring(grid):
    yy, xx = np.mgrid[0:grid.height, 0:grid.width]
    plane = (xx * 30 * 0.1).astype("float32")  # 10 % gradient rising to the east
    s = terrain.slope(grid.like(plane)).values
    assert np.isnan(s[0]).all() and np.isnan(s[:, -1]).all()
    np.testing.assert_allclose(s[1:-1, 1:-1], np.degrees(np.arctan(0.1)), rtol=1e-4)
    a = terrain.aspect(grid.like(plane)).values
    np.testing.assert_allclose(a[1:-1, 1:-1], 270.0, atol=1e-3)  # faces west (downslope)
    np.testing.assert_allclose(terrain.gradient(grid.like(plane)).values[1:-1, 1:-1], 0.1, rtol=1e-5)


def test_relief_and_tpi_on_a_known_surface(grid):
    z = np.zeros(grid.shape, "float32")
    z[30, 40] = 50.0
    r = terrain.relief(grid.like(z), 60).values  # ± 2 cells
    assert r[30, 40] == 50 and r[28, 42] == 50 and r[27, 40] == 0
    tpi = terrain.topographic_position(grid.like(z), 30).values  # 3 x 3 window
    assert tpi[30, 40] == pytest.approx(50 - 50 / 9, rel=1e-5)
    assert tpi[30, 41] == pytest.approx(-50 / 9, rel=1e-5)


def test_fill_matches_morphological_reconstruction(dem):
    z = np.nan_to_num(dem, nan=np.nanmin(dem)).astype("f8")
    seed = z.copy()
    seed[1:-1, 1:-1] = z.max()
    filled = reconstruction(seed, z, method="erosion")
    out = hydrology.route_window(z.astype("float32"))
    np.testing.assert_allclose(out[0], filled - z, atol=1e-4)


def test_flow_accumulation_conserves_cells_and_drains_a_valley():
    # a V-shaped valley sloping south: everything ends in the bottom row of the valley line
    yy, xx = np.mgrid[0:40, 0:21]
    z = (np.abs(xx - 10) * 5.0 + (40 - yy) * 1.0).astype("float32")
    out = hydrology.route_window(z)
    acc = out[1]
    assert acc[-1, 10] == pytest.approx(acc[:, 10].max())
    rec = hydrology.d8_receivers(hydrology.fill_epsilon(z.astype("f8")))
    assert acc.ravel()[rec == -1].sum() == z.size  # every cell reaches exactly one outlet
    assert (out[0] == 0).all()  # no depression


def test_flats_and_pits_drain_everywhere():
    z = np.full((20, 20), 10.0, dtype="float32")
    z[5:15, 5:15] = 5.0  # a flat-bottomed pit
    out = hydrology.route_window(z)
    np.testing.assert_allclose(out[0][5:15, 5:15], 5.0, atol=1e-6)
    assert np.isfinite(out[1]).all() and out[1].max() >= 100


def test_flow_results_depend_neither_on_the_tile_nor_on_the_chunks(grid, dem):
    import dask.array as da

    ref_dep, ref_acc = terrain.flow_routing(grid.like(dem), tile=40)
    for chunk, tile in zip(CHUNKS, (40, 13), strict=True):
        arr = grid.with_chunk(chunk).like(da.from_array(dem, chunks=chunk))
        dep, acc = terrain.flow_routing(arr, tile=tile)
        np.testing.assert_array_equal(dep.values, ref_dep.values)
        np.testing.assert_array_equal(acc.values, ref_acc.values)
    assert acc.attrs["units"] == "m2" and np.nanmin(acc.values) == pytest.approx(900.0)
    assert np.nanmax(acc.values) / 900 > 5 * 13 * 13  # a catchment across tiles, counted whole


def test_twi_is_higher_in_the_valley():
    g = Grid.from_bounds((0, 0, 21 * 30, 40 * 30), "EPSG:4549", 30)
    yy, xx = np.mgrid[0:40, 0:21]
    z = (np.abs(xx - 10) * 5.0 + (40 - yy) * 1.0).astype("float32")
    out = terrain.terrain(g.like(z), flow_tile=64)
    twi = out["twi"].values
    assert twi[30, 10] > twi[30, 3]


def test_build_gives_every_layer_with_its_metadata(grid, dem):
    kw = dict(relief_radius_m=90, flow_tile=32, twi_min_tan=0.01)
    layers, tags, descriptions = terrain.build(grid.like(dem), source="dem.tif", **kw)
    assert list(layers) == list(tags) == list(descriptions) == list(terrain.TERRAIN_LAYERS)
    ref = terrain.terrain(grid.like(dem), **kw)
    for name, arr in layers.items():
        np.testing.assert_array_equal(arr.values, ref[name].values)
        assert tags[name] == {"LAYER": name, "UNITS": ref[name].attrs["units"], "SOURCE": "dem.tif",
                              "FLOW_TILE": 32}
        assert descriptions[name] == terrain.TERRAIN_DESCRIPTIONS[name]
    assert tags["flow_accumulation"]["UNITS"] == "m2" and tags["slope"]["UNITS"] == "degree"


def test_xrspatial_kernels_use_numbas_disk_cache(grid, dem):
    # Their kernels come from numba's cache after the first job; the slope, aspect and curvature stay xrspatial's.
    import sys

    import xrspatial
    from numba.core.registry import CPUDispatcher

    arr = grid.like(dem)
    got = {f: getattr(terrain, f)(arr).values for f in ("slope", "aspect", "curvature")}
    kernels = [f for m in terrain.XRSPATIAL_KERNELS for f in vars(sys.modules[m]).values()
               if isinstance(f, CPUDispatcher)]
    assert kernels and all(type(f._cache).__name__ == "FunctionCache" for f in kernels)
    d = arr.astype("float32")
    np.testing.assert_array_equal(got["slope"], xrspatial.slope(d).values.astype("float32"))
    np.testing.assert_array_equal(got["aspect"], xrspatial.aspect(d).values.astype("float32"))
