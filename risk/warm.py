"""Warm start: each rule's script runs in a fork of one Python that has already imported the stack.

Snakemake runs every ``script:`` job as a new Python process, and most of a small job is that process importing
numpy, pandas, geopandas, rasterio, xarray, Dask, scikit-learn and matplotlib: 2-3.7 s of CPU in each of the ~40
jobs of a run (``bench/bench_dag.py``'s start-up column). Here a server, started by the Snakefile's ``onstart`` for
local runs, imports all of it once; each job, on ``import risk`` (the first line of every script), hands its
script to the server and waits: the server forks a worker that already holds the imports, gives it the job's
working directory, environment, arguments and standard streams (passed over the socket), and runs the very same
script file Snakemake wrote, preamble and all. The job then exits with the worker's exit status.

Why not a library: :mod:`multiprocessing`'s forkserver preloads modules only for the children of the process that
owns it, and each Snakemake job is a separate process that Snakemake starts; the pieces here are the standard
library's (``socket.send_fds``, ``os.fork``, ``runpy``).

Behaviour a user can rely on:

* nothing changes a result: the worker runs the job's own script with the job's environment, threads and
  working directory; only the interpreter's start-up is skipped;
* no server (cluster executors, ``--use-conda``, ``RISK_WARM=0``, a server that is gone, or one still importing:
  the run's first job starts beside it) means the job runs in its own process as before;
* a job killed by Snakemake (or a run killed as a whole) takes its worker with it: each worker has a supervisor
  that kills it when the job's connection closes, and the server stops when Snakemake's process is gone;
* the server stops at the end of the run (``onsuccess``/``onerror``) after its workers, so Snakemake's own
  resource usage of its children counts every job's CPU.

Layout of the processes: Snakemake → job (a small client) ··· socket ··· server → supervisor → worker.

A notebook job (itself a worker) starts its kernel the same way, from a server of its own: :func:`fork_server`,
see :mod:`risk.kernel`.
"""

from __future__ import annotations

import os
import sys
import time

# json, select, signal, socket and struct are imported where used: `import risk` runs this module in every
# process (handoff), and almost all of them (a notebook, a test, the CLI) return at its first check

SOCKET_ENV = "RISK_WARM_SOCKET"
"""Environment variable with the server's socket path; set by :meth:`WarmServer.start` for the jobs."""
WORKER_ENV = "RISK_WARM_WORKER"
"""Set in a worker's environment, so the script's own ``import risk`` does not hand off again."""
START_ENV = "RISK_PROCESS_START"
"""The job process's start (seconds since the epoch): :func:`risk.runtime.process_age` counts from it."""
SWITCH_ENV = "RISK_WARM"
"""``RISK_WARM=0`` turns the warm start off for a run."""

PRELOAD = (
    "numpy", "pandas", "scipy.ndimage", "scipy.stats", "shapely", "pyproj", "pyogrio", "geopandas", "rasterio",
    "rasterio.features", "rasterio.warp", "xarray", "rioxarray", "dask.array", "numba", "sklearn.ensemble",
    "sklearn.linear_model", "sklearn.metrics", "sklearn.model_selection", "matplotlib.pyplot", "mapclassify",
    "openpyxl", "exactextract", "yaml", "jsonschema", "snakemake.script",
    "nbclient", "nbconvert", "ipykernel.kernelapp", "matplotlib_inline.backend_inline",  # the notebooks, their kernels
    "risk.io", "risk.io.figures", "risk.io.styles", "risk.runtime", "risk.hazard", "risk.assessment",
    "risk.models", "risk.capacity", "risk.survey", "risk.followup", "risk.grid", "risk.checks", "risk.validate",
)
"""What the server imports once: the stack the rules import (a module that fails to import is skipped)."""

_HEADER = "!Q"
"""The request's length, sent with the job's standard streams before the request itself."""


def handoff() -> None:
    """Run the calling Snakemake script in the warm server, if there is one, and exit with its status.

    Called by ``import risk``. Does nothing (the script goes on in this process) unless this process is a
    Snakemake ``script:`` job (its ``__main__`` holds ``snakemake``), a server's socket is in the environment,
    this is not already a worker, and the server answers.
    """
    path = os.environ.get(SOCKET_ENV)
    main = sys.modules.get("__main__")
    if not path or os.environ.get(WORKER_ENV) or main is None:
        return
    # Snakemake writes the script with its preamble to a file of its own, and the preamble sets __file__ to the
    # original script: the file to run is the one it keeps in __real_file__
    script = vars(main).get("__real_file__")
    if not script or "snakemake" not in vars(main):
        return
    hand_over(path, script)


