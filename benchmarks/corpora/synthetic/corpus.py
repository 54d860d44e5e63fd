"""The synthetic corpus as a :class:`Corpus`: generated once, cached by its fingerprint."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

from benchmarks.corpora.base import Corpus, CorpusInfo, build_dataset

log = logging.getLogger(__name__)

DESCRIPTION = (
    "groombench's seeded synthetic grooming corpus: grooming behaviours without sexual content, "
    "hard negatives that share surface cues, stage labels with onset and escalation, chat-time "
    "gaps, style noise, author-disjoint train/test splits (docs/synthetic.md)."
)
LIMITATIONS = (
    "synthetic: a harness-validation and stress corpus, not a substitute for real data; "
    "scores on it say nothing about real-world accuracy",
)


def load_synthetic(
    n_conversations: int = 4000,
    *,
    seed: int = 0,
    positive_fraction: float = 0.3,
    hard_negative_fraction: float = 0.5,
    test_fraction: float = 0.3,
    name: str = "synthetic",
    cache_dir: str | None = None,
    version: int = 2,
) -> Corpus:
    """Generate (or reuse from the cache) the synthetic corpus.

    The same arguments always give the same records and the same fingerprint. ``version``
    2 (default) matches the classes' shapes and holds phrasing out of training; 1 is the
    original corpus, its fingerprint unchanged (docs/synthetic.md).
    """
    from benchmarks.corpora.synthetic import VERSIONS, fingerprint, generate_records

    if version not in VERSIONS:
        raise ValueError(f"corpus.version must be one of {sorted(VERSIONS)}, got {version!r}")

    if n_conversations < 1:
        raise ValueError(f"corpus.n_conversations must be >= 1, got {n_conversations}")
    options: dict[str, Any] = {
        "n_conversations": int(n_conversations),
        "seed": int(seed),
        "positive_fraction": float(positive_fraction),
        "hard_negative_fraction": float(hard_negative_fraction),
        "test_fraction": float(test_fraction),
    }
    # One source of truth: the generator's own fingerprint covers its version and every argument.
    corpus_fingerprint = fingerprint(**options, version=int(version))

    def generate(**kwargs: Any) -> Iterator[dict[str, Any]]:
        yield from generate_records(kwargs.pop("n_conversations"), **kwargs)

    if int(version) != 1:
        options["version"] = int(version)

    started = time.perf_counter()
    dataset = build_dataset(generate, corpus_fingerprint, cache_dir, options)
    log.info(
        "synthetic corpus ready: %d conversations in %.1fs",
        len(dataset),
        time.perf_counter() - started,
    )
    info = CorpusInfo(
        name=name,
        version=VERSIONS[int(version)],
        description=DESCRIPTION,
        licence="Apache-2.0 (generated text)",
        citation=f"groombench synthetic corpus v{int(version)}",
        limitations=LIMITATIONS,
    )
    return Corpus(info=info, dataset=dataset, fingerprint=corpus_fingerprint)
