"""Terrain derivatives of a DEM, on numpy or Dask, chunk by chunk.

Local derivatives come from xarray-spatial (slope and aspect after Horn 1981, curvature as in
ArcGIS); neighbourhood statistics (relief, topographic position, smoothing) from
``scipy.ndimage`` on blocks padded with the right overlap (:func:`risk.blockwise.apply_overlap`).
Flow routing (depression depth, flow accumulation and the wetness index built on it) is global;
it is exact on any raster, tiles exchanging only their edges (:mod:`risk.hazard.hydrology`).

All functions take a DEM as a DataArray built by :meth:`risk.grid.Grid.like` (its ``res``
attribute is the cell size in metres) and return float32 DataArrays of the same backend and
chunks; cells beyond the raster edge count as no data, so the outermost ring of cells is NaN
for 3 × 3 derivatives (the grid is padded around the AOI, so this never reaches the AOI).
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr
from scipy import ndimage

from risk.blockwise import apply_blocks, apply_overlap
from risk.hazard import hydrology
from risk.hazard.layer_names import TERRAIN_LAYERS

TERRAIN_DESCRIPTIONS = {
    "slope": "slope (degree)",
    "aspect": "aspect (compass degree of the downslope direction, -1 flat)",
    "curvature": "total curvature (1/100 m-1, > 0 convex)",
    "relief": "local relief (m)",
    "twi": "topographic wetness index ln(a / tan b)",
    "flow_accumulation": "upslope contributing area (m2), D8 on the filled DEM",
    "depression_depth": "depth of closed depressions (m), Priority-Flood fill minus DEM",
}
"""Band description of each terrain raster."""


def _res(arr: xr.DataArray) -> float:
    res = arr.attrs.get("res")
    if res is None:
        raise ValueError("the raster has no 'res' attribute (cell size in metres); build it with Grid.like")
    return float(res[0] if isinstance(res, (tuple, list)) else res)


def _radius_cells(radius_m: float, res: float) -> int:
    return max(1, int(math.ceil(radius_m / res - 1e-9)))


def _float(arr: xr.DataArray) -> xr.DataArray:
    return arr if arr.dtype == np.float32 else arr.astype("float32")


# -- 3 x 3 derivatives (xarray-spatial) -------------------------------------------------------
XRSPATIAL_KERNELS = ("xrspatial.slope", "xrspatial.aspect", "xrspatial.curvature")
"""Modules of the xarray-spatial kernels the terrain uses: numba-compiled, but without numba's disk cache."""


def _xrspatial():
    """``xrspatial``, its numba kernels cached on disk (:data:`XRSPATIAL_KERNELS`).

    xarray-spatial compiles its kernels without ``cache=True``, so every terrain job compiled them again
    (~1.5 s CPU of the rule's 13). Turning numba's own cache on for them (before their first call) loads
    the same machine code from disk instead; what they compute does not change.
    """
    import sys

    import xrspatial
    from numba.core.registry import CPUDispatcher

    for name in XRSPATIAL_KERNELS:
        for f in vars(sys.modules[name]).values():
            if isinstance(f, CPUDispatcher) and type(f._cache).__name__ == "NullCache":
                f.enable_caching()
    return xrspatial


def slope(dem: xr.DataArray) -> xr.DataArray:
    """Slope in degrees (Horn's 3 × 3 method, via ``xrspatial.slope``)."""
    xrspatial = _xrspatial()

    out = xrspatial.slope(_float(dem))
    return _finish(out, dem, "slope", "degree")


def aspect(dem: xr.DataArray) -> xr.DataArray:
    """Aspect in compass degrees (0 = north, 90 = east) of the downslope direction; -1 on flats."""
    xrspatial = _xrspatial()

    out = xrspatial.aspect(_float(dem))
    return _finish(out, dem, "aspect", "degree")


def curvature(dem: xr.DataArray) -> xr.DataArray:
    """Total curvature in 1/100 m⁻¹ (``xrspatial.curvature``): > 0 convex, < 0 concave."""
    xrspatial = _xrspatial()

    out = xrspatial.curvature(_float(dem))
    return _finish(out, dem, "curvature", "1/100 m-1")


def _finish(out: xr.DataArray, dem: xr.DataArray, name: str, unit: str) -> xr.DataArray:
    res = xr.DataArray(out.data.astype("float32"), dims=dem.dims, coords=dem.coords, name=name,
                       attrs={**dem.attrs, "units": unit})
    if hasattr(res.data, "chunks") and hasattr(dem.data, "chunks") and res.data.chunks != dem.data.chunks:
        res = res.chunk(dict(zip(dem.dims, dem.data.chunks, strict=True)))
    return res


