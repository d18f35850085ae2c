"""Long Dask steps report their progress in the rule's log and on stderr."""



def test_long_dask_computations_log_their_progress(caplog):
    import logging

    import dask
    import dask.array as da

    from risk.runtime import TaskProgress

    x = da.ones((40, 40), chunks=4)  # 100 tiles
    with caplog.at_level(logging.INFO, logger="risk.progress"), dask.config.set(scheduler="threads"):
        with TaskProgress("terrain", step=25, after=0.0):
            assert float((x + 1).sum().compute()) == 3200.0
        with TaskProgress("quiet", step=25, after=3600.0):
            (x + 1).sum().compute()
    lines = [r.getMessage() for r in caplog.records]
    assert [m.split(" %")[0] for m in lines] == ["terrain: 25", "terrain: 50", "terrain: 75", "terrain: 100"]


def test_a_long_raster_write_logs_its_batches_and_cog_copies(caplog, monkeypatch, tmp_path):
    """At 10⁹ cells writing a stage's rasters takes many minutes after its Dask steps: it reports too."""
    import logging

    import dask.array as da
    import numpy as np
    import rasterio

    import risk.runtime
    from risk.grid import Grid
    from risk.io import write_raster
    from risk.io.batchwrite import batches, write_rasters

    grid = Grid.from_bounds((500_000, 4_500_000, 502_400, 4_501_800), "EPSG:4549", 30, chunk=16)
    a = grid.like(da.from_array(np.arange(grid.size, dtype="f4").reshape(grid.shape), chunks=16))
    paths = {tmp_path / f"{n}.tif": a + k for k, n in enumerate("abcd")}
    with caplog.at_level(logging.INFO, logger="risk.progress"):
        write_rasters(paths, grid, batch_pixels=16 * grid.width)  # quiet: shorter than risk.runtime.PROGRESS_AFTER
        assert caplog.records == []
        monkeypatch.setattr(risk.runtime, "PROGRESS_AFTER", 0.0)
        write_rasters(paths, grid, batch_pixels=16 * grid.width, cog=True)
    n = len(list(batches(grid, grid.chunks, 16 * grid.width)))  # one row of blocks each
    lines = [r.getMessage().split(" (")[0] for r in caplog.records]
    writing = [m for m in lines if m.startswith("writing a.tif, b.tif, c.tif and 1 more: ")]
    assert len(writing) >= min(n, 10) and writing[-1].endswith(f": 100 % of {n} batches done")
    assert lines[len(writing):] == [f"COG copies of a.tif, b.tif, c.tif and 1 more: {p} % of 4 files done"
                                    for p in (25, 50, 75, 100)]
    with rasterio.open(tmp_path / "d.tif") as src:  # and the rasters are what they were
        assert np.array_equal(src.read(1), a.values + 3)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="risk.progress"):
        write_raster(a, tmp_path / "one.tif", grid, cog=True, batch_pixels=16 * grid.width)  # one raster: the same
    lines = [r.getMessage().split(" (")[0] for r in caplog.records]
    assert lines[-2:] == [f"writing one.tif: 100 % of {n} batches done", "COG copy of one.tif: 100 % of 1 files done"]
