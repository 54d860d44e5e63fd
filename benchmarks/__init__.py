"""groombench's harness: corpora, runner, policies, metrics, results, tracking, CLI.

From Python (a notebook)::

    from benchmarks import evaluate_detector, load_synthetic, VotePolicy
    from detectors.classical.lexicon import LexiconDetector

    corpus = load_synthetic(2000, seed=0)
    evaluation = evaluate_detector(LexiconDetector(), corpus, split="test",
                                   policy=VotePolicy(min_positive=5))
    evaluation.result.metrics["f1"], evaluation.result.definitions["f1"]

    # Intervals, projections and the report card (my-run/report/report.html):
    evaluation, audit = audit_run(evaluation, corpus, VotePolicy(min_positive=5), "my-run")
    audit.intervals["recall"].low, audit.intervals["recall"].high

Names are imported lazily so that ``groombench --help`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "evaluate_detector": "benchmarks.evaluation",
    "Evaluation": "benchmarks.evaluation",
    "RunResult": "benchmarks.results",
    "RunnerConfig": "benchmarks.runner",
    "Traces": "benchmarks.traces",
    "ThresholdPolicy": "benchmarks.policies",
    "VotePolicy": "benchmarks.policies",
    "Corpus": "benchmarks.corpora.base",
    "load_synthetic": "benchmarks.corpora.synthetic.corpus",
    "load_jsonl": "benchmarks.corpora.jsonl",
    "audit_run": "benchmarks.audit.job",
    "AuditSettings": "benchmarks.audit.settings",
    "export_leaderboard": "benchmarks.leaderboard",
    "load_groomcheck": "benchmarks.corpora.groomcheck",
    "PerturbSettings": "benchmarks.robustness.settings",
    "measure_robustness": "benchmarks.robustness.suite",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'benchmarks' has no attribute {name!r}")
