"""The runner: stream every conversation through a detector, message by message, in order.

Conversations are scored in batches (so detectors can vectorise across conversations) at the
checkpoints of :func:`detectors.checkpoints` (every k-th message and the last). The score at
message k must depend only on messages 1..k: shipped detectors are contract-tested for it, and
the runner re-checks it on a seeded sample of every run by re-scoring truncated conversations
(``causality_sample``), so a detector whose batch path peeks ahead fails the run loudly.

A detector that raises (or returns a bad score) on one conversation does not stop the run: the
batch is retried one conversation at a time and the failing one is recorded as an error, which
the metrics never count as a negative. The traces keep only the exception's type: its message
may quote chat text or a URL with a key, so it is kept apart (``Traces.error_details``) and
written only to a local file, with secret values redacted.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from datasets import Dataset
from tqdm.auto import tqdm

from benchmarks.traces import TraceRow, Traces
from detectors import Detector, Message, check_trace, checkpoints
from detectors.window import WindowedDetector

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
        causality_min: re-check at least this many conversations (all, when fewer) unless
            ``causality_sample`` is 0, so that small runs are checked too.
        window: when set, the detector sees only the last ``window`` messages of each prefix
            (eSPD uses 50); None gives it the whole prefix.
        seed: seeds the causality sample.
        progress: show a progress bar on stderr.
    """

    batch_size: int = 64
    every: int = 1
    causality_sample: float = 0.01
    causality_min: int = 25
    window: int | None = None
    seed: int = 0
    progress: bool = True

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"runner.batch_size must be >= 1, got {self.batch_size}")
        if self.every < 1:
            raise ValueError(f"runner.every must be >= 1, got {self.every}")
        if self.window is not None and self.window < 1:
            raise ValueError(f"runner.window must be >= 1 or null, got {self.window}")
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


Failure = tuple[str, str]  # (exception type, message): the message stays local


def _score_batch(
    detector: Detector,
    conversations: list[tuple[Message, ...]],
    every: int,
    ids: Sequence[str],
) -> list[list[float] | Failure]:
    """Score a batch; a conversation the detector failed on gets its failure instead."""
    try:
        results = detector.try_score_prefixes(conversations, every, ids=ids)
        if len(results) != len(conversations):
            raise ValueError(f"detector returned {len(results)} traces for {len(conversations)}")
    except Exception as error:  # the detector broke its own contract: every one failed
        return [_failure(error)] * len(conversations)
    out: list[list[float] | Failure] = []
    for conversation, result in zip(conversations, results, strict=True):
        if isinstance(result, BaseException):
            out.append(_failure(result))
            continue
        try:
            out.append(check_trace(result, len(conversation), every))
        except ValueError as error:
            out.append(_failure(error))
    return out


def _failure(error: BaseException) -> Failure:
    return type(error).__name__, str(error)[:1000]


def _minutes(conversation: Sequence[Message], points: Sequence[int]) -> list[float]:
    start = conversation[0].time if conversation else None
    out = []
    for k in points:
        t = conversation[k - 1].time
        minutes = math.nan if start is None or t is None else (t - start) / 60.0
        # A clock that runs backwards or is not finite gives no chat time, never a wrong one.
        out.append(minutes if math.isfinite(minutes) and minutes >= 0 else math.nan)
    return out


def check_causality(
    detector: Detector,
    conversation: tuple[Message, ...],
    scores: Sequence[float],
    every: int,
    rng: random.Random,
    conversation_id: str = "",
) -> None:
    """Re-score a random truncation of ``conversation``; raise if earlier scores changed."""
    points = checkpoints(len(conversation), every)
    if len(points) < 2:
        return
    cut = rng.randrange(1, len(points))  # keep checkpoints[:cut], drop the rest
    prefix = conversation[: points[cut - 1]]
    # With its id, so that a detector with a prediction cache re-reads what it paid for.
    result = detector.try_score_prefixes([prefix], every, ids=[conversation_id])[0]
    if isinstance(result, Exception):
        raise result
    again = result
    if len(again) != cut:
        raise CausalityError(
            f"detector '{detector.metadata.name}' returned {len(again)} scores for the "
            f"{cut} checkpoints of a truncated conversation"
        )
    # Detectors that batch float32 arithmetic declare how much a score moves with its batch.
    slack = max(1e-9, float(getattr(detector, "score_tolerance", 0.0)))
    for position in range(cut):
        if not math.isclose(again[position], scores[position], rel_tol=1e-6, abs_tol=slack):
            raise CausalityError(
                f"detector '{detector.metadata.name}' is not causal: its score at message "
                f"{points[position]} was {scores[position]:.10g} with the whole conversation and "
                f"{again[position]:.10g} with messages after {points[cut - 1]} removed (a detector "
                "whose scores move with batching declares it in score_tolerance)"
            )


def run(detector: Detector, dataset: Dataset, config: RunnerConfig | None = None) -> Traces:
    """Stream ``dataset`` through ``detector``; return the traces of every conversation."""
    config = config or RunnerConfig()
    if config.window is not None:
        detector = WindowedDetector(detector, config.window)
    rng = random.Random(config.seed)
    checked = _causality_picks(len(dataset), config)
    rows: list[TraceRow] = []
    details: list[tuple[str, str]] = []
    check_failures = 0
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
        results = _score_batch(detector, conversations, config.every, batch["conversation_id"])
        elapsed = time.perf_counter() - started
        n_msgs = max(1, sum(len(c) for c in conversations))
        for i, (conversation, result) in enumerate(zip(conversations, results, strict=True)):
            points = checkpoints(len(conversation), config.every)
            error = result[0] if isinstance(result, tuple) else None
            scores = [] if isinstance(result, tuple) else result
            if isinstance(result, tuple):
                details.append((batch["conversation_id"][i], f"{result[0]}: {result[1]}"))
            elif len(rows) in checked:
                try:
                    check_causality(
                        detector,
                        conversation,
                        scores,
                        config.every,
                        rng,
                        batch["conversation_id"][i],
                    )
                except CausalityError:
                    raise
                except Exception:  # a flaky re-score is not a verdict on causality
                    check_failures += 1
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
    traces = Traces.from_rows(rows, error_details=details)
    if check_failures:
        log.warning(
            "%d causality re-check(s) could not run: the detector failed on a truncated "
            "conversation",
            check_failures,
        )
    if traces.n_errors:
        kinds = Counter(e for e in traces.column("error") if e)
        log.warning(
            "%d of %d conversation(s) errored (%s); they are excluded from the metrics "
            "and counted in n_errors",
            traces.n_errors,
            len(traces),
            ", ".join(f"{k} x{n}" for k, n in kinds.most_common()),
        )
    return traces


def _causality_picks(n: int, config: RunnerConfig) -> set[int]:
    """Positions (in corpus order) of the conversations whose causality is re-checked."""
    if not config.causality_sample or n == 0:
        return set()
    size = min(n, max(config.causality_min, math.ceil(config.causality_sample * n)))
    return set(random.Random(config.seed + 1).sample(range(n), size))
