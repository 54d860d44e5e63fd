"""Sentence embeddings from a local Hugging Face encoder, and their exemplar affinities.

Used by ``embedding_similarity`` (docs/embedding_similarity.md), with the small pieces of its
per-message model: which messages become exemplars, the exemplar index, and the logistic
calibration of an affinity.

Each text is tokenised with the model's special tokens, ``[CLS] text [SEP]``, cut to
``max_length`` tokens (keeping its beginning, as sentence-transformers does), run through the
encoder, mean-pooled over its tokens and L2-normalised: the sentence-transformers recipe of
all-MiniLM-L6-v2, written here so that ``sentence_transformers`` is not needed.

The encoder runs in float64 by default. In float32 the rounding of a batched matrix product
depends on the batch's shape (its padding, its size), so the same text embeds ~1e-7 apart in
two batches; in float64 that noise is ~1e-16 and vanishes when the result is stored as float32.
A text then has one embedding however it is batched, so a conversation's score does not
depend on which other conversations were scored with it.

Affinities (:func:`affinities`) compare embeddings with exemplars exactly: components are
quantised to integers, so every cosine is an integer sum that float64 holds without rounding,
whatever order a matrix product adds it in.

torch and transformers are imported inside the functions that need them.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from detectors.learned.hf_runtime import (
    TokenCache,
    offline,
    progress_bar,
    resolve_device,
    resolve_model_folder,
    run_batched,
)

#: Tokenizer files whose content is part of an encoder's identity (:func:`encoder_fingerprint`).
TOKENIZER_FILES = (
    "tokenizer.json",
    "vocab.txt",
    "vocab.json",
    "merges.txt",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "sentencepiece.bpe.model",
    "spiece.model",
)
POSITIVE_FILE = "positive.npy"
NEGATIVE_FILE = "negative.npy"
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".h5", ".msgpack")
#: Weight files up to this size are hashed whole in an encoder's fingerprint.
HASHED_WEIGHT_BYTES = 1 << 30
PRECISIONS = ("float32", "float64")


def encoder_fingerprint(folder: Path) -> str:
    """Return a sha256 of a model folder's config, tokenizer files and weight files.

    Weight files up to :data:`HASHED_WEIGHT_BYTES` are hashed whole (all-MiniLM-L6-v2: 90 MB,
    a fraction of a second); larger ones by name and size, so a big encoder is not read twice.

    Examples:
        >>> import tempfile
        >>> root = Path(tempfile.mkdtemp())
        >>> _ = (root / "config.json").write_text("{}")
        >>> _ = (root / "model.safetensors").write_bytes(b"123")
        >>> a = encoder_fingerprint(root)
        >>> _ = (root / "model.safetensors").write_bytes(b"124")
        >>> a == encoder_fingerprint(root), len(a)
        (False, 64)
    """
    digest = hashlib.sha256()
    for name in ("config.json", *TOKENIZER_FILES):
        file = folder / name
        if file.is_file():
            digest.update(f"{name}\0".encode())
            digest.update(file.read_bytes())
    for file in sorted(folder.iterdir()):
        if file.is_file() and file.name.endswith(WEIGHT_SUFFIXES):
            size = file.stat().st_size
            digest.update(f"{file.name}\0{size}\0".encode())
            if size <= HASHED_WEIGHT_BYTES:
                with file.open("rb") as handle:
                    for block in iter(lambda: handle.read(1 << 20), b""):
                        digest.update(block)
    return digest.hexdigest()


def position_limit(config: dict[str, Any]) -> int:
    """Return the longest input, in tokens, that a model's position table takes.

    Examples:
        >>> position_limit({"max_position_embeddings": 512, "model_type": "bert"})
        512
        >>> position_limit({"max_position_embeddings": 514, "model_type": "roberta"})
        512
    """
    limit = int(config.get("max_position_embeddings") or 512)
    if config.get("model_type") in ("roberta", "xlm-roberta", "camembert"):
        limit -= 2  # their position ids start after the padding index
    return limit


def cut(ids: Sequence[int], cls_id: int, sep_id: int, max_length: int) -> tuple[list[int], bool]:
    """Return ``[CLS] ids [SEP]`` kept to ``max_length`` tokens (the end is cut), and whether cut.

    Examples:
        >>> cut([7, 8, 9], cls_id=1, sep_id=2, max_length=10)
        ([1, 7, 8, 9, 2], False)
        >>> cut([7, 8, 9], cls_id=1, sep_id=2, max_length=4)
        ([1, 7, 8, 2], True)
    """
    room = max_length - 2
    return [cls_id, *ids[:room], sep_id], len(ids) > room


#: Embedding components become integers of at most 2^24 in size. For two unit vectors every
#: product and, by Cauchy-Schwarz, every partial sum of products is at most ~2^48 < 2^53: the
#: cosine is exact in float64, in whatever order a matrix product adds it up.
BITS = 24
SCALE = float(2**BITS)
#: Query rows per similarity block (a block's matrix is rows x exemplars float64).
BLOCK = 1024


def quantize(embeddings: NDArray[Any]) -> NDArray[np.float64]:
    """Return unit-length embeddings as integer-valued float64 arrays (units of 2^-24).

    Examples:
        >>> quantize(np.array([[0.5, -0.25]], dtype=np.float32)) / SCALE
        array([[ 0.5 , -0.25]])
    """
    return np.rint(np.asarray(embeddings, dtype=np.float64) * SCALE)


def top_k_mean(similarities: NDArray[np.float64], k: int) -> NDArray[np.float64]:
    """Return each row's mean of its ``k`` largest values (all of them when fewer).

    Examples:
        >>> top_k_mean(np.array([[1.0, 5.0, 3.0], [2.0, 2.0, 8.0]]), k=2)
        array([4., 5.])
    """
    k = min(k, similarities.shape[1])
    top = np.partition(similarities, similarities.shape[1] - k, axis=1)[:, -k:]
    total = np.zeros(len(similarities))
    for j in range(k):  # column by column: the same additions for a row in any batch
        total = total + top[:, j]
    return total / k


def affinities_quantized(
    queries: NDArray[np.float64],
    positive: NDArray[np.float64],
    negative: NDArray[np.float64],
    top_k: int,
) -> NDArray[np.float64]:
    """:func:`affinities` on embeddings already :func:`quantize`-d."""
    out = np.zeros(len(queries))
    for start in range(0, len(queries), BLOCK):
        block = queries[start : start + BLOCK]
        out[start : start + len(block)] = top_k_mean(block @ positive.T, top_k) - top_k_mean(
            block @ negative.T, top_k
        )
    return out / (SCALE * SCALE)  # a power of two: exact


def affinities(
    queries: NDArray[Any], positive: NDArray[Any], negative: NDArray[Any], top_k: int
) -> NDArray[np.float64]:
    """Return each query's affinity: mean top-k cosine to positives minus that to negatives.

    All rows are unit-length embeddings (rows of ``positive``/``negative`` are exemplars).

    Examples:
        >>> pos, neg = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0], [0.6, 0.8]])
        >>> queries = np.array([[1.0, 0.0], [0.0, 1.0], [0.8, 0.6]])
        >>> np.round(affinities(queries, pos, neg, top_k=1), 6)
        array([ 0.4 , -1.  , -0.16])
        >>> np.round(affinities(queries, pos, neg, top_k=2), 6)
        array([ 0.7 , -0.9 ,  0.02])
    """
    return affinities_quantized(quantize(queries), quantize(positive), quantize(negative), top_k)


def exemplars(texts: Sequence[str], limit: int, seed: int) -> list[str]:
    """Return the distinct non-blank texts, at most ``limit`` of them (a seeded sample).

    Examples:
        >>> exemplars(["hi", "", "hi", "yo", " "], limit=5, seed=0)
        ['hi', 'yo']
        >>> len(exemplars([str(i) for i in range(10)], limit=3, seed=0))
        3
    """
    distinct = [t for t in dict.fromkeys(texts) if t.strip()]
    if len(distinct) > limit:
        return random.Random(seed).sample(distinct, limit)
    return distinct


def message_flags(n_messages: int, label: int, flags: Sequence[bool] | None) -> list[bool]:
    """Return which messages count as grooming: flagged ones of a grooming conversation (all of
    them when it has no stage labels), none of a non-grooming one.

    Examples:
        >>> message_flags(2, 1, None), message_flags(2, 1, [False, True]), message_flags(2, 0, None)
        ([True, True], [False, True], [False, False])
    """
    if flags is not None and len(flags) != n_messages:
        raise ValueError(f"{len(flags)} message labels for {n_messages} messages")
    if not label:
        return [False] * n_messages
    return [True] * n_messages if flags is None else [bool(f) for f in flags]


class ExemplarIndex:
    """The unit-length embeddings of positive and negative exemplars (saved as float32 .npy).

    Examples:
        >>> index = ExemplarIndex(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]))
        >>> index.affinities(np.array([[0.6, 0.8]]), top_k=5).round(6).tolist()
        [-0.2]
    """

    def __init__(self, positive: NDArray[Any], negative: NDArray[Any]) -> None:
        self.positive = np.ascontiguousarray(positive, dtype=np.float32)
        self.negative = np.ascontiguousarray(negative, dtype=np.float32)
        if self.positive.ndim != 2 or self.positive.shape[1:] != self.negative.shape[1:]:
            raise ValueError(f"exemplars of shapes {positive.shape} and {negative.shape}")
        self._positive = quantize(self.positive)
        self._negative = quantize(self.negative)

    @property
    def dimension(self) -> int:
        """The embedding size."""
        return int(self.positive.shape[1])

    def affinities(self, embeddings: NDArray[Any], top_k: int) -> NDArray[np.float64]:
        """Return :func:`affinities` of each embedding row to these exemplars."""
        return affinities_quantized(quantize(embeddings), self._positive, self._negative, top_k)

    def save(self, folder: Path) -> None:
        """Write ``positive.npy`` and ``negative.npy`` under ``folder``."""
        np.save(folder / POSITIVE_FILE, self.positive)
        np.save(folder / NEGATIVE_FILE, self.negative)

    @classmethod
    def load(cls, folder: Path) -> ExemplarIndex:
        """Read an index written by :meth:`save`."""
        return cls(np.load(folder / POSITIVE_FILE), np.load(folder / NEGATIVE_FILE))


def sigmoid(z: float) -> float:
    """Return the logistic function of ``z``, without overflow for large ``|z|``.

    Examples:
        >>> sigmoid(0.0), round(sigmoid(2.0), 4), sigmoid(-1000.0)
        (0.5, 0.8808, 0.0)
    """
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    t = math.exp(z)
    return t / (1.0 + t)


def logistic(
    features: NDArray[np.float64], labels: Sequence[int], seed: int, what: str
) -> tuple[list[float], float]:
    """Fit a class-balanced logistic regression; return its weights and intercept.

    Features are standardised for the fit (so the L2 penalty weighs each feature alike,
    whatever its spread: affinities often span only a few hundredths) and the weights are
    mapped back, so they apply to the raw features.

    Examples:
        >>> x = np.array([[0.01], [0.02], [0.03], [0.04]])
        >>> weights, intercept = logistic(x, [0, 0, 1, 1], seed=0, what="message")
        >>> weights[0] > 0 and abs(intercept + 0.025 * weights[0]) < 1e-9
        True

    Raises:
        ValueError: the calibration examples hold one class only.
    """
    from sklearn.linear_model import LogisticRegression

    if len(set(labels)) < 2:
        raise ValueError(
            f"embedding_similarity: the calibration conversations give {what} examples of "
            f"one class only ({len(labels)} examples); train on more conversations of each "
            "label (with stage labels: grooming conversations with flagged messages), or raise "
            "detector.calibration_fraction"
        )
    x = np.asarray(features, dtype=np.float64)
    centre = x.mean(axis=0)
    spread = x.std(axis=0)
    spread = np.where(spread > 1e-12, spread, 1.0)  # a constant feature keeps weight 0
    model = LogisticRegression(class_weight="balanced", max_iter=1000, random_state=seed)
    model.fit((x - centre) / spread, np.asarray(labels))
    weights = np.asarray(model.coef_[0], dtype=np.float64) / spread
    intercept = float(model.intercept_[0]) - float(weights @ centre)
    return [float(w) for w in weights], intercept


class SentenceEncoder:
    """Mean-pooled, L2-normalised sentence embeddings from a local encoder folder.

    The folder is checked at once (``config.json``, ``max_length``); the weights are loaded on
    first use, so building a detector stays cheap.

    Args:
        encoder: a local Hugging Face model folder, or ``minilm`` (see
            :func:`detectors.learned.hf_runtime.resolve_model_folder`).
        max_length: tokens per text, special tokens included.
        batch_size: texts per forward pass.
        device: ``cpu``, ``cuda``, ``cuda:N`` or ``auto``.
        precision: ``float64`` (embeddings independent of batching) or ``float32`` (faster).
        progress: show a progress bar when many texts are embedded.

    Raises:
        FileNotFoundError: the encoder folder does not exist or holds no ``config.json``.
        ValueError: a setting out of range (named by its config key).
    """

    def __init__(
        self,
        encoder: str,
        max_length: int,
        batch_size: int = 64,
        device: str = "cpu",
        precision: str = "float64",
        progress: bool = False,
    ) -> None:
        offline()
        self.setting = str(encoder)
        self.folder = resolve_model_folder(self.setting, "detector.encoder")
        config = json.loads((self.folder / "config.json").read_text(encoding="utf-8"))
        self.limit = position_limit(config)
        self.dimension = int(config.get("hidden_size") or 0)
        self.batch_size = _positive("batch_size", batch_size)
        if precision not in PRECISIONS:
            raise ValueError(f"detector.precision must be float32 or float64, got {precision!r}")
        self.precision = precision
        self.device_setting = device
        self.progress = progress
        self.max_length = 0
        self.set_max_length(max_length)
        self._fingerprint: str | None = None
        self._model: Any = None
        self._tokens: TokenCache | None = None
        self._device = "cpu"

    def set_max_length(self, max_length: int) -> None:
        """Check and set the tokens per text (a loaded detector brings its own)."""
        if max_length < 3:
            raise ValueError(f"detector.max_length must be >= 3 tokens, got {max_length}")
        if max_length > self.limit:
            raise ValueError(
                f"detector.max_length={max_length} is longer than the encoder "
                f"{self.setting!r} accepts (max_position_embeddings: {self.limit} tokens); set "
                f"detector.max_length to {self.limit} or less"
            )
        self.max_length = int(max_length)

    @property
    def fingerprint(self) -> str:
        """The encoder's identity (:func:`encoder_fingerprint`), computed once."""
        if self._fingerprint is None:
            self._fingerprint = encoder_fingerprint(self.folder)
        return self._fingerprint

    def _load(self) -> None:
        if self._model is not None:
            return
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        self._device = resolve_device(self.device_setting)
        verbosity = hf_logging.get_verbosity()
        # A classifier folder used as an encoder reports its unused head; that is expected.
        hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(self.folder))
            model = AutoModel.from_pretrained(str(self.folder))
        except (OSError, ValueError) as error:
            raise ValueError(
                f"detector.encoder {str(self.folder)!r} is not a loadable Hugging Face encoder: "
                f"{error}"
            ) from None
        finally:
            hf_logging.set_verbosity(verbosity)
        if tokenizer.cls_token_id is None or tokenizer.sep_token_id is None:
            raise ValueError(
                f"detector.encoder {str(self.folder)!r} has no [CLS]/[SEP] tokens; use a "
                "BERT-style sentence encoder (all-MiniLM-L6-v2, BERT, RoBERTa...)"
            )
        dtype = torch.float64 if self.precision == "float64" else torch.float32
        self._model = model.to(device=self._device, dtype=dtype).eval()
        self._tokens = TokenCache(tokenizer)

    def embed(self, texts: Sequence[str]) -> tuple[NDArray[np.float32], int]:
        """Return one unit-length embedding row per text, and how many distinct texts were cut.

        Each distinct text is embedded once, whatever the number of times it appears.
        """
        self._load()
        assert self._tokens is not None
        distinct = list(dict.fromkeys(texts))
        if not distinct:
            return np.zeros((0, self.dimension), dtype=np.float32), 0
        tokenizer = self._tokens.tokenizer
        sequences: list[list[int]] = []
        truncated = 0
        for ids in self._tokens.ids(distinct):
            sequence, was_cut = cut(
                ids, tokenizer.cls_token_id, tokenizer.sep_token_id, self.max_length
            )
            sequences.append(sequence)
            truncated += int(was_cut)
        bar = progress_bar(len(sequences), self.progress, "embedding_similarity texts", "text")
        table = run_batched(
            sequences,
            self._forward(),
            pad_id=int(tokenizer.pad_token_id or 0),
            batch_size=self.batch_size,
            max_tokens=self.batch_size * self.max_length,
            device=self._device,
            progress=None if bar is None else bar.update,
        )
        if bar is not None:
            bar.close()
        slot = {text: i for i, text in enumerate(distinct)}
        rows = np.asarray([slot[t] for t in texts], dtype=np.int64)
        return np.ascontiguousarray(table[rows], dtype=np.float32), truncated

    def _forward(self) -> Callable[[Any, Any], NDArray[np.float32]]:
        import torch

        model = self._model

        def forward(ids: Any, mask: Any) -> NDArray[np.float32]:
            hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
            # One arithmetic path with or without padding, so a text pools the same either way.
            full = torch.ones(ids.shape, dtype=torch.long, device=ids.device)
            weights = (full if mask is None else mask).unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)
            unit = torch.nn.functional.normalize(pooled, p=2.0, dim=-1)
            # Rounded to float32 only now: float64 noise never survives the rounding.
            return np.asarray(unit.cpu().numpy(), dtype=np.float32)

        return forward


def _positive(key: str, value: int) -> int:
    if int(value) < 1:
        raise ValueError(f"detector.{key} must be >= 1, got {value}")
    return int(value)
