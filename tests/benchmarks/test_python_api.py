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
