"""Coarse gridded hazard inputs in EPSG:4326 (0.01° cells), like the national products they stand in for.

- ``rain_max24h`` (mm, maximum 24-hour rainfall): ``150 + 22 se + 14 z + 12 n`` clipped to 80-220,
  with ``se`` the position towards the south-east (moist air from the Bohai Sea) in units of 50 km
  from the AOI centre, ``z`` the 2 km-smoothed elevation standardised as ``(z - 600 m) / 200 m``,
  ``n`` smooth noise (25 km).
- ``pga`` (g, peak ground acceleration, 10 % in 50 years): ``0.06 + 0.11 exp(-(d/25 km)^2) + 0.012 n``
  clipped to 0.04-0.20, ``d`` the distance to a NE-trending fault line near the AOI.
- ``wind50`` (m/s, 50-year wind): ``24 + 1.8 z + 1.5 nw + 0.8 n`` clipped to 18-31, ``nw`` the
  position towards the north-west (50 km units).
"""

from __future__ import annotations

import numpy as np
from pyproj import Transformer

from risk.demo.common import smooth_noise
from risk.demo.terrain import Terrain
from risk.grid import Grid

CELL_DEG = 0.01


def climate_grid(aoi_ll) -> Grid:
    """The 0.01° EPSG:4326 grid covering the AOI with a 5-cell margin."""
    return Grid.from_bounds(aoi_ll.total_bounds, "EPSG:4326", CELL_DEG, pad=5)


def climate_fields(rng: np.random.Generator, g: Grid, terrain: Terrain, crs: str, aoi_bounds) -> dict:
    """``{"rain_max24h": ..., "pga": ..., "wind50": ...}`` as float32 arrays on ``g``."""
    lon, lat = np.meshgrid(g.x, g.y)
    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    xmin, ymin, xmax, ymax = aoi_bounds
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    big = (xmin - 60000, ymin - 60000, xmax + 60000, ymax + 60000)
    z = (terrain.regional.at(x, y) - 600.0) / 200.0

    def toward(deg):
        a = np.radians(deg)
        return ((x - cx) * np.cos(a) + (y - cy) * np.sin(a)) / 50000.0

    n_rain = smooth_noise(rng, big, 25000.0).at(x, y)
    rain = np.clip(150.0 + 22.0 * toward(-45.0) + 14.0 * z + 12.0 * n_rain, 80.0, 220.0)
    ang = np.radians(rng.uniform(35.0, 55.0))
    fx, fy = cx + rng.uniform(-15000, 15000), cy + rng.uniform(-15000, 15000)
    d = np.abs(-(x - fx) * np.sin(ang) + (y - fy) * np.cos(ang))
    n_pga = smooth_noise(rng, big, 40000.0).at(x, y)
    pga = np.clip(0.06 + 0.11 * np.exp(-np.square(d / 25000.0)) + 0.012 * n_pga, 0.04, 0.20)
    n_wind = smooth_noise(rng, big, 30000.0).at(x, y)
    wind = np.clip(24.0 + 1.8 * z + 1.5 * toward(135.0) + 0.8 * n_wind, 18.0, 31.0)
    return {"rain_max24h": rain.astype("f4"), "pga": pga.astype("f4"), "wind50": wind.astype("f4")}


CLIMATE_META = {
    "rain_max24h": ("mm", "Maximum 24-hour precipitation (synthetic, 0.01 degree)"),
    "pga": ("g", "Peak ground acceleration, 10% exceedance in 50 years (synthetic, 0.01 degree)"),
    "wind50": ("m/s", "50-year return 10-minute mean wind speed at 10 m (synthetic, 0.01 degree)"),
}
