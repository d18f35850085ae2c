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
