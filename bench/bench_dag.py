"""The whole demo DAG, timed rule by rule: wall, CPU, start-up, peak RSS, the critical path, a calibration figure.

Runs Snakemake on the demo inputs (generated first, untimed, if they are missing or stale) into a temporary results
folder, with the workstation profile, and prints per rule (from Snakemake's ``benchmark`` files and the rules'
logs):

* wall (s) of the job (Snakemake's benchmark), CPU (s) and peak RSS (MB) of its process, exact, from the last
  line of its log (:data:`risk.runtime.USAGE_MARK`; Snakemake's own figures, sampled every 30 s after a job's
  first 15 s, miss CPU and peaks between samples, and are used only where that line is missing);
* start-up (s): process start to the rule's first logged line (:data:`risk.runtime.STARTUP_MARK`), i.e. the
  interpreter, the imports and any compilation a job pays before its real work (with the warm start of
  :mod:`risk.warm`, the job's hand-off to a pre-imported worker; the server's one-off imports are printed apart);

then the DAG's wall and CPU-seconds (this process's children: Snakemake and every job), the critical path (the
longest chain of dependent jobs, by their measured wall) and a calibration figure: a fixed single-threaded numpy
workload timed before and after the run on the same machine, so that figures from machines of different speed
(or a shared machine under a different load) compare as ratios ``figure / calibration``.

    .venv/bin/python bench/bench_dag.py                         # the demo at 30 m
    .venv/bin/python bench/bench_dag.py --resolution 15         # the same county at 15 m (its demo inputs are
                                                                # made in the run's folder, not in data/demo)
    .venv/bin/python bench/bench_dag.py --keep /tmp/dag30       # keep the results folder
    RISK_WARM=0 .venv/bin/python bench/bench_dag.py             # every job in its own cold process (risk.warm)
"""

from __future__ import annotations

import argparse
import csv
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from risk.runtime import STARTUP_MARK, USAGE_MARK  # noqa: E402


def calibration(repeats: int = 5) -> float:
    """Best of ``repeats`` timings (s) of a fixed single-threaded workload: sorting 10⁷ float64, then a
    float32 3×3 box sum over 4,000 × 4,000 cells (numpy only, no BLAS threads)."""
    rng = np.random.default_rng(0)
    values = rng.random(10_000_000)
    grid = rng.random((4000, 4000), dtype=np.float32)
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.sort(values)
        acc = np.zeros((3998, 3998), np.float32)
        for dr in range(3):
            for dc in range(3):
                acc += grid[dr:dr + 3998, dc:dc + 3998]
        best = min(best, time.perf_counter() - t0)
    return best


def snakemake(args: list[str], **kw) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("snakemake")
    return subprocess.run([str(exe), *args], cwd=ROOT, text=True, **kw)


