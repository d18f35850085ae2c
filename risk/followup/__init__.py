"""Follow-up over time: survey rounds compared, hidden-danger rectification tracked, scenarios compared.

* :mod:`risk.followup.changes` -- two survey rounds matched point by point (new, removed, moved, rectified ...);
* :mod:`risk.followup.history` -- each point's status across rounds and the points open past a deadline;
* :mod:`risk.followup.compare` -- two results folders (two rounds, or a baseline and a scenario) compared;
* :mod:`risk.followup.scenario` -- a scenario: a config overlay run on top of a base run, reusing its outputs.
"""
