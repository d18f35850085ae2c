"""Built-up land, land cover and population on the analysis grid.

- **Built-up (4)**: around every settlement a kernel ``exp(-(d/r)^2)`` with ``r`` growing with its
  population (≈ 285 m for a village of 1,300, ≈ 650 m per city community); a cell is built up where
  the strongest kernel times ``exp(0.35 * noise)`` exceeds 0.4, the slope is under 18° and it is
  not water.
- **Water (5)**: within the channel half-width of main rivers (40-90 m) and larger tributaries (15 m).
- **Cropland (3) / forest (1) / grassland (2)**: the highest of three scores,
  cropland ``2.3 - slope/6 - HAND/70 + 0.8 exp(-d_settlement/1.5 km) + noise``,
  forest ``-0.8 + slope/9 + (z - 550)/300 - 0.5 southness + noise``,
  grassland ``-0.5 + 0.7 southness + slope/30 + noise`` (HAND: height above the nearest river bed).
- **Population**: each settlement's people spread over a kernel ``exp(-(d/1.3r)^2)`` weighted by
  land cover (built-up 1, cropland 0.12, grassland 0.03, forest 0.02, water 0) inside the AOI;
  every settlement's total is kept exactly.
"""

from __future__ import annotations

import numpy as np

from risk.demo.common import ROWS, smooth_noise
from risk.grid import Grid

LANDCOVER_CLASSES = [
    {"code": 1, "key": "forest", "name": "林地", "name_en": "Forest"},
    {"code": 2, "key": "grassland", "name": "草地", "name_en": "Grassland"},
    {"code": 3, "key": "cropland", "name": "耕地", "name_en": "Cropland"},
    {"code": 4, "key": "built_up", "name": "建设用地", "name_en": "Built-up"},
    {"code": 5, "key": "water", "name": "水体", "name_en": "Water"},
]
"""The land-cover codes (0 = nodata), as written to the raster tags and the config."""

LANDCOVER_KEYS = {c["code"]: c["key"] for c in LANDCOVER_CLASSES}
LANDCOVER_COLORS = {0: (0, 0, 0, 0), 1: (34, 120, 50, 255), 2: (170, 205, 100, 255), 3: (240, 215, 120, 255),
                    4: (210, 60, 50, 255), 5: (60, 120, 215, 255)}
FOREST, GRASSLAND, CROPLAND, BUILT_UP, WATER = 1, 2, 3, 4, 5


def _windows(grid: Grid, x: float, y: float, half_m: float):
    """Row/col slices of the square window of half-size ``half_m`` around a point, and cell-centre offsets."""
    k = int(np.ceil(half_m / grid.res)) + 1
    r0, c0 = grid.rowcol([x], [y])
    r0, c0 = int(r0[0]), int(c0[0])
    rs, re = max(0, r0 - k), min(grid.height, r0 + k + 1)
    cs, ce = max(0, c0 - k), min(grid.width, c0 + k + 1)
    if rs >= re or cs >= ce:
        return None
    dy = (grid.ymax - (np.arange(rs, re) + 0.5) * grid.res) - y
    dx = (grid.xmin + (np.arange(cs, ce) + 0.5) * grid.res) - x
    d2 = dy[:, None] ** 2 + dx[None, :] ** 2
    return slice(rs, re), slice(cs, ce), d2


def built_up(rng: np.random.Generator, grid: Grid, settlements, slope: np.ndarray,
             water: np.ndarray) -> np.ndarray:
    """Boolean built-up mask from settlement kernels (see module docstring)."""
    pot = np.zeros(grid.shape, dtype="f4")
    xs, ys = settlements.geometry.x.to_numpy(), settlements.geometry.y.to_numpy()
    for x, y, r in zip(xs, ys, settlements["radius_m"].to_numpy(), strict=True):
        win = _windows(grid, x, y, 2.2 * r)
        if win is None:
            continue
        rs, cs, d2 = win
        np.maximum(pot[rs, cs], np.exp(-d2 / (r * r)).astype("f4"), out=pot[rs, cs])
    lat = smooth_noise(rng, grid.bounds, 300.0)
    built = np.empty(grid.shape, dtype=bool)
    for r0, r1 in _bands(grid):  # the noise a band of rows at a time (the same values as one pass)
        noise = lat.on_rows(grid, r0, r1)
        built[r0:r1] = (pot[r0:r1] * np.exp(0.35 * noise) > 0.4) & (slope[r0:r1] < 18.0) & ~water[r0:r1]
    return built


