"""The runner: causal streaming, error isolation, checkpoints, traces."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pytest

from benchmarks.causality import CausalityUnverified
from benchmarks.corpora.jsonl import load_jsonl
from benchmarks.policies import ThresholdPolicy
from benchmarks.runner import CausalityError, RunnerConfig, run
from benchmarks.traces import Traces
from detectors import Conversation, Detector, DetectorMetadata
from detectors.classical.lexicon import LexiconDetector
from tests.helpers import write_jsonl


class Flaky(Detector):
    """Raises on conversations whose first message is from author a0 and has an even length."""

    metadata = DetectorMetadata(name="flaky", version="1", description="test double")

    def score(self, conversations: Sequence[Conversation]) -> list[float]:
        out = []
        for c in conversations:
            if len(c) >= 4 and len(c[3].text) % 2 == 0:
                raise RuntimeError("backend exploded")
            out.append(0.9)
        return out


class Peeking(Detector):
    """Cheats: its batch path scores every prefix with the whole conversation's length."""

    metadata = DetectorMetadata(name="peeking", version="1", description="test double")

    def score(self, conversations: Sequence[Conversation]) -> list[float]:
        return [min(1.0, len(c) / 20) for c in conversations]

    def score_prefixes(
        self, conversations: Sequence[Conversation], every: int = 1
    ) -> list[list[float]]:
        from detectors import checkpoints

        return [[min(1.0, len(c) / 20)] * len(checkpoints(len(c), every)) for c in conversations]


@pytest.fixture
def corpus(tmp_path: Path):  # type: ignore[no-untyped-def]
    return load_jsonl(str(write_jsonl(tmp_path / "c.jsonl", n=80)), cache_dir=str(tmp_path / "c"))


def test_errors_are_isolated_recorded_and_never_negatives(corpus) -> None:  # type: ignore[no-untyped-def]
    data = corpus.split("all")
    traces = run(Flaky(), data, RunnerConfig(batch_size=16, progress=False))
    errors = traces.column("error")
    assert len(traces) == len(data) and 0 < traces.n_errors < len(data)
    assert all(e is None or e == "RuntimeError" for e in errors)
    assert {m for _, m in traces.error_details} == {"RuntimeError: backend exploded"}
    outcomes = traces.outcomes(ThresholdPolicy(0.5))
    assert len(outcomes.labels) == len(data) - traces.n_errors  # excluded, not counted negative
    assert (outcomes.alerts > 0).all()


def test_bad_scores_are_errors(corpus) -> None:  # type: ignore[no-untyped-def]
    class Nan(Flaky):
        def score(self, conversations: Sequence[Conversation]) -> list[float]:
            return [math.nan for _ in conversations]

    traces = run(Nan(), corpus.split("all"), RunnerConfig(progress=False))
    assert traces.n_errors == len(traces)
    assert traces.column("error")[0] == "ValueError"
    assert traces.error_details[0][1].startswith("ValueError: score must be a finite number")


def test_causality_check_catches_a_detector_that_peeks(corpus) -> None:  # type: ignore[no-untyped-def]
    # The default sample (1%, at least 25 conversations) is enough on a small corpus.
    with pytest.raises(CausalityError, match="not causal"):
        run(Peeking(), corpus.split("all"), RunnerConfig(progress=False))
    run(LexiconDetector(), corpus.split("all"), RunnerConfig(causality_sample=1.0, progress=False))


class BatchWobble(Detector):
    """Small scores that move by up to 4e-7 with the batch, as float32 networks' do."""

    metadata = DetectorMetadata(name="wobble", version="1", description="test double")

    def score(self, conversations: Sequence[Conversation]) -> list[float]:
        return [1e-3 + 2e-7 * (len(conversations) % 3) for _ in conversations]

    def score_prefixes(
        self, conversations: Sequence[Conversation], every: int = 1
    ) -> list[list[float]]:
        from detectors import checkpoints

        # Every prefix of the batch in one call, as a neural detector batches its windows.
        points = [checkpoints(len(c), every) for c in conversations]
        pairs = zip(conversations, points, strict=True)
        scores = iter(self.score([c[:k] for c, ks in pairs for k in ks]))
        return [[next(scores) for _ in ks] for ks in points]


