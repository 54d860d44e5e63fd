"""Audit one evaluation: intervals on every metric, the claim's verdict, projections, the card.

:func:`audit_evaluation` takes what a run produced (its traces and result) and the corpus split
it scored, and computes, in this order: the clusters (authors where they link conversations),
an interval for every metric (exact Clopper–Pearson for plain rates when conversations are the
clusters, the seeded cluster bootstrap otherwise and for every composite metric), the claim's
verdict at its declared or calibrated operating point, the deployment projection, the fixed-FPR
operating points (when a calibration split was scored), the subgroup and per-stage breakdowns,
and the report card that shows all of it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from benchmarks.audit.card.report import ReportCard
from benchmarks.audit.claims.claim import Claim
from benchmarks.audit.claims.criteria import judge as judge_criteria
from benchmarks.audit.claims.plan import CorpusCounts, Plan, plan
from benchmarks.audit.claims.verdicts import (
    BootstrapEvidence,
    ClaimVerdict,
    Evidence,
    judge,
    rate_evidence,
)
from benchmarks.audit.settings import DEFAULT_PREVALENCES as DEFAULT_PREVALENCES
from benchmarks.audit.settings import AuditSettings
from benchmarks.audit.stats.bootstrap import (
    COMPOSITE_METRICS,
    BootstrapResult,
    cluster_bootstrap,
)
from benchmarks.audit.stats.calibration import CALIBRATION_GROUPS, calibration_by_group
from benchmarks.audit.stats.clusters import Clusters
from benchmarks.audit.stats.intervals import Interval, rate_intervals
from benchmarks.audit.stats.operating import OperatingPoint, Scores, tpr_at_fpr
from benchmarks.audit.stats.prevalence import Prevalence, projection
from benchmarks.audit.stats.subgroups import ConversationProfile, breakdown, stage_detected_before
from benchmarks.metrics import Outcomes, detection_curve
from benchmarks.metrics.classification import confusion_counts
from benchmarks.metrics.length_control import LENGTH_CONTROLLED
from benchmarks.policies import Policy, ThresholdPolicy
from benchmarks.results import RunResult
from benchmarks.traces import Traces


@dataclass(frozen=True, eq=False)
class Audit:
    """What auditing one run produced."""

    intervals: dict[str, Interval]
    bootstrap: BootstrapResult
    clusters: Clusters
    verdict: ClaimVerdict | None
    card: ReportCard

    def summary(self) -> dict[str, Any]:
        """The part that goes into ``results.json`` (intervals, bootstrap settings, verdict)."""
        return {
            "intervals": {k: v.to_dict() for k, v in self.intervals.items()},
            "bootstrap": self.bootstrap.to_dict() | {"intervals": None},
            "clusters": {
                "by": self.clusters.by,
                "n_clusters": self.clusters.n_clusters,
                "largest": self.clusters.largest,
                "note": self.clusters.note,
            },
            "verdict": None if self.verdict is None else self.verdict.to_dict(),
            # The claim's declared robustness and reliability criteria, judged.
            "criteria": list(self.card.criteria),
        }


def with_clusters(outcomes: Outcomes, cluster_of: Mapping[str, str]) -> Outcomes:
    """Return ``outcomes`` with ``groups`` (conversation ids) replaced by their cluster ids."""
    groups = np.asarray([cluster_of.get(str(g), str(g)) for g in outcomes.groups], dtype=object)
    return replace(outcomes, groups=groups)


def metric_intervals(
    outcomes: Outcomes,
    clusters: Clusters,
    settings: AuditSettings,
    latency_p: float | None,
) -> tuple[dict[str, Interval], BootstrapResult]:
    """An interval for every metric: exact for rates over independent units, else bootstrap."""
    boot = cluster_bootstrap(
        outcomes,
        metrics=COMPOSITE_METRICS,
        settings=settings.bootstrap(),
        latency_p=latency_p,
        cluster_by=clusters.by,
    )
    intervals = dict(boot.intervals)
    if clusters.by == "conversation" or clusters.largest <= 1:
        # Independent units: a plain rate's exact interval is the one to report.
        intervals.update(rate_intervals(outcomes, level=settings.level))
    return intervals, boot


def claim_evidence(
    claim: Claim,
    outcomes: Outcomes,
    clusters: Clusters,
    settings: AuditSettings,
    latency_p: float | None,
) -> dict[str, Evidence]:
    """Evidence for each endpoint: exact counts for rates over independent units, else the
    bootstrap's two-sided (1−α) interval and its one-sided (1−α) bound."""
    rates = rate_evidence(outcomes)
    independent = clusters.by == "conversation" or clusters.largest <= 1
    wanted = [e.metric for e in claim.endpoints if not (independent and e.metric in rates)]
    evidence: dict[str, Evidence] = {}
    if wanted:
        level = 1 - claim.alpha
        two = cluster_bootstrap(
            outcomes,
            metrics=wanted,
            settings=replace(settings.bootstrap(), level=level),
            latency_p=latency_p,
            cluster_by=clusters.by,
        )
        # A one-sided (1−α) bound is an end of the two-sided (1−2α) interval.
        one = cluster_bootstrap(
            outcomes,
            metrics=wanted,
            settings=replace(settings.bootstrap(), level=1 - 2 * claim.alpha),
            latency_p=latency_p,
            cluster_by=clusters.by,
        )
        for endpoint in claim.endpoints:
            if endpoint.metric not in two.intervals:
                continue
            interval, inner = two.intervals[endpoint.metric], one.intervals[endpoint.metric]
            doubt = _untrustworthy(endpoint.metric, interval, two.n_clusters, outcomes)
            if doubt and endpoint.metric in rates:
                continue  # judged below on exact counts, which stay honest on small samples
            if doubt:
                interval = replace(interval, low=None, high=None, method="undefined", note=doubt)
                evidence[endpoint.metric] = BootstrapEvidence(interval, None)
                continue
            bound = inner.low if endpoint.spec.higher_is_better else inner.high
            evidence[endpoint.metric] = BootstrapEvidence(interval, bound)
    for endpoint in claim.endpoints:
        if endpoint.metric not in evidence and endpoint.metric in rates:
            evidence[endpoint.metric] = rates[endpoint.metric]
    return evidence


