"""The runner: stream every conversation through a detector, message by message, in order.

Conversations are scored in batches (so detectors can vectorise across conversations) at the
checkpoints of :func:`detectors.checkpoints` (every k-th message and the last). The score at
message k must depend only on messages 1..k: in strict mode by construction (lockstep), in
fast mode checked on a seeded sample in a way a cheat cannot replay (:mod:`benchmarks.causality`).
Corpus conversation ids reach only untrusted adapters (sealed, remote), whose harness-side
caches key on them and never send them; in-process detectors get none.

A detector that raises (or returns a bad score) on one conversation does not stop the run: the
batch is retried one conversation at a time and the failing one is recorded as an error, which
the metrics never count as a negative. The traces keep only the exception's type: its message
may quote chat text or a URL with a key, so it is kept apart (``Traces.error_details``) and
written only to a local file, with secret values redacted.
"""

from __future__ import annotations

import hashlib
import logging
import math
import sys
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pyarrow as pa
from datasets import Dataset
from tqdm.auto import tqdm

from benchmarks.causality import (
    MODES,
    CausalityRecord,
    Failure,
    Pick,
    failure_of,
    lockstep,
    recheck,
    resolve_mode,
)
from benchmarks.causality import CausalityError as CausalityError
from benchmarks.traces import SCHEMA, TraceRow, Traces
from detectors import Detector, Message, check_trace, checkpoints
from detectors.window import WindowedDetector

