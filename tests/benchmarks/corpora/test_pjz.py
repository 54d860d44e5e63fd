"""PJZ/PJZC JSON: shape, HH:MM with roll-over, unique ids, bad input that says where, config."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from hydra import compose, initialize_config_module

from benchmarks.components import build
from benchmarks.corpora.base import Corpus
from benchmarks.corpora.jsonl import CorpusFileError
from benchmarks.corpora.pjz import BASE_DAY, load_pjz, read_pjz
from benchmarks.errors import ConfigError
from benchmarks.jobplan import Component
from benchmarks.schema import FEATURES, validate_record
from tests.helpers import WORDS

SOURCES = ("PJ chats", "ZIG chats", "Chit chats")


def pjz_conversation(cid: int | str, label: str, rng: random.Random, n: int = 6) -> dict[str, Any]:
    """One PJZ conversation of neutral words between two authors unique to it."""
    minute = rng.randrange(22 * 60, 24 * 60)  # late evening, so some roll over midnight
    messages = []
    for k in range(n):
        minute = (minute + rng.choice([0, 1, 7])) % (24 * 60)
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 6)))
        messages.append(
            {
                "author": f"p{cid}_{k % 2}",
                "time": f"{minute // 60:02d}:{minute % 60:02d}",
                "text": text,
            }
        )
    source = SOURCES[0] if label == "1" else SOURCES[1 + rng.randrange(2)]
    return {"id": cid, "source": source, "label": label, "messages": messages}


def write_pjz(path: Path, n: int = 40, seed: int = 0) -> Path:
    """Write a small neutral PJZ/PJZC-shaped JSON file with both labels (int ids)."""
    rng = random.Random(seed)
    items = [pjz_conversation(i, str(i % 2), rng, rng.randint(2, 10)) for i in range(n)]
    path.write_text(json.dumps({"conversation": items}), encoding="utf-8")
    return path


def write(path: Path, *items: Any) -> Path:
    path.write_text(json.dumps({"conversation": list(items)}, indent=1), encoding="utf-8")
    return path


def test_loads_records_of_the_schema(tmp_path: Path) -> None:
    corpus = load_pjz(str(write_pjz(tmp_path / "PJZ.json")), cache_dir=str(tmp_path / "cache"))
    assert corpus.dataset.features == FEATURES
    assert len(corpus.dataset) == 40 and set(corpus.split_names) == {"train", "test"}
    row = corpus.dataset[1]
    assert row["conversation_id"] == "1" and row["label"] == 1
    assert row["source"] == "PJ chats" and row["scenario"] == "PJ chats"
    assert row["groomer_ids"] == [] and row["onset"] is None
    for record in corpus.dataset:
        validate_record(record)
    assert corpus.info.citation.startswith("Milon-Flores")
    assert any("adult decoys" in x for x in corpus.info.limitations)
    assert any("off-domain" in x for x in corpus.info.limitations)
    assert any("per conversation only" in x for x in corpus.info.limitations)


def test_midnight_rolls_over_and_quirks_are_kept(tmp_path: Path) -> None:
    item = {
        "id": "x",
        "source": "Chit chats",
        "label": 0,
        "messages": [
            {"author": "a", "time": "23:59", "text": "hi"},
            {"author": "a", "time": "00:02"},  # missing text, one author
            {"author": "a", "time": "", "text": None},
            {"author": "a", "time": "0:03", "text": "ok"},
        ],
    }
    records, dropped = read_pjz(write(tmp_path / "p.json", item))
    times = [m["time"] for m in records[0]["messages"]]
    assert times == [BASE_DAY + 86340, BASE_DAY + 86400 + 120, None, BASE_DAY + 86400 + 180]
    assert [m["text"] for m in records[0]["messages"]] == ["hi", "", "", "ok"]
    assert records[0]["label"] == 0 and dropped == 0


def test_empty_conversations_are_dropped_and_reported(tmp_path: Path) -> None:
    rng = random.Random(1)
    items = [pjz_conversation(i, str(i % 2), rng) for i in range(6)]
    items.append({"id": 99, "source": "PJ chats", "label": "1", "messages": []})
    corpus = load_pjz(str(write(tmp_path / "p.json", *items)), cache_dir=str(tmp_path / "c"))
    assert len(corpus.dataset) == 6
    assert "1 conversation(s) without messages dropped" in corpus.info.limitations


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ({"id": 1, "label": "2", "messages": []}, r"conversation\[1\]: field 'label'"),
        ({"label": "1", "messages": []}, r"conversation\[1\]: field 'id'"),
        ({"id": 1, "label": "1"}, r"conversation\[1\]: field 'messages'"),
        (
            {"id": 1, "label": "1", "messages": [{"time": "10:00", "text": "hi"}]},
            r"conversation\[1\]: field 'messages\[0\]\.author'",
        ),
        (
            {"id": 1, "label": "1", "messages": [{"author": "a", "time": "25:00"}]},
            r"conversation\[1\]: field 'messages\[0\]\.time' '25:00' is not HH:MM",
        ),
        ("oops", r"conversation\[1\]: must be a JSON object"),
        (
            {"id": 0, "label": "1", "messages": []},
            r"conversation\[1\]: field 'id' '0' repeats conversation\[0\]",
        ),
    ],
)
def test_bad_conversation_names_file_position_and_field(
    tmp_path: Path, item: Any, expected: str
) -> None:
    good = pjz_conversation(0, "0", random.Random(0))
    with pytest.raises(CorpusFileError, match=expected) as caught:
        read_pjz(write(tmp_path / "bad.json", good, item))
    assert "bad.json" in str(caught.value)


def test_malformed_json_names_line_and_column(tmp_path: Path) -> None:
    path = write_pjz(tmp_path / "t.json", n=4)
    text = path.read_text()
    path.write_text(text[: len(text) // 2])  # truncated
    with pytest.raises(CorpusFileError, match=r"t\.json:1:\d+: not valid JSON"):
        read_pjz(path)
    path.write_text('{"conversation": [\n  {"id": 1,,}\n]}')
    with pytest.raises(CorpusFileError, match=r"t\.json:2:12: not valid JSON"):
        read_pjz(path)
    path.write_text('{"conversations": []}')
    with pytest.raises(CorpusFileError, match="'conversation' list"):
        read_pjz(path)


def test_wrong_encoding_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "latin.json"
    path.write_bytes('{"conversation": [{"id": 1, "text": "caf\xe9"}]}'.encode("latin-1"))
    with pytest.raises(CorpusFileError, match="not UTF-8"):
        read_pjz(path)
    with pytest.raises(ConfigError, match=r"none\.json does not exist; expected the PJZ"):
        load_pjz(str(tmp_path / "none.json"))


def test_fingerprint_follows_content_and_seed(tmp_path: Path) -> None:
    path = write_pjz(tmp_path / "p.json", n=10)
    cache = str(tmp_path / "cache")
    first = load_pjz(str(path), cache_dir=cache)
    assert load_pjz(str(path), cache_dir=cache).fingerprint == first.fingerprint
    assert load_pjz(str(path), seed=1, cache_dir=cache).fingerprint != first.fingerprint
    write_pjz(path, n=11)
    changed = load_pjz(str(path), cache_dir=cache)
    assert changed.fingerprint != first.fingerprint and len(changed.dataset) == 11


@pytest.mark.parametrize("name", ["pjz", "pjzc"])
def test_config_builds_the_corpus(name: str, tmp_path: Path) -> None:
    path = write_pjz(tmp_path / f"{name}.json", n=30)
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
