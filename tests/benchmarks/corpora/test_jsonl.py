"""The generic JSONL corpus: schema, validation errors that say where, skip mode, fingerprint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.corpora.jsonl import CorpusFileError, load_jsonl, read_jsonl
from benchmarks.schema import FEATURES
from tests.helpers import write_jsonl

GOOD = {
    "conversation_id": "a",
    "label": 1,
    "groomer_ids": ["u1"],
    "messages": [
        {"author": "u1", "text": "hi", "time": "2024-01-01T10:00:00+00:00", "stages": ["rapport"]},
        {"author": "u2", "text": "hey", "time": 1704103300},
        {"author": "u1", "text": "keep it secret", "stages": ["secrecy"]},
    ],
}


def write(path: Path, *lines: object) -> Path:
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    return path


def test_loads_records_of_the_schema(tmp_path: Path) -> None:
    corpus = load_jsonl(str(write(tmp_path / "c.jsonl", GOOD)), cache_dir=str(tmp_path / "cache"))
    assert corpus.dataset.features == FEATURES
    row = corpus.dataset[0]
    assert [m["index"] for m in row["messages"]] == [1, 2, 3]
    assert row["messages"][0]["time"] == 1704103200.0
    assert row["messages"][2]["time"] is None
    assert row["onset"] == 3 and row["escalation"] is None
    assert row["split"] == "test" and row["source"] == "c.jsonl"


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("{not json", "not valid JSON"),
        ({"label": 1, "messages": []}, "'conversation_id'"),
        ({"conversation_id": "x", "messages": []}, "'label'"),
        ({"conversation_id": "x", "label": 2, "messages": []}, "'label'"),
        ({"conversation_id": "x", "label": 0, "messages": [{"text": "hi"}]}, "messages[0].author"),
        (
            {
                "conversation_id": "x",
                "label": 0,
                "messages": [{"author": "a", "text": "hi", "time": "noon"}],
            },
            "messages[0].time",
        ),
        (
            {
                "conversation_id": "x",
                "label": 0,
                "messages": [{"author": "a", "text": "hi", "stages": ["hugs"]}],
            },
            "stages",
        ),
        (
            {"conversation_id": "x", "label": 0, "messages": []},
            "field 'messages' is empty",
        ),
        (
            {
                "conversation_id": "x",
                "label": 0,
                "messages": [
                    {"author": "a", "text": "hi", "time": 1000},
                    {"author": "b", "text": "yo", "time": 10},
                ],
            },
            "messages[1].time' goes back in time",
        ),
        (
            '{"conversation_id": "x", "label": 0, "messages": [{"author": "a", "text": "hi", '
            '"time": Infinity}]}',
            "messages[0].time' must be finite",
        ),
    ],
)
def test_malformed_line_names_file_line_and_field(tmp_path: Path, line: object, field: str) -> None:
    path = write(tmp_path / "bad.jsonl", GOOD, line)
    with pytest.raises(CorpusFileError) as caught:
        read_jsonl(path)
    assert "bad.jsonl:2: " in str(caught.value)
    assert field in str(caught.value)


def test_duplicate_ids_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(CorpusFileError, match=r":2: .*repeats line 1"):
        read_jsonl(write(tmp_path / "d.jsonl", GOOD, GOOD))


def test_skip_mode_counts_and_reports(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.jsonl",
        GOOD,
        "{oops",
        {"conversation_id": "b", "label": 0, "messages": [{"author": "a", "text": ""}]},
    )
    records, skipped = read_jsonl(path, on_error="skip")
    assert skipped == 1 and [r["conversation_id"] for r in records] == ["a", "b"]
    corpus = load_jsonl(str(path), on_error="skip", cache_dir=str(tmp_path / "cache"))
    assert corpus.info.limitations == ("1 malformed line(s) skipped",)


def test_fingerprint_follows_content_not_cache(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "c.jsonl", n=8)
    cache = str(tmp_path / "cache")
    first = load_jsonl(str(path), cache_dir=cache)
    assert load_jsonl(str(path), cache_dir=cache).fingerprint == first.fingerprint
    write_jsonl(path, n=9)
    changed = load_jsonl(str(path), cache_dir=cache)
    assert changed.fingerprint != first.fingerprint
    assert len(changed.dataset) == 9  # a stale cache would still say 8


def test_missing_file_and_unknown_split(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"corpus\.path"):
        load_jsonl(str(tmp_path / "none.jsonl"))
    corpus = load_jsonl(str(write_jsonl(tmp_path / "c.jsonl")), cache_dir=str(tmp_path / "c"))
    with pytest.raises(ValueError, match="available: test, train"):
        corpus.split("validation")


def test_iso_time_without_zone_is_utc(tmp_path: Path) -> None:
    line = {
        "conversation_id": "z",
        "label": 0,
        "messages": [{"author": "a", "text": "hi", "time": "2024-01-01T10:00:00"}],
    }
    records, _ = read_jsonl(write(tmp_path / "z.jsonl", line))
    assert records[0]["messages"][0]["time"] == 1704103200.0


def _one(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "conversation_id": "x",
        "label": 0,
        "messages": [{"author": "a", "text": "hello there"}],
    }
    return base | fields


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (_one(split=5), "field 'split' must be text, got a number"),
        (_one(source=["a"]), "field 'source' must be text, got a list"),
        (_one(groomer_ids=7), "field 'groomer_ids' must be a list of text, got a number"),
        (_one(groomer_ids="u1"), "field 'groomer_ids' must be a list of text, got text"),
        (_one(groomer_ids=["u1", 2]), "field 'groomer_ids[1]' must be text"),
        (
            _one(messages=[{"author": "a", "text": "hi", "stages": 3}]),
            "field 'messages[0].stages' must be a list of text",
        ),
        (
            _one(messages=[{"author": "a", "text": "hi", "stages": {"rapport": 1}}]),
            "field 'messages[0].stages' must be a list of text, got an object",
        ),
        (_one(meta=5), "field 'meta' must be an object"),
        (_one(onset=True), "field 'onset' must be a message index"),
        (_one(label=True), "field 'label' must be 0 or 1"),
        ("[" * 1000 + "]" * 1000, "nested too deeply"),
        ('{"conversation_id": "x", "label": ' + "7" * 5000 + ', "messages": []}', "too long"),
        (
            '{"conversation_id": "x", "label": 0, "messages": [{"author": "a", '
            '"text": "bad \\ud800 half"}]}',
            "field 'messages[0].text' holds a lone surrogate",
        ),
        ("[1, 2]", "must hold one JSON object, got a list"),
    ],
)
def test_every_wrong_type_is_an_error_with_line_and_field(
    tmp_path: Path, line: object, expected: str
) -> None:
    path = write(tmp_path / "bad.jsonl", GOOD, line)
    with pytest.raises(CorpusFileError) as caught:
        read_jsonl(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:2: ")
    assert expected in message
    assert len(message) < 400  # bounded, whatever the line held
    assert "hello there" not in message and "half" not in message  # never chat text
    records, skipped = read_jsonl(path, on_error="skip")
    assert skipped == 1 and [r["conversation_id"] for r in records] == ["a"]


def test_invalid_utf8_names_the_line_and_byte(tmp_path: Path) -> None:
    path = tmp_path / "bytes.jsonl"
    good = json.dumps(GOOD).encode()
    path.write_bytes(good + b"\n" + json.dumps(_one()).encode().replace(b"hello", b"he\xfflo"))
    with pytest.raises(CorpusFileError, match=r"bytes\.jsonl:2: not UTF-8 text \(byte 0xff"):
        read_jsonl(path)
    assert read_jsonl(path, on_error="skip")[1] == 1


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(GOOD).encode() + b"\n")
    records, skipped = read_jsonl(path)
    assert skipped == 0 and records[0]["conversation_id"] == "a"


def test_a_huge_value_makes_a_short_error(tmp_path: Path) -> None:
    path = write(tmp_path / "big.jsonl", _one(label="9" * 10_000_000))
    with pytest.raises(CorpusFileError) as caught:
        read_jsonl(path)
    assert "field 'label' must be 0 or 1" in str(caught.value)
    assert len(str(caught.value)) < 300


def test_review_regressions_time_overflow_meta_surrogate_and_float_labels(tmp_path: Path) -> None:
    huge_time = '{"conversation_id": "x", "label": 0, "messages": [{"author": "a", "text": "hi", '
    huge_time += '"time": 1' + "0" * 400 + "}]}"
    path = write(tmp_path / "t.jsonl", GOOD, huge_time)
    with pytest.raises(CorpusFileError, match=r"t\.jsonl:2: field 'messages\[0\]\.time'"):
        read_jsonl(path)
    assert read_jsonl(path, on_error="skip")[1] == 1
    meta = '{"conversation_id": "x", "label": 0, "meta": "\\ud800", "messages": '
    meta += '[{"author": "a", "text": "hi"}]}'
    with pytest.raises(CorpusFileError, match="field 'meta' holds a lone surrogate"):
        read_jsonl(write(tmp_path / "m.jsonl", meta))
    records, skipped = read_jsonl(write(tmp_path / "f.jsonl", _one(label=1.0)))
    assert skipped == 0 and records[0]["label"] == 1  # as pandas writes an integer column
