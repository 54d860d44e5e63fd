"""PANC: datapack and CSV, segments vs complete chats, stages, times, splits, bad input, config."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path
from typing import Any

import pytest
from hydra import compose, initialize_config_module

from benchmarks.components import build
from benchmarks.corpora.base import Corpus
from benchmarks.corpora.jsonl import CorpusFileError
from benchmarks.corpora.panc import load_panc
from benchmarks.errors import ConfigError
from benchmarks.jobplan import Component
from benchmarks.schema import FEATURES, validate_record
from tests.helpers import WORDS

MINUTE_MS = 60_000
DAY_S = 86_400.0
SEP: dict[str, Any] = {"type": "separator"}


def message(
    author: str,
    body: str | None,
    time: float | None,
    line: int,
    *,
    predator: bool = False,
    labels: list[str] | None = None,
) -> dict[str, Any]:
    """One datapack message as the authors' scripts write it."""
    return {
        "type": "message",
        "author": author,
        "body": body,
        "time": time,
        "isFromPredator": predator,
        "lineNum": line,
        "labels": labels or [],
    }


def panc_chat(k: int, label: int, rng: random.Random) -> tuple[str, dict[str, Any]]:
    """One chat of 1-3 segments of 6-10 neutral messages between two authors unique to it."""
    name = f"cc_user{k}" if label else f"{k:032x}"
    pred, other = f"u{k}_a", f"u{k}_b"
    minute = rng.randrange(21 * 60, 24 * 60)  # late evening: some chats roll over midnight
    content: list[dict[str, Any] | None] = []
    line = 0
    for segment in range(rng.randint(1, 3)):
        if segment:
            content.append(SEP)
            minute += rng.randint(30, 90)  # the scripts cut at gaps over 25 minutes
        for j in range(rng.randint(6, 10)):
            line += 1
            minute += rng.choice([0, 1, 2])
            author = pred if j % 2 == 0 else other
            codes = rng.sample(["PI", "G", "A"], rng.randint(0, 2)) if label and j % 2 == 0 else []
            body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 6)))
            content.append(
                message(
                    author,
                    body,
                    float((minute % (24 * 60)) * MINUTE_MS),
                    line,
                    predator=bool(label) and author == pred,
                    labels=codes,
                )
            )
    chat = {
        "className": "predator" if label else "non-predator",
        "authors": [pred, other],
        "content": content,
    }
    return name, chat


def datapack(chats: dict[str, Any], datapack_id: str = "PANC") -> dict[str, Any]:
    return {
        "datapackID": datapack_id,
        "description": None,
        "generatedAtTime": 1_600_000_000_000,
        "chats": chats,
    }


def write_panc(path: Path, n: int = 40, seed: int = 0) -> Path:
    """Write a small neutral PANC datapack of ``n`` chats, both labels, no recorded split."""
    rng = random.Random(seed)
    chats = dict(panc_chat(k, k % 2, rng) for k in range(n))
    path.write_text(json.dumps(datapack(chats), indent=1), encoding="utf-8")
    return path


def write(path: Path, chats: dict[str, Any], datapack_id: str = "PANC") -> Path:
    path.write_text(json.dumps(datapack(chats, datapack_id), indent=1), encoding="utf-8")
    return path


def hand_chat() -> dict[str, Any]:
    """A positive chat with known stages, times, an empty body, a null line and a separator."""
    t0 = 23 * 60 * MINUTE_MS + 58 * MINUTE_MS  # 23:58 on 1970-01-01
    content: list[Any] = [
        message("p", "hi", t0, 1, predator=True),
        message("v", "hello", t0 + MINUTE_MS, 2),
        message("p", "how old are you", t0 + 2 * MINUTE_MS, 3, predator=True, labels=["PI"]),
        None,
        message("v", "", 1 * MINUTE_MS, 5),  # 00:01, after midnight; empty body
        message("p", None, None, 6, predator=True),  # null body and time
        message("p", "so", 2 * MINUTE_MS, 7, predator=True, labels=["G"]),
        SEP,
        message("p", "meet up", 40 * MINUTE_MS, 8, predator=True, labels=["A", "PI"]),
        message("v", "ok", 41 * MINUTE_MS, 9),
    ]
    return {"className": "predator", "authors": ["p", "v"], "content": content}


