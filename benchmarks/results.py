"""The versioned result record of one evaluation (detector x corpus split x policy).

A result is written as ``results.json`` beside ``traces.parquet``. It carries the metrics, a
sentence per metric saying how it was computed, and the provenance needed to trust it: the
detector's metadata, the corpus fingerprint, the policy, the runner settings, the package
version, and a leakage flag when the detector was trained on the split it is scored on.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.metrics import METRIC_DEFINITIONS, compute_metrics
from benchmarks.metrics.errors import ERROR_BOUND_DEFINITIONS, error_bounds
from benchmarks.metrics.length_control import LENGTH_CONTROL_DEFINITIONS, length_controlled
from benchmarks.policies import Policy
from benchmarks.traces import Traces

RESULT_SCHEMA_VERSION = "1"
RESULTS_FILE = "results.json"
TRACES_FILE = "traces.parquet"

TIMING_DEFINITIONS = {
    "ms_per_message_p50": "median over conversations of detector compute time per message (ms); "
    "a batch's time is shared among its conversations in proportion to their messages",
    "ms_per_message_p99": "99th percentile of the same per-message compute time (ms)",
    "messages_per_second": "messages scored per second of detector compute time",
}


def _clean(value: Any) -> Any:
    # JSON has no NaN: undefined numbers are written as null, never as 0.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class RunResult:
    """One evaluation's outcome and provenance.

    ``usage`` holds what a slow or paid detector spent (requests, calls, retries, cache hits,
    cost; defined in ``definitions`` under ``usage.<name>``); it is empty for local detectors.
    ``audit`` holds every metric's interval with its method, the bootstrap's settings, the
    clusters and a claim's verdict (see :mod:`benchmarks.audit`); empty when not audited.
    ``guarantees`` says which guarantees held: ``isolation`` (``in-process``, ``sandboxed``,
    ``UNSANDBOXED``, ``remote service``), ``trusted``, ``causality`` (mode and the
    checked/failed/unchecked counts) and ``flags`` (``UNSANDBOXED``, ``UNVERIFIED``), which
    every place that shows the result repeats. ``robustness`` holds the perturbation families'
    flip rates and tests and GroomCheck's per-test results (see :mod:`benchmarks.robustness`);
    empty when neither ran. ``reliability`` holds the second-process re-score of a seeded sample
    and the content hashes of the corpus, the predictions and the config (see
    :mod:`benchmarks.reliability`); empty when the audit is off.
    """

    detector: dict[str, Any]
    corpus: dict[str, Any]
    policy: dict[str, Any]
    runner: dict[str, Any]
    metrics: dict[str, float | None]
    definitions: dict[str, str]
    metrics_config: dict[str, Any] = field(default_factory=dict)
    leakage: bool = False
    usage: dict[str, float] = field(default_factory=dict)
    audit: dict[str, Any] = field(default_factory=dict)
    guarantees: dict[str, Any] = field(default_factory=dict)
    robustness: dict[str, Any] = field(default_factory=dict)
    reliability: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    schema_version: str = RESULT_SCHEMA_VERSION
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    software: dict[str, str] = field(default_factory=dict)

    @property
    def flags(self) -> tuple[str, ...]:
        """The warnings that travel with this result: LEAKAGE, UNSANDBOXED, UNVERIFIED."""
        leak = ("LEAKAGE",) if self.leakage else ()
        return leak + tuple(self.guarantees.get("flags", ()))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        out = asdict(self)
        out["metrics"] = {k: _clean(v) for k, v in self.metrics.items()}
        out["notes"] = list(self.notes)
        return out

    def save(self, folder: str | Path) -> Path:
        """Write ``results.json`` into ``folder``; return its path."""
        target = Path(folder) / RESULTS_FILE
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True), encoding="utf-8")
        return target

    @classmethod
    def load(cls, path: str | Path) -> RunResult:
        """Read a ``results.json`` (or the folder holding it)."""
        file = Path(path)
        if file.is_dir():
            file = file / RESULTS_FILE
        data = json.loads(file.read_text(encoding="utf-8"))
        if data.get("schema_version") != RESULT_SCHEMA_VERSION:
            raise ValueError(
                f"{file}: result schema {data.get('schema_version')!r}, this groombench reads "
                f"{RESULT_SCHEMA_VERSION!r}"
            )
        data["notes"] = tuple(data.get("notes", ()))
        return cls(**data)

    def with_policy(self, traces: Traces, policy: Policy, params: dict[str, Any]) -> RunResult:
        """Return this result recomputed from ``traces`` under another policy."""
        metrics, definitions = score_traces(traces, policy, self.metrics_config.get("latency_p"))
        return replace(
            self,
            policy=describe_policy(policy, params),
            metrics=metrics,
            definitions=definitions,
            notes=(*self.notes, "metrics recomputed from saved traces under another policy"),
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )


def describe_policy(policy: Policy, params: dict[str, Any]) -> dict[str, Any]:
    """Return the policy's name, parameters, label and one-sentence rule."""
    return {
        "name": policy.name,
        "params": params,
        "rule": policy.describe(),
        "label": policy_label(policy.name, params),
    }


