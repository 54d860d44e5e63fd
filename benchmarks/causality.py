"""Causality: a detector never sees a later message than the one being scored.

Two modes (``runner.causality``):

- **strict**: causal by construction. Conversations are fed in lockstep: at step k, the
  detector is asked for its score at message k of every active conversation of the batch, and
  is handed only messages 1..k; nothing of message k+1 exists for it until every score at k has
  been collected. The default for untrusted detectors (sealed programs, remote services) and for
  any run with a declared claim (``auto``).
- **fast**: detectors score whole conversations in one pass (``score_prefixes``: linear cost).
  Since that path is handed whole conversations, a seeded sample is re-checked afterwards, in a
  way a cheat cannot replay: on a fresh instance of the detector where the harness can build
  one, with no corpus ids (in-process detectors never receive them), truncated prefixes mixed
  with untruncated copies, in shuffled order. A score that moves fails the run
  (:class:`CausalityError`); a re-check that errors counts as *unchecked*, and a run with more
  unchecked re-checks than ``runner.max_unchecked`` (a share) fails (:class:`CausalityUnverified`)
  unless ``runner.allow_unverified`` reports it marked ``UNVERIFIED``.

Every result records the mode and ``checked``, ``failed`` and ``unchecked`` counts
(:class:`CausalityRecord`). What each guarantee covers is in docs/trust.md.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from benchmarks.errors import ConfigError
from detectors import Detector, Message, check_score, checkpoints

Failure = tuple[str, str]  # (exception type, message): the message stays local
MODES = ("auto", "strict", "fast")
#: The largest score tolerance a detector may declare (half-precision networks need ~1e-2).
MAX_TOLERANCE = 5e-2


class CausalityError(RuntimeError):
    """A detector's score at message k changed when later messages were removed."""


class CausalityUnverified(ConfigError):
    """Too many causality re-checks could not run: the run's causality is unverified."""


def unverified_message(unchecked: int, sampled: int, why: str, detector: str = "") -> str:
    """What to do when too many re-checks could not run (one process, or a sharded split)."""
    of = f" of detector '{detector}'" if detector else ""
    return (
        f"{unchecked} of {sampled} causality re-checks{of} could not run ({why}): its causality "
        "is unverified; fix the detector, use runner.causality=strict (causal by construction), "
        "or set runner.allow_unverified=true to report the run marked UNVERIFIED"
    )


@dataclass(frozen=True)
class CausalityRecord:
    """How causality was guaranteed or checked in one run (in results, MLflow, the card).

    Attributes:
        mode: ``strict`` (by construction) or ``fast`` (re-checked on a sample).
        checked: conversations whose causality holds: fed by construction (strict), or
            re-checked and unchanged (fast).
        failed: re-checks whose earlier scores moved (a run with any fails; recorded for the
            record's completeness).
        unchecked: re-checks that could not run (the detector raised on them).
        sampled: conversations picked for re-checking (fast).
        fresh_instance: the re-check ran on a second instance of the detector.
        verified: False when ``unchecked`` exceeded the allowed share and the user allowed the
            run anyway, or when nothing was re-checked (``causality_sample=0``): every place
            the result appears says ``UNVERIFIED``.
        tolerance: how far a re-checked score was allowed to move (the detector's declared
            ``score_tolerance``, at most :data:`MAX_TOLERANCE`).
    """

    mode: str
    checked: int
    failed: int = 0
    unchecked: int = 0
    sampled: int = 0
    fresh_instance: bool = False
    verified: bool = True
    tolerance: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return asdict(self)


def resolve_mode(mode: str, detector: Detector) -> str:
    """``auto`` is strict for untrusted detectors, fast for in-process (trusted) ones.

    Examples:
        >>> from detectors.classical.controls import ConstantDetector
        >>> constant = ConstantDetector(0.1)
        >>> resolve_mode("auto", constant), resolve_mode("strict", constant)
        ('fast', 'strict')
    """
    if mode not in MODES:
        raise ValueError(f"runner.causality must be one of {', '.join(MODES)}, got {mode!r}")
    if mode == "auto":
        return "fast" if getattr(detector, "trusted", True) else "strict"
    return mode


def lockstep(
    detector: Detector,
    conversations: Sequence[tuple[Message, ...]],
    every: int,
    ids: Sequence[str] | None,
) -> list[list[float] | Failure]:
    """Score a batch in strict mode: message k of every conversation before any message k+1.

    At each step the detector gets the prefixes 1..k of the conversations that have a
    checkpoint at k (with ``every=k``, so exactly one score each) and nothing more.
    """
    points = [checkpoints(len(c), every) for c in conversations]
    wanted = [set(p) for p in points]
    scores: list[list[float]] = [[] for _ in conversations]
    failed: list[Failure | None] = [None] * len(conversations)
    longest = max((len(c) for c in conversations), default=0)
    for k in range(1, longest + 1):
        active = [i for i in range(len(conversations)) if failed[i] is None and k in wanted[i]]
        if not active:
            continue
        prefixes = [conversations[i][:k] for i in active]
        step_ids = None if ids is None else [ids[i] for i in active]
        try:
            results = detector.try_score_prefixes(prefixes, k, ids=step_ids)
            if len(results) != len(active):
                raise ValueError(f"detector returned {len(results)} traces for {len(active)}")
        except Exception as error:  # the detector broke its own contract: all of them failed
            results = [error] * len(active)
        for i, result in zip(active, results, strict=True):
            if isinstance(result, BaseException):
                failed[i] = failure_of(result)
                continue
            try:
                if len(result) != 1:
                    raise ValueError(f"detector returned {len(result)} scores for 1 checkpoint")
                scores[i].append(check_score(result[0]))
            except ValueError as error:
                failed[i] = failure_of(error)
    return [
        failure if failure is not None else s for s, failure in zip(scores, failed, strict=True)
    ]


