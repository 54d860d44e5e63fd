"""TF-IDF + logistic regression: the classical learned baseline, streamed incrementally.

A conversation (or prefix) is the bag of its messages' word 1-2-grams: the sum of per-message
count vectors (n-grams never span two messages, so the bag of a prefix is exactly the running
sum). Its features are smooth-idf weighted counts, L2-normalised; the score is the logistic
regression probability.

Streaming needs no re-vectorising: for a linear model on an L2-normalised vector,
``w.x/|x|`` only needs two running sums, ``w.x`` and ``|x|^2``, which each new message updates
from its own few n-grams. :meth:`TfidfLRDetector.score_prefixes` computes those updates for a
whole batch of conversations at once with sparse-array arithmetic.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
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

log = logging.getLogger(__name__)

MODEL_FILE = "model.npz"
VOCAB_FILE = "vocabulary.json"
META_FILE = "metadata.json"


def _sigmoid(z: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float64)


class TfidfLRDetector(TrainableDetector):
    """Word 1-2-gram TF-IDF with logistic regression; linear-cost streaming."""

    def __init__(
        self,
        model_path: str | None = None,
        ngram_max: int = 2,
        min_df: int = 2,
        max_features: int = 200_000,
        C: float = 4.0,
        seed: int = 0,
        name: str = "tfidf_lr",
    ) -> None:
        self.model_path = model_path
        self.params: dict[str, Any] = {
            "ngram_max": ngram_max,
            "min_df": min_df,
            "max_features": max_features,
            "C": C,
            "seed": seed,
        }
        self._name = name
        self._vectorizer: Any = None
        self._weights = np.zeros(0)  # w_j * idf_j
        self._idf_sq = np.zeros(0)  # idf_j ** 2
        self._bias = 0.0
        self.metadata = self._metadata(())
        if model_path and (Path(model_path) / MODEL_FILE).exists():
            self.load(model_path)

    def _metadata(self, trained_on: tuple[str, ...]) -> DetectorMetadata:
        return DetectorMetadata(
            name=self._name,
            version="1",
            description="Word 1-2-gram TF-IDF + logistic regression, incremental streaming.",
            reference="scikit-learn CountVectorizer/LogisticRegression",
            trained_on=trained_on,
            stateful=True,
        )

    @property
    def is_fitted(self) -> bool:
        return self._vectorizer is not None

    def _make_vectorizer(self, vocabulary: dict[str, int] | None = None) -> Any:
        from sklearn.feature_extraction.text import CountVectorizer

        return CountVectorizer(
            ngram_range=(1, int(self.params["ngram_max"])),
            min_df=int(self.params["min_df"]),
            max_features=int(self.params["max_features"]),
            vocabulary=vocabulary,
            dtype=np.float64,
        )

    def fit(
        self,
        conversations: Sequence[Conversation],
        labels: Sequence[int],
        trained_on: str,
        message_labels: Sequence[Sequence[bool] | None] | None = None,
    ) -> None:
        # A bag of words per conversation: message-level labels add nothing it can use.
        del message_labels
        from sklearn.linear_model import LogisticRegression

        vocabulary = self._fit_vocabulary(conversations)
        vectorizer = self._make_vectorizer(vocabulary)
        counts = self._conversation_counts(vectorizer, conversations)
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        idf = np.log((1.0 + len(conversations)) / (1.0 + df)) + 1.0
        # Scaled and normalised in place: at PAN12 scale each copy of this matrix is ~250 MB.
        counts.sort_indices()  # the canonical order a copy would have: the same solver sums
        counts.data *= idf[counts.indices]
        features = _normalise(counts)
        del counts
        model = LogisticRegression(
            C=float(self.params["C"]),
            class_weight="balanced",
            max_iter=2000,
            random_state=int(self.params["seed"]),
        )
        model.fit(features, np.asarray(labels))
        # Freeze the fitted vocabulary so transform() needs no refit and min_df no longer applies.
        self._set_model(
            vocabulary,
            idf,
            np.asarray(model.coef_[0], dtype=np.float64),
            float(model.intercept_[0]),
        )
        self.metadata = self._metadata((trained_on,))

    def _fit_vocabulary(self, conversations: Sequence[Conversation]) -> dict[str, int]:
        """The vocabulary CountVectorizer's ``fit`` would keep, counted a chunk at a time.

        A message is a document (for ``min_df``), as when the vectorizer is fitted on every
        message at once; but only one chunk's message-by-n-gram matrix exists at a time (at
        PAN12 scale the whole one took over a GiB). Terms are sorted, pruned by document
        frequency and cut to ``max_features`` by total count exactly as scikit-learn's
        ``_sort_features`` and ``_limit_features`` do, ties included, so the model is the same.
        """
        from sklearn.feature_extraction.text import CountVectorizer

        index: dict[str, int] = {}
        tf: list[float] = []
        df: list[int] = []
        for part in _chunks(conversations):
            texts = [m.text for c in part for m in c]
            counter = CountVectorizer(
                ngram_range=(1, int(self.params["ngram_max"])), dtype=np.float64
            )
            try:
                matrix = counter.fit_transform(texts).tocsr()
            except ValueError:  # no token in this chunk
                continue
            chunk_tf = np.asarray(matrix.sum(axis=0)).ravel()
            chunk_df = np.bincount(matrix.indices, minlength=matrix.shape[1])
            for term, column in counter.vocabulary_.items():
                at = index.setdefault(term, len(tf))
                if at == len(tf):
                    tf.append(0.0)
                    df.append(0)
                tf[at] += float(chunk_tf[column])
                df[at] += int(chunk_df[column])
        if not index:
            raise ValueError("empty vocabulary; perhaps the documents only contain stop words")
        terms = sorted(index)
        tfs = np.array([tf[index[t]] for t in terms], dtype=np.float64)
        dfs = np.array([df[index[t]] for t in terms], dtype=np.int64)
        mask = dfs >= int(self.params["min_df"])
        limit = int(self.params["max_features"])
        if mask.sum() > limit:
            keep = (-tfs[mask]).argsort()[:limit]
            limited = np.zeros(len(dfs), dtype=bool)
            limited[np.where(mask)[0][keep]] = True
            mask = limited
        if not mask.any():
            raise ValueError(
                "After pruning, no terms remain. Try a lower min_df or a higher max_df."
            )
        kept = [t for t, k in zip(terms, mask.tolist(), strict=True) if k]
        return {term: i for i, term in enumerate(kept)}

    def _conversation_counts(self, vectorizer: Any, conversations: Sequence[Conversation]) -> Any:
        """Each conversation's n-gram counts (the sum of its messages'), a chunk at a time."""
        from scipy.sparse import csr_matrix, vstack

        parts = []
        for part in _chunks(conversations):
            owner = np.repeat(np.arange(len(part)), [len(c) for c in part])
            rows = vectorizer.transform([m.text for c in part for m in c]).tocsr()
            parts.append(_sum_rows_by(rows, owner, len(part)))
        if not parts:
            return csr_matrix((0, len(vectorizer.vocabulary)), dtype=np.float64)
        return vstack(parts, format="csr")

    def _set_model(
        self,
        vocabulary: dict[str, int],
        idf: NDArray[np.float64],
        coef: NDArray[np.float64],
        bias: float,
    ) -> None:
        vectorizer = self._make_vectorizer(vocabulary)
        vectorizer.min_df = 1
        vectorizer.max_features = None
        self._vectorizer = vectorizer
        self._vocabulary = vocabulary
        self._idf = idf
        self._coef = coef
        self._weights = coef * idf
        self._idf_sq = idf**2
        self._bias = bias

    def save(self, path: str) -> None:
        if not self.is_fitted:
            raise RuntimeError("tfidf_lr: nothing to save; fit the detector first")
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        np.savez(folder / MODEL_FILE, idf=self._idf, coef=self._coef, bias=np.array([self._bias]))
        (folder / VOCAB_FILE).write_text(json.dumps(self._vocabulary), encoding="utf-8")
        meta = {
            "params": self.params,
            "trained_on": list(self.metadata.trained_on),
            "version": self.metadata.version,
            "name": self.metadata.name,
        }
        (folder / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")

    def load(self, path: str) -> None:
        folder = Path(path)
        if not (folder / MODEL_FILE).exists():
            raise FileNotFoundError(
                f"tfidf_lr: no model at {folder}; train one with `groombench-train "
                f"detector=tfidf_lr corpus=...` or set detector.model_path"
            )
        arrays = np.load(folder / MODEL_FILE)
        vocabulary = json.loads((folder / VOCAB_FILE).read_text(encoding="utf-8"))
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
        saved = meta.get("params", {})
        differ = {k: (v, saved[k]) for k, v in self.params.items() if k in saved and saved[k] != v}
        if differ:
            # The saved model is what it is: its own settings apply, whatever was configured.
            log.warning(
                "tfidf_lr model %s was trained with %s; using those, not %s",
                folder,
                {k: b for k, (_, b) in differ.items()},
                {k: a for k, (a, _) in differ.items()},
            )
        self.params.update(saved)
        self._set_model(vocabulary, arrays["idf"], arrays["coef"], float(arrays["bias"][0]))
        self.metadata = self._metadata(tuple(meta.get("trained_on", ())))

    def _require_fitted(self) -> None:
        if not self.is_fitted:
            raise RuntimeError(
                "tfidf_lr is not trained: run `groombench-train detector=tfidf_lr corpus=...` "
                "or point detector.model_path at a saved model"
            )

    def _decision(self, dot: NDArray[np.float64], sq: NDArray[np.float64]) -> list[float]:
        norm = np.sqrt(sq)
        scaled = np.divide(dot, norm, out=np.zeros_like(dot), where=norm > 0)
        return [float(s) for s in _sigmoid(scaled + self._bias)]

    def score(self, conversations: Sequence[Conversation]) -> list[float]:
        self._require_fitted()
        owner = np.repeat(np.arange(len(conversations)), [len(c) for c in conversations])
        rows = self._vectorizer.transform([m.text for c in conversations for m in c]).tocsr()
        counts = _sum_rows_by(rows, owner, len(conversations))
        dot = np.asarray(counts @ self._weights, dtype=np.float64).ravel()
        sq = np.asarray(counts.multiply(counts) @ self._idf_sq, dtype=np.float64).ravel()
        return self._decision(dot, sq)

    def session(self) -> Session:
        self._require_fitted()
        return _TfidfSession(self)

    def score_prefixes(
        self, conversations: Sequence[Conversation], every: int = 1
    ) -> list[list[float]]:
        self._require_fitted()
        lengths = np.array([len(c) for c in conversations], dtype=np.int64)
        if lengths.sum() == 0:
            return [[] for _ in conversations]
        owner = np.repeat(np.arange(len(conversations)), lengths)
        rows = self._vectorizer.transform([m.text for c in conversations for m in c]).tocoo()
        r, j, d = rows.row.astype(np.int64), rows.col.astype(np.int64), rows.data
        # Count of n-gram j in the same conversation before row r: sort entries by
        # (conversation, n-gram, row) and take the exclusive running sum within each group.
        order = np.lexsort((r, j, owner[r]))
        r, j, d = r[order], j[order], d[order]
        key_change = np.empty(len(r), dtype=bool)
        if len(r):
            key_change[0] = True
            key_change[1:] = (j[1:] != j[:-1]) | (owner[r[1:]] != owner[r[:-1]])
        running = np.cumsum(d) - d
        group_start = np.maximum.accumulate(np.where(key_change, np.arange(len(r)), 0))
        before = running - running[group_start]
        n_rows = int(lengths.sum())
        d_dot = np.bincount(r, weights=self._weights[j] * d, minlength=n_rows)
        d_sq = np.bincount(
            r, weights=self._idf_sq[j] * ((before + d) ** 2 - before**2), minlength=n_rows
        )
        dot = _running_within(d_dot.astype(np.float64), lengths)
        sq = _running_within(d_sq.astype(np.float64), lengths)
        scores = self._decision(dot, sq)
        out: list[list[float]] = []
        start = 0
        for length in lengths.tolist():
            out.append([scores[start + k - 1] for k in checkpoints(length, every)])
            start += length
        return out


class _TfidfSession(Session):
    def __init__(self, detector: TfidfLRDetector) -> None:
        self._d = detector
        self._counts: dict[int, float] = {}
        self._dot = 0.0
        self._sq = 0.0

    def observe(self, message: Message) -> None:
        row = self._d._vectorizer.transform([message.text]).tocsr()
        for j, delta in zip(row.indices.tolist(), row.data.tolist(), strict=True):
            before = self._counts.get(j, 0.0)
            self._counts[j] = before + delta
            self._dot += float(self._d._weights[j]) * delta
            self._sq += float(self._d._idf_sq[j]) * ((before + delta) ** 2 - before**2)

    def score(self) -> float:
        z = (self._dot / math.sqrt(self._sq) if self._sq > 0 else 0.0) + self._d._bias
        return 1.0 / (1.0 + math.exp(-z))


#: Conversations counted together while fitting: bounds the message-by-n-gram matrix.
FIT_CHUNK = 4096


def _chunks(conversations: Sequence[Conversation]) -> Any:
    for start in range(0, len(conversations), FIT_CHUNK):
        yield conversations[start : start + FIT_CHUNK]


def _sum_rows_by(rows: Any, owner: NDArray[np.int64], n_groups: int) -> Any:
    """Sum sparse rows per group: (groups x rows indicator) @ rows."""
    from scipy.sparse import csr_matrix

    indicator = csr_matrix(
        (np.ones(len(owner)), (owner, np.arange(len(owner)))), shape=(n_groups, len(owner))
    )
    return (indicator @ rows).tocsr()


def _normalise(matrix: Any) -> Any:
    from sklearn.preprocessing import normalize

    return normalize(matrix, norm="l2", copy=False)


def _running_within(values: NDArray[np.float64], lengths: NDArray[np.int64]) -> NDArray[np.float64]:
    """Cumulative sums that restart at each conversation boundary.

    Each conversation's sums are taken over its own values only: one running total over the
    batch, less an offset, would round differently with other neighbours, so a conversation's
    score would depend on what it was batched (or sharded) with.

    Examples:
        >>> values = np.array([0.1, 0.2, 0.3, 1e16, 0.1, 0.2])
        >>> a = _running_within(values, np.array([3, 1, 2]))
        >>> b = _running_within(values[4:], np.array([2]))
        >>> bool((a[4:] == b).all())
        True
    """
    out = np.empty_like(values, dtype=np.float64)
    start = 0
    for length in lengths.tolist():
        np.cumsum(values[start : start + length], out=out[start : start + length])
        start += length
    return out
