"""Shards without Ray: the hash assignment, the atomic store, and a merge that refuses gaps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.causality import CausalityUnverified
from benchmarks.runner import RunnerConfig, causality_picks
from benchmarks.scaleout.shards import MergeError, ShardStore, assign, merge, merge_causality
from benchmarks.traces import TraceRow, Traces


def row(conversation_id: str, score: float = 0.5) -> TraceRow:
    return TraceRow(
        conversation_id, 1, 2, None, None, [1, 2], [score, score], [0.0, 1.0], None, 0.1
    )


def traces(*ids: str, causality: dict[str, object] | None = None) -> Traces:
    return Traces.from_rows([row(i) for i in ids], causality=causality or {})


IDS = [f"c{i:03d}" for i in range(60)]


def test_a_conversation_lands_in_the_same_shard_whatever_the_order_or_neighbours() -> None:
    forward = assign(IDS, 7)
    backward = assign(IDS[::-1], 7)
    by_id = {IDS[p]: s for s, part in enumerate(forward) for p in part}
    assert {IDS[::-1][p]: s for s, part in enumerate(backward) for p in part} == by_id
    half = assign(IDS[:30], 7)  # another corpus sharing conversations: same shards for them
    assert all(by_id[IDS[p]] == s for s, part in enumerate(half) for p in part)
    assert all(part for part in forward)  # 60 ids fill every one of 7 shards


def test_the_causality_sample_does_not_depend_on_order_or_shards() -> None:
    config = RunnerConfig(causality_sample=0.1, causality_min=5)
    picks = causality_picks(IDS, config)
    assert len(picks) == 6 and picks == causality_picks(IDS[::-1], config)


def test_the_merge_puts_shards_back_in_corpus_order() -> None:
    parts = assign(IDS, 3)
    shards = [traces(*(IDS[p] for p in part)) for part in parts]
    merged = merge(shards[::-1], IDS, max_unchecked=0.05, allow_unverified=False)
    assert merged.column("conversation_id") == IDS


@pytest.mark.parametrize(
    ("shards", "message"),
    [
        ([IDS[:30], IDS[31:]], "1 conversation.s. missing"),
        ([IDS[:31], IDS[30:]], "1 scored twice"),
        ([IDS, ["stray"]], "1 not in the split"),
    ],
)
def test_the_merge_refuses_a_gap_a_double_or_a_stranger(
    shards: list[list[str]], message: str
) -> None:
    with pytest.raises(MergeError, match=message):
        merge([traces(*s) for s in shards], IDS, max_unchecked=0.05, allow_unverified=False)


def test_unverified_is_decided_on_the_whole_split_not_per_shard() -> None:
    def fast(sampled: int, unchecked: int) -> dict[str, object]:
        return {"mode": "fast", "sampled": sampled, "unchecked": unchecked, "tolerance": 1e-9}

    # One shard alone is over 5 %, the split is not.
    record = merge_causality([fast(2, 1), fast(38, 0)], 0.05, False)
    assert record["verified"] and record["checked"] == 39 and record["sampled"] == 40
    with pytest.raises(CausalityUnverified):
        merge_causality([fast(2, 1), fast(10, 1)], 0.05, False)
    assert not merge_causality([fast(2, 1), fast(10, 1)], 0.05, True)["verified"]
    assert not merge_causality([fast(0, 0)], 0.05, False)["verified"]  # nothing re-checked
    with pytest.raises(MergeError, match="different causality modes"):
        merge_causality([fast(2, 0), {"mode": "strict", "checked": 3}], 0.05, False)


def test_a_shard_file_is_written_whole_and_read_back_with_its_record(tmp_path: Path) -> None:
    store = ShardStore(tmp_path / "store", 7)
    shard = Traces.from_rows(
        [row("a"), row("b")],
        error_details=[("b", "ValueError: no")],
        causality={"mode": "strict", "checked": 1},
    )
    store.write(3, shard, {"node": "n1", "usage": {"calls": 2.0}})
    assert store.finished() == [3]
    assert [p.name for p in (tmp_path / "store").iterdir() if p.name.startswith(".")] == []
    back, info = store.read(3)
    assert back.table.drop(["seconds"]).equals(shard.table.drop(["seconds"]))
    assert back.error_details == (("b", "ValueError: no"),)
    assert back.causality == {"mode": "strict", "checked": 1}
    assert info["usage"] == {"calls": 2.0} and info["n_shards"] == 7
    lines = store.errors_path(3).read_text().splitlines()
    assert [json.loads(line)["conversation_id"] for line in lines] == ["b"]
