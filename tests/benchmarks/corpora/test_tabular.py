"""Parquet and CSV exports: column mapping, grouping, bad values that say where, configs, CLI."""

from __future__ import annotations

import csv
import json
import random
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hydra import compose, initialize_config_module

from benchmarks.components import build
from benchmarks.corpora.base import Corpus
from benchmarks.corpora.jsonl import CorpusFileError
from benchmarks.corpora.tabular import load_table, read_table
from benchmarks.errors import ConfigError
from benchmarks.jobplan import Component
from benchmarks.schema import FEATURES, validate_record
from tests.helpers import cli, neutral_conversation

HEADER = ["conversation_id", "author", "text", "label", "time"]


def rows(n: int = 40, seed: int = 0) -> list[dict[str, Any]]:
    """Neutral message rows of ``n`` conversations, interleaved in pairs, both labels."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for i in range(n):
        for m in neutral_conversation(rng, rng.randint(2, 8)):
            out.append(
                {
                    "conversation_id": f"k{i}",
                    "author": f"{m.author}_{i}",
                    "text": m.text,
                    "label": i % 2,
                    "time": m.time,
                    "stages": ["rapport"] if i % 2 else [],
                }
            )
    return out


def write_csv(path: Path, n: int = 40, seed: int = 0) -> Path:
    """Write a small neutral CSV export (epoch times as text, ``;``-separated stages)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*HEADER, "stages"])
        for r in rows(n, seed):
            writer.writerow([*(r[k] for k in HEADER), ";".join(r["stages"])])
    return path


def write_parquet(path: Path, n: int = 40, seed: int = 0) -> Path:
    """Write a small neutral Parquet export (timestamp times, list stages, int labels)."""
    data = rows(n, seed)
    table = pa.table(
        {
            **{k: [r[k] for r in data] for k in ("conversation_id", "author", "text", "label")},
            "time": pa.array(
                [datetime.fromtimestamp(r["time"], UTC) for r in data], pa.timestamp("s", "UTC")
            ),
            "stages": pa.array([r["stages"] for r in data], pa.list_(pa.string())),
        }
    )
    pq.write_table(table, path)
    return path


