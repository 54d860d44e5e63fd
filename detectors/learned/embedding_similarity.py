"""Similarity of each message to grooming and non-grooming exemplars (the idea of Sentinel).

Roblox's open-source Sentinel (2025, https://github.com/Roblox/Sentinel) scores a message by how
much closer its sentence embedding lies to examples of the rare class than to examples of the
common one, and a speaker by the skew of their recent message scores: a few strongly positive
messages among neutral ones. Our own implementation of that idea (docs/embedding_similarity.md):

1. a message's affinity: mean cosine to its ``top_k`` nearest grooming exemplars minus that to
   its ``top_k`` nearest non-grooming exemplars (:mod:`detectors.learned.sentence_encoder`);
2. its evidence: ``sigmoid(a * affinity + b)``, calibrated on held-out messages;
3. a conversation's score: a logistic regression on four statistics of the evidence of its
   last ``recent`` messages (:func:`window_features`).

After the encoder, every step is exact or rounds identically for a message whatever its batch
(integer cosines, elementwise IEEE arithmetic only), so a score at message k is the same from
``score`` on the prefix, ``score_prefixes`` and a streaming session.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from detectors.base import (
    Conversation,
    DetectorMetadata,
    Message,
    Session,
    TrainableDetector,
    checkpoints,
)
from detectors.learned.hf_runtime import regroup
from detectors.learned.sentence_encoder import (
    NEGATIVE_FILE,
    POSITIVE_FILE,
    ExemplarIndex,
    SentenceEncoder,
    exemplars,
    logistic,
    message_flags,
    sigmoid,
)
from detectors.learned.training_windows import sample_windows, split_validation
from detectors.usage import Usage

log = logging.getLogger(__name__)

META_FILE = "metadata.json"
VERSION = "1"
TRAIN_HINT = (
    "train one with `groombench-train detector=embedding_similarity corpus=...` or set "
    "detector.model_path to a trained model's folder"
)
FEATURES = ("max", "top3_mean", "mean", "skew")
#: Below this variance of the evidence, the skewness is 0 (it is noise over noise).
VARIANCE_FLOOR = 1e-12
#: Calibration windows sampled (seeded) from the calibration conversations.
MAX_CALIBRATION_WINDOWS = 10_000


def window_rows(
    evidence: NDArray[np.float64], ends: Sequence[int], recent: int
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Return, per end k, the evidence of messages k-recent+1..k left-padded with zeros to
    ``recent`` columns, and how many of the columns are messages.

    Examples:
        >>> rows, n = window_rows(np.array([0.1, 0.2, 0.3]), [0, 2, 3], recent=2)
        >>> rows.tolist(), n.tolist()
        ([[0.0, 0.0], [0.1, 0.2], [0.2, 0.3]], [0, 2, 2])
    """
    padded = np.concatenate([np.zeros(recent), np.asarray(evidence, dtype=np.float64)])
    view = np.lib.stride_tricks.sliding_window_view(padded, recent)
    at = np.asarray(ends, dtype=np.int64)
    return np.array(view[at], dtype=np.float64), np.minimum(at, recent)


