"""Four detectors that read later messages, tried as a vendor would: each is refused, flagged,
or (strict mode) scores exactly like its honest twin that reads only the prefix.

The honest twin is the stage lexicon. Every cheat scores a checkpoint with the lexicon's score
of the *whole* conversation (it peeks), and each hides it from the fast mode's re-check its own
way: (1) not at all; (2) replaying its trace by conversation id; (3) replaying it by the
conversation's opening, from memory; (4) refusing to be asked again.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest

from benchmarks.causality import CausalityError, CausalityUnverified
from benchmarks.corpora.jsonl import load_jsonl
from benchmarks.evaluation import evaluate_detector
from benchmarks.leaderboard import result_row
from benchmarks.runner import RunnerConfig, run
from detectors import Conversation, checkpoints
from detectors.classical.lexicon import LexiconDetector
from tests.helpers import write_jsonl


class Peeker(LexiconDetector):
    """(1) Scores every checkpoint with what the whole conversation says."""

    def peek(self, conversations: Sequence[Conversation], every: int) -> list[list[float]]:
        return [[self.score([c])[0]] * len(checkpoints(len(c), every)) for c in conversations]

    def score_prefixes(
        self, conversations: Sequence[Conversation], every: int = 1
    ) -> list[list[float]]:
        return self.peek(conversations, every)


class ReplaysById(Peeker):
    """(2) Keeps each trace by the id the runner passes; replays it when the id comes again."""

    def __init__(self) -> None:
        super().__init__()
        self.by_id: dict[str, list[float]] = {}

    def try_score_prefixes(
        self,
        conversations: Sequence[Conversation],
        every: int = 1,
        ids: Sequence[str] | None = None,
    ) -> list[list[float] | Exception]:
        if ids is None:
            return list(self.peek(conversations, every))
        out: list[list[float] | Exception] = []
        for conversation, cid in zip(conversations, ids, strict=True):
            n = len(checkpoints(len(conversation), every))
            if cid not in self.by_id:
                self.by_id[cid] = self.peek([conversation], every)[0]
            out.append(self.by_id[cid][:n])
        return out


class ReplaysByOpening(Peeker):
    """(3) Remembers each conversation's trace by its first message; replays it for any
    conversation that opens the same way and is no longer than the one it remembers."""

    def __init__(self) -> None:
        super().__init__()
        self.memory: dict[str, list[float]] = {}  # opening -> the score at every message

    def score_prefixes(
        self, conversations: Sequence[Conversation], every: int = 1
    ) -> list[list[float]]:
        out = []
        for conversation in conversations:
            key = conversation[0].text if conversation else ""
            known = self.memory.get(key, [])
            if len(known) < len(conversation):
                known = self.peek([conversation], 1)[0]
                self.memory[key] = known
            out.append([known[k - 1] for k in checkpoints(len(conversation), every)])
        return out


class RefusesWhenAskedAgain(Peeker):
    """(4) Peeks, and raises a timeout on any conversation whose opening it has seen before."""

    seen: ClassVar[set[str]] = set()

    def score_prefixes(
        self, conversations: Sequence[Conversation], every: int = 1
    ) -> list[list[float]]:
        if any(c and c[0].text in self.seen for c in conversations):
            raise TimeoutError("the service timed out")
        self.seen.update(c[0].text for c in conversations if c)
        return self.peek(conversations, every)


CHEATS = (Peeker, ReplaysById, ReplaysByOpening, RefusesWhenAskedAgain)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Any:
    # Neutral chats; the grooming ones end with a cue: a detector that reads the end early
    # alerts early.
    folder = tmp_path_factory.mktemp("cheats")
    return load_jsonl(str(write_jsonl(folder / "c.jsonl", n=120)), cache_dir=str(folder / "c"))


@pytest.fixture(scope="module")
def data(corpus: Any) -> Any:
    # One conversation per opening, so that a cheat keyed on the opening confuses none.
    split = corpus.split("all")
    seen: set[str] = set()
    keep = []
    for i, messages in enumerate(split["messages"]):
        opening = messages[0]["text"] if messages else ""
        if opening not in seen:
            seen.add(opening)
            keep.append(i)
    return split.select(keep)


def fast(**settings: Any) -> RunnerConfig:
    return RunnerConfig(causality="fast", progress=False, **settings)


def strict() -> RunnerConfig:
    return RunnerConfig(causality="strict", progress=False)


def test_the_peeking_cheats_would_win_if_undetected(data: Any) -> None:
    # Without any check, every cheat alerts earlier than its honest twin: there is something
    # to catch. (causality_sample=0 disables the fast mode's re-check.)
    honest = run(LexiconDetector(), data, fast(causality_sample=0.0))
    for cheat in (Peeker, ReplaysById, ReplaysByOpening):
        traces = run(cheat(), data, fast(causality_sample=0.0))
        assert traces.column("scores") != honest.column("scores"), cheat.__name__


@pytest.mark.parametrize("cheat", [Peeker, ReplaysById, ReplaysByOpening])
def test_fast_mode_catches_the_peekers_even_when_they_replay(cheat: type, data: Any) -> None:
    with pytest.raises(CausalityError, match="not causal"):
        run(cheat(), data, fast(), fresh=cheat)


def test_a_cheat_that_refuses_the_recheck_fails_the_run_or_is_flagged_unverified(
    corpus: Any, data: Any, tmp_path: Path
) -> None:
    RefusesWhenAskedAgain.seen = set()
    with pytest.raises(CausalityUnverified, match="could not run"):
        run(RefusesWhenAskedAgain(), data, fast(), fresh=RefusesWhenAskedAgain)
    RefusesWhenAskedAgain.seen = set()
    allowed = evaluate_detector(
        RefusesWhenAskedAgain(), corpus, split="all", runner=fast(allow_unverified=True)
    )
    guarantees = allowed.result.guarantees
    assert guarantees["flags"] == ["UNVERIFIED"] and not guarantees["causality"]["verified"]
    assert guarantees["causality"]["unchecked"] == guarantees["causality"]["sampled"] > 0
    assert "(UNVERIFIED)" in result_row(allowed.result)["detector"]
    # ...and in MLflow, and in the leaderboard read back from it, with the counts.
    from benchmarks.leaderboard import mlflow_rows
    from benchmarks.tracking import log_evaluation

    uri = f"sqlite:///{tmp_path / 'store.db'}"
    allowed.save(tmp_path / "run")
    run_id = log_evaluation(
        allowed, uri=uri, experiment="cheats", config={}, run_dir=tmp_path / "run"
    )
    import mlflow

    tags = mlflow.MlflowClient(tracking_uri=uri).get_run(run_id).data.tags
    assert tags["groombench.flags"] == "UNVERIFIED"
    assert tags["groombench.causality_mode"] == "fast"
    (row,) = mlflow_rows(uri, "cheats", None)
    assert row["detector"].endswith("(UNVERIFIED)")
    sampled = guarantees["causality"]["sampled"]
    assert row["causality"] == f"fast 0/0/{sampled}"


@pytest.mark.parametrize("cheat", CHEATS)
def test_in_strict_mode_every_cheat_scores_like_its_honest_twin_or_is_refused(
    cheat: type, data: Any
) -> None:
    RefusesWhenAskedAgain.seen = set()
    honest = run(LexiconDetector(), data, strict())
    traces = run(cheat(), data, strict())
    if cheat is RefusesWhenAskedAgain:
        # Asked for message 2 after message 1, it refuses: every conversation is an error, none
        # a negative, and the run has nothing to report.
        assert traces.n_errors == len(traces)
        return
    assert traces.n_errors == 0
    assert traces.column("scores") == honest.column("scores")
    assert traces.causality["mode"] == "strict" and traces.causality["checked"] == len(traces)


def test_in_process_detectors_never_receive_corpus_ids(data: Any) -> None:
    received: list[Sequence[str] | None] = []

    class Spy(LexiconDetector):
        def try_score_prefixes(
            self,
            conversations: Sequence[Conversation],
            every: int = 1,
            ids: Sequence[str] | None = None,
        ) -> list[list[float] | Exception]:
            received.append(ids)
            return super().try_score_prefixes(conversations, every, ids)

    run(Spy(), data, fast(causality_sample=1.0))
    run(Spy(), data, strict())
    assert received and all(ids is None for ids in received)


def test_untrusted_detectors_are_fed_in_lockstep_by_default(data: Any) -> None:
    calls: list[tuple[list[int], Sequence[str] | None]] = []

    class Vendor(LexiconDetector):
        trusted = False
        isolation = "remote service"

        def try_score_prefixes(
            self,
            conversations: Sequence[Conversation],
            every: int = 1,
            ids: Sequence[str] | None = None,
        ) -> list[list[float] | Exception]:
            calls.append(([len(c) for c in conversations], ids))
            return super().try_score_prefixes(conversations, every, ids)

    traces = run(Vendor(), data, RunnerConfig(progress=False, batch_size=16))
    assert traces.causality["mode"] == "strict"
    honest = run(LexiconDetector(), data, fast())
    assert traces.column("scores") == honest.column("scores")
    # Each call holds prefixes of one length k, and within a batch k only grows: message k+1
    # of any conversation is handed over only after every score at k was returned.
    for lengths, ids in calls:
        assert len(set(lengths)) == 1
        assert ids is not None and len(ids) == len(lengths)  # for the harness-side cache
    steps = [lengths[0] for lengths, _ in calls]
    assert all(b == a + 1 or b == 1 for a, b in itertools.pairwise(steps))
