"""Prediction throughput of each susceptibility model on the grid (px/s), as the pipeline runs it.

Trains each candidate (default parameters of :mod:`risk.models.susceptibility`) on 5,000 samples of
12 features, then predicts a square grid of 12 float32 feature rasters held in memory (so that disk
reads are not timed) with :func:`risk.models.susceptibility.predict_grid` (Dask ``map_blocks`` over
the stacked feature blocks, threaded scheduler, one thread per model call). Target: >= 220 k px/s
per model (docs/models.md).

    .venv/bin/python bench/bench_predict.py --sizes 1e6 1e7 --workers 2
"""

from __future__ import annotations

import argparse
import time

import dask
import dask.array as da
import numpy as np
import xarray as xr

from risk.models import susceptibility as S


def features(n_px: int, n_feat: int, chunk: int, seed: int = 0):
    side = int(round(np.sqrt(n_px)))
    rng = np.random.default_rng(seed)
    return [xr.DataArray(da.from_array(rng.standard_normal((side, side), dtype="f4"), chunks=chunk),
                         dims=("y", "x"), name=f"f{i}") for i in range(n_feat)], side * side


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=float, nargs="+", default=[1e6, 1e7])
    ap.add_argument("--features", type=int, default=12)
    ap.add_argument("--chunk", type=int, default=1024)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--models", nargs="+", default=list(S.CANDIDATES))
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5000, args.features)).astype("f4")
    y = ((X[:, 0] + X[:, 1] ** 2 - X[:, 2] * X[:, 3] + rng.standard_normal(5000)) > 1.5).astype(int)
    models = {m: S.make_estimator(m, seed=0, n_jobs=args.workers).fit(X, y) for m in args.models}
    print(f"{'model':<24}{'pixels':>12}{'seconds':>10}{'k px/s':>10}")
    with dask.config.set(scheduler="threads", num_workers=args.workers):
        for size in args.sizes:
            feats, n = features(int(size), args.features, args.chunk)
            for name, model in models.items():
                t0 = time.perf_counter()
                out = S.predict_grid(model, feats).data.sum().compute()
                dt = time.perf_counter() - t0
                assert np.isfinite(out)
                print(f"{name:<24}{n:>12,d}{dt:>10.2f}{n / dt / 1e3:>10.0f}", flush=True)


if __name__ == "__main__":
    main()
