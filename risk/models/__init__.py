"""Hazard models: trained susceptibility (presence-background, spatial CV) and index models.

* :mod:`risk.models.sampling` -- presences and background samples;
* :mod:`risk.models.spatial_cv` -- spatial block CV with blocks sized from the data;
* :mod:`risk.models.susceptibility` -- candidate classifiers, selection, prediction on Dask;
* :mod:`risk.models.index_model` -- weighted indices (AHP / entropy weights) for hazards without labels.

Submodules are imported on demand (scikit-learn takes seconds to import, and most rules never
need it).
"""
