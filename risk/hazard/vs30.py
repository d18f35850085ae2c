"""Seismic site conditions from topography: slope-based Vs30 and site amplification.

Vs30 (time-averaged shear-wave velocity of the top 30 m, m/s) is estimated from the topographic
gradient with the correlations of Wald & Allen (2007, *BSSA* 97(5), 1379–1395): steep terrain
is rock (fast), flat basins are soft sediment (slow). Within each class of their table Vs30 is
interpolated log-linearly in slope, outside it extrapolated and capped to 180–900 m/s, as the
USGS global Vs30 code (``grad2vs30``) does. The correlation was calibrated on slopes of a
30 arc-second (≈ 900 m) DEM, so the gradient should be taken on a DEM smoothed to that scale
(:func:`risk.hazard.terrain.smooth` then :func:`risk.hazard.terrain.gradient`).

Site amplification of short-period motion relative to rock (Vs30 = 760 m/s) follows Borcherdt
(1994, *Earthquake Spectra* 10(4)): ``F = (760 / Vs30) ** m`` with ``m = 0.35`` at low input
motion.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from risk.blockwise import apply_blocks

VS30_TABLES = {
    # (Vs30 low, Vs30 high, slope low, slope high) in m/s and m/m, Wald & Allen (2007) table 1
    "active": ((180, 240, 1.0e-4, 2.2e-3), (240, 300, 2.2e-3, 6.3e-3), (300, 360, 6.3e-3, 0.018),
               (360, 490, 0.018, 0.050), (490, 620, 0.050, 0.10), (620, 760, 0.10, 0.138)),
    "stable": ((180, 240, 2.0e-5, 2.0e-3), (240, 300, 2.0e-3, 4.0e-3), (300, 360, 4.0e-3, 7.2e-3),
               (360, 490, 7.2e-3, 0.013), (490, 620, 0.013, 0.018), (620, 760, 0.018, 0.025)),
}
"""Slope–Vs30 classes for active tectonic and stable continental regions."""

VS30_MIN, VS30_MAX = 180.0, 900.0


def vs30_from_slope(gradient: np.ndarray, region: str = "active") -> np.ndarray:
    """Vs30 (m/s) for gradients (m/m) after Wald & Allen (2007); NaN stays NaN.

    Examples
    --------
    >>> vs30_from_slope(np.array([0.0, 0.018, 0.5]), "active").round(1).tolist()
    [180.0, 360.0, 900.0]
    """
    if region not in VS30_TABLES:
        raise ValueError(f"vs30 region {region!r} is not one of {', '.join(VS30_TABLES)}")
    t = np.log(np.asarray(VS30_TABLES[region], dtype="f8"))
    g = np.asarray(gradient, dtype="f8")
    with np.errstate(divide="ignore", invalid="ignore"):
        lg = np.log(np.maximum(g, 1e-12))
    # class per cell: first row whose upper slope bound is >= the slope (last row beyond the table)
    k = np.clip(np.searchsorted(t[:, 3], lg, side="left"), 0, len(t) - 1)
    v0, v1, g0, g1 = (np.ascontiguousarray(t[:, j])[k] for j in range(4))  # the class's row, column by column
    v = np.exp(v0 + (v1 - v0) * (lg - g0) / (g1 - g0))
    v = np.clip(v, VS30_MIN, VS30_MAX)
    return np.where(np.isfinite(g), v, np.nan)


def _vs30_kernel(g, region):
    return vs30_from_slope(g, region).astype("float32")


def vs30(gradient: xr.DataArray, region: str = "active") -> xr.DataArray:
    """Vs30 raster (m/s) from a gradient raster (m/m)."""
    return apply_blocks(_vs30_kernel, gradient, region=region, name="vs30", attrs={"units": "m/s"})


def _amp_kernel(v, vref, exponent):
    with np.errstate(divide="ignore", invalid="ignore"):
        return ((vref / v.astype("f8")) ** exponent).astype("float32")


def site_amplification(vs30_: xr.DataArray, reference: float = 760.0, exponent: float = 0.35) -> xr.DataArray:
    """Short-period amplification relative to rock, ``(reference / Vs30) ** exponent``."""
    return apply_blocks(_amp_kernel, vs30_, vref=float(reference), exponent=float(exponent),
                        name="site_amplification", attrs={"units": "1"})