def job_graph(common: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """The DAG's jobs, named as their benchmark files (rule_wildcardvalues), and each job's dependencies."""
    dot = snakemake([*common, "--forceall", "--dag"], capture_output=True, check=True).stdout
    names = {}
    for node, label in re.findall(r'^\s*(\d+)\[label = "([^"]*)"', dot, re.M):
        rule, *wildcards = label.split("\\n")
        names[node] = "_".join([rule, *(w.split(": ", 1)[1] for w in wildcards)])
    deps: dict[str, list[str]] = {n: [] for n in names.values()}
    for u, v in re.findall(r"^\s*(\d+) -> (\d+)", dot, re.M):
        deps[names[v]].append(names[u])
    return deps, list(names.values())


def critical_path(deps: dict[str, list[str]], wall: dict[str, float]) -> tuple[float, list[str]]:
    """Longest chain of dependent jobs by wall time (jobs without a benchmark, e.g. ``all``, count 0)."""
    memo: dict[str, tuple[float, list[str]]] = {}

    def longest(job):
        if job not in memo:
            before = [longest(d) for d in deps.get(job, [])]
            t, chain = max(before, default=(0.0, []))
            memo[job] = (t + wall.get(job, 0.0), [*chain, job])
        return memo[job]

    return max(longest(j) for j in deps)


def read_benchmarks(folder: Path) -> dict[str, dict[str, float]]:
    out = {}
    for tsv in sorted(folder.glob("*.tsv")):
        with open(tsv, encoding="utf-8") as f:
            row = list(csv.DictReader(f, delimiter="\t"))[-1]
        out[tsv.stem] = {"wall": float(row["s"]), "cpu": float(row["cpu_time"]), "rss": float(row["max_rss"])}
    return out


def read_startups(folder: Path) -> dict[str, float]:
    out = {}
    pattern = re.compile(re.escape(STARTUP_MARK) + r" ([0-9.]+) s")
    for log in folder.glob("*.log"):
        m = pattern.search(log.read_text(encoding="utf-8", errors="replace"))
        if m:
            out[log.stem] = float(m.group(1))
    return out


def relocate_demo(config: dict, folder: Path) -> None:
    """Point ``demo.out`` and every input path under it at ``folder`` (in place)."""
    old = config["demo"]["out"].rstrip("/")

    def move(value):
        if isinstance(value, str) and (value == old or value.startswith(old + "/")):
            return str(folder) + value[len(old):]
        if isinstance(value, dict):
            return {k: move(v) for k, v in value.items()}
        if isinstance(value, list):
            return [move(v) for v in value]
        return value

    config["demo"]["out"] = str(folder)
    config["inputs"] = move(config["inputs"])
    config["survey"] = move(config["survey"])


def read_usage(folder: Path) -> dict[str, dict[str, float]]:
    """Exact CPU-seconds and peak RSS (MB) of each job's process, from the last line of its log
    (:data:`risk.runtime.USAGE_MARK`); Snakemake's benchmark samples them every 30 s."""
    out = {}
    pattern = re.compile(re.escape(USAGE_MARK) + r" cpu ([0-9.]+) s, peak RSS ([0-9.]+) MB")
    for log in folder.glob("*.log"):
        m = pattern.search(log.read_text(encoding="utf-8", errors="replace"))
        if m:
            out[log.stem] = {"cpu": float(m.group(1)), "rss": float(m.group(2))}
    return out


def run(args) -> None:
    config = yaml.safe_load((ROOT / args.config).read_text(encoding="utf-8"))
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench_dag_"))
    work.mkdir(parents=True, exist_ok=True)
    results = work / "results"
    config["results_dir"] = str(results)
    if args.resolution:
        config["grid"]["resolution"] = args.resolution
        relocate_demo(config, work / "demo")  # inputs of another resolution must not overwrite the repository's
    cfg = work / "config.yaml"
    cfg.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    common = ["--cores", str(args.cores), "--configfile", str(cfg), "--nolock"]

    # the demo inputs first, not timed: Snakemake runs the demo rule only if they are missing or out of date
    print("demo inputs: made or checked first (not timed) ...", flush=True)
    snakemake([*common, "--profile", args.profile, "--until", "demo", "--quiet"], check=True)
    demo_bench = read_benchmarks(results / "benchmarks")  # empty if the inputs were up to date
    for name, u in read_usage(results / "logs").items():
        if name in demo_bench:
            demo_bench[name].update(u)
    shutil.rmtree(results, ignore_errors=True)  # only the inputs stay: the timed run starts from them

    cal_before = calibration()
    print(f"calibration before the run: {cal_before:.3f} s", flush=True)
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    log = work / "snakemake.log"
    with open(log, "w", encoding="utf-8") as f:
        proc = snakemake([*common, "--profile", args.profile], stdout=f, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        sys.exit(f"the DAG failed (exit {proc.returncode}); see {log}")
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    cal_after = calibration()
    cal = (cal_before + cal_after) / 2

    bench = read_benchmarks(results / "benchmarks")
    for name, u in read_usage(results / "logs").items():  # exact figures over the sampled ones
        if name in bench:
            bench[name].update(u)
    for name, b in demo_bench.items():  # the generator, run before the timed DAG: listed, not in the DAG's sums
        print(f"demo generator ({name}, before the timed run): wall {b['wall']:.1f} s, CPU {b['cpu']:.1f} s, "
              f"peak RSS {b['rss']:.0f} MB")
    starts = read_startups(results / "logs")
    deps, _ = job_graph(common)
    cp_wall, cp_chain = critical_path(deps, {k: v["wall"] for k, v in bench.items()})

    pixels = None
    grid_json = results / "grid" / "grid.json"
    if grid_json.exists():
        g = yaml.safe_load(grid_json.read_text(encoding="utf-8"))
        pixels = g["width"] * g["height"]
    res = config["grid"]["resolution"]
    print(f"\nDAG of {args.config} at {res:g} m" + (f" ({pixels / 1e6:.1f} Mpx)" if pixels else "")
          + f", {args.cores} cores, results in {results}\n")
    print("| rule | wall (s) | CPU (s) | start-up (s) | cells/s | peak RSS (MB) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, b in sorted(bench.items(), key=lambda kv: -kv[1]["wall"]):
        st = f"{starts[name]:.2f}" if name in starts else "–"
        rate = f"{pixels / b['wall']:,.0f}" if pixels and b["wall"] > 0 else "–"
        print(f"| {name} | {b['wall']:.1f} | {b['cpu']:.1f} | {st} | {rate} | {b['rss']:.0f} |")
    warm = re.search(r"risk\.warm: .*", log.read_text(encoding="utf-8", errors="replace"))
    if warm:  # the warm-start server's imports, paid once for every job (in the DAG's CPU, in no job's)
        print(f"\n{warm.group(0)}")
    total_start = sum(starts.get(n, 0.0) for n in bench)
    print(f"\nDAG: wall {wall:.1f} s, CPU {cpu:.1f} s ({len(bench)} jobs; sum of job walls "
          f"{sum(b['wall'] for b in bench.values()):.1f} s, of start-ups {total_start:.1f} s; "
          f"largest peak RSS {max(b['rss'] for b in bench.values()):.0f} MB)")
    print(f"critical path: {cp_wall:.1f} s: {' → '.join(j for j in cp_chain if j in bench)}")
    print(f"calibration: {cal:.3f} s (before {cal_before:.3f}, after {cal_after:.3f}; sort 10⁷ float64 + "
          "3×3 box sum of 16 Mpx float32, best of 5)")
    print(f"ratios: DAG wall / calibration = {wall / cal:.0f}, DAG CPU / calibration = {cpu / cal:.0f}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="configs/config.yaml", help="the run's config (default: the demo)")
    ap.add_argument("--resolution", type=float, default=None, help="grid.resolution override, metres")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--profile", default="profiles/local", help="Snakemake profile (default: the workstation's)")
    ap.add_argument("--keep", default=None, help="folder for the config and results (default: a temporary one)")
    run(ap.parse_args(argv))


if __name__ == "__main__":
    main()
