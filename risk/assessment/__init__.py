"""Assessment stage (``workflow/rules/assessment.smk``): from hazard to risk, zones, tables and points.

* :mod:`~risk.assessment.exposure`, :mod:`~risk.assessment.vulnerability` -- what can be harmed, how easily;
* :mod:`~risk.assessment.combine_risk` -- risk per hazard and multi-hazard risk;
* :mod:`~risk.assessment.zoning` -- five-level zones and their class breaks;
* :mod:`~risk.assessment.risk_register` -- every surveyed point, ranked;
* :mod:`~risk.assessment.township_tables` -- zonal statistics per township;
* :mod:`~risk.assessment.class_stability` -- Monte-Carlo stability of the zones.
"""
