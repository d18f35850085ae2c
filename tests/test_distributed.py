"""The raster stages on a real dask.distributed cluster (a scheduler and two workers on 127.0.0.1) give the same
files as the threaded scheduler: the address comes from the run's resources, as a cluster profile sets it."""

import filecmp
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.test_pipeline import ROOT, small_config

pytestmark = pytest.mark.slow

TARGETS = ["hazard/index/index.json", "exposure/exposure.tif", "vulnerability/vulnerability.tif",
           "indicators/survey/power_distance.tif"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _snakemake(config: Path, results: Path, scheduler: str, env: dict) -> None:
    cmd = [sys.executable, "-m", "snakemake", "--cores", "2", "--snakefile", str(ROOT / "Snakefile"),
           *[str(results / t) for t in TARGETS], "--configfile", str(config),
           "--default-resources", f"dask_scheduler='{scheduler}'", "gdal_cachemax_mb=256", "mem_mb=2000"]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-4000:]


@pytest.fixture
def cluster():
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "GDAL_CACHEMAX": "256"}
    procs = [subprocess.Popen([str(bin_dir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--dashboard-address", ":0", "--no-show"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        from distributed import Client

        for _ in range(2):
            procs.append(subprocess.Popen([str(bin_dir / "dask"), "worker", address, "--nthreads", "1",
                                           "--nworkers", "1", "--memory-limit", "2GB", "--no-dashboard"], env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        with Client(address, timeout=120) as client:  # connection timeout (the cluster starting), not a test limit
            client.wait_for_workers(2, timeout=600)
            assert len(client.scheduler_info()["workers"]) == 2
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        time.sleep(0.5)


def test_raster_stages_on_a_distributed_cluster_equal_the_threaded_run(tmp_path, cluster):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(small_config(tmp_path), allow_unicode=True), encoding="utf-8")
    results = tmp_path / "results"
    _snakemake(config, results, "threads", env)
    shutil.move(results, tmp_path / "threaded")
    _snakemake(config, results, cluster, env)
    log = (results / "logs" / "exposure.log").read_text(encoding="utf-8")
    assert f"Dask: scheduler {cluster} with 2 worker(s)" in log  # the rule really ran on the cluster
    tifs = sorted(p.relative_to(results) for p in results.rglob("*.tif"))
    assert len(tifs) >= 30
    differ = [str(t) for t in tifs if not filecmp.cmp(results / t, tmp_path / "threaded" / t, shallow=False)]
    assert differ == [], f"{len(differ)} rasters differ between the cluster and the threaded run: {differ[:8]}"