def failure_of(error: BaseException) -> Failure:
    return type(error).__name__, str(error)[:1000]


@dataclass(frozen=True)
class Pick:
    """A scored conversation sampled for the fast mode's re-check."""

    conversation: tuple[Message, ...]
    scores: tuple[float, ...]
    conversation_id: str


def recheck(
    detector: Detector,
    picks: Sequence[Pick],
    every: int,
    seed: int,
    *,
    fresh: Callable[[], Detector] | None = None,
    max_unchecked: float = 0.05,
    allow_unverified: bool = False,
) -> CausalityRecord:
    """Re-score ``picks`` so that a replaying detector cannot pass; raise on a moved score.

    Each pick is asked again truncated at a random checkpoint (its earlier scores must not
    move) and, as a decoy that also checks determinism, whole (no score may move). All of them
    go in one shuffled batch, to a fresh instance when ``fresh`` builds one, with corpus ids only
    for untrusted adapters (whose harness-side caches key on them and never send them).

    Raises:
        CausalityError: a score changed.
        CausalityUnverified: more than ``max_unchecked`` of the picks could not be re-checked,
            and ``allow_unverified`` is False.
    """
    if not picks:
        # Nothing was re-checked (causality_sample=0, or every conversation errored): nothing
        # shows the detector is causal.
        return CausalityRecord(mode="fast", checked=0, verified=False)
    rng = random.Random(seed)
    checker = fresh() if fresh is not None else detector
    items: list[tuple[int, int]] = []  # (pick, cut): cut = number of checkpoints kept
    for position, pick in enumerate(picks):
        n = len(checkpoints(len(pick.conversation), every))
        if n >= 2:
            # The cut is drawn per conversation, so a shard re-checks what the whole split would.
            cut = random.Random(f"{seed}:{pick.conversation_id}").randrange(1, n)
            items.append((position, cut))
        items.append((position, n))  # untruncated: a decoy and a determinism check
    rng.shuffle(items)
    prefixes = []
    for position, cut in items:
        pick = picks[position]
        points = checkpoints(len(pick.conversation), every)
        prefixes.append(pick.conversation[: points[cut - 1]])
    # No ids, for anyone: an untrusted adapter's harness-side cache keys on them, and a re-check
    # answered from that cache would check nothing (a paid service re-bills the sample).
    try:
        results: list[list[float] | Exception] = list(
            checker.try_score_prefixes(prefixes, every, ids=None)
        )
        if len(results) != len(items):
            raise ValueError(f"detector returned {len(results)} traces for {len(items)}")
    except Exception as error:
        results = [error] * len(items)
    finally:
        if checker is not detector:
            close = getattr(checker, "close", None)
            if callable(close):
                close()
    unchecked: Counter[str] = Counter()
    bad: set[int] = set()
    moved: list[str] = []
    # A declared tolerance is capped: a detector cannot declare its way past the check.
    slack = min(MAX_TOLERANCE, max(1e-9, float(getattr(detector, "score_tolerance", 0.0))))
    for (position, cut), result in zip(items, results, strict=True):
        pick = picks[position]
        if isinstance(result, BaseException):
            unchecked[type(result).__name__] += 1
            bad.add(position)
            continue
        if len(result) != cut:
            moved.append(f"{len(result)} scores for the {cut} checkpoints of a prefix")
            continue
        points = checkpoints(len(pick.conversation), every)
        for k in range(cut):
            if not math.isclose(result[k], pick.scores[k], rel_tol=1e-6, abs_tol=slack):
                end = points[cut - 1]
                moved.append(
                    f"its score at message {points[k]} was {pick.scores[k]:.10g} with the whole "
                    f"conversation and {result[k]:.10g} when asked again with messages after "
                    f"{end} removed"
                    if cut < len(points)
                    else f"its score at message {points[k]} was {pick.scores[k]:.10g} and "
                    f"{result[k]:.10g} when the same conversation was asked again"
                )
                break
    name = detector.metadata.name
    if moved:
        raise CausalityError(
            f"detector '{name}' is not causal (or not deterministic): {moved[0]} "
            f"({len(moved)} re-check(s) moved; a detector whose scores move with batching "
            "declares it in score_tolerance)"
        )
    share = len(bad) / len(picks)
    record = CausalityRecord(
        mode="fast",
        checked=len(picks) - len(bad),
        unchecked=len(bad),
        sampled=len(picks),
        fresh_instance=checker is not detector,
        verified=share <= max_unchecked,
        tolerance=slack,
    )
    if not record.verified and not allow_unverified:
        kinds = ", ".join(f"{k} x{n}" for k, n in unchecked.most_common())
        raise CausalityUnverified(unverified_message(len(bad), len(picks), kinds, name))
    return record
