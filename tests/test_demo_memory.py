"""The demo generator's banded steps give the same bytes as one pass over the whole grid."""

import numpy as np
import scipy.ndimage as ndi

from risk.demo import common as C
from risk.demo import terrain as T
from risk.grid import Grid


def test_distances_equal_scipy_edt():
    rng = np.random.default_rng(0)
    for shape, res in (((301, 177), 30.0), ((64, 400), 7.3), ((5, 9), 10.0)):
        mask = rng.random(shape) < 0.002
        mask[2, 3] = True
        want, idx = ndi.distance_transform_edt(~mask, sampling=res, return_indices=True)
        got, ft = C.distance_to(mask, res, indices=True, rows=17)
        np.testing.assert_array_equal(ft, idx)
        assert got.dtype == np.float32 and np.array_equal(got, want.astype("f4"))
    assert (C.distance_to(np.zeros((4, 4), bool), 30.0) == 1e6).all()


def test_slope_aspect_by_bands_equals_one_pass():
    dem = ndi.gaussian_filter(np.random.default_rng(1).random((123, 91)) * 400, 3).astype("f4")
    dz_drow, dz_dx = np.gradient(dem, 15.0)
    mag = np.hypot(dz_dx, -dz_drow)
    with np.errstate(invalid="ignore", divide="ignore"):
        south = np.where(mag > 1e-6, -dz_drow / mag, 0.0).astype("f4")
    for rows in (1, 2, 10, 500):
        s, a = C.slope_aspect(dem, 15.0, rows=rows)
        assert np.array_equal(s, np.degrees(np.arctan(mag)).astype("f4")) and np.array_equal(a, south)


def test_weighted_sample_by_chunks_draws_what_one_call_draws():
    def one_call(rng, w, n):
        w = np.asarray(w, dtype="f8")
        n = int(min(n, np.count_nonzero(w > 0)))
        e = rng.exponential(size=w.shape)
        with np.errstate(divide="ignore"):
            keys = np.where(w > 0, e / np.where(w > 0, w, 1.0), np.inf)
        idx = np.argpartition(keys, n - 1)[:n]
        return idx[np.argsort(keys[idx], kind="stable")]

    w = np.random.default_rng(2).random(50_000).astype("f4")
    w[w < 0.4] = 0
    for n in (1, 40, 3000, 50_000):
        got = C.weighted_sample(np.random.default_rng(9), w, n, chunk=4099)
        np.testing.assert_array_equal(got, one_call(np.random.default_rng(9), w, n))


def test_lattice_by_rows_and_carving_into_the_store_equal_one_pass():
    g = Grid("EPSG:4549", 30.0, 500_000.0, 4_503_000.0, 90, 100, 32)
    lat = C.smooth_noise(np.random.default_rng(3), g.bounds, 600.0)
    z = lat.on_grid(g, rows=7)
    assert np.array_equal(z, lat.on_axes(g.x, g.y).astype("f4"))
    z = 500 + 50 * z
    xs = np.linspace(g.xmin, g.xmin + 2700, 30)
    pieces = [T.RiverPiece(np.column_stack([xs, 4_501_500 + 300 * np.sin(xs / 500)]), np.linspace(480, 470, 30),
                           np.linspace(5, 40, 30), 4, 0, klass="main"),
              T.RiverPiece(np.array([[501_200.0, 4_502_900.0], [501_300.0, 4_501_600.0]]), np.array([490.0, 481.0]),
                           np.array([1.0, 2.0]), 1, 1)]
    segs = T.segments(pieces, 1.0)
    want = T.carve(z, g, segs)
    store = C.Store()
    try:
        dem = T.carve_into(z.copy(), g, segs, store, rows=11)
        assert np.array_equal(dem, want.dem)
        assert np.array_equal(store["river_dist"], want.river_dist)
        assert np.array_equal(store["hand"], want.dem - want.bed_near)
        water = (want.channel_hw > 0) & ((want.river_dist <= want.channel_hw)
                                         | ((want.river_dist == 0) & want.main_near))
        assert water.any() and np.array_equal(store["water"], water)
        assert np.array_equal(store.rows("hand", 5, 9), store["hand"][5:9])
    finally:
        store.close()
    assert not store.dir.exists()
