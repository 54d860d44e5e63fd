"""Audit mode: intervals on every number, fixed operating points, claims and verdicts, power,
deployment prevalence, comparisons, subgroups, and the report card (see docs/audit.md).

The statistics follow ../shared/docs/AUDIT.md: exact or Wilson intervals for rates, a seeded
cluster bootstrap for composite metrics, decisions fixed before the run.
"""
