"""Seeded, author-disjoint train/test splits for corpora that define none of their own.

Conversations that share an author are joined into one connected component (union-find over
author ids), and whole components are assigned to a split, so no author ever appears in both
"train" and "test". Components are stratified by whether they hold a positive conversation, and
each stratum is split on its own with a seeded shuffle, so both splits get roughly the requested
share of positives as well as of conversations.

The fraction is measured in conversations and is approximate: a component cannot be cut, and a
corpus whose authors all chat with each other is one component that can only land in one split
(a warning says so).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any

log = logging.getLogger(__name__)


class _UnionFind:
    """Disjoint sets over hashable keys, with path halving and union by size."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.size: dict[str, int] = {}

    def find(self, key: str) -> str:
        self.parent.setdefault(key, key)
        self.size.setdefault(key, 1)
        while self.parent[key] != key:
            self.parent[key] = self.parent[self.parent[key]]
            key = self.parent[key]
        return key

    def union(self, a: str, b: str) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a == root_b:
            return
        if self.size[root_a] < self.size[root_b]:
            root_a, root_b = root_b, root_a
        self.parent[root_b] = root_a
        self.size[root_a] += self.size[root_b]


def author_components(records: Sequence[Mapping[str, Any]]) -> list[list[int]]:
    """Return the record positions grouped into components of shared authors.

    Components are ordered by their first record, and positions inside one are ascending; a
    conversation without messages is a component of its own.

    Examples:
        >>> rec = lambda *authors: {"messages": [{"author": a} for a in authors]}
        >>> author_components([rec("a", "b"), rec("c"), rec("b", "d"), rec()])
        [[0, 2], [1], [3]]
    """
    sets = _UnionFind()
    for position, record in enumerate(records):
        node = f"c\x00{position}"
        sets.find(node)
        for message in record.get("messages") or ():
            sets.union(node, f"a\x00{message['author']}")
    groups: dict[str, list[int]] = {}
    for position in range(len(records)):
        groups.setdefault(sets.find(f"c\x00{position}"), []).append(position)
    return list(groups.values())


def _split_stratum(
    components: list[list[int]], fraction: float, rng: random.Random
) -> tuple[list[list[int]], list[list[int]]]:
    """Shuffle ``components`` and fill "test" up to ``fraction`` of their conversations."""
    order = list(components)
    rng.shuffle(order)
    target = fraction * sum(len(c) for c in order)
    train: list[list[int]] = []
    test: list[list[int]] = []
    filled = 0
    for component in order:
        # Take a component when that brings the test share closer to its target.
        if abs(filled + len(component) - target) < abs(filled - target):
            test.append(component)
            filled += len(component)
        else:
            train.append(component)
    # Both splits get a part of the stratum whenever it has two components and 0 < fraction < 1.
    if not test and len(train) > 1 and fraction > 0:
        test.append(train.pop(min(range(len(train)), key=lambda i: len(train[i]))))
    if not train and len(test) > 1 and fraction < 1:
        train.append(test.pop(min(range(len(test)), key=lambda i: len(test[i]))))
    return train, test


def assign_splits(
    records: Sequence[MutableMapping[str, Any]], *, test_fraction: float = 0.3, seed: int = 0
) -> None:
    """Set each record's ``split`` to "train" or "test", author-disjoint and seeded, in place.

    Args:
        records: schema records (``messages`` with ``author``; ``label`` 0 or 1).
        test_fraction: the share of conversations to put in "test", in [0, 1].
        seed: the shuffle's seed; equal records and seed give equal splits.

    Raises:
        ValueError: ``test_fraction`` is outside [0, 1].

    Examples:
        >>> rec = lambda label, *authors: {
        ...     "label": label, "messages": [{"author": a} for a in authors]}
        >>> records = [rec(i % 2, f"u{i}", f"v{i}") for i in range(10)]
        >>> assign_splits(records, test_fraction=0.4, seed=1)
        >>> sorted(r["split"] for r in records).count("test")
        4
        >>> sorted({r["split"] for r in records if r["label"] == 1})
        ['test', 'train']
    """
    if not 0.0 <= test_fraction <= 1.0:
        raise ValueError(f"test_fraction must be in [0, 1], got {test_fraction}")
    components = author_components(records)
    rng = random.Random(seed)
    positive = [c for c in components if any(int(records[i]["label"]) == 1 for i in c)]
    negative = [c for c in components if all(int(records[i]["label"]) != 1 for i in c)]
    for stratum in (positive, negative):
        train, test = _split_stratum(stratum, test_fraction, rng)
        for name, chosen in (("train", train), ("test", test)):
            for component in chosen:
                for position in component:
                    records[position]["split"] = name
    largest = max((len(c) for c in components), default=0)
    if records and largest > 0.5 * len(records):
        log.warning(
            "%d of %d conversations share authors (one connected component): the author-"
            "disjoint split cannot approach test_fraction=%s",
            largest,
            len(records),
            test_fraction,
        )
    for name in ("train", "test"):
        labels = {int(r["label"]) for r in records if r.get("split") == name}
        if 0 < test_fraction < 1 and labels != {0, 1}:
            have = "no conversations" if not labels else f"only label {labels.pop()}"
            log.warning(
                "the author-disjoint split left '%s' with %s: positives share authors across "
                "conversations (a decoy, a moderator?), so metrics on it may be undefined",
                name,
                have,
            )
