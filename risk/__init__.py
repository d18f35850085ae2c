"""risk: a reproducible natural-hazard risk survey and assessment pipeline.

The package holds pure functions (arrays and frames in, arrays and frames out) grouped by
domain; reading and writing files lives in :mod:`risk.io`, and the Snakemake workflow under
``workflow/`` calls thin scripts that glue the two together.
"""

from risk.warm import handoff

# A rule's script imports risk first: when the run has a warm-start server (risk.warm), the script runs there,
# in a fork of a Python that has already imported the stack, and this process exits with its status.
handoff()

__version__ = "0.1.0"

HAZARDS = ("waterlogging", "geological", "earthquake", "wildfire", "wind")
"""Hazard keys used throughout (outputs contract)."""

HAZARD_LABELS = {
    "waterlogging": ("暴雨内涝", "Rainstorm waterlogging"),
    "geological": ("地质灾害", "Geological hazard"),
    "earthquake": ("地震", "Earthquake"),
    "wildfire": ("森林草原火灾", "Forest and grassland fire"),
    "wind": ("大风", "Strong wind"),
    "multi_hazard": ("多灾种综合", "Multi-hazard"),
}

CATEGORIES = ("waterlogging", "crane", "power", "billboard", "garden")
"""Survey categories (survey-inputs contract)."""

CATEGORY_LABELS = {
    "waterlogging": ("内涝点", "Waterlogging spot"),
    "crane": ("大型起重设备", "Large crane"),
    "power": ("电力设施", "Power facility"),
    "billboard": ("广告牌", "Billboard"),
    "garden": ("园林设施", "Garden/landscape facility"),
}