def hand_over(path: str, script: str, watch_parent: bool = False) -> None:
    """Run ``script`` as this process in a fork of the server listening on ``path``, and exit with its status.

    Returns (and the caller runs the work itself) only when no server answers on ``path``. With ``watch_parent``
    this process also ends when its parent does (it is then an orphan: a kernel launcher whose notebook job was
    killed), and the server kills the fork (see :func:`_supervise`).
    """
    import json
    import socket
    import struct

    sock = _connected(path)
    if sock is None:
        sock = _queue_behind_imports(path)
        if sock is None:
            return  # the server is gone, or this job runs cold beside its imports: run here
    from risk.runtime import process_age

    request = json.dumps({"script": os.path.abspath(script), "cwd": os.getcwd(), "env": dict(os.environ),
                          "argv": sys.argv, "path": sys.path, "start": time.time() - process_age()}).encode()
    sys.stdout.flush()
    sys.stderr.flush()
    socket.send_fds(sock, [struct.pack(_HEADER, len(request))], [0, 1, 2])
    sock.sendall(request)
    reply = _read_all(sock, os.getppid() if watch_parent else None)
    status = json.loads(reply)["status"] if reply else 1
    if not reply:
        print("error: the warm-start worker ended without a status (risk.warm); rerun with RISK_WARM=0",
              file=sys.stderr)
    os._exit(status)


def _connected(path: str):
    """A Unix socket connected to ``path``, or None (a fresh socket each try: POSIX leaves a socket whose
    connect failed unspecified)."""
    import socket

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        return None
    return sock


