"""One place that knows how to write a small neutral fixture for every corpus config."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


def _jsonl(tmp: Path) -> list[str]:
    from tests.helpers import write_jsonl

    return [f"corpus.path={write_jsonl(tmp / 'c.jsonl', n=40)}"]


def _pjz(tmp: Path) -> list[str]:
    from tests.benchmarks.corpora.test_pjz import write_pjz

    return [f"corpus.path={write_pjz(tmp / 'pjz.json', n=40)}"]


def _csv(tmp: Path) -> list[str]:
    from tests.benchmarks.corpora.test_tabular import write_csv

    return [f"corpus.path={write_csv(tmp / 'c.csv', n=40)}"]


def _parquet(tmp: Path) -> list[str]:
    from tests.benchmarks.corpora.test_tabular import write_parquet

    return [f"corpus.path={write_parquet(tmp / 'c.parquet', n=40)}"]


def _pan12(tmp: Path) -> list[str]:
    from tests.benchmarks.corpora.pan12_fixtures import write_pan12_splits

    return [f"corpus.path={write_pan12_splits(tmp / 'pan12')}", "corpus.split=all"]


def _panc(tmp: Path) -> list[str]:
    from tests.benchmarks.corpora.test_panc import write_panc

    return [f"corpus.path={write_panc(tmp / 'panc.json', n=40)}"]


OVERRIDES: dict[str, Callable[[Path], list[str]]] = {
    "jsonl": _jsonl,
    "synthetic": lambda tmp: ["corpus.n_conversations=200"],
    "pjz": _pjz,
    "pjzc": _pjz,
    "csv": _csv,
    "parquet": _parquet,
    "pan12": _pan12,
    "panc": _panc,
    # GroomCheck ships its cases; two per test keep a run short. Its detectors train on a small
    # synthetic corpus.
    "groomcheck": lambda tmp: ["corpus.cases_per_test=2", "corpus.train_on.n_conversations=200"],
}


def corpus_overrides(name: str, tmp: Path) -> list[str]:
    """Return the overrides that point corpus ``name`` at a fixture written under ``tmp``."""
    if name not in OVERRIDES:
        raise KeyError(f"tests/corpus_fixtures.py has no fixture for corpus config '{name}'")
    return OVERRIDES[name](tmp)
