"""Shards: which conversations each holds, where finished ones are kept, and how they merge.

A conversation's shard is a hash of its id modulo the number of shards: the same conversations
land in the same shard whatever the corpus order, the engine's block layout or the number of
workers. Each finished shard is written atomically (a temporary file renamed into place), so a
shard file either holds every trace of its shard or does not exist; a killed run resumes from
the files it finished. The merge checks that every conversation of the split was scored exactly
once and puts the traces back in corpus order, so that every number computed from them is the
same for 1, 2 or 7 shards.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.causality import CausalityRecord, CausalityUnverified, unverified_message
from benchmarks.traces import SCHEMA, Traces

_CAUSALITY_KEY = b"groombench_causality"
_SHARD_KEY = b"groombench_shard"


def shard_of(conversation_id: str, n_shards: int) -> int:
    """The shard that scores a conversation: a hash of its id, never its position.

    Examples:
        >>> shard_of("c1", 7) == shard_of("c1", 7), 0 <= shard_of("c1", 7) < 7
        (True, True)
        >>> shard_of("anything", 1)
        0
    """
    digest = hashlib.sha256(conversation_id.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") % n_shards


def assign(ids: Sequence[str], n_shards: int) -> list[list[int]]:
    """The positions (in split order) each shard holds.

    Examples:
        >>> parts = assign([f"c{i}" for i in range(100)], 3)
        >>> sorted(p for part in parts for p in part) == list(range(100))
        True
    """
    parts: list[list[int]] = [[] for _ in range(n_shards)]
    for position, conversation_id in enumerate(ids):
        parts[shard_of(conversation_id, n_shards)].append(position)
    return parts


class MergeError(RuntimeError):
    """The shards do not cover the split exactly once: no number may be computed from them."""


@dataclass(frozen=True)
class ShardStore:
    """The folder where one run's finished shards are kept, named by what they depend on.

    Attributes:
        folder: ``<paths.cache>/shards/<key>``; the key hashes the corpus, the split, the
            detector and its model, the runner's settings and the number of shards, so that a
            shard is reused only by a run that would have computed the same scores.
        n_shards: how many shards the split is cut into.
    """

    folder: Path
    n_shards: int

    def path(self, index: int) -> Path:
        """The traces file of shard ``index``."""
        return self.folder / f"shard-{index:05d}-of-{self.n_shards:05d}.parquet"

    def errors_path(self, index: int) -> Path:
        """The local file of shard ``index``'s failure messages (secrets redacted)."""
        return self.folder / f"shard-{index:05d}-of-{self.n_shards:05d}.errors.local.jsonl"

    def finished(self) -> list[int]:
        """The shards whose traces are on disk."""
        return [i for i in range(self.n_shards) if self.path(i).exists()]

    def write(self, index: int, traces: Traces, info: Mapping[str, Any]) -> Path:
        """Write one shard's traces (and failure messages) atomically; return the path."""
        self.folder.mkdir(parents=True, exist_ok=True)
        _atomic_write(self.errors_path(index), traces.error_lines().encode("utf-8"))
        metadata = dict(traces.table.schema.metadata or {})
        metadata[_CAUSALITY_KEY] = json.dumps(dict(traces.causality), sort_keys=True).encode()
        metadata[_SHARD_KEY] = json.dumps(
            {"index": index, "n_shards": self.n_shards, **info}, sort_keys=True
        ).encode()
        table = traces.table.replace_schema_metadata(metadata)
        target = self.path(index)
        temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        pq.write_table(table, temporary)
        _fsync(temporary)
        # The rename is the commit: the file either holds the whole shard or is not there.
        os.replace(temporary, target)
        return target

    def read(self, index: int) -> tuple[Traces, dict[str, Any]]:
        """One finished shard: its traces (failure messages, causality record) and what the
        driver recorded of it (where and how long it ran, what it spent)."""
        table = pq.read_table(self.path(index))
        metadata = table.schema.metadata or {}
        causality = json.loads(metadata.get(_CAUSALITY_KEY, b"{}"))
        details: list[tuple[str, str]] = []
        errors = self.errors_path(index)
        if errors.exists():
            for line in errors.read_text(encoding="utf-8").splitlines():
                record = json.loads(line)
                details.append((record["conversation_id"], record["error"]))
        traces = Traces(table.select(SCHEMA.names).cast(SCHEMA), tuple(details), causality)
        return traces, dict(json.loads(metadata.get(_SHARD_KEY, b"{}")))


