"""The demo's historical-disaster record (历史灾情) and the planted expected harm it is drawn from.

The harm a hazard does in a cell is planted here, independently of the pipeline's scoring rules
(which never see these numbers)::

    harm_h = p_h · people · v_h[land cover] · f_township

* ``p_h``: the truth probability of the hazard (``truth/<hazard>.tif``);
* ``people``: residents of the cell (``population.tif``);
* ``v_h``: :data:`PLANTED_VULNERABILITY`, the share of the residents a hazard event harms, by land cover;
* ``f_township``: a building-fragility factor per township, uniform in [0.6, 1.4] (seeded).

``truth/harm_<hazard>.tif`` is that planted expected harm. The record draws ``n`` disasters per hazard
(cells with probability ∝ ``harm_h``) and, for each, Poisson counts with means ``m = people · v_h ·
f_township``: injured ``m · 0.05``, deaths ``m · 0.005``, houses damaged ``m / 3.1 · 0.4`` (3.1 residents
per house), and a direct loss of 4.5 万元 per damaged house plus 2 万元 per injured, with a log-normal
factor (σ 0.3).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from risk.demo.landcover import LANDCOVER_KEYS

PLANTED_VULNERABILITY = {
    "waterlogging": {"built_up": 0.9, "cropland": 0.6, "grassland": 0.3, "forest": 0.3, "water": 0.0},
    "geological": {"built_up": 0.5, "cropland": 0.9, "grassland": 0.9, "forest": 0.7, "water": 0.0},
    "wildfire": {"built_up": 0.3, "cropland": 0.7, "grassland": 1.0, "forest": 1.0, "water": 0.0},
}
"""Share of the residents of a cell a hazard event harms, by land cover (the planted vulnerability)."""

RECORD_COUNTS = {"waterlogging": 120, "geological": 120, "wildfire": 80}
"""Disasters in the record for a Lingyuan-sized area (scaled with area, at least 30)."""

SEASON = {"waterlogging": (6, 9), "geological": (6, 9), "wildfire": (3, 5)}
HAZARD_ZH = {"waterlogging": "暴雨内涝", "geological": "地质灾害", "wildfire": "森林草原火灾"}
COLUMNS = ["hazard", "hazard_zh", "date", "township", "lon", "lat", "deaths", "injured", "houses_damaged",
           "direct_loss_10k_yuan"]


def fragility(rng: np.random.Generator, townships: pd.Series) -> dict:
    """The building-fragility factor of every township (uniform 0.6–1.4), in sorted-name order."""
    names = sorted(set(townships.dropna().astype(str)))
    return dict(zip(names, rng.uniform(0.6, 1.4, len(names)).round(3).tolist(), strict=True))


def harm_surface(hazard: str, p: np.ndarray, people: np.ndarray, lc: np.ndarray, town_factor: np.ndarray):
    """The planted expected harm ``p · people · v[lc] · f`` (float32, NaN where ``p`` is NaN)."""
    table = np.zeros(256, dtype="f4")
    for code, key in LANDCOVER_KEYS.items():
        table[code] = PLANTED_VULNERABILITY[hazard].get(key, 0.0)
    exposed = np.nan_to_num(people, nan=0.0) * table[lc.astype("int64")] * town_factor
    return (p * exposed).astype("f4"), exposed.astype("f4")


def draw_record(rng: np.random.Generator, hazard: str, harm: np.ndarray, exposed: np.ndarray, n: int, grid,
                township_of, to_lonlat) -> pd.DataFrame:
    """``n`` disasters of one hazard: cells drawn with probability ∝ planted harm, counts drawn from it."""
    flat = np.flatnonzero(harm.ravel() > 0)  # NaN is not > 0
    w = harm.ravel()[flat].astype("f8")
    pick = rng.choice(flat, size=min(n, flat.size), replace=True, p=w / w.sum())
    rows, cols = np.divmod(pick, grid.width)
    x = grid.xmin + (cols + rng.uniform(0.05, 0.95, len(pick))) * grid.res
    y = grid.ymax - (rows + rng.uniform(0.05, 0.95, len(pick))) * grid.res
    m = exposed[rows, cols].astype("f8")
    injured = rng.poisson(m * 0.05)
    houses = rng.poisson(m / 3.1 * 0.4)
    loss = (4.5 * houses + 2.0 * injured) * rng.lognormal(0.0, 0.3, len(pick))
    lo, hi = SEASON[hazard]
    dates = [f"{y_:04d}-{mo:02d}-{d:02d}" for y_, mo, d in zip(rng.integers(2010, 2024, len(pick)),
                                                                 rng.integers(lo, hi + 1, len(pick)),
                                                                 rng.integers(1, 29, len(pick)), strict=True)]
    lon, lat = to_lonlat(x, y)
    return pd.DataFrame({"hazard": hazard, "hazard_zh": HAZARD_ZH[hazard], "date": dates,
                         "township": township_of(x, y), "lon": np.round(lon, 6), "lat": np.round(lat, 6),
                         "deaths": rng.poisson(m * 0.005), "injured": injured, "houses_damaged": houses,
                         "direct_loss_10k_yuan": loss.round(2)})[COLUMNS]


def readme(factors: dict, counts: dict) -> str:
    """The section of ``truth/README.md`` on the planted harm and the record."""
    lines = ["## Planted harm and the historical-disaster record (`disasters/历史灾情.csv`)", "",
             "The pipeline reads the record (an optional input, `inputs.disasters`) but never this folder. "
             "Planted expected harm per cell (`truth/harm_<hazard>.tif`):", "",
             "    harm_h = p_h * people * v_h[land cover] * f[township]", "",
             "| hazard | " + " | ".join(sorted({k for v in PLANTED_VULNERABILITY.values() for k in v})) + " |",
             "| --- |" + " --- |" * len({k for v in PLANTED_VULNERABILITY.values() for k in v})]
    keys = sorted({k for v in PLANTED_VULNERABILITY.values() for k in v})
    for h, v in PLANTED_VULNERABILITY.items():
        lines.append(f"| {h} | " + " | ".join(f"{v.get(k, 0.0):g}" for k in keys) + " |")
    lines += ["", "Township fragility f (uniform 0.6-1.4): " + ", ".join(f"{k} {v:g}" for k, v in factors.items()),
              "", "Each record row: a cell drawn with probability proportional to harm_h; with m = people * v_h * f, "
              "injured ~ Poisson(0.05 m), deaths ~ Poisson(0.005 m), houses damaged ~ Poisson(0.4 m / 3.1), "
              "direct loss (万元) = (4.5 houses + 2 injured) * LogNormal(0, 0.3); date in the hazard's season "
              "2010-2023.", "",
              "Disasters drawn: " + ", ".join(f"{h} {n}" for h, n in counts.items()), ""]
    return "\n".join(lines)