def window_features(rows: NDArray[np.float64], counts: NDArray[np.int64]) -> NDArray[np.float64]:
    """Return the features of each window (see :data:`FEATURES`), one row per window.

    ``rows`` come from :func:`window_rows` (valid values right-aligned). Per window of n
    evidence values e: max e, mean of the top min(3, n), mean e, and the population skewness
    g = m3 / m2^1.5 squashed into (-1, 1) as g / sqrt(1 + g^2) (0 when m2 <= 1e-12). A window
    of no messages has features all 0.

    Examples:
        >>> rows = np.array([[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.5], [0.1, 0.1, 0.1, 0.9]])
        >>> np.round(window_features(rows, np.array([0, 1, 4])), 4).tolist()
        [[0.0, 0.0, 0.0, 0.0], [0.5, 0.5, 0.5, 0.0], [0.9, 0.3667, 0.3, 0.7559]]
    """
    width = rows.shape[1]
    valid = np.arange(width)[None, :] >= (width - counts)[:, None]
    present = counts > 0
    n = np.maximum(counts, 1).astype(np.float64)
    # Sums run column by column, so a window's arithmetic does not depend on the other rows.
    total = np.zeros(len(rows))
    for j in range(width):
        total = total + np.where(valid[:, j], rows[:, j], 0.0)
    mean = total / n
    ordered = np.sort(np.where(valid, rows, -np.inf), axis=1)
    top = np.where(present, ordered[:, -1], 0.0)
    top3 = top.copy()
    for t in range(2, min(3, width) + 1):
        top3 = top3 + np.where(counts >= t, ordered[:, -t], 0.0)
    top3 = top3 / np.minimum(n, 3.0)
    m2 = np.zeros(len(rows))
    m3 = np.zeros(len(rows))
    for j in range(width):
        d = np.where(valid[:, j], rows[:, j] - mean, 0.0)
        m2 = m2 + d * d
        m3 = m3 + d * d * d
    m2, m3 = m2 / n, m3 / n
    spread = m2 * np.sqrt(m2)
    skew = np.divide(m3, spread, out=np.zeros(len(rows)), where=m2 > VARIANCE_FLOOR)
    bounded = skew / np.sqrt(1.0 + skew * skew)
    return np.column_stack([top, top3, mean, bounded])


def evidence_of(
    affinity: NDArray[np.float64], slope: float, intercept: float
) -> NDArray[np.float64]:
    """Return each message's evidence ``sigmoid(slope * affinity + intercept)``.

    ``math.exp`` per value: a value gets the same result in any array (no SIMD variants).

    Examples:
        >>> evidence_of(np.array([0.0, 1.0]), slope=2.0, intercept=-2.0).round(4).tolist()
        [0.1192, 0.5]
    """
    return np.array([sigmoid(slope * x + intercept) for x in affinity.tolist()], dtype=np.float64)


def linear(features: NDArray[np.float64], weights: Sequence[float], bias: float) -> list[float]:
    """Return ``sigmoid(bias + sum_j weights[j] * features[:, j])`` per row.

    Examples:
        >>> linear(np.array([[1.0, 2.0], [0.0, 0.0]]), [1.0, -0.5], 0.0)
        [0.5, 0.5]
    """
    z = np.full(len(features), float(bias))
    for j, w in enumerate(weights):
        z = z + float(w) * features[:, j]
    return [sigmoid(v) for v in z.tolist()]