def write(path: Path, header: list[str], *lines: list[Any]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(lines)
    return path


@pytest.mark.parametrize("writer", [write_csv, write_parquet])
def test_both_formats_load_the_same_records(tmp_path: Path, writer: Any) -> None:
    path = writer(tmp_path / f"export.{'csv' if writer is write_csv else 'parquet'}")
    corpus = load_table(str(path), cache_dir=str(tmp_path / "cache"))
    assert corpus.dataset.features == FEATURES
    assert len(corpus.dataset) == 40 and set(corpus.split_names) == {"train", "test"}
    row = corpus.dataset[1]
    assert row["conversation_id"] == "k1" and row["label"] == 1
    assert [m["index"] for m in row["messages"]] == list(range(1, len(row["messages"]) + 1))
    assert row["messages"][0]["stages"] == ["rapport"] and row["source"] == path.name
    for record in corpus.dataset:
        validate_record(record)
    expected = [r["time"] for r in rows() if r["conversation_id"] == "k1"]
    assert [m["time"] for m in row["messages"]] == expected


def test_mapping_grouping_and_optional_columns(tmp_path: Path) -> None:
    path = write(
        tmp_path / "m.csv",
        ["chat", "who", "body", "y", "when", "tags", "bad", "part", "lang", "app"],
        ["c2", "x", "hello", "true", "2024-01-01T10:00:00", "", "0", "train", "", ""],
        ["c1", "a", "hi", "1", "1704103200", "rapport|secrecy", "1", "test", "de", "chatapp"],
        ["c2", "y", "", "true", "2024-01-01T10:01:00Z", "", "0", "train", "en", ""],
        ["c1", "b", "hey", "1", "", "", "0", "test", "", "other"],
    )
    mapping = {
        "conversation_id": "chat",
        "author": "who",
        "text": "body",
        "label": "y",
        "time": "when",
        "stages": "tags",
        "groomer": "bad",
        "split": "part",
        "language": "lang",
        "platform": "app",
    }
    records, skipped, has_splits = read_table(path, columns=mapping)
    assert skipped == 0 and has_splits
    assert [r["conversation_id"] for r in records] == ["c2", "c1"]  # order of first row
    c2, c1 = records
    assert [m["text"] for m in c2["messages"]] == ["hello", ""]
    assert [m["time"] for m in c2["messages"]] == [1704103200.0, 1704103260.0]
    assert c2["split"] == "train" and c2["language"] == "en" and c2["groomer_ids"] == []
    assert c1["groomer_ids"] == ["a"] and c1["language"] == "de"
    assert c1["messages"][0]["stages"] == ["rapport", "secrecy"] and c1["onset"] == 1
    assert json.loads(c1["meta"]) == {"platform": "chatapp"}
    assert c1["messages"][1]["time"] is None


def test_groomer_ids_column_and_list_cells(tmp_path: Path) -> None:
    table = pa.table(
        {
            "conversation_id": [7, 7, 8],
            "author": ["a", "b", "c"],
            "text": ["hi", None, "yo"],
            "label": [True, True, False],
            "groomer_ids": [["a"], None, []],
            "source": ["s1", "s1", None],
        }
    )
    pq.write_table(table, tmp_path / "g.parquet")
    records, _, has_splits = read_table(tmp_path / "g.parquet")
    assert not has_splits
    assert records[0]["conversation_id"] == "7" and records[0]["groomer_ids"] == ["a"]
    assert records[0]["messages"][1]["text"] == "" and records[0]["source"] == "s1"
    assert records[1]["source"] == "g.parquet" and records[1]["label"] == 0


GOOD = ["c1", "a", "hi", "1", "100"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            ["c1", "b", "yo", "0", "200"],
            r"row 2, column 'label' \(label\): 0 differs from 1 on row 1",
        ),
        (["c1", "b", "yo", "2", "200"], r"row 2, column 'label' \(label\): '2' is not a label"),
        (["c1", "b", "yo", "", "200"], r"row 2, column 'label'.*is empty"),
        (["c1", "", "yo", "1", "200"], r"row 2, column 'author' \(author\): is empty"),
        (["", "b", "yo", "1", "200"], r"row 2, column 'conversation_id'.*is empty"),
        (["c1", "b", "yo", "1", "noon"], r"row 2, column 'time' \(time\):.*neither epoch"),
        (["c1", "b", "yo", "1", "50"], r"row 2, column 'time'.*earlier than the previous"),
    ],
)
def test_bad_value_names_file_row_and_column(
    tmp_path: Path, line: list[str], expected: str
) -> None:
    path = write(tmp_path / "bad.csv", HEADER, GOOD, line)
    with pytest.raises(CorpusFileError, match=expected) as caught:
        read_table(path)
    assert "bad.csv: row 2" in str(caught.value)


def test_bad_stage_split_and_flag(tmp_path: Path) -> None:
    header = [*HEADER, "stages", "split", "groomer"]
    cases = [
        (["c1", "b", "y", "1", "2", "hugs", "test", "0"], r"column 'stages'.*unknown stage"),
        (["c1", "b", "y", "1", "2", "", "train", "0"], r"column 'split'.*differs from 'test'"),
        (["c1", "b", "y", "1", "2", "", "test", "maybe"], r"column 'groomer'.*not true/false"),
    ]
    for line, expected in cases:
        path = write(tmp_path / "b.csv", header, [*GOOD, "", "test", "0"], line)
        with pytest.raises(CorpusFileError, match=expected):
            read_table(path)


