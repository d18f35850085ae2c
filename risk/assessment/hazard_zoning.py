"""Hazard zoning (危险性/易发性区划): the hazard of every hazard cut into levels, beside the risk zoning.

``zoning/hazard/<hazard>.tif`` has the contract of the risk zoning (uint8, nodata 0, COG with colour
table, ``.qml``, method and breaks in the tags). The number of levels is set per hazard
(``hazard_zoning.levels``): five 低 / 较低 / 中 / 较高 / 高 by default, or four 低 / 中 / 高 / 极高, the
scheme of geological-hazard susceptibility zoning (地质灾害易发性分区), on request. The class breaks come
from ``hazard_zoning.method`` (default: that of the risk zoning) over every cell of the study area.
"""

from __future__ import annotations

from collections.abc import Mapping

import xarray as xr

from risk.assessment.zoning import level_scheme, zone, zoning_tags


def hazard_levels(hazard: str, hazard_zoning: Mapping) -> int:
    """Number of levels of a hazard's zoning: ``hazard_zoning.levels.<hazard>``, else 5.

    Examples
    --------
    >>> hazard_levels("geological", {"levels": {"geological": 4}}), hazard_levels("wind", {})
    (4, 5)
    """
    return int((hazard_zoning.get("levels") or {}).get(hazard, 5))


def band_description(hazard: str, levels: int = 5) -> str:
    """Bilingual band description of a hazard zoning raster.

    Examples
    --------
    >>> band_description("x", 4)
    'x危险性/易发性区划 x hazard zone (1 低 Low … 4 极高 Very high, 0 nodata)'
    """
    from risk import HAZARD_LABELS

    zh, en = HAZARD_LABELS.get(hazard, (hazard, hazard))
    top = level_scheme(levels)[0][levels]
    return f"{zh}危险性/易发性区划 {en} hazard zone (1 低 Low … {levels} {top[0]} {top[1]}, 0 nodata)"


def map_title(area_name: str, hazard: str) -> str:
    """Bilingual title of a hazard zoning map.

    Examples
    --------
    >>> map_title("A", "x")
    'A x危险性/易发性区划 x hazard zones'
    """
    from risk import HAZARD_LABELS

    zh, en = HAZARD_LABELS.get(hazard, (hazard, hazard))
    en = en[: -len(" hazard")] if en.endswith(" hazard") else en  # "Geological hazard" -> "Geological hazard zones"
    return f"{area_name} {zh}危险性/易发性区划 {en} hazard zones"


def zone_hazard(index: xr.DataArray, hazard: str, hazard_zoning: Mapping, source: str = "") -> dict:
    """The hazard zoning of one hazard and everything its files need.

    Parameters
    ----------
    index : DataArray
        The hazard raster (0–1, NaN outside).
    hazard : str
        Its key.
    hazard_zoning : mapping
        The config's ``hazard_zoning`` section (``method``, ``thresholds``, ``sample_size``, ``levels``).
    source : str
        Name of the hazard file, for the tags.

    Returns
    -------
    dict
        ``zones`` (uint8 1..levels, 0 nodata), ``breaks``, ``tags``, ``description``, ``labels``, ``colors``.
    """
    k = hazard_levels(hazard, hazard_zoning)
    labels, colors = level_scheme(k)
    method = hazard_zoning["method"]
    thresholds = (hazard_zoning.get("thresholds") or {}).get(hazard)
    zones, breaks = zone(index, method, hazard_zoning["sample_size"], thresholds, f"{hazard} hazard", k=k)
    tags = {**zoning_tags(hazard, method, breaks, source, labels), "ZONING_KIND": "hazard 危险性/易发性",
            "LEVELS": str(k)}
    return {"zones": zones, "breaks": breaks, "tags": tags, "description": band_description(hazard, k),
            "labels": labels, "colors": colors}
