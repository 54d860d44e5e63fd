"""GroomCheck: functional tests of grooming detection (docs/groomcheck.md).

Thirty functional tests of 40 short conversations each (1,200 cases): fifteen grooming tests,
one per stage, stage combination or known weak spot, each linked case by case to a benign
contrast test that shares its surface. Built from hand-written templates with documented slots
(:mod:`~benchmarks.corpora.groomcheck.tests`, :mod:`~benchmarks.corpora.groomcheck.slots`);
no sexual content.
"""

from __future__ import annotations

from benchmarks.corpora.base import Corpus, CorpusInfo, build_dataset
from benchmarks.corpora.groomcheck.build import (
    CASES_PER_TEST,
    SOURCE,
    VERSION,
    fingerprint,
    generate_cases,
)
from benchmarks.corpora.groomcheck.tests import BY_ID, TESTS, FunctionalTest

__all__ = ["BY_ID", "SOURCE", "TESTS", "FunctionalTest", "load_groomcheck"]

DESCRIPTION = (
    "GroomCheck v1: functional tests of grooming detection in the manner of CheckList and "
    "HateCheck; 30 tests of short conversations, grooming cases each linked to a benign "
    "contrast case that shares its surface (docs/groomcheck.md)."
)
CITATION = (
    "groombench contributors. GroomCheck v1: functional tests for online-grooming detectors. "
    "groombench, 2026. Method after Ribeiro et al., ACL 2020 (CheckList) and Röttger et al., "
    "ACL 2021 (HateCheck)."
)
LIMITATIONS = (
    "GroomCheck: template-written test cases; a failure shows a specific weakness, a pass shows "
    "only that these templates were handled, not that real chats will be",
)


def load_groomcheck(
    *,
    name: str = "groomcheck",
    seed: int = 0,
    cases_per_test: int = CASES_PER_TEST,
    cache_dir: str | None = None,
) -> Corpus:
    """Build (or reuse from the cache) GroomCheck's cases: one ``test`` split.

    Args:
        name: the corpus's name (its config file's name).
        seed: draws the slots and small talk; 0 is GroomCheck v1 as published.
        cases_per_test: cases per functional test (40 in v1).
        cache_dir: where the built dataset is kept (keyed by the fingerprint).
    """
    if cases_per_test < 1:
        raise ValueError(f"corpus.cases_per_test must be >= 1, got {cases_per_test}")
    key = fingerprint(int(seed), int(cases_per_test))
    dataset = build_dataset(
        generate_cases,
        key,
        cache_dir,
        {"seed": int(seed), "cases_per_test": int(cases_per_test)},
    )
    info = CorpusInfo(
        name=name,
        version=VERSION,
        description=DESCRIPTION,
        licence="CC BY 4.0, as groombench's documentation",
        citation=CITATION,
        limitations=LIMITATIONS,
    )
    return Corpus(info=info, dataset=dataset, fingerprint=key)
