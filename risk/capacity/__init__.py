"""Capacity stage (``workflow/rules/capacity.smk``): what townships can do about the risk.

* :mod:`~risk.capacity.capacity_index` -- disaster-reduction capacity index (GB/T 43981 structure);
* :mod:`~risk.capacity.comprehensive_risk` -- risk lowered by capacity, priority townships (三高一低);
* :mod:`~risk.capacity.shelters` -- shelter coverage of hazard-prone settlements and new sites;
* :mod:`~risk.capacity.relief_access` -- relief travel time from the depots;
* :mod:`~risk.capacity.plan_targets` -- the plan's quantified targets and progress;
* :mod:`~risk.capacity.plots` -- their figures.
"""
