"""Run-time glue for the workflow scripts: logging and the Dask scheduler.

Nothing here computes; it only sets up the process a rule runs in. Functions take plain values
(paths, dicts) rather than the ``snakemake`` object, so they also serve notebooks and the CLI.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys


def configure_logging(log_path: str | None = None, level: int = logging.INFO) -> logging.Logger:
    """Log to stderr and, when given, to the rule's log file; log uncaught exceptions too."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path:
        os.makedirs(os.path.dirname(os.path.abspath(log_path)), exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w", encoding="utf-8"))
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        handlers=handlers, force=True)
    for noisy in ("distributed", "rasterio", "fiona", "pyogrio", "numba", "matplotlib", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    def excepthook(exc_type, exc, tb):
        logging.getLogger("risk").error("uncaught exception", exc_info=(exc_type, exc, tb))

    sys.excepthook = excepthook
    return logging.getLogger("risk")


@contextlib.contextmanager
def dask_session(scheduler: str = "threads", n_workers: int = 2, threads_per_worker: int = 1,
                 memory_limit: str = "4GB", gdal_cachemax_mb: int = 256, **_ignored):
    """Context in which Dask computations run on the configured scheduler.

    Parameters
    ----------
    scheduler : str
        ``"threads"`` (the in-process threaded scheduler; fastest to start, the default),
        ``"synchronous"`` (for debugging), ``"local"`` (a ``dask.distributed`` LocalCluster of
        ``n_workers`` processes) or the address of a running ``dask.distributed`` scheduler
        (``"tcp://host:8786"``).
    gdal_cachemax_mb : int
        GDAL's block cache per process. GDAL's default (5 % of RAM) dominates a Dask run's memory.
    """
    import dask

    os.environ["GDAL_CACHEMAX"] = str(int(gdal_cachemax_mb))
    if scheduler in ("threads", "synchronous"):
        with dask.config.set(scheduler=scheduler, num_workers=n_workers * threads_per_worker):
            yield None
        return
    from distributed import Client, LocalCluster

    if scheduler == "local":
        with LocalCluster(n_workers=n_workers, threads_per_worker=threads_per_worker,
                          memory_limit=memory_limit, processes=True, dashboard_address=None,
                          env={"GDAL_CACHEMAX": str(int(gdal_cachemax_mb))}) as cluster, Client(cluster) as client:
            yield client
        return
    if "://" not in scheduler:
        raise ValueError(f"dask.scheduler: {scheduler!r} is not threads, synchronous, local or a "
                         "scheduler address such as tcp://host:8786")
    with Client(scheduler) as client:
        yield client