def policy_label(name: str, params: dict[str, Any]) -> str:
    """Return a short label that tells two settings of one policy apart.

    Floats print as written: a sweep's ``0.1 + 0.6`` is ``0.7``, not ``0.7000000000000001``.

    Examples:
        >>> policy_label("vote", {"threshold": 0.5, "window": 10, "min_positive": 5})
        'vote(min_positive=5,threshold=0.5,window=10)'
        >>> policy_label("threshold", {"threshold": 0.1 + 0.6})
        'threshold(threshold=0.7)'
    """
    inner = ",".join(f"{k}={as_written(params[k])}" for k in sorted(params))
    return f"{name}({inner})" if inner else name


def as_written(value: Any) -> str:
    """A setting as a person wrote it: floats rounded to 12 significant places.

    Examples:
        >>> as_written(0.7000000000000001), as_written(4.0), as_written("x")
        ('0.7', '4.0', 'x')
    """
    if isinstance(value, float) and math.isfinite(value):
        return repr(float(f"{value:.12g}"))
    return str(value)


def _error_bounds(traces: Traces, metrics: dict[str, float | None]) -> dict[str, float | None]:
    errored = [
        label
        for label, error in zip(traces.column("label"), traces.column("error"), strict=True)
        if error is not None
    ]
    pos = sum(1 for label in errored if label == 1)
    bounds = error_bounds(
        int(metrics["tp"] or 0),
        int(metrics["fp"] or 0),
        int(metrics["fn"] or 0),
        errored_pos=pos,
        errored_neg=len(errored) - pos,
    )
    return {"n_errors_positive": pos, "n_errors_negative": len(errored) - pos} | asdict(bounds)


def _length_controlled(traces: Traces) -> dict[str, float | None]:
    """The length-controlled metrics over the conversations that did not error."""
    keep = [e is None for e in traces.column("error")]

    def kept(name: str) -> list[Any]:
        return [v for v, ok in zip(traces.column(name), keep, strict=True) if ok]

    return length_controlled(kept("label"), kept("n_messages"), kept("checkpoints"), kept("scores"))


def score_traces(
    traces: Traces, policy: Policy, latency_p: float | None = None
) -> tuple[dict[str, float | None], dict[str, str]]:
    """Compute every metric from traces under ``policy``; return (metrics, definitions)."""
    outcomes = traces.outcomes(policy)
    metrics: dict[str, float | None] = dict(compute_metrics(outcomes, latency_p=latency_p))
    metrics["n_errors"] = traces.n_errors
    metrics.update(_error_bounds(traces, metrics))
    metrics.update(traces.timing())
    metrics.update(_length_controlled(traces))
    definitions = (
        dict(METRIC_DEFINITIONS)
        | LENGTH_CONTROL_DEFINITIONS
        | ERROR_BOUND_DEFINITIONS
        | TIMING_DEFINITIONS
    )
    definitions["policy"] = policy.describe()
    return metrics, definitions
