"""The PAN12 loader on small neutral fixture files: quirks, bad input, checksums, cache, CLI."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from hydra import compose, initialize_config_module

from benchmarks.components import build
from benchmarks.corpora import pan12
from benchmarks.corpora.base import Corpus
from benchmarks.corpora.pan12 import BASE_DAY, FILES, load_pan12
from benchmarks.corpora.pan12_xml import normalised_sha256
from benchmarks.errors import ConfigError
from benchmarks.jobplan import Component
from benchmarks.schema import FEATURES, validate_record
from tests.benchmarks.corpora.pan12_fixtures import (
    Conv,
    Msg,
    conversation_xml,
    write_lines,
    write_pan12_dir,
    write_pan12_splits,
    write_xml,
)
from tests.helpers import cli

A, B = "a" * 32, "b" * 32


def load(folder: Path, tmp_path: Path, **kwargs: Any) -> Corpus:
    kwargs.setdefault("cache_dir", str(tmp_path / "cache"))
    return load_pan12(str(folder), **kwargs)


def records(corpus: Corpus) -> dict[str, dict[str, Any]]:
    return {r["conversation_id"]: r for r in corpus.dataset}


def notes(corpus: Corpus) -> str:
    return "\n".join(corpus.info.limitations)


QUIRKS = [
    Conv(
        "escaped",
        [
            Msg(A, "fish &amp;amp;amp; chips &amp;lt;3", raw_text=True),
            Msg(B, "", time="10:01"),
            Msg(A, None, time="10:02"),
        ],
    ),
    Conv("midnight", [Msg(A, "x", "23:58"), Msg(B, "y", "23:59"), Msg(A, "z", "00:01")]),
    Conv("badtime", [Msg(A, "x", "10:00"), Msg(B, "y", None), Msg(A, "z", "ab:cd")]),
    Conv("solo", [Msg(A, "hello"), Msg(A, "anyone")]),
    Conv("empty", [Msg(A, ""), Msg(B, None)]),
    Conv("long", [Msg(A if i % 2 else B, f"w{i}", "11:00") for i in range(160)]),
    Conv("renumbered", [Msg(A, "x", line=5), Msg(B, "y", line=9)]),
]


@pytest.fixture
def quirky(tmp_path: Path) -> tuple[Path, Corpus]:
    written = write_pan12_dir(
        tmp_path / "pan12",
        n=12,
        extra=QUIRKS,
        extra_predators=["c" * 32],
        extra_lines=[("nosuchconversation", 3), ("midnight", 2)],
    )
    return written.path, load(written.path, tmp_path)


def test_records_follow_schema_and_ground_truth(tmp_path: Path) -> None:
    written = write_pan12_dir(tmp_path / "pan12", n=24)
    corpus = load(written.path, tmp_path)
    assert corpus.dataset.features == FEATURES and corpus.split_names == ["test"]
    assert len(corpus.split("test")) == 24
    by_id = records(corpus)
    predators = set(written.predators)
    for conv in written.conversations:
        record = by_id[conv.id]
        validate_record(record)
        groomers = sorted({m.author for m in conv.messages} & predators)
        assert record["groomer_ids"] == groomers and record["label"] == int(bool(groomers))
        assert record["onset"] is None and record["escalation"] is None
        assert record["source"] == FILES["test"][0] and record["language"] == "en"
        lines = sorted(k for c, k in written.predatory_lines if c == conv.id)
        assert json.loads(record["meta"])["predatory_lines"] == lines
        assert [m["text"] for m in record["messages"]] == [m.text for m in conv.messages]
    assert sum(r["label"] for r in by_id.values()) > 0
    info = corpus.info
    assert info.name == "pan12" and info.version and "3713280" in info.licence
    assert "Inches" in info.citation and "Crestani" in info.citation
    assert "adult decoys" in notes(corpus) and "Omegle" in notes(corpus)
    assert "split used: test" in notes(corpus)


def test_quirks(quirky: tuple[Path, Corpus]) -> None:
    _, corpus = quirky
    by_id = records(corpus)
    for record in by_id.values():
        validate_record(record)
    texts = [m["text"] for m in by_id["escaped"]["messages"]]
    assert texts == ["fish & chips <3", "", ""]
    times = [m["time"] for m in by_id["midnight"]["messages"]]
    assert times[0] == BASE_DAY + (23 * 60 + 58) * 60
    assert [t - times[0] for t in times] == [0, 60, 180]
    assert [m["time"] is None for m in by_id["badtime"]["messages"]] == [False, True, True]
    assert json.loads(by_id["solo"]["meta"])["one_author"] is True
    assert json.loads(by_id["empty"]["meta"])["n_empty"] == 2
    long = by_id["long"]["messages"]
    assert [m["index"] for m in long] == list(range(1, 161))
    meta = json.loads(by_id["renumbered"]["meta"])
    assert meta["xml_lines"] == [5, 9]
    assert [m["index"] for m in by_id["renumbered"]["messages"]] == [1, 2]
    assert json.loads(by_id["midnight"]["meta"])["predatory_lines"] == [2]
    text = notes(corpus)
    assert "one-author conversation(s) kept" in text
    assert "1 conversation(s) with only empty texts kept" in text
    assert "1 ground-truth predator id(s) author no message" in text
    assert "1 predatory-line conversation id(s) match no conversation (1 line(s))" in text
    assert "2 message(s) with a missing or unparseable time" in text
    assert "1 conversation(s) whose XML line numbers are not 1..n" in text


def test_exact_duplicates_dropped_or_kept(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    twin = Conv("twin", [Msg(A, "hi"), Msg(B, "hello")])
    folder = write_pan12_dir(tmp_path / "p", n=4, extra=[twin, twin]).path
    with caplog.at_level(logging.WARNING, logger="benchmarks.corpora.pan12"):
        dropped = load(folder, tmp_path)
    assert len(dropped.dataset) == 5
    assert "1 exact duplicate conversation(s) found (dropped)" in notes(dropped)
    assert "duplicate" in caplog.text
    kept = load(folder, tmp_path, on_duplicate="keep")
    assert {"twin", "twin~2"} <= set(kept.dataset["conversation_id"])
    assert kept.fingerprint != dropped.fingerprint


def test_same_id_different_content_names_both_positions(tmp_path: Path) -> None:
    first, second = Conv("dup", [Msg(A, "hi")]), Conv("dup", [Msg(A, "bye")])
    folder = write_pan12_dir(tmp_path / "p", n=0, extra=[first, second]).path
    with pytest.raises(ConfigError, match=r"\.xml:10: conversation id 'dup' repeats .* line 3"):
        load(folder, tmp_path)


def test_train_split_and_all(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    write_pan12_dir(folder, split="train", n=8, seed=1)
    train = load(folder, tmp_path, split="train")
    assert train.split_names == ["train"] and "split used: train" in notes(train)
    with pytest.raises(ConfigError, match="test chats XML file not found"):
        load(folder, tmp_path, split="all")
    write_pan12_dir(folder, split="test", n=8, seed=2)
    both = load(folder, tmp_path, split="all")
    assert both.split_names == ["test", "train"] and len(both.dataset) == 16


# --- bad input -----------------------------------------------------------------------------


def chats_file(folder: Path) -> Path:
    return folder / FILES["test"][0]


def test_truncated_xml_names_file_and_position(tmp_path: Path) -> None:
    folder = write_pan12_dir(tmp_path / "p", n=6).path
    xml = chats_file(folder)
    xml.write_text(xml.read_text()[:-200])
    with pytest.raises(ConfigError, match=rf"{xml.name}:\d+:\d+: malformed or truncated XML"):
        load(folder, tmp_path)


def test_malformed_xml_names_line(tmp_path: Path) -> None:
    folder = write_pan12_dir(tmp_path / "p", n=0).path
    chats_file(folder).write_text("<conversations>\n<conversation id='x'>\n<message>\n</conv>")
    with pytest.raises(ConfigError, match=r":4:\d+: malformed or truncated XML \(mismatched"):
        load(folder, tmp_path)


def test_a_message_outside_any_conversation_is_an_error(tmp_path: Path) -> None:
    folder = write_pan12_dir(tmp_path / "p", n=0).path
    chats_file(folder).write_text(
        "<conversations>\n<message line='1'><author>a</author></message>\n</conversations>"
    )
    with pytest.raises(ConfigError, match=r":2:\d+: a <message> outside any <conversation>"):
        load(folder, tmp_path)


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE conversations [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>',
        '<!DOCTYPE conversations [<!ENTITY ext SYSTEM "file:///etc/hostname">]>',
        '<!DOCTYPE conversations SYSTEM "http://example.invalid/pan12.dtd">',
    ],
)
def test_entities_and_dtds_refused(tmp_path: Path, doctype: str) -> None:
    folder = write_pan12_dir(tmp_path / "p", n=0).path
    body = conversation_xml(Conv("x", [Msg(A, "&lol2;", raw_text=True)]))
    xml = chats_file(folder)
    xml.write_text(f'<?xml version="1.0"?>\n{doctype}\n<conversations>{body}</conversations>')
    with pytest.raises(ConfigError, match=rf"{xml.name}:2:\d+: refused: .*DOCTYPE"):
        load(folder, tmp_path)


def test_non_utf8_bytes_reported_as_encoding(tmp_path: Path) -> None:
    folder = write_pan12_dir(tmp_path / "p", n=3).path
    xml = chats_file(folder)
    data = xml.read_bytes()
    xml.write_bytes(data.replace(b"<text>", b"<text>caf\xe9 ", 1))
    with pytest.raises(ConfigError, match=rf"{xml.name}:\d+: wrong encoding: .*not UTF-8"):
        load(folder, tmp_path)
    (folder / FILES["test"][1]).write_bytes(b"\xff\xfeab\n")
    xml.write_bytes(data)
    with pytest.raises(ConfigError, match=r"predator-ids file is not UTF-8.*encoding"):
        load(folder, tmp_path)


def test_missing_files_say_what_is_expected_where(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"folder .*nowhere does not exist"):
        load(tmp_path / "nowhere", tmp_path)
    folder = write_pan12_dir(tmp_path / "p", n=4, with_lines_file=False).path
    assert len(load(folder, tmp_path).dataset) == 4  # the predatory-lines file is optional
    (folder / FILES["test"][1]).unlink()
    expected = rf"predator ids .* not found: expected {FILES['test'][1]} in {folder}"
    with pytest.raises(ConfigError, match=expected):
        load(folder, tmp_path)
    chats_file(folder).unlink()
    with pytest.raises(ConfigError, match=r"test chats XML file not found: expected .*\.xml"):
        load(folder, tmp_path)


def test_bad_options_and_lines_file(tmp_path: Path) -> None:
    folder = write_pan12_dir(tmp_path / "p", n=2).path
    with pytest.raises(ConfigError, match="split must be train, test or all"):
        load(folder, tmp_path, split="dev")
    with pytest.raises(ConfigError, match="on_duplicate must be drop or keep"):
        load(folder, tmp_path, on_duplicate="merge")
    write_lines(folder / FILES["test"][2], ["abc\tnotanumber"])
    with pytest.raises(ConfigError, match=r"problem2.txt:1: expected 'conversation_id<TAB>line'"):
        load(folder, tmp_path)


# --- checksums, fingerprint, cache ---------------------------------------------------------


def test_checksums_and_crlf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    written = write_pan12_dir(tmp_path / "lf", n=6)
    corpus = load(written.path, tmp_path)
    xml_name = FILES["test"][0]
    assert f"{xml_name}: NOT the official copy" in notes(corpus)
    assert f"{FILES['test'][2]}: not verifiable" in notes(corpus)
    assert set(corpus.info.checksums) == set(FILES["test"])
    crlf = tmp_path / "crlf"
    crlf.mkdir()
    write_xml(crlf / xml_name, written.conversations, newline="\r\n")
    for name in FILES["test"][1:]:
        text = (written.path / name).read_text()
        write_lines(crlf / name, text.splitlines(), newline="\r\n")
    assert b"\r\n" in (crlf / xml_name).read_bytes()
    assert normalised_sha256(crlf / xml_name) == normalised_sha256(written.path / xml_name)
    assert load(crlf, tmp_path).fingerprint == corpus.fingerprint
    monkeypatch.setitem(pan12.KNOWN_SHA256, xml_name, corpus.info.checksums[xml_name])
    assert f"{xml_name}: official copy" in notes(load(crlf, tmp_path))


def test_fingerprint_follows_every_file(tmp_path: Path) -> None:
    folder = write_pan12_dir(tmp_path / "p", n=6).path
    first = load(folder, tmp_path).fingerprint
    assert load(folder, tmp_path, cache_dir=str(tmp_path / "other")).fingerprint == first
    seen = {first}
    for name in FILES["test"]:
        file = folder / name
        file.write_text(file.read_text() + "\n\n")
        assert load(folder, tmp_path).fingerprint not in seen
        seen.add(load(folder, tmp_path).fingerprint)


def test_cached_reload_keeps_report(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = write_pan12_dir(tmp_path / "p", n=8, extra_predators=["c" * 32]).path
    first = load(folder, tmp_path)
    with caplog.at_level(logging.INFO, logger="benchmarks.corpora.pan12"):
        again = load(folder, tmp_path)
    assert "parsing" not in caplog.text  # served from the datasets cache
    assert again.info == first.info
    assert again.dataset["conversation_id"] == first.dataset["conversation_id"]
    for file in Path(again.dataset.cache_files[0]["filename"]).parent.glob("pan12-report.json"):
        file.unlink()
    assert load(folder, tmp_path).info == first.info  # counted again without the report


# --- contract and end to end ---------------------------------------------------------------


def compose_load(folder: Path, tmp_path: Path, cache: str) -> Corpus:
    with initialize_config_module("configs", version_base="1.3"):
        cfg = compose(
            "groombench",
            overrides=[
                "corpus=pan12",
                f"paths.root={tmp_path}",
                f"corpus.cache_dir={cache}",
                f"corpus.path={folder}",
                "corpus.split=all",
            ],
        )
    corpus = build(Component.of(cfg.corpus))
    assert isinstance(corpus, Corpus)
    return corpus


def test_contract_through_config(tmp_path: Path) -> None:
    folder = write_pan12_splits(tmp_path / "p")
    corpus = compose_load(folder, tmp_path, str(tmp_path / "cache1"))
    assert corpus.info.name == "pan12" and corpus.dataset.features == FEATURES
    ids = corpus.dataset["conversation_id"]
    assert len(ids) == len(set(ids)) == 40
    for record in corpus.dataset:
        validate_record(record)
    assert {"train", "test"} <= set(corpus.split_names)
    again = compose_load(folder, tmp_path, str(tmp_path / "cache2"))
    assert again.fingerprint == corpus.fingerprint
    assert again.dataset["conversation_id"] == ids and again.dataset[0] == corpus.dataset[0]


def test_cli_end_to_end(tmp_path: Path) -> None:
    folder = write_pan12_dir(tmp_path / "p", n=40).path
    args = ("detector=lexicon", "tracking=none", "runner.progress=false")
    out = cli(tmp_path, "corpus=pan12", f"corpus.path={folder}", *args)
    assert out.returncode == 0, out.stderr[-3000:]
    results = sorted((tmp_path / "runs" / "outputs").glob("**/results.json"))
    assert len(results) == 1
    data = json.loads(results[0].read_text())
    assert data["corpus"]["split"] == "test"
    assert "lexicon" in out.stdout
    bad = cli(tmp_path, "corpus=pan12", "corpus.path=/nope")
    assert bad.returncode != 0 and "does not exist" in bad.stderr
    assert "Traceback" not in bad.stderr
