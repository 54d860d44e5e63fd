"""The headline metrics' interval ends, for MLflow and the leaderboard (cheap to import).

Kept apart from :mod:`benchmarks.audit.assemble` (scipy, the bootstrap) so that the leaderboard
and the CLI's summary stay fast to start.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

#: Metrics whose interval goes to the leaderboard and MLflow (``<metric>_low/_high``).
HEADLINE: tuple[str, ...] = ("precision", "recall", "f1", "fpr", "roc_auc", "ttd_median")


def headline_columns(intervals: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    """``<metric>_low``/``<metric>_high`` for the headline metrics (MLflow, leaderboard)."""
    out: dict[str, float] = {}
    for name in HEADLINE:
        interval = intervals.get(name) or {}
        for end in ("low", "high"):
            value = interval.get(end)
            if value is not None and math.isfinite(float(value)):
                out[f"{name}_{end}"] = float(value)
    return out
