"""Seeded, author-disjoint splits: disjoint, deterministic, near the fraction, both labels."""

from __future__ import annotations

import random
from typing import Any

import pytest

from benchmarks.corpora.splitting import assign_splits, author_components


def corpus(n: int = 200, seed: int = 0, shared: float = 0.3) -> list[dict[str, Any]]:
    """Conversations of two authors; a share of them reuse an earlier author."""
    rng = random.Random(seed)
    records: list[dict[str, Any]] = []
    for i in range(n):
        first = f"u{rng.randrange(i)}" if i and rng.random() < shared else f"u{i}"
        authors = [first, f"v{i}"]
        records.append(
            {
                "conversation_id": f"c{i}",
                "label": int(rng.random() < 0.25),
                "messages": [{"author": authors[k % 2]} for k in range(4)],
            }
        )
    return records


def authors(records: list[dict[str, Any]], split: str) -> set[str]:
    return {m["author"] for r in records if r["split"] == split for m in r["messages"]}


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_no_author_in_both_splits(seed: int) -> None:
    records = corpus(seed=seed)
    assign_splits(records, test_fraction=0.3, seed=seed)
    assert not authors(records, "train") & authors(records, "test")
    assert {r["split"] for r in records} == {"train", "test"}


def test_deterministic_for_a_seed_and_varies_with_it() -> None:
    runs = []
    for seed in (3, 3, 4):
        records = corpus()
        assign_splits(records, seed=seed)
        runs.append([r["split"] for r in records])
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


@pytest.mark.parametrize("fraction", [0.2, 0.3, 0.5])
def test_roughly_the_requested_fraction_with_both_labels(fraction: float) -> None:
    records = corpus(n=400)
    assign_splits(records, test_fraction=fraction, seed=0)
    share = sum(r["split"] == "test" for r in records) / len(records)
    assert abs(share - fraction) < 0.05
    for split in ("train", "test"):
        labels = {r["label"] for r in records if r["split"] == split}
        assert labels == {0, 1}
    positives = [r for r in records if r["label"] == 1]
    positive_share = sum(r["split"] == "test" for r in positives) / len(positives)
    assert abs(positive_share - fraction) < 0.1


def test_tiny_corpus_still_gets_both_labels_in_both_splits() -> None:
    records = [
        {"label": i % 2, "messages": [{"author": f"a{i}"}, {"author": f"b{i}"}]} for i in range(4)
    ]
    assign_splits(records, test_fraction=0.1, seed=0)
    for split in ("train", "test"):
        assert {r["label"] for r in records if r["split"] == split} == {0, 1}


def test_one_connected_component_lands_in_one_split_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    records = [{"label": i % 2, "messages": [{"author": "same"}]} for i in range(6)]
    assign_splits(records, test_fraction=0.5)
    assert len({r["split"] for r in records}) == 1
    assert "one connected component" in caplog.text


def test_components_join_transitively() -> None:
    msgs = [["a", "b"], ["c", "d"], ["b", "c"], ["e"], []]
    records = [{"messages": [{"author": x} for x in m]} for m in msgs]
    assert author_components(records) == [[0, 1, 2], [3], [4]]


def test_bad_fraction_is_refused() -> None:
    with pytest.raises(ValueError, match="test_fraction"):
        assign_splits([], test_fraction=1.5)


def test_warns_when_a_split_gets_no_positives(caplog: pytest.LogCaptureFixture) -> None:
    # Five positives share one decoy author: one component, which lands in a single split.
    records = [
        {"label": 1, "messages": [{"author": "decoy"}, {"author": f"p{i}"}]} for i in range(5)
    ]
    records += [
        {"label": 0, "messages": [{"author": f"n{i}"}, {"author": f"m{i}"}]} for i in range(95)
    ]
    with caplog.at_level("WARNING"):
        assign_splits(records, test_fraction=0.3, seed=0)
    assert "only label 0" in caplog.text
