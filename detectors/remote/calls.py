"""Calling slow or paid services: concurrency, a rate limit, retries with backoff and jitter.

:func:`call_all` runs one function over many inputs on a thread pool. Each call waits for the
rate limiter, and a call that fails transiently (timeout, connection error, 429, 5xx: the
adapter raises :class:`TransientError`) is retried with exponential backoff and full jitter,
honouring a server's ``Retry-After``. A :class:`PermanentError` (another 4xx, a malformed
answer) is not retried. Each result is handed to ``on_result`` the moment it arrives, so that
the caller can persist it before anything else can go wrong.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Generic, TypeVar

from detectors.usage import Usage

T = TypeVar("T")
R = TypeVar("R")


class TransientError(Exception):
    """A failure worth retrying: timeout, connection error, 429 or 5xx.

    Attributes:
        retry_after: seconds the service asked us to wait (``Retry-After``), when it said.
        status: the HTTP status, when there was one.
    """

    def __init__(self, message: str, retry_after: float | None = None, status: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status


class PermanentError(Exception):
    """A failure that a retry would repeat: a 4xx other than 429, an answer we cannot read.

    Attributes:
        status: the HTTP status when the service refused the request (a 4xx), else None.
    """

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class GaveUp(Exception):
    """Every attempt failed; the last error is the cause."""


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to retry a transient failure.

    Attributes:
        attempts: tries in all, the first included (1 = never retry).
        backoff: the first retry waits up to this many seconds; each later one doubles it.
        max_backoff: no computed wait exceeds this.
        max_retry_after: a server's ``Retry-After`` is honoured up to this many seconds.
        jitter: full jitter (a uniform wait in [0, backoff]), so that parallel callers that
            failed together do not retry together.
    """

    attempts: int = 5
    backoff: float = 0.5
    max_backoff: float = 30.0
    max_retry_after: float = 120.0
    jitter: bool = True

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"retries.attempts must be >= 1, got {self.attempts}")
        if self.backoff < 0 or self.max_backoff < 0 or self.max_retry_after < 0:
            raise ValueError("retry waits must be >= 0")

    def wait(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based).

        Examples:
            >>> policy = RetryPolicy(backoff=1.0, jitter=False)
            >>> [policy.wait(a, None, random.Random(0)) for a in (1, 2, 3)]
            [1.0, 2.0, 4.0]
            >>> policy.wait(1, 7.0, random.Random(0))  # the server said when
            7.0
        """
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        ceiling = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        return rng.uniform(0, ceiling) if self.jitter else ceiling


class RateLimiter:
    """At most ``per_second`` starts per second across threads (None: no limit).

    Calls are spaced evenly (a start every ``1 / per_second`` s) rather than let through in
    bursts, which is what per-second quotas on APIs count.
    """

    def __init__(self, per_second: float | None) -> None:
        if per_second is not None and per_second <= 0:
            raise ValueError(f"requests_per_second must be > 0 or null, got {per_second}")
        self._interval = 0.0 if per_second is None else 1.0 / per_second
        self._next = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Block until the caller may start a request."""
        if not self._interval:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self._interval
        if start > now:
            time.sleep(start - now)


@dataclass(frozen=True)
class Outcome(Generic[T, R]):
    """What became of one input: its result, or the error that ended its attempts."""

    item: T
    result: R | None
    error: Exception | None


def call_all(
    items: Sequence[T],
    call: Callable[[T], R],
    *,
    concurrency: int = 1,
    limiter: RateLimiter | None = None,
    retry: RetryPolicy | None = None,
    usage: Usage | None = None,
    on_result: Callable[[T, R], None] | None = None,
    seed: int = 0,
) -> list[Outcome[T, R]]:
    """Run ``call`` on every item with retries; return the outcomes in item order.

    Args:
        items: the inputs (one request each).
        call: sends one request; raises :class:`TransientError` to be retried, anything else
            to give up on that item at once.
        concurrency: requests in flight at once.
        limiter: shared rate limit.
        retry: the retry policy.
        usage: counts ``requests``, ``calls``, ``retries``, ``rate_limited`` and
            ``failed_inputs``.
        on_result: called (from a worker thread, one at a time) with each item and result as
            soon as it arrives: persist it there.
        seed: seeds the jitter.

    Returns:
        One :class:`Outcome` per item; a failed item's ``error`` is the last error raised.
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be >= 1, got {concurrency}")
    retry = retry or RetryPolicy()
    limiter = limiter or RateLimiter(None)
    usage = usage or Usage()
    persist = threading.Lock()
    stop = threading.Event()

    def attempt_all(index: int, item: T) -> Outcome[T, R]:
        rng = random.Random(seed * 1_000_003 + index)
        last: Exception | None = None
        for attempt in range(1, retry.attempts + 1):
            if stop.is_set():
                last = InterruptedError("the run was stopped before this request was sent")
                break
            if attempt > 1:
                usage.add("retries")
                retry_after = last.retry_after if isinstance(last, TransientError) else None
                # A wait that a stop cuts short: an interrupted run sends nothing more.
                if stop.wait(retry.wait(attempt - 1, retry_after, rng)):
                    last = InterruptedError("the run was stopped during a retry wait")
                    break
            limiter.acquire()
            usage.add("requests")
            try:
                result = call(item)
            except TransientError as error:
                if error.status == 429:
                    usage.add("rate_limited")
                last = error
                continue
            except Exception as error:
                last = error
                break
            usage.add("calls")
            if on_result is not None:
                with persist:
                    on_result(item, result)
            return Outcome(item, result, None)
        usage.add("failed_inputs")
        return Outcome(item, None, last)

    if concurrency == 1 or len(items) <= 1:
        return [attempt_all(i, item) for i, item in enumerate(items)]
    outcomes: list[Outcome[T, R] | None] = [None] * len(items)
    pool = ThreadPoolExecutor(max_workers=min(concurrency, len(items)))
    try:
        futures = {pool.submit(attempt_all, i, item): i for i, item in enumerate(items)}
        for future in as_completed(futures):
            outcomes[futures[future]] = future.result()
    except BaseException:
        # Ctrl-C, SIGTERM or a bug: stop at once. Queued requests are cancelled rather than
        # sent (and paid for); those in flight finish, and their answers are still persisted.
        stop.set()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return [o for o in outcomes if o is not None]
