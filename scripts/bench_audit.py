"""Speed benchmark of a full audit report card at PAN12 scale (figures go in the README).

Generates the synthetic corpus at PAN12 scale (155,128 conversations; cached after the first
time), streams every conversation through the lexicon detector, then times, on this machine:

  1. the clusters (connected components of the conversation-author graph);
  2. the subgroup profile (one Arrow pass over the split);
  3. ``audit_evaluation``: an interval on every metric (10,000 cluster-bootstrap resamples), a
     claim's verdict, the prevalence projection, the subgroup and per-stage breakdowns;
  4. writing the report card (HTML with embedded plots, JSON, Markdown, transparency CSV).

Goal (audit issue): a full report card for such a run in under 30 s on 2 cores.

    python scripts/bench_audit.py [--size 155128] [--resamples 10000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from benchmarks.audit.assemble import audit_evaluation
from benchmarks.audit.card.report import write_report
from benchmarks.audit.claims.claim import load_claim
from benchmarks.audit.settings import AuditSettings
from benchmarks.audit.stats.clusters import conversation_clusters
from benchmarks.audit.stats.subgroups import conversation_profile
from benchmarks.corpora.synthetic.corpus import load_synthetic
from benchmarks.evaluation import evaluate_detector
from benchmarks.policies import ThresholdPolicy
from benchmarks.runner import RunnerConfig
from detectors.classical.lexicon import LexiconDetector

CLAIM = {
    "name": "bench",
    "unit": "conversation",
    "population": "synthetic corpus, all conversations",
    "threshold": 0.5,
    "metrics": {"recall": 0.2, "fpr": 0.02, "f1": 0.3},
    "margin": 0.02,
    "prevalences": [0.0001, 0.001, {"low": 0.00005, "high": 0.0005}],
    "costs": {"miss": 100, "false_alarm": 1},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=155_128)
    parser.add_argument("--resamples", type=int, default=10_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-audit-"))
    cache = os.environ.get("GROOMBENCH_BENCH_CACHE", str(work / "corpora"))
    corpus = load_synthetic(version=1, n_conversations=args.size, cache_dir=cache)
    split = "all"
    started = time.perf_counter()
    evaluation = evaluate_detector(
        LexiconDetector(), corpus, split=split, runner=RunnerConfig(progress=False)
    )
    scoring = time.perf_counter() - started
    data = corpus.split(split)

    timings: list[tuple[str, float]] = []
    started = time.perf_counter()
    clusters = conversation_clusters(data)
    timings.append(
        (f"clusters ({clusters.n_clusters} {clusters.by} clusters)", time.perf_counter() - started)
    )
    started = time.perf_counter()
    profile = conversation_profile(data)
    timings.append(("subgroup profile", time.perf_counter() - started))
    started = time.perf_counter()
    audit = audit_evaluation(
        result=evaluation.result,
        traces=evaluation.traces,
        clusters=clusters,
        profile=profile,
        policy=ThresholdPolicy(),
        settings=AuditSettings(n_resamples=args.resamples),
        claim=load_claim(CLAIM),
        claim_threshold=0.5,
    )
    timings.append(
        (
            f"intervals ({args.resamples} resamples), verdict, projection, breakdowns",
            time.perf_counter() - started,
        )
    )
    started = time.perf_counter()
    written = write_report(audit.card, work / "report")
    timings.append(
        ("report card written (HTML, JSON, Markdown, CSV)", time.perf_counter() - started)
    )

    total = sum(seconds for _, seconds in timings)
    print(
        f"cores: {os.cpu_count()}; {len(data)} conversations, "
        f"{sum(1 for e in evaluation.traces.column('error') if e is None)} scored; "
        f"lexicon scoring (not part of the audit) {scoring:.1f} s\n"
    )
    print("| step | seconds |")
    print("|---|---:|")
    for name, seconds in timings:
        print(f"| {name} | {seconds:.1f} |")
    print(f"| **full report card** | **{total:.1f}** (goal < 30 s) |")
    print(
        f"\nverdict: {audit.verdict.outcome if audit.verdict else '-'}; "
        f"HTML {written['html'].stat().st_size / 1e6:.1f} MB at {written['html']}"
    )


if __name__ == "__main__":
    main()
