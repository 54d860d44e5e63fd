"""The shortcut audit: what trivial baselines score on a split, for any corpus.

A corpus can be won without detecting grooming: positives may be longer, have a more active
author, last longer, or repeat sentences seen in training. Before any detector is compared,
the split is scored by five baselines, each by ROC-AUC (0.5 = worthless):

- ``length``: the number of messages;
- ``top_author_messages``: the most active author's message count;
- ``duration``: chat seconds from the first to the last message (conversations with a clock);
- ``mean_message_length``: characters per message (long scripted lines can give a class away);
- ``memorizer``: the exact lines seen only in the training split's positives
  (:class:`detectors.classical.controls.MemorizerDetector`), when the corpus has a training
  split other than the scored one.

A baseline far above 0.5 means plain ROC-AUC on this split partly measures that shortcut;
compare detectors on the length-controlled metrics (``roc_auc_length_matched``,
``roc_auc_first_<k>``) as well. The audit goes into ``groombench-prepare``'s output, each
``results.json`` (``corpus.shortcuts``) and the report card's data section.
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.corpora.base import Corpus
from benchmarks.metrics.classification import roc_auc
from benchmarks.staging import prefix as staging_prefix

log = logging.getLogger(__name__)

#: Bump when the audit changes: cached audits of older versions are then ignored.
VERSION = "3"
#: A baseline scoring above this ROC-AUC is called out.
WARN_AT = 0.6

DEFINITIONS: dict[str, str] = {
    "length": "ROC-AUC of the conversations' message counts.",
    "top_author_messages": "ROC-AUC of the most active author's message count.",
    "duration": "ROC-AUC of the chat seconds from the first to the last message, over "
    "conversations with a usable clock.",
    "mean_message_length": "ROC-AUC of the conversations' mean message length in characters.",
    "memorizer": "ROC-AUC of the memorizer control (exact lines seen only in the training "
    "split's positives, 1 - 2^-hits) trained on the training split.",
}


def _rows(corpus: Corpus, split: str) -> Iterator[dict[str, Any]]:
    data = corpus.split(split).select_columns(["label", "messages"])
    for batch in data.iter(batch_size=1000):
        for label, messages in zip(batch["label"], batch["messages"], strict=True):
            yield {"label": int(label), "messages": messages}


def shortcut_audit(corpus: Corpus, split: str, train_split: str | None = None) -> dict[str, Any]:
    """Score ``split`` by the trivial baselines; return name → {roc_auc, n} and a warning.

    The audit depends only on the corpus's content and the two split names, so it is kept
    beside the corpus's cache file and computed once for all the jobs of a sweep.

    Args:
        corpus: the loaded corpus.
        split: the split to audit (the scored one).
        train_split: the split the memorizer learns from; skipped when None, equal to
            ``split`` or absent from the corpus.
    """
    cached = _cache_file(corpus, split, train_split)
    if cached is not None and cached.is_file():
        try:
            found: dict[str, Any] = json.loads(cached.read_text(encoding="utf-8"))
            return found
        except (OSError, ValueError):
            pass  # unreadable: compute it again
    audit = _audit(corpus, split, train_split)
    if cached is not None:
        staging = cached.with_name(f"{staging_prefix(cached.stem)}{cached.name}")
        try:
            staging.write_text(json.dumps(audit, sort_keys=True), encoding="utf-8")
            os.replace(staging, cached)
        except OSError:
            staging.unlink(missing_ok=True)
    return audit


def _cache_file(corpus: Corpus, split: str, train_split: str | None) -> Path | None:
    files = corpus.dataset.cache_files
    if not files:
        return None  # an in-memory corpus: nothing to keep
    name = f"shortcuts-v{VERSION}-{split}-{train_split or ''}.json"
    return Path(files[0]["filename"]).parent / name


def _audit(corpus: Corpus, split: str, train_split: str | None) -> dict[str, Any]:
    labels: list[int] = []
    lengths: list[int] = []
    authors: list[int] = []
    sizes: list[float] = []
    durations: list[tuple[int, float]] = []
    for row in _rows(corpus, split):
        messages = row["messages"]
        labels.append(row["label"])
        lengths.append(len(messages))
        counts = Counter(m["author"] for m in messages)
        authors.append(max(counts.values()) if counts else 0)
        sizes.append(sum(len(m["text"] or "") for m in messages) / max(1, len(messages)))
        times = [m["time"] for m in messages if m.get("time") is not None]
        if len(times) >= 2:  # a usable clock: a first and a last message with a time
            durations.append((row["label"], float(times[-1] - times[0])))
    out: dict[str, Any] = {
        "length": {"roc_auc": roc_auc(labels, lengths), "n": len(labels)},
        "top_author_messages": {"roc_auc": roc_auc(labels, authors), "n": len(labels)},
        "mean_message_length": {"roc_auc": roc_auc(labels, sizes), "n": len(labels)},
        "duration": {
            "roc_auc": roc_auc([d[0] for d in durations], [d[1] for d in durations])
            if durations
            else None,
            "n": len(durations),
        },
    }
    if train_split and train_split != split and train_split in corpus.split_names:
        out["memorizer"] = _memorizer(corpus, split, train_split, labels)
    worst = [
        f"{name} {entry['roc_auc']:.3f}"
        for name, entry in out.items()
        if entry.get("roc_auc") is not None and entry["roc_auc"] > WARN_AT
    ]
    out["warning"] = (
        f"shortcuts score above {WARN_AT} ROC-AUC on this split ({', '.join(worst)}): plain "
        "ROC-AUC partly measures them; compare roc_auc_length_matched and roc_auc_first_<k> too"
        if worst
        else ""
    )
    if worst:
        log.warning("%s:%s: %s", corpus.info.name, split, out["warning"])
    return out


def _memorizer(corpus: Corpus, split: str, train_split: str, labels: list[int]) -> dict[str, Any]:
    """The memorizer control's ROC-AUC, streamed: the splits are never held in memory whole.

    The same rule as :class:`detectors.classical.controls.MemorizerDetector` (its
    :func:`~detectors.classical.controls.line_key`): lines seen in training positives and never
    in training negatives; a conversation scores ``1 - 2^-hits``.
    """
    from detectors.classical.controls import line_key

    positive: set[bytes] = set()
    negative: set[bytes] = set()
    for row in _rows(corpus, train_split):
        target = positive if row["label"] else negative
        target.update(line_key(m["text"] or "") for m in row["messages"])
    lines = positive - negative
    del positive, negative
    scores = [
        1.0 - 0.5 ** sum(line_key(m["text"] or "") in lines for m in row["messages"])
        for row in _rows(corpus, split)
    ]
    return {"roc_auc": roc_auc(labels, scores), "n": len(scores), "trained_on": train_split}
