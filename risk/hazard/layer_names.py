"""What the hazard stage writes, by name: the indicator table of each hazard and the terrain layers.

Only the standard library: the workflow reads these names when Snakemake parses the Snakefile, and a
module that imports numpy, xarray or numba would make every Snakemake start-up pay for them.
:mod:`risk.hazard.indicators` and :mod:`risk.hazard.terrain` re-export them.
"""

from __future__ import annotations

from dataclasses import dataclass

TERRAIN_LAYERS = ("slope", "aspect", "curvature", "relief", "twi", "flow_accumulation", "depression_depth")
"""The terrain rule's layers (``indicators/terrain/<name>.tif``), in the order they are written."""


@dataclass(frozen=True)
class Indicator:
    """One indicator raster of a hazard.

    Parameters
    ----------
    name : str
        File stem under ``indicators/<hazard>/``.
    meaning, unit, source : str
        What it measures, its unit, and where it comes from.
    direction : str
        ``more``: more of it is more dangerous; ``less``: less of it is more dangerous.
    bounds : (float, float), optional
        Fixed normalisation bounds (for scores on a known scale); otherwise quantiles.
    transform : str
        Transform before normalising (``none`` or ``log1p``).
    """

    name: str
    meaning: str
    unit: str
    source: str
    direction: str
    bounds: tuple[float, float] | None = None
    transform: str = "none"


_SLOPE = Indicator("slope", "terrain slope", "degree", "DEM (Horn 3×3, xarray-spatial)", "more")
_RAIN = Indicator("rain_max24h", "maximum 24-hour rainfall", "mm", "input `rain_max24h` (bilinear)", "more")
_D_RIVERS = Indicator("distance_rivers", "distance to the nearest river", "m",
                      "input `rivers` rasterised, exact EDT", "less")
_D_ROADS = Indicator("distance_roads", "distance to the nearest road", "m", "input `roads` rasterised, exact EDT",
                     "less")

INDICATORS: dict[str, tuple[Indicator, ...]] = {
    "waterlogging": (
        Indicator("depression_depth", "depth of the closed depression the cell lies in (water ponds there)", "m",
                  "DEM, Priority-Flood fill minus DEM", "more"),
        Indicator("twi", "topographic wetness index ln(a / tan β)", "ln(m)", "DEM, D8 flow accumulation and slope",
                  "more"),
        _D_RIVERS,
        Indicator("built_up_share", "share of built-up (sealed) cells within the built-up radius", "fraction 0–1",
                  "input `landcover`", "more", bounds=(0.0, 1.0)),
        _RAIN,
        Indicator("slope", "terrain slope (flat ground drains slowly)", "degree", "DEM (Horn 3×3, xarray-spatial)",
                  "less"),
    ),
    "geological": (
        _SLOPE,
        Indicator("relief", "local relief: highest minus lowest elevation within the relief radius", "m",
                  "DEM", "more"),
        Indicator("curvature", "magnitude of total curvature (convex scarps and concave hollows)", "1/100 m⁻¹",
                  "DEM (xarray-spatial curvature), absolute value", "more"),
        Indicator("distance_rivers", "distance to the nearest river (toe erosion)", "m",
                  "input `rivers` rasterised, exact EDT", "less"),
        Indicator("distance_roads", "distance to the nearest road (cut slopes)", "m",
                  "input `roads` rasterised, exact EDT", "less"),
        Indicator("landcover", "land-cover susceptibility score (bare and cultivated slopes fail more)",
                  "score 0–1", "input `landcover`, `indicators.landcover_scores.geological`", "more",
                  bounds=(0.0, 1.0)),
        _RAIN,
    ),
    "earthquake": (
        Indicator("pga", "peak ground acceleration on rock", "g", "input `pga` (bilinear)", "more"),
        Indicator("site_amplification", "short-period site amplification (760 / Vs30)^0.35", "factor",
                  "Vs30 proxy from slope (Wald & Allen 2007), Borcherdt (1994)", "more"),
        Indicator("slope", "terrain slope (co-seismic landslides, topographic amplification)", "degree",
                  "DEM (Horn 3×3, xarray-spatial)", "more"),
        Indicator("vs30", "slope-based Vs30 (informative; weight 0 by default)", "m/s",
                  "DEM smoothed to ≈ 30″, Wald & Allen (2007)", "less"),
    ),
    "wildfire": (
        Indicator("fuel", "fuel load score of the land cover", "score 0–1",
                  "input `landcover`, `indicators.landcover_scores.fuel`", "more", bounds=(0.0, 1.0)),
        _SLOPE,
        Indicator("aspect_dryness", "dryness of the slope's aspect: 1 facing SSW, 0 facing NNE, 0.5 flat",
                  "score 0–1", "DEM aspect (xarray-spatial)", "more", bounds=(0.0, 1.0)),
        Indicator("distance_roads", "distance to the nearest road (human ignitions)", "m",
                  "input `roads` rasterised, exact EDT", "less"),
        Indicator("distance_settlements", "distance to the nearest settlement (human ignitions)", "m",
                  "input `settlements` points, exact EDT", "less"),
    ),
    "wind": (
        Indicator("wind50", "50-year return wind speed", "m/s", "input `wind50` (bilinear)", "more"),
        Indicator("terrain_exposure", "topographic position: elevation above the mean within the exposure radius",
                  "m", "DEM", "more"),
        Indicator("roughness", "aerodynamic roughness length of the land cover (rough ground slows wind)", "m",
                  "input `landcover`, `indicators.landcover_scores.roughness_m`", "less", transform="log1p"),
    ),
}
"""Indicators of each hazard, in the order they are documented and written."""


def indicator_names(hazard: str) -> list[str]:
    """File stems of a hazard's indicators."""
    return [i.name for i in INDICATORS[hazard]]
