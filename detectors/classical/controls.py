"""Control detectors: what a useless detector scores, so that real ones have a floor to beat."""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Sequence
from pathlib import Path

from detectors.base import (
    Conversation,
    Detector,
    DetectorMetadata,
    Message,
    Session,
    TrainableDetector,
    check_score,
    checkpoints,
)

MEMORIZER_FILE = "lines.bin"


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


class LengthDetector(Detector):
    """Scores a prefix by its length alone: what conversation length is worth on a corpus.

    The score of a prefix of n messages is ``n / (n + half)``, rising with every message. A
    detector that does no better than this has learned length, not grooming; its
    length-matched ROC-AUC is exactly 0.5.
    """

    def __init__(self, half: int = 20, name: str = "length") -> None:
        if half < 1:
            raise ValueError(f"half must be >= 1, got {half}")
        self.half = half
        self.metadata = DetectorMetadata(
            name=name,
            version="1",
            description=f"Control: a prefix of n messages scores n / (n + {half}).",
        )

    def _value(self, n: int) -> float:
        return n / (n + self.half)

    def score(self, conversations: Sequence[Conversation]) -> list[float]:
        return [self._value(len(c)) for c in conversations]

    def session(self) -> Session:
        return _LengthSession(self)

    def score_prefixes(
        self, conversations: Sequence[Conversation], every: int = 1
    ) -> list[list[float]]:
        return [[self._value(k) for k in checkpoints(len(c), every)] for c in conversations]


class _LengthSession(Session):
    def __init__(self, detector: LengthDetector) -> None:
        self._detector = detector
        self._n = 0

    def observe(self, message: Message) -> None:
        del message
        self._n += 1

    def score(self) -> float:
        return self._detector._value(self._n)


def line_key(text: str) -> bytes:
    """A message's exact line, normalised (case, spacing) and hashed: no text is kept.

    Examples:
        >>> line_key("Keep  it SECRET ") == line_key("keep it secret")
        True
    """
    normal = " ".join(text.lower().split())
    return hashlib.blake2b(normal.encode(), digest_size=12).digest()


class MemorizerDetector(TrainableDetector):
    """Remembers the exact lines seen only in training positives: the template shortcut.

    Fitting keeps the (hashed, normalised) lines that occur in positive training
    conversations and never in negative ones. A prefix scores ``1 − 2^−h`` where h counts
    its messages that are such lines. On a corpus whose test lines were never seen in
    training it scores chance; where templates repeat across splits it scores high, and
    whatever a real detector adds beyond it is what it learned beyond the sentences.
    """

    model_holds_corpus_text = False  # only 12-byte hashes of lines

    def __init__(self, model_path: str | None = None, name: str = "memorizer") -> None:
        self.model_path = model_path
        self._name = name
        self._lines: frozenset[bytes] | None = None
        self.metadata = self._metadata(())
        if model_path and (Path(model_path) / MEMORIZER_FILE).exists():
            self.load(model_path)

    def _metadata(self, trained_on: tuple[str, ...]) -> DetectorMetadata:
        return DetectorMetadata(
            name=self._name,
            version="1",
            description="Control: 1 − 2^−h, h = messages that are exact lines seen only in "
            "training positives.",
            trained_on=trained_on,
        )

    @property
    def is_fitted(self) -> bool:
        return self._lines is not None

    def fit(
        self,
        conversations: Sequence[Conversation],
        labels: Sequence[int],
        trained_on: str,
        message_labels: Sequence[Sequence[bool] | None] | None = None,
    ) -> None:
        del message_labels
        positive: set[bytes] = set()
        negative: set[bytes] = set()
        for conversation, label in zip(conversations, labels, strict=True):
            target = positive if label else negative
            target.update(line_key(m.text) for m in conversation)
        self._lines = frozenset(positive - negative)
        self.metadata = self._metadata((trained_on,))

    def save(self, path: str) -> None:
        if self._lines is None:
            raise RuntimeError("memorizer: nothing to save; fit the detector first")
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        # Sorted, so the same training data writes the same bytes.
        (folder / MEMORIZER_FILE).write_bytes(b"".join(sorted(self._lines)))
        meta = {
            "name": self.metadata.name,
            "version": self.metadata.version,
            "trained_on": list(self.metadata.trained_on),
            "n_lines": len(self._lines),
        }
        (folder / "metadata.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")

    def load(self, path: str) -> None:
        folder = Path(path)
        if not (folder / MEMORIZER_FILE).exists():
            raise FileNotFoundError(f"memorizer: no model at {folder}")
        data = (folder / MEMORIZER_FILE).read_bytes()
        self._lines = frozenset(data[i : i + 12] for i in range(0, len(data), 12))
        meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
        self.metadata = self._metadata(tuple(meta.get("trained_on", ())))

    def _require(self) -> frozenset[bytes]:
        if self._lines is None:
            raise RuntimeError("memorizer is not trained: it learns from the train split")
        return self._lines

    def score(self, conversations: Sequence[Conversation]) -> list[float]:
        lines = self._require()
        return [1.0 - 0.5 ** sum(line_key(m.text) in lines for m in c) for c in conversations]

    def session(self) -> Session:
        return _MemorizerSession(self._require())


class _MemorizerSession(Session):
    def __init__(self, lines: frozenset[bytes]) -> None:
        self._lines = lines
        self._hits = 0

    def observe(self, message: Message) -> None:
        self._hits += line_key(message.text) in self._lines

    def score(self) -> float:
        return 1.0 - 0.5**self._hits
