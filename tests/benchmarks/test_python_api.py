"""The Python API documented for notebooks: evaluate, then audit (intervals and report card)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import AuditSettings, VotePolicy, audit_run, evaluate_detector, load_synthetic
from benchmarks.errors import ConfigError
from detectors.classical.lexicon import LexiconDetector


def test_a_notebook_gets_intervals_and_the_report_card(tmp_path: Path) -> None:
    corpus = load_synthetic(200, seed=0, cache_dir=str(tmp_path / "cache"))
    policy = VotePolicy(min_positive=2)
    evaluation = evaluate_detector(LexiconDetector(), corpus, split="test", policy=policy)
    audited, audit = audit_run(
        evaluation, corpus, policy, tmp_path / "run", settings=AuditSettings(n_resamples=200)
    )
    recall = audit.intervals["recall"]
    assert recall.low is not None and recall.high is not None
    assert recall.low <= evaluation.result.metrics["recall"] <= recall.high
    assert audited.result.audit["intervals"]["recall"]["method"] == recall.method
    assert (tmp_path / "run" / "report" / "report.html").is_file()
    assert (tmp_path / "run" / "results.json").is_file()
    with pytest.raises(ConfigError, match="pass detector="):
        audit_run(
            evaluation,
            corpus,
            policy,
            tmp_path / "again",
            settings=AuditSettings(n_resamples=50, calibration_split="validation"),
        )


def test_groomcheck_and_robustness_from_python() -> None:
    from benchmarks import (
        PerturbSettings,
        RunnerConfig,
        ThresholdPolicy,
        evaluate_detector,
        load_groomcheck,
        measure_robustness,
    )
    from detectors.classical.lexicon import LexiconDetector

    suite = load_groomcheck(cases_per_test=2)
    runner = RunnerConfig(progress=False)
    clean = evaluate_detector(LexiconDetector(), suite, split="test", runner=runner)
    found = measure_robustness(
        LexiconDetector(),
        suite.split("test"),
        clean.traces,
        ThresholdPolicy(),
        runner,
        PerturbSettings(("leetspeak",), n_resamples=200),
    )
    assert found is not None
    assert set(found.summary["families"]) == {"leetspeak"}
    assert found.summary["groomcheck"]["n_cases"] == 60
    assert 0.0 <= found.metrics["groomcheck.mean_failure_rate"] <= 1.0
