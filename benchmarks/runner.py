"""The runner: stream every conversation through a detector, message by message, in order.

Conversations are scored in batches (so detectors can vectorise across conversations) at the
checkpoints of :func:`detectors.checkpoints` (every k-th message and the last). The score at
message k must depend only on messages 1..k: shipped detectors are contract-tested for it, and
the runner re-checks it on a seeded sample of every run by re-scoring truncated conversations
(``causality_sample``), so a detector whose batch path peeks ahead fails the run loudly.

A detector that raises (or returns a bad score) on one conversation does not stop the run: the
batch is retried one conversation at a time and the failing one is recorded as an error, which
the metrics never count as a negative.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from datasets import Dataset
from tqdm.auto import tqdm

from benchmarks.traces import TraceRow, Traces
from detectors import Detector, Message, check_score, checkpoints

log = logging.getLogger(__name__)


class CausalityError(RuntimeError):
    """A detector's score at message k changed when later messages were removed."""


@dataclass(frozen=True)
class RunnerConfig:
    """How to stream a corpus through a detector.

    Attributes:
        batch_size: conversations scored together.
        every: score every k-th message (and always the last).
        causality_sample: share of conversations re-checked for causality (0 disables).
        seed: seeds the causality sample.
        progress: show a progress bar on stderr.
    """

    batch_size: int = 64
    every: int = 1
    causality_sample: float = 0.01
    seed: int = 0
    progress: bool = True

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"runner.batch_size must be >= 1, got {self.batch_size}")
        if self.every < 1:
            raise ValueError(f"runner.every must be >= 1, got {self.every}")
        if not 0.0 <= self.causality_sample <= 1.0:
            raise ValueError(
                f"runner.causality_sample must be in [0, 1], got {self.causality_sample}"
            )


def to_messages(raw: Sequence[dict[str, Any]]) -> tuple[Message, ...]:
    """Turn schema message dicts into the SDK's frozen messages."""
    return tuple(Message(m["author"], m["text"] or "", m["time"], m["index"]) for m in raw)


def _batches(dataset: Dataset, size: int) -> Iterator[dict[str, list[Any]]]:
    columns = ["conversation_id", "messages", "label", "onset", "escalation"]
    yield from dataset.select_columns(columns).iter(batch_size=size)


def _checked(scores: Sequence[float], expected: int) -> list[float]:
    if len(scores) != expected:
        raise ValueError(f"detector returned {len(scores)} scores for {expected} checkpoints")
    return [check_score(s) for s in scores]


def _score_batch(
    detector: Detector, conversations: list[tuple[Message, ...]], every: int
) -> list[list[float] | str]:
    """Score a batch; on failure retry one by one so one bad conversation costs only itself."""
    wanted = [len(checkpoints(len(c), every)) for c in conversations]
    try:
        batch = detector.score_prefixes(conversations, every)
        if len(batch) != len(conversations):
            raise ValueError(f"detector returned {len(batch)} traces for {len(conversations)}")
        return [_checked(s, n) for s, n in zip(batch, wanted, strict=True)]
    except Exception:
        if len(conversations) == 1:
            return [_error_text()]
    out: list[list[float] | str] = []
    for conversation, n in zip(conversations, wanted, strict=True):
        try:
            out.append(_checked(detector.score_prefixes([conversation], every)[0], n))
        except Exception:
            out.append(_error_text())
    return out


def _error_text() -> str:
    import sys

    error = sys.exc_info()[1]
    # The type and message only: never a traceback that could quote chat text from locals.
    return f"{type(error).__name__}: {error}"[:500]


def _minutes(conversation: Sequence[Message], points: Sequence[int]) -> list[float]:
    start = conversation[0].time if conversation else None
    out = []
    for k in points:
        t = conversation[k - 1].time
        out.append(math.nan if start is None or t is None else (t - start) / 60.0)
    return out


def check_causality(
    detector: Detector,
    conversation: tuple[Message, ...],
    scores: Sequence[float],
    every: int,
    rng: random.Random,
) -> None:
    """Re-score a random truncation of ``conversation``; raise if earlier scores changed."""
    points = checkpoints(len(conversation), every)
    if len(points) < 2:
        return
    cut = rng.randrange(1, len(points))  # keep checkpoints[:cut], drop the rest
    prefix = conversation[: points[cut - 1]]
    again = detector.score_prefixes([prefix], every)[0]
    for position in range(cut):
        if not math.isclose(again[position], scores[position], rel_tol=1e-6, abs_tol=1e-9):
            raise CausalityError(
                f"detector '{detector.metadata.name}' is not causal: its score at message "
                f"{points[position]} was {scores[position]:.6g} with the whole conversation and "
                f"{again[position]:.6g} with messages after {points[cut - 1]} removed"
            )


def run(detector: Detector, dataset: Dataset, config: RunnerConfig | None = None) -> Traces:
    """Stream ``dataset`` through ``detector``; return the traces of every conversation."""
    config = config or RunnerConfig()
    rng = random.Random(config.seed)
    rows: list[TraceRow] = []
    bar = tqdm(
        total=len(dataset),
        desc=f"scoring {detector.metadata.name}",
        unit="conv",
        disable=not config.progress,
        leave=False,
    )
    for batch in _batches(dataset, config.batch_size):
        conversations = [to_messages(raw) for raw in batch["messages"]]
        started = time.perf_counter()
        results = _score_batch(detector, conversations, config.every)
        elapsed = time.perf_counter() - started
        n_msgs = max(1, sum(len(c) for c in conversations))
        for i, (conversation, result) in enumerate(zip(conversations, results, strict=True)):
            points = checkpoints(len(conversation), config.every)
            error = result if isinstance(result, str) else None
            scores = [] if isinstance(result, str) else result
            if error is None and config.causality_sample and rng.random() < config.causality_sample:
                check_causality(detector, conversation, scores, config.every, rng)
            rows.append(
                TraceRow(
                    conversation_id=batch["conversation_id"][i],
                    label=int(batch["label"][i]),
                    n_messages=len(conversation),
                    onset=batch["onset"][i],
                    escalation=batch["escalation"][i],
                    checkpoints=points if error is None else [],
                    scores=scores,
                    minutes=_minutes(conversation, points) if error is None else [],
                    error=error,
                    seconds=elapsed * len(conversation) / n_msgs,
                )
            )
        bar.update(len(conversations))
    bar.close()
    traces = Traces.from_rows(rows)
    if traces.n_errors:
        log.warning("%d conversation(s) errored; see the traces' error column", traces.n_errors)
    return traces
