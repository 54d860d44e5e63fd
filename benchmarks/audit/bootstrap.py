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
draws with replacement (:meth:`_Engine.draw`), and its statistics are one sparse product
``class_matrix @ counts``: in float32 when that is exact (every count below 2**24), since the
product is memory-bound. Resamples run in chunks of :data:`CHUNK` on a thread pool (the heavy
numpy and scipy calls release the GIL; the Python glue between them does not, so a second
thread helps less than 2×). Each chunk has its own child generator of
``np.random.default_rng(seed)``, so a seed gives the same intervals whatever the thread
count. Measured figures: ``scripts/bench_bootstrap.py``.

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
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.special import ndtr, ndtri

from benchmarks.audit.intervals import Interval
from benchmarks.metrics import classification as clf
from benchmarks.metrics import early
from benchmarks.metrics.outcomes import Outcomes
from benchmarks.metrics.suite import compute_metrics

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
ArrayLikeInt = NDArray[np.integer[Any]] | Sequence[int]

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

#: Resamples per chunk. Fixed (never derived from the thread count) so that a seed gives the
#: same draws on any machine: chunk i always uses child generator i.
CHUNK = 64

#: Classes with at least this many clusters are drawn by conditional binomials (about 80 ns
#: each); smaller ones by uniform cluster-slot draws (about 6 ns per cluster). Measured on the
#: PAN12-scale benchmark: 8, 16 and 32 are within 10% of each other; 256 is 40% slower.
LARGE_CLASS = 16

#: A metric undefined in more than this share of resamples gets a prominent warning.
UNDEFINED_WARNING_SHARE = 0.05

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

_BINNED = ("roc_auc", "average_precision")  # from the score-bin histograms
_NEEDS_K = ("ttd_median", "ttd_p90", "latency_f1", "latency_speed")  # from the k histogram

# float32 holds every integer below 2**24 exactly.
_FLOAT32_EXACT = 2**24


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


# --------------------------------------------------------------------------------------------
# Sufficient statistics of one run ("view")


@dataclass(frozen=True)
class _View:
    """Where one run's statistics sit among the columns, and how to turn them into metrics.

    Every statistic is a count of conversations: scalar columns (conversations, positives,
    alerts, true positives, escalation counts) and histogram blocks (one column per distinct
    value). Counts only, so a float32 product is exact (see :func:`_build_engine`).
    """

    metrics: tuple[str, ...]
    columns: dict[str, int]  # scalar statistic → column
    blocks: dict[str, tuple[int, FloatArray]]  # histogram → (first column, sorted values)
    penalties: FloatArray | None  # latency penalty of each value of block "k" (p fixed)
    erde_costs: dict[int, FloatArray]  # o → ERDE cost of a true positive at each value of "k"
    latency_p: float | None
    erde_c_fp: float | None
    score_bins: int  # S: block "score" has S columns of positives, then S of negatives
    score_exact: bool
    shifts: dict[str, float] = field(default_factory=dict)  # AUC/AP: exact − binned, full data