def load(path: Path, tmp_path: Path, **kwargs: Any) -> Corpus:
    kwargs.setdefault("min_messages", 1)
    return load_panc(str(path), cache_dir=str(tmp_path / "cache"), **kwargs)


def by_id(corpus: Corpus) -> dict[str, dict[str, Any]]:
    return {row["conversation_id"]: row for row in corpus.dataset}


def test_loads_segments_of_the_schema(tmp_path: Path) -> None:
    corpus = load_panc(str(write_panc(tmp_path / "panc.json")), cache_dir=str(tmp_path / "c"))
    assert corpus.dataset.features == FEATURES
    for record in corpus.dataset:
        validate_record(record)
    ids = corpus.dataset["conversation_id"]
    assert len(ids) == len(set(ids)) > 40
    assert any("#" in i for i in ids) and any("#" not in i for i in ids)
    assert set(corpus.split_names) == {"train", "test"}
    for split in ("train", "test"):
        assert set(corpus.split(split)["label"]) == {0, 1}
    info = corpus.info
    assert info.name == "panc" and info.citation.startswith("Vogt, M., Leser, U., & Akbik")
    assert "Early Detection of Sexual Predators in Chats" in info.citation
    assert "ChatCoder2" in info.licence and "PAN12" in info.licence
    assert any("adult decoys" in x for x in info.limitations)
    assert any("off-domain" in x for x in info.limitations)
    assert any(x.startswith("Unit: segments") for x in info.limitations)
    assert any("not the authors' exact split" in x for x in info.limitations)
    assert list(info.checksums) == ["panc.json"] and len(info.checksums["panc.json"]) == 64


def test_segments_versus_complete(tmp_path: Path) -> None:
    path = write(tmp_path / "p.json", {"chat": hand_chat(), "whole": hand_chat()})
    chats = json.loads(path.read_text())
    chats["chats"]["whole"]["content"].remove(SEP)  # no separator: one segment, named by chat
    path.write_text(json.dumps(chats))
    segments = by_id(load(path, tmp_path))
    assert list(segments) == ["chat#0", "chat#1", "whole"]
    assert len(segments["chat#0"]["messages"]) == 6 and len(segments["chat#1"]["messages"]) == 2
    assert json.loads(segments["chat#1"]["meta"])["segment"] == 1
    complete = by_id(load(path, tmp_path, unit="complete"))
    assert list(complete) == ["chat", "whole"]
    texts = [m["text"] for m in complete["chat"]["messages"]]
    assert texts == ["hi", "hello", "how old are you", "", "", "so", "meet up", "ok"]
    assert [m["index"] for m in complete["chat"]["messages"]] == list(range(1, 9))
    assert json.loads(complete["chat"]["meta"])["lines"] == [1, 2, 3, 5, 6, 7, 8, 9]


def test_stage_mapping_onset_and_escalation(tmp_path: Path) -> None:
    path = write(tmp_path / "p.json", {"chat": hand_chat()})
    complete = by_id(load(path, tmp_path, unit="complete"))["chat"]
    stages = [m["stages"] for m in complete["messages"]]
    assert stages == [
        [],
        [],
        ["personal_info"],
        [],
        [],
        ["sexual"],
        ["approach", "personal_info"],
        [],
    ]
    assert complete["onset"] == 3 and complete["escalation"] == 6  # G (sexual) escalates
    segments = by_id(load(path, tmp_path))
    assert segments["chat#0"]["onset"] == 3 and segments["chat#0"]["escalation"] == 6
    assert segments["chat#1"]["onset"] == 1 and segments["chat#1"]["escalation"] == 1


def test_times_are_seconds_with_midnight_roll_over(tmp_path: Path) -> None:
    path = write(tmp_path / "p.json", {"chat": hand_chat()})
    row = by_id(load(path, tmp_path, unit="complete"))["chat"]
    times = [m["time"] for m in row["messages"]]
    base = 23 * 3600.0 + 58 * 60
    assert times[:3] == [base, base + 60, base + 120]
    assert times[3] == DAY_S + 60 and times[4] is None and times[5] == DAY_S + 120
    assert times[6:] == [DAY_S + 2400, DAY_S + 2460]
    assert json.loads(row["meta"])["time_rollovers"] == 1
    seg = by_id(load(path, tmp_path))["chat#1"]
    assert [m["time"] for m in seg["messages"]] == [DAY_S + 2400, DAY_S + 2460]


