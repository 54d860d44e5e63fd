"""The sufficient statistics of one run (its "view") and the metrics computed from them.

Every composite metric the bootstrap resamples is a function of additive per-conversation counts:
scalar columns (conversations, positives, alerts, true positives, escalation counts) and histogram
blocks (one column per distinct value of the alert index k, of k − onset, of the alert minutes, and
the score bins of positives and of negatives). :func:`_build_view` lays one run's counts out as
columns; :func:`_view_metrics` turns rows of (resampled) column sums into metric values, NaN where a
metric is undefined. How these are drawn and resampled:
:mod:`benchmarks.audit.stats.bootstrap_engine`; the public API:
:mod:`benchmarks.audit.stats.bootstrap`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from benchmarks.metrics import early
from benchmarks.metrics.outcomes import Outcomes

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

_BINNED = ("roc_auc", "average_precision")  # from the score-bin histograms
_NEEDS_K = ("ttd_median", "ttd_p90", "latency_f1", "latency_speed")  # from the k histogram


@dataclass(frozen=True)
class _View:
    """Where one run's statistics sit among the columns, and how to turn them into metrics.

    Every statistic is a count of conversations: scalar columns (conversations, positives,
    alerts, true positives, escalation counts) and histogram blocks (one column per distinct
    value). Counts only, so a float32 product is exact (see
    :func:`benchmarks.audit.stats.bootstrap_engine._build_engine`).
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
