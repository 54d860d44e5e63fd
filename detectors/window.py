"""A detector that only sees the last ``window`` messages, as eSPD's classifiers do.

Vogt et al. (2021) classify, after each message, the window of the last 50 messages. Wrapping
any detector in :class:`WindowedDetector` reproduces that input; the runner applies it when
``runner.window`` is set, so every detector can be evaluated under the eSPD protocol.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import replace

from detectors.base import Conversation, Detector, Message, Session, checkpoints


class WindowedDetector(Detector):
    """Score each prefix by its last ``window`` messages only.

    Examples:
        >>> from detectors.classical.controls import ConstantDetector
        >>> WindowedDetector(ConstantDetector(0.5), window=3).metadata.name
        'constant'
    """

    def __init__(self, inner: Detector, window: int = 50) -> None:
        if window < 1:
            raise ValueError(f"window must be >= 1, got {window}")
        self.inner = inner
        self.window = window
        self.score_tolerance = inner.score_tolerance
        # A window does not make a vendor's program trusted, nor change how it is isolated.
        self.trusted = inner.trusted
        self.isolation = inner.isolation
        self.metadata = replace(
            inner.metadata,
            description=f"{inner.metadata.description} [last {window} messages only]",
        )

    def score(self, conversations: Sequence[Conversation]) -> list[float]:
        return self.inner.score([tuple(c[-self.window :]) for c in conversations])

    def session(self) -> Session:
        return _WindowSession(self)

    def score_prefixes(
        self, conversations: Sequence[Conversation], every: int = 1
    ) -> list[list[float]]:
        out: list[list[float]] = []
        for conversation in conversations:
            windows = [
                tuple(conversation[max(0, k - self.window) : k])
                for k in checkpoints(len(conversation), every)
            ]
            out.append(self.inner.score(windows) if windows else [])
        return out

    def score_messages(self, conversations: Sequence[Conversation]) -> list[list[float]]:
        return self.inner.score_messages(conversations)

    def usage(self) -> Mapping[str, float]:
        return self.inner.usage()

    def score_authors(self, conversations: Sequence[Conversation]) -> list[dict[str, float]]:
        return self.inner.score_authors(conversations)


class _WindowSession(Session):
    def __init__(self, detector: WindowedDetector) -> None:
        self._detector = detector
        self._recent: deque[Message] = deque(maxlen=detector.window)

    def observe(self, message: Message) -> None:
        self._recent.append(message)

    def score(self) -> float:
        return self._detector.inner.score([tuple(self._recent)])[0]
