"""A user's own conversations from a JSONL file: one conversation per line.

Schema of a line (extra keys are ignored)::

    {"conversation_id": "c1",            # required, unique
     "label": 1,                          # required: 1 grooming, 0 not
     "messages": [                        # required, in chat order
        {"author": "u1", "text": "hi",    # required
         "time": 1700000000.0,            # optional: epoch seconds, or ISO 8601 (no zone = UTC)
         "stages": ["rapport"]}],         # optional: DOMAIN §2 labels
     "groomer_ids": ["u1"],               # optional
     "onset": 3, "escalation": 9,         # optional 1-based indices; derived from stages if absent
     "source": "...", "language": "en", "split": "test", "scenario": "...",
     "meta": {...}}                       # optional

Message ``index`` is assigned from the order (1-based). A malformed line stops the load with
an error naming the file, line and field, unless ``on_error="skip"``, which skips such lines
and reports how many were skipped.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.corpora.base import Corpus, CorpusInfo, build_dataset
from benchmarks.errors import ConfigError, bounded, shown, type_name
from benchmarks.schema import SchemaError, content_fingerprint, normalise_record, validate_record

log = logging.getLogger(__name__)

PARSER_VERSION = "1"
BOM = b"\xef\xbb\xbf"


class CorpusFileError(ConfigError):
    """A corpus file is malformed; the message names the file, line and field."""


def _parse_time(value: Any) -> float | None:
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        if value is None:
            return None
        try:
            return float(value)
        except OverflowError:  # an integer too large for a float
            raise SchemaError("time is too large for epoch seconds") from None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            # A time without a zone is read as UTC, never as this machine's local zone.
            return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
    raise SchemaError(
        f"time {shown(value)} is neither epoch seconds nor ISO 8601 text "
        "(e.g. 1700000000 or 2024-01-31T10:00:00+00:00)"
    )


def _decode(raw: bytes) -> str:
    """A line's text; invalid UTF-8 is an error naming the byte, never a replacement char."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SchemaError(
            f"not UTF-8 text (byte 0x{raw[error.start]:02x} at column {error.start + 1}); "
            "re-save the file as UTF-8"
        ) from None


def _parse_line(raw: str) -> dict[str, Any]:
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as error:
        raise SchemaError(f"not valid JSON ({error.msg} at column {error.colno})") from None
    except RecursionError:
        raise SchemaError(
            "JSON nested too deeply to read; a conversation needs only a few levels"
        ) from None
    except ValueError as error:  # e.g. an integer of more than 4,300 digits
        reason = "a number is too long" if "digits" in str(error) else bounded(str(error), 200)
        raise SchemaError(f"not a usable JSON value ({reason})") from None
    if not isinstance(obj, dict):
        raise SchemaError(f"a line must hold one JSON object, got {type_name(obj)}")
    messages = obj.get("messages")
    if isinstance(messages, list):
        fixed = []
        for position, message in enumerate(messages, start=1):
            if not isinstance(message, dict):
                raise SchemaError(f"field 'messages[{position - 1}]' must be an object")
            try:
                time = _parse_time(message.get("time"))
            except SchemaError as error:
                raise SchemaError(f"field 'messages[{position - 1}].time': {error}") from None
            fixed.append(message | {"index": position, "time": time})
        obj["messages"] = fixed
    validate_record(obj)
    if not obj["messages"]:
        raise SchemaError("field 'messages' is empty: a conversation needs a message")
    return obj


def read_jsonl(path: str | Path, *, on_error: str = "raise") -> tuple[list[dict[str, Any]], int]:
    """Read and validate a JSONL corpus; return (schema records, number of skipped lines)."""
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    file = Path(path)
    if not file.exists():
        raise ConfigError(f"corpus file {file} does not exist; set corpus.path")
    records: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    skipped = 0
    with file.open("rb") as handle:
        for number, data in enumerate(handle, start=1):
            if number == 1 and data.startswith(BOM):
                data = data[len(BOM) :]  # a byte-order mark, as some editors write (CSV too)
            if not data.strip():
                continue
            try:
                record = _parse_line(_decode(data))
                first = seen.setdefault(record["conversation_id"], number)
                if first != number:
                    raise SchemaError(
                        f"field 'conversation_id' {shown(record['conversation_id'])} repeats "
                        f"line {first}; conversation ids must be unique"
                    )
            except SchemaError as error:
                if on_error == "raise":
                    raise CorpusFileError(f"{file}:{number}: {error}") from None
                skipped += 1
                log.warning("skipping %s:%d: %s", file, number, error)
                continue
            records.append(normalise_record(record, source=file.name))
    if skipped:
        log.warning("skipped %d malformed line(s) of %s", skipped, file)
    return records, skipped


def load_jsonl(
    path: str,
    *,
    on_error: str = "raise",
    name: str = "jsonl",
    cache_dir: str | None = None,
) -> Corpus:
    """Load a JSONL corpus as a :class:`Corpus` fingerprinted by file content."""
    file = Path(path).expanduser().resolve()
    records, skipped = read_jsonl(file, on_error=on_error)
    if not records:
        raise CorpusFileError(f"{file}: no valid conversation in the file")
    file_sha = hashlib.sha256(file.read_bytes()).hexdigest()
    fingerprint = content_fingerprint("jsonl", PARSER_VERSION, file_sha, on_error)

    def generate(rows: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        yield from rows

    dataset = build_dataset(generate, fingerprint, cache_dir, {"rows": records})
    info = CorpusInfo(
        name=name,
        version=PARSER_VERSION,
        description=f"A user's conversations from {file.name}.",
        limitations=(f"{skipped} malformed line(s) skipped",) if skipped else (),
        checksums={file.name: file_sha},
    )
    return Corpus(info=info, dataset=dataset, fingerprint=fingerprint)