# -- neighbourhood statistics (scipy.ndimage on padded blocks) --------------------------------
def _relief_kernel(block, size):
    finite = np.isfinite(block)
    hi = ndimage.maximum_filter(np.where(finite, block, -np.inf), size=size, mode="constant", cval=-np.inf)
    lo = ndimage.minimum_filter(np.where(finite, block, np.inf), size=size, mode="constant", cval=np.inf)
    return np.where(finite, hi - lo, np.nan).astype("float32")


def relief(dem: xr.DataArray, radius_m: float = 300.0) -> xr.DataArray:
    """Local relief (m): highest minus lowest elevation in a square window of ± ``radius_m``."""
    r = _radius_cells(radius_m, _res(dem))
    return apply_overlap(_relief_kernel, _float(dem), depth=r, size=2 * r + 1, name="relief",
                         attrs={"units": "m"})


def _nanmean_kernel(block, size):
    finite = np.isfinite(block)
    vals = np.where(finite, block, 0.0).astype("float64")
    s = ndimage.uniform_filter(vals, size=size, mode="constant", cval=0.0)
    n = ndimage.uniform_filter(finite.astype("float64"), size=size, mode="constant", cval=0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 1e-9, s / np.maximum(n, 1e-12), np.nan)


def focal_mean(arr: xr.DataArray, radius_m: float) -> xr.DataArray:
    """Mean of the finite cells in a square window of ± ``radius_m`` (NaN where none)."""
    r = _radius_cells(radius_m, _res(arr))
    return apply_overlap(_nanmean_kernel, _float(arr), depth=r, size=2 * r + 1, name=arr.name)


def _tpi_kernel(block, size):
    return (block - _nanmean_kernel(block, size)).astype("float32")


def topographic_position(dem: xr.DataArray, radius_m: float = 1000.0) -> xr.DataArray:
    """Topographic position index (m): elevation minus the mean elevation within ± ``radius_m``.

    Positive on ridges and hill tops (exposed to wind), negative in valleys.
    """
    r = _radius_cells(radius_m, _res(dem))
    return apply_overlap(_tpi_kernel, _float(dem), depth=r, size=2 * r + 1, name="tpi", attrs={"units": "m"})


def _gauss_kernel(block, sigma, truncate):
    finite = np.isfinite(block)
    vals = np.where(finite, block, 0.0).astype("float64")
    s = ndimage.gaussian_filter(vals, sigma, mode="constant", cval=0.0, truncate=truncate)
    n = ndimage.gaussian_filter(finite.astype("float64"), sigma, mode="constant", cval=0.0, truncate=truncate)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(finite & (n > 1e-9), s / np.maximum(n, 1e-12), np.nan)


def smooth(arr: xr.DataArray, sigma_m: float, truncate: float = 3.0) -> xr.DataArray:
    """Gaussian smoothing (σ = ``sigma_m``) that ignores no-data cells; NaN stays NaN."""
    sigma = sigma_m / _res(arr)
    depth = int(truncate * sigma + 0.5)
    if depth < 1:
        return _float(arr)
    return apply_overlap(_gauss_kernel, _float(arr), depth=depth, sigma=sigma, truncate=truncate, name=arr.name)


def _slope_tan_kernel(block, res):
    # Horn's method as in xrspatial.slope, but returning the gradient (m/m), for the Vs30 proxy.
    out = np.full(block.shape, np.nan, dtype="float64")
    a, b, c = block[:-2, :-2], block[:-2, 1:-1], block[:-2, 2:]
    d, f = block[1:-1, :-2], block[1:-1, 2:]
    g, h, i = block[2:, :-2], block[2:, 1:-1], block[2:, 2:]
    dzdx = ((c + 2 * f + i) - (a + 2 * d + g)) / (8 * res)
    dzdy = ((g + 2 * h + i) - (a + 2 * b + c)) / (8 * res)
    out[1:-1, 1:-1] = np.hypot(dzdx, dzdy)
    return out


def gradient(dem: xr.DataArray) -> xr.DataArray:
    """Slope as a gradient (m/m, Horn's method): tan of :func:`slope`."""
    return apply_overlap(_slope_tan_kernel, _float(dem), depth=1, res=_res(dem), name="gradient",
                         attrs={"units": "m/m"})


def _smooth_gradient_kernel(block, sigma, truncate, res):
    smoothed = _gauss_kernel(block, sigma, truncate).astype("float32")  # as smooth() writes it
    return _slope_tan_kernel(smoothed, res)


