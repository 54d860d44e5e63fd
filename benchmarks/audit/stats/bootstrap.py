"""Cluster bootstrap for composite metrics: seeded, BCa with a recorded fallback, and fast.

Composite metrics (F-scores, precision with a random denominator, ROC-AUC, average precision,
latency-weighted F1, median time to detection, ERDE, MCC) have no closed-form interval; the
bootstrap resamples the top-level clusters (authors, or conversations) with replacement, as
``../shared/docs/AUDIT.md`` asks: "aggregate counts per cluster and resample rows of that
table". Which clusters is the caller's choice: ``outcomes.groups`` holds the cluster ids.

**How it is fast.** A naive bootstrap recomputes every metric on B resampled copies of the
data: O(B·n), about 1,000× too slow at PAN12 scale (155,128 conversations, 10,000 resamples).
Here every metric is a function of *additive* per-conversation counts:

- scalars: conversations, positives, alerts, true positives; positives with an escalation and
  those alerted before it;
- histograms (one column per distinct value): of the alert index k over true positives
  (median and p90 time to detection; the latency speed, through the monotone penalty; the
  ERDE true-positive costs, Σ cost(k)·count(k)), of k − onset, of the alert minutes, and of
  the score bin of positives and of negatives (ROC-AUC and AP).

Each cluster is the sum of its conversations' counts (a sparse row). Clusters with
*identical* rows are interchangeable, so they are merged into classes (found by hashing rows,
verified exactly): most benign conversations without an alert fall into a few hundred classes,
one per score bin. A resample is then a vector of class counts, drawn *exactly* as K cluster
draws with replacement (``_Engine.draw`` in :mod:`benchmarks.audit.stats.bootstrap_engine`), and
its statistics are one sparse product ``class_matrix @ counts``: in float32 when that is exact
(every count below 2**24), since the product is memory-bound. Resamples run in chunks of
:data:`CHUNK` on a thread pool (the heavy numpy and scipy calls release the GIL; the Python
glue between them does not, so a second thread helps less than 2×). Each chunk has its own
child generator of ``np.random.default_rng(seed)``, so a seed gives the same intervals
whatever the thread count. Measured figures: ``scripts/bench_bootstrap.py``.

**What is approximate.** Only ROC-AUC and AP, and only when the scores take more than
``settings.score_bins`` distinct values: resampled AUC/AP are then computed on score bins (cut
points at quantiles of the positives' and of the negatives' scores), a positive and a
negative in the same bin counting as a tie. The full-data difference *binned − exact* is
reported in the interval's note, and every resample is shifted by −(binned − exact), so the
bootstrap distribution sits on the exact metric's scale (binning's bias is, to first order,
the same in every resample). :func:`score_binning_check` measures what is left: the largest
|shifted binned − exact| over explicit resamples. On the PAN12-scale benchmark with 512 bins
it is about 1e-5 for AUC and 1e-4 for AP, under 2% of the intervals' half-widths (9e-4 and
6e-3 there). The point estimates are always :func:`benchmarks.metrics.compute_metrics`'s exact
values.

**Choices a reader must know** (also in each interval's note):

- ``latency_f1``/``latency_speed``: the slope p is held at its full-data value (the given
  ``latency_p``, or the median rule on the full data) in every resample, so the interval is
  that of the latency-weighted F1 *at that p*.
- ``erde_5``/``erde_50``: with the default c_fp (the share of positives) c_fp is recomputed in
  each resample, as the metric's definition says; a given ``erde_c_fp`` stays fixed.
- A resample where a metric is undefined (precision with no alert, ...) is dropped from that
  metric's distribution; the note says how many, prominently above 5%.
- BCa (Efron & Tibshirani 1993, §14.3, as in ``scipy.stats.bootstrap``) needs the jackknife
  acceleration: leaving out one cluster of a class gives the same value for every cluster of
  the class, so the jackknife costs one evaluation per class, weighted by the class size.
  When BCa degenerates (all resamples equal; the estimate outside the resamples' range;
  non-finite acceleration) the percentile interval is used and ``method``/``note`` say so.
- Quantile metrics (:data:`QUANTILE_METRICS`) always get the percentile interval: the
  jackknife is inconsistent for sample quantiles, so BCa's acceleration would be noise.
- ``paired_bootstrap`` draws each resample once for both runs and reports the interval of the
  difference with a percentile-inversion p-value.

**Where things are.** This module holds the public API (settings, results, the bootstrap
functions). The statistics of one run and the metrics computed from them are in
:mod:`benchmarks.audit.stats.bootstrap_view`; classes, draws, resamples and the jackknife in
:mod:`benchmarks.audit.stats.bootstrap_engine`; BCa and percentile intervals in
:mod:`benchmarks.audit.stats.bootstrap_bca`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks.audit.stats.bootstrap_bca import UNDEFINED_WARNING_SHARE as UNDEFINED_WARNING_SHARE
from benchmarks.audit.stats.bootstrap_bca import _interval
from benchmarks.audit.stats.bootstrap_engine import CHUNK as CHUNK
from benchmarks.audit.stats.bootstrap_engine import LARGE_CLASS as LARGE_CLASS
from benchmarks.audit.stats.bootstrap_engine import _as_float, _Engine, _prepare, _run
from benchmarks.audit.stats.bootstrap_view import _BINNED, _metric_notes
from benchmarks.audit.stats.intervals import Interval
from benchmarks.metrics import classification as clf
from benchmarks.metrics.outcomes import Outcomes

#: Metrics :func:`cluster_bootstrap` can resample, in the order of ``RESULT_KEYS``.
COMPOSITE_METRICS: tuple[str, ...] = (
    "precision",
    "recall",
    "f1",
    "f0_5",
    "f3",
    "fpr",
    "specificity",
    "mcc",
    "roc_auc",
    "average_precision",
    "ttd_median",
    "ttd_p90",
    "ttd_median_minutes",
    "ttd_after_onset_median",
    "detected_before_escalation",
    "latency_f1",
    "latency_speed",
    "erde_5",
    "erde_50",
    "false_alerts_per_1k",
)

#: Metrics built on a sample quantile (a median or p90 of time to detection; the latency speed
#: and F1 use the median penalty). The jackknife is inconsistent for sample quantiles (Efron &
#: Tibshirani 1993, §11.6), so BCa's acceleration would rest on a few tied jackknife values:
#: these get the percentile interval even under method "bca", and their note says so.
QUANTILE_METRICS: tuple[str, ...] = (
    "ttd_median",
    "ttd_p90",
    "ttd_median_minutes",
    "ttd_after_onset_median",
    "latency_speed",
    "latency_f1",
)


@dataclass(frozen=True)
class BootstrapSettings:
    """How to bootstrap; recorded with every result.

    Attributes:
        n_resamples: number of bootstrap resamples B.
        level: two-sided confidence level.
        seed: seed of ``np.random.default_rng``; the same seed gives identical intervals.
        method: ``"bca"`` (falls back to percentile when degenerate) or ``"percentile"``.
        score_bins: most score bins for resampled ROC-AUC/AP; None, or at least the number of
            distinct scores, makes them exact, at a cost: every distinct score is a column and
            splits the classes (far slower with continuous scores at PAN12 scale).
        workers: threads (default: the CPU count); does not change the result.
    """

    n_resamples: int = 10_000
    level: float = 0.95
    seed: int = 0
    method: str = "bca"
    score_bins: int | None = 512
    workers: int | None = None

    def __post_init__(self) -> None:
        if self.n_resamples < 1:
            raise ValueError(f"n_resamples must be >= 1, got {self.n_resamples}")
        if not (math.isfinite(self.level) and 0 < self.level < 1):
            raise ValueError(f"level must be in (0, 1), got {self.level}")
        if self.method not in ("bca", "percentile"):
            raise ValueError(f"method must be 'bca' or 'percentile', got {self.method!r}")
        if self.score_bins is not None and self.score_bins < 2:
            raise ValueError(f"score_bins must be None or >= 2, got {self.score_bins}")
        if self.workers is not None and self.workers < 1:
            raise ValueError(f"workers must be None or >= 1, got {self.workers}")


@dataclass(frozen=True)
class BootstrapResult:
    """Intervals of a cluster bootstrap and what they rest on.

    Attributes:
        intervals: metric → interval (estimate = the full-data value of ``compute_metrics``).
        settings: the settings used (seed, resamples, level, method).
        n_clusters: number of clusters resampled.
        cluster_by: what a cluster is (``"author"``, ``"conversation"`` or the caller's label).
        largest_cluster: conversations in the largest cluster.
        notes: remarks on the whole run (few clusters, binning, classes).
        n_classes: classes of identical clusters the engine drew from.
    """

    intervals: dict[str, Interval]
    settings: BootstrapSettings
    n_clusters: int
    cluster_by: str
    largest_cluster: int
    notes: tuple[str, ...]
    n_classes: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "intervals": {name: ci.to_dict() for name, ci in self.intervals.items()},
            "settings": dataclasses.asdict(self.settings),
            "n_clusters": self.n_clusters,
            "cluster_by": self.cluster_by,
            "largest_cluster": self.largest_cluster,
            "notes": list(self.notes),
            "n_classes": self.n_classes,
        }


def _check_metrics(metrics: Sequence[str]) -> tuple[str, ...]:
    unknown = [name for name in metrics if name not in COMPOSITE_METRICS]
    if unknown:
        raise ValueError(f"cannot bootstrap {unknown}; supported: {COMPOSITE_METRICS}")
    return tuple(dict.fromkeys(metrics))


def score_binning_check(
    outcomes: Outcomes,
    *,
    settings: BootstrapSettings = BootstrapSettings(),
    n_checks: int = 20,
    seed: int = 1,
) -> dict[str, float]:
    """Largest |resampled AUC/AP as the bootstrap computes it − the exact value| on resamples.

    Draws ``n_checks`` cluster resamples, computes ROC-AUC and AP exactly on the explicitly
    replicated conversations (:mod:`benchmarks.metrics.classification`) and as the bootstrap
    does (score bins, shifted by the full-data binning error), and returns the largest
    absolute differences: the approximation actually left in the bootstrap distribution. 0
    when the scores take at most ``settings.score_bins`` distinct values (exact binning).

    Examples:
        >>> o = Outcomes.from_columns(
        ...     labels=[1, 0, 1, 0, 0, 1] * 20, alerts=[2, 0, 0, 1, 0, 3] * 20,
        ...     max_scores=np.linspace(0, 1, 120), n_messages=[5] * 120,
        ... )
        >>> check = score_binning_check(o, settings=BootstrapSettings(score_bins=8))
        >>> sorted(check), check["roc_auc"] < 0.05
        (['average_precision', 'roc_auc'], True)
    """
    engine, _, _ = _prepare([outcomes], _BINNED, settings, None, None)
    rng = np.random.default_rng(seed)
    k = engine.n_clusters
    members = np.argsort(np.searchsorted(engine.cluster_names, outcomes.groups), kind="stable")
    starts = np.r_[0, np.cumsum(engine.cluster_sizes)]
    worst = dict.fromkeys(_BINNED, 0.0)
    for _ in range(n_checks):
        counts = rng.multinomial(k, np.full(k, 1.0 / k))
        rows = np.concatenate(
            [np.tile(members[starts[i] : starts[i + 1]], c) for i, c in enumerate(counts) if c]
        )
        resample = outcomes.take(rows)
        values = engine.evaluate_clusters(counts)[0]
        exact = {
            "roc_auc": clf.roc_auc(resample.labels, resample.max_scores),
            "average_precision": clf.average_precision(resample.labels, resample.max_scores),
        }
        for name, value in exact.items():
            if value is not None and np.isfinite(values[name][0]):
                worst[name] = max(worst[name], abs(float(values[name][0]) - value))
    return worst


def cluster_bootstrap(
    outcomes: Outcomes,
    *,
    metrics: Sequence[str] = COMPOSITE_METRICS,
    settings: BootstrapSettings = BootstrapSettings(),
    latency_p: float | None = None,
    erde_c_fp: float | None = None,
    cluster_by: str = "conversation",
) -> BootstrapResult:
    """Bootstrap intervals for composite metrics, resampling whole clusters.

    Args:
        outcomes: one row per scored conversation; ``groups`` holds the cluster ids (fill it
            with author ids to resample authors).
        metrics: names from :data:`COMPOSITE_METRICS`.
        settings: resamples, level, seed, method, score bins.
        latency_p: latency penalty slope; default the median rule on the full data, held
            fixed in every resample.
        erde_c_fp: ERDE false-positive cost; default the share of positives, recomputed per
            resample.
        cluster_by: what ``groups`` identifies (recorded, e.g. ``"author"``).

    Returns:
        The intervals (estimates = ``compute_metrics`` values) with the settings used.

    Raises:
        ValueError: for an unknown metric.

    Examples:
        >>> o = Outcomes.from_columns(
        ...     labels=[1, 1, 1, 0, 0, 0, 0, 0] * 5, alerts=[3, 2, 0, 1, 0, 0, 0, 0] * 5,
        ...     max_scores=[0.9, 0.7, 0.2, 0.8, 0.1, 0.3, 0.2, 0.4] * 5,
        ...     n_messages=[5] * 40,
        ... )
        >>> r = cluster_bootstrap(o, metrics=["recall", "f1"], settings=BootstrapSettings(2000))
        >>> ci = r.intervals["recall"]
        >>> round(ci.estimate, 4), ci.method, ci.low < ci.estimate < ci.high, r.n_clusters
        (0.6667, 'bca', True, 40)
    """
    names = _check_metrics(metrics)
    if len(outcomes) == 0:
        undefined = Interval(None, None, None, settings.level, "undefined", n=0, note="no data")
        return BootstrapResult(
            {name: undefined for name in names}, settings, 0, cluster_by, 0, ("no data",)
        )
    run = _run([outcomes], names, settings, latency_p, erde_c_fp)
    engine, view = run.engine, run.engine.views[0]
    per_metric = _metric_notes(view, names)
    weights = engine.sizes.astype(np.float64)
    intervals = {
        name: _interval(
            _as_float(run.estimates[0][name]),
            run.resamples[0][name],
            run.thetas[0][name],
            None if run.jackknife is None else run.jackknife[0][name],
            weights,
            settings=settings,
            n_clusters=engine.n_clusters,
            notes=per_metric[name],
            quantile=name in QUANTILE_METRICS,
        )
        for name in names
    }
    largest = int(engine.cluster_sizes.max())
    return BootstrapResult(
        intervals=intervals,
        settings=settings,
        n_clusters=engine.n_clusters,
        cluster_by=cluster_by,
        largest_cluster=largest,
        notes=_run_notes(engine, cluster_by, largest),
        n_classes=engine.n_classes,
    )


def _run_notes(engine: _Engine, cluster_by: str, largest: int) -> tuple[str, ...]:
    notes = [
        f"{engine.n_clusters} clusters ({cluster_by}) resampled with replacement; "
        f"{engine.n_classes} classes of identical clusters"
    ]
    if engine.n_clusters < 20:
        notes.append(
            f"WARNING: only {engine.n_clusters} clusters: bootstrap intervals are unreliable "
            "with so few"
        )
    if cluster_by == "conversation" and largest > 1:
        notes.append(
            f"cluster_by is 'conversation' but groups repeat (largest cluster: {largest} "
            "conversations); clusters follow groups"
        )
    return tuple(notes)


def paired_bootstrap(
    a: Outcomes,
    b: Outcomes,
    *,
    metrics: Sequence[str] = COMPOSITE_METRICS,
    settings: BootstrapSettings = BootstrapSettings(),
    latency_p: float | None = None,
    erde_c_fp: float | None = None,
) -> dict[str, Interval]:
    """Intervals for metric(a) − metric(b), two runs on the same conversations.

    Clusters (``a.groups``) are drawn once per resample and both runs are scored on that same
    resample, so what the runs share cancels out. Each run keeps its own latency p (its
    full-data median rule, unless ``latency_p`` is given) and its own score bins.

    The p-value (``Interval.p_value``) for "the difference is 0" inverts the equal-tailed
    percentile interval: ``p = min(1, 2·(min(#{d* ≤ 0}, #{d* ≥ 0}) + 1) / (B' + 1))`` over
    the B' resamples where the difference is defined. It is the smallest α at which the
    (1 − α) percentile interval excludes 0, with the +1 keeping it above 0 for finite B.
    Differences equal to 0 count on both sides, so a run compared with itself gives p = 1.

    Args:
        a: outcomes of the first run.
        b: outcomes of the second run on the same conversations, in the same order, with the
            same groups and labels.
        metrics: names from :data:`COMPOSITE_METRICS`.
        settings: resamples, level, seed, method, score bins.
        latency_p: latency penalty slope for both runs; default each run's median rule.
        erde_c_fp: ERDE false-positive cost; default the share of positives.

    Returns:
        Metric → interval of the difference, with ``estimate`` = the full-data difference.

    Raises:
        ValueError: when the runs do not cover the same conversations.

    Examples:
        >>> a = Outcomes.from_columns(
        ...     labels=[1, 1, 0, 0] * 10, alerts=[3, 2, 1, 0] * 10,
        ...     max_scores=[0.9, 0.7, 0.8, 0.1] * 10, n_messages=[5] * 40,
        ... )
        >>> d = paired_bootstrap(a, a, metrics=["f1"], settings=BootstrapSettings(500))
        >>> d["f1"].estimate, d["f1"].low, d["f1"].high, d["f1"].p_value
        (0.0, 0.0, 0.0, 1.0)
    """
    _check_same_conversations(a, b)
    names = _check_metrics(metrics)
    if len(a) == 0:
        undefined = Interval(None, None, None, settings.level, "undefined", n=0, note="no data")
        return {name: undefined for name in names}
    run = _run([a, b], names, settings, latency_p, erde_c_fp)
    engine = run.engine
    notes_a = _metric_notes(engine.views[0], names)
    notes_b = _metric_notes(engine.views[1], names)
    weights = engine.sizes.astype(np.float64)
    intervals: dict[str, Interval] = {}
    for name in names:
        est_a, est_b = run.estimates[0][name], run.estimates[1][name]
        estimate = None if est_a is None or est_b is None else float(est_a) - float(est_b)
        diffs = run.resamples[0][name] - run.resamples[1][name]
        jack = None
        if run.jackknife is not None:
            jack = run.jackknife[0][name] - run.jackknife[1][name]
        notes = [f"a: {n}" for n in notes_a[name]] + [f"b: {n}" for n in notes_b[name]]
        interval = _interval(
            estimate,
            diffs,
            run.thetas[0][name] - run.thetas[1][name],
            jack,
            weights,
            settings=settings,
            n_clusters=engine.n_clusters,
            notes=notes,
            quantile=name in QUANTILE_METRICS,
        )
        finite = diffs[np.isfinite(diffs)]
        if estimate is not None and len(finite):
            tail = min(np.count_nonzero(finite <= 0), np.count_nonzero(finite >= 0))
            p_value = min(1.0, 2 * (tail + 1) / (len(finite) + 1))
            # With no resample on the far side of 0, p is the floor 2 / (B + 1): a bound.
            interval = dataclasses.replace(interval, p_value=p_value, p_bound=tail == 0)
        intervals[name] = interval
    return intervals


def _check_same_conversations(a: Outcomes, b: Outcomes) -> None:
    """Raise ValueError unless a and b are the same conversations in the same order."""
    if len(a) != len(b):
        raise ValueError(
            f"paired_bootstrap needs the same conversations in both runs: {len(a)} vs {len(b)}"
        )
    for column in ("groups", "labels", "n_messages"):
        left, right = getattr(a, column), getattr(b, column)
        bad = np.flatnonzero(left != right)
        if bad.size:
            i = int(bad[0])
            raise ValueError(
                "paired_bootstrap needs the same conversations, in the same order, in both "
                f"runs: {column} differ at row {i} ({left[i]!r} vs {right[i]!r})"
            )