log = logging.getLogger(__name__)


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
        causality: ``strict`` (lockstep, causal by construction), ``fast`` (whole
            conversations, re-checked on a sample) or ``auto`` (strict for untrusted
            detectors; the job also makes it strict when a claim is declared).
        max_unchecked: largest share of the fast mode's re-checks that may fail to run.
        allow_unverified: report a run above that share, marked ``UNVERIFIED``, instead of
            failing it.
    """

    batch_size: int = 64
    every: int = 1
    causality_sample: float = 0.01
    causality_min: int = 25
    window: int | None = None
    seed: int = 0
    progress: bool = True
    causality: str = "auto"
    max_unchecked: float = 0.05
    allow_unverified: bool = False

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
        if self.causality not in MODES:
            raise ValueError(
                f"runner.causality must be one of {', '.join(MODES)}, got {self.causality!r}"
            )
        if not 0.0 <= self.max_unchecked <= 1.0:
            raise ValueError(f"runner.max_unchecked must be in [0, 1], got {self.max_unchecked}")


def to_messages(raw: Sequence[dict[str, Any]]) -> tuple[Message, ...]:
    """Turn schema message dicts into the SDK's frozen messages.

    Author ids are interned: a conversation's two or three authors are then two or three
    strings, not one per message (about 90 MB over a PAN12-sized training split).
    """
    return tuple(
        Message(sys.intern(m["author"]), m["text"] or "", m["time"], m["index"]) for m in raw
    )


#: The columns the runner reads: a shard sent to another process carries only these.
COLUMNS = ("conversation_id", "messages", "label", "onset", "escalation")


def _batches(dataset: Dataset | pa.Table, size: int) -> Iterator[dict[str, list[Any]]]:
    if isinstance(dataset, pa.Table):
        # A shard shipped to a worker: the same rows as Python objects, in the same batches.
        for start in range(0, dataset.num_rows, size):
            yield dataset.slice(start, size).select(list(COLUMNS)).to_pydict()
        return
    yield from dataset.select_columns(list(COLUMNS)).iter(batch_size=size)


def _score_batch(
    detector: Detector,
    conversations: list[tuple[Message, ...]],
    every: int,
    ids: Sequence[str] | None,
) -> list[list[float] | Failure]:
    """Score a batch; a conversation the detector failed on gets its failure instead."""
    try:
        results = detector.try_score_prefixes(conversations, every, ids=ids)
        if len(results) != len(conversations):
            raise ValueError(f"detector returned {len(results)} traces for {len(conversations)}")
    except Exception as error:  # the detector broke its own contract: every one failed
        return [failure_of(error)] * len(conversations)
    out: list[list[float] | Failure] = []
    for conversation, result in zip(conversations, results, strict=True):
        if isinstance(result, BaseException):
            out.append(failure_of(result))
            continue
        try:
            out.append(check_trace(result, len(conversation), every))
        except ValueError as error:
            out.append(failure_of(error))
    return out


def _minutes(conversation: Sequence[Message], points: Sequence[int]) -> list[float]:
    start = conversation[0].time if conversation else None
    out = []
    for k in points:
        t = conversation[k - 1].time
        minutes = math.nan if start is None or t is None else (t - start) / 60.0
        # A clock that runs backwards or is not finite gives no chat time, never a wrong one.
        out.append(minutes if math.isfinite(minutes) and minutes >= 0 else math.nan)
    return out


def run(
    detector: Detector,
    dataset: Dataset | pa.Table,
    config: RunnerConfig | None = None,
    *,
    fresh: Callable[[], Detector] | None = None,
    picks: Collection[str] | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> Traces:
    """Stream ``dataset`` through ``detector``; return the traces of every conversation.

    Args:
        detector: the detector.
        dataset: a corpus split (or a shard of one, as an Arrow table of :data:`COLUMNS`).
        config: batching, checkpoints, causality mode and sampling, progress.
        fresh: builds a second instance of the detector for the fast mode's re-check (so that
            nothing it remembered from the first pass can be replayed); None reuses it.
        picks: the conversation ids the fast mode re-checks; None draws them from this
            dataset's ids (:func:`causality_picks`). A shard gets the whole split's picks, so
            that the sample does not depend on how the split was cut.
        on_batch: called with the number of conversations after each batch (progress of a
            shard scored in another process).

    Raises:
        CausalityError: a re-checked score moved (fast mode).
        CausalityUnverified: too many re-checks could not run, and that was not allowed.
    """
    config = config or RunnerConfig()
    mode = resolve_mode(config.causality, detector)
    if config.window is not None:
        detector = WindowedDetector(detector, config.window)
        if fresh is not None:
            build, window = fresh, config.window
            fresh = lambda: WindowedDetector(build(), window)  # noqa: E731
    trusted = getattr(detector, "trusted", True)
    if mode != "fast":
        sampled: Collection[str] = frozenset()
    elif picks is None:
        sampled = causality_picks(dataset_ids(dataset), config)
    else:
        sampled = frozenset(picks)
    chosen: list[Pick] = []
    # Each batch's traces become an Arrow batch at once: a PAN12-sized split's traces as Python
    # rows (lists of floats per conversation) took over 300 MB; as Arrow they take 16 MB.
    batches: list[pa.RecordBatch] = []
    n_ok = 0
    details: list[tuple[str, str]] = []
    bar = tqdm(
        total=len(dataset),
        desc=f"scoring {detector.metadata.name}" + (" (strict)" if mode == "strict" else ""),
        unit="conv",
        disable=not config.progress,
        leave=False,
    )
    for batch in _batches(dataset, config.batch_size):
        conversations = [to_messages(raw) for raw in batch["messages"]]
        ids = None if trusted else [str(i) for i in batch["conversation_id"]]
        started = time.perf_counter()
        if mode == "strict":
            results = lockstep(detector, conversations, config.every, ids)
        else:
            results = _score_batch(detector, conversations, config.every, ids)
        elapsed = time.perf_counter() - started
        n_msgs = max(1, sum(len(c) for c in conversations))
        rows: list[TraceRow] = []
        for i, (conversation, result) in enumerate(zip(conversations, results, strict=True)):
            points = checkpoints(len(conversation), config.every)
            error = result[0] if isinstance(result, tuple) else None
            scores = [] if isinstance(result, tuple) else result
            if isinstance(result, tuple):
                details.append((batch["conversation_id"][i], f"{result[0]}: {result[1]}"))
            elif str(batch["conversation_id"][i]) in sampled:
                chosen.append(Pick(conversation, tuple(scores), str(batch["conversation_id"][i])))
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
        n_ok += sum(1 for r in rows if r.error is None)
        batches.append(pa.RecordBatch.from_pylist([asdict(r) for r in rows], schema=SCHEMA))
        bar.update(len(conversations))
        if on_batch is not None:
            on_batch(len(conversations))
    bar.close()
    if mode == "strict":
        record = CausalityRecord(mode="strict", checked=n_ok)
    else:
        record = recheck(
            detector,
            chosen,
            config.every,
            config.seed,
            fresh=fresh,
            max_unchecked=config.max_unchecked,
            allow_unverified=config.allow_unverified,
        )
        if record.unchecked:
            log.warning(
                "%d of %d causality re-check(s) could not run (the detector failed on them)%s",
                record.unchecked,
                record.sampled,
                "" if record.verified else ": the run is marked UNVERIFIED",
            )
    table = pa.Table.from_batches(batches, schema=SCHEMA).combine_chunks()
    traces = Traces(table, tuple(details), record.to_dict())
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


def dataset_ids(dataset: Dataset | pa.Table) -> list[str]:
    """The conversation ids of a split (or shard), in its order."""
    if isinstance(dataset, pa.Table):
        return [str(i) for i in dataset.column("conversation_id").to_pylist()]
    return [str(i) for i in dataset["conversation_id"]]


def pick_rank(seed: int, conversation_id: str) -> str:
    """Where a conversation ranks in the seeded draw of the causality sample.

    The draw ranks ids by a keyed hash, never by position, so that the same conversations are
    re-checked however the split is cut into shards or ordered.

    Examples:
        >>> pick_rank(0, "c1") == pick_rank(0, "c1"), pick_rank(0, "c1") == pick_rank(1, "c1")
        (True, False)
    """
    return hashlib.sha256(f"{seed}\x00{conversation_id}".encode()).hexdigest()


def causality_picks(ids: Sequence[str], config: RunnerConfig) -> frozenset[str]:
    """The ids of the conversations whose causality the fast mode re-checks.

    Examples:
        >>> config = RunnerConfig(causality_sample=0.5, causality_min=1)
        >>> picks = causality_picks([f"c{i}" for i in range(10)], config)
        >>> len(picks), picks == causality_picks([f"c{i}" for i in range(9, -1, -1)], config)
        (5, True)
    """
    n = len(ids)
    if not config.causality_sample or n == 0:
        return frozenset()
    size = min(n, max(config.causality_min, math.ceil(config.causality_sample * n)))
    return frozenset(sorted(ids, key=lambda i: pick_rank(config.seed + 1, i))[:size])