def smooth_gradient(dem: xr.DataArray, sigma_m: float, truncate: float = 3.0) -> xr.DataArray:
    """``gradient(smooth(dem, sigma_m, truncate))`` in one neighbourhood pass: the same values, cell for cell.

    Chained on Dask, the gradient's one-cell overlap needs the smoothed values of every neighbouring
    block, and the whole Gaussian of each of those blocks is computed again for every block (and every
    write batch) that needs it: at 15 m the Vs30 proxy spent half the indicator stage there. Here each
    block's window (padded by the Gaussian's radius plus one cell) is smoothed once and differentiated.
    """
    sigma = sigma_m / _res(dem)
    depth = int(truncate * sigma + 0.5)
    if depth < 1:
        return gradient(dem)
    return apply_overlap(_smooth_gradient_kernel, _float(dem), depth=depth + 1, sigma=sigma, truncate=truncate,
                         res=_res(dem), name="gradient", attrs={"units": "m/m"})


# -- flow routing (exact, on tiles that exchange their edges; see risk.hazard.hydrology) -----------
def flow_routing(dem: xr.DataArray, tile: int = 1024) -> tuple[xr.DataArray, xr.DataArray]:
    """Depression depth (m) and flow accumulation (upslope area, m²), exact on any raster.

    Priority-Flood fill and D8 flow accumulation of the whole raster, computed on tiles of
    ``tile`` cells that exchange only their edges (:func:`risk.hazard.hydrology.route`). The
    results depend neither on ``tile`` (it only bounds memory) nor on the Dask chunks.
    """
    cell_area = _res(dem) ** 2
    arr = _float(dem)
    depth, acc = hydrology.route(arr.data, tile)
    depth = xr.DataArray(depth, dims=dem.dims, coords=dem.coords, name="depression_depth",
                         attrs={**dem.attrs, "units": "m", "flow_tile": tile})
    acc = xr.DataArray(acc * np.float32(cell_area), dims=dem.dims, coords=dem.coords, name="flow_accumulation",
                       attrs={**dem.attrs, "units": "m2", "flow_tile": tile})
    return depth, acc


def _twi_kernel(acc, slope_deg, res, min_tan):
    tanb = np.maximum(np.tan(np.deg2rad(slope_deg.astype("float64"))), min_tan)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.log(acc.astype("float64") / res / tanb).astype("float32")


def wetness_index(flow_accumulation: xr.DataArray, slope_deg: xr.DataArray, min_tan: float = 0.001) -> xr.DataArray:
    """Topographic wetness index ln(a / tan β): ``a`` the specific catchment area (m²/m).

    ``a`` is the upslope area divided by the cell width; tan β is floored at ``min_tan`` so flats
    stay finite.
    """
    res = _res(flow_accumulation)
    return apply_blocks(_twi_kernel, flow_accumulation, slope_deg, res=res, min_tan=min_tan, name="twi",
                        attrs={"units": "ln(m)"})


def terrain(dem: xr.DataArray, relief_radius_m: float = 300.0, flow_tile: int = 1024,
            twi_min_tan: float = 0.001) -> dict[str, xr.DataArray]:
    """Every terrain layer of :data:`TERRAIN_LAYERS` (lazy when ``dem`` is Dask-backed)."""
    s = slope(dem)
    dep, acc = flow_routing(dem, flow_tile)
    return {
        "slope": s,
        "aspect": aspect(dem),
        "curvature": curvature(dem),
        "relief": relief(dem, relief_radius_m),
        "twi": wetness_index(acc, s, twi_min_tan),
        "flow_accumulation": acc,
        "depression_depth": dep,
    }


def build(dem: xr.DataArray, *, source: str, relief_radius_m: float = 300.0, flow_tile: int = 1024,
          twi_min_tan: float = 0.001) -> tuple[dict, dict, dict]:
    """The terrain layers of the ``terrain`` rule with their file metadata.

    Parameters
    ----------
    dem : DataArray
        The DEM on the grid (chunked by ``flow_tile`` so each flow tile is one Dask block).
    source : str
        Name of the DEM file, recorded in the tags.
    relief_radius_m, flow_tile, twi_min_tan
        As for :func:`terrain`.

    Returns
    -------
    layers, tags, descriptions : dict
        Keyed by the names of :data:`TERRAIN_LAYERS`, in that order: the (lazy) rasters, their
        GeoTIFF tags (``LAYER``, ``UNITS``, ``SOURCE``, ``FLOW_TILE``) and band descriptions.
    """
    layers = terrain(dem, relief_radius_m=relief_radius_m, flow_tile=flow_tile, twi_min_tan=twi_min_tan)
    tags = {name: {"LAYER": name, "UNITS": layers[name].attrs.get("units", ""), "SOURCE": source,
                   "FLOW_TILE": flow_tile} for name in TERRAIN_LAYERS}
    descriptions = {name: TERRAIN_DESCRIPTIONS[name] for name in TERRAIN_LAYERS}
    return {name: layers[name] for name in TERRAIN_LAYERS}, tags, descriptions