def test_missing_column_says_which_and_lists_present(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", ["chat", "author", "body", "label"], ["c1", "a", "hi", "0"])
    with pytest.raises(CorpusFileError) as caught:
        read_table(path)
    message = str(caught.value)
    assert "no column 'conversation_id' (the default name) for 'conversation_id'" in message
    assert "corpus.columns.conversation_id" in message
    assert "columns present: chat, author, body, label" in message
    mapping = {"conversation_id": "chat", "text": "body", "time": "stamp"}
    with pytest.raises(CorpusFileError, match=r"no column 'stamp' for 'time'"):
        read_table(path, columns=mapping)
    records, _, _ = read_table(path, columns={"conversation_id": "chat", "text": "body"})
    assert records[0]["messages"][0]["text"] == "hi"
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['body'\]"):
        read_table(path, columns={"body": "text"})


def test_skip_mode_drops_and_counts_bad_conversations(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.csv",
        HEADER,
        GOOD,
        ["c2", "a", "hi", "x", "1"],
        ["c3", "a", "hi", "0", "1"],
        ["c2", "b", "ok", "1", "2"],
        ["c3", "b", "ok", "1", "2"],
        ["c4", "a", "hi", "0", "1"],
    )
    records, skipped, _ = read_table(path, on_error="skip")
    assert skipped == 2 and [r["conversation_id"] for r in records] == ["c1", "c4"]
    corpus = load_table(str(path), on_error="skip", cache_dir=str(tmp_path / "c"))
    assert "2 bad conversation(s) skipped" in corpus.info.limitations


def test_malformed_files_wrong_encoding_and_format(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("conversation_id,author,text,label\nc1,a,hi,0\nc1,b,yo,0,extra\n")
    with pytest.raises(
        CorpusFileError,
        match=r"m\.csv \(line 3\): not a readable csv file.*4 columns, got 5",
    ):
        read_table(path)
    path.write_bytes("conversation_id,author,text,label\nc1,a,caf\xe9,0\n".encode("latin-1"))
    with pytest.raises(CorpusFileError, match="not UTF-8"):
        read_table(path)
    broken = tmp_path / "b.parquet"
    broken.write_bytes(b"PAR1 not really")
    with pytest.raises(CorpusFileError, match=r"b\.parquet: not a readable parquet file"):
        read_table(broken)
    with pytest.raises(ConfigError, match=r"set corpus\.format"):
        read_table(write_csv(tmp_path / "export.txt"))
    assert read_table(tmp_path / "export.txt", format="csv")[0]
    with pytest.raises(ConfigError, match=r"missing\.csv does not exist; expected a Parquet"):
        load_table(str(tmp_path / "missing.csv"))


def test_fingerprint_follows_content_mapping_and_seed(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "e.csv", n=10)
    cache = str(tmp_path / "cache")
    first = load_table(str(path), cache_dir=cache)
    assert load_table(str(path), cache_dir=cache).fingerprint == first.fingerprint
    assert load_table(str(path), seed=5, cache_dir=cache).fingerprint != first.fingerprint
    remapped = load_table(str(path), columns={"stages": None}, cache_dir=cache)
    assert remapped.fingerprint != first.fingerprint
    write_csv(path, n=11)
    changed = load_table(str(path), cache_dir=cache)
    assert changed.fingerprint != first.fingerprint and len(changed.dataset) == 11


@pytest.mark.parametrize(("name", "writer"), [("csv", write_csv), ("parquet", write_parquet)])
def test_config_builds_the_corpus(name: str, writer: Any, tmp_path: Path) -> None:
    path = writer(tmp_path / f"export.{name}", n=30)
    with initialize_config_module("configs", version_base="1.3"):
        cfg = compose(
            "groombench",
            overrides=[f"corpus={name}", f"paths.root={tmp_path}", f"corpus.path={path}"],
        )
    corpus = build(Component.of(cfg.corpus))
    assert isinstance(corpus, Corpus) and corpus.info.name == name
    assert corpus.dataset.features == FEATURES
    ids = corpus.dataset["conversation_id"]
    assert len(ids) == len(set(ids)) == 30
    assert {"train", "test"} <= set(corpus.split_names)


def test_config_columns_are_mapped_from_the_command_line(tmp_path: Path) -> None:
    path = write(
        tmp_path / "x.csv",
        ["chat", "author", "body", "label", "split"],
        *[[f"c{i}", f"a{i}", "hi", str(i % 2), "not-a-split-name"] for i in range(8)],
    )
    overrides = [
        "corpus=csv",
        f"paths.root={tmp_path}",
        f"corpus.path={path}",
        "corpus.columns.conversation_id=chat",
        "corpus.columns.text=body",
        "corpus.columns.split=null",
    ]
    with initialize_config_module("configs", version_base="1.3"):
        cfg = compose("groombench", overrides=overrides)
    corpus = build(Component.of(cfg.corpus))
    assert corpus.split_names == ["test", "train"]
    assert corpus.dataset[0]["messages"][0]["text"] == "hi"


def test_cli_end_to_end_on_a_csv(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "chats.csv", n=60)
    args = ("detector=lexicon", "tracking=none", "runner.progress=false")
    out = cli(tmp_path, "corpus=csv", f"corpus.path={path}", *args)
    assert out.returncode == 0, out.stderr[-3000:]
    results = sorted((tmp_path / "runs" / "outputs").glob("**/results.json"))
    assert len(results) == 1
    data = json.loads(results[0].read_text())
    assert data["corpus"]["name"] == "csv" and data["corpus"]["split"] == "test"


def _parquet(path: Path, **columns: Any) -> Path:
    base: dict[str, Any] = {
        "conversation_id": ["c1", "c1"],
        "author": ["a", "b"],
        "text": ["hello there", "fine thanks"],
        "label": [0, 0],
    }
    pq.write_table(pa.table(base | columns), path)
    return path


def test_parquet_binary_cells_are_decoded_or_refused_with_row_and_column(tmp_path: Path) -> None:
    good = _parquet(
        tmp_path / "b.parquet",
        conversation_id=pa.array([b"c1", b"c1"], pa.binary()),
        text=pa.array([b"hello there", b"fine"], pa.binary()),
    )
    records, _, _ = read_table(good)
    assert records[0]["conversation_id"] == "c1"  # not "b'c1'"
    assert [m["text"] for m in records[0]["messages"]] == ["hello there", "fine"]
    bad = _parquet(tmp_path / "x.parquet", text=pa.array([b"hello", b"he\xfflo"], pa.binary()))
    with pytest.raises(CorpusFileError) as caught:
        read_table(bad)
    message = str(caught.value)
    assert "row 2, column 'text' (text): holds bytes that are not UTF-8 (byte 0xff" in message
    assert "hello" not in message


@pytest.mark.parametrize(
    ("column", "values", "expected"),
    [
        ("text", pa.array([["a"], ["b"]]), "row 1, column 'text' (text): holds a list"),
        ("author", pa.array([{"x": 1}, {"x": 2}]), "column 'author' (author): holds a struct"),
        ("conversation_id", pa.array([float("nan"), 1.0]), "row 1, column 'conversation_id'"),
        ("stages", pa.array([[["rapport"]], [[]]]), "holds a nested list"),
    ],
)
def test_parquet_lists_structs_and_nan_are_not_made_reprs(
    tmp_path: Path, column: str, values: pa.Array, expected: str
) -> None:
    path = _parquet(tmp_path / "v.parquet", **{column: values})
    with pytest.raises(CorpusFileError, match=re.escape(expected)):
        read_table(path)
    assert read_table(path, on_error="skip")[1] >= 1


def test_nan_text_is_an_empty_message_not_the_word_nan(tmp_path: Path) -> None:
    path = _parquet(tmp_path / "n.parquet", text=pa.array([float("nan"), 2.5]))
    records, _, _ = read_table(path)
    assert [m["text"] for m in records[0]["messages"]] == ["", "2.5"]


def test_a_tiny_parquet_that_decodes_to_gigabytes_is_refused(tmp_path: Path) -> None:
    # One long value referenced by every row: a few KB on disk, 3 GiB once decoded.
    rows = 3000
    text = pa.DictionaryArray.from_arrays(pa.array([0] * rows, pa.int32()), ["x" * (1 << 20)])
    table = pa.table(
        {
            "conversation_id": ["c1"] * rows,
            "author": ["a"] * rows,
            "text": text,
            "label": [0] * rows,
        }
    )
    bomb = tmp_path / "bomb.parquet"
    pq.write_table(table, bomb, compression="zstd")
    assert bomb.stat().st_size < 100_000
    with pytest.raises(
        CorpusFileError, match=r"decode to more than 2048 MiB .*max_decompressed_mb"
    ):
        read_table(bomb)
    # Plain pages that decompress past the limit are refused from the footer, before reading.
    plain = tmp_path / "plain.parquet"
    _parquet(plain, text=["y" * (3 << 20), "z"])
    with pytest.raises(CorpusFileError, match="decompress to more than 1 MiB"):
        read_table(plain, max_decompressed_mb=1)
    assert read_table(plain)[0]  # within the default


def test_csv_duplicate_header_huge_cells_and_quiet_parse_errors(tmp_path: Path) -> None:
    twice = tmp_path / "twice.csv"
    twice.write_text("conversation_id,author,text,label,text\nc1,a,hi,0,yo\n")
    with pytest.raises(CorpusFileError, match=r"twice\.csv: column\(s\) 'text' appear more than"):
        read_table(twice)
    huge = tmp_path / "huge.csv"
    huge.write_text(f"conversation_id,author,text,label\nc1,a,{'x' * (3 << 20)},0\nc1,b,yo,0\n")
    records, _, _ = read_table(huge)
    assert len(records[0]["messages"][0]["text"]) == 3 << 20
    quoted = tmp_path / "quoted.csv"
    quoted.write_text("conversation_id,author,text,label\nc1,a,some private words,0,extra\n")
    with pytest.raises(CorpusFileError) as caught:
        read_table(quoted)
    assert "(line 2)" in str(caught.value) and "Expected 4 columns, got 5" in str(caught.value)
    assert "private" not in str(caught.value)


def test_csv_bad_value_message_is_bounded(tmp_path: Path) -> None:
    path = write(
        tmp_path / "l.csv",
        ["conversation_id", "author", "text", "label"],
        ["c1", "a", "hi", "9" * 100_000],
    )
    with pytest.raises(CorpusFileError) as caught:
        read_table(path)
    assert "row 1, column 'label' (label)" in str(caught.value)
    assert len(str(caught.value)) < 400


def test_a_list_cell_of_millions_of_items_is_refused_before_it_is_read(tmp_path: Path) -> None:
    # Run-length encoded, 3 million items are a few KB on disk; as Python strings, ~200 MB.
    items = pa.array([["rapport"] * 3_000_000, []], pa.list_(pa.string()))
    path = _parquet(tmp_path / "list.parquet", stages=items)
    assert path.stat().st_size < 100_000
    with pytest.raises(CorpusFileError, match="decompress to more than 1 MiB"):
        read_table(path, max_decompressed_mb=1)


def test_parquet_duplicate_columns_and_odd_limits_are_one_line_errors(tmp_path: Path) -> None:
    twice = tmp_path / "twice.parquet"
    columns = ["conversation_id", "author", "text", "label", "text"]
    arrays = [pa.array(["c1"]), pa.array(["a"]), pa.array(["hi"]), pa.array([0]), pa.array(["x"])]
    pq.write_table(pa.Table.from_arrays(arrays, names=columns), twice)
    with pytest.raises(CorpusFileError, match=r"column\(s\) 'text' appear more than once"):
        read_table(twice)
    good = _parquet(tmp_path / "ok.parquet")
    assert read_table(good, max_decompressed_mb=0.5)[0]  # a fraction of a MiB is a limit too
    for bad in ("10", 0, -1, True):
        with pytest.raises(ConfigError, match="max_decompressed_mb must be a positive number"):
            read_table(good, max_decompressed_mb=bad)  # type: ignore[arg-type]
