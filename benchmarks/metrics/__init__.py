"""Metrics of a detector run: classification, early detection, and the suite of result keys.

Importing this package is cheap (numpy only); the `evaluate` wrappers live in
:mod:`benchmarks.metrics.hf` and import `evaluate` only when loaded. See ``docs/metrics.md``.
"""

from __future__ import annotations

from benchmarks.metrics.early import detection_curve, percentile
from benchmarks.metrics.outcomes import Outcomes
from benchmarks.metrics.suite import METRIC_DEFINITIONS, RESULT_KEYS, compute_metrics

__all__ = [
    "METRIC_DEFINITIONS",
    "RESULT_KEYS",
    "Outcomes",
    "compute_metrics",
    "detection_curve",
    "percentile",
]
