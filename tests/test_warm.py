"""The warm start (risk.warm): a job's script runs in a fork of the server, as the job, and dies with the job."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from risk.warm import SOCKET_ENV, WORKER_ENV, WarmServer

ROOT = Path(__file__).resolve().parents[1]

# a Snakemake job's script as Snakemake runs it: its preamble keeps the real file in __real_file__ and defines
# `snakemake`; `import risk` is where the hand-off happens
JOB = f'''\
__real_file__ = __file__
snakemake = object()
import os, sys, time
import risk
print("pid", os.getpid(), "worker", os.environ.get("{WORKER_ENV}"), "cwd", os.getcwd(), "mark", os.environ.get("MARK"),
      "argv", sys.argv[1:], flush=True)
if os.environ.get("PIDFILE"):
    open(os.environ["PIDFILE"] + ".tmp", "w").write(str(os.getpid()))
    os.replace(os.environ["PIDFILE"] + ".tmp", os.environ["PIDFILE"])
    time.sleep(600)
sys.exit(int(os.environ.get("CODE", "0")))
'''


@pytest.fixture
def server(tmp_path):
    warm = WarmServer(preload=("json",), kernels=False)
    path = warm.start()
    for _ in range(600):  # until it listens (the socket file exists once it is bound)
        if os.path.exists(path):
            break
        time.sleep(0.05)
    yield warm, path
    warm.stop()


def _job(tmp_path, path, **env):
    script = tmp_path / "job.py"
    script.write_text(JOB, encoding="utf-8")
    workdir = tmp_path / "work"
    workdir.mkdir(exist_ok=True)
    full_env = {**os.environ, SOCKET_ENV: path, "PYTHONPATH": str(ROOT), **env}
    return subprocess.Popen([sys.executable, str(script), "an-argument"], cwd=workdir, env=full_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_job_runs_in_the_server_as_itself_and_exits_with_its_status(tmp_path, server):
    _, path = server
    for code in (0, 3):
        job = _job(tmp_path, path, MARK="job-env", CODE=str(code))
        out, err = job.communicate()
        assert job.returncode == code, err
        words = out.split()
        assert words[words.index("pid") + 1] != str(job.pid)  # it ran in a worker, not in the job's process
        assert words[words.index("worker") + 1] == "1"
        assert words[words.index("cwd") + 1] == str(tmp_path / "work")  # the job's directory, environment, argv
        assert words[words.index("mark") + 1] == "job-env"
        assert "'an-argument'" in out


def test_without_a_server_the_job_runs_in_its_own_process(tmp_path):
    job = _job(tmp_path, str(tmp_path / "no-such.sock"), CODE="0")
    out, err = job.communicate()
    assert job.returncode == 0, err
    words = out.split()
    assert words[words.index("pid") + 1] == str(job.pid)
    assert words[words.index("worker") + 1] == "None"


def test_a_killed_job_takes_its_worker_with_it(tmp_path, server):
    warm, path = server
    pidfile = tmp_path / "worker.pid"
    job = _job(tmp_path, path, PIDFILE=str(pidfile))
    for _ in range(1200):
        if pidfile.exists():
            break
        time.sleep(0.05)
    worker = int(pidfile.read_text())
    assert worker != job.pid
    job.send_signal(signal.SIGKILL)
    job.wait()
    for _ in range(1200):  # the supervisor sees the closed connection within 50 ms and kills the worker
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    with pytest.raises(ProcessLookupError):
        os.kill(worker, 0)
    warm.stop()  # and the server stops cleanly, its socket removed
    assert not os.path.exists(path)


def test_disabled_server_does_nothing(monkeypatch):
    monkeypatch.setenv("RISK_WARM", "0")
    warm = WarmServer()
    assert warm.start() is None and SOCKET_ENV not in os.environ
    warm.stop()


def test_sockets_of_killed_runs_are_removed(tmp_path, monkeypatch):
    import tempfile

    from risk.tempfiles import owned_prefix

    dead = int(open("/proc/sys/kernel/pid_max").read()) + 1  # no process has it
    stale = tmp_path / owned_prefix("risk-warm-").replace(f"-{os.getpid()}-", f"-{dead}-", 1)
    stale = stale.with_name(stale.name + "1.sock")
    alive = tmp_path / (owned_prefix("risk-warm-") + "2.sock")
    stale.touch()
    alive.touch()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    warm = WarmServer(preload=(), kernels=False)
    warm.start()
    warm.stop()
    assert not stale.exists() and alive.exists()


def test_while_the_server_imports_the_first_job_runs_cold_beside_it_and_the_others_wait_for_it(tmp_path,
                                                                                               monkeypatch):
    (tmp_path / "slow_import.py").write_text("import time\ntime.sleep(4)\n", encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", f"{tmp_path}{os.pathsep}{ROOT}")
    warm = WarmServer(preload=("slow_import",), kernels=False)
    path = warm.start()
    try:
        for _ in range(1200):  # bound and importing
            if os.path.exists(path + ".loading"):
                break
            time.sleep(0.05)
        first, second = _job(tmp_path, path, CODE="0"), _job(tmp_path, path, CODE="0")
        (out1, err1), (out2, err2) = first.communicate(), second.communicate()
        assert first.returncode == 0 and second.returncode == 0, err1 + err2
        assert not os.path.exists(path + ".loading")  # both done only once the imports were
        cold = [o.split()[o.split().index("pid") + 1] == str(j.pid) for o, j in ((out1, first), (out2, second))]
        # whichever came first ran cold, in its own process, beside the imports; the other queued on the loading
        # socket and was run by the server
        assert sorted(cold) == [False, True]
        job = _job(tmp_path, path, CODE="0")  # done importing: every next job runs warm
        out, err = job.communicate()
        assert out.split()[out.split().index("pid") + 1] != str(job.pid)
    finally:
        warm.stop()
    assert not any(os.path.exists(path + s) for s in ("", ".loading", ".cold"))
