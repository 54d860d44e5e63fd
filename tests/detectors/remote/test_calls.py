"""The call pool: an interrupted run stops sending; a refused batch costs only its own inputs."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from detectors import Message
from detectors.remote.calls import RetryPolicy, call_all
from detectors.remote.http import HttpDetector
from detectors.usage import Usage
from tests.loopback import Loopback, Recorded


def test_an_interrupt_stops_queued_requests() -> None:
    sent: list[int] = []
    lock = threading.Lock()

    def call(item: int) -> int:
        with lock:
            sent.append(item)
        time.sleep(0.01)
        return item

    def keep(item: int, result: int) -> None:
        if item == 5:
            raise KeyboardInterrupt  # as Ctrl-C would, while answers arrive

    with pytest.raises(KeyboardInterrupt):
        call_all(list(range(400)), call, concurrency=4, on_result=keep, usage=Usage())
    # Without the stop, all 400 would be sent; with it, only those already in flight.
    time.sleep(0.2)
    assert len(sent) < 40, len(sent)


def test_a_retry_wait_is_cut_short_by_an_interrupt() -> None:
    from detectors.remote.calls import TransientError

    def call(item: int) -> int:
        if item == 0:
            raise KeyboardInterrupt
        raise TransientError("busy")

    started = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        call_all([1, 2, 0], call, concurrency=3, retry=RetryPolicy(backoff=30, jitter=False))
    assert time.perf_counter() - started < 5


def refuse_some(request: Recorded) -> Any:
    texts = request.body["texts"]
    if any("refused" in t for t in texts):
        return 400, {"error": "bad input"}
    return {"scores": [0.25 for _ in texts]}


def test_a_refused_batch_is_retried_one_by_one() -> None:
    with Loopback(refuse_some) as server:
        detector = HttpDetector(
            name="http",
            version="1",
            description="test",
            url=f"{server.url}/score",
            body={"texts": "{texts}"},
            score_path="scores",
            batch_size=8,
            concurrency=1,
            retries={"attempts": 1},
        )
        conversations = [
            [Message("a", f"hello {i}", None, 1), Message("b", f"fine {i}", None, 2)]
            for i in range(4)
        ]
        conversations[2][1] = Message("b", "refused text", None, 2)
        results = detector.try_score_prefixes(conversations, ids=["c0", "c1", "c2", "c3"])
    assert isinstance(results[2], Exception)
    assert all(results[i] == [0.25, 0.25] for i in (0, 1, 3)), results
