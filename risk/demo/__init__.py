"""Synthetic demo inputs for any area of interest: ``python -m risk demo`` or :func:`generate`.

A plausible landscape (terrain with a carved river network, townships, settlements, roads, land
cover, population), coarse hazard grids, events drawn from known probability surfaces (written
to ``truth/`` for validation), the messy survey exports county offices send (with planted
defects), facilities, capacity and statistics tables, and a config naming all of it.
"""

from risk.demo.generate import generate, make_config

__all__ = ["generate", "make_config"]
