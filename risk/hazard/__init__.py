"""Hazard stage (``workflow/rules/hazard.smk``): indicator rasters from the inputs, on numpy or Dask.

* :mod:`~risk.hazard.terrain` (rule ``terrain``) with :mod:`~risk.hazard.hydrology` -- DEM derivatives;
* :mod:`~risk.hazard.indicators` (rule ``indicators``) -- the per-hazard indicator table and layers,
  with :mod:`~risk.hazard.proximity` (exact distance) and :mod:`~risk.hazard.vs30` (site conditions);
* :mod:`~risk.hazard.point_rasters` (rule ``point_rasters``) -- counts, density and values at points;
* :mod:`~risk.hazard.normalize` -- indicators scaled to 0-1 with their direction;
* :mod:`~risk.hazard.indicator_index` (rule ``indicator_index``) -- the weighted index kernel and the
  configurable-weight screening index of every hazard.
"""
