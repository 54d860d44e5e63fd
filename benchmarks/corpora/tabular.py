"""A user's own conversations from a Parquet or CSV export: one message per row.

Columns, by this project's name. ``columns`` maps a name to your column's name; a name left
out keeps its default, the name itself. Required columns must exist; an optional one is read
when present and must exist when renamed; one mapped to null or "" is not read::

    conversation_id  required  the conversation a row belongs to (any type; made a string)
    author           required  who wrote the message (non-empty)
    text             required  the message (empty or null: "")
    label            required  1 grooming, 0 not (0/1, true/false, "0"/"1"); the same on every
                               row of a conversation
    time             optional  epoch seconds, ISO 8601 text (no zone = UTC) or a Parquet
                               timestamp; empty = unknown
    stages           optional  DOMAIN §2 stage labels: "a;b" or "a|b" text, or a Parquet list
    groomer          optional  true when this row's author grooms (true/false, 1/0, yes/no)
    groomer_ids      optional  groomer author ids, "a;b" text or a list, on any row(s)
    split            optional  split name, the same on every row of a conversation; without
                               this column a seeded, author-disjoint split is made
    language, platform, source   optional; the first non-empty value of a conversation counts

A conversation's messages are its rows in file order (rows need not be contiguous); they are
never re-sorted by time, so a time earlier than the one before stops the load: sort the export
first. Conversations come in the order of their first row. Row numbers in messages are 1-based
and do not count a CSV header. A bad value stops the load naming the file, row and column,
unless ``on_error="skip"``, which drops that row's whole conversation and counts it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.corpora.base import Corpus, CorpusInfo, build_dataset
from benchmarks.corpora.jsonl import CorpusFileError, _parse_time
from benchmarks.corpora.splitting import assign_splits
from benchmarks.corpora.table_files import read_file
from benchmarks.errors import ConfigError, shown
from benchmarks.schema import STAGES, SchemaError, content_fingerprint, normalise_record
from benchmarks.schema import validate_record as _validate

log = logging.getLogger(__name__)

PARSER_VERSION = "1"
REQUIRED: tuple[str, ...] = ("conversation_id", "author", "text", "label")
OPTIONAL: tuple[str, ...] = (
    "time", "stages", "groomer", "groomer_ids", "split", "language", "platform", "source",
)  # fmt: skip
#: This project's column names, each mapped to itself (the default mapping).
COLUMNS: dict[str, str] = {key: key for key in REQUIRED + OPTIONAL}
FORMATS: dict[str, str] = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}
_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f", ""}


class _Cell(SchemaError):
    """A row's value breaks a per-conversation rule; ``key`` names the column."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def _string(value: Any) -> str:
    return "" if value is None else str(value)


def _required(value: Any) -> str:
    if value is None or str(value).strip() == "":
        raise SchemaError("is empty; a value is required")
    return str(value)


def _flag(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise SchemaError(f"{shown(value)} is not true/false or 1/0")


def _label(value: Any) -> int:
    if value is None or str(value).strip() == "":
        raise SchemaError("is empty; a label 0 or 1 is required")
    text = str(value).strip().lower()
    if text in ("1", "true", "1.0"):
        return 1
    if text in ("0", "false", "0.0"):
        return 0
    raise SchemaError(f"{shown(value)} is not a label 0 or 1")


def _time(value: Any) -> float | None:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
        with contextlib.suppress(ValueError):
            value = float(value)
    parsed = _parse_time(value)
    if parsed is not None and not math.isfinite(parsed):
        raise SchemaError(f"time {shown(value)} is not finite")
    return parsed


def _labels(value: Any) -> list[str]:
    """Split ``"a;b"``/``"a|b"`` text, or take a list; drop empty items."""
    items = value if isinstance(value, list) else re.split(r"[;|]", _string(value))
    return [str(x).strip() for x in items if x is not None and str(x).strip()]


def _stages(value: Any) -> list[str]:
    stages = _labels(value)
    unknown = sorted(set(stages) - set(STAGES))
    if unknown:
        names = ", ".join(shown(x, 30) for x in unknown[:5])
        raise SchemaError(f"unknown stage labels [{names}]; known: {', '.join(STAGES)}")
    return stages


#: Columns whose cells may be lists (Parquet list columns); the others hold one value per row.
LIST_COLUMNS = frozenset({"stages", "groomer_ids"})


def _plain(value: Any, key: str) -> Any:
    """A cell as text, a number, a bool, a datetime, a list (list columns) or None.

    Parquet can hold what a message row cannot: bytes (decoded when they are UTF-8, refused
    otherwise), NaN (missing, as pandas writes it), lists and structs where one value belongs.
    Nothing is turned into a Python repr such as ``"b'hello'"``.
    """
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError as error:
            raise SchemaError(
                f"holds bytes that are not UTF-8 (byte 0x{value[error.start]:02x} at position "
                f"{error.start + 1}); store text as UTF-8 strings"
            ) from None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, list | tuple) and key in LIST_COLUMNS:
        items = [_plain(item, key) for item in value]
        if any(isinstance(item, list | dict) for item in items):
            raise SchemaError("holds a nested list; give a flat list of labels")
        return items
    if isinstance(value, list | tuple | dict):
        kind = "a list" if isinstance(value, list | tuple) else "a struct"
        raise SchemaError(f"holds {kind}; this column needs one value per row")
    return value


