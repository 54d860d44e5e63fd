"""The reliability check: a real second process re-scores a sample at another batch size."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import pytest
from hydra import compose, initialize_config_module

from benchmarks import app
from benchmarks.jobplan import build_plan
from benchmarks.reliability import RESCORE_FILE
from detectors import Conversation, Detector, DetectorMetadata
from tests.helpers import write_jsonl

pytestmark = pytest.mark.slow


class ProcessBound(Detector):
    """Scores that depend on the process: what a detector seeded from the clock or pid does."""

    def __init__(self, value: float = 0.0, name: str = "process_bound") -> None:
        self.metadata = DetectorMetadata(name=name, version="1", description="test")

    def score(self, conversations: Sequence[Conversation]) -> list[float]:
        return [(os.getpid() % 89 + 1) / 100 for _ in conversations]


class NotInTheSecondProcess(Detector):
    """Refuses to start anywhere but in the test's own process."""

    def __init__(self, value: float = 0.0, name: str = "not_twice") -> None:
        if os.environ.get("GB_TEST_PARENT") != str(os.getpid()):
            raise RuntimeError("started in another process")
        self.metadata = DetectorMetadata(name=name, version="1", description="test")

    def score(self, conversations: Sequence[Conversation]) -> list[float]:
        return [0.5 for _ in conversations]


def run(tmp_path: Path, *overrides: str) -> dict:
    write_jsonl(tmp_path / "chats.jsonl", n=80)
    with initialize_config_module("configs", version_base="1.3"):
        cfg = compose(
            "groombench",
            overrides=[
                f"paths.root={tmp_path / 'runs'}",
                "corpus=jsonl",
                f"corpus.path={tmp_path / 'chats.jsonl'}",
                "tracking=none",
                "runner.progress=false",
                "audit.n_resamples=200",
                "audit.reliability_sample=12",
                *overrides,
            ],
        )
    out = tmp_path / "out"
    app.run_job(build_plan(cfg), out)
    return json.loads((out / "results.json").read_text())


def card(tmp_path: Path) -> str:
    return (tmp_path / "out" / "report" / "report.md").read_text()


def test_an_honest_detector_gives_the_same_scores_in_a_second_process(tmp_path: Path) -> None:
    result = run(tmp_path, "detector=lexicon")
    found = result["reliability"]
    assert found["checked"] and found["same"] and found["sample"] == 12
    assert found["batch_size_run"] == 64 and found["batch_size_recheck"] == 1
    assert found["max_abs_diff"] == 0.0
    again = json.loads((tmp_path / "out" / RESCORE_FILE).read_text())
    assert again["batch_size"] == 1 and len(again["ids"]) == 12
    assert found["hashes"]["corpus_fingerprint"] == result["corpus"]["fingerprint"]
    assert len(found["hashes"]["predictions_sha256"]) == 64
    assert "scores the same within" in card(tmp_path)
    sums = (tmp_path / "out" / "report" / "SHA256SUMS").read_text().splitlines()
    assert {line.split()[1] for line in sums} == {
        "report.html",
        "report.json",
        "report.md",
        "transparency.csv",
    }


def test_scores_that_depend_on_the_process_are_caught(tmp_path: Path) -> None:
    # The causality re-check runs in the same process and cannot see this; a second one can.
    # (A detector whose scores depend on what it scored before fails the causality check.)
    target = "tests.benchmarks.test_reliability.ProcessBound"
    result = run(tmp_path, "detector=constant", f"detector._target_={target}")
    found = result["reliability"]
    assert found["checked"] and not found["same"]
    assert found["n_mismatched"] == 12 and found["max_abs_diff"] > 0
    assert "scores DIFFERENT within" in card(tmp_path)


def test_a_second_process_that_fails_is_reported_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GB_TEST_PARENT", str(os.getpid()))
    target = "tests.benchmarks.test_reliability.NotInTheSecondProcess"
    result = run(tmp_path, "detector=constant", f"detector._target_={target}")
    found = result["reliability"]
    assert found["checked"] is False
    assert "second process failed (exit 2)" in found["reason"]
    assert "started in another process" in found["reason"]
    assert "did not run" in card(tmp_path)


def test_reliability_sample_zero_skips_the_check(tmp_path: Path) -> None:
    result = run(tmp_path, "detector=lexicon", "audit.reliability_sample=0")
    assert result["reliability"] == {}
    assert not (tmp_path / "out" / RESCORE_FILE).exists()
