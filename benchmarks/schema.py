"""The one record schema every corpus produces: conversations of ordered messages.

A record is a plain dict (what `datasets` stores). Field meanings:

- ``conversation_id`` (str): unique within the corpus.
- ``messages`` (list): in chat order, each ``{author, text, time, index, stages}``:
  ``index`` is 1-based and contiguous; ``time`` is epoch seconds (float) or None when the
  corpus has no usable clock; ``stages`` is a list of labels from :data:`STAGES` (empty when
  unlabelled or benign).
- ``label`` (int): 1 when the conversation contains grooming, else 0.
- ``groomer_ids`` (list[str]): authors who groom (empty for negatives).
- ``onset`` (int | None): 1-based index of the first grooming-stage message (any stage but
  ``rapport``); None when unknown or negative.
- ``escalation`` (int | None): 1-based index of the first message labelled with one of
  :data:`ESCALATION_STAGES`; None when none or unknown.
- ``source``, ``language``, ``split`` (str): provenance, ISO 639-1 code, split name.
- ``scenario`` (str): generator scenario or corpus sub-source; "" when not applicable.
- ``meta`` (str): JSON object with anything else (personas, platform); "{}" when empty.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from datasets import Features, List, Value

from detectors.stages import STAGES as STAGES  # one list, shared with the SDK

SCHEMA_VERSION = "1"

#: Stages that mark the onset of grooming (rapport alone occurs in every chat).
ONSET_STAGES: frozenset[str] = frozenset(STAGES) - {"rapport"}
#: The first message with one of these is the escalation point.
ESCALATION_STAGES: frozenset[str] = frozenset(
    {"platform_move", "approach", "image_request", "sexual"}
)

MESSAGE_FEATURES = {
    "author": Value("string"),
    "text": Value("string"),
    "time": Value("float64"),
    "index": Value("int32"),
    "stages": List(Value("string")),
}

FEATURES = Features(
    {
        "conversation_id": Value("string"),
        "messages": List(MESSAGE_FEATURES),
        "label": Value("int8"),
        "groomer_ids": List(Value("string")),
        "onset": Value("int32"),
        "escalation": Value("int32"),
        "source": Value("string"),
        "language": Value("string"),
        "split": Value("string"),
        "scenario": Value("string"),
        "meta": Value("string"),
    }
)

REQUIRED_FIELDS: tuple[str, ...] = ("conversation_id", "messages", "label")


class SchemaError(ValueError):
    """A record does not follow the schema; the message names the field."""


def first_index_with(messages: Iterable[Mapping[str, Any]], stages: frozenset[str]) -> int | None:
    """Return the 1-based index of the first message carrying any of ``stages``.

    Examples:
        >>> msgs = [{"index": 1, "stages": ["rapport"]}, {"index": 2, "stages": ["secrecy"]}]
        >>> first_index_with(msgs, ONSET_STAGES)
        2
        >>> first_index_with(msgs, ESCALATION_STAGES) is None
        True
    """
    for message in messages:
        if stages.intersection(message.get("stages") or ()):
            return int(message["index"])
    return None


def validate_record(record: Mapping[str, Any]) -> None:
    """Raise :class:`SchemaError` naming the first field that breaks the schema."""
    for name in REQUIRED_FIELDS:
        if name not in record or record[name] is None:
            raise SchemaError(f"missing required field '{name}'")
    if not isinstance(record["conversation_id"], str) or not record["conversation_id"]:
        raise SchemaError("field 'conversation_id' must be a non-empty string")
    if record["label"] not in (0, 1) or isinstance(record["label"], bool):
        raise SchemaError(f"field 'label' must be 0 or 1, got {record['label']!r}")
    messages = record["messages"]
    if not isinstance(messages, list):
        raise SchemaError("field 'messages' must be a list")
    previous_time: float | None = None
    for position, message in enumerate(messages, start=1):
        where = f"messages[{position - 1}]"
        if not isinstance(message, Mapping):
            raise SchemaError(f"field '{where}' must be an object")
        for key in ("author", "text"):
            if not isinstance(message.get(key), str):
                raise SchemaError(f"field '{where}.{key}' must be a string")
        if message.get("index") != position:
            raise SchemaError(f"field '{where}.index' must be {position} (1-based, contiguous)")
        time = message.get("time")
        if time is not None:
            number = isinstance(time, int | float) and not isinstance(time, bool)
            if not number or not math.isfinite(time):
                raise SchemaError(f"field '{where}.time' must be finite epoch seconds or null")
            if previous_time is not None and time < previous_time:
                raise SchemaError(
                    f"field '{where}.time' goes back in time ({time} < {previous_time}); "
                    "messages must be in chat order"
                )
            previous_time = float(time)
        unknown = set(message.get("stages") or ()) - set(STAGES)
        if unknown:
            raise SchemaError(f"field '{where}.stages' has unknown labels {sorted(unknown)}")
    for name in ("onset", "escalation"):
        value = record.get(name)
        if value is not None and not (isinstance(value, int) and 1 <= value <= len(messages)):
            raise SchemaError(f"field '{name}' must be a message index in 1..{len(messages)}")


def normalise_record(record: Mapping[str, Any], **defaults: Any) -> dict[str, Any]:
    """Return a full schema record, filling optional fields from ``defaults`` then blanks."""
    messages = [
        {
            "author": m["author"],
            "text": m["text"],
            "time": None if m.get("time") is None else float(m["time"]),
            "index": int(m["index"]),
            "stages": list(m.get("stages") or []),
        }
        for m in record["messages"]
    ]
    out: dict[str, Any] = {
        "conversation_id": record["conversation_id"],
        "messages": messages,
        "label": int(record["label"]),
        "groomer_ids": list(record.get("groomer_ids") or []),
        "onset": record.get("onset"),
        "escalation": record.get("escalation"),
        "source": record.get("source") or defaults.get("source", ""),
        "language": record.get("language") or defaults.get("language", "en"),
        "split": record.get("split") or defaults.get("split", "test"),
        "scenario": record.get("scenario") or defaults.get("scenario", ""),
        "meta": record.get("meta")
        if isinstance(record.get("meta"), str)
        else json.dumps(record.get("meta") or {}, sort_keys=True),
    }
    if out["onset"] is None:
        out["onset"] = first_index_with(messages, ONSET_STAGES)
    if out["escalation"] is None:
        out["escalation"] = first_index_with(messages, ESCALATION_STAGES)
    return out


def content_fingerprint(*parts: str | bytes) -> str:
    """Return the sha256 hex digest of ``parts`` (each length-prefixed, so order matters).

    Examples:
        >>> content_fingerprint("a", "b") != content_fingerprint("ab")
        True
    """
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()