PARSERS: dict[str, Callable[[Any], Any]] = dict(
    conversation_id=_required, author=_required, text=_string, label=_label, time=_time,
    stages=_stages, groomer=_flag, groomer_ids=_labels, split=_required, language=_string,
    platform=_string, source=_string,
)  # fmt: skip


def resolve_format(path: Path, format: str | None) -> str:
    """Return "parquet" or "csv": ``format`` when given, else from the file's suffix."""
    chosen = format or FORMATS.get(path.suffix.lower())
    if chosen not in ("parquet", "csv"):
        raise ConfigError(
            f"cannot read {path} as {format or 'an unknown format'}; set corpus.format to "
            "parquet or csv (or name the file .parquet or .csv)"
        )
    return chosen


def resolve_columns(columns: Mapping[str, str | None] | None) -> dict[str, str]:
    """Return the full mapping: :data:`COLUMNS` updated with ``columns``.

    A key mapped to null or "" is not read (an optional column only); unknown keys fail.

    Examples:
        >>> resolve_columns({"text": "body", "split": None})["text"]
        'body'
        >>> "split" in resolve_columns({"split": None})
        False
    """
    given = {str(k): "" if v is None else str(v) for k, v in (columns or {}).items()}
    unknown = sorted(set(given) - set(COLUMNS))
    if unknown:
        raise ConfigError(
            f"corpus.columns has unknown key(s) {unknown}; known: {', '.join(COLUMNS)}"
        )
    for key in REQUIRED:
        if given.get(key) == "":
            raise ConfigError(f"corpus.columns.{key} cannot be empty: the column is required")
    return {k: v for k, v in (COLUMNS | given).items() if v}


def read_table(
    path: str | Path,
    *,
    format: str | None = None,
    columns: Mapping[str, str | None] | None = None,
    on_error: str = "raise",
    max_decompressed_mb: int = 2048,
) -> tuple[list[dict[str, Any]], int, bool]:
    """Read an export; return (schema records, skipped conversations, whether it had splits)."""
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    file = Path(path)
    mapping = resolve_columns(columns)
    if not file.is_file():
        raise ConfigError(
            f"corpus file {file} does not exist; expected a Parquet or CSV export with one "
            "message per row (set corpus.path)"
        )
    is_number = isinstance(max_decompressed_mb, int | float) and not isinstance(
        max_decompressed_mb, bool
    )
    if not is_number or not max_decompressed_mb > 0:
        raise ConfigError(
            f"corpus.max_decompressed_mb must be a positive number of MiB, got "
            f"{shown(max_decompressed_mb)}"
        )
    names = list(mapping.values())
    limit = int(max_decompressed_mb * (1 << 20))
    table = read_file(file, resolve_format(file, format), names, limit)
    present = table.column_names
    for key, column in mapping.items():
        explicit = column != key  # a renamed column must exist; a default one may be absent
        if column not in present and (key in REQUIRED or explicit):
            default = "" if explicit else " (the default name)"
            raise CorpusFileError(
                f"{file}: no column '{column}'{default} for '{key}' (corpus.columns.{key}); "
                f"columns present: {', '.join(present)}"
            )
    used = {key: table.column(col).to_pylist() for key, col in mapping.items() if col in present}
    convs: dict[str, dict[str, Any]] = {}
    bad: dict[str, str] = {}
    for row in range(table.num_rows):
        number = row + 1
        key = "conversation_id"
        try:
            cid = _required(_plain(used[key][row], key))
            conv = convs.setdefault(cid, {"row": number, "messages": [], "ids": {}})
            if cid in bad:
                continue
            cells: dict[str, Any] = {}
            for key, values in used.items():
                cells[key] = PARSERS[key](_plain(values[row], key))
            _add_row(conv, cells, number)
        except SchemaError as error:
            column = error.key if isinstance(error, _Cell) else key
            where = f"{file}: row {number}, column '{mapping[column]}' ({column})"
            if on_error == "raise":
                raise CorpusFileError(f"{where}: {error}") from None
            raw = used["conversation_id"][row]
            try:
                raw = _plain(raw, "conversation_id")
            except SchemaError:
                raw = None
            bad.setdefault(f"<row {number}>" if raw is None else str(raw), f"{where}: {error}")
    records = []
    for cid, conv in convs.items():
        if cid in bad:
            continue
        record = _record(cid, conv, file.name)
        try:
            _validate(record)
        except SchemaError as error:
            message = f"{file}: conversation {shown(cid)} (first row {conv['row']}): {error}"
            if on_error == "raise":
                raise CorpusFileError(message) from None
            bad[cid] = message
            continue
        records.append(normalise_record(record, source=file.name))
    for message in bad.values():
        log.warning("skipping a conversation: %s", message)
    if bad:
        log.warning("skipped %d bad conversation(s) of %s", len(bad), file)
    return records, len(bad), "split" in used