#: Fewer clusters than this and a bootstrap cannot support or refute a claim: its resamples
#: are too few distinct data sets (a verdict then rests on exact counts, or is inconclusive).
MIN_CLUSTERS_FOR_VERDICT = 20


def _untrustworthy(metric: str, interval: Interval, n_clusters: int, outcomes: Outcomes) -> str:
    """Why a bootstrap interval must not decide a claim ("" when it may)."""
    if interval.low is None or interval.high is None:
        return ""  # already undefined: the verdict says so
    if n_clusters < MIN_CLUSTERS_FOR_VERDICT:
        return (
            f"the bootstrap cannot judge a claim from {n_clusters} clusters (at least "
            f"{MIN_CLUSTERS_FOR_VERDICT} needed)"
        )
    if interval.low == interval.high:
        return "every resample gave the same value: a zero-width interval is not certainty"
    if metric.startswith("erde") and not int(outcomes.labels.sum()):
        return "ERDE with no grooming conversation costs nothing by construction"
    return ""


def corpus_counts(labels: Sequence[int], cluster_ids: Sequence[str]) -> CorpusCounts:
    """Counts by class and the number of clusters holding each class (for the power plan)."""
    positives = [c for y, c in zip(labels, cluster_ids, strict=True) if int(y) == 1]
    negatives = [c for y, c in zip(labels, cluster_ids, strict=True) if int(y) != 1]
    return CorpusCounts(
        n_positive=len(positives),
        n_negative=len(negatives),
        n_positive_clusters=len(set(positives)),
        n_negative_clusters=len(set(negatives)),
    )


def claim_plan(claim: Claim, labels: Sequence[int], clusters: Clusters) -> Plan:
    """The claim's power plan on this split's class and cluster counts."""
    counts = corpus_counts(labels, clusters.ids)
    if clusters.by == "conversation":
        counts = CorpusCounts(counts.n_positive, counts.n_negative)
    return plan(claim, counts)


def _calibration_bins(outcomes: Outcomes, bins: int = 10) -> list[dict[str, Any]]:
    """Reliability of the conversation's maximum score: mean score vs observed positive rate."""
    scores, labels = outcomes.max_scores, outcomes.labels
    out = []
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(scores, edges[1:-1]), 0, bins - 1)
    for b in range(bins):
        inside = which == b
        if inside.any():
            out.append(
                {
                    "mean_score": float(scores[inside].mean()),
                    "observed_rate": float(labels[inside].mean()),
                    "count": int(inside.sum()),
                }
            )
    return out


def _operating_rows(points: Sequence[OperatingPoint]) -> list[dict[str, Any]]:
    return [
        {
            "target_fpr": p.target_fpr,
            "threshold": p.threshold.value,
            "calibration_fpr": p.threshold.achieved_fpr,
            "tpr": p.tpr.estimate,
            "tpr_low": p.tpr.low,
            "tpr_high": p.tpr.high,
            "fpr": p.fpr.estimate,
            "fpr_low": p.fpr.low,
            "fpr_high": p.fpr.high,
            "n_negatives_above": p.n_negatives_above,
            "note": p.threshold.note,
        }
        for p in points
    ]


