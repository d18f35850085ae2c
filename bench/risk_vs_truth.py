"""How well the risk ranks the demo's planted expected harm, beside simple baselines (issue 9).

For every trained hazard (a ``truth/<hazard>.tif`` in the demo folder), among populated cells (at least
``--min-people`` residents), the Spearman rank correlation of each score with the planted expected harm:

* ``truth × people`` (the issue's measure: the true event probability times the residents), and
* ``truth/harm_<hazard>.tif`` (the generator's planted harm, with its own vulnerability and township fragility),

for the scores ``risk`` (``risk/<hazard>.tif``), ``hazard`` alone, ``exposure`` alone
(``exposure/by_hazard/<hazard>.tif``), ``people`` alone and ``hazard × people``. It also prints, over the
populated cells, the Spearman between the risk rasters of each pair of hazards and between their hazards
(the risk maps should differ where the hazards do).

Usage::

    python bench/risk_vs_truth.py --results results --demo data/demo [--json out.json]
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from risk import io


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", default="results")
    ap.add_argument("--demo", default="data/demo")
    ap.add_argument("--min-people", type=float, default=0.5)
    ap.add_argument("--json", default=None)
    a = ap.parse_args(argv)
    res, demo = Path(a.results), Path(a.demo)
    grid = io.read_grid(res / "grid" / "grid.json")

    def read(path):
        return io.read_raster_on_grid(path, grid, "nearest", dask_=False).values.astype("f8")

    people = io.read_population_on_grid(demo / "population.tif", grid, dask_=False).values.astype("f8")
    hazards = sorted(p.stem for p in (demo / "truth").glob("*.tif") if not p.stem.startswith("harm_"))
    out: dict = {"results": str(res), "min_people": a.min_people, "hazards": {}}
    print(f"{res}: populated cells (>= {a.min_people} people)")
    print(f"{'hazard':13s} {'target':14s} {'cells':>8s} " + " ".join(f"{s:>14s}" for s in
          ("risk", "hazard", "exposure", "people", "hazard*people")))
    risks, exposures = {}, {}
    for h in hazards:
        truth, hz, risk = read(demo / "truth" / f"{h}.tif"), read(res / "hazard" / f"{h}.tif"), read(
            res / "risk" / f"{h}.tif")
        e_path = res / "exposure" / "by_hazard" / f"{h}.tif"  # absent in runs before issue 9: the index
        expo = read(e_path) if e_path.exists() else read(res / "exposure" / "exposure.tif")
        m = (people >= a.min_people) & np.isfinite(truth) & np.isfinite(hz) & np.isfinite(risk)
        risks[h] = (risk, hz, m)
        exposures[h] = expo
        scores = {"risk": risk, "hazard": hz, "exposure": expo, "people": people, "hazard*people": hz * people}
        targets = {"truth*people": truth * people}
        harm_path = demo / "truth" / f"harm_{h}.tif"
        if harm_path.exists():
            targets["planted_harm"] = read(harm_path)
        out["hazards"][h] = {}
        for tname, t in targets.items():
            rho = {s: round(float(spearmanr(v[m], t[m]).statistic), 4) for s, v in scores.items()}
            out["hazards"][h][tname] = {"cells": int(m.sum()), **rho}
            print(f"{h:13s} {tname:14s} {int(m.sum()):8d} " + " ".join(f"{rho[s]:14.4f}" for s in scores))
    print("\nper hazard, over the county (every cell) and over populated cells: Spearman of the risk with its own "
          "hazard and with its exposure")
    out["follows"] = {}
    for h in hazards:
        risk, hz, m = risks[h]
        expo = exposures[h]
        every = np.isfinite(risk) & np.isfinite(hz) & np.isfinite(expo)
        f = {f"{where}_{what}": round(float(spearmanr(risk[sel], other[sel]).statistic), 4)
             for where, sel in (("county", every), ("populated", m)) for what, other in (("hazard", hz),
                                                                                           ("exposure", expo))}
        out["follows"][h] = f
        print(f"  {h:13s} county: hazard {f['county_hazard']:7.4f} exposure {f['county_exposure']:7.4f}   "
              f"populated: hazard {f['populated_hazard']:7.4f} exposure {f['populated_exposure']:7.4f}")
    print("\npairs of hazards: Spearman of the two risks | of the two hazards, over populated cells; of the two "
          "risks over the county")
    out["pairs"] = {}
    for h1, h2 in itertools.combinations(hazards, 2):
        (r1, z1, m1), (r2, z2, m2) = risks[h1], risks[h2]
        m = m1 & m2
        rr = round(float(spearmanr(r1[m], r2[m]).statistic), 4)
        zz = round(float(spearmanr(z1[m], z2[m]).statistic), 4)
        every = np.isfinite(r1) & np.isfinite(r2)
        rc = round(float(spearmanr(r1[every], r2[every]).statistic), 4)
        out["pairs"][f"{h1}/{h2}"] = {"risk": rr, "hazard": zz, "county_risk": rc}
        print(f"  {h1:13s} {h2:13s} {rr:8.4f} | {zz:8.4f}   county {rc:8.4f}")
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=2), encoding="utf-8")
    return out


if __name__ == "__main__":
    main()
