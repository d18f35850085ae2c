"""Scale indicators to 0–1, robust to outliers, with their direction applied.

``normalize`` maps a raster to 0 (least dangerous) … 1 (most dangerous):

1. an optional transform (``log1p`` for heavy-tailed quantities such as population);
2. bounds ``lo, hi``: fixed ones (for scores already on a scale), or the ``q`` and ``1 − q``
   quantiles of a systematic sample of the raster (:func:`risk.grid.systematic_sample`: a
   strided sub-grid, cheap on Dask, and the same whatever the chunking);
3. ``(x − lo) / (hi − lo)`` clipped to [0, 1], so that a few extreme cells do not squash the rest;
4. ``1 − …`` when less of the quantity is more dangerous (``direction="less"``: distance to a
   river, Vs30, surface roughness).

A constant raster (``hi <= lo``) scales to 0 everywhere it is finite; NaN stays NaN. The bounds
and direction used are stored in the result's ``attrs`` so a report or a model can repeat them.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from risk.blockwise import apply_blocks
from risk.grid import systematic_sample

DIRECTIONS = ("more", "less")
TRANSFORMS = ("none", "log1p")


def _transform(x, transform):
    if transform == "log1p":
        with np.errstate(invalid="ignore"):
            return np.log1p(np.maximum(x, 0))
    return x


def quantile_bounds(arr: xr.DataArray, q: tuple[float, float] = (0.02, 0.98), sample_size: int = 100_000,
                    transform: str = "none") -> tuple[float, float]:
    """Lower and upper quantiles of a systematic sample of ``arr`` (after ``transform``).

    Examples
    --------
    >>> a = xr.DataArray(np.arange(101.0).reshape(1, -1), dims=("y", "x"))
    >>> quantile_bounds(a, (0.1, 0.9))
    (10.0, 90.0)
    """
    _check(q=q, transform=transform)
    vals = _transform(systematic_sample(arr, sample_size), transform)
    vals = vals[np.isfinite(vals)]
    if vals.size == 0:
        return (float("nan"), float("nan"))
    lo, hi = np.quantile(vals, [q[0], q[1]])
    return float(lo), float(hi)


def _check(direction="more", q=(0.0, 1.0), transform="none"):
    if direction not in DIRECTIONS:
        raise ValueError(f"direction {direction!r} is not one of {DIRECTIONS}")
    if transform not in TRANSFORMS:
        raise ValueError(f"transform {transform!r} is not one of {TRANSFORMS}")
    if not (0.0 <= q[0] < q[1] <= 1.0):
        raise ValueError(f"quantiles {q!r}: expected 0 <= lower < upper <= 1")


def scale(x, lo: float, hi: float, direction: str = "more", transform: str = "none") -> np.ndarray:
    """The scaling of :func:`normalize` with known bounds, on a numpy block (float32 out).

    ``clip((t(x) - lo) / (hi - lo), 0, 1)``, ``1 -`` that for direction ``less``; 0 everywhere
    finite when ``hi <= lo``; NaN stays NaN.

    Examples
    --------
    >>> scale(np.array([0.0, 5.0, 20.0]), 0, 10, "less").tolist()
    [1.0, 0.5, 0.0]
    """
    x = np.asarray(x)
    if transform != "none":
        x = _transform(x.astype("float64"), transform)
    if not (hi > lo):
        return np.where(np.isfinite(x.astype("float64")), 0.0, np.nan).astype("float32")
    from risk.hazard._index_kernels import scale_linear

    # float64 (x - lo) / (hi - lo), clipped, 1 - that for "less", as float32: numpy's operations cell by cell in one
    # compiled pass (the numpy expression made five float64 temporaries; 8 % of the indicator_index rule)
    return scale_linear(np.ascontiguousarray(x).reshape(-1), float(lo), float(hi), direction == "less").reshape(x.shape)


def normalize(arr: xr.DataArray, direction: str = "more", bounds: tuple[float, float] | None = None,
              q: tuple[float, float] = (0.02, 0.98), sample_size: int = 100_000,
              transform: str = "none") -> xr.DataArray:
    """Scale ``arr`` to 0–1 (1 = most dangerous); see the module docstring.

    Parameters
    ----------
    arr : xarray.DataArray
        numpy- or Dask-backed raster.
    direction : str
        ``more`` (more of it is more dangerous) or ``less``.
    bounds : (float, float), optional
        Fixed ``(lo, hi)`` in transformed units; default: quantiles ``q`` of a sample.
    q : (float, float)
        Lower and upper quantiles used as bounds.
    sample_size : int
        About how many cells to sample for the quantiles.
    transform : str
        ``none`` or ``log1p`` (applied before scaling; negative values count as 0).

    Examples
    --------
    >>> a = xr.DataArray(np.array([[0.0, 5.0, 10.0, np.nan]]), dims=("y", "x"))
    >>> normalize(a, bounds=(0, 10)).values.tolist()
    [[0.0, 0.5, 1.0, nan]]
    >>> normalize(a, "less", bounds=(0, 10)).values.tolist()
    [[1.0, 0.5, 0.0, nan]]
    """
    _check(direction, q, transform)
    if bounds is None:
        lo, hi = quantile_bounds(arr, q, sample_size, transform)
    else:
        lo, hi = float(bounds[0]), float(bounds[1])
    out = apply_blocks(scale, arr, lo=lo, hi=hi, direction=direction, transform=transform,
                       name=arr.name)
    out.attrs.update(units="1", norm_lo=lo, norm_hi=hi, norm_direction=direction, norm_transform=transform)
    return out


def sample_settings(normalize_cfg: Mapping) -> dict:
    """``sample_size`` and ``quantiles`` of the config's ``indicators.normalize`` section, as
    :func:`risk.io.batchwrite.write_rasters` records them and :func:`quantile_bounds` draws them.

    Examples
    --------
    >>> sample_settings({"lower_quantile": 0.02, "upper_quantile": 0.98, "sample_size": 1000})
    {'sample_size': 1000, 'quantiles': (0.02, 0.98)}
    """
    return {"sample_size": int(normalize_cfg["sample_size"]),
            "quantiles": (normalize_cfg["lower_quantile"], normalize_cfg["upper_quantile"])}
