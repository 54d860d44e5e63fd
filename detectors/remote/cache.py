"""The prediction cache: slow or paid detectors never compute (or pay for) one input twice.

A cache is one SQLite file that many detectors, runs and processes share. Each entry maps a key
to a score. The key is a hash of three things: the detector's identity (its name, version and a
hash of every setting that can change a score, see :func:`identity_digest`), the conversation
id, and the exact input sent (the message, window or prefix as rendered for the detector). An
entry written by one detector can therefore never be served to another, nor to the same
detector configured differently.

Every entry is committed as soon as its score arrives, in WAL mode: a run killed with SIGKILL
loses at most the calls that were in flight, and a re-run asks only for what is missing.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS predictions (
    key TEXT PRIMARY KEY,
    score REAL NOT NULL,
    namespace TEXT NOT NULL,
    created REAL NOT NULL
) WITHOUT ROWID
"""
_LOOKUP_CHUNK = 500  # stays under SQLite's limit on bound parameters


def identity_digest(identity: Mapping[str, Any]) -> str:
    """Return a stable hash of a detector's identity (name, version, score-changing settings).

    Examples:
        >>> a = identity_digest({"name": "http", "version": "1", "settings": {"url": "u"}})
        >>> a == identity_digest({"settings": {"url": "u"}, "version": "1", "name": "http"})
        True
        >>> a == identity_digest({"name": "http", "version": "2", "settings": {"url": "u"}})
        False
    """
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def input_key(namespace: str, conversation_id: str, payload: str) -> str:
    """Return the cache key of one input: the detector namespace, conversation and exact text.

    Examples:
        >>> k = input_key("ns", "c1", "hello")
        >>> len(k), k == input_key("ns", "c2", "hello"), k == input_key("ns2", "c1", "hello")
        (64, False, False)
    """
    h = hashlib.sha256()
    for part in (namespace, conversation_id, payload):
        data = part.encode("utf-8", "surrogatepass")
        h.update(len(data).to_bytes(8, "little"))  # length-prefixed: no ambiguous joins
        h.update(data)
    return h.hexdigest()


class PredictionCache:
    """Scores keyed by :func:`input_key`, persisted in a SQLite file shared across processes.

    Thread-safe: one connection guarded by a lock (SQLite serialises writers anyway).

    Args:
        path: the SQLite file (created with its folder when missing); None keeps entries in
            memory for this process only.
        namespace: :func:`identity_digest` of the detector that owns the entries.

    Examples:
        >>> cache = PredictionCache(None, namespace="ns")
        >>> key = input_key("ns", "c1", "hello")
        >>> cache.get_many([key])
        {}
        >>> cache.put(key, 0.25)
        >>> list(cache.get_many([key]).values())
        [0.25]
    """

    def __init__(self, path: str | Path | None, namespace: str) -> None:
        self.path = None if path is None else Path(path)
        self.namespace = namespace
        self._lock = threading.Lock()
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        target = ":memory:" if self.path is None else str(self.path)
        # timeout: parallel jobs (joblib workers) write the same file; wait for their locks.
        self._db = sqlite3.connect(target, timeout=60.0, check_same_thread=False)
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode survives a killed process (not a power cut), at a fraction of
            # FULL's cost per commit.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)
            self._db.commit()

    def get_many(self, keys: Iterable[str]) -> dict[str, float]:
        """Return the cached score of each key that has one."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, float] = {}
        with self._lock:
            for start in range(0, len(wanted), _LOOKUP_CHUNK):
                chunk = wanted[start : start + _LOOKUP_CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT key, score FROM predictions WHERE key IN ({marks})", chunk
                )
                found.update((str(k), float(s)) for k, s in rows)
        return found

    def put(self, key: str, score: float) -> None:
        """Store one score and commit at once (a later crash does not lose it)."""
        self.put_many({key: score})

    def put_many(self, scores: Mapping[str, float] | Sequence[tuple[str, float]]) -> None:
        """Store several scores in one transaction."""
        items = list(scores.items()) if isinstance(scores, Mapping) else list(scores)
        if not items:
            return
        now = time.time()
        with self._lock:
            self._db.executemany(
                "INSERT OR REPLACE INTO predictions (key, score, namespace, created) "
                "VALUES (?, ?, ?, ?)",
                [(k, float(s), self.namespace, now) for k, s in items],
            )
            self._db.commit()

    def count(self) -> int:
        """Return how many entries this detector (namespace) has in the cache."""
        with self._lock:
            row = self._db.execute(
                "SELECT COUNT(*) FROM predictions WHERE namespace = ?", (self.namespace,)
            ).fetchone()
        return int(row[0])

    def close(self) -> None:
        """Close the connection (entries are already committed)."""
        with self._lock:
            self._db.close()