def _bands(grid: Grid, rows: int = ROWS):
    """``(r0, r1)`` of every band of ``rows`` rows of ``grid``."""
    for r0 in range(0, grid.height, rows):
        yield r0, min(r0 + rows, grid.height)


def classify(rng: np.random.Generator, grid: Grid, built, layers) -> np.ndarray:
    """Land-cover codes (uint8) from terrain, settlements and noise (see module docstring).

    ``layers`` holds ``dem``, ``slope``, ``south``, ``hand``, ``d_settlement`` and ``water`` on the
    grid (read a band of rows at a time with ``layers.rows(name, r0, r1)``); every cell's class depends
    on its own values only, so the bands give the same codes as one pass.
    """
    b = grid.bounds
    lat1, lat2, lat3 = smooth_noise(rng, b, 1500.0), smooth_noise(rng, b, 400.0), smooth_noise(rng, b, 2500.0)
    lc = np.empty(grid.shape, dtype="uint8")
    for r0, r1 in _bands(grid):
        n1, n2, n3 = (lat.on_rows(grid, r0, r1) for lat in (lat1, lat2, lat3))
        dem, sl, so, hand, d_settlement = (layers.rows(k, r0, r1) for k in ("dem", "slope", "south", "hand",
                                                                             "d_settlement"))
        crop = 2.3 - sl / 6.0 - hand / 70.0 + 0.8 * np.exp(-d_settlement / 1500.0) + 0.6 * n1 + 0.3 * n2
        forest = -0.8 + sl / 9.0 + (dem - 550.0) / 300.0 - 0.5 * so + 0.6 * n3 + 0.3 * n2
        grass = -0.5 + 0.7 * so + sl / 30.0 - 0.4 * n3 + 0.3 * n1
        band = np.where(crop >= forest, np.where(crop >= grass, CROPLAND, GRASSLAND),
                        np.where(forest >= grass, FOREST, GRASSLAND)).astype("uint8")
        band[built[r0:r1]] = BUILT_UP
        band[layers.rows("water", r0, r1)] = WATER
        lc[r0:r1] = band
    return lc


POP_WEIGHT = np.array([0.0, 0.02, 0.03, 0.12, 1.0, 0.0], dtype="f4")


def population(grid: Grid, settlements, lc: np.ndarray, aoi: np.ndarray) -> np.ndarray:
    """Persons per cell; each settlement's population spread over its surroundings (totals kept)."""
    pop = np.zeros(grid.shape, dtype="f4")
    weight = POP_WEIGHT[lc] * aoi
    xs, ys = settlements.geometry.x.to_numpy(), settlements.geometry.y.to_numpy()
    for x, y, r, p in zip(xs, ys, settlements["radius_m"].to_numpy(), settlements["population"].to_numpy(),
                          strict=True):
        rp = max(1.3 * r, 0.6 * grid.res)
        win = _windows(grid, x, y, 2.5 * rp)
        if win is None:
            continue
        rs, cs, d2 = win
        k = np.exp(-d2 / (rp * rp)) * weight[rs, cs]
        tot = k.sum()
        if tot <= 0:
            k = np.exp(-d2 / (rp * rp)) * aoi[rs, cs]
            tot = k.sum()
            if tot <= 0:
                continue
        pop[rs, cs] += (float(p) * k / tot).astype("f4")
    return pop