def _queue_behind_imports(path: str):
    """While the server still imports (its socket named ``<path>.loading``), a connection to wait for it on.

    The first such job runs cold beside the imports (the run's first job, on the critical path: the token
    ``<path>.cold`` is its); any other connects to the loading socket, whose queue the server takes once its
    imports are done, and so pays no start-up of its own beside them (the two jobs that started cold
    after the first one cost 4-5 CPU-s each, on cores the server's imports needed).
    """
    if not os.path.exists(path + ".loading"):
        return None
    try:
        os.close(os.open(path + ".cold", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        return None
    except FileExistsError:
        pass
    return _connected(path + ".loading") or _connected(path)  # or renamed in between: the server is ready


def _read_all(sock, parent: int | None = None) -> bytes:
    """Everything until the server closes; empty if process ``parent`` (when given) is no longer the parent."""
    import select

    chunks = []
    while True:
        if parent is not None and not select.select([sock], [], [], 0.5)[0]:
            if os.getppid() != parent:
                return b""
            continue
        chunk = sock.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _read_exact(sock, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("the job closed its connection before sending its request")
        buf += chunk
    return bytes(buf)


def serve(path: str, parent: int, preload: tuple[str, ...] = PRELOAD, kernels: bool = True) -> None:
    """Listen on ``path``, import ``preload``, then fork a supervised worker per job until told to stop.

    With ``kernels``, a child compiles the package's numba kernels meanwhile (:func:`_rehearse_kernels`).
    Stops on SIGTERM or SIGINT, or when process ``parent`` (Snakemake) is gone, after the running workers.
    """
    import gc
    import importlib
    import signal
    import socket

    stop: list[int] = []  # a stop asked for during the imports ends the server right after them, cleaned up
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    # The socket gets its name only once the imports are done: the first job that starts before (the run's first
    # job, on the critical path) runs cold beside the imports; the others queue on the loading socket
    # (_queue_behind_imports).
    loading = path + ".loading"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(loading)
    listener.listen(128)
    os.environ.setdefault("MPLBACKEND", "Agg")
    t0, c0 = time.perf_counter(), time.process_time()
    for name in preload:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - a module this environment lacks: its jobs import it themselves
            print(f"risk.warm: not preloaded: {name} ({exc})", file=sys.stderr)
    print(f"risk.warm: {len(preload)} modules imported once for every job: wall {time.perf_counter() - t0:.1f} s, "
          f"CPU {time.process_time() - c0:.1f} s", file=sys.stderr, flush=True)
    gc.collect()
    gc.freeze()  # the preloaded objects stay out of the workers' collections: fewer copy-on-write pages
    rehearsal = _rehearse_kernels(listener) if kernels and not stop else None
    os.rename(loading, path)
    try:
        _serve_loop(listener, parent, (path, loading, path + ".cold"), stop)
    finally:
        if rehearsal:
            stop_server(rehearsal)  # a run shorter than the rehearsal: not needed any more


def _rehearse_kernels(listener) -> int | None:
    """Fork a child that compiles the package's numba kernels ahead of the jobs (:mod:`risk.jit`), at low
    priority; its pid, or None when there is nothing to do (done on these sources, numba's JIT off) or the fork
    fails (the jobs then compile what they need, as without it). The child closes the server's ``listener``."""
    import signal

    from risk import jit

    stops = {signal.SIGTERM, signal.SIGINT}
    try:
        if not jit.needed():
            return None
        sys.stdout.flush()
        sys.stderr.flush()
        # a stop that arrives during the fork must reach the child as a stop, not the server's handler's copy
        signal.pthread_sigmask(signal.SIG_BLOCK, stops)
        pid = os.fork()
    except Exception as exc:  # noqa: BLE001 - the server serves on without it
        signal.pthread_sigmask(signal.SIG_UNBLOCK, stops)
        print(f"risk.warm: kernels not compiled ahead ({exc!r})", file=sys.stderr, flush=True)
        return None
    if pid:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, stops)
        return pid
    code = 1
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, stops)
        listener.close()
        os.nice(10)  # it uses a core no job needs yet (the demo's rule runs alone); a job that does comes first
        t0 = time.perf_counter()
        jit.rehearse()
        print(f"risk.warm: numba kernels compiled ahead of the jobs (risk.jit): {time.perf_counter() - t0:.1f} s",
              file=sys.stderr, flush=True)
        code = 0
    except Exception as exc:  # noqa: BLE001 - the jobs compile what is missing themselves
        print(f"risk.warm: kernels not compiled ahead ({exc!r})", file=sys.stderr, flush=True)
    finally:
        os._exit(code)


def fork_server(path: str) -> int:
    """Fork a server of this process (with everything it has imported) listening on ``path``; returns its pid.

    What a notebook job uses for its kernel (:mod:`risk.kernel`): the job, itself a warm worker, already holds
    the stack, and the kernel forked from it stays the job's descendant (its CPU counts in the job's usage, and
    it stops with the job). The fork drops what the job set up for itself: its log handlers and its exit hook
    that logs the job's usage. Stop it with :func:`stop_server`.
    """
    import atexit
    import logging
    import socket

    from risk.runtime import _log_usage

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(8)
    parent = os.getpid()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        listener.close()
        return pid
    code = 1
    try:
        atexit.unregister(_log_usage)
        for handler in logging.root.handlers[:]:
            logging.root.removeHandler(handler)
        _serve_loop(listener, parent, (path,))
        code = 0
    finally:
        os._exit(code)


def stop_server(pid: int) -> None:
    """Stop a child of this process (a server of :func:`fork_server`, after its workers; the kernels' rehearsal)
    and wait for it."""
    import signal

    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)


def _serve_loop(listener, parent: int, names: tuple[str, ...], stop: list | None = None) -> None:
    """Fork a supervised worker per connection on ``listener`` until SIGTERM/SIGINT or ``parent`` is gone."""
    import select
    import signal

    stop = [] if stop is None else stop
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    wake, woken = os.pipe()  # a signal wakes the select at once (its handler runs after the select returns)
    os.set_blocking(woken, False)
    signal.set_wakeup_fd(woken)
    children: set[int] = set()
    try:
        while not stop and os.getppid() == parent:
            ready, _, _ = select.select([listener, wake], [], [], 0.5)
            if wake in ready:
                os.read(wake, 512)  # drained: another handled signal must not keep the select awake
            _reap(children, block=False)
            if listener not in ready:
                continue
            try:
                conn, _ = listener.accept()
            except InterruptedError:
                continue
            pid = os.fork()
            if pid == 0:
                signal.set_wakeup_fd(-1)
                for fd in (wake, woken):
                    os.close(fd)
                listener.close()
                _supervise(conn)  # never returns
            conn.close()
            children.add(pid)
    finally:
        signal.set_wakeup_fd(-1)
        for fd in (wake, woken):
            os.close(fd)
        listener.close()
        for name in names:
            try:
                os.unlink(name)
            except OSError:
                pass
        _reap(children, block=True)


def _reap(children: set[int], block: bool) -> None:
    for pid in list(children):
        done, _ = os.waitpid(pid, 0 if block else os.WNOHANG)
        if done:
            children.discard(pid)