def _latency(outcomes: Outcomes) -> dict[str, Any]:
    tp = (outcomes.labels == 1) & (outcomes.alerts > 0)
    minutes = outcomes.alert_minutes[tp]
    return {
        "messages": outcomes.alerts[tp].astype(int).tolist(),
        "minutes": [float(m) for m in minutes if math.isfinite(m)],
    }


def audit_evaluation(
    *,
    result: RunResult,
    traces: Traces,
    clusters: Clusters,
    profile: ConversationProfile | None,
    policy: Policy,
    settings: AuditSettings,
    claim: Claim | None = None,
    claim_threshold: float | None = None,
    calibration: Traces | None = None,
    reproduction: Mapping[str, Any] | None = None,
) -> Audit:
    """Audit one evaluation.

    Args:
        result: the run's result (metrics, provenance).
        traces: the run's traces, in the split's order (errored conversations included).
        clusters: the split's clusters, aligned with ``traces``.
        profile: the split's subgroup attributes and stage indices (aligned with ``traces``),
            or None to skip the breakdowns.
        policy: the run's alert policy (the headline metrics' decisions).
        settings: the audit settings.
        claim: the claim declared before the run, if any.
        claim_threshold: the claim's operating point (declared, or calibrated by the caller
            on the claim's calibration split).
        calibration: traces of the calibration split, for the fixed-FPR operating points.
        reproduction: config text, command, seeds, versions, git sha.
    """
    ids = [str(i) for i in traces.column("conversation_id")]
    if len(ids) != len(clusters.ids):
        raise ValueError(f"{len(clusters.ids)} cluster ids for {len(ids)} traced conversations")
    cluster_of = dict(zip(ids, clusters.ids, strict=True))
    kept = [e is None for e in traces.column("error")]
    latency_p = result.metrics_config.get("latency_p")
    outcomes = with_clusters(traces.outcomes(policy), cluster_of)
    intervals, boot = metric_intervals(outcomes, clusters, settings, latency_p)

    verdict = None
    if claim is not None:
        if claim_threshold is None:
            raise ValueError("a claim needs its operating point: claim_threshold")
        at_claim = with_clusters(traces.outcomes(ThresholdPolicy(claim_threshold)), cluster_of)
        verdict = judge(claim, claim_evidence(claim, at_claim, clusters, settings, latency_p))
    decided = (
        at_claim
        if claim is not None
        else outcomes  # the projection uses the claim's operating point when there is one
    )
    counts = confusion_counts(decided.labels, (decided.alerts > 0).astype(np.int64))
    prevalences = claim.prevalences if claim and claim.prevalences else settings.prevalences
    costs = None if claim is None or claim.costs is None else claim.costs
    projections = projection(
        counts.tp,
        counts.fn,
        counts.fp,
        counts.tn,
        [Prevalence.of(p) for p in prevalences],
        level=settings.level,
        costs=None if costs is None else (costs.miss, costs.false_alarm),
    )
    operating: list[dict[str, Any]] = []
    if calibration is not None:
        calib = calibration.outcomes(policy)
        test = Scores(labels=outcomes.labels, max_scores=outcomes.max_scores)
        operating = _operating_rows(
            tpr_at_fpr(
                Scores(labels=calib.labels, max_scores=calib.max_scores),
                test,
                settings.target_fprs,
                level=settings.level,
            )
        )
    subgroups: list[dict[str, Any]] = []
    stages: list[dict[str, Any]] = []
    calibration_groups: list[dict[str, Any]] = []
    if profile is not None:
        attributes = {
            name: [v for v, ok in zip(values, kept, strict=True) if ok]
            for name, values in profile.attributes.items()
        }
        firsts = {
            stage: [v for v, ok in zip(values, kept, strict=True) if ok]
            for stage, values in profile.stage_first.items()
        }
        subgroups = [r.to_dict() for r in breakdown(outcomes, attributes, level=settings.level)]
        calibration_groups = calibration_by_group(
            outcomes, {k: attributes[k] for k in CALIBRATION_GROUPS if k in attributes}
        )
        stages = [
            r.to_dict() for r in stage_detected_before(outcomes, firsts, level=settings.level)
        ]

    from benchmarks.audit.stats.operating import det_curve_points, pr_curve_points

    curves: dict[str, Any] = {}
    if 0 < int(outcomes.labels.sum()) < len(outcomes):
        det = det_curve_points(outcomes.labels, outcomes.max_scores)
        pr = pr_curve_points(outcomes.labels, outcomes.max_scores)
        curves = {
            "det": {"fpr": det.fpr.tolist(), "fnr": det.fnr.tolist()},
            "pr": {"precision": pr.precision.tolist(), "recall": pr.recall.tolist()},
        }
    longest = int(outcomes.n_messages[outcomes.labels == 1].max()) if counts.tp + counts.fn else 0
    curve = detection_curve(outcomes.labels, outcomes.alerts, n_max=max(longest, 1))
    card = ReportCard(
        title=f"{result.detector['name']} on {result.corpus['name']}:{result.corpus['split']}",
        claim=None if claim is None else claim.to_dict(),
        verdicts=[] if verdict is None else [v.to_dict() for v in verdict.verdicts],
        overall_verdict="" if verdict is None else f"{verdict.outcome}: {verdict.reason}",
        plan=None
        if claim is None
        else claim_plan(claim, traces.column("label"), clusters).render(),
        data=_data_section(result, outcomes, clusters),
        detector=_detector_section(result, policy, claim_threshold),
        metrics={k: v.to_dict() for k, v in intervals.items()}
        | {k: _count(result.metrics.get(k)) for k in ("tp", "fp", "fn", "tn", "n_errors")}
        # Ranking with length taken out (no interval: point estimates beside the plain AUC).
        | {
            k: {"estimate": result.metrics[k], "method": "point estimate, no interval"}
            for k in LENGTH_CONTROLLED
            if k in result.metrics
        },
        definitions=dict(result.definitions),
        bootstrap=boot.to_dict() | {"intervals": None},
        operating_points=operating,
        prevalence=[p.to_row() for p in projections],
        detection_cost=None
        if costs is None
        else {
            "c_miss": costs.miss,
            "c_false_alarm": costs.false_alarm,
            "rows": [
                {"prevalence": p.prevalence.label(), **(p.cost.to_dict() if p.cost else {})}
                for p in projections
            ],
        },
        subgroups=subgroups,
        stage_detection=stages,
        latency=_latency(outcomes),
        detection_curve=[[k + 1, float(v)] for k, v in enumerate(curve)],
        calibration=_calibration_bins(outcomes),
        calibration_groups=calibration_groups,
        robustness=dict(result.robustness),
        reliability=dict(result.reliability),
        criteria=[]
        if claim is None
        else judge_criteria(claim.criteria, result.metrics, result.robustness, result.reliability),
        curves=curves,
        reproduction=dict(reproduction or {}),
        notes=[*result.notes, *boot.notes, *([clusters.note] if clusters.note else [])],
    )
    return Audit(intervals, boot, clusters, verdict, card)