def _build_view(
    outcomes: Outcomes,
    metrics: tuple[str, ...],
    *,
    latency_p: float | None,
    erde_c_fp: float | None,
    score_bins: int | None,
    offset: int,
) -> tuple[_View, IntArray, IntArray, int]:
    """Per-conversation statistics of one run as unit entries (conversation row, column).

    Columns start at ``offset``; returns the view, the rows, the columns and the width.
    """
    wanted = set(metrics)
    labels, alerts = outcomes.labels, outcomes.alerts
    positive = labels == 1
    alerted = alerts > 0
    tp = positive & alerted
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    columns: dict[str, int] = {}
    blocks: dict[str, tuple[int, FloatArray]] = {}
    width = 0

    def add_scalar(name: str, keep: NDArray[np.bool_]) -> None:
        nonlocal width
        columns[name] = offset + width
        found = np.flatnonzero(keep)
        rows.append(found)
        cols.append(np.full(len(found), offset + width, dtype=np.int64))
        width += 1

    def add_block(name: str, keep: NDArray[np.bool_], values: FloatArray) -> None:
        nonlocal width
        distinct = np.unique(values[keep])
        blocks[name] = (offset + width, distinct)
        rows.append(np.flatnonzero(keep))
        cols.append(offset + width + np.searchsorted(distinct, values[keep]))
        width += len(distinct)

    add_scalar("n", np.ones(len(labels), dtype=bool))
    add_scalar("pos", positive)
    add_scalar("alert", alerted)
    add_scalar("tp", tp)
    if "detected_before_escalation" in wanted:
        eligible = positive & (outcomes.escalations > 0)
        add_scalar("esc_eligible", eligible)
        add_scalar("esc_before", eligible & alerted & (alerts < outcomes.escalations))
    erde = [o for o in (5, 50) if f"erde_{o}" in wanted]
    # ERDE's true-positive cost depends on k alone: Σ cost = histogram of k · cost(k), exact.
    if erde or wanted.intersection(_NEEDS_K):
        add_block("k", tp, alerts.astype(np.float64))
    if "ttd_after_onset_median" in wanted:
        onset_known = tp & (outcomes.onsets > 0)
        add_block("onset", onset_known, (alerts - outcomes.onsets).astype(np.float64))
    if "ttd_median_minutes" in wanted:
        add_block("minutes", tp & np.isfinite(outcomes.alert_minutes), outcomes.alert_minutes)
    n_bins, exact = 0, True
    if wanted.intersection(_BINNED):
        bins, n_bins, exact = _score_bins(outcomes.max_scores, positive, score_bins)
        blocks["score"] = (offset + width, np.zeros(0))
        rows.append(np.arange(len(labels)))
        cols.append(offset + width + bins + np.where(positive, 0, n_bins))
        width += 2 * n_bins

    penalties = None
    erde_costs: dict[int, FloatArray] = {}
    if "k" in blocks:
        values = blocks["k"][1]
        if latency_p is not None and len(values):
            penalties = early.latency_penalty(values, p=latency_p)
        with np.errstate(over="ignore"):  # as early.erde: exp overflow means a cost of 1
            erde_costs = {o: 1.0 - 1.0 / (1.0 + np.exp(values - float(o))) for o in erde}
    view = _View(
        metrics=metrics,
        columns=columns,
        blocks=blocks,
        penalties=penalties,
        erde_costs=erde_costs,
        latency_p=latency_p,
        erde_c_fp=erde_c_fp,
        score_bins=n_bins,
        score_exact=exact,
    )
    return view, np.concatenate(rows), np.concatenate(cols), width


