"""PANC (Vogt, Leser & Akbik 2021), the early sexual predator detection corpus (DOMAIN §3.2).

PANC is built by the authors' published scripts from PAN12 and ChatCoder2; it is never
redistributed, so this loader reads a user's own build. ``path`` is one of:

- a **datapack JSON** file (the scripts write ``datapack-PANC-train.json`` and
  ``datapack-PANC-test.json``)::

      {"datapackID": "PANC-test", "description": ..., "generatedAtTime": <epoch ms>,
       "chats": {"<name>": {"className": "predator" | "non-predator",
                            "authors": [...],                     # optional, not used
                            "content": [{"type": "message", "author": "a", "body": "hi",
                                         "time": <epoch ms or null>, "isFromPredator": true,
                                         "lineNum": 1, "labels": ["PI", "G", "A"]},
                                        {"type": "separator"}, null, ...]}}}

  ``author``, ``body``, ``time`` and ``isFromPredator`` are required in a message (``body`` and
  ``time`` may be null); ``labels`` and ``lineNum`` are optional. ``null`` entries (lines the
  scripts left empty) are skipped and counted.
- the **CSV variant** (the scripts' ``create_csv.py``: ``PANC-train.csv``, ``PANC-test.csv``),
  header ``label,chatName,segment``: ``label`` is the className; ``chatName`` is the chat's name,
  or ``<chat>-<k>`` for its k-th segment (0-based) when the chat has several; ``segment`` is the
  segment's text. The scripts join the message bodies with one space, so message boundaries,
  authors, times and stages are lost: such a cell becomes **one message** by author
  ``"unknown"``. A cell holding a JSON list of strings (``["hi", "hello"]``) is read as one
  message per string instead; a cell that starts with ``[`` but is not such a list is an error.
  The CSV holds only the segments the scripts kept, so ``unit="complete"`` needs the datapack.
- a **directory** holding such files (every ``*.json`` but ``datapack-info-*``; else every
  ``*.csv``), merged; a chat name may appear in only one of them.

``unit="segments"`` gives one conversation per segment: a chat's content cut at its
``{"type": "separator"}`` entries (the scripts cut at gaps over 25 minutes). Segment ids are
``<chat>#<k>`` with the scripts' 0-based segment number k (the CSV's ``<chat>-<k>``), or
``<chat>`` when the chat has no separator. As in eSPD, a datapack segment is kept only with
``min_messages``..``max_messages`` non-empty messages (6..150). ``unit="complete"`` gives one
conversation per chat, id ``<chat>``, separators dropped: eSPD measures precision on segments
and warning latency on complete positive chats.

Times: epoch milliseconds become seconds. The scripts keep only the clock time (on 1970-01-01
UTC), so a time earlier than the one before it is read as the next day (midnight roll-over).
Empty or null bodies become "" and are kept; ``meta`` records ``non_empty_messages``, which is
what eSPD counts. Stages map by :data:`~benchmarks.corpora.panc_datapack.STAGE_MAP` (PI ->
``personal_info``, G -> ``sexual``, A -> ``approach``; an unknown code stops the load naming
chat and line), and ``onset``/``escalation`` follow from them. Label: className "predator" is 1
with ``groomer_ids`` the conversation's authors of ``isFromPredator`` messages, else 0.

Splits: a file whose datapackID or name ends in ``-train``/``-test`` records its split (the
authors' 60/40 per-class split), which is kept. Without one, :func:`assign_splits` makes
groombench's own seeded, per-class, author-disjoint re-creation of it (``test_fraction`` 0.4,
``seed`` 10), *not* the authors' exact split; it splits chats, so every segment of a chat and
the complete chat share a split, whichever unit is loaded.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.corpora.base import Corpus, CorpusInfo, build_dataset
from benchmarks.corpora.jsonl import CorpusFileError
from benchmarks.corpora.panc_datapack import UNKNOWN_AUTHOR, Chat, read_csv, read_datapack
from benchmarks.corpora.splitting import assign_splits
from benchmarks.errors import ConfigError
from benchmarks.schema import content_fingerprint, normalise_record, validate_record

log = logging.getLogger(__name__)

PARSER_VERSION = "1"
UNITS: tuple[str, ...] = ("segments", "complete")

CITATION = (
    "Vogt, M., Leser, U., & Akbik, A. (2021). Early Detection of Sexual Predators in Chats. "
    "In Proceedings of the 59th Annual Meeting of the Association for Computational "
    "Linguistics (ACL 2021), pp. 4985-4999."
)
LICENCE = (
    "Not redistributable: build it yourself with the authors' published scripts from PAN12 "
    "(on request, Zenodo record 3713280) and ChatCoder2 (on request from April Edwards); "
    "the terms of both sources apply. For research only."
)
LIMITATIONS: tuple[str, ...] = (
    "Positives are Perverted Justice chats (via ChatCoder2): the 'victims' are adult decoys, "
    "not children.",
    "Negatives are PAN12 non-predator chats (general IRC/Omegle chat, including adult sexual "
    "chat) and are off-domain: a detector can separate the classes by source style.",
    "Stage codes are ChatCoder's PI/G/A only; G (grooming: desensitisation, sexual talk) is "
    "mapped to 'sexual', so escalation is the first G or A message.",
    "Times are clock times only (no date): a step back is read as a midnight roll-over.",
)
_EXPECTED = (
    "expected a PANC datapack JSON (e.g. datapack-PANC-test.json) or CSV (PANC-test.csv) made "
    "by the authors' scripts, or a directory holding them (set corpus.path)"
)


def panc_files(path: Path) -> list[Path]:
    """Return the PANC files at ``path``: the file itself, or a directory's datapacks or CSVs.

    Raises:
        ConfigError: nothing usable is there (the message says what was expected).
    """
    if path.is_file():
        if path.suffix.lower() not in (".json", ".csv"):
            raise ConfigError(f"corpus file {path} is neither .json nor .csv; {_EXPECTED}")
        return [path]
    if path.is_dir():
        found = sorted(
            p for p in path.glob("*.json") if not p.name.startswith("datapack-info-")
        ) or sorted(path.glob("*.csv"))
        if found:
            return found
        raise ConfigError(f"directory {path} holds no .json or .csv file; {_EXPECTED}")
    raise ConfigError(f"corpus file {path} does not exist; {_EXPECTED}")


def read_chats(files: list[Path]) -> list[Chat]:
    """Read every file into chats (file order, then chat order); chat names must be unique."""
    chats: list[Chat] = []
    origin: dict[str, str] = {}
    for file in files:
        read = read_csv if file.suffix.lower() == ".csv" else read_datapack
        for chat in read(file):
            first = origin.setdefault(chat.name, file.name)
            if first != file.name:
                raise CorpusFileError(f"{file}: chat {chat.name!r} is also in {first}")
            chats.append(chat)
    return chats


def split_chats(chats: list[Chat], *, test_fraction: float, seed: int) -> str:
    """Give every chat a split: the one its file records, else a seeded author-disjoint one.

    Returns:
        How the split was made, for the corpus limitations.
    """
    recorded = {chat.split is not None for chat in chats}
    if recorded == {True}:
        return "Splits are the ones the files record (the authors' 60/40 per-class split)."
    if recorded == {True, False}:
        unsplit = sorted({c.source for c in chats if c.split is None})
        raise ConfigError(
            f"some PANC files record a split (-train/-test in the datapackID or name) and "
            f"{', '.join(unsplit)} do not; load files of one kind"
        )
    proxies: list[dict[str, Any]] = []
    for chat in chats:
        authors = {m["author"] for _, msgs in chat.segments for m in msgs}
        if authors <= {UNKNOWN_AUTHOR}:  # the CSV keeps no authors: a chat is its own group
            authors = {f"chat:{chat.name}"}
        proxies.append({"label": chat.label, "messages": [{"author": a} for a in authors]})
    assign_splits(proxies, test_fraction=test_fraction, seed=seed)
    for chat, proxy in zip(chats, proxies, strict=True):
        chat.split = proxy["split"]
    return (
        f"No split recorded: groombench's seeded, per-class, author-disjoint split of chats "
        f"(test_fraction={test_fraction}, seed={seed}), not the authors' exact split."
    )


def _record(
    chat: Chat, messages: list[dict[str, Any]], conversation_id: str, segment: int | None
) -> dict[str, Any]:
    groomers = sorted({m["author"] for m in messages if m["predator"]}) if chat.label else []
    record = {
        "conversation_id": conversation_id,
        "label": chat.label,
        "groomer_ids": groomers,
        "messages": [
            {k: m[k] for k in ("author", "text", "time", "stages")} | {"index": i}
            for i, m in enumerate(messages, start=1)
        ],
        "split": chat.split,
        "source": chat.source,
        "scenario": "ChatCoder2" if chat.label else "PAN12",
        "meta": {
            "chat": chat.name,
            "segment": segment,
            "non_empty_messages": sum(1 for m in messages if m["text"].strip()),
            "lines": [m["line"] for m in messages],
            "missing_lines": chat.missing,
            "time_rollovers": chat.rollovers,
        },
    }
    validate_record(record)
    return normalise_record(record)


def chat_records(
    chats: list[Chat], *, unit: str, min_messages: int, max_messages: int
) -> tuple[list[dict[str, Any]], int]:
    """Return (schema records of ``unit``, number of segments left out by the length rule)."""
    records: list[dict[str, Any]] = []
    left_out = 0
    for chat in chats:
        if unit == "complete":
            messages = [m for _, msgs in chat.segments for m in msgs]
            if messages:
                records.append(_record(chat, messages, chat.name, None))
            continue
        from_csv = chat.source.lower().endswith(".csv")
        for number, messages in chat.segments:
            if not messages:
                continue
            non_empty = sum(1 for m in messages if m["text"].strip())
            if not from_csv and not min_messages <= non_empty <= max_messages:
                left_out += 1
                continue
            cid = chat.name if chat.whole else f"{chat.name}#{number}"
            records.append(_record(chat, messages, cid, number))
    seen: set[str] = set()
    for record in records:
        if record["conversation_id"] in seen:
            raise CorpusFileError(
                f"conversation id {record['conversation_id']!r} occurs twice (a chat name "
                "ending in '#<k>' meets a segment of another chat)"
            )
        seen.add(record["conversation_id"])
    return records, left_out


def load_panc(
    path: str,
    *,
    unit: str = "segments",
    name: str = "panc",
    test_fraction: float = 0.4,
    seed: int = 10,
    min_messages: int = 6,
    max_messages: int = 150,
    cache_dir: str | None = None,
) -> Corpus:
    """Load a PANC build (datapack JSON, CSV, or a directory of them) as a :class:`Corpus`.

    Args:
        path: the datapack JSON, the CSV, or a directory holding the train and test files.
        unit: "segments" (eSPD precision) or "complete" (eSPD latency on positive chats).
        name: the corpus name (the config file's name).
        test_fraction: the share of chats in "test" when the files record no split.
        seed: that split's seed.
        min_messages: the fewest non-empty messages a datapack segment needs to be kept.
        max_messages: the most non-empty messages a datapack segment may have to be kept.
        cache_dir: where `datasets` caches the built dataset.

    Raises:
        ConfigError: a bad setting, or no file where ``path`` points.
        CorpusFileError: a malformed file (the message names file and position, chat, key).
    """
    if unit not in UNITS:
        raise ConfigError(f"corpus.unit must be one of {', '.join(UNITS)}, got {unit!r}")
    files = panc_files(Path(path).expanduser().resolve())
    if unit == "complete" and any(f.suffix.lower() == ".csv" for f in files):
        raise ConfigError(
            "unit='complete' needs the datapack JSON: the CSV variant holds only the segments "
            "the authors' scripts kept, so complete chats cannot be rebuilt from it"
        )
    chats = read_chats(files)
    how_split = split_chats(chats, test_fraction=test_fraction, seed=seed)
    records, left_out = chat_records(
        chats, unit=unit, min_messages=min_messages, max_messages=max_messages
    )
    if not records:
        raise CorpusFileError(f"{', '.join(map(str, files))}: no conversation with messages")
    checksums = {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in files}
    fingerprint = content_fingerprint(
        "panc",
        PARSER_VERSION,
        json.dumps(checksums, sort_keys=True),
        unit,
        repr(float(test_fraction)),
        str(seed),
        str(min_messages),
        str(max_messages),
    )

    def generate(rows: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        yield from rows

    dataset = build_dataset(generate, fingerprint, cache_dir, {"rows": records})
    extra = [
        f"Unit: {unit} ("
        + (
            "one conversation per segment; eSPD measures precision on these)."
            if unit == "segments"
            else "one conversation per complete chat; eSPD measures latency on positives)."
        ),
        how_split,
    ]
    if left_out:
        extra.append(
            f"{left_out} segment(s) outside {min_messages}-{max_messages} non-empty messages "
            "left out (eSPD's rule)."
        )
    if any(f.suffix.lower() == ".csv" for f in files):
        extra.append(
            "CSV variant: message boundaries, authors, times and stages are not in the file."
        )
    info = CorpusInfo(
        name=name,
        version=PARSER_VERSION,
        description=(
            f"PANC (Vogt, Leser & Akbik 2021) from {', '.join(checksums)}: complete ChatCoder2 "
            "grooming chats against PAN12 two-author non-predator chats, as "
            f"{'segments' if unit == 'segments' else 'complete chats'}."
        ),
        licence=LICENCE,
        citation=CITATION,
        limitations=LIMITATIONS + tuple(extra),
        checksums=checksums,
    )
    return Corpus(info=info, dataset=dataset, fingerprint=fingerprint)
