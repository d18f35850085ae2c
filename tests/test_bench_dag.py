"""bench/bench_dag.py's bookkeeping: the critical path of a job graph and the start-up lines of the rules' logs."""

from pathlib import Path

from risk.runtime import STARTUP_MARK, USAGE_MARK, configure_logging, process_age
from tests.conftest import load_file

ROOT = Path(__file__).resolve().parents[1]


def _bench_dag():
    return load_file("bench/bench_dag.py")


def test_critical_path_is_the_longest_dependent_chain():
    deps = {"all": ["c", "d"], "a": [], "b": ["a"], "c": ["b"], "d": ["a"]}
    wall = {"a": 2.0, "b": 1.0, "c": 1.0, "d": 5.0}
    t, chain = _bench_dag().critical_path(deps, wall)
    assert t == 7.0 and chain == ["a", "d", "all"]


def test_every_rule_log_starts_with_its_start_up(tmp_path):
    log = tmp_path / "zoning.log"
    configure_logging(str(log))
    starts = _bench_dag().read_startups(tmp_path)
    assert STARTUP_MARK in log.read_text(encoding="utf-8")
    assert 0.0 <= starts["zoning"] <= process_age() + 0.01  # the log shows it to 10 ms


def test_every_rule_log_ends_with_its_exact_usage(tmp_path):
    import subprocess
    import sys

    log = tmp_path / "terrain.log"
    code = ("import numpy as np; from risk.runtime import configure_logging; "
            f"configure_logging({str(log)!r}); a = np.ones(40_000_000); a += 1")  # 320 MB touched
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    assert log.read_text(encoding="utf-8").splitlines()[-1].startswith(USAGE_MARK)
    usage = _bench_dag().read_usage(tmp_path)["terrain"]
    assert usage["rss"] >= 320 and usage["cpu"] > 0.0
