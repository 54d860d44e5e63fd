"""Robustness and GroomCheck: what a detector cannot do, test by test (docs/groomcheck.md).

``settings`` reads the ``perturb`` section; ``variants`` builds the perturbed and extended copies
of a split; ``scores`` turns paired decisions into failure and flip rates with their intervals
and tests; ``suite`` runs the detector over the copies and assembles what ``results.json``,
MLflow, the leaderboard and the report card show.
"""
