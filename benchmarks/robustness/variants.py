"""Copies of a split for invariance (INV) and directional (DIR) tests.

An INV copy changes some messages' spelling (one perturbation family) and nothing else: same
conversations, same authors, same number of messages, same labels. A DIR copy appends one
message that should never make a conversation look safer: the person the case is about asking
to move to another app, or the other person saying a child's age.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pyarrow as pa
from datasets import Dataset

from benchmarks.perturbations import perturb_messages
from benchmarks.schema import FEATURES

_CHUNK = 2000

#: DIR test → (who writes the appended message: ``a`` the case's focus author, ``b`` another
#: author; its text; the stage it carries).
DIR_MESSAGES: dict[str, tuple[str, str, str]] = {
    "dir_offplatform_request": ("a", "add me on snapchat, its more private there", "platform_move"),
    "dir_age_disclosure": ("b", "im 12 btw", "personal_info"),
}


def meta_of(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record's ``meta`` as a dict (``{}`` when empty or not JSON)."""
    try:
        meta = json.loads(record.get("meta") or "{}")
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def target_authors(record: Mapping[str, Any], mode: str) -> list[str]:
    """Whose messages a perturbation changes in ``record`` (see ``PerturbSettings.authors``).

    Examples:
        >>> r = {"label": 1, "groomer_ids": ["g"], "meta": "{}",
        ...      "messages": [{"author": "g"}, {"author": "c"}]}
        >>> target_authors(r, "groomer"), target_authors(r, "all")
        (['g'], ['c', 'g'])
        >>> target_authors(r | {"label": 0, "groomer_ids": []}, "groomer")
        ['c', 'g']
    """
    everyone = sorted({str(m["author"]) for m in record["messages"]})
    if mode == "all":
        return everyone
    if record["label"] and record.get("groomer_ids"):
        return [str(a) for a in record["groomer_ids"]]
    focus = meta_of(record).get("focus_author")
    return [str(focus)] if focus in everyone else everyone


def perturbed_split(
    records: Iterable[Mapping[str, Any]], family: str, *, mode: str, rate: float, seed: int
) -> tuple[Dataset, list[bool]]:
    """The split with ``family`` applied; and, per conversation, whether any text changed.

    A conversation whose text did not change cannot fail an INV test: it is counted apart
    (CheckList's filtered cases), never as a pass.
    """
    schema = FEATURES.arrow_schema
    tables: list[pa.Table] = []
    out: list[dict[str, Any]] = []
    changed: list[bool] = []
    for record in records:
        messages = perturb_messages(
            record["messages"],
            family,
            authors=target_authors(record, mode),
            rate=rate,
            seed=seed,
            conversation_id=str(record["conversation_id"]),
        )
        changed.append(
            any(a["text"] != b["text"] for a, b in zip(messages, record["messages"], strict=True))
        )
        out.append(dict(record) | {"messages": messages})
        if len(out) == _CHUNK:  # Arrow holds the copy compactly; Python dicts would not
            tables.append(pa.Table.from_pylist(out, schema=schema))
            out = []
    tables.append(pa.Table.from_pylist(out, schema=schema))
    return Dataset(pa.concat_tables(tables)), changed


def extended(record: Mapping[str, Any], test: str) -> dict[str, Any]:
    """``record`` with the DIR test's message appended (a minute after the last one).

    Examples:
        >>> r = {"conversation_id": "c", "label": 0, "groomer_ids": [], "meta": "{}",
        ...      "messages": [{"author": "x", "text": "hi", "time": 10.0, "index": 1,
        ...                    "stages": []},
        ...                   {"author": "y", "text": "hey", "time": 20.0, "index": 2,
        ...                    "stages": []}]}
        >>> m = extended(r, "dir_age_disclosure")["messages"][-1]
        >>> m["author"], m["text"], m["index"], m["time"]
        ('y', 'im 12 btw', 3, 80.0)
    """
    role, text, stage = DIR_MESSAGES[test]
    messages: Sequence[Mapping[str, Any]] = record["messages"]
    focus = target_authors(dict(record) | {"label": 1}, "groomer")[0]
    others = sorted({str(m["author"]) for m in messages} - {focus})
    author = focus if role == "a" or not others else others[0]
    last = messages[-1]
    time = None if last.get("time") is None else float(last["time"]) + 60.0
    added = {
        "author": author,
        "text": text,
        "time": time,
        "index": len(messages) + 1,
        "stages": [stage] if record["label"] else [],
    }
    return dict(record) | {"messages": [dict(m) for m in messages] + [added]}


def extended_split(records: Iterable[Mapping[str, Any]], test: str) -> Dataset:
    """Every conversation of the split with the DIR test's message appended."""
    return Dataset.from_list([extended(r, test) for r in records], features=FEATURES)
