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

import contextlib
import hashlib
import json
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
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
# Inputs a live process is buying right now: another process waits for their answer rather
# than buying them again. A claim whose owner died (same host, pid gone) or that is older than
# its expiry is void.
_CLAIMS = """
CREATE TABLE IF NOT EXISTS claims (
    key TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    expires REAL NOT NULL
) WITHOUT ROWID
"""
#: How long a claim holds without an answer (a process on another host cannot be checked).
CLAIM_TTL_S = 600.0
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


@contextlib.contextmanager
def _setup_lock(path: Path | None) -> Iterator[None]:
    """Hold an exclusive lock on ``<path>.lock`` (nothing for an in-memory cache)."""
    if path is None:
        yield
        return
    import fcntl

    with open(f"{path}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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
        with self._lock, _setup_lock(self.path):
            # Switching to WAL does not wait on the busy timeout: two processes opening a new
            # cache at once got "database is locked". The set-up runs under a file lock.
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode survives a killed process (not a power cut), at a fraction of
            # FULL's cost per commit.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)
            self._db.execute(_CLAIMS)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(predictions)")}
            if "cost" not in columns:  # caches written before costs were recorded
                self._db.execute("ALTER TABLE predictions ADD COLUMN cost REAL")
            self._db.commit()
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
        self._refreshed = 0.0

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

    def put_many(
        self, scores: Mapping[str, float] | Sequence[tuple[str, float]], cost: float = 0.0
    ) -> None:
        """Store several scores in one transaction, releasing their claims.

        Args:
            scores: key → score.
            cost: what buying them cost in all (shared equally among them), so that a later
                run can say what its inputs cost across resumes.
        """
        items = list(scores.items()) if isinstance(scores, Mapping) else list(scores)
        if not items:
            return
        now = time.time()
        share = float(cost) / len(items)
        with self._lock:
            self._db.executemany(
                "INSERT OR REPLACE INTO predictions (key, score, namespace, created, cost) "
                "VALUES (?, ?, ?, ?, ?)",
                [(k, float(s), self.namespace, now, share) for k, s in items],
            )
            self._db.executemany("DELETE FROM claims WHERE key = ?", [(k,) for k, _ in items])
            self._db.commit()

    def cost_of(self, keys: Iterable[str]) -> float:
        """What the cached answers of ``keys`` cost when they were bought (unknown: 0)."""
        wanted = list(dict.fromkeys(keys))
        total = 0.0
        with self._lock:
            for start in range(0, len(wanted), _LOOKUP_CHUNK):
                chunk = wanted[start : start + _LOOKUP_CHUNK]
                marks = ",".join("?" * len(chunk))
                row = self._db.execute(
                    f"SELECT COALESCE(SUM(cost), 0) FROM predictions WHERE key IN ({marks})",
                    chunk,
                ).fetchone()
                total += float(row[0])
        return total

    def claim(self, keys: Iterable[str]) -> tuple[list[str], list[str]]:
        """Claim ``keys`` for buying; return (claimed by this process, being bought elsewhere).

        Keys already answered are in neither list. A claim held by a live process elsewhere is
        respected; a void one (owner gone, or expired) is taken over.
        """
        wanted = list(dict.fromkeys(keys))
        mine: list[str] = []
        theirs: list[str] = []
        host = socket.gethostname()
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")  # one claimer at a time across processes
            try:
                answered = set(self._found(wanted))
                for key in wanted:
                    if key in answered:
                        continue
                    row = self._db.execute(
                        "SELECT owner, host, pid, expires FROM claims WHERE key = ?", (key,)
                    ).fetchone()
                    if row is not None and row[0] != self.owner and _live(row, host, now):
                        theirs.append(key)
                        continue
                    self._db.execute(
                        "INSERT OR REPLACE INTO claims (key, owner, host, pid, expires) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (key, self.owner, host, os.getpid(), now + CLAIM_TTL_S),
                    )
                    mine.append(key)
                self._db.commit()
            except BaseException:
                self._db.rollback()
                raise
        return mine, theirs

    def claim_check(self, keys: Iterable[str]) -> tuple[list[str], list[str]]:
        """(keys no live process holds a claim on, keys still claimed by a live one)."""
        wanted = list(dict.fromkeys(keys))
        host, now = socket.gethostname(), time.time()
        free: list[str] = []
        held: list[str] = []
        with self._lock:
            for key in wanted:
                row = self._db.execute(
                    "SELECT owner, host, pid, expires FROM claims WHERE key = ?", (key,)
                ).fetchone()
                live = row is not None and row[0] != self.owner and _live(row, host, now)
                (held if live else free).append(key)
        return free, held

    def refresh_claims(self, every: float = 10.0) -> None:
        """Extend this process's claims (it is still buying); at most once per ``every`` s."""
        now = time.time()
        if now - self._refreshed < every:
            return
        self._refreshed = now
        with self._lock:
            self._db.execute(
                "UPDATE claims SET expires = ? WHERE owner = ?", (now + CLAIM_TTL_S, self.owner)
            )
            self._db.commit()

    def release(self, keys: Iterable[str]) -> None:
        """Give up this process's claims on ``keys`` (their purchase failed)."""
        with self._lock:
            self._db.executemany(
                "DELETE FROM claims WHERE key = ? AND owner = ?",
                [(k, self.owner) for k in keys],
            )
            self._db.commit()

    def _found(self, keys: Sequence[str]) -> list[str]:
        out: list[str] = []
        for start in range(0, len(keys), _LOOKUP_CHUNK):
            chunk = keys[start : start + _LOOKUP_CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(f"SELECT key FROM predictions WHERE key IN ({marks})", chunk)
            out += [str(k) for (k,) in rows]
        return out

    def count(self) -> int:
        """Return how many entries this detector (namespace) has in the cache."""
        with self._lock:
            row = self._db.execute(
                "SELECT COUNT(*) FROM predictions WHERE namespace = ?", (self.namespace,)
            ).fetchone()
        return int(row[0])

    def close(self) -> None:
        """Close the connection (entries are already committed; open claims are released)."""
        with contextlib.suppress(sqlite3.Error), self._lock:
            self._db.execute("DELETE FROM claims WHERE owner = ?", (self.owner,))
            self._db.commit()
        with self._lock:
            self._db.close()


def _live(claim: Sequence[Any], host: str, now: float) -> bool:
    """Whether a claim row ``(owner, host, pid, expires)`` still holds."""
    _, claim_host, pid, expires = claim
    if float(expires) < now:
        return False
    if claim_host != host:
        return True  # another machine's process: trust its claim until it expires
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False  # killed without releasing: void
    except PermissionError:
        return True
    return True