def test_empty_bodies_are_kept_and_counted(tmp_path: Path) -> None:
    path = write(tmp_path / "p.json", {"chat": hand_chat()})
    row = by_id(load(path, tmp_path))["chat#0"]
    assert [m["text"] for m in row["messages"]][3:5] == ["", ""]
    meta = json.loads(row["meta"])
    assert meta["non_empty_messages"] == 4 and meta["missing_lines"] == 1
    # eSPD keeps a segment with 6..150 non-empty messages: chat#0 has 4, chat#1 has 2.
    with pytest.raises(CorpusFileError, match="no conversation"):
        load_panc(str(path), cache_dir=str(tmp_path / "c"))
    kept = load(path, tmp_path, min_messages=3)
    assert kept.dataset["conversation_id"] == ["chat#0"]
    assert any("1 segment(s) outside 3-150" in x for x in kept.info.limitations)


def test_groomer_ids_and_labels(tmp_path: Path) -> None:
    negative = hand_chat() | {"className": "non-predator"}
    path = write(tmp_path / "p.json", {"pos": hand_chat(), "neg": negative})
    rows = by_id(load(path, tmp_path, unit="complete"))
    assert rows["pos"]["label"] == 1 and rows["pos"]["groomer_ids"] == ["p"]
    assert rows["pos"]["scenario"] == "ChatCoder2" and rows["neg"]["scenario"] == "PAN12"
    assert rows["neg"]["label"] == 0 and rows["neg"]["groomer_ids"] == []


def test_split_is_by_chat_and_the_same_in_both_units(tmp_path: Path) -> None:
    path = write_panc(tmp_path / "panc.json", n=60, seed=3)
    segments = load_panc(str(path), cache_dir=str(tmp_path / "c"))
    complete = load_panc(str(path), unit="complete", cache_dir=str(tmp_path / "c"))
    chat_split = {r["conversation_id"]: r["split"] for r in complete.dataset}
    assert len(chat_split) == 60
    for row in segments.dataset:
        assert row["split"] == chat_split[json.loads(row["meta"])["chat"]]
    test = [cid for cid, split in chat_split.items() if split == "test"]
    assert 0.3 <= len(test) / 60 <= 0.5
    # Another seed, another split.
    other = load_panc(str(path), unit="complete", seed=11, cache_dir=str(tmp_path / "c"))
    assert other.dataset["split"] != complete.dataset["split"]


def test_recorded_splits_and_directories(tmp_path: Path) -> None:
    rng = random.Random(5)
    folder = tmp_path / "datapacks"
    folder.mkdir()
    train = dict(panc_chat(k, k % 2, rng) for k in range(0, 6))
    test = dict(panc_chat(k, k % 2, rng) for k in range(6, 10))
    write(folder / "datapack-PANC-train.json", train, "PANC-train")
    write(folder / "datapack-PANC-test.json", test, "PANC-test")
    (folder / "datapack-info-PANC-test.json").write_text("{}")  # the scripts' info file
    corpus = load_panc(str(folder), unit="complete", cache_dir=str(tmp_path / "c"))
    rows = by_id(corpus)
    assert {cid for cid, r in rows.items() if r["split"] == "train"} == set(train)
    assert {cid for cid, r in rows.items() if r["split"] == "test"} == set(test)
    assert set(corpus.info.checksums) == {"datapack-PANC-train.json", "datapack-PANC-test.json"}
    assert any("the files record" in x for x in corpus.info.limitations)
    one = load_panc(str(folder / "datapack-PANC-test.json"), cache_dir=str(tmp_path / "c"))
    assert one.split_names == ["test"]
    # A chat in two files, and files of which only some record a split, are refused.
    write(folder / "extra.json", {next(iter(test)): test[next(iter(test))]}, "PANC-x")
    with pytest.raises(CorpusFileError, match=r"is also in datapack-PANC-test\.json"):
        load_panc(str(folder))
    write(folder / "extra.json", dict([panc_chat(99, 1, rng)]), "PANC-x")
    with pytest.raises(ConfigError, match=r"extra\.json do not"):
        load_panc(str(folder))


