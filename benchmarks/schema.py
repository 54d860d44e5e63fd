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

from benchmarks.errors import shown, type_name
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
#: Optional fields that hold text when present.
OPTIONAL_TEXT: tuple[str, ...] = ("source", "language", "split", "scenario")


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


def _text(value: Any, where: str, *, required: bool = False) -> None:
    """Check that ``value`` is text that UTF-8 can hold (or null when not ``required``)."""
    if value is None and not required:
        return
    if not isinstance(value, str):
        raise SchemaError(f"field '{where}' must be text, got {type_name(value)}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise SchemaError(
            f"field '{where}' holds a lone surrogate (\\u{ord(value[error.start]):04x} at "
            f"character {error.start + 1}), which is not Unicode text; re-export the file "
            "as UTF-8"
        ) from None


def _text_list(value: Any, where: str) -> list[str]:
    """Check that ``value`` is null or a list of text; a single string is refused."""
    if value is None:
        return []
    if not isinstance(value, list):
        hint = ' (write ["…"], not "…")' if isinstance(value, str) else ""
        raise SchemaError(f"field '{where}' must be a list of text, got {type_name(value)}{hint}")
    for position, item in enumerate(value):
        _text(item, f"{where}[{position}]", required=True)
    return value


def _index(value: Any, where: str, count: int) -> None:
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= count:
        raise SchemaError(f"field '{where}' must be a message index in 1..{count}")


def validate_record(record: Mapping[str, Any]) -> None:
    """Raise :class:`SchemaError` naming the first field that breaks the schema.

    Every field is checked for its type as well as its value, so that nothing is coerced
    silently (``"groomer_ids": "u1"`` is an error, not ``["u", "1"]``), and every string for
    being Unicode that UTF-8 can store (a lone surrogate from ``"\\ud800"`` is refused).
    Messages name the field and the value's type, never chat text.

    Examples:
        >>> ok = {"conversation_id": "c", "label": 0,
        ...       "messages": [{"author": "a", "text": "hi", "index": 1}]}
        >>> validate_record(ok)
        >>> validate_record(ok | {"split": 5})
        Traceback (most recent call last):
        ...
        benchmarks.schema.SchemaError: field 'split' must be text, got a number
    """
    for name in REQUIRED_FIELDS:
        if name not in record or record[name] is None:
            raise SchemaError(f"missing required field '{name}'")
    _text(record["conversation_id"], "conversation_id", required=True)
    if not record["conversation_id"]:
        raise SchemaError("field 'conversation_id' must be a non-empty string")
    label = record["label"]
    # 1.0 is what pandas writes for an integer column with a gap: accepted, as CSV does.
    if isinstance(label, bool) or not isinstance(label, int | float) or label not in (0, 1):
        raise SchemaError(f"field 'label' must be 0 or 1, got {shown(label)}")
    messages = record["messages"]
    if not isinstance(messages, list):
        raise SchemaError(f"field 'messages' must be a list, got {type_name(messages)}")
    for name in OPTIONAL_TEXT:
        _text(record.get(name), name)
    _text_list(record.get("groomer_ids"), "groomer_ids")
    meta = record.get("meta")
    if meta is not None and not isinstance(meta, str | Mapping):
        raise SchemaError(f"field 'meta' must be an object, got {type_name(meta)}")
    if isinstance(meta, str):
        _text(meta, "meta")
    previous_time: float | None = None
    for position, message in enumerate(messages, start=1):
        where = f"messages[{position - 1}]"
        if not isinstance(message, Mapping):
            raise SchemaError(f"field '{where}' must be an object, got {type_name(message)}")
        for key in ("author", "text"):
            if not isinstance(message.get(key), str):
                raise SchemaError(f"field '{where}.{key}' must be a string")
            _text(message[key], f"{where}.{key}", required=True)
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
        stages = _text_list(message.get("stages"), f"{where}.stages")
        unknown = set(stages) - set(STAGES)
        if unknown:
            names = [shown(x, 30) for x in sorted(unknown)[:5]]
            raise SchemaError(
                f"field '{where}.stages' has unknown labels [{', '.join(names)}]; "
                f"known: {', '.join(STAGES)}"
            )
    for name in ("onset", "escalation"):
        _index(record.get(name), name, len(messages))


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
