"""The detector SDK: what a grooming detector is, seen from the harness.

A detector turns a conversation (or a prefix of one) into a risk score in [0, 1]. It never
decides: alert policies in the harness turn score histories into alerts. Implement
:meth:`Detector.score` and you have a working detector; override :meth:`Detector.session`
(and, for speed, :meth:`Detector.score_prefixes`) when the detector can update its score one
message at a time.

This module imports nothing from ``benchmarks``: a vendor implements a detector against
``detectors`` alone.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

Conversation = Sequence["Message"]


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message as a detector sees it.

    Attributes:
        author: the author's id within the corpus.
        text: the message body (may be empty).
        time: epoch seconds, or None when the corpus has no usable clock.
        index: 1-based position in the conversation.
    """

    author: str
    text: str
    time: float | None = None
    index: int = 0


@dataclass(frozen=True)
class DetectorMetadata:
    """What a result must say about the detector that produced it.

    Attributes:
        name: the detector's name; equal to its config file's name (checked by a test).
        version: bumped whenever scores may change.
        description: one line.
        reference: paper, product page or "" when none.
        licence: licence of the detector (and of its weights).
        trained_on: ``corpus@fingerprint:split`` strings, so that a result on an overlapping
            split is flagged as leakage.
        stateful: True when the streaming session keeps state between messages.
    """

    name: str
    version: str
    description: str
    reference: str = ""
    licence: str = "Apache-2.0"
    trained_on: tuple[str, ...] = field(default_factory=tuple)
    stateful: bool = False


def checkpoints(n_messages: int, every: int = 1) -> list[int]:
    """Return the 1-based message indices at which a stream is scored.

    Every ``every``-th message, and always the last one, so that the final decision sees the
    whole conversation.

    Examples:
        >>> checkpoints(5)
        [1, 2, 3, 4, 5]
        >>> checkpoints(7, every=3)
        [3, 6, 7]
        >>> checkpoints(0)
        []
    """
    if every < 1:
        raise ValueError(f"every must be >= 1, got {every}")
    points = list(range(every, n_messages + 1, every))
    if n_messages and (not points or points[-1] != n_messages):
        points.append(n_messages)
    return points


class Session(ABC):
    """A streaming session: messages in, one at a time; the current risk score out."""

    @abstractmethod
    def observe(self, message: Message) -> None:
        """Take the next message of the conversation."""

    @abstractmethod
    def score(self) -> float:
        """Return the risk score given every message observed so far."""

    def update(self, message: Message) -> float:
        """Observe ``message`` and return the new score."""
        self.observe(message)
        return self.score()

    def explain(self) -> Mapping[str, object]:
        """Return why the current score is what it is (empty when the detector cannot say)."""
        return {}


class PrefixSession(Session):
    """The default session: keeps the prefix and re-scores it whole (quadratic, but exact)."""

    def __init__(self, detector: Detector) -> None:
        self._detector = detector
        self._messages: list[Message] = []

    def observe(self, message: Message) -> None:
        self._messages.append(message)

    def score(self) -> float:
        return self._detector.score([tuple(self._messages)])[0]


class Detector(ABC):
    """A grooming detector. Subclasses set :attr:`metadata` and implement :meth:`score`.

    Attributes:
        metadata: what results say about the detector.
        score_tolerance: how far one input's score may move with what it is batched with.
            0 for detectors whose arithmetic is exact per conversation; a float32 neural
            network's matrix products round differently with the batch's shape (about 1e-7),
            so it declares a small bound. The harness's causality check and the contract
            tests allow this much, and no more.
        trusted: True for in-process Python code, which the user wrote or read (it could read
            any file; the harness guards it against accidents). False for a vendor's sealed
            program or a remote service: the harness feeds it causally by construction, shows
            it opaque ids only, and never any label.
        isolation: which isolation held, in words every result carries: ``in-process``,
            ``sandboxed``, ``UNSANDBOXED`` (a sealed program run without its sandbox) or
            ``remote service``.
    """

    metadata: DetectorMetadata
    score_tolerance: float = 0.0
    trusted: bool = True
    isolation: str = "in-process"

    @abstractmethod
    def score(self, conversations: Sequence[Conversation]) -> list[float]:
        """Score each conversation (or prefix) as a whole; one float in [0, 1] each."""

    def session(self) -> Session:
        """Open a streaming session for one conversation."""
        return PrefixSession(self)

    def score_prefixes(
        self, conversations: Sequence[Conversation], every: int = 1
    ) -> list[list[float]]:
        """Return, per conversation, the scores at each of its :func:`checkpoints`.

        The score at message k depends only on messages 1..k. The default runs one session per
        conversation; incremental detectors override this with a batched computation that
        gives the same numbers.
        """
        out: list[list[float]] = []
        for conversation in conversations:
            session = self.session()
            wanted = set(checkpoints(len(conversation), every))
            scores: list[float] = []
            # Positions, not message.index: a caller may build messages without indices.
            for position, message in enumerate(conversation, start=1):
                session.observe(message)
                if position in wanted:
                    scores.append(session.score())
            out.append(scores)
        return out

    def try_score_prefixes(
        self,
        conversations: Sequence[Conversation],
        every: int = 1,
        ids: Sequence[str] | None = None,
    ) -> list[list[float] | Exception]:
        """Like :meth:`score_prefixes`, but a failure costs only the conversation it hit.

        This is what the harness calls. Each conversation gets its checkpoint scores, or the
        exception that stopped it (the harness records it as an error, never as a negative).
        ``ids`` are the conversations' ids in the corpus, for detectors that key a cache or a
        remote session on them; detectors that do not need them ignore them.

        The default scores the batch with :meth:`score_prefixes` and, when that raises,
        retries the conversations one at a time. Detectors that call slow or paid services
        override it so that a failure is never paid for twice.
        """
        del ids
        try:
            batch = self.score_prefixes(conversations, every)
            if len(batch) != len(conversations):
                raise ValueError(f"detector returned {len(batch)} traces for {len(conversations)}")
            return [
                check_trace(s, len(c), every) for s, c in zip(batch, conversations, strict=True)
            ]
        except Exception as error:
            if len(conversations) == 1:
                return [error]
        out: list[list[float] | Exception] = []
        for conversation in conversations:
            try:
                out.append(
                    check_trace(
                        self.score_prefixes([conversation], every)[0], len(conversation), every
                    )
                )
            except Exception as error:
                out.append(error)
        return out

    def usage(self) -> Mapping[str, float]:
        """Return what scoring has cost so far: calls, retries, cache hits, money, fallbacks.

        Empty for detectors that run locally at no cost per call. The harness copies it into
        the result (``usage``) and says what each count means.
        """
        return {}

    def score_messages(self, conversations: Sequence[Conversation]) -> list[list[float]]:
        """Score each message on its own, for line-level protocols (PAN12 problem 2).

        The default scores every message as a one-message conversation, so the score says how
        much that line alone looks like grooming. Override it when the detector can attribute
        its conversation score to lines.
        """
        out: list[list[float]] = []
        for conversation in conversations:
            out.append(self.score([(m,) for m in conversation]) if conversation else [])
        return out

    def score_authors(self, conversations: Sequence[Conversation]) -> list[dict[str, float]]:
        """Score each author of each conversation, for author-level protocols (PAN12 problem 1).

        The default scores the conversation restricted to that author's messages (in order), so
        an author is judged on what they wrote. The harness aggregates an author's scores over
        their conversations.
        """
        out: list[dict[str, float]] = []
        for conversation in conversations:
            authors = list(dict.fromkeys(m.author for m in conversation))
            parts = [tuple(m for m in conversation if m.author == a) for a in authors]
            out.append(dict(zip(authors, self.score(parts), strict=True)) if parts else {})
        return out