def write_csv(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, quotechar='"', quoting=csv.QUOTE_ALL)
        writer.writerow(["label", "chatName", "segment"])
        writer.writerows(rows)
    return path


def test_csv_variant(tmp_path: Path) -> None:
    rows = [
        ("predator", "cc_a-0", "hi hello how old are you"),
        ("predator", "cc_a-2", json.dumps(["meet up", "", "ok"])),
        ("non-predator", "ff00", "game later lol"),
        ("non-predator", "ee11", "pizza movie"),
        ("predator", "cc_b", "so"),
    ]
    path = write_csv(tmp_path / "PANC-test.csv", rows)
    corpus = load_panc(str(path), cache_dir=str(tmp_path / "c"))
    got = by_id(corpus)
    assert list(got) == ["cc_a#0", "cc_a#2", "ff00", "ee11", "cc_b"]
    assert [m["text"] for m in got["cc_a#0"]["messages"]] == ["hi hello how old are you"]
    assert [m["text"] for m in got["cc_a#2"]["messages"]] == ["meet up", "", "ok"]
    assert {m["author"] for m in got["cc_a#2"]["messages"]} == {"unknown"}
    assert got["cc_a#0"]["label"] == 1 and got["ff00"]["label"] == 0
    assert set(corpus.dataset["split"]) == {"test"}  # recorded by the file name
    assert any("CSV variant" in x for x in corpus.info.limitations)
    with pytest.raises(ConfigError, match="unit='complete' needs the datapack JSON"):
        load_panc(str(path), unit="complete")
    # Without a recorded split: chats split as wholes, segments follow their chat.
    rows += [("predator", f"cc_{k}-{s}", "hi") for k in range(8) for s in range(2)]
    rows += [("non-predator", f"{k:032x}", "hi") for k in range(8)]
    unsplit = by_id(load_panc(str(write_csv(tmp_path / "panc.csv", rows)), cache_dir=None))
    assert {r["split"] for r in unsplit.values()} == {"train", "test"}
    for k in range(8):
        assert unsplit[f"cc_{k}#0"]["split"] == unsplit[f"cc_{k}#1"]["split"]


@pytest.mark.parametrize(
    ("chat", "expected"),
    [
        ({"content": []}, r"chat 'x': has no key 'className'"),
        ({"className": "predator"}, r"chat 'x': has no key 'content'"),
        ({"className": "groomer", "content": []}, r"chat 'x': key 'className' must be"),
        ({"className": "predator", "content": {}}, r"chat 'x': key 'content' must be a list"),
        (
            {"className": "predator", "content": [{"type": "message", "body": "", "lineNum": 4}]},
            r"chat 'x' line 4: message has no key 'author'",
        ),
        (
            {"className": "predator", "content": [message("a", "hi", 0, 3) | {"labels": ["X"]}]},
            r"chat 'x' line 3: unknown stage code\(s\) \['X'\]",
        ),
        (
            {"className": "predator", "content": [{"body": "hi"}]},
            r"chat 'x' content\[0\]: has no key 'type'",
        ),
        (
            {"className": "predator", "content": [{"type": "image"}]},
            r"chat 'x' content\[0\]: key 'type' must be",
        ),
        (
            {"className": "predator", "content": [message("a", "hi", "noon", 2)]},  # type: ignore[arg-type]
            r"chat 'x' line 2: key 'time' must be epoch milliseconds",
        ),
        (
            {
                "className": "predator",
                "content": [
                    {k: v for k, v in message("a", "hi", 0, 7).items() if k != "isFromPredator"}
                ],
            },
            r"chat 'x' line 7: message has no key 'isFromPredator'",
        ),
    ],
)
def test_bad_chat_names_file_chat_and_key(tmp_path: Path, chat: Any, expected: str) -> None:
    path = write(tmp_path / "bad.json", {"ok": hand_chat(), "x": chat})
    with pytest.raises(CorpusFileError, match=expected) as caught:
        load(path, tmp_path)
    assert "bad.json" in str(caught.value)


