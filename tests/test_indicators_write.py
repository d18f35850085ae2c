"""Writing several rasters in one pass: same values as computed, masked, atomic, with metadata."""

import dask.array as da
import numpy as np
import pytest
import rasterio

from risk.grid import Grid
from risk.io.batchwrite import batches, write_rasters


@pytest.fixture
def grid():
    return Grid.from_bounds((500_000, 4_500_000, 502_400, 4_501_800), "EPSG:4549", 30, chunk=16)


def test_batches_cover_the_grid_once(grid):
    for bp in (1, 16 * 16 * 3, 10**9):
        cover = np.zeros(grid.shape, int)
        for r0, r1, c0, c1 in batches(grid, grid.chunks, bp):
            cover[r0:r1, c0:c1] += 1
        assert (cover == 1).all()


def test_write_rasters_matches_the_arrays(grid, tmp_path):
    rng = np.random.default_rng(0)
    a = rng.random(grid.shape).astype("f4")
    mask = np.ones(grid.shape, "uint8")
    mask[:5] = 0
    lazy = grid.like(da.from_array(a, chunks=16))
    shared = lazy * 2
    paths = [tmp_path / "a.tif", tmp_path / "sub" / "b.tif", tmp_path / "c.tif"]
    write_rasters({paths[0]: lazy, paths[1]: shared, paths[2]: shared}, grid, mask=grid.like(mask),
                  tags={str(paths[0]): {"UNITS": "m"}}, descriptions={str(paths[1]): "twice"}, batch_pixels=700)
    for p, expected in zip(paths, (a, 2 * a, 2 * a), strict=True):
        with rasterio.open(p) as src:
            got = src.read(1)
            assert src.crs.to_epsg() == 4549 and src.transform == grid.transform
            assert src.compression.name == "deflate" and src.dtypes[0] == "float32"
        assert np.isnan(got[:5]).all()
        np.testing.assert_array_equal(got[5:], expected[5:])
    with rasterio.open(paths[0]) as src:
        assert src.tags()["UNITS"] == "m"
    with rasterio.open(paths[1]) as src:
        assert src.descriptions[0] == "twice"
    assert sorted(q.name for q in tmp_path.rglob("*") if q.is_file()) == ["a.tif", "b.tif", "c.tif"]


def test_a_failing_computation_leaves_no_file(grid, tmp_path):
    def boom(block):
        raise RuntimeError("boom")

    bad = grid.like(da.zeros(grid.shape, chunks=16, dtype="f4").map_blocks(boom, dtype="f4"))
    with pytest.raises(RuntimeError, match="boom"):
        write_rasters({tmp_path / "x.tif": bad}, grid)
    assert list(tmp_path.iterdir()) == []


def test_copies_and_recorded_sample_quantiles(grid, tmp_path):
    from risk import io
    from risk.hazard.normalize import quantile_bounds
    from risk.io.batchwrite import sample_bounds

    rng = np.random.default_rng(1)
    a = grid.like(da.from_array(rng.normal(5, 2, grid.shape).astype("f4"), chunks=16))
    p1, p2 = tmp_path / "h1" / "x.tif", tmp_path / "h2" / "x.tif"
    write_rasters({p1: a, p2: a}, grid, tags={str(p1): {"HAZARD": "h1"}, str(p2): {"HAZARD": "h2"}},
                  sample_size=500, quantiles=(0.05, 0.95), batch_pixels=300)
    assert p1.read_bytes() != p2.read_bytes()  # same pixels, own tags
    with rasterio.open(p1) as s1, rasterio.open(p2) as s2:
        np.testing.assert_array_equal(s1.read(1), s2.read(1))
        assert s1.tags()["HAZARD"] == "h1" and s2.tags()["HAZARD"] == "h2"
    recorded = sample_bounds(p2, 500, (0.05, 0.95))
    expected = quantile_bounds(io.read_raster_on_grid(p1, grid, "nearest"), (0.05, 0.95), 500)
    assert recorded == pytest.approx(expected, rel=1e-12)
    assert sample_bounds(p1, 400, (0.05, 0.95)) is None and sample_bounds(p1, 500, (0.02, 0.98)) is None


