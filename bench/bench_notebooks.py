"""The reviewers' notebooks as a warm run executes them: CPU per notebook, kernel included, on a finished results folder.

Like the ``notebook`` rule in a local run (:mod:`risk.warm`): one process imports :data:`risk.warm.PRELOAD` (as
the server does), and each notebook job runs in a fork of it (executed with :func:`risk.io.notebooks.execute`,
written as HTML and ``.ipynb``). A job's CPU is its fork's ``wait4`` usage, which counts its reaped descendants,
i.e. the kernel's. Sequential (one job at a time), so the figures are CPU, not contention.

    .venv/bin/python bench/bench_notebooks.py /tmp/dag30/results /tmp/nb_out     # every notebook
    .venv/bin/python bench/bench_notebooks.py /tmp/dag30/results /tmp/nb_out 02_indicators
    RISK_WARM=0 .venv/bin/python bench/bench_notebooks.py ...                    # each kernel a new Python

Compare two versions of the code on the same results folder in one session, and their outputs with
``nbformat`` (the executed ``.ipynb`` files keep every figure's PNG).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from risk.warm import PRELOAD, SWITCH_ENV, WORKER_ENV  # noqa: E402


def run_job(name: str, results: Path, out: Path, area_name: str | None) -> tuple[float, float]:
    """Execute notebook ``name`` in a fork of this process; returns its CPU (kernel included) and wall seconds."""
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            if os.environ.get(SWITCH_ENV, "1") != "0":
                os.environ[WORKER_ENV] = "1"
            from risk import io
            from risk.io import notebooks

            params = {"results": str(results), **({"area_name": area_name} if area_name else {})}
            nb = notebooks.execute(ROOT / "notebooks" / f"{name}.ipynb", params)
            io.write_text(notebooks.to_html(nb), out / f"{name}.html")
            io.write_text(notebooks.to_ipynb(nb), out / f"{name}.ipynb")
            code = 0
        finally:
            os._exit(code)
    _, status, usage = os.wait4(pid, 0)
    if status:
        raise SystemExit(f"{name}: the job failed (status {status})")
    return usage.ru_utime + usage.ru_stime, time.perf_counter() - t0


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", type=Path, help="a finished run's results folder")
    ap.add_argument("out", type=Path, help="where to write the executed notebooks")
    ap.add_argument("names", nargs="*", help="notebooks (default: every one under notebooks/)")
    ap.add_argument("--area-name", default=None, help="the area's name (default: the run's manifest)")
    args = ap.parse_args(argv)
    names = args.names or sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("MPLBACKEND", "Agg")
    for module in PRELOAD:
        try:
            importlib.import_module(module)
        except Exception:  # noqa: BLE001, S112 - as the server: a module this environment lacks is skipped
            continue
    gc.collect()
    gc.freeze()
    total = 0.0
    for name in names:
        cpu, wall = run_job(name, args.results.resolve(), args.out, args.area_name)
        total += cpu
        print(f"{name}: CPU {cpu:.2f} s, wall {wall:.2f} s", flush=True)
    print(f"the {len(names)} notebooks: CPU {total:.2f} s")


if __name__ == "__main__":
    main()
