"""`evaluate` wrappers of the early-detection metrics, one module per metric.

Nothing is imported here: each module imports `evaluate` (slow) only when it is itself
imported. Use a metric directly or load it by local path, never from the hub::

    from benchmarks.metrics.hf.latency_f1 import LatencyF1
    LatencyF1().compute(predictions=..., references=..., n_messages=...)

    import evaluate
    evaluate.load(module_path("latency_f1")).compute(...)

Examples:
    >>> module_path("erde").endswith("benchmarks/metrics/hf/erde.py")
    True
"""

from __future__ import annotations

from pathlib import Path

#: The metric modules in this folder, by file stem.
MODULE_NAMES: tuple[str, ...] = (
    "time_to_detection",
    "latency_f1",
    "erde",
    "detected_before_escalation",
)


def module_path(name: str) -> str:
    """Return the absolute path of the metric module ``name``, for ``evaluate.load``."""
    if name not in MODULE_NAMES:
        raise ValueError(f"unknown metric module {name!r}; choose from {MODULE_NAMES}")
    return str(Path(__file__).resolve().parent / f"{name}.py")
