"""CPU and peak RSS of single rules, each in a fresh process, on a finished run, optionally on a finer grid.

Each rule's job is built by Snakemake itself (:func:`risk.mock.mock_snakemake`, the config and the profile's
threads and resources) with its inputs in ``--results``; its outputs and log go to ``--out``. With
``--repeat F`` every raster input is first written with each cell repeated ``F × F`` (people divided by
``F²``) and the grid's cell size divided by ``F``: the same county on ``F²`` times the cells, to see how a
rule's memory grows with the pixel count without running the whole DAG at that resolution. Vector and table
inputs are used as they are. The figures are the job's own ``getrusage`` at exit (the last line of its log,
:data:`risk.runtime.USAGE_MARK`).

Usage::

    .venv/bin/python bench/bench_rule.py risk_validation township_tables uncertainty_summary \\
        --configfile configs/config.yaml --results results --out /tmp/bench_rule --repeat 3

``--warm`` imports the warm server's modules (:data:`risk.warm.PRELOAD`) in the job's process first and reports
the job's own CPU and wall after them, as a warm-start job's (the figures of the README's per-rule CPU table).
Outputs keep their layout under the results folder (``indicators/<hazard>/...``).
"""

from __future__ import annotations

import argparse
import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ROWS = 256  # source rows per write


def repeat_raster(src_path, dst_path, f: int, divide: bool = False) -> None:
    """``src_path`` with each cell repeated ``f × f`` (values divided by ``f²`` when ``divide``), tiled, deflate."""
    import rasterio
    from rasterio.windows import Window

    with rasterio.open(src_path) as s:
        t = s.transform
        prof = {**s.profile, "width": s.width * f, "height": s.height * f, "tiled": True, "blockxsize": 512,
                "blockysize": 512, "compress": "deflate",
                "transform": rasterio.Affine(t.a / f, t.b, t.c, t.d, t.e / f, t.f)}
        prof.pop("interleave", None)
        Path(dst_path).parent.mkdir(parents=True, exist_ok=True)
        with rasterio.open(dst_path, "w", **prof) as d:
            d.update_tags(**s.tags())
            for r0 in range(0, s.height, ROWS):
                nr = min(ROWS, s.height - r0)
                a = np.repeat(np.repeat(s.read(window=Window(0, r0, s.width, nr)), f, 1), f, 2)
                if divide:
                    a = (a / np.float32(f * f)).astype(a.dtype)
                d.write(a, window=Window(0, r0 * f, s.width * f, nr * f))


def finer_inputs(sm, f: int, out: Path, made: dict) -> None:
    """Point ``sm.input`` at copies of its rasters and grid repeated ``f × f`` under ``out`` (made once)."""
    names = {i: k for k, (a, b) in sm.input._names.items() for i in range(a, a + 1 if b is None else b)}
    for i, path in enumerate(sm.input):
        p = Path(path)
        if p.suffix.lower() not in (".tif", ".tiff") and p.name != "grid.json":
            continue
        if p not in made:
            dst = out / f"x{f}" / p.resolve().relative_to(p.resolve().anchor)
            if p.name == "grid.json":
                g = json.loads(p.read_text())
                g.update(res=g["res"] / f, width=g["width"] * f, height=g["height"] * f)
                dst.parent.mkdir(parents=True, exist_ok=True)
                dst.write_text(json.dumps(g))
            else:
                repeat_raster(p, dst, f, divide=names.get(i) == "population")
            made[p] = dst
        sm.input[i] = str(made[p])
    for k, (i, end) in list(sm.input._names.items()):
        sm.input._set_name(k, i, end)  # the named attributes follow the list


def main(argv=None) -> list[dict]:
    from risk.mock import mock_snakemake
    from risk.runtime import USAGE_MARK

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rules", nargs="+")
    ap.add_argument("--configfile", default="configs/config.yaml")
    ap.add_argument("--results", required=True, help="results folder of a finished run of that config")
    ap.add_argument("--out", required=True)
    ap.add_argument("--repeat", type=int, default=1, help="repeat every raster cell F x F (a grid F times finer)")
    ap.add_argument("--warm", action="store_true",
                    help="import the warm server's modules (risk.warm.PRELOAD) first and time the job alone, as a "
                         "warm-start job runs")
    a = ap.parse_args(argv)
    out, made, rows = Path(a.out).resolve(), {}, []
    for rule in a.rules:
        res = Path(a.results).resolve()
        sm = mock_snakemake(rule, a.configfile, config={"results_dir": str(res)})
        if a.repeat > 1:
            finer_inputs(sm, a.repeat, out, made)
        for paths in (sm.output, sm.log):
            for i, p in enumerate(paths):  # the layout under the results folder is kept (indicators/<hazard>/...)
                rel = Path(p).resolve().relative_to(res) if Path(p).resolve().is_relative_to(res) else Path(p).name
                paths[i] = str(out / rule / rel)
                Path(paths[i]).parent.mkdir(parents=True, exist_ok=True)
            for k, (i, end) in list(paths._names.items()):
                paths._set_name(k, i, end)
        (out / rule).mkdir(parents=True, exist_ok=True)
        Path(sm.log[0]).unlink(missing_ok=True)
        job = out / rule / "job.pickle"
        job.write_bytes(pickle.dumps(sm))
        run = subprocess.run([sys.executable, __file__, "--child", rule, str(job), *(["--warm"] if a.warm else [])],
                             check=True, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        usage = [ln for ln in Path(sm.log[0]).read_text().splitlines() if ln.startswith(USAGE_MARK)][-1]
        usage = usage[len(USAGE_MARK):].strip()
        if a.warm:
            usage = [ln for ln in run.stdout.splitlines() if ln.startswith(WARM_MARK)][-1][len(WARM_MARK):].strip()
        rows.append({"rule": rule, "threads": sm.threads, "usage": usage})
        print(f"{rule} (x{a.repeat}, {sm.threads} threads): {rows[-1]['usage']}", flush=True)
    return rows


WARM_MARK = "job alone (after the warm server's imports):"


def child(rule: str, job: str, warm: bool = False) -> None:
    import importlib
    import resource
    import time

    from risk.mock import script_main

    if warm:
        from risk.warm import PRELOAD

        for name in PRELOAD:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - as the server: a module that fails to import is skipped
                pass
    r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    script_main(rule)(pickle.loads(Path(job).read_bytes()))
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime
    print(f"{WARM_MARK} cpu {cpu:.2f} s, wall {time.perf_counter() - t0:.2f} s", flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], sys.argv[3], "--warm" in sys.argv[4:])
    else:
        main()