def _score_bins(
    scores: FloatArray, positive: NDArray[np.bool_], max_bins: int | None
) -> tuple[IntArray, int, bool]:
    """Bin index of every score, the number of bins, and whether binning is exact.

    Exact (one bin per distinct score) when there are at most ``max_bins`` distinct scores.
    Otherwise the cut points are quantiles of the positives' scores and of the negatives'
    scores (half the bins each), so that no bin holds many positives *and* many negatives:
    same-bin positive–negative pairs are the only source of error. Cut points are observed
    scores and a score equal to a cut goes above it, so tied scores always share a bin.
    """
    distinct = np.unique(scores)
    if max_bins is None or len(distinct) <= max_bins:
        return np.searchsorted(distinct, scores).astype(np.int64), len(distinct), True
    levels = np.linspace(0.0, 1.0, max_bins // 2 + 1)[1:-1]
    cuts = [
        np.quantile(group, levels, method="inverted_cdf")
        for group in (scores[positive], scores[~positive])
        if group.size
    ]
    edges = np.unique(np.concatenate(cuts))
    return np.searchsorted(edges, scores, side="right").astype(np.int64), len(edges) + 1, False


# --------------------------------------------------------------------------------------------
# Metrics from (resampled) statistics: one row per resample, NaN means undefined


def _ratio(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    out = np.full(np.shape(denominator), np.nan)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def _lerp(a: FloatArray, b: FloatArray, t: FloatArray) -> FloatArray:
    """numpy.percentile's own interpolation, so histogram quantiles match it to the bit."""
    diff = b - a
    out: FloatArray = a + diff * t
    np.subtract(b, diff * (1 - t), out=out, where=t >= 0.5)
    return out


class _Histogram:
    """Rows of counts over sorted values; quantiles as numpy.percentile's "linear" method."""

    def __init__(self, counts: FloatArray) -> None:
        self.total = counts.sum(axis=1)
        self.cumulative = np.cumsum(counts, axis=1)

    def quantile(self, q: float, values: FloatArray) -> FloatArray:
        """q-th percentile of each row's multiset, read off ``values`` (NaN for an empty row)."""
        if len(values) == 0:
            return np.full(len(self.total), np.nan)
        virtual = (self.total - 1) * np.true_divide(q, 100)
        previous = np.floor(virtual)
        gamma = virtual - previous
        last = self.total - 1
        # Order statistic j (0-based) is values[number of bins whose cumulative count <= j].
        lo = np.sum(self.cumulative <= np.minimum(previous, last)[:, None], axis=1)
        hi = np.sum(self.cumulative <= np.minimum(previous + 1, last)[:, None], axis=1)
        top = len(values) - 1
        result = _lerp(values[np.minimum(lo, top)], values[np.minimum(hi, top)], gamma)
        result[self.total <= 0] = np.nan
        return result


def _view_metrics(view: _View, stats: FloatArray) -> dict[str, FloatArray]:
    """Every metric of ``view`` for each row of statistics (m × D); NaN = undefined."""
    c = view.columns
    n, pos, alert, tp = (stats[:, c[name]] for name in ("n", "pos", "alert", "tp"))
    fp = alert - tp
    fn = pos - tp
    tn = n - pos - fp
    negatives = fp + tn
    out: dict[str, FloatArray] = {}
    wanted = set(view.metrics)

    def f_beta(beta: float) -> FloatArray:
        b2 = beta * beta  # the count form of classification.f_beta, same operation order
        return _ratio((1 + b2) * tp, (1 + b2) * tp + b2 * fn + fp)

    out["precision"] = _ratio(tp, tp + fp)
    out["recall"] = _ratio(tp, tp + fn)
    out["f1"] = f_beta(1.0)
    out["f0_5"] = f_beta(0.5)
    out["f3"] = f_beta(3.0)
    out["fpr"] = _ratio(fp, negatives)
    out["specificity"] = _ratio(tn, negatives)
    out["false_alerts_per_1k"] = _ratio(1000 * fp, negatives)
    if "mcc" in wanted:
        margins = (tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)
        out["mcc"] = _ratio(tp * tn - fp * fn, np.sqrt(margins))
    if "detected_before_escalation" in wanted:
        out["detected_before_escalation"] = _ratio(
            stats[:, c["esc_before"]], stats[:, c["esc_eligible"]]
        )
    if "k" in view.blocks:
        start, values = view.blocks["k"]
        counts = stats[:, start : start + len(values)]
        for o, costs in view.erde_costs.items():
            c_fp = _ratio(pos, n) if view.erde_c_fp is None else view.erde_c_fp
            out[f"erde_{o}"] = _ratio(fp * c_fp + fn + counts @ costs, n)
        if wanted.intersection(_NEEDS_K):
            k = _Histogram(counts)
            out["ttd_median"] = k.quantile(50, values)
            out["ttd_p90"] = k.quantile(90, values)
            if view.latency_p is None:  # the median rule is undefined: so are both
                out["latency_speed"] = out["latency_f1"] = np.full(len(n), np.nan)
            elif view.penalties is None:  # no true positive anywhere: F1 is 0 (or undefined)
                out["latency_speed"] = np.full(len(n), np.nan)
                out["latency_f1"] = np.where(out["f1"] == 0, 0.0, np.nan)
            else:
                speed = 1.0 - k.quantile(50, view.penalties)
                f1 = out["f1"]
                out["latency_speed"] = speed
                # F1 = 0 gives 0 whatever the (then undefined) speed, as early.latency_f1.
                out["latency_f1"] = np.where(f1 == 0, 0.0, f1 * speed)
    for block, metric in (("onset", "ttd_after_onset_median"), ("minutes", "ttd_median_minutes")):
        if block in view.blocks:
            start, values = view.blocks[block]
            out[metric] = _Histogram(stats[:, start : start + len(values)]).quantile(50, values)
    if "score" in view.blocks:
        start, bins = view.blocks["score"][0], view.score_bins
        pos_hist = stats[:, start : start + bins]
        neg_hist = stats[:, start + bins : start + 2 * bins]
        auc, ap = _auc_ap(pos_hist, neg_hist, pos, n - pos)
        out["roc_auc"] = auc + view.shifts.get("roc_auc", 0.0)
        out["average_precision"] = ap + view.shifts.get("average_precision", 0.0)
    return {name: out[name] for name in view.metrics}


def _auc_ap(
    pos_hist: FloatArray, neg_hist: FloatArray, n_pos: FloatArray, n_neg: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """ROC-AUC and step-wise AP from score-bin histograms (bins ascending; a bin = a tie)."""
    neg_below = np.cumsum(neg_hist, axis=1) - neg_hist
    wins = np.sum(pos_hist * (neg_below + 0.5 * neg_hist), axis=1)
    auc = _ratio(wins, n_pos * n_neg)
    # AP: thresholds from the highest bin down; a bin without positives adds nothing.
    pos_desc = pos_hist[:, ::-1]
    tps = np.cumsum(pos_desc, axis=1)
    predicted = tps + np.cumsum(neg_hist[:, ::-1], axis=1)
    precision_at = np.zeros_like(tps)
    np.divide(tps, predicted, out=precision_at, where=pos_desc > 0)
    ap = _ratio(np.sum(pos_desc * precision_at, axis=1), n_pos)
    return auc, ap


# --------------------------------------------------------------------------------------------
# Clusters, classes of identical clusters, drawing class counts


@dataclass(frozen=True)
class _Engine:
    """Class matrix and sampler; ``evaluate`` maps class counts (m × C) to metric values."""

    views: tuple[_View, ...]
    matrix_t: Any  # scipy CSR (D, C): the statistics of one cluster of each class
    sizes: IntArray  # clusters per class
    cluster_class: IntArray  # class of each cluster
    cluster_names: NDArray[np.str_]  # cluster id of each cluster (sorted)
    cluster_sizes: IntArray  # conversations per cluster
    n_single: int  # classes 0 .. n_single − 1 hold one cluster each
    multi_slots: IntArray  # one entry per cluster of a small class of 2+ clusters: its class
    large_p: FloatArray  # the last len(large_p) classes: drawn by conditional binomials

    @property
    def n_classes(self) -> int:
        return len(self.sizes)

    @property
    def n_clusters(self) -> int:
        return int(self.sizes.sum())

    def statistics(self, counts: NDArray[Any]) -> FloatArray:
        """Statistics (m × D) of each row of class counts (m × C).

        The sparse product runs on the transposed counts (scipy multiplies a CSR matrix by
        contiguous columns); in float32 when exact (see :func:`_build_engine`), ~3× faster.
        """
        columns = np.ascontiguousarray(counts.T, dtype=self.matrix_t.dtype)
        stats: FloatArray = np.ascontiguousarray((self.matrix_t @ columns).T, dtype=np.float64)
        return stats

    def evaluate(self, counts: NDArray[Any]) -> list[dict[str, FloatArray]]:
        """Metric values per view for each row of class counts (m × C)."""
        stats = self.statistics(counts)
        return [_view_metrics(view, stats) for view in self.views]

    def evaluate_clusters(self, cluster_counts: ArrayLikeInt) -> list[dict[str, FloatArray]]:
        """Metric values for explicit per-cluster counts (K,) or (m × K): the exactness hook.

        Cluster i is ``cluster_names[i]``; the values must equal ``compute_metrics`` on the
        outcomes in which cluster i's conversations appear ``cluster_counts[..., i]`` times.
        """
        counts = np.atleast_2d(np.asarray(cluster_counts, dtype=np.float64))
        by_class = np.zeros((counts.shape[0], self.n_classes))
        np.add.at(by_class.T, self.cluster_class, counts.T)
        return self.evaluate(by_class)

    def draw(self, rng: np.random.Generator, m: int) -> IntArray:
        """Class counts (m × C) of m resamples of K clusters drawn with replacement.

        Exactly multinomial, in three parts. How many of the K draws land in singleton
        classes, in small classes and in large classes is multinomial (3 categories). Draws
        into small classes are uniform over their clusters ("slots"), a singleton's slot
        being its class; all are counted with one bincount whose keys run resample by
        resample (cache-friendly). Draws into large classes are multinomial in proportion to
        their sizes (numpy's conditional binomials: one per class, not one per cluster).
        """
        k, n_classes = self.n_clusters, self.n_classes
        n_multi, n_large = len(self.multi_slots), len(self.large_p)
        n_large_clusters = k - self.n_single - n_multi
        split = rng.multinomial(k, [self.n_single / k, n_multi / k, n_large_clusters / k], m)
        offsets = np.arange(m, dtype=np.int64) * n_classes
        keys = np.empty(int(split[:, :2].sum()), dtype=np.int64)
        n1 = int(split[:, 0].sum())
        if self.n_single:
            keys[:n1] = rng.integers(0, self.n_single, size=n1)
            keys[:n1] += np.repeat(offsets, split[:, 0])
        if n_multi:
            keys[n1:] = self.multi_slots[rng.integers(0, n_multi, size=len(keys) - n1)]
            keys[n1:] += np.repeat(offsets, split[:, 1])
        counts = np.bincount(keys, minlength=m * n_classes).reshape(m, n_classes)
        if n_large:
            counts[:, n_classes - n_large :] = rng.multinomial(split[:, 2], self.large_p)
        return counts


def _row_hashes(matrix: Any) -> FloatArray:
    """Two random projections of each cluster's statistics row: equal rows, equal hashes."""
    rng = np.random.default_rng(20_261_104)  # fixed: the hash is an implementation detail
    hashes: FloatArray = np.asarray(matrix @ rng.standard_normal((matrix.shape[1], 2)))
    return hashes


def _classes(matrix: Any) -> tuple[IntArray, IntArray]:
    """Group identical rows of a canonical CSR matrix: (representative row per class, class
    of each row).

    Rows are grouped by hash and the grouping is verified exactly; on a collision (two
    different rows, one hash) an exact but slower grouping by the rows' bytes is used.
    """
    _, representative, inverse = np.unique(
        _row_hashes(matrix), axis=0, return_index=True, return_inverse=True
    )
    inverse = inverse.reshape(-1)
    if (matrix - matrix[representative[inverse]]).count_nonzero() == 0:
        return representative.astype(np.int64), inverse.astype(np.int64)
    keys: dict[bytes, int] = {}
    first: list[int] = []
    classes = np.empty(matrix.shape[0], dtype=np.int64)
    for i in range(matrix.shape[0]):
        start, stop = matrix.indptr[i], matrix.indptr[i + 1]
        key = matrix.indices[start:stop].tobytes() + matrix.data[start:stop].tobytes()
        if key not in keys:
            keys[key] = len(first)
            first.append(i)
        classes[i] = keys[key]
    return np.asarray(first, dtype=np.int64), classes


def _build_engine(
    runs: Sequence[Outcomes],
    metrics: tuple[str, ...],
    *,
    latency_ps: Sequence[float | None],
    erde_c_fp: float | None,
    score_bins: int | None,
) -> _Engine:
    """Statistics of every run, summed per cluster (``runs[0].groups``), merged into classes.

    Every statistic of a resample is a count of conversations, at most K · (largest cluster);
    below 2**24 float32 holds every partial sum exactly, so the product runs in float32.
    """
    names, cluster = np.unique(runs[0].groups, return_inverse=True)
    cluster = cluster.reshape(-1)
    n_clusters = len(names)
    views: list[_View] = []
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    width = 0
    for run, p in zip(runs, latency_ps, strict=True):
        view, row, col, view_width = _build_view(
            run, metrics, latency_p=p, erde_c_fp=erde_c_fp, score_bins=score_bins, offset=width
        )
        views.append(view)
        rows.append(cluster[row])
        cols.append(col)
        width += view_width
    row, col = np.concatenate(rows), np.concatenate(cols)
    matrix = sp.csr_matrix((np.ones(len(row)), (row, col)), shape=(n_clusters, width))
    matrix.sum_duplicates()
    matrix.sort_indices()
    representative, cluster_class = _classes(matrix)
    sizes = np.bincount(cluster_class, minlength=len(representative))
    # Number the classes singletons first, then small, then large: see _Engine.draw.
    kind = np.where(sizes == 1, 0, np.where(sizes < LARGE_CLASS, 1, 2))
    order = np.lexsort((np.arange(len(sizes)), kind))
    renumber = np.empty_like(order)
    renumber[order] = np.arange(len(order))
    sizes, representative = sizes[order].astype(np.int64), representative[order]
    cluster_class = renumber[cluster_class].astype(np.int64)
    n_single = int(np.sum(kind == 0))
    multi = np.flatnonzero(kind[order] == 1)
    large = np.flatnonzero(kind[order] == 2)
    cluster_sizes = np.bincount(cluster, minlength=n_clusters).astype(np.int64)
    exact32 = n_clusters * int(cluster_sizes.max(initial=0)) < _FLOAT32_EXACT
    matrix_t = matrix[representative].T.tocsc()  # CSC: each class's column read once
    return _Engine(
        views=tuple(views),
        matrix_t=matrix_t.astype(np.float32 if exact32 else np.float64),
        sizes=sizes,
        cluster_class=cluster_class,
        cluster_names=names,
        cluster_sizes=cluster_sizes,
        n_single=n_single,
        multi_slots=np.repeat(multi, sizes[multi]).astype(np.int64),
        large_p=sizes[large] / max(1, int(sizes[large].sum())),
    )


# --------------------------------------------------------------------------------------------
# Resampling, jackknife, intervals


def _resample(engine: _Engine, settings: BootstrapSettings) -> list[dict[str, FloatArray]]:
    """Metric values of ``settings.n_resamples`` resamples, per view."""
    b = settings.n_resamples
    n_chunks = -(-b // CHUNK)
    children = np.random.default_rng(settings.seed).spawn(n_chunks)
    out = [{name: np.empty(b) for name in view.metrics} for view in engine.views]

    def run(i: int) -> None:
        start, stop = i * CHUNK, min(b, (i + 1) * CHUNK)
        values = engine.evaluate(engine.draw(children[i], stop - start))
        for target, source in zip(out, values, strict=True):
            for name, array in source.items():
                target[name][start:stop] = array

    workers = min(settings.workers or os.cpu_count() or 1, n_chunks)
    if workers == 1:
        for i in range(n_chunks):
            run(i)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(run, range(n_chunks)))
    return out


def _jackknife(engine: _Engine) -> list[dict[str, FloatArray]]:
    """Metric values leaving out one cluster of each class (C values per metric and view)."""
    total = engine.statistics(engine.sizes[None, :])
    parts: list[list[dict[str, FloatArray]]] = []
    step = 1024
    for start in range(0, engine.n_classes, step):
        stop = min(engine.n_classes, start + step)
        stats = total - engine.matrix_t[:, start:stop].T.toarray()
        parts.append([_view_metrics(view, stats) for view in engine.views])
    return [
        {name: np.concatenate([part[v][name] for part in parts]) for name in view.metrics}
        for v, view in enumerate(engine.views)
    ]


def _bca_or_percentile(
    values: FloatArray,
    theta: float,
    jackknife: FloatArray | None,
    weights: FloatArray,
    level: float,
) -> tuple[float, float, str, str]:
    """(low, high, method, note) from finite resample values; BCa unless it degenerates."""
    alpha = (1.0 - level) / 2
    reason = ""
    if jackknife is None:
        quantiles = np.array([alpha, 1.0 - alpha])
    elif values.min() == values.max():
        reason = "all resamples equal"
    else:
        share = (np.count_nonzero(values < theta) + np.count_nonzero(values <= theta)) / (
            2 * len(values)
        )
        z0 = float(ndtri(share))
        finite = np.isfinite(jackknife)
        w, jack = weights[finite], jackknife[finite]
        mean = float(np.sum(w * jack) / np.sum(w)) if len(jack) else math.nan
        d = mean - jack
        spread = float(np.sum(w * d**2))
        a = float(np.sum(w * d**3)) / (6.0 * spread**1.5) if spread > 0 else math.nan
        if not math.isfinite(z0):
            reason = "the estimate lies outside the resamples' range"
        elif not math.isfinite(a):
            reason = "jackknife values all equal or undefined, no acceleration"
        else:
            z = float(ndtri(alpha))
            quantiles = np.array(
                [
                    ndtr(z0 + (z0 + z) / (1 - a * (z0 + z))),
                    ndtr(z0 + (z0 - z) / (1 - a * (z0 - z))),
                ]
            )
            if not np.all(np.isfinite(quantiles)):
                reason = "non-finite BCa percentiles"
    if reason:
        quantiles = np.array([alpha, 1.0 - alpha])
    low, high = np.percentile(values, 100 * quantiles)
    if jackknife is None:
        return float(low), float(high), "percentile", ""
    if reason:
        return float(low), float(high), "percentile", f"BCa degenerate ({reason}); percentile used"
    notes = []
    if min(quantiles[0], 1 - quantiles[1]) * len(values) < 1:
        notes.append(
            f"BCa endpoint beyond the resamples' extremes (quantiles {quantiles[0]:.2g}, "
            f"{quantiles[1]:.4g}); more resamples would make it stable"
        )
    if not np.all(finite):
        notes.append(f"jackknife undefined for {int(np.sum(~finite))} classes, left out")
    return float(low), float(high), "bca", "; ".join(notes)


def _interval(
    estimate: float | None,
    values: FloatArray,
    theta: float,
    jackknife: FloatArray | None,
    weights: FloatArray,
    *,
    settings: BootstrapSettings,
    n_clusters: int,
    notes: Sequence[str],
    quantile: bool = False,
) -> Interval:
    """The interval of one metric from its resample (and jackknife) values."""
    level = settings.level
    if quantile:
        jackknife = None
    if estimate is None:
        return Interval(
            None, None, None, level, "undefined", n=n_clusters, note="undefined on the full data"
        )
    text = [note for note in notes if note]
    finite = values[np.isfinite(values)]
    dropped = len(values) - len(finite)
    if dropped:
        share = dropped / len(values)
        message = f"undefined in {dropped} of {len(values)} resamples ({share:.1%}), dropped"
        if share > UNDEFINED_WARNING_SHARE:
            message = (
                f"WARNING: {message}; the interval describes only resamples where it is "
                "defined and may be too narrow"
            )
        text.append(message)
    if len(finite) == 0:
        text.append("undefined in every resample")
        return Interval(
            estimate, None, None, level, "undefined", n=n_clusters, note="; ".join(text)
        )
    low, high, method, note = _bca_or_percentile(finite, theta, jackknife, weights, level)
    if note:
        text.insert(0, note)
    elif quantile and settings.method == "bca":
        text.insert(0, "percentile: BCa's jackknife acceleration is unreliable for a quantile")
    return Interval(estimate, low, high, level, method, n=n_clusters, note="; ".join(text))


def _check_metrics(metrics: Sequence[str]) -> tuple[str, ...]:
    unknown = [name for name in metrics if name not in COMPOSITE_METRICS]
    if unknown:
        raise ValueError(f"cannot bootstrap {unknown}; supported: {COMPOSITE_METRICS}")
    return tuple(dict.fromkeys(metrics))


def _metric_notes(view: _View, metrics: tuple[str, ...]) -> dict[str, list[str]]:
    """Per-metric remarks on how the resampled values were computed."""
    notes: dict[str, list[str]] = {name: [] for name in metrics}
    for name in ("latency_f1", "latency_speed"):
        if name in notes and view.latency_p is not None:
            notes[name].append(f"p held at its full-data value {view.latency_p:.6g}")
    for name in ("erde_5", "erde_50"):
        if name in notes:
            notes[name].append(
                "c_fp = the resample's share of positives"
                if view.erde_c_fp is None
                else f"c_fp fixed at {view.erde_c_fp:.6g}"
            )
    for name in _BINNED:
        if name in notes and not view.score_exact:
            shift = view.shifts.get(name, 0.0)
            notes[name].append(
                f"resamples on {view.score_bins} score bins (same-bin pairs count as ties); "
                f"binned − exact on the full data = {-shift:.2g}, removed from every resample"
            )
    return notes


@dataclass(frozen=True)
class _Run:
    engine: _Engine
    estimates: list[dict[str, float | None]]
    thetas: list[dict[str, float]]
    resamples: list[dict[str, FloatArray]]
    jackknife: list[dict[str, FloatArray]] | None


def _prepare(
    runs: Sequence[Outcomes],
    metrics: tuple[str, ...],
    settings: BootstrapSettings,
    latency_p: float | None,
    erde_c_fp: float | None,
) -> tuple[_Engine, list[dict[str, float | None]], list[dict[str, float]]]:
    """The engine (with AUC/AP shifts set), the exact estimates, and the engine's own values."""
    estimates = [compute_metrics(run, latency_p=latency_p, erde_c_fp=erde_c_fp) for run in runs]
    engine = _build_engine(
        runs,
        metrics,
        latency_ps=[_as_float(m["latency_p"]) for m in estimates],
        erde_c_fp=erde_c_fp,
        score_bins=settings.score_bins,
    )
    full = engine.evaluate(engine.sizes[None, :])
    views = []
    for view, values, exact in zip(engine.views, full, estimates, strict=True):
        shifts = {}
        for name in _BINNED:
            value = exact.get(name)
            if name in values and not view.score_exact and value is not None:
                shifts[name] = float(value) - float(values[name][0])
        views.append(dataclasses.replace(view, shifts=shifts))
    engine = dataclasses.replace(engine, views=tuple(views))
    full = engine.evaluate(engine.sizes[None, :])
    thetas: list[dict[str, float]] = []
    for view, values, exact in zip(engine.views, full, estimates, strict=True):
        theta = {name: float(values[name][0]) for name in view.metrics}
        for name, value in theta.items():
            expected = exact[name]
            # The engine and compute_metrics are two routes to one number: a mismatch beyond
            # rounding is a bug, and BCa's bias correction would silently absorb it.
            if expected is not None and not math.isclose(
                value, float(expected), rel_tol=1e-9, abs_tol=1e-12
            ):
                raise RuntimeError(
                    f"bootstrap engine gives {name}={value!r} on the full data but "
                    f"compute_metrics gives {expected!r}"
                )
        thetas.append(theta)
    return engine, estimates, thetas


def _run(
    runs: Sequence[Outcomes],
    metrics: tuple[str, ...],
    settings: BootstrapSettings,
    latency_p: float | None,
    erde_c_fp: float | None,
) -> _Run:
    engine, estimates, thetas = _prepare(runs, metrics, settings, latency_p, erde_c_fp)
    resamples = _resample(engine, settings)
    jackknife = _jackknife(engine) if settings.method == "bca" else None
    return _Run(engine, estimates, thetas, resamples, jackknife)


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


def _as_float(value: float | None) -> float | None:
    return None if value is None else float(value)


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
            interval = dataclasses.replace(interval, p_value=p_value)
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