def _supervise(conn) -> None:
    """In the server's fork: read a job's request, fork its worker, wait for it, report its status.

    If the job's connection closes first (the job was killed), the worker is killed.
    """
    import json
    import select
    import signal
    import socket
    import struct

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    code = 1
    try:
        size = struct.calcsize(_HEADER)
        head, fds, _, _ = socket.recv_fds(conn, size, 3)
        head += _read_exact(conn, size - len(head))  # recv may return fewer bytes than asked
        request = json.loads(_read_exact(conn, struct.unpack(_HEADER, head)[0]))
        pid = os.fork()
        if pid == 0:
            conn.close()
            _work(request, fds)  # never returns
        for fd in fds:
            os.close(fd)
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            readable, _, _ = select.select([conn], [], [], 0.05)
            if readable and not conn.recv(1, socket.MSG_PEEK):  # the job is gone: so is its worker
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                os._exit(1)
        code = os.waitstatus_to_exitcode(status)
        conn.sendall(json.dumps({"status": code if code >= 0 else 128 - code}).encode())
        code = 0
    except BaseException as exc:  # noqa: BLE001 - a supervisor must end in os._exit, never return to the server loop
        print(f"risk.warm: supervisor failed: {exc!r}", file=sys.stderr)
    finally:
        os._exit(code)


def _work(request: dict, fds: list[int]) -> None:
    """In the supervisor's fork: become the job (streams, directory, environment, arguments) and run its script."""
    import atexit
    import runpy
    import signal

    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C: KeyboardInterrupt, as in a cold job
    for target, fd in zip((0, 1, 2), fds, strict=False):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    os.environ[WORKER_ENV] = "1"
    os.environ[START_ENV] = repr(request["start"])
    sys.argv = list(request["argv"])
    sys.path[:] = request["path"]
    _limit_native_threads(os.environ)
    code = 0
    try:
        runpy.run_path(request["script"], run_name="__main__")
    except SystemExit as exc:  # as the interpreter ends on it: None is 0, an int itself, anything else printed, 1
        code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
        if code == 1 and not isinstance(exc.code, int):
            print(exc.code, file=sys.stderr)
    except BaseException:  # noqa: BLE001 - reported as an uncaught exception is, then exit 1
        sys.excepthook(*sys.exc_info())
        code = 1
    try:
        atexit._run_exitfuncs()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _limit_native_threads(env) -> None:
    """The job's thread count for BLAS/OpenMP pools, which read their environment when loaded (in the server)."""
    n = env.get("OMP_NUM_THREADS")
    if not n or not n.isdigit():
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(int(n))


class WarmServer:
    """The server of one Snakemake run: started in ``onstart``, stopped in ``onsuccess``/``onerror``.

    Parameters
    ----------
    enabled
        False (a cluster executor, a conda deployment, ``RISK_WARM=0``) makes :meth:`start` and :meth:`stop` no-ops.
    preload
        Modules the server imports before it serves (default :data:`PRELOAD`).
    kernels
        Compile the package's numba kernels ahead of the jobs, in a child of the server (:mod:`risk.jit`).
    """

    def __init__(self, enabled: bool = True, preload: tuple[str, ...] = PRELOAD, kernels: bool = True):
        import socket

        # fork and passing file descriptors over a Unix socket: Linux, macOS and the BSDs, not Windows
        supported = hasattr(os, "fork") and hasattr(socket, "send_fds")
        self.enabled = enabled and supported and os.environ.get(SWITCH_ENV, "1") != "0"
        self.preload = preload
        self.kernels = kernels
        self.proc = None
        self.path = None

    def start(self) -> str | None:
        """Start the server and point the jobs at it; returns the socket path (None when disabled)."""
        if not self.enabled or self.proc is not None:
            return None
        import subprocess

        from risk.tempfiles import new_temp_path

        self.path = new_temp_path("risk-warm-", ".sock")  # the sockets of runs that were killed are removed
        command = ("import sys; from risk.warm import serve; "
                   "serve(sys.argv[1], int(sys.argv[2]), tuple(filter(None, sys.argv[3].split(','))), "
                   "sys.argv[4] == '1')")
        self.proc = subprocess.Popen([sys.executable, "-c", command, self.path, str(os.getpid()),
                                      ",".join(self.preload), "1" if self.kernels else "0"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        os.environ[SOCKET_ENV] = self.path
        return self.path

    def stop(self) -> None:
        """Stop the server after its running workers and wait for it."""
        os.environ.pop(SOCKET_ENV, None)
        if self.proc is None:
            return
        self.proc.terminate()
        self.proc.wait()
        self.proc = None
