"""Records of the PAN12 loader: one schema record per XML conversation (see `pan12`)."""

from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.corpora.pan12_xml import CorpusFileError, iter_conversations

log = logging.getLogger("benchmarks.corpora.pan12")

#: Epoch seconds of 2012-01-01T00:00:00Z, the arbitrary day every conversation starts on.
BASE_DAY = 1325376000.0
#: Log progress every this many conversations.
PROGRESS_EVERY = 20000
_MINUTES = {f"{h:02d}:{m:02d}": 60.0 * (60 * h + m) for h in range(24) for m in range(60)}
_MINUTES.update({f"{h}:{m:02d}": 60.0 * (60 * h + m) for h in range(10) for m in range(60)})


_ENTITY = re.compile(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")


def unescape(text: str) -> str:
    """Undo HTML escaping until the text is stable, at most 3 times.

    Only entities that end in ``;`` are decoded: `html.unescape` also decodes HTML5's legacy
    entities without one, which would turn ordinary chat ("tom&notjerry") into other text.

    Examples:
        >>> unescape("fish &amp;amp;amp;amp; chips")
        'fish &amp; chips'
        >>> unescape("a &lt;3 b")
        'a <3 b'
        >>> unescape("tom&amp;notjerry &copy2")
        'tom&notjerry &copy2'
    """
    for _ in range(3):
        if "&" not in text:
            break
        plain = _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)
        if plain == text:
            break
        text = plain
    return text


class Stats:
    """Counts gathered while parsing one split; saved next to the dataset cache."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = dict.fromkeys(
            (
                "conversations",
                "messages",
                "one_author",
                "only_empty",
                "duplicates",
                "renumbered",
                "bad_times",
                "unknown_predators",
                "unknown_line_conversations",
                "unknown_lines",
                "unmatched_lines",
                "dropped_duplicate_lines",
            ),
            0,
        )


def iter_records(
    split: str,
    chats: Path,
    predators: set[str],
    lines: dict[str, set[int]],
    on_duplicate: str,
    stats: Stats,
) -> Iterator[dict[str, Any]]:
    counts = stats.counts
    seen: dict[str, tuple[int, int]] = {}
    by_content: set[int] = set()
    found_predators: set[str] = set()
    kept_ids: set[str] = set()
    minutes = _MINUTES
    source = chats.name
    for cid, position, raw in iter_conversations(chats):
        # Duplicate detection lives within one load, so Python's own (64-bit, per-process) hash
        # of the messages is enough, and far cheaper than hashing their joined text.
        digest = hash(tuple((a, t, x) for _, a, t, x in raw))
        first = seen.setdefault(cid, (position, digest))
        if first[1] != digest:
            raise CorpusFileError(
                f"{chats}:{position}: conversation id {cid!r} repeats the one at line {first[0]} "
                "with different messages"
            )
        if digest in by_content:
            counts["duplicates"] += 1
            if on_duplicate == "drop":
                # The kept copy has the same messages; its own ground truth stands. Lines listed
                # under the dropped id are counted, not silently lost.
                counts["dropped_duplicate_lines"] += len(lines.get(cid, ()))
                if counts["duplicates"] <= 3:
                    log.warning(
                        "%s:%d: dropping exact duplicate conversation %s", chats, position, cid
                    )
                continue
        by_content.add(digest)
        kept_id, k = cid, 1
        while kept_id in kept_ids:
            k += 1
            kept_id = f"{cid}~{k}"
        kept_ids.add(kept_id)
        messages: list[dict[str, Any]] = []
        authors: set[str] = set()
        previous = day = 0.0
        n_empty = 0
        renumbered = False
        for index, (line, author, hhmm, text) in enumerate(raw, start=1):
            authors.add(author)
            text = unescape(text.strip()) if text else ""
            if not text:
                n_empty += 1
            if line != str(index):
                renumbered = True
            clock = minutes.get(hhmm.strip()) if hhmm else None
            time = None
            if clock is None:
                counts["bad_times"] += 1
            else:
                if clock + day < previous:
                    day += 86400.0
                time = previous = clock + day
                time += BASE_DAY
            messages.append(
                {"author": author, "text": text, "time": time, "index": index, "stages": []}
            )
        listed = lines.get(cid, ())
        if listed:
            present = {int(m[0]) for m in raw if m[0] and m[0].isdigit()}
            counts["unmatched_lines"] += len(set(listed) - present)
        groomers = sorted(authors & predators)
        found_predators.update(groomers)
        meta: dict[str, Any] = {
            "predatory_lines": sorted(lines.get(cid, ())),
            "one_author": len(authors) == 1,
            "n_empty": n_empty,
        }
        if renumbered:
            counts["renumbered"] += 1
            meta["xml_lines"] = [int(m[0]) if m[0] and m[0].isdigit() else None for m in raw]
        counts["conversations"] += 1
        counts["messages"] += len(messages)
        counts["one_author"] += len(authors) == 1
        counts["only_empty"] += n_empty == len(messages)
        if counts["conversations"] % PROGRESS_EVERY == 0:
            log.info(
                "PAN12 %s: %d conversations, %d messages read",
                split,
                counts["conversations"],
                counts["messages"],
            )
        yield {
            "conversation_id": kept_id,
            "messages": messages,
            "label": int(bool(groomers)),
            "groomer_ids": groomers,
            "onset": None,
            "escalation": None,
            "source": source,
            "language": "en",
            "split": split,
            "scenario": "",
            "meta": json.dumps(meta),
        }
    counts["unknown_predators"] = len(predators - found_predators)
    unknown = set(lines) - set(seen)
    counts["unknown_line_conversations"] = len(unknown)
    counts["unknown_lines"] = sum(len(lines[c]) for c in unknown)
