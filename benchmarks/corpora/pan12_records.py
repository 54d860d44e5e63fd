"""Records of the PAN12 loader: one schema record per XML conversation (see `pan12`).

Records are built column by column, straight into pyarrow record batches, not as a dict per
message converted by `pyarrow.RecordBatch.from_pylist`; with the garbage collector paused
(`gc_paused`) that halves a first load at PAN12 scale, within issue 3's budget of 3x a bare
``iterparse`` pass. The per-message work left in Python is one list comprehension over the
texts; clocks, midnight roll-over and indices are numpy.
"""

from __future__ import annotations

import gc
import html
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pyarrow as pa

from benchmarks.corpora.pan12_xml import CorpusFileError, RawBatch, iter_conversations
from benchmarks.schema import FEATURES

log = logging.getLogger("benchmarks.corpora.pan12")

#: Epoch seconds of 2012-01-01T00:00:00Z, the arbitrary day every conversation starts on.
BASE_DAY = 1325376000.0
#: Log progress every this many conversations.
PROGRESS_EVERY = 20000
#: Conversations per record batch written (at least; a batch ends with a chunk of the XML).
BATCH_ROWS = 2000
#: Seconds after midnight by "HH:MM" (and "H:MM"); keyed by ``str | None`` so that a missing
#: time looks up as missing.
_MINUTES: dict[str | None, float] = {
    f"{h:02d}:{m:02d}": 60.0 * (60 * h + m) for h in range(24) for m in range(60)
}
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


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a split is parsed.

    The loader makes millions of short-lived objects and no reference cycles, so reference
    counting frees everything anyway; the collector's passes only cost time (10 of 26 s of a
    PAN12-scale first load when records were dicts). Restores the collector's previous state.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_INDEX = [str(k) for k in range(1, 1001)]


def _index_strings(n: int) -> list[str]:
    """Return ``["1", ..., str(n)]``: the ``line`` attributes of a conversation numbered 1..n."""
    while len(_INDEX) < n:
        _INDEX.extend(str(k) for k in range(len(_INDEX) + 1, 2 * len(_INDEX) + 1))
    return _INDEX[:n]


def _clocks(times: list[str | None]) -> np.ndarray:
    """Return the seconds after midnight of each "HH:MM" (NaN when missing or unparseable)."""
    minutes = _MINUTES
    clocks = np.array(list(map(minutes.get, times)), dtype=np.float64)
    for i in np.flatnonzero(np.isnan(clocks)).tolist():
        hhmm = times[i]
        if hhmm:  # " 9:05 " parses once stripped
            clocks[i] = minutes.get(hhmm.strip(), np.nan)
    return clocks


