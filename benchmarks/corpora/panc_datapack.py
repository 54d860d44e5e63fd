"""Reading PANC's two file variants into chats: the datapack JSON and the CSV (DOMAIN §3.2).

Both readers return :class:`Chat` objects (a chat's segments of parsed messages) that
:mod:`benchmarks.corpora.panc` turns into schema records. See that module for the formats.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.corpora.clock import roll_over_midnight
from benchmarks.corpora.jsonl import CorpusFileError

#: ChatCoder line codes as the authors' scripts store them, mapped onto DOMAIN §2 labels.
#: "PI" (codes 200/210, personal information) is ``personal_info``; "A" (900/910, approach:
#: proposing a meeting or contact) is ``approach``. "G" (600/610) is ChatCoder's *grooming*
#: category, Olson et al.'s communicative desensitisation and reframing: sexual talk and
#: reframing sexual acts as games or lessons. Of this project's labels, ``sexual`` ("real
#: corpora only") is the one that names that behaviour; the softer ``compliments`` or
#: ``exclusivity`` would understate it. The consequence: G is an escalation stage, so a
#: record's ``escalation`` is its first G *or* A message, as DOMAIN §1 counts sexualisation.
STAGE_MAP: dict[str, str] = {"PI": "personal_info", "G": "sexual", "A": "approach"}
CLASS_LABELS: dict[str, int] = {"predator": 1, "non-predator": 0}
#: The split a datapack or CSV records, read from the end of its datapackID or file name
#: (the authors' scripts write ``datapack-PANC-train.json`` and ``PANC-test.csv``).
_SPLIT_SUFFIX = re.compile(r"[-_](train|test)$")
_SEGMENT_NAME = re.compile(r"^(.+)-(\d+)$")
#: The author of every CSV message: the authors' CSV keeps no authors.
UNKNOWN_AUTHOR = "unknown"
CSV_COLUMNS: tuple[str, ...] = ("label", "chatName", "segment")


@dataclass
class Chat:
    """One chat of a PANC file, cut into segments.

    Attributes:
        name: the chat's name (its key in ``chats``, or a CSV ``chatName`` minus ``-<k>``).
        label: 1 for className "predator", else 0.
        segments: (segment number, messages) in chat order; numbers are the authors' 0-based
            positions among the separator-cut pieces (empty pieces count). Each message is
            ``{author, text, time, stages, predator, line}`` with ``time`` in epoch seconds.
        whole: True when the chat has no separator, so its one segment is named by the chat.
        split: the split the file records, or None.
        source: the file name it came from.
        missing: ``null`` entries in ``content`` (lines the authors' scripts left empty).
        rollovers: times that went back and were read as the next day.
    """

    name: str
    label: int
    segments: list[tuple[int, list[dict[str, Any]]]] = field(default_factory=list)
    whole: bool = True
    split: str | None = None
    source: str = ""
    missing: int = 0
    rollovers: int = 0


def recorded_split(*names: Any) -> str | None:
    """Return "train"/"test" when the first name that has one ends in ``-train``/``-test``.

    Examples:
        >>> recorded_split("PANC-train", "x.json")
        'train'
        >>> recorded_split(None, "PANC-test") , recorded_split("PANC") is None
        ('test', True)
    """
    for name in names:
        if isinstance(name, str):
            match = _SPLIT_SUFFIX.search(name)
            if match:
                return match[1]
    return None


def decode(file: Path) -> str:
    """Return the file's UTF-8 text; raise :class:`CorpusFileError` when it is not UTF-8."""
    try:
        return file.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CorpusFileError(
            f"{file}: not UTF-8 text (byte {error.start}: {error.reason}); "
            "re-save the file as UTF-8"
        ) from None


def _message(item: dict[str, Any], where: str) -> dict[str, Any]:
    for key in ("author", "body", "time", "isFromPredator"):
        if key not in item:
            raise CorpusFileError(f"{where}: message has no key '{key}'")
    author, body, time = item["author"], item["body"], item["time"]
    if isinstance(author, bool) or not isinstance(author, str | int) or str(author) == "":
        raise CorpusFileError(f"{where}: key 'author' must be a non-empty string")
    if body is not None and not isinstance(body, str):
        raise CorpusFileError(f"{where}: key 'body' must be a string or null")
    if time is not None and (isinstance(time, bool) or not isinstance(time, int | float)):
        raise CorpusFileError(f"{where}: key 'time' must be epoch milliseconds or null")
    codes = item.get("labels") or []
    if not isinstance(codes, list):
        raise CorpusFileError(f"{where}: key 'labels' must be a list of PI/G/A codes")
    unknown = [code for code in codes if code not in STAGE_MAP]
    if unknown:
        raise CorpusFileError(
            f"{where}: unknown stage code(s) {unknown!r}; expected "
            f"{', '.join(STAGE_MAP)} (ChatCoder personal information, grooming, approach)"
        )
    line = item.get("lineNum")
    return {
        "author": str(author),
        "text": body or "",
        "time": None if time is None else float(time) / 1000.0,
        "stages": sorted({STAGE_MAP[code] for code in codes}),
        "predator": bool(item["isFromPredator"]),
        "line": line if isinstance(line, int) and not isinstance(line, bool) else None,
    }


def _roll_over(chat: Chat) -> None:
    """Make times non-decreasing: a time before the one before it is moved on whole days.

    The authors' scripts keep only the clock time (on 1970-01-01 UTC), so a chat that runs past
    midnight goes back in time; each such step is read as the next day.
    """
    messages = [m for _, segment in chat.segments for m in segment]
    times, rollovers = roll_over_midnight(m["time"] for m in messages)
    for message, time in zip(messages, times, strict=True):
        message["time"] = time
    chat.rollovers += rollovers


def _chat(name: str, raw: Any, file: Path, split: str | None) -> Chat:
    where = f"{file}: chat {name!r}"
    if not isinstance(raw, dict):
        raise CorpusFileError(f"{where}: must be a JSON object")
    for key in ("className", "content"):
        if key not in raw:
            raise CorpusFileError(f"{where}: has no key '{key}'")
    if raw["className"] not in CLASS_LABELS:
        raise CorpusFileError(
            f'{where}: key \'className\' must be "predator" or "non-predator", '
            f"got {raw['className']!r}"
        )
    content = raw["content"]
    if not isinstance(content, list):
        raise CorpusFileError(f"{where}: key 'content' must be a list")
    chat = Chat(name=name, label=CLASS_LABELS[raw["className"]], split=split, source=file.name)
    pieces: list[list[dict[str, Any]]] = [[]]
    for position, item in enumerate(content):
        if item is None:
            chat.missing += 1
            continue
        line = item.get("lineNum") if isinstance(item, dict) else None
        here = f"{where} line {line}" if line is not None else f"{where} content[{position}]"
        if not isinstance(item, dict):
            raise CorpusFileError(f"{here}: must be a JSON object or null")
        kind = item.get("type")
        if kind == "separator":
            pieces.append([])
        elif kind == "message":
            pieces[-1].append(_message(item, here))
        elif "type" not in item:
            raise CorpusFileError(f"{here}: has no key 'type'")
        else:
            raise CorpusFileError(
                f'{here}: key \'type\' must be "message" or "separator", got {kind!r}'
            )
    chat.whole = len(pieces) == 1
    chat.segments = list(enumerate(pieces))
    _roll_over(chat)
    return chat


def read_datapack(file: Path) -> list[Chat]:
    """Read a datapack JSON; raise :class:`CorpusFileError` naming file, position, chat, key."""
    try:
        data = json.loads(decode(file))
    except json.JSONDecodeError as error:
        raise CorpusFileError(
            f"{file}:{error.lineno}:{error.colno}: not valid JSON ({error.msg})"
        ) from None
    chats = data.get("chats") if isinstance(data, dict) else None
    if not isinstance(chats, dict):
        raise CorpusFileError(
            f"{file}: expected a PANC datapack, an object with a 'chats' object "
            "({datapackID, description, generatedAtTime, chats: {<name>: {...}}})"
        )
    split = recorded_split(data.get("datapackID"), file.stem)
    return [_chat(str(name), raw, file, split) for name, raw in chats.items()]


def _cell_messages(cell: str, where: str) -> list[dict[str, Any]]:
    """Return the messages of a CSV ``segment`` cell (see :mod:`benchmarks.corpora.panc`)."""
    texts: list[str]
    if cell.lstrip().startswith("["):
        try:
            parsed = json.loads(cell)
        except json.JSONDecodeError as error:
            raise CorpusFileError(
                f"{where}: column 'segment' starts with '[' but is not a JSON list of strings "
                f"({error.msg} at column {error.colno})"
            ) from None
        if not isinstance(parsed, list) or not all(isinstance(t, str) for t in parsed):
            raise CorpusFileError(f"{where}: column 'segment' must be a JSON list of strings")
        texts = parsed
    else:
        texts = [cell]
    return [
        {
            "author": UNKNOWN_AUTHOR,
            "text": t,
            "time": None,
            "stages": [],
            "predator": False,
            "line": None,
        }
        for t in texts
    ]


def read_csv(file: Path) -> list[Chat]:
    """Read the CSV variant; raise :class:`CorpusFileError` naming file, row and column."""
    reader = csv.reader(io.StringIO(decode(file), newline=""), strict=True)
    split = recorded_split(file.stem)
    chats: dict[str, Chat] = {}
    seen: dict[str, int] = {}
    try:
        header = next(reader, None)
        if header is None or [h.strip() for h in header] != list(CSV_COLUMNS):
            raise CorpusFileError(
                f"{file}:1: expected the header {','.join(CSV_COLUMNS)} of the authors' "
                f"create_csv.py, got {header!r}"
            )
        for row in reader:
            where = f"{file}:{reader.line_num}"
            if not row:
                continue
            if len(row) != len(CSV_COLUMNS):
                raise CorpusFileError(f"{where}: expected 3 columns, got {len(row)}")
            label, name, cell = row
            if label not in CLASS_LABELS:
                raise CorpusFileError(
                    f'{where}: column \'label\' must be "predator" or "non-predator", got {label!r}'
                )
            if not name:
                raise CorpusFileError(f"{where}: column 'chatName' is empty")
            first = seen.setdefault(name, reader.line_num)
            if first != reader.line_num:
                raise CorpusFileError(f"{where}: chatName {name!r} repeats line {first}")
            match = _SEGMENT_NAME.match(name)
            base, number = (match[1], int(match[2])) if match else (name, 0)
            chat = chats.setdefault(
                base, Chat(name=base, label=CLASS_LABELS[label], split=split, source=file.name)
            )
            if chat.label != CLASS_LABELS[label]:
                raise CorpusFileError(
                    f"{where}: chat {base!r} is labelled {label!r} here and otherwise before"
                )
            if chat.segments and chat.whole != (match is None):
                raise CorpusFileError(
                    f"{where}: chat {base!r} appears both whole ({base!r}) and as segments "
                    f"('{base}-<k>'); a chat is one or the other"
                )
            chat.whole = match is None
            chat.segments.append((number, _cell_messages(cell, where)))
    except csv.Error as error:
        raise CorpusFileError(f"{file}:{reader.line_num}: not valid CSV ({error})") from None
    return list(chats.values())
