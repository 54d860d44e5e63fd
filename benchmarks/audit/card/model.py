"""The report card's data: :class:`ReportCard`, plain JSON-serialisable fields that the harness
fills and the renderers (:mod:`benchmarks.audit.card.sections`, :mod:`benchmarks.audit.card.report`,
:mod:`benchmarks.audit.card.transparency`) only read. It imports none of them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any


def json_ready(value: Any) -> Any:
    """Return ``value`` as plain JSON data: NaN and infinities None, tuples lists."""
    # JSON has no NaN: an undefined number is written as null, never as 0.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return json_ready(value.item())
    return value


CARD_SCHEMA_VERSION = "1"


@dataclass(frozen=True)
class ReportCard:
    """Everything one report card shows; the harness fills it, the renderers only read it.

    Attributes:
        title: the page title.
        created_at: ISO 8601 time the card was assembled.
        claim: the claim as declared before the run (unit, population, operating point,
            metrics, prevalences, margin, α, decision rule), or None when none was declared.
        verdicts: one dict per endpoint: ``metric, claimed, margin, alpha, estimate, low,
            high, bound, outcome, reason, needed_n, method`` (optionally ``direction``).
        overall_verdict: the verdict over all endpoints, in words.
        plan: the power calculation / sample-size plan made before the run, as text.
        data: corpus ``name, version, fingerprint`` (or checksums), ``split``, ``counts`` (by
            class and cluster) and ``limitations`` (list of sentences), plus anything else.
        detector: ``name, version``, threshold / policy, ``trained_on``, ``leakage`` flag,
            ``usage`` (cost), plus anything else.
        metrics: metric name → interval dict (``estimate, low, high, level, method, n, note``).
        definitions: metric name → how it was computed.
        bootstrap: ``seed, n_resamples, level, method, n_clusters, cluster_by``.
        operating_points: dicts ``target_fpr, threshold, tpr, tpr_low, tpr_high, fpr,
            n_negatives_above``.
        prevalence: dicts ``prevalence, ppv, ppv_low, ppv_high, false_flags_per_million,
            ff_low, ff_high``.
        detection_cost: the detection cost and its parameters, or None.
        subgroups: :meth:`benchmarks.audit.stats.subgroups.SubgroupRow.to_dict` rows.
        stage_detection: :meth:`benchmarks.audit.stats.subgroups.StageRow.to_dict` rows.
        latency: ``messages`` (first-alert index k of every true positive) and ``minutes``
            (chat minutes to the alert, where known); other keys are shown as notes.
        detection_curve: ``[k, share of positives alerted by message k]`` pairs.
        calibration: bins ``mean_score, observed_rate, count``.
        calibration_groups: per age band and language: ``attribute, value, n, n_positive,
            mean_score, observed_rate, ece`` (fairness of the scores, not only the decisions).
        robustness: the result's ``robustness`` section (perturbation families, GroomCheck).
        reliability: the result's ``reliability`` section (second-process re-score, hashes).
        criteria: the claim's declared robustness and reliability criteria with their
            outcomes (:func:`benchmarks.audit.claims.criteria.judge` rows).
        curves: ``{"det": {"fpr": [...], "fnr": [...]}, "pr": {"precision": [...],
            "recall": [...]}}``.
        comparisons: one dict per comparison (comparison cards).
        reproduction: ``command``, ``config`` (YAML text), ``seeds``, ``versions``,
            ``git_sha`` and anything else needed to rerun.
        notes: free sentences about this run.
    """

    title: str
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    claim: dict[str, Any] | None = None
    verdicts: list[dict[str, Any]] = field(default_factory=list)
    overall_verdict: str = ""
    plan: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    detector: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    definitions: dict[str, str] = field(default_factory=dict)
    bootstrap: dict[str, Any] = field(default_factory=dict)
    operating_points: list[dict[str, Any]] = field(default_factory=list)
    prevalence: list[dict[str, Any]] = field(default_factory=list)
    detection_cost: dict[str, Any] | None = None
    subgroups: list[dict[str, Any]] = field(default_factory=list)
    stage_detection: list[dict[str, Any]] = field(default_factory=list)
    latency: dict[str, Any] = field(default_factory=dict)
    detection_curve: list[Any] = field(default_factory=list)
    calibration: list[dict[str, Any]] = field(default_factory=list)
    calibration_groups: list[dict[str, Any]] = field(default_factory=list)
    robustness: dict[str, Any] = field(default_factory=dict)
    reliability: dict[str, Any] = field(default_factory=dict)
    criteria: list[dict[str, Any]] = field(default_factory=list)
    curves: dict[str, Any] = field(default_factory=dict)
    comparisons: list[dict[str, Any]] = field(default_factory=list)
    reproduction: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    schema_version: str = CARD_SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict: tuples become lists, NaN and infinities become None."""
        return {k: json_ready(v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReportCard:
        """Rebuild a card from :meth:`to_dict` output (unknown keys are rejected).

        Raises:
            ValueError: on another card schema version or an unknown key.
        """
        version = data.get("schema_version", CARD_SCHEMA_VERSION)
        if version != CARD_SCHEMA_VERSION:
            raise ValueError(
                f"report card schema {version!r}; this groombench reads {CARD_SCHEMA_VERSION!r}"
            )
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown report card fields: {unknown}")
        return cls(**dict(data))