def _atomic_write(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    _fsync(temporary)
    os.replace(temporary, path)


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def store_key(identity: Mapping[str, Any]) -> str:
    """A short stable hash of everything a shard's scores depend on.

    Examples:
        >>> store_key({"a": 1, "b": [2]}) == store_key({"b": [2], "a": 1})
        True
    """
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def merge(
    shards: Sequence[Traces],
    ids: Sequence[str],
    *,
    max_unchecked: float,
    allow_unverified: bool,
) -> Traces:
    """The split's traces from its shards, in corpus order; every conversation exactly once.

    Args:
        shards: each shard's traces (any order).
        ids: the split's conversation ids, in corpus order.
        max_unchecked: the largest share of causality re-checks that may fail to run, over the
            whole split (a shard alone may exceed it).
        allow_unverified: report a run above that share, marked UNVERIFIED, instead of failing.

    Raises:
        MergeError: a conversation is missing, scored twice, or not in the split.
        CausalityUnverified: too many re-checks could not run, and that was not allowed.
    """
    position = {conversation_id: i for i, conversation_id in enumerate(ids)}
    if len(position) != len(ids):
        raise MergeError("the split holds a conversation id twice: shards cannot be merged")
    table = pa.concat_tables([s.table for s in shards]) if shards else SCHEMA.empty_table()
    scored = [str(i) for i in table.column("conversation_id").to_pylist()]
    twice = sorted(i for i, n in Counter(scored).items() if n > 1)
    stray = sorted(set(scored) - set(position))
    missing = len(position) - len(set(scored) & set(position))
    if twice or stray or missing:
        raise MergeError(
            f"the shards do not cover the split exactly once: {missing} conversation(s) "
            f"missing, {len(twice)} scored twice, {len(stray)} not in the split"
            + (f" (e.g. {(twice or stray)[0]!r})" if twice or stray else "")
        )
    order = sorted(range(len(scored)), key=lambda row: position[scored[row]])
    merged = table.take(pa.array(order, type=pa.int64())).combine_chunks()
    merged = merged.replace_schema_metadata(SCHEMA.metadata)
    details = sorted(
        (d for s in shards for d in s.error_details), key=lambda d: position.get(d[0], -1)
    )
    causality = merge_causality([s.causality for s in shards], max_unchecked, allow_unverified)
    return Traces(merged, tuple(details), causality)


def merge_causality(
    records: Sequence[Mapping[str, Any]], max_unchecked: float, allow_unverified: bool
) -> dict[str, Any]:
    """One causality record for the split from its shards' records.

    Counts add up; whether the run is verified is decided on the totals, as for one process.

    Examples:
        >>> strict = [{"mode": "strict", "checked": 3}, {"mode": "strict", "checked": 4}]
        >>> merge_causality(strict, 0.05, False)["checked"]
        7
    """
    records = [r for r in records if r]
    if not records:
        return {}
    modes = {str(r.get("mode")) for r in records}
    if len(modes) != 1:
        raise MergeError(f"shards were scored in different causality modes: {sorted(modes)}")
    (mode,) = modes
    if mode == "strict":
        total = sum(int(r.get("checked", 0)) for r in records)
        return CausalityRecord(mode="strict", checked=total).to_dict()
    sampled = sum(int(r.get("sampled", 0)) for r in records)
    unchecked = sum(int(r.get("unchecked", 0)) for r in records)
    with_picks = [r for r in records if int(r.get("sampled", 0))]
    if not sampled:
        return CausalityRecord(mode="fast", checked=0, verified=False).to_dict()
    record = CausalityRecord(
        mode="fast",
        checked=sampled - unchecked,
        unchecked=unchecked,
        sampled=sampled,
        fresh_instance=all(bool(r.get("fresh_instance")) for r in with_picks),
        verified=unchecked / sampled <= max_unchecked,
        tolerance=max(float(r.get("tolerance", 0.0)) for r in with_picks),
    )
    if not record.verified and not allow_unverified:
        raise CausalityUnverified(
            unverified_message(unchecked, sampled, "the detector failed on them")
        )
    return record.to_dict()