def test_malformed_files_name_the_position(tmp_path: Path) -> None:
    path = write(tmp_path / "t.json", {"chat": hand_chat()})
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(CorpusFileError, match=r"t\.json:\d+:\d+: not valid JSON"):
        load(path, tmp_path)
    path.write_text('{"chats": {\n  "a": {,}\n}}')
    with pytest.raises(CorpusFileError, match=r"t\.json:2:9: not valid JSON"):
        load(path, tmp_path)
    path.write_text('{"conversation": []}')
    with pytest.raises(CorpusFileError, match="'chats' object"):
        load(path, tmp_path)
    path.write_bytes(b'{"chats": {"caf\xe9": {}}}')
    with pytest.raises(CorpusFileError, match="not UTF-8"):
        load(path, tmp_path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("label,chat,segment\n", r"c\.csv:1: expected the header label,chatName,segment"),
        ('label,chatName,segment\n"bad","a","hi"\n', r"c\.csv:2: column 'label' must be"),
        ('label,chatName,segment\n"predator","a"\n', r"c\.csv:2: expected 3 columns, got 2"),
        ('label,chatName,segment\n"predator","a","[1, 2]"\n', r"c\.csv:2: .*JSON list of str"),
        ('label,chatName,segment\n"predator","a","[oops"\n', r"c\.csv:2: column 'segment' st"),
        ('label,chatName,segment\n"predator","a","hi\n', r"c\.csv:\d: not valid CSV"),
        (
            'label,chatName,segment\n"predator","a","hi"\n"predator","a","hi"\n',
            r"c\.csv:3: chatName 'a' repeats line 2",
        ),
        (
            'label,chatName,segment\n"predator","a-1","hi"\n"non-predator","a-2","hi"\n',
            r"c\.csv:3: chat 'a' is labelled 'non-predator' here",
        ),
        (
            'label,chatName,segment\n"predator","a-1","hi"\n"predator","a","hi"\n',
            r"c\.csv:3: chat 'a' appears both whole",
        ),
    ],
)
def test_bad_csv_names_file_row_and_column(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "c.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CorpusFileError, match=expected):
        load(path, tmp_path)


def test_bad_settings_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"none\.json does not exist; expected a PANC datapack"):
        load_panc(str(tmp_path / "none.json"))
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(ConfigError, match=r"neither \.json nor \.csv"):
        load_panc(str(tmp_path / "x.txt"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match=r"holds no \.json or \.csv file"):
        load_panc(str(tmp_path / "empty"))
    with pytest.raises(ConfigError, match=r"corpus\.unit must be one of segments, complete"):
        load_panc(str(write_panc(tmp_path / "p.json", n=4)), unit="chats")


def test_fingerprint_follows_file_unit_and_split_settings(tmp_path: Path) -> None:
    path = write_panc(tmp_path / "p.json", n=10)
    cache = str(tmp_path / "cache")
    first = load_panc(str(path), cache_dir=cache)
    assert load_panc(str(path), cache_dir=cache).fingerprint == first.fingerprint
    others = [
        load_panc(str(path), unit="complete", cache_dir=cache),
        load_panc(str(path), seed=1, cache_dir=cache),
        load_panc(str(path), test_fraction=0.3, cache_dir=cache),
        load_panc(str(path), min_messages=7, cache_dir=cache),
    ]
    prints = {first.fingerprint} | {o.fingerprint for o in others}
    assert len(prints) == 5
    write_panc(path, n=11)
    changed = load_panc(str(path), unit="complete", cache_dir=cache)
    assert changed.fingerprint not in prints and len(changed.dataset) == 11


@pytest.mark.parametrize("unit", ["segments", "complete"])
def test_config_builds_the_corpus(unit: str, tmp_path: Path) -> None:
    path = write_panc(tmp_path / "panc.json", n=30)
    with initialize_config_module("configs", version_base="1.3"):
        cfg = compose(
            "groombench",
            overrides=[
                "corpus=panc",
                f"paths.root={tmp_path}",
                f"corpus.path={path}",
                f"corpus.unit={unit}",
            ],
        )
    assert cfg.corpus.seed == 10 and cfg.corpus.test_fraction == 0.4
    corpus = build(Component.of(cfg.corpus))
    assert isinstance(corpus, Corpus) and corpus.info.name == "panc"
    assert corpus.dataset.features == FEATURES
    ids = corpus.dataset["conversation_id"]
    assert len(ids) == len(set(ids)) and (len(ids) == 30) == (unit == "complete")
    assert {"train", "test"} <= set(corpus.split_names)
    assert str(tmp_path / "cache") in str(corpus.dataset.cache_files[0]["filename"])