def _add_row(conv: dict[str, Any], cells: dict[str, Any], number: int) -> None:
    """Append one parsed row to its conversation, checking per-conversation constants."""
    for key in ("label", "split"):
        if key not in cells:
            continue
        first = conv.setdefault(key, cells[key])
        if cells[key] != first:
            raise _Cell(
                key,
                f"{shown(cells[key])} differs from {shown(first)} on row {conv['row']}, the "
                f"conversation's first row; {key} is per conversation",
            )
    time = cells.get("time")
    last = conv.get("last_time")
    if time is not None:
        if last is not None and time < last:
            raise _Cell(
                "time",
                f"{time} is earlier than the previous message ({last}); rows must be in chat order",
            )
        conv["last_time"] = time
    for key in ("language", "platform", "source"):
        if cells.get(key) and not conv.get(key):
            conv[key] = cells[key]
    if cells.get("groomer"):
        conv["ids"][cells["author"]] = None
    for author in cells.get("groomer_ids", []):
        conv["ids"][author] = None
    message = {key: cells.get(key, "") for key in ("author", "text")}
    index = len(conv["messages"]) + 1
    conv["messages"].append(message | {"time": time, "index": index, "stages": cells.get("stages")})


def _record(cid: str, conv: dict[str, Any], file_name: str) -> dict[str, Any]:
    return {
        "conversation_id": cid,
        "label": conv["label"],
        "messages": conv["messages"],
        "groomer_ids": list(conv["ids"]),
        "split": conv.get("split", ""),
        "language": conv.get("language", ""),
        "source": conv.get("source") or file_name,
        "meta": {"platform": conv["platform"]} if conv.get("platform") else {},
    }


def load_table(
    path: str,
    *,
    format: str | None = None,
    columns: Mapping[str, str | None] | None = None,
    name: str = "table",
    on_error: str = "raise",
    max_decompressed_mb: int = 2048,
    test_fraction: float = 0.3,
    seed: int = 0,
    cache_dir: str | None = None,
) -> Corpus:
    """Load a Parquet or CSV export (one message per row) as a :class:`Corpus`.

    Args:
        path: the file.
        format: "parquet" or "csv"; None infers it from the suffix (.parquet, .pq, .csv).
        columns: this project's column names mapped to the file's (see the module docstring);
            names left out keep their default, the name itself.
        name: the corpus name (the config file's name).
        on_error: "raise" stops at the first bad value; "skip" drops bad conversations.
        max_decompressed_mb: refuse a Parquet file whose read columns decode to more (a guard
            against a tiny file that expands to gigabytes).
        test_fraction: the "test" share when the file has no split column.
        seed: the seed of that split.
        cache_dir: where `datasets` caches the built dataset.
    """
    file = Path(path).expanduser().resolve()
    fmt = resolve_format(file, format)
    mapping = resolve_columns(columns)
    records, skipped, has_splits = read_table(
        file,
        format=fmt,
        columns=columns,
        on_error=on_error,
        max_decompressed_mb=max_decompressed_mb,
    )
    if not records:
        raise CorpusFileError(f"{file}: no valid conversation in the file")
    if not has_splits:
        assign_splits(records, test_fraction=test_fraction, seed=seed)
    digest = hashlib.sha256()
    with file.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    file_sha = digest.hexdigest()
    fingerprint = content_fingerprint(
        "table",
        PARSER_VERSION,
        fmt,
        file_sha,
        json.dumps(mapping, sort_keys=True),
        on_error,
        "" if has_splits else f"{float(test_fraction)!r}:{seed}",
    )

    def generate(rows: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        yield from rows

    dataset = build_dataset(generate, fingerprint, cache_dir, {"rows": records})
    limitations = [] if has_splits else ["splits are seeded and author-disjoint, not the file's"]
    if skipped:
        limitations.append(f"{skipped} bad conversation(s) skipped")
    info = CorpusInfo(
        name=name,
        version=PARSER_VERSION,
        description=f"A user's conversations from {file.name} ({fmt}, one message per row).",
        limitations=tuple(limitations),
        checksums={file.name: file_sha},
    )
    return Corpus(info=info, dataset=dataset, fingerprint=fingerprint)
