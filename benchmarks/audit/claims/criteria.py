"""Robustness and reliability criteria a claim declares, and their pass/fail.

Accuracy endpoints are judged by :mod:`benchmarks.audit.claims.verdicts` (one-sided bounds,
margins, α). A claim may also declare thresholds on what the robustness run, GroomCheck and the
reliability check measure (``criteria:`` in the claim file)::

    criteria:
      groomcheck.worst_failure_rate: {max: 0.25}
      robustness.leetspeak.flip_rate_pos: {max: 0.10}
      reliability.same: true

The report card gives pass or fail only for what was declared, and only on the evidence named:
a failure or flip rate with a Wilson interval passes a ``max`` when its **upper** 95% bound is
at most the threshold (a ``min`` when its lower bound is at least it); the worst functional test
passes when every test's upper bound does; other numbers are judged on their value. A criterion
whose number was not measured (no ``perturb=``, not GroomCheck) is "not measured", never a pass.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from benchmarks.errors import ConfigError

KINDS = {"groomcheck": "robustness", "robustness": "robustness", "reliability": "reliability"}
RULES = ("max", "min", "equals")


@dataclass(frozen=True)
class Criterion:
    """One declared criterion: ``metric`` (a results key) ``rule`` ``threshold``."""

    metric: str
    rule: str
    threshold: float | bool

    @property
    def kind(self) -> str:
        """``robustness`` or ``reliability``: the report section it belongs to."""
        return KINDS[self.metric.split(".", 1)[0]]


def load_criteria(node: Any, name: str) -> tuple[Criterion, ...]:
    """Validate a claim's ``criteria`` mapping.

    Examples:
        >>> load_criteria({"robustness.mean_flip_rate": {"max": 0.1},
        ...                "reliability.same": True}, "v")
        (Criterion(metric='robustness.mean_flip_rate', rule='max', threshold=0.1), \
Criterion(metric='reliability.same', rule='equals', threshold=True))
        >>> load_criteria({"recall": {"min": 0.9}}, "v")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        benchmarks.errors.ConfigError: claim 'v': criterion 'recall' ...
    """
    if node is None:
        return ()
    if not isinstance(node, Mapping):
        raise ConfigError(f"claim {name!r}: criteria must map a metric to {{max|min: <number>}}")
    out = []
    for metric, rule in node.items():
        metric = str(metric)
        if metric.split(".", 1)[0] not in KINDS or "." not in metric:
            raise ConfigError(
                f"claim {name!r}: criterion {metric!r} is not a groomcheck.*, robustness.* or "
                "reliability.* number; accuracy goes under metrics:"
            )
        if isinstance(rule, bool):
            out.append(Criterion(metric, "equals", rule))
            continue
        if not isinstance(rule, Mapping) or len(rule) != 1 or next(iter(rule)) not in RULES[:2]:
            raise ConfigError(
                f"claim {name!r}: criterion {metric!r} is {rule!r}; write {{max: <number>}} "
                "or {min: <number>} (or true for reliability.same)"
            )
        ((kind, value),) = rule.items()
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ConfigError(f"claim {name!r}: criterion {metric!r}: {kind} must be a number")
        out.append(Criterion(metric, str(kind), float(value)))
    return tuple(out)


def judge(
    criteria: tuple[Criterion, ...],
    metrics: Mapping[str, Any],
    robustness: Mapping[str, Any],
    reliability: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """Pass, fail or not measured, for each criterion, with the evidence used.

    Examples:
        >>> rob = {"groomcheck": {"functional": {"t1": {"failure_rate": 0.1,
        ...        "interval": [0.03, 0.3]}, "t2": {"failure_rate": 0.0, "interval": [0, 0.09]}}}}
        >>> rows = judge(load_criteria({"groomcheck.worst_failure_rate": {"max": 0.2},
        ...     "robustness.mean_flip_rate": {"max": 0.2}}, "v"),
        ...     {"groomcheck.worst_failure_rate": 0.1}, rob, {})
        >>> [(r["metric"], r["outcome"]) for r in rows]
        [('groomcheck.worst_failure_rate', 'fail'), ('robustness.mean_flip_rate', 'not measured')]
    """
    rows = []
    for criterion in criteria:
        value, bound, evidence = _evidence(criterion, metrics, robustness, reliability)
        outcome = "not measured"
        if bound is not None:
            if criterion.rule == "max":
                outcome = "pass" if bound <= criterion.threshold else "fail"
            elif criterion.rule == "min":
                outcome = "pass" if bound >= criterion.threshold else "fail"
            else:
                outcome = "pass" if bound == criterion.threshold else "fail"
        rows.append(
            {
                "metric": criterion.metric,
                "kind": criterion.kind,
                "rule": criterion.rule,
                "threshold": criterion.threshold,
                "value": value,
                "evidence": evidence,
                "outcome": outcome,
            }
        )
    return rows


def _evidence(
    criterion: Criterion,
    metrics: Mapping[str, Any],
    robustness: Mapping[str, Any],
    reliability: Mapping[str, Any],
) -> tuple[Any, Any, str]:
    """(the measured value, the number judged, how) for one criterion."""
    name, rule = criterion.metric, criterion.rule
    end = 1 if rule == "max" else 0
    side = "upper" if rule == "max" else "lower"
    if name.startswith("reliability."):
        key = name.split(".", 1)[1]
        if not reliability.get("checked"):
            return None, None, "the reliability check did not run"
        value = reliability.get(key)
        return value, value, "the second-process re-score"
    functional = (robustness.get("groomcheck") or {}).get("functional") or {}
    if name == "groomcheck.worst_failure_rate" and functional and rule != "equals":
        bounds = [(t.get("interval") or [None, None])[end] for t in functional.values()]
        known = [b for b in bounds if b is not None]
        if known:
            bound = max(known) if rule == "max" else min(known)
            return metrics.get(name), bound, f"every functional test's Wilson 95% {side} bound"
    parts = name.split(".")
    interval = None
    if parts[0] == "groomcheck" and len(parts) == 3 and parts[1] in functional:
        interval = functional[parts[1]].get("interval")
    if parts[0] == "robustness" and len(parts) == 3 and parts[2].startswith("flip_rate_"):
        family = (robustness.get("families") or {}).get(parts[1]) or {}
        which = "positives" if parts[2].endswith("pos") else "negatives"
        interval = (family.get(which) or {}).get("interval")
    value = metrics.get(name)
    if interval and interval[end] is not None and rule != "equals":
        return value, interval[end], f"Wilson 95% {side} bound"
    return value, value, "the measured value"
