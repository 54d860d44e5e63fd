"""Speed benchmark of the audit intervals: cluster bootstrap and rate intervals at PAN12 scale.

Generates synthetic outcomes for 155,128 conversations (about 3% positive, alerts with a
realistic delay, continuous scores, lengths, onsets, escalations and minute-resolution alert
clocks) and times, on this machine:

  1. ``rate_intervals`` (Clopper–Pearson for every plain rate);
  2. ``cluster_bootstrap`` of every metric in ``COMPOSITE_METRICS`` with 10,000 resamples,
     conversations as clusters;
  3. the same with author clusters (each author 1–20 conversations, positives' authors
     separate from negatives' authors), where far fewer clusters are identical.

It also prints, for ROC-AUC and AP, the full-data difference between the binned metric the
resamples use and the exact one.

    python scripts/bench_bootstrap.py [--size 155128] [--resamples 10000] [--repeats 1]

Timings are wall-clock (best of --repeats) and the process CPU time of that run (all
threads), each the whole ``cluster_bootstrap`` call (point estimates, cluster table, classes,
resamples, jackknife, intervals), with all cores and with one thread. On a shared machine
the wall time also measures the neighbours: the load average is printed with the table.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from benchmarks.audit.stats.bootstrap import (
    COMPOSITE_METRICS,
    BootstrapResult,
    BootstrapSettings,
    cluster_bootstrap,
    score_binning_check,
)
from benchmarks.audit.stats.intervals import RATE_METRICS, rate_intervals
from benchmarks.metrics import Outcomes


def synthetic_outcomes(n: int, *, seed: int = 0, authors: bool = False) -> Outcomes:
    """PAN12-scale outcomes of a decent detector; groups are conversations or authors."""
    rng = np.random.default_rng(seed)
    labels = (rng.random(n) < 0.03).astype(np.int64)
    positive = labels == 1
    lengths = np.where(
        positive, rng.lognormal(np.log(80), 0.9, n), rng.lognormal(np.log(20), 1.0, n)
    )
    n_messages = np.clip(np.round(lengths), 2, 3000).astype(np.int64)
    scores = np.where(positive, rng.beta(4.0, 1.5, n), rng.beta(1.2, 8.0, n))
    alerted = np.where(positive, rng.random(n) < 0.85, rng.random(n) < 0.012)
    delay = np.where(positive, rng.beta(1.5, 4.0, n), rng.random(n))
    alerts = np.where(alerted, 1 + np.floor(delay * n_messages), 0).astype(np.int64)
    alerts = np.minimum(alerts, n_messages)
    onsets = np.where(
        positive & (rng.random(n) < 0.8), 1 + np.floor(rng.beta(1, 5, n) * n_messages), 0
    ).astype(np.int64)
    escalations = np.where(
        positive & (rng.random(n) < 0.6),
        np.maximum(onsets, 1) + np.floor((n_messages - np.maximum(onsets, 1)) * rng.beta(3, 2, n)),
        0,
    ).astype(np.int64)
    # Minute-resolution chat clocks (PAN12 timestamps are HH:MM); some conversations have none.
    minutes = np.where(
        alerted & (rng.random(n) < 0.9), np.round(alerts * rng.exponential(1.5, n)), np.nan
    )
    if authors:
        groups = np.empty(n, dtype=object)
        for mask, prefix in ((positive, "p"), (~positive, "n")):
            rows = np.flatnonzero(mask)
            sizes = rng.integers(1, 21, size=len(rows))  # more than enough authors
            owner = np.repeat(np.arange(len(sizes)), sizes)[: len(rows)]
            groups[rows] = [f"{prefix}{i}" for i in owner]
    else:
        groups = np.asarray([f"c{i}" for i in range(n)], dtype=object)
    return Outcomes.from_columns(
        labels=labels,
        alerts=alerts,
        max_scores=scores,
        n_messages=n_messages,
        onsets=onsets,
        escalations=escalations,
        alert_minutes=minutes,
        groups=groups.astype(str),
    )


def best_of(repeats: int, action: Callable[[], Any]) -> tuple[float, float, Any]:
    """Best wall-clock seconds, the CPU seconds of that run (all threads), the result."""
    best, result = (math.inf, math.inf), None
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        result = action()
        best = min(best, (time.perf_counter() - wall, time.process_time() - cpu))
    return best[0], best[1], result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=155_128)
    parser.add_argument("--resamples", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--checks", type=int, default=20, help="resamples for the AUC/AP check")
    parser.add_argument("--score-bins", type=int, default=BootstrapSettings.score_bins)
    args = parser.parse_args()
    settings = BootstrapSettings(n_resamples=args.resamples, score_bins=args.score_bins)
    rows, binning = [], []
    load_before = os.getloadavg()[0]
    for cluster_by in ("conversation", "author"):
        outcomes = synthetic_outcomes(args.size, authors=cluster_by == "author")
        if cluster_by == "conversation":
            wall, cpu, _ = best_of(args.repeats, partial(rate_intervals, outcomes))
            rows.append(
                f"| rate intervals (Clopper–Pearson, {len(RATE_METRICS)} rates) "
                f"| {args.size:,} conversations | — | {wall:.3f} | {cpu:.3f} |"
            )
        for workers in (None, 1):
            run_settings = dataclasses.replace(settings, workers=workers)
            wall, cpu, result = best_of(
                args.repeats,
                partial(cluster_bootstrap, outcomes, settings=run_settings, cluster_by=cluster_by),
            )
            assert isinstance(result, BootstrapResult)
            threads = os.cpu_count() if workers is None else workers
            rows.append(
                f"| cluster bootstrap, {len(COMPOSITE_METRICS)} metrics, {args.resamples:,} "
                f"resamples, BCa, {threads} thread(s) | {result.n_clusters:,} {cluster_by} "
                f"clusters (largest {result.largest_cluster}) | {result.n_classes:,} | "
                f"{wall:.2f} | {cpu:.2f} |"
            )
        check = score_binning_check(outcomes, settings=settings, n_checks=args.checks)
        for name in ("roc_auc", "average_precision"):
            ci = result.intervals[name]
            half_width = (ci.high - ci.low) / 2 if ci.high is not None and ci.low is not None else 0
            binning.append(
                f"- {cluster_by}, {name} = {ci.estimate:.4f}, 95% {ci.method} "
                f"[{ci.low:.4f}, {ci.high:.4f}] (half-width {half_width:.1e}): {ci.note}; largest "
                f"|bootstrap − exact| over {args.checks} resamples: {check[name]:.1e}"
            )
    print(
        f"Cores: {os.cpu_count()} (os.cpu_count()); {args.size:,} conversations; "
        f"score bins: {settings.score_bins}; load average before/after: "
        f"{load_before:.1f}/{os.getloadavg()[0]:.1f}\n"
    )
    print("| what | clusters | classes | wall s | CPU s (all threads) |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))
    print("\nROC-AUC / AP score binning:")
    print("\n".join(binning))


if __name__ == "__main__":
    main()