def _count(value: Any) -> dict[str, Any]:
    # Counts are exact: shown without an interval ("not applicable").
    return {"estimate": value, "low": None, "high": None, "level": None, "method": "count"}


def _data_section(result: RunResult, outcomes: Outcomes, clusters: Clusters) -> dict[str, Any]:
    corpus = result.corpus
    positives = int(outcomes.labels.sum())
    return {
        "name": corpus.get("name"),
        "version": corpus.get("version"),
        "fingerprint": corpus.get("fingerprint"),
        "checksums": corpus.get("checksums", {}),
        "split": corpus.get("split"),
        "citation": corpus.get("citation", ""),
        "licence": corpus.get("licence", ""),
        "counts": {
            "conversations": corpus.get("n_conversations"),
            "scored": len(outcomes),
            "errors": result.metrics.get("n_errors"),
            "positives": positives,
            "negatives": len(outcomes) - positives,
            "clusters": clusters.n_clusters,
            "cluster_by": clusters.by,
            "largest_cluster": clusters.largest,
        },
        "limitations": list(corpus.get("limitations", [])),
        **_shortcuts(corpus.get("shortcuts") or {}),
    }


def _shortcuts(audit: dict[str, Any]) -> dict[str, Any]:
    """The shortcut audit as the card shows it: baseline → ROC-AUC, and its warning."""
    if not audit:
        return {}
    scores = {
        name: entry.get("roc_auc")
        for name, entry in audit.items()
        if isinstance(entry, dict) and "roc_auc" in entry
    }
    out: dict[str, Any] = {"shortcut ROC-AUC (0.5 = worthless)": scores}
    if audit.get("warning"):
        out["shortcut warning"] = audit["warning"]
    return out


def _detector_section(
    result: RunResult, policy: Policy, claim_threshold: float | None
) -> dict[str, Any]:
    detector = result.detector
    return {
        "name": detector.get("name"),
        "version": detector.get("version"),
        "description": detector.get("description"),
        "reference": detector.get("reference"),
        "policy": result.policy.get("rule", policy.describe()),
        "claim_threshold": claim_threshold,
        "trained_on": list(detector.get("trained_on", [])),
        "leakage": result.leakage,
        "usage": dict(result.usage),
        "guarantees": dict(result.guarantees),
    }
