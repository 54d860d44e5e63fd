"""Detectors whose scores come from calls to something slow or paid: an API, an LLM server.

:class:`RemoteDetector` does everything but the call itself. For every checkpoint of every
conversation it renders the input the service is sent (the last message, a window of the last
N messages, or the whole prefix: only messages up to the checkpoint, so the detector is causal
by construction), looks it up in the prediction cache, sends the misses (deduplicated, batched,
concurrent, rate-limited, retried) and stores each score the moment it arrives. A conversation
with an input that failed after every retry is returned as an error, never as a negative, and a
re-run pays only for what is missing.

A subclass implements :meth:`RemoteDetector.request`: one call for a list of rendered inputs.
"""

from __future__ import annotations

import time
from abc import abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, cast

from detectors.base import (
    Conversation,
    Detector,
    DetectorMetadata,
    Message,
    check_score,
    checkpoints,
)
from detectors.remote.cache import PredictionCache, identity_digest, input_key
from detectors.remote.calls import (
    GaveUp,
    Outcome,
    PermanentError,
    RateLimiter,
    RetryPolicy,
    call_all,
)
from detectors.speakers import pseudonymous
from detectors.usage import Usage

Unit = Literal["message", "window", "prefix"]
UNITS: tuple[str, ...] = ("message", "window", "prefix")


class InputFailed(GaveUp):
    """A conversation could not be scored: one of its inputs failed after every retry."""


def unit_messages(
    conversation: Sequence[Message], k: int, unit: str, window: int
) -> Sequence[Message]:
    """Return what the service sees at checkpoint ``k`` (1-based): never a later message.

    Examples:
        >>> conv = [Message("a", str(i), None, i) for i in range(1, 6)]
        >>> [m.text for m in unit_messages(conv, 4, "message", 3)]
        ['4']
        >>> [m.text for m in unit_messages(conv, 4, "window", 3)]
        ['2', '3', '4']
        >>> [m.text for m in unit_messages(conv, 4, "prefix", 3)]
        ['1', '2', '3', '4']
    """
    if unit == "message":
        return conversation[k - 1 : k]
    if unit == "window":
        return conversation[max(0, k - window) : k]
    return conversation[:k]


def _refused(outcome: Outcome[tuple[str, ...], list[float]]) -> bool:
    """True when the service refused a batch of several inputs with a 4xx."""
    status = getattr(outcome.error, "status", None)
    return (
        isinstance(outcome.error, PermanentError)
        and len(outcome.item) > 1
        and status is not None
        and 400 <= status < 500
    )