class EmbeddingSimilarityDetector(TrainableDetector):
    """Sentinel-style scores from message similarity to positive and negative exemplars.

    Args:
        model_path: a trained detector's folder; loaded at once when it holds metadata.json.
        encoder: a local Hugging Face encoder folder, or ``minilm`` (all-MiniLM-L6-v2).
        top_k: nearest exemplars averaged per class.
        max_exemplars: exemplars kept per class (a seeded sample of distinct texts).
        recent: messages (the last ones) a conversation's score looks at.
        max_length: tokens per message, special tokens included.
        batch_size: messages per encoder forward pass.
        device: ``cpu``, ``cuda``, ``cuda:N`` or ``auto``.
        precision: the encoder's float type, ``float64`` (batch-independent) or ``float32``.
        calibration_fraction: share of the training conversations held out to calibrate.
        seed: seeds the split and the samples.
        progress: show progress bars for long embedding runs.
        name: the config's name.
    """

    inference_settings = ("batch_size", "device", "progress")

    def __init__(
        self,
        model_path: str | None = None,
        encoder: str = "minilm",
        top_k: int = 5,
        max_exemplars: int = 5000,
        recent: int = 50,
        max_length: int = 128,
        batch_size: int = 64,
        device: str = "cpu",
        precision: str = "float64",
        calibration_fraction: float = 0.3,
        seed: int = 0,
        progress: bool = True,
        name: str = "embedding_similarity",
    ) -> None:
        for key, value in (("top_k", top_k), ("recent", recent), ("max_exemplars", max_exemplars)):
            if int(value) < 1:
                raise ValueError(f"detector.{key} must be >= 1, got {value}")
        if not 0.0 < float(calibration_fraction) < 1.0:
            raise ValueError(
                f"detector.calibration_fraction must be in (0, 1), got {calibration_fraction}"
            )
        self.model_path = model_path
        self.encoder = SentenceEncoder(
            str(encoder), int(max_length), int(batch_size), device, precision, bool(progress)
        )
        # Saved with the model and restored by load(); batch_size, device... are run settings.
        self.params: dict[str, Any] = {
            "encoder": str(encoder),
            "top_k": int(top_k),
            "max_exemplars": int(max_exemplars),
            "recent": int(recent),
            "max_length": int(max_length),
            "calibration_fraction": float(calibration_fraction),
            "seed": int(seed),
        }
        self._name = name
        self._usage = Usage()
        self._index: ExemplarIndex | None = None
        self._message_calibration = (1.0, 0.0)
        self._weights: tuple[float, ...] = ()
        self._bias = 0.0
        self.metadata = self._metadata(())
        if model_path and (Path(model_path).expanduser() / META_FILE).exists():
            self.load(str(Path(model_path).expanduser()))

    def _metadata(self, trained_on: tuple[str, ...]) -> DetectorMetadata:
        return DetectorMetadata(
            name=self._name,
            version=VERSION,
            description="Sentence-embedding similarity to grooming vs non-grooming exemplars, "
            "calibrated, aggregated over the last messages (Sentinel-style).",
            reference="Sentinel (Roblox, 2025) https://github.com/Roblox/Sentinel; encoder "
            "all-MiniLM-L6-v2 (sentence-transformers)",
            licence="Apache-2.0",
            trained_on=trained_on,
            stateful=False,
        )

    @property
    def top_k(self) -> int:
        """Nearest exemplars averaged per class."""
        return int(self.params["top_k"])

    @property
    def recent(self) -> int:
        """Messages a conversation's score looks at."""
        return int(self.params["recent"])

    @property
    def is_fitted(self) -> bool:
        return self._index is not None and bool(self._weights)

    def usage(self) -> Mapping[str, float]:
        cut = self._usage.get("truncated_inputs")
        return {"truncated_inputs": float(cut)} if cut else {}

    def _require_fitted(self) -> ExemplarIndex:
        if self._index is None or not self._weights:
            where = f"no model at {self.model_path}; " if self.model_path else ""
            raise RuntimeError(f"embedding_similarity is not trained: {where}{TRAIN_HINT}")
        return self._index

    # --- per message -----------------------------------------------------------------------

    def affinities(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """Return each text's affinity (positive: closer to the grooming exemplars)."""
        index = self._require_fitted()
        distinct = list(dict.fromkeys(texts))
        if not distinct:
            return np.zeros(0)
        embeddings, cut = self.encoder.embed(distinct)
        if cut:
            self._usage.add("truncated_inputs", cut)
        values = index.affinities(embeddings, self.top_k)
        slot = {t: i for i, t in enumerate(distinct)}
        return np.asarray(values[[slot[t] for t in texts]], dtype=np.float64)

    def evidence(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """Return each text's calibrated evidence ``sigmoid(a * affinity + b)`` in [0, 1]."""
        return evidence_of(self.affinities(texts), *self._message_calibration)

    # --- scoring ---------------------------------------------------------------------------

    def _window_scores(
        self, evidence: Sequence[NDArray[np.float64]], ends: Sequence[Sequence[int]]
    ) -> list[list[float]]:
        parts = [window_rows(e, k, self.recent) for e, k in zip(evidence, ends, strict=True)]
        if not parts:
            return []
        rows = np.concatenate([p[0] for p in parts])
        counts = np.concatenate([p[1] for p in parts])
        scores = linear(window_features(rows, counts), self._weights, self._bias)
        return regroup(scores, [len(k) for k in ends])

    def _evidence_per(self, conversations: Sequence[Conversation]) -> list[NDArray[np.float64]]:
        # One encoder call for the batch: every distinct text is embedded once.
        flat = self.evidence([m.text for c in conversations for m in c])
        bounds = np.cumsum([0, *(len(c) for c in conversations)])
        return [flat[bounds[i] : bounds[i + 1]] for i in range(len(conversations))]

    def _final_scores(self, evidence: Sequence[NDArray[np.float64]]) -> list[float]:
        tails = [e[-self.recent :] for e in evidence]
        return [s[0] for s in self._window_scores(tails, [[len(t)] for t in tails])]

    def score(self, conversations: Sequence[Conversation]) -> list[float]:
        self._require_fitted()
        return self._final_scores(self._evidence_per([c[-self.recent :] for c in conversations]))

    def score_prefixes(
        self, conversations: Sequence[Conversation], every: int = 1
    ) -> list[list[float]]:
        self._require_fitted()
        ends = [checkpoints(len(c), every) for c in conversations]
        return self._window_scores(self._evidence_per(conversations), ends)

    def score_messages(self, conversations: Sequence[Conversation]) -> list[list[float]]:
        # A line alone is a one-message conversation: its score is score([line]) exactly.
        self._require_fitted()
        singles = [e[i : i + 1] for e in self._evidence_per(conversations) for i in range(len(e))]
        return regroup(self._final_scores(singles), [len(c) for c in conversations])

    def score_authors(self, conversations: Sequence[Conversation]) -> list[dict[str, float]]:
        # Each author's own messages, as one conversation: judged on what they wrote.
        self._require_fitted()
        owners: list[list[str]] = []
        parts: list[NDArray[np.float64]] = []
        for conversation, values in zip(
            conversations, self._evidence_per(conversations), strict=True
        ):
            owners.append(list(dict.fromkeys(m.author for m in conversation)))
            for author in owners[-1]:
                parts.append(values[np.array([m.author == author for m in conversation])])
        grouped = regroup(self._final_scores(parts), [len(a) for a in owners])
        return [dict(zip(a, s, strict=True)) for a, s in zip(owners, grouped, strict=True)]

    def session(self) -> Session:
        self._require_fitted()
        return _EvidenceSession(self)

    # --- training --------------------------------------------------------------------------

    def fit(
        self,
        conversations: Sequence[Conversation],
        labels: Sequence[int],
        trained_on: str,
        message_labels: Sequence[Sequence[bool] | None] | None = None,
    ) -> None:
        ys = [int(y) for y in labels]
        flags = [None] * len(ys) if message_labels is None else list(message_labels)
        if not len(ys) == len(flags) == len(conversations):
            raise ValueError(
                f"{len(conversations)} conversations, {len(ys)} labels, {len(flags)} message labels"
            )
        seed, recent = int(self.params["seed"]), self.recent
        marks = [
            message_flags(len(c), y, f) for c, y, f in zip(conversations, ys, flags, strict=True)
        ]
        # Exemplars come from one part, calibration from the other: no message meets itself.
        part, held = split_validation(len(ys), ys, float(self.params["calibration_fraction"]), seed)
        positive = [
            m.text for c in part for m, g in zip(conversations[c], marks[c], strict=True) if g
        ]
        negative = [m.text for c in part if not ys[c] for m in conversations[c]]
        limit = int(self.params["max_exemplars"])
        pos, neg = exemplars(positive, limit, seed), exemplars(negative, limit, seed + 1)
        for what, chosen in (("grooming", pos), ("non-grooming", neg)):
            if not chosen:
                raise ValueError(
                    f"embedding_similarity: no {what} exemplars (non-blank messages; for "
                    "grooming, the stage-flagged ones where a conversation has stage labels) in "
                    "the exemplar part of the training data; train on more conversations of "
                    "both labels"
                )
        windows = sample_windows(
            [len(conversations[c]) for c in held],
            [ys[c] for c in held],
            [flags[c] for c in held],
            window=recent,
            max_windows=MAX_CALIBRATION_WINDOWS,
            seed=seed,
        )
        # Only the messages that some calibration window reads are embedded.
        spans = {
            w.conversation: np.zeros(len(conversations[held[w.conversation]]), bool)
            for w in windows
        }
        for w in windows:
            spans[w.conversation][max(0, w.end - recent) : w.end] = True
        where = [(c, int(i)) for c in sorted(spans) for i in np.flatnonzero(spans[c])]
        texts = [conversations[held[c]][i].text for c, i in where]
        table, _ = self.encoder.embed([*pos, *neg, *texts])
        index = ExemplarIndex(table[: len(pos)], table[len(pos) : len(pos) + len(neg)])
        found = index.affinities(table[len(pos) + len(neg) :], self.top_k)
        raw = {c: np.full(len(mask), np.nan) for c, mask in spans.items()}
        for (c, i), x in zip(where, found.tolist(), strict=True):
            raw[c][i] = x
        # Messages: the last one of each window, labelled as a message (not as its window).
        ends = np.array([raw[w.conversation][w.end - 1] for w in windows]).reshape(-1, 1)
        ends_y = [int(marks[held[w.conversation]][w.end - 1]) for w in windows]
        (slope,), intercept = logistic(ends, ends_y, seed, "message")
        evidence = {c: evidence_of(values, slope, intercept) for c, values in raw.items()}
        rows = [window_rows(evidence[w.conversation], [w.end], recent) for w in windows]
        features = window_features(
            np.concatenate([r for r, _ in rows]), np.concatenate([n for _, n in rows])
        )
        weights, bias = logistic(features, [w.label for w in windows], seed, "window")
        # Set together, at the end: a fit that fails leaves the detector as it was.
        self._index, self._message_calibration = index, (slope, intercept)
        self._weights, self._bias = tuple(weights), bias
        self.metadata = self._metadata((trained_on,))

    # --- saving ----------------------------------------------------------------------------

    def save(self, path: str) -> None:
        index = self._require_fitted()
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        index.save(folder)
        slope, intercept = self._message_calibration
        meta = {
            "name": self.metadata.name,
            "version": self.metadata.version,
            "trained_on": list(self.metadata.trained_on),
            "params": self.params,
            "encoder": {
                "setting": self.params["encoder"],
                "fingerprint": self.encoder.fingerprint,
                "dimension": index.dimension,
            },
            "exemplars": {"positive": len(index.positive), "negative": len(index.negative)},
            "message_calibration": {"slope": slope, "intercept": intercept},
            "conversation_calibration": {
                "features": list(FEATURES),
                "weights": list(self._weights),
                "intercept": self._bias,
            },
        }
        (folder / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")

    def load(self, path: str) -> None:
        folder = Path(path)
        needed = (META_FILE, POSITIVE_FILE, NEGATIVE_FILE)
        missing = [f for f in needed if not (folder / f).exists()]
        if missing:
            raise FileNotFoundError(
                f"embedding_similarity: no trained model at {folder} (missing "
                f"{', '.join(missing)}); {TRAIN_HINT}"
            )
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
        if str(meta.get("version")) != VERSION:
            raise ValueError(
                f"embedding_similarity model {folder} was saved by version "
                f"{meta.get('version')!r}, this is version {VERSION}; retrain it"
            )
        trained_with = meta.get("encoder", {})
        if trained_with.get("fingerprint") != self.encoder.fingerprint:
            raise ValueError(
                f"embedding_similarity model {folder} was trained with encoder "
                f"{trained_with.get('setting')!r}, but detector.encoder="
                f"{self.params['encoder']!r} is a different model (its config, tokenizer or "
                "weights differ); set detector.encoder to the encoder the model was trained with"
            )
        saved = {k: v for k, v in meta.get("params", {}).items() if k != "encoder"}
        differ = {k: v for k, v in saved.items() if self.params.get(k) != v}
        if differ:  # the saved model is what it is: its own settings apply
            configured = {k: self.params.get(k) for k in differ}
            log.warning(
                "model %s was trained with %s, not %s: using those", folder, differ, configured
            )
        self.encoder.set_max_length(int(saved.get("max_length", self.params["max_length"])))
        self.params.update(saved)
        self._index = ExemplarIndex.load(folder)
        message, conversation = meta["message_calibration"], meta["conversation_calibration"]
        self._message_calibration = (float(message["slope"]), float(message["intercept"]))
        self._weights = tuple(float(w) for w in conversation["weights"])
        self._bias = float(conversation["intercept"])
        self.metadata = self._metadata(tuple(meta.get("trained_on", ())))


class _EvidenceSession(Session):
    """Streaming: each message is embedded once; the score reads the last ``recent`` values."""

    def __init__(self, detector: EmbeddingSimilarityDetector) -> None:
        self._detector = detector
        self._evidence: list[float] = []

    def observe(self, message: Message) -> None:
        self._evidence.append(float(self._detector.evidence([message.text])[0]))
        del self._evidence[: -self._detector.recent]

    def score(self) -> float:
        return self._detector._final_scores([np.asarray(self._evidence, dtype=np.float64)])[0]