def test_write_rasters_by_name_with_paths_gives_the_same_files(grid, tmp_path):
    a = grid.like(np.arange(grid.size, dtype="f4").reshape(grid.shape))
    by_path = {tmp_path / "p" / "x.tif": a}
    write_rasters(by_path, grid, tags={str(tmp_path / "p" / "x.tif"): {"UNITS": "m"}},
                  descriptions={str(tmp_path / "p" / "x.tif"): "x"})
    write_rasters({"x": a}, grid, tags={"x": {"UNITS": "m"}}, descriptions={"x": "x"},
                  paths={"x": tmp_path / "n" / "x.tif"})
    assert (tmp_path / "p" / "x.tif").read_bytes() == (tmp_path / "n" / "x.tif").read_bytes()


def test_write_rasters_uncompressed_has_the_same_tiles_and_values(grid, tmp_path):
    a = np.random.default_rng(1).random(grid.shape).astype("f4")
    lazy = grid.like(da.from_array(a, chunks=16))
    write_rasters({tmp_path / "d.tif": lazy}, grid)
    write_rasters({tmp_path / "n.tif": lazy}, grid, compress="NONE")
    with rasterio.open(tmp_path / "d.tif") as d, rasterio.open(tmp_path / "n.tif") as n:
        assert d.compression.name == "deflate" and n.compression is None
        assert d.block_shapes == n.block_shapes and n.profile["tiled"]
        np.testing.assert_array_equal(n.read(1), a)
        np.testing.assert_array_equal(d.read(1), n.read(1))


def test_window_computer_optimizes_once_and_computes_each_window_alone(grid, monkeypatch):
    """Windows of a raster computed one by one give the raster, with its graph optimized once (not per window:
    that cost grew with the square of the area) and each window running only its own blocks' tasks."""
    import dask
    from dask.callbacks import Callback
    from dask.highlevelgraph import HighLevelGraph

    from risk.io.batchwrite import window_computer

    rng = np.random.default_rng(1)
    a = rng.random(grid.shape).astype("f4")
    lazy = da.from_array(a, chunks=16)
    smooth = lazy.map_overlap(lambda x: x + np.roll(x, 1, axis=0), depth=1, boundary="reflect") * 2
    calls = []  # Dask's optimization of a whole graph culls it first
    real = HighLevelGraph.cull
    monkeypatch.setattr(HighLevelGraph, "cull", lambda *args, **kw: calls.append(1) or real(*args, **kw))
    with dask.config.set(scheduler="threads"):
        compute = window_computer([smooth, a])
        optimized = len(calls)
        done = []

        class Count(Callback):
            def _posttask(self, key, result, dsk, state, worker_id):
                done.append(key)

        windows = list(batches(grid, smooth.chunks, 16 * 16 * 2))
        got = np.full(grid.shape, np.nan, "f4")
        for r0, r1, c0, c1 in windows:
            with Count():
                w, plain = compute(r0, r1, c0, c1)
            got[r0:r1, c0:c1] = w
            np.testing.assert_array_equal(plain, a[r0:r1, c0:c1])  # numpy arrays pass through, sliced
    assert 0 < optimized == len(calls) and len(windows) > 4  # optimized up front, no window culls the whole graph
    n_windows, done = len(done), []
    with Count():
        whole = smooth.compute(scheduler="sync")
    np.testing.assert_array_equal(got, whole)  # numpy and Dask agree
    assert n_windows < 2 * len(done)  # about the graph once (a halo shared by two windows runs in each), not per window


def test_rasters_of_one_block_function_run_it_once_per_block(grid, tmp_path):
    """Several rasters cut from one map_blocks (class stability's six) share its blocks, window after window."""
    calls = []

    def stack(x):
        calls.append(x.shape)
        return np.stack([x, x * 2, x * 3])

    x = da.from_array(np.arange(grid.size, dtype="f4").reshape(grid.shape), chunks=16)
    out = da.map_blocks(stack, x, new_axis=0, chunks=((3,), *x.chunks), dtype="f4")
    paths = {tmp_path / f"{k}.tif": grid.like(out[k]) for k in range(3)}
    calls.clear()  # map_blocks may call it on an empty block for its metadata
    write_rasters(paths, grid, batch_pixels=16 * 16 * 2)
    assert len(calls) == len(x.chunks[0]) * len(x.chunks[1])
    with rasterio.open(tmp_path / "2.tif") as src:
        np.testing.assert_array_equal(src.read(1), x.compute() * 3)