def test_the_causality_check_allows_the_batching_slack_a_detector_declares(corpus) -> None:  # type: ignore[no-untyped-def]
    data = corpus.split("all")
    config = RunnerConfig(causality_sample=1.0, progress=False)
    # Relative moves of 4e-4 on small scores: the exact bounds call it a leak...
    with pytest.raises(CausalityError, match="not causal"):
        run(BatchWobble(), data, config)
    # ...which it is not, once the detector says how much batching moves its scores.
    declared = BatchWobble()
    declared.score_tolerance = 1e-5
    run(declared, data, config)
    # The slack never hides a real peek.
    peeking = Peeking()
    peeking.score_tolerance = 1e-5
    with pytest.raises(CausalityError, match="not causal"):
        run(peeking, data, config)


def test_recheck_errors_count_as_unchecked_and_fail_the_run_unless_allowed(corpus) -> None:  # type: ignore[no-untyped-def]
    class FailsWhenAskedAgain(Detector):
        """Honest, but raises on any conversation whose opening it has scored before."""

        metadata = DetectorMetadata(name="asked_again", version="1", description="test double")
        seen: set[str] = set()  # noqa: RUF012 (shared by every instance, on purpose)

        def score(self, conversations: Sequence[Conversation]) -> list[float]:
            return [0.5 for _ in conversations]

        def score_prefixes(
            self, conversations: Sequence[Conversation], every: int = 1
        ) -> list[list[float]]:
            if any(c and c[0].text in self.seen for c in conversations):
                raise TimeoutError("asked again")
            self.seen.update(c[0].text for c in conversations if c)
            return super().score_prefixes(conversations, every)

    data = corpus.split("all")
    # A re-check that errors is not a verdict on causality, but not a pass either: above the
    # allowed share (5% by default) the run fails...
    FailsWhenAskedAgain.seen = set()
    with pytest.raises(CausalityUnverified, match=r"could not run \(TimeoutError x\d+\)"):
        run(FailsWhenAskedAgain(), data, RunnerConfig(causality_sample=1.0, progress=False))
    # ...unless the user allows it, and then the traces say it was not verified.
    FailsWhenAskedAgain.seen = set()
    allowed = RunnerConfig(causality_sample=1.0, progress=False, allow_unverified=True)
    traces = run(FailsWhenAskedAgain(), data, allowed)
    assert len(traces) == len(data)
    record = traces.causality
    assert record["mode"] == "fast" and not record["verified"]
    # (A few fixture conversations share an opening: those failed in the first pass already.)
    assert record["unchecked"] == len(data) - traces.n_errors and record["checked"] == 0


def test_error_messages_never_enter_the_traces(corpus, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    class Quoting(Flaky):
        def score(self, conversations: Sequence[Conversation]) -> list[float]:
            raise ValueError("cannot parse: " + conversations[0][0].text + " zebraquote")

    traces = run(Quoting(), corpus.split("all"), RunnerConfig(progress=False))
    path = traces.save(tmp_path / "t.parquet")
    assert b"zebraquote" not in path.read_bytes()
    assert all("zebraquote" in m for _, m in traces.error_details)


def test_backwards_clock_gives_no_chat_time() -> None:
    from benchmarks.runner import _minutes
    from detectors import Message

    conv = [Message("a", "x", 1000.0, 1), Message("b", "y", 10.0, 2), Message("a", "z", None, 3)]
    minutes = _minutes(conv, [1, 2, 3])
    assert minutes[0] == 0.0 and math.isnan(minutes[1]) and math.isnan(minutes[2])


def test_checkpoints_every_k_and_minutes(corpus) -> None:  # type: ignore[no-untyped-def]
    traces = run(LexiconDetector(), corpus.split("all"), RunnerConfig(every=3, progress=False))
    for n, points, minutes in zip(
        traces.column("n_messages"),
        traces.column("checkpoints"),
        traces.column("minutes"),
        strict=True,
    ):
        assert points[-1] == n and all(p % 3 == 0 for p in points[:-1])
        assert minutes[0] >= 0 and minutes == sorted(minutes)


def test_batch_size_does_not_change_traces(corpus) -> None:  # type: ignore[no-untyped-def]
    a = run(LexiconDetector(), corpus.split("all"), RunnerConfig(batch_size=1, progress=False))
    b = run(LexiconDetector(), corpus.split("all"), RunnerConfig(batch_size=50, progress=False))
    assert a.column("scores") == b.column("scores")


def test_traces_roundtrip_and_hold_no_text(corpus, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    traces = run(LexiconDetector(), corpus.split("all"), RunnerConfig(progress=False))
    path = traces.save(tmp_path / "t.parquet")
    again = Traces.load(path)
    assert again.table.equals(traces.table)
    assert "text" not in again.table.column_names and b"snap" not in path.read_bytes()


def test_runner_config_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match=r"runner\.every"):
        RunnerConfig(every=0)
