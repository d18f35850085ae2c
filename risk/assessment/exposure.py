"""Exposure: what is there to be harmed — people, buildings and surveyed structures.

Components (each a raster under ``exposure/``):

* ``population`` — residents per km² (the population input is persons per cell);
* ``built_up`` — share of built-up land within the built-up radius (0–1);
* ``survey_points`` — Gaussian kernel density of all surveyed points (points per km²).

``exposure.tif`` is their weighted mean after :func:`risk.hazard.normalize.normalize` (each with
"more = more exposed"; population and point density through ``log1p`` by default, since a town
centre has orders of magnitude more people than a village).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr

from risk.blockwise import apply_blocks
from risk.errors import InputError
from risk.hazard.indicator_index import weighted_index
from risk.hazard.normalize import normalize

logger = logging.getLogger(__name__)

EXPOSURE_COMPONENTS = ("population", "built_up", "survey_points")

DESCRIPTIONS = {
    "population": "population (persons per km2)",
    "built_up": "built-up share (0-1)",
    "survey_points": "survey point density (points per km2)",
    "exposure": "exposure index (0-1)",
}
"""Band description of each exposure raster."""


def _density_kernel(x, factor):
    return (x.astype("f8") * factor).astype("float32")


def per_km2(per_cell: xr.DataArray, cell_area_m2: float, name: str = "population") -> xr.DataArray:
    """Convert a per-cell count to a density per km²."""
    out = apply_blocks(_density_kernel, per_cell, factor=1e6 / float(cell_area_m2), name=name)
    out.attrs.update(units="per km2")
    return out


def exposure_index(components: Mapping[str, xr.DataArray], weights: Mapping[str, float],
                   transforms: Mapping[str, str] | None = None, q=(0.02, 0.98),
                   sample_size: int = 100_000,
                   bounds: Mapping[str, tuple[float, float]] | None = None) -> tuple[xr.DataArray, dict]:
    """Combined exposure (0–1) and a record of the normalisation bounds and weights.

    Components missing a finite value are skipped from the mean cell by cell (``skipna``), so
    a cell with people but no surveyed point is still exposed. ``bounds`` gives known
    normalisation bounds (in transformed units) of some components; the others are sampled.
    """
    bounds = dict(bounds or {})
    transforms = dict(transforms or {})
    normed, record = {}, {}
    for name, arr in components.items():
        if float(weights.get(name, 0.0)) <= 0:
            continue
        t = transforms.get(name, "none")
        n = normalize(arr, "more", bounds=bounds.get(name), q=q, sample_size=sample_size, transform=t)
        normed[name] = n
        record[name] = {"lo": n.attrs["norm_lo"], "hi": n.attrs["norm_hi"], "transform": t,
                        "weight": float(weights[name])}
    out = weighted_index(normed, {k: weights[k] for k in normed}, skipna=True).rename("exposure")
    if not np.isfinite([r["hi"] for r in record.values()]).all():
        raise InputError("exposure: a component has no finite value in the study area")
    return out, record


def components(population: xr.DataArray, source_cell_area_m2: float, built_up: xr.DataArray,
               survey_densities: Sequence[xr.DataArray], sigma_m: float) -> tuple[dict, dict, dict]:
    """The exposure components of :data:`EXPOSURE_COMPONENTS`, with their file metadata.

    Parameters
    ----------
    population : DataArray
        Persons per cell of the population raster, averaged onto the grid (GDAL ``average``): a
        density per source-cell area.
    source_cell_area_m2 : float
        Area of one cell of the population raster (:func:`risk.io.source_cell_area_m2`).
    built_up : DataArray
        Built-up share (0–1).
    survey_densities : sequence of DataArray
        Kernel density of each survey category (points per km²), summed.
    sigma_m : float
        σ of those densities (recorded in the tags).

    Returns
    -------
    layers, tags, descriptions : dict
        Keyed by component name.
    """
    pop = per_km2(population, source_cell_area_m2, name="population")
    survey = sum(survey_densities[1:], survey_densities[0]).rename("survey_points")
    layers = {"population": pop, "built_up": built_up, "survey_points": survey}
    tags = {"population": {"UNITS": "persons per km2"}, "built_up": {"UNITS": "fraction"},
            "survey_points": {"UNITS": "points per km2", "SIGMA_M": sigma_m}}
    return layers, tags, {k: DESCRIPTIONS[k] for k in layers}


def index_layer(components: Mapping[str, xr.DataArray], recorded: Mapping[str, tuple[float, float] | None],
                weights: Mapping[str, float], transforms: Mapping[str, str] | None = None, q=(0.02, 0.98),
                sample_size: int = 100_000) -> tuple[dict, dict, dict]:
    """The exposure index of the written components, with its file metadata.

    Parameters
    ----------
    components : dict of str to DataArray
        The components as written (read back from their files).
    recorded : dict of str to (float, float) or None
        Quantiles ``q`` of a sample of ``sample_size`` cells recorded in each component's file
        (:func:`risk.io.batchwrite.sample_bounds`); used as the bounds of untransformed components.
    weights, transforms, q, sample_size
        As for :func:`exposure_index`.

    Returns
    -------
    layers, tags, descriptions : dict
        Keyed by ``exposure``; the tags record the bounds and weights of each component.
    """
    transforms = dict(transforms or {})
    bounds = {k: v for k, v in recorded.items() if v and transforms.get(k, "none") == "none"}
    index, record = exposure_index(components, weights, transforms, q, sample_size, bounds=bounds)
    logger.info("exposure components: %s", record)
    return ({"exposure": index}, {"exposure": {"UNITS": "1", "COMPONENTS": json.dumps(record)}},
            {"exposure": DESCRIPTIONS["exposure"]})
