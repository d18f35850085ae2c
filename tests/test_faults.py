"""A run killed with SIGKILL mid-stage, rerun as the README says, finishes with the same bytes as a clean run."""

import filecmp
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.test_pipeline import ROOT, small_config

SKIP = ("logs", "benchmarks")  # run-specific: timings and log lines
SKIP_FILES = ("manifest.json",)  # lists this run's own paths (risk.qgz is compared: its date is the data's)


def _config(tmp: Path) -> Path:
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(small_config(tmp), allow_unicode=True), encoding="utf-8")
    return path


def _cmd(config: Path) -> list[str]:
    # the README's command: the local profile (with --rerun-incomplete), the run's config
    return [sys.executable, "-m", "snakemake", "--cores", "2", "--snakefile", str(ROOT / "Snakefile"),
            "--profile", str(ROOT / "profiles" / "local"), "--configfile", str(config)]


def _files(results: Path) -> dict[str, Path]:
    return {str(p.relative_to(results)): p for p in results.rglob("*")
            if p.is_file() and p.relative_to(results).parts[0] not in SKIP and p.name not in SKIP_FILES}


@pytest.mark.slow
def test_a_killed_run_reruns_to_the_same_bytes(tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    config = _config(tmp_path)  # one folder for both runs: outputs that name their inputs' paths compare equal
    # its own working directory, so its own .snakemake/locks: other tests run Snakemake in the repository meanwhile,
    # and a lock is only cleared when no Snakemake works in the folder
    subprocess.run(_cmd(config), cwd=tmp_path, env=env, check=True, capture_output=True)
    results = tmp_path / "results"
    shutil.move(results, tmp_path / "clean")

    proc = subprocess.Popen(_cmd(config), cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    # wait until the hazard stage is under way (the grid exists, the terrain layers are being written), then kill
    # Snakemake and every job it started, as `kill -9` or a power cut would
    started = results / "indicators" / "terrain"
    while proc.poll() is None and not started.exists():
        time.sleep(0.2)
    assert proc.poll() is None, "the run finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (results / "manifest.json").exists()

    rerun = subprocess.run(_cmd(config), cwd=tmp_path, env=env, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr[-4000:]
    assert "LockException" not in rerun.stderr

    a, b = _files(tmp_path / "clean"), _files(results)
    assert sorted(a) == sorted(b)
    differ = [k for k in a if not filecmp.cmp(a[k], b[k], shallow=False)]
    assert differ == [], f"{len(differ)} outputs differ after kill and rerun: {differ[:10]}"


def test_a_stale_lock_is_cleared_only_when_no_snakemake_works_in_the_folder(tmp_path):
    from risk.runtime import clear_stale_lock

    locks = tmp_path / ".snakemake" / "locks"
    locks.mkdir(parents=True)
    assert clear_stale_lock(tmp_path) is False  # no lock, nothing to do
    (locks / "0.input.lock").write_text("x")
    # a live run in the folder (its command line names snakemake, its working directory is the folder)
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "snakemake"], cwd=tmp_path)
    try:
        assert clear_stale_lock(tmp_path) is False and (locks / "0.input.lock").exists()
    finally:
        live.kill()
        live.wait()
    assert clear_stale_lock(tmp_path) is True and list(locks.iterdir()) == []  # the killed run's lock, removed
