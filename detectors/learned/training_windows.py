"""Training examples for window classifiers: which windows, and what label each one gets.

A window is the last ``window`` messages up to message k (as eSPD's classifiers see them). Its
label comes from the conversation label and, where the corpus has stage labels, from the
messages inside it: a window of a grooming conversation is positive only when it holds at least
one message that shows a grooming stage. Without stage labels every window of a grooming
conversation is positive (Vogt et al. 2021 label their segments the same way). Windows of
non-grooming conversations are negative.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class WindowExample:
    """One training window: conversation position, last message (1-based), label."""

    conversation: int
    end: int
    label: int


def window_labels(
    n_messages: int, label: int, flags: Sequence[bool] | None, window: int
) -> list[int]:
    """Return the label of the window ending at each message 1..n.

    Examples:
        >>> window_labels(4, 0, None, window=2)
        [0, 0, 0, 0]
        >>> window_labels(4, 1, None, window=2)
        [1, 1, 1, 1]
        >>> window_labels(5, 1, [False, True, False, False, False], window=2)
        [0, 1, 1, 0, 0]
    """
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    if not label:
        return [0] * n_messages
    if flags is None:
        return [1] * n_messages
    if len(flags) != n_messages:
        raise ValueError(f"{len(flags)} message labels for {n_messages} messages")
    out: list[int] = []
    last_flag = -(10**9)
    for k, flag in enumerate(flags):
        if flag:
            last_flag = k
        out.append(int(k - last_flag < window))
    return out


def sample_windows(
    lengths: Sequence[int],
    labels: Sequence[int],
    message_labels: Sequence[Sequence[bool] | None] | None,
    window: int,
    max_windows: int,
    seed: int,
) -> list[WindowExample]:
    """Return up to ``max_windows`` training windows drawn uniformly (seeded) from all of them.

    Examples:
        >>> picked = sample_windows([3, 2], [1, 0], None, window=50, max_windows=10, seed=0)
        >>> sorted((w.conversation, w.end, w.label) for w in picked)
        [(0, 1, 1), (0, 2, 1), (0, 3, 1), (1, 1, 0), (1, 2, 0)]
    """
    if len(lengths) != len(labels):
        raise ValueError(f"{len(labels)} labels for {len(lengths)} conversations")
    if message_labels is not None and len(message_labels) != len(lengths):
        n = len(message_labels)
        raise ValueError(f"message labels for {n} of {len(lengths)} conversations")
    examples: list[WindowExample] = []
    for c, (n, y) in enumerate(zip(lengths, labels, strict=True)):
        flags = None if message_labels is None else message_labels[c]
        for end, label in enumerate(window_labels(n, int(y), flags, window), start=1):
            examples.append(WindowExample(c, end, label))
    if len(examples) > max_windows:
        examples = random.Random(seed).sample(examples, max_windows)
    return examples


def split_validation(
    n_conversations: int, labels: Sequence[int], fraction: float, seed: int
) -> tuple[list[int], list[int]]:
    """Split conversation positions into training and validation, stratified by label.

    Whole conversations go one way or the other, so no window of a validation conversation is
    trained on. Each class keeps at least one conversation on each side when it has two.

    Examples:
        >>> train, val = split_validation(10, [0, 1] * 5, fraction=0.2, seed=0)
        >>> len(train), len(val), sorted({[0, 1][i % 2] for i in val})
        (8, 2, [0, 1])
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation_fraction must be in (0, 1), got {fraction}")
    rng = random.Random(seed)
    train: list[int] = []
    val: list[int] = []
    for cls in sorted(set(int(y) for y in labels)):
        members = [i for i in range(n_conversations) if int(labels[i]) == cls]
        rng.shuffle(members)
        k = round(len(members) * fraction)
        k = min(max(k, 1), len(members) - 1) if len(members) >= 2 else 0
        val.extend(members[:k])
        train.extend(members[k:])
    return sorted(train), sorted(val)