def _epoch_times(clocks: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Place each conversation's clocks on :data:`BASE_DAY`, a day later after each roll-over.

    A clock earlier than the conversation's previous valid one means the next day; NaN clocks
    stay NaN and do not count as previous.
    """
    group = np.repeat(np.arange(len(lengths)), lengths)
    valid = np.flatnonzero(~np.isnan(clocks))
    values, groups = clocks[valid], group[valid]
    same = groups[1:] == groups[:-1]
    rolls = np.zeros(len(values), dtype=np.int64)
    rolls[1:] = (values[1:] < values[:-1]) & same
    days = np.cumsum(rolls)
    first = np.ones(len(values), dtype=bool)
    first[1:] = ~same
    days -= np.maximum.accumulate(np.where(first, days, 0))
    times = clocks.copy()
    times[valid] = values + days * 86400.0 + BASE_DAY
    return times


class _Columns:
    """One record batch under construction: per-record lists, per-message slices."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.labels: list[int] = []
        self.groomers: list[list[str]] = []
        self.metas: list[str] = []
        self.lengths: list[int] = []
        self.authors: list[str] = []
        self.texts: list[str] = []
        self.clocks: list[np.ndarray] = []
        self.bad_times = 0

    def add_rows(
        self, raw: RawBatch, texts: list[str], clocks: np.ndarray, kept: list[int]
    ) -> None:
        """Append the messages of the kept conversations (indices into ``raw``)."""
        begins, ends = raw.begins, raw.ends
        runs: list[tuple[int, int]] = []
        for i in kept:  # Merge back-to-back conversations into one slice.
            if runs and runs[-1][1] == begins[i]:
                runs[-1] = (runs[-1][0], ends[i])
            else:
                runs.append((begins[i], ends[i]))
        for b, e in runs:
            self.authors += raw.authors[b:e]
            self.texts += texts[b:e]
            self.clocks.append(clocks[b:e])

    def batch(self, source: str, split: str) -> pa.RecordBatch:
        """Return the record batch (schema :data:`FEATURES`) of everything added."""
        schema = SCHEMA
        n = len(self.ids)
        lengths = np.asarray(self.lengths, dtype=np.int64)
        total = int(lengths.sum())
        offsets = np.zeros(n + 1, dtype=np.int32)
        np.cumsum(lengths, out=offsets[1:])
        clocks = np.concatenate(self.clocks) if self.clocks else np.zeros(0)
        self.bad_times = int(np.isnan(clocks).sum())
        times = _epoch_times(clocks, lengths)
        index = np.arange(1, total + 1, dtype=np.int32) - np.repeat(offsets[:-1], lengths)
        message_type = schema.field("messages").type
        fields = list(message_type.value_type)
        stages = pa.ListArray.from_arrays(
            pa.array(np.zeros(total + 1, dtype=np.int32)),
            pa.array([], pa.string()),
            type=fields[4].type,
        )
        messages = pa.StructArray.from_arrays(
            [
                pa.array(self.authors, pa.string()),
                pa.array(self.texts, pa.string()),
                pa.array(times, pa.float64(), from_pandas=True),  # NaN -> null
                pa.array(index, pa.int32()),
                stages,
            ],
            fields=fields,
        )
        constant = {"source": source, "language": "en", "split": split, "scenario": ""}
        columns = {
            "conversation_id": pa.array(self.ids, pa.string()),
            "messages": pa.ListArray.from_arrays(pa.array(offsets), messages, type=message_type),
            "label": pa.array(self.labels, pa.int8()),
            "groomer_ids": pa.array(self.groomers, schema.field("groomer_ids").type),
            "onset": pa.nulls(n, pa.int32()),
            "escalation": pa.nulls(n, pa.int32()),
            **{k: pa.array([v] * n, pa.string()) for k, v in constant.items()},
            "meta": pa.array(self.metas, pa.string()),
        }
        return pa.RecordBatch.from_arrays([columns[f.name] for f in schema], schema=schema)


SCHEMA = FEATURES.arrow_schema


def iter_records(
    split: str,
    chats: Path,
    predators: set[str],
    lines: dict[str, set[int]],
    on_duplicate: str,
    stats: Stats,
) -> Iterator[pa.RecordBatch]:
    """Yield the split's records as pyarrow record batches of schema :data:`FEATURES`.

    Counts (conversations, duplicates, bad times...) go to ``stats``; an id repeated with
    different messages raises `CorpusFileError` naming both positions.
    """
    counts = stats.counts
    seen: dict[str, tuple[int, bytes]] = {}
    by_content: set[bytes] = set()
    found_predators: set[str] = set()
    kept_ids: set[str] = set()
    source = chats.name
    out = _Columns()
    for raw in iter_conversations(chats):
        texts = [(unescape(x.strip()) if "&" in x else x.strip()) if x else "" for x in raw.texts]
        clocks = _clocks(raw.times)
        kept: list[int] = []
        before = counts["conversations"]
        for i, cid in enumerate(raw.ids):
            b, e = raw.begins[i], raw.ends[i]
            authors = raw.authors[b:e]
            digest = _content_digest(authors, raw.times[b:e], raw.texts[b:e])
            position = raw.positions[i]
            first = seen.setdefault(cid, (position, digest))
            if first[1] != digest:
                raise CorpusFileError(
                    f"{chats}:{position}: conversation id {cid!r} repeats the one at line "
                    f"{first[0]} with different messages"
                )
            if digest in by_content:
                counts["duplicates"] += 1
                if on_duplicate == "drop":
                    # The kept copy has the same messages; its own ground truth stands. Lines
                    # listed under the dropped id are counted, not silently lost.
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
            kept.append(i)
            n = e - b
            who = set(authors)
            n_empty = texts[b:e].count("")
            listed = lines.get(cid, ())
            if listed:
                present = {int(x) for x in raw.lines[b:e] if x and x.isdigit()}
                counts["unmatched_lines"] += len(set(listed) - present)
            groomers = sorted(who & predators)
            found_predators.update(groomers)
            one_author = len(who) == 1
            if raw.lines[b:e] == _index_strings(n):
                # json.dumps's own output for this dict, without building it.
                meta = (
                    f'{{"predatory_lines": {sorted(listed)}, "one_author": '
                    f'{"true" if one_author else "false"}, "n_empty": {n_empty}}}'
                )
            else:
                counts["renumbered"] += 1
                meta = json.dumps(
                    {
                        "predatory_lines": sorted(listed),
                        "one_author": one_author,
                        "n_empty": n_empty,
                        "xml_lines": [
                            int(x) if x and x.isdigit() else None for x in raw.lines[b:e]
                        ],
                    }
                )
            counts["conversations"] += 1
            counts["messages"] += n
            counts["one_author"] += one_author
            counts["only_empty"] += n_empty == n
            out.ids.append(kept_id)
            out.labels.append(int(bool(groomers)))
            out.groomers.append(groomers)
            out.metas.append(meta)
            out.lengths.append(n)
        out.add_rows(raw, texts, clocks, kept)
        if counts["conversations"] // PROGRESS_EVERY > before // PROGRESS_EVERY:
            log.info(
                "PAN12 %s: %d conversations, %d messages read",
                split,
                counts["conversations"],
                counts["messages"],
            )
        if len(out.ids) >= BATCH_ROWS:
            yield _flush(out, source, split, counts)
            out = _Columns()
    if out.ids:
        yield _flush(out, source, split, counts)
    counts["unknown_predators"] = len(predators - found_predators)
    unknown = set(lines) - set(seen)
    counts["unknown_line_conversations"] = len(unknown)
    counts["unknown_lines"] = sum(len(lines[c]) for c in unknown)


def _flush(out: _Columns, source: str, split: str, counts: dict[str, int]) -> pa.RecordBatch:
    batch = out.batch(source, split)
    counts["bad_times"] += out.bad_times
    return batch


def _content_digest(authors: list[str], times: list[str | None], texts: list[str | None]) -> bytes:
    """A 128-bit digest of a conversation's messages, the same in every process.

    Python's ``hash`` is salted per process, so which two different conversations collide
    (one wrongly dropped as a duplicate) would depend on the hash seed. NUL and SOH cannot occur
    in XML 1.0 text, so joining on NUL, with SOH for a missing field, is unambiguous.
    """
    import hashlib
    from itertools import chain

    joined = "\x00".join("\x01" if x is None else x for x in chain(authors, times, texts))
    return hashlib.blake2b(joined.encode("utf-8", "surrogatepass"), digest_size=16).digest()
