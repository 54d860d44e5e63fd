"""The Python entry point: leakage refusal, failures, recompute equals a fresh evaluation."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from benchmarks import evaluate_detector
from benchmarks.corpora.jsonl import load_jsonl
from benchmarks.evaluation import AllConversationsFailed, leakage
from benchmarks.policies import ThresholdPolicy, VotePolicy
from benchmarks.results import RunResult
from benchmarks.runner import RunnerConfig, to_messages
from benchmarks.traces import ERRORS_FILE, Traces
from detectors import Conversation, Detector, DetectorMetadata
from detectors.classical.lexicon import LexiconDetector
from detectors.classical.tfidf_lr import TfidfLRDetector
from tests.helpers import write_jsonl

QUIET = RunnerConfig(progress=False)


@pytest.fixture
def corpus(tmp_path: Path):  # type: ignore[no-untyped-def]
    return load_jsonl(str(write_jsonl(tmp_path / "c.jsonl", n=80)), cache_dir=str(tmp_path / "c"))


def trained(corpus, split: str) -> TfidfLRDetector:  # type: ignore[no-untyped-def]
    data = corpus.split(split)
    detector = TfidfLRDetector(min_df=1)
    detector.fit(
        [to_messages(m) for m in data["messages"]],
        list(data["label"]),
        trained_on=corpus.reference(split),
    )
    return detector


def test_scoring_the_training_split_is_refused_unless_allowed(corpus) -> None:  # type: ignore[no-untyped-def]
    detector = trained(corpus, "train")
    assert leakage(detector, corpus, "train") and not leakage(detector, corpus, "test")
    assert leakage(detector, corpus, "all")
    with pytest.raises(ValueError, match="not be a fair test"):
        evaluate_detector(detector, corpus, split="train", runner=QUIET)
    result = evaluate_detector(
        detector, corpus, split="train", runner=QUIET, allow_leakage=True
    ).result
    assert result.leakage and any("LEAKAGE" in n for n in result.notes)
    assert not evaluate_detector(detector, corpus, split="test", runner=QUIET).result.leakage


def test_all_conversations_failing_raises_after_saving(corpus, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    class Broken(Detector):
        metadata = DetectorMetadata(name="broken", version="1", description="test double")

        def score(self, conversations: Sequence[Conversation]) -> list[float]:
            raise ConnectionError("401 unauthorized")

    with pytest.raises(AllConversationsFailed, match="ConnectionError"):
        evaluate_detector(Broken(), corpus, runner=QUIET, output_dir=tmp_path / "out")
    saved = RunResult.load(tmp_path / "out")
    assert saved.metrics["n_errors"] == saved.corpus["n_conversations"]
    assert saved.metrics["precision"] is None and saved.metrics["n_scored"] == 0
    assert "401 unauthorized" in (tmp_path / "out" / ERRORS_FILE).read_text()


def test_recompute_from_traces_equals_a_fresh_evaluation(corpus, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first = evaluate_detector(
        LexiconDetector(),
        corpus,
        policy=ThresholdPolicy(0.3),
        runner=QUIET,
        output_dir=tmp_path / "a",
    )
    vote = VotePolicy(threshold=0.3, window=4, min_positive=2)
    fresh = evaluate_detector(LexiconDetector(), corpus, policy=vote, runner=QUIET)
    again = first.result.with_policy(
        Traces.load(tmp_path / "a" / "traces.parquet"),
        vote,
        {"threshold": 0.3, "window": 4, "min_positive": 2},
    )
    timing = {"ms_per_message_p50", "ms_per_message_p99", "messages_per_second"}
    expected = {k: v for k, v in fresh.result.metrics.items() if k not in timing}
    assert {k: v for k, v in again.metrics.items() if k not in timing} == expected
    assert again.metrics != first.result.metrics


def test_scores_are_finite_and_results_say_how_they_were_computed(corpus) -> None:  # type: ignore[no-untyped-def]
    result = evaluate_detector(LexiconDetector(), corpus, runner=QUIET).result
    assert set(result.metrics) <= set(result.definitions)
    assert result.policy["rule"].startswith("alert at the first scored message")
    assert result.corpus["fingerprint"] == corpus.fingerprint
    assert result.software["groombench"]


def test_overlap_with_the_training_ids_is_leakage_however_the_corpus_was_loaded(
    corpus,  # type: ignore[no-untyped-def]
) -> None:
    detector = LexiconDetector()  # its metadata names no training data at all
    ids = sorted(corpus.unit_ids("test"))[:1]
    assert leakage(detector, corpus, "test", training_ids=ids)
    assert not leakage(detector, corpus, "train", training_ids=ids)
    with pytest.raises(ValueError, match="not be a fair test"):
        evaluate_detector(detector, corpus, split="test", runner=QUIET, training_ids=ids)


def test_a_trained_model_remembers_its_training_ids(tmp_path: Path) -> None:
    from tests.helpers import cli

    path = write_jsonl(tmp_path / "c.jsonl", n=40)
    out = cli(
        tmp_path,
        "corpus=jsonl",
        f"corpus.path={path}",
        "detector=tfidf_lr",
        script="groombench-train",
    )
    assert out.returncode == 0, out.stderr[-2000:]
    model = next((tmp_path / "runs" / "models" / "tfidf_lr").iterdir())
    assert (model / "training_ids.txt").read_text().split()
    # Scoring the training split through an explicit model path is caught by the ids.
    out = cli(
        tmp_path,
        "corpus=jsonl",
        f"corpus.path={path}",
        "detector=tfidf_lr",
        f"detector.model_path={model}",
        "split=train",
        "tracking=none",
    )
    assert out.returncode == 2 and "not be a fair test" in out.stderr