class TrainableDetector(Detector):
    """A detector that learns from labelled conversations and can be saved and loaded.

    Attributes:
        model_holds_corpus_text: True when the saved model folder holds text of the training
            corpus, or something close to it (a vocabulary of its n-grams, embeddings of its
            messages, which can be partly inverted). The harness then keeps the folder out of
            MLflow unless the user asks (``tracking.log_models=always``). True unless a
            detector declares otherwise, as a fine-tuned classifier's weights do.
        inference_settings: see below.
    """

    model_holds_corpus_text: bool = True
    #: Config keys that change how a trained model runs, not what it learns (device, batch
    #: size, progress bars...): changing one does not call for another model.
    inference_settings: tuple[str, ...] = ()

    @abstractmethod
    def fit(
        self,
        conversations: Sequence[Conversation],
        labels: Sequence[int],
        trained_on: str,
        message_labels: Sequence[Sequence[bool] | None] | None = None,
    ) -> None:
        """Learn from ``conversations``; ``trained_on`` names the data (``corpus@fp:split``).

        ``message_labels``, when the corpus has stage labels, holds per conversation one flag
        per message: True when that message shows a grooming stage (DOMAIN §2; rapport alone
        does not count). None, for the whole corpus or for one conversation, means unknown.
        They are training data only: a detector never sees them when it scores.
        """

    @abstractmethod
    def save(self, path: str) -> None:
        """Write the fitted model and its metadata under folder ``path``."""

    @abstractmethod
    def load(self, path: str) -> None:
        """Read a model written by :meth:`save`."""

    @property
    @abstractmethod
    def is_fitted(self) -> bool:
        """True once the detector can score."""

    def training_curves(self) -> Sequence[Mapping[str, float]]:
        """Return what the last :meth:`fit` measured as it went, one row per evaluation.

        Each row has a ``step`` and any of ``epoch``, ``train_loss``, ``val_loss``,
        ``val_auc``; the harness logs them to MLflow as curves. Empty for detectors that fit
        in one go (or that were loaded, not fitted, in this process).
        """
        return []


def check_trace(scores: Sequence[float], n_messages: int, every: int = 1) -> list[float]:
    """Return one conversation's checkpoint scores, checked: one score in [0, 1] per checkpoint.

    Examples:
        >>> check_trace([0.1, 0.9], n_messages=2)
        [0.1, 0.9]
        >>> check_trace([0.1], n_messages=2)
        Traceback (most recent call last):
        ...
        ValueError: detector returned 1 scores for 2 checkpoints
    """
    expected = len(checkpoints(n_messages, every))
    if len(scores) != expected:
        raise ValueError(f"detector returned {len(scores)} scores for {expected} checkpoints")
    return [check_score(s) for s in scores]


def check_score(value: float) -> float:
    """Return ``value`` as a float, raising when it is not a finite number in [0, 1].

    Examples:
        >>> check_score(0.25)
        0.25
        >>> check_score(float("nan"))
        Traceback (most recent call last):
        ...
        ValueError: score must be a finite number in [0, 1], got nan
    """
    score = float(value)
    if not math.isfinite(score) or not 0.0 <= score <= 1.0:
        raise ValueError(f"score must be a finite number in [0, 1], got {score}")
    return score
