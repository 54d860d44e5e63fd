"""The synthetic corpus: seeded, reproducible grooming and benign chats (DOMAIN §3.5).

Version 2 (the default) gives both classes the same length, duration, turn-taking and message
length, keeps test phrasing out of training and answers questions with lines that fit them;
version 1 (``version=1``, unchanged) is kept for comparison with older results
(docs/synthetic.md).

A harness-validation and stress corpus, not a substitute for real data. Grooming is shown
only through behaviours that child-safety education material describes openly (probing age
and location, risk checks, flattery, secrecy, gifts, isolation, moving apps, asking for a
photo, proposing to meet); it never contains sexual content, and a test scans it against the
blocklist in :mod:`.safety`. Every grooming message carries stage labels, every conversation
its onset and escalation indices, persona metadata and author-disjoint train/test splits.

Examples:
    >>> from benchmarks.corpora.synthetic import generate_records
    >>> [r["label"] for r in generate_records(5, seed=7)] == [
    ...     r["label"] for r in generate_records(5, seed=7)
    ... ]
    True
"""

from __future__ import annotations

from benchmarks.corpora.stats import describe

from .generate import GENERATOR_VERSION, VERSIONS, fingerprint, generate_records
from .safety import find_blocklisted, load_blocklist

__all__ = [
    "GENERATOR_VERSION",
    "VERSIONS",
    "describe",
    "find_blocklisted",
    "fingerprint",
    "generate_records",
    "load_blocklist",
]
