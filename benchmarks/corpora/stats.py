"""Distribution statistics of any corpus of schema records (``groombench-prepare`` prints them).

:func:`describe` works on any records of the schema (synthetic or real), so the numbers in
``docs/synthetic.md`` can be regenerated and compared with a real corpus loaded by the harness.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise
from typing import Any

import numpy as np

#: Percentiles reported for every distribution.
PERCENTILES: tuple[int, ...] = (5, 25, 50, 75, 95, 99)


def quantiles(values: Sequence[float]) -> dict[str, float]:
    """Return count, mean, the :data:`PERCENTILES` and max of ``values`` (NaN when empty).

    Examples:
        >>> q = quantiles([1, 2, 3, 4])
        >>> q["n"], q["mean"], q["p50"], q["max"]
        (4.0, 2.5, 2.5, 4.0)
    """
    if not values:
        nan = float("nan")
        return {"n": 0.0, "mean": nan, **{f"p{p}": nan for p in PERCENTILES}, "max": nan}
    array = np.asarray(values, dtype=float)
    points = np.percentile(array, PERCENTILES)
    return {
        "n": float(array.size),
        "mean": float(array.mean()),
        **{f"p{p}": float(v) for p, v in zip(PERCENTILES, points, strict=True)},
        "max": float(array.max()),
    }


def _share(part: float, whole: float) -> float:
    return part / whole if whole else float("nan")


def describe(records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Return length, stage, gap and split statistics of ``records``.

    Args:
        records: schema records (a list, a generator or a ``datasets.Dataset``).

    Returns:
        A JSON-ready dict: counts and shares (of positives with each stage, of positives with
        an escalation, of gaps and conversations with long gaps), and quantile dicts (see
        :func:`quantiles`) for lengths per class, onset and escalation indices (1-based,
        positives only), escalation position relative to length, and gaps between consecutive
        timed messages in seconds.

    Examples:
        >>> from benchmarks.corpora.synthetic import generate_records
        >>> stats = describe(generate_records(200, seed=3))
        >>> stats["conversations"], round(stats["positive_share"], 2)
        (200, 0.3)
    """
    lengths: dict[int, list[float]] = {0: [], 1: []}
    onsets: list[float] = []
    escalations: list[float] = []
    relative: list[float] = []
    gaps: list[float] = []
    hard = 0
    long_gap_conversations = 0
    stage_counts: dict[str, int] = {}
    splits: dict[str, set[str]] = {}
    split_counts: dict[str, int] = {}
    groomers: set[str] = set()
    empty_texts = one_author = only_empty = 0
    for record in records:
        messages = record["messages"]
        empty = sum(not (m["text"] or "").strip() for m in messages)
        empty_texts += empty
        only_empty += bool(messages) and empty == len(messages)
        one_author += len({m["author"] for m in messages}) == 1
        label = int(record["label"])
        lengths[label].append(len(messages))
        split = str(record.get("split", ""))
        split_counts[split] = split_counts.get(split, 0) + 1
        splits.setdefault(split, set()).update(m["author"] for m in messages)
        if label:
            groomers.update(record.get("groomer_ids") or ())
            seen = {stage for m in messages for stage in m.get("stages") or ()}
            for stage in seen:
                stage_counts[stage] = stage_counts.get(stage, 0) + 1
            if record.get("onset") is not None:
                onsets.append(record["onset"])
            if record.get("escalation") is not None:
                escalations.append(record["escalation"])
                relative.append(record["escalation"] / len(messages))
        elif json.loads(record.get("meta") or "{}").get("hard_negative"):
            hard += 1
        times = [m["time"] for m in messages if m.get("time") is not None]
        conversation_gaps = [b - a for a, b in pairwise(times)]
        gaps.extend(conversation_gaps)
        long_gap_conversations += any(gap > 1_500 for gap in conversation_gaps)
    everything = lengths[0] + lengths[1]
    n = len(everything)
    n_messages = int(sum(everything))
    gap_array = np.asarray(gaps, dtype=float)
    authors = [a for split in splits.values() for a in split]
    return {
        "conversations": n,
        "messages": n_messages,
        "positive_share": _share(len(lengths[1]), n),
        "hard_negative_share_of_negatives": _share(hard, len(lengths[0])),
        "split_conversations": dict(sorted(split_counts.items())),
        "authors": len(set(authors)),
        "authors_in_several_splits": len(authors) - len(set(authors)),
        "groomers": len(groomers),
        "empty_texts": empty_texts,
        "conversations_with_one_author": one_author,
        "conversations_with_only_empty_texts": only_empty,
        "length": {
            "all": quantiles(everything),
            "positive": quantiles(lengths[1]),
            "negative": quantiles(lengths[0]),
        },
        "share_length_6_to_60": _share(sum(6 <= x <= 60 for x in everything), n),
        "share_length_over_150": _share(sum(x > 150 for x in everything), n),
        "positives_with_escalation": _share(len(escalations), len(lengths[1])),
        "positives_with_stage": {
            stage: _share(count, len(lengths[1])) for stage, count in sorted(stage_counts.items())
        },
        "onset_index": quantiles(onsets),
        "escalation_index": quantiles(escalations),
        "escalation_relative_position": quantiles(relative),
        "gap_seconds": quantiles(gaps),
        "gap_share_over_25_min": _share(float((gap_array > 1_500).sum()), len(gaps)),
        "gap_share_over_1_day": _share(float((gap_array > 86_400).sum()), len(gaps)),
        "conversations_with_gap_over_25_min": _share(long_gap_conversations, n),
    }
