"""Control detectors: what a useless detector scores, so that real ones have a floor to beat."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence

from detectors.base import (
    Conversation,
    Detector,
    DetectorMetadata,
    Message,
    Session,
    check_score,
    checkpoints,
)


class ConstantDetector(Detector):
    """Scores every prefix with the same value (all-positive or all-negative baseline)."""

    def __init__(self, value: float = 0.0, name: str = "constant") -> None:
        self.value = check_score(value)
        self.metadata = DetectorMetadata(
            name=name,
            version="1",
            description=f"Control: every prefix scores {self.value}.",
        )

    def score(self, conversations: Sequence[Conversation]) -> list[float]:
        return [self.value for _ in conversations]

    def session(self) -> Session:
        return _ConstantSession(self.value)

    def score_prefixes(
        self, conversations: Sequence[Conversation], every: int = 1
    ) -> list[list[float]]:
        return [[self.value] * len(checkpoints(len(c), every)) for c in conversations]


class _ConstantSession(Session):
    def __init__(self, value: float) -> None:
        self._value = value

    def observe(self, message: Message) -> None:
        del message

    def score(self) -> float:
        return self._value


def _uniform(seed: int, message: Message) -> float:
    # A keyed hash of the last message, not a stateful RNG: the score then depends only on the
    # prefix (causal), not on batch order or batch size, and is identical across processes.
    digest = hashlib.blake2b(
        f"{message.index}\x1f{message.author}\x1f{message.text}".encode(),
        digest_size=8,
        key=seed.to_bytes(8, "little", signed=True),
    ).digest()
    return float(struct.unpack("<Q", digest)[0] / 2.0**64)


class RandomDetector(Detector):
    """Scores each prefix uniformly at random, seeded: the chance-level control."""

    def __init__(self, seed: int = 0, name: str = "random") -> None:
        self.seed = seed
        self.metadata = DetectorMetadata(
            name=name,
            version="1",
            description="Control: a seeded uniform score per prefix, keyed on its last message.",
        )

    def score(self, conversations: Sequence[Conversation]) -> list[float]:
        return [_uniform(self.seed, c[-1]) if len(c) else 0.0 for c in conversations]

    def session(self) -> Session:
        return _RandomSession(self.seed)


class _RandomSession(Session):
    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._last: Message | None = None

    def observe(self, message: Message) -> None:
        self._last = message

    def score(self) -> float:
        return 0.0 if self._last is None else _uniform(self._seed, self._last)
