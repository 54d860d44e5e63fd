"""The PJZ and PJZC corpora (Milon-Flores & Cordeiro 2022): one JSON file each (DOMAIN §3.3).

Shape of the file (extra keys are ignored)::

    {"conversation": [
        {"id": 17,                                  # int or str; made a string, must be unique
         "source": "PJ chats",                      # "PJ chats" | "ZIG chats" | "Chit chats"
         "label": "1",                              # "1" groomer conversation, "0" not
         "messages": [{"author": "a", "time": "21:58", "text": "hi"}]}]}

Times are ``HH:MM`` (``HH:MM:SS`` is accepted) without a date or zone. They are placed on an
arbitrary fixed day, 2000-01-01 UTC (:data:`BASE_DAY`), and a time earlier than the one before
it is read as the next day (midnight roll-over), so gaps within a conversation are right but
absolute dates mean nothing. A missing or empty time gives ``time`` None; a missing or null
text gives "".

Labels are per conversation: ``groomer_ids`` stays empty and ``onset``/``escalation`` None.
The corpora define no splits, so :func:`benchmarks.corpora.splitting.assign_splits` makes a
seeded, author-disjoint one. Conversations without messages are dropped with a warning and
counted in the limitations.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.corpora.base import Corpus, CorpusInfo, build_dataset
from benchmarks.corpora.clock import roll_over_midnight
from benchmarks.corpora.jsonl import CorpusFileError
from benchmarks.corpora.splitting import assign_splits
from benchmarks.errors import ConfigError
from benchmarks.schema import SchemaError, content_fingerprint, normalise_record, validate_record

log = logging.getLogger(__name__)

PARSER_VERSION = "1"
#: The arbitrary day ``HH:MM`` times are placed on: 2000-01-01T00:00:00Z in epoch seconds.
BASE_DAY = 946_684_800.0
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_LABELS = {"0": 0, "1": 1}

CITATION = (
    "Milon-Flores, D. F., & Cordeiro, R. L. F. (2022). How to take advantage of behavioral "
    "features for the early detection of grooming in online conversations. "
    "Knowledge-Based Systems, 240, 108017."
)
LICENCE = "Public research data released by the authors (Milon-Flores & Cordeiro 2022)."
LIMITATIONS: tuple[str, ...] = (
    "Positives are Perverted Justice chats: the 'victims' are adult decoys, not children.",
    "Negatives come from other sources (ZIG chats, chit-chat) and are off-domain: a detector "
    "can separate the classes by source style rather than by grooming.",
    "Labels are per conversation only: no groomer ids, no per-message stages, no onset.",
    "Times are HH:MM placed on an arbitrary day (2000-01-01 UTC) with midnight roll-over; "
    "splits are seeded and author-disjoint, not the authors' own.",
)


def clock_times(values: list[Any]) -> list[float | None]:
    """Turn ``HH:MM`` strings into epoch seconds on :data:`BASE_DAY`, rolling over midnight.

    Raises:
        SchemaError: a value is not ``HH:MM``/``HH:MM:SS`` (the message names its position).

    Examples:
        >>> [t - BASE_DAY for t in clock_times(["23:58", "23:59", "00:01"])]
        [86280.0, 86340.0, 86460.0]
        >>> clock_times([None, ""])
        [None, None]
    """
    clock: list[float | None] = []
    for position, value in enumerate(values):
        if value is None or value == "":
            clock.append(None)
            continue
        match = _CLOCK.fullmatch(value.strip()) if isinstance(value, str) else None
        if not match or int(match[1]) > 23 or int(match[2]) > 59 or int(match[3] or 0) > 59:
            raise SchemaError(f"field 'messages[{position}].time' {value!r} is not HH:MM")
        clock.append(int(match[1]) * 3600.0 + int(match[2]) * 60.0 + int(match[3] or 0))
    rolled, _ = roll_over_midnight(clock)
    return [None if t is None else BASE_DAY + t for t in rolled]


def _record(item: Any, source_file: str) -> dict[str, Any]:
    """Return the schema record of one element of the ``conversation`` array."""
    if not isinstance(item, dict):
        raise SchemaError("must be a JSON object")
    raw_id = item.get("id")
    if isinstance(raw_id, bool) or not isinstance(raw_id, int | str) or str(raw_id) == "":
        raise SchemaError(f"field 'id' must be an integer or a non-empty string, got {raw_id!r}")
    label = item.get("label")
    label_text = str(label) if isinstance(label, int | str) and not isinstance(label, bool) else ""
    if label_text not in _LABELS:
        raise SchemaError(f'field \'label\' must be "0" or "1", got {label!r}')
    messages = item.get("messages")
    if not isinstance(messages, list):
        raise SchemaError("field 'messages' must be a list")
    for position, message in enumerate(messages):
        if not isinstance(message, dict):
            raise SchemaError(f"field 'messages[{position}]' must be an object")
        author = message.get("author")
        if isinstance(author, bool) or not isinstance(author, int | str) or str(author) == "":
            raise SchemaError(f"field 'messages[{position}].author' must be a non-empty string")
        text = message.get("text")
        if text is not None and not isinstance(text, str):
            raise SchemaError(f"field 'messages[{position}].text' must be a string")
    times = clock_times([m.get("time") for m in messages])
    source = item.get("source")
    record = {
        "conversation_id": str(raw_id),
        "label": _LABELS[label_text],
        "messages": [
            {"author": str(m["author"]), "text": m.get("text") or "", "time": t, "index": i}
            for i, (m, t) in enumerate(zip(messages, times, strict=True), start=1)
        ],
        "scenario": source if isinstance(source, str) else "",
        "source": source if isinstance(source, str) and source else source_file,
        "meta": {"file": source_file},
    }
    validate_record(record)
    return record


def read_pjz(path: str | Path) -> tuple[list[dict[str, Any]], int]:
    """Read a PJZ/PJZC file; return (schema records, number of empty conversations dropped).

    Raises:
        ConfigError: the file does not exist.
        CorpusFileError: the file is not UTF-8, not JSON (line and column given), or a
            conversation breaks the shape (its position and field given).
    """
    file = Path(path)
    if not file.is_file():
        raise ConfigError(
            f"corpus file {file} does not exist; expected the PJZ or PJZC JSON file "
            "(set corpus.path)"
        )
    try:
        data = json.loads(file.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as error:
        raise CorpusFileError(
            f"{file}: not UTF-8 text (byte {error.start}: {error.reason}); "
            "re-save the file as UTF-8"
        ) from None
    except json.JSONDecodeError as error:
        raise CorpusFileError(
            f"{file}:{error.lineno}:{error.colno}: not valid JSON ({error.msg})"
        ) from None
    items = data.get("conversation") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise CorpusFileError(f"{file}: expected an object with a 'conversation' list")
    records: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    dropped = 0
    for position, item in enumerate(items):
        where = f"{file}: conversation[{position}]"
        try:
            record = _record(item, file.name)
        except SchemaError as error:
            raise CorpusFileError(f"{where}: {error}") from None
        first = seen.setdefault(record["conversation_id"], position)
        if first != position:
            raise CorpusFileError(
                f"{where}: field 'id' {record['conversation_id']!r} repeats "
                f"conversation[{first}]; conversation ids must be unique"
            )
        if not record["messages"]:
            dropped += 1
            log.warning("%s: no messages; dropped", where)
            continue
        records.append(normalise_record(record, source=file.name))
    return records, dropped


def load_pjz(
    path: str,
    *,
    name: str = "pjz",
    test_fraction: float = 0.3,
    seed: int = 0,
    cache_dir: str | None = None,
) -> Corpus:
    """Load the PJZ or PJZC JSON as a :class:`Corpus` with a seeded, author-disjoint split.

    Args:
        path: the JSON file.
        name: the corpus name ("pjz" or "pjzc"; the config file's name).
        test_fraction: the share of conversations in "test" (see :func:`assign_splits`).
        seed: the split's seed.
        cache_dir: where `datasets` caches the built dataset.
    """
    file = Path(path).expanduser().resolve()
    records, dropped = read_pjz(file)
    if not records:
        raise CorpusFileError(f"{file}: no conversation with messages in the file")
    assign_splits(records, test_fraction=test_fraction, seed=seed)
    file_sha = hashlib.sha256(file.read_bytes()).hexdigest()
    fingerprint = content_fingerprint(
        "pjz", PARSER_VERSION, file_sha, repr(float(test_fraction)), str(seed)
    )

    def generate(rows: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        yield from rows

    dataset = build_dataset(generate, fingerprint, cache_dir, {"rows": records})
    extra = (f"{dropped} conversation(s) without messages dropped",) if dropped else ()
    info = CorpusInfo(
        name=name,
        version=PARSER_VERSION,
        description=(
            f"{name.upper()} (Milon-Flores & Cordeiro 2022) from {file.name}: Perverted "
            "Justice grooming chats against ZIG and chit-chat negatives, labelled per chat."
        ),
        licence=LICENCE,
        citation=CITATION,
        limitations=LIMITATIONS + extra,
        checksums={file.name: file_sha},
    )
    return Corpus(info=info, dataset=dataset, fingerprint=fingerprint)
