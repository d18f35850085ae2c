"""Run-time glue for the workflow scripts: logging, the Dask scheduler and GDAL's threads and cache.

Nothing here computes; it only sets up the process a rule runs in. Functions take plain values
(paths, dicts) rather than the ``snakemake`` object, so they also serve notebooks and the CLI.

Where the settings come from: a rule's ``threads`` and ``resources`` (``mem_mb``, and the string resource
``dask_scheduler`` and ``gdal_cachemax_mb`` that the profiles set in ``default-resources`` or per rule in
``set-resources``) become its ``params.dask`` through :func:`rule_dask_settings` (called by ``dask_params`` in
``workflow/rules/common.smk``); the script passes them to :func:`rule_session`. None of it is in the
scientific config, and none of it changes a result.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Mapping


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
        from risk.errors import InputError

        if not issubclass(exc_type, InputError):  # a bug: its traceback, everywhere
            logging.getLogger("risk").error("uncaught exception", exc_info=(exc_type, exc, tb))
            for note in low_disk_notes([os.path.dirname(os.path.abspath(log_path)) if log_path else os.getcwd()]):
                logging.getLogger("risk").error(note)
            return
        # bad input: the message (it names the file, row, field or key) and where the log is; the traceback
        # goes to the log file only
        record = logging.getLogger("risk").makeRecord("risk", logging.ERROR, __file__, 0, "bad input: %s", (exc,),
                                                      (exc_type, exc, tb))
        for h in handlers[1:]:
            h.handle(record)
        print(f"error: {exc}" + (f"\n  (log: {log_path})" if log_path else ""), file=sys.stderr)

    sys.excepthook = excepthook
    logger = logging.getLogger("risk")
    logger.info("%s %.2f s", STARTUP_MARK, process_age())
    if log_path and not getattr(configure_logging, "_usage_registered", False):
        import atexit

        atexit.register(_log_usage, os.path.abspath(log_path))
        configure_logging._usage_registered = True
    return logger


def low_disk_notes(folders, min_share: float = 0.05, min_bytes: int = 2 * 2**30) -> list[str]:
    """One line for each filesystem (of ``folders`` and the temporary folder) with less than ``min_share`` of its
    size and less than ``min_bytes`` free, or none.

    Logged after an unexpected error: GDAL reports a full disk as, for example, ``TIFFRewriteDirectory: Error
    fetching directory count`` (a 10⁹-cell run's indicators here), which names neither the disk nor the cause.
    """
    import shutil
    import tempfile

    notes, seen = [], set()
    for folder in [*folders, tempfile.gettempdir()]:
        try:
            dev, usage = os.stat(folder).st_dev, shutil.disk_usage(folder)
        except OSError:
            continue
        if dev in seen:
            continue
        seen.add(dev)
        if usage.free < min_share * usage.total and usage.free < min_bytes:
            notes.append(f"the disk of {folder} is nearly full ({usage.free / 2**30:.1f} GiB free of "
                         f"{usage.total / 2**30:.0f} GiB): if the error above came from writing a file, free some "
                         "space (or point the results or TMPDIR elsewhere) and rerun")
    return notes


USAGE_MARK = "process usage (exact, at exit):"
"""The last line of every rule's log: CPU-seconds and peak RSS of the whole job process (and its children),
from ``getrusage``. Snakemake's benchmark files sample both every 30 s after a job's first 15 s, so they
miss CPU and memory peaks between samples; ``bench/bench_dag.py`` reads this line instead when present."""


def _log_usage(log_path: str) -> None:
    import resource

    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
    rss_mb = max(me.ru_maxrss, kids.ru_maxrss) / 1024  # KiB on Linux
    try:
        with open(log_path, "a", encoding="utf-8") as f:
            f.write(f"{USAGE_MARK} cpu {cpu:.2f} s, peak RSS {rss_mb:.0f} MB, wall {process_age():.2f} s\n")
    except OSError:
        pass


STARTUP_MARK = "start-up (process start to the rule's first line):"
"""The first line every rule logs; ``bench/bench_dag.py`` reads each rule's start-up time from it."""


def process_age() -> float:
    """Seconds since this process started.

    On Linux from ``/proc`` (start time and uptime, both since boot, 10 ms resolution); elsewhere from psutil,
    whose start time is anchored on the boot time in whole seconds (up to 1 s off). A warm-start worker
    (:mod:`risk.warm`) counts from the start of the job process it runs for, which it finds in
    ``RISK_PROCESS_START``.
    """
    from risk.warm import START_ENV

    job_start = os.environ.get(START_ENV)
    if job_start:
        return max(time.time() - float(job_start), 0.0)
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime", encoding="ascii") as f:
            uptime = float(f.read().split()[0])
        return max(uptime - start_ticks / os.sysconf("SC_CLK_TCK"), 0.0)
    except (OSError, ValueError, IndexError):
        import psutil  # Snakemake's own dependency

        return max(time.time() - psutil.Process().create_time(), 0.0)


DEFAULT_RESOURCES = {"dask_scheduler": "threads", "gdal_cachemax_mb": 256}
"""What :func:`rule_dask_settings` uses when a rule's resources leave these out (no profile given)."""


def rule_dask_settings(threads: int, resources: Mapping | None = None) -> dict:
    """The keyword arguments of :func:`dask_session` for a rule with ``threads`` threads and ``resources``.

    Parameters
    ----------
    threads : int
        The rule's threads (Snakemake's ``threads``, already capped at ``--cores``): the Dask workers
        (one thread each) and GDAL's threads.
    resources : mapping, optional
        The rule's resources (Snakemake's ``resources`` or a dict): ``mem_mb`` (shared by the workers
        as their ``memory_limit``), ``dask_scheduler`` (``threads``, ``synchronous``, ``local`` or
        ``tcp://host:port``) and ``gdal_cachemax_mb``; missing ones take :data:`DEFAULT_RESOURCES`.

    Returns
    -------
    dict
        ``scheduler``, ``n_workers``, ``threads_per_worker``, ``memory_limit``, ``gdal_cachemax_mb``,
        ``gdal_num_threads``.
    """
    resources = resources or {}
    threads = max(int(threads), 1)
    scheduler = resources.get("dask_scheduler", DEFAULT_RESOURCES["dask_scheduler"])
    if not isinstance(scheduler, str):
        # a profile's `dask_scheduler: threads` is evaluated as Python: the rule's thread count
        raise ValueError(f"resources.dask_scheduler: {scheduler!r} is not a scheduler name or address; in a "
                         "profile quote it twice, e.g. dask_scheduler: \"'threads'\"")
    mem_mb = resources.get("mem_mb")
    settings = {"scheduler": scheduler, "n_workers": threads, "threads_per_worker": 1,
                "gdal_cachemax_mb": int(resources.get("gdal_cachemax_mb", DEFAULT_RESOURCES["gdal_cachemax_mb"])),
                "gdal_num_threads": threads}
    if isinstance(mem_mb, int | float):
        settings["memory_limit"] = f"{max(int(mem_mb) // threads, 256)}MB"
    return settings


def _gdal_env(gdal_cachemax_mb, gdal_num_threads) -> dict[str, str]:
    env = {"GDAL_CACHEMAX": str(int(gdal_cachemax_mb))}
    if gdal_num_threads is not None:
        env["GDAL_NUM_THREADS"] = str(int(gdal_num_threads))
    return env


@contextlib.contextmanager
def dask_session(scheduler: str = "threads", n_workers: int = 2, threads_per_worker: int = 1,
                 memory_limit: str = "4GB", gdal_cachemax_mb: int = 256, gdal_num_threads: int | None = None,
                 **_ignored):
    """Context in which Dask computations run on the configured scheduler.

    Parameters
    ----------
    scheduler : str
        ``"threads"`` (the in-process threaded scheduler; fastest to start, the default),
        ``"synchronous"`` (for debugging), ``"local"`` (a ``dask.distributed`` LocalCluster of
        ``n_workers`` processes) or the address of a running ``dask.distributed`` scheduler
        (``"tcp://host:8786"``).
    memory_limit : str
        Memory limit of each LocalCluster worker.
    gdal_cachemax_mb : int
        GDAL's block cache per process. GDAL's default (5 % of RAM) dominates a Dask run's memory.
    gdal_num_threads : int, optional
        ``GDAL_NUM_THREADS`` of the process (and of LocalCluster workers): the rule's threads.
    """
    import dask

    os.environ.update(_gdal_env(gdal_cachemax_mb, gdal_num_threads))
    if scheduler in ("threads", "synchronous"):
        with dask.config.set(scheduler=scheduler, num_workers=n_workers * threads_per_worker):
            yield None
        return
    from distributed import Client, LocalCluster

    if scheduler == "local":
        with LocalCluster(n_workers=n_workers, threads_per_worker=threads_per_worker,
                          memory_limit=memory_limit, processes=True, dashboard_address=None,
                          env=_gdal_env(gdal_cachemax_mb, gdal_num_threads)) as cluster, Client(cluster) as client:
            yield client
        return
    if "://" not in scheduler:
        raise ValueError(f"resources.dask_scheduler: {scheduler!r} is not threads, synchronous, local or a "
                         "scheduler address such as tcp://host:8786 (set it in the profile)")
    with Client(scheduler) as client:
        n = len(client.scheduler_info().get("workers", {}))
        logging.getLogger("risk").info("Dask: scheduler %s with %d worker(s)", scheduler, n)
        yield client


PROGRESS_AFTER = 5.0
"""Seconds a step runs before its progress is logged: only the long steps report."""


class Milestones:
    """Log a line every ``step`` % of ``total`` units of work, once the work has run ``after`` seconds.

    One implementation of a long step's progress lines (``terrain: 40 % of 1923 tasks done (61 s)``): Dask's
    tasks (:class:`TaskProgress`), the batches and COG copies of :func:`risk.io.batchwrite.write_rasters`.

    Parameters
    ----------
    label : str
        What the line names (the rule, or the files written).
    total : int
        Units of work in all (may be updated by :meth:`done`).
    unit : str
        What a unit is called in the line (``tasks``, ``batches``, ...).
    step : int
        Percent between two lines.
    after : float, optional
        Quiet before this many seconds (default :data:`PROGRESS_AFTER`).
    logger : logging.Logger, optional
        Default ``risk.progress`` (the rule's log and stderr).
    """

    def __init__(self, label: str, total: int, unit: str = "tasks", step: int = 10, after: float | None = None,
                 logger: logging.Logger | None = None):
        self.label, self.total, self.unit, self.step = label, total, unit, step
        self.after = PROGRESS_AFTER if after is None else after
        self.logger = logger or logging.getLogger("risk.progress")
        self.t0, self.next = time.monotonic(), step

    def done(self, n: int, total: int | None = None) -> None:
        """``n`` units of ``total`` (default: the one given before) are done: log if a milestone is passed."""
        self.total = self.total if total is None else total
        pct = 100 * n // max(self.total, 1)
        if pct >= self.next:
            elapsed = time.monotonic() - self.t0
            if elapsed >= self.after:
                self.logger.info("%s: %d %% of %d %s done (%.0f s)", self.label, pct, self.total, self.unit, elapsed)
            self.next = (pct // self.step + 1) * self.step


class TaskProgress:
    """Log a long Dask computation's progress: a line every ``step`` % of its tasks (its tiles' work).

    Used as a context manager around computations on the threaded or synchronous scheduler (Dask's local
    callbacks; a ``dask.distributed`` cluster has its own dashboard). Quiet for computations that finish
    within ``after`` seconds, so only the long steps (terrain, indicators, class stability ...) report.
    """

    def __init__(self, label: str, step: int = 10, after: float | None = None, logger: logging.Logger | None = None):
        from dask.callbacks import Callback

        class _Callback(Callback):
            def _start_state(self, dsk, state):
                self.milestones = Milestones(label, 0, "tasks", step, after, logger)

            def _posttask(self, key, result, dsk, state, worker_id):
                done = len(state["finished"])
                self.milestones.done(done, done + sum(len(state[k]) for k in ("ready", "waiting", "running")))

        self._callback = _Callback()

    def __enter__(self):
        self._callback.__enter__()
        return self

    def __exit__(self, *exc):
        return self._callback.__exit__(*exc)


@contextlib.contextmanager
def rule_session(log_path: str | None = None, dask_settings: dict | None = None):
    """What every rule's script opens first: logging to the rule's log, then its Dask session.

    Parameters
    ----------
    log_path : str, optional
        The rule's log file (``snakemake.log[0]``).
    dask_settings : dict, optional
        Keyword arguments of :func:`dask_session` (the rule's ``params.dask``).
    """
    configure_logging(log_path)
    label = os.path.splitext(os.path.basename(log_path))[0] if log_path else "dask"
    with dask_session(**(dask_settings or {})) as client, TaskProgress(label):
        yield client


def snakemake_running_in(workdir) -> list[int]:
    """Process ids of Snakemake runs whose working directory is ``workdir`` (other than this process)."""
    import psutil

    workdir = os.path.realpath(workdir)
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            cmd = " ".join(proc.info["cmdline"] or [])
            if proc.pid == os.getpid() or "snakemake" not in cmd or "risk.runtime" in cmd:
                continue
            if os.path.realpath(proc.cwd()) == workdir:
                found.append(proc.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def clear_stale_lock(workdir=".") -> bool:
    """Remove Snakemake's directory lock when no Snakemake run holds it any more (a killed run leaves it).

    A run killed with SIGKILL cannot release ``.snakemake/locks``; the next run then stops with a
    ``LockException`` until someone runs ``snakemake --unlock``. This does that step safely: only when no
    Snakemake process works in ``workdir``. Snakemake's own ``--rerun-incomplete`` (in the profiles) then
    redoes the jobs the killed run left unfinished, and atomic writes mean no half-written output survives.

    Returns
    -------
    bool
        True when a stale lock was removed.
    """
    locks = os.path.join(workdir, ".snakemake", "locks")
    if not os.path.isdir(locks) or not os.listdir(locks):
        return False
    if snakemake_running_in(workdir):
        return False
    for name in os.listdir(locks):
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(locks, name))
    logging.getLogger("risk").warning("removed the lock a killed Snakemake run left in %s", locks)
    return True