class RemoteDetector(Detector):
    """Base of detectors that score by calling a service, with cache, retries and accounting.

    Args:
        name: the detector's name (its config file's name).
        version: bump when the service or prompt changes in a way that changes scores.
        description: one line for results.
        reference: the service's documentation.
        unit: what one input holds: ``message`` (the last message's text), ``window`` (the
            last ``window`` messages as a transcript) or ``prefix`` (every message so far).
        window: messages in a window (``unit: window``).
        line_format: how a transcript line is written; ``{author}`` and ``{text}`` are filled.
            Speaker turns stay visible to the service.
        batch_size: inputs sent in one request (1 when the service takes one at a time).
        concurrency: requests in flight at once.
        requests_per_second: a rate limit across all requests (None: none).
        retries: :class:`detectors.remote.calls.RetryPolicy` fields.
        price_per_call: the declared price of one successful request, for the cost in results.
        cache: the prediction-cache file (None: no cache).
        settings: everything else that can change a score (URL, model, prompt...): part of the
            identity that keys the cache. Secrets never go here; their names may.
    """

    # A service is untrusted: fed causally by construction, shown pseudonyms only.
    trusted = False
    isolation = "remote service"

    def __init__(
        self,
        *,
        name: str,
        version: str,
        description: str,
        reference: str = "",
        unit: str = "message",
        window: int = 10,
        line_format: str = "{author}: {text}",
        batch_size: int = 1,
        concurrency: int = 4,
        requests_per_second: float | None = None,
        retries: Mapping[str, Any] | RetryPolicy | None = None,
        price_per_call: float = 0.0,
        cache: str | Path | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> None:
        if unit not in UNITS:
            raise ValueError(f"unit must be one of {', '.join(UNITS)}; got {unit!r}")
        if window < 1:
            raise ValueError(f"window must be >= 1, got {window}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {concurrency}")
        self.metadata = DetectorMetadata(
            name=name, version=version, description=description, reference=reference
        )
        self.unit = cast(Unit, unit)
        self.window = window
        self.line_format = line_format
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.retry = retries if isinstance(retries, RetryPolicy) else RetryPolicy(**(retries or {}))
        self.limiter = RateLimiter(requests_per_second)
        self._usage = Usage(price_per_call)
        self.identity = {
            "name": name,
            "version": version,
            "class": f"{type(self).__module__}.{type(self).__qualname__}",
            "unit": unit,
            "window": window if unit == "window" else None,
            "line_format": line_format if unit != "message" else None,
            "settings": dict(settings or {}),
        }
        self.namespace = identity_digest(self.identity)
        self.cache = PredictionCache(cache, self.namespace) if cache is not None else None
        self._calls = 0  # seeds the jitter differently for every batch
        self._accounted: set[str] = set()  # inputs whose cost is already in usage

    @abstractmethod
    def request(self, payloads: Sequence[str]) -> list[float]:
        """Send one request for ``payloads`` (at most ``batch_size``); return one score each.

        Raise :class:`detectors.remote.calls.TransientError` for what is worth retrying, anything
        else to give up on these inputs.
        """

    def render(self, messages: Sequence[Message]) -> str:
        """The text sent for one input: a message's text, or a transcript of several."""
        if self.unit == "message":
            return messages[-1].text if messages else ""
        return "\n".join(self.line_format.format(author=m.author, text=m.text) for m in messages)

    def usage(self) -> Mapping[str, float]:
        return self._usage.snapshot()

    def try_score_prefixes(
        self,
        conversations: Sequence[Conversation],
        every: int = 1,
        ids: Sequence[str] | None = None,
    ) -> list[list[float] | Exception]:
        ids = list(ids) if ids is not None else [""] * len(conversations)
        if len(ids) != len(conversations):
            raise ValueError(f"{len(ids)} ids for {len(conversations)} conversations")
        # Render every checkpoint's input once; identical inputs share one key and one call.
        keys_of: list[list[str]] = []
        payload_of: dict[str, str] = {}
        for original, cid in zip(conversations, ids, strict=True):
            # Authors renamed A, B, ... by first appearance: the service never sees the
            # corpus's ids. The cache still keys on the corpus's conversation id.
            conversation = pseudonymous(original)
            keys = []
            for k in checkpoints(len(conversation), every):
                payload = self.render(unit_messages(conversation, k, self.unit, self.window))
                key = input_key(self.namespace, cid, payload)
                payload_of.setdefault(key, payload)
                keys.append(key)
            keys_of.append(keys)
        scores = self.cache.get_many(payload_of) if self.cache is not None else {}
        if self.cache is not None:
            self._account(scores)
        if scores:
            self._usage.add("cache_hits", len(scores))
        errors = self._fetch([k for k in payload_of if k not in scores], payload_of, scores)
        out: list[list[float] | Exception] = []
        for keys in keys_of:
            failed = next((errors[k] for k in keys if k in errors), None)
            out.append(failed if failed is not None else [scores[k] for k in keys])
        return out

    def _fetch(
        self, missing: list[str], payload_of: Mapping[str, str], scores: dict[str, float]
    ) -> dict[str, Exception]:
        """Request the missing inputs; fill ``scores``; return the error of each failed key.

        With a cache, inputs are claimed first: an input another live process is buying right
        now is waited for, not bought again (two runs sharing a cache pay once).
        """
        if self.cache is None:
            return self._buy(missing, payload_of, scores)
        errors: dict[str, Exception] = {}
        pending = list(missing)
        while pending:
            mine, theirs = self.cache.claim(pending)
            try:
                errors |= self._buy(mine, payload_of, scores)
            finally:
                self.cache.release(mine)  # answered ones were released when stored
            if not theirs:
                break
            got = self._wait_for(theirs)
            scores.update(got)
            if got:
                self._usage.add("shared_inputs", len(got))
                self._account(got)
            pending = [k for k in theirs if k not in got]  # their buyer gave up: try again
        return errors

    def _account(self, keys: Iterable[str]) -> None:
        """Add what cached answers cost when bought, once per input for this instance."""
        assert self.cache is not None
        new = [k for k in keys if k not in self._accounted]
        self._accounted.update(new)
        self._usage.add_earlier_cost(self.cache.cost_of(new))

    def _wait_for(self, keys: list[str], poll: float = 0.2) -> dict[str, float]:
        """Wait until another process answers ``keys`` or gives them up; return the answers."""
        assert self.cache is not None
        found: dict[str, float] = {}
        waiting = list(keys)
        while waiting:
            found |= self.cache.get_many(waiting)
            waiting = [k for k in waiting if k not in found]
            if not waiting:
                break
            _, still = self.cache.claim_check(waiting)
            if not still:
                found |= self.cache.get_many(waiting)
                break
            time.sleep(poll)
        return found

    def _buy(
        self, missing: list[str], payload_of: Mapping[str, str], scores: dict[str, float]
    ) -> dict[str, Exception]:
        """Request ``missing`` from the service; fill ``scores``; return the failures."""
        batches = [
            tuple(missing[i : i + self.batch_size]) for i in range(0, len(missing), self.batch_size)
        ]

        def call(keys: tuple[str, ...]) -> list[float]:
            got = self.request([payload_of[k] for k in keys])
            if len(got) != len(keys):
                raise ValueError(f"service returned {len(got)} scores for {len(keys)} inputs")
            return [check_score(s) for s in got]

        def keep(keys: tuple[str, ...], got: list[float]) -> None:
            scores.update(zip(keys, got, strict=True))
            self._accounted.update(keys)  # paid for by this run: in `cost` already
            if self.cache is not None:  # at once: a killed run keeps every answer it got
                price = self._usage.price_per_call  # one call bought the whole batch
                self.cache.put_many(list(zip(keys, got, strict=True)), cost=price)
                self.cache.refresh_claims()  # still buying: this process's claims hold

        def send(groups: Sequence[tuple[str, ...]]) -> list[Outcome[tuple[str, ...], list[float]]]:
            self._calls += 1
            return call_all(
                groups,
                call,
                concurrency=self.concurrency,
                limiter=self.limiter,
                retry=self.retry,
                usage=self._usage,
                on_result=keep,
                seed=self._calls,
            )

        outcomes = send(batches)
        # A batch the service refused (a 4xx, e.g. a 400 on one text) may hold inputs of
        # several conversations: ask for its inputs one by one, so that the refusal costs only
        # the conversation it belongs to. A malformed answer is not split: it is the service's
        # fault whatever the batch; transient failures already had their retries.
        singles = [(key,) for o in outcomes if _refused(o) for key in o.item]
        if singles:
            outcomes = [o for o in outcomes if not _refused(o)] + send(singles)
        errors: dict[str, Exception] = {}
        for outcome in outcomes:
            if outcome.error is not None:
                failure = InputFailed(
                    f"{type(outcome.error).__name__} after {self.retry.attempts} attempt(s) "
                    f"at most: {outcome.error}"
                )
                errors.update(dict.fromkeys(outcome.item, failure))
        return errors

    def score_prefixes(
        self, conversations: Sequence[Conversation], every: int = 1
    ) -> list[list[float]]:
        out: list[list[float]] = []
        for result in self.try_score_prefixes(conversations, every):
            if isinstance(result, Exception):
                raise result
            out.append(result)
        return out

    def score(self, conversations: Sequence[Conversation]) -> list[float]:
        # The input at a conversation's last message is its whole-conversation input. An empty
        # conversation has no text to send and no message to alert on: it scores 0.
        nonempty = [c for c in conversations if len(c)]
        longest = max((len(c) for c in nonempty), default=1)
        finals = iter(trace[-1] for trace in self.score_prefixes(nonempty, every=longest))
        return [next(finals) if len(c) else 0.0 for c in conversations]
