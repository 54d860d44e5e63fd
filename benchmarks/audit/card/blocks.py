"""The report card's building blocks: typed blocks and sections, number formatting, tables.

The section builders (:mod:`benchmarks.audit.card.sections`,
:mod:`benchmarks.audit.card.robustness`) turn a card into blocks with these helpers; the
renderers (:mod:`benchmarks.audit.card.report`) turn blocks into HTML and Markdown.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks.audit.card.model import json_ready


@dataclass(frozen=True)
class Block:
    """One piece of a section: text, warn, subhead, table, list, pre or image."""

    kind: str
    text: str = ""
    headers: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    items: tuple[str, ...] = ()
    png_base64: str = ""


@dataclass(frozen=True)
class Section:
    """A titled list of blocks."""

    title: str
    blocks: tuple[Block, ...]


def fmt(value: Any) -> str:
    """Format a value for display; None and NaN are "undefined".

    Examples:
        >>> [fmt(v) for v in (None, float("nan"), 3, 0.000312, 0.95, 12345.6, True)]
        ['undefined', 'undefined', '3', '0.000312', '0.95', '12,346', 'yes']
    """
    value = json_ready(value)
    if value is None:
        return "undefined"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    if isinstance(value, int | str):
        return str(value)
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        return ", ".join(fmt(v) for v in value) if value else "none"
    return json.dumps(value, sort_keys=True, default=str)


def _interval(low: Any, high: Any) -> str:
    low, high = json_ready(low), json_ready(high)
    return "undefined" if low is None or high is None else f"[{fmt(low)}, {fmt(high)}]"


def _text(text: str, kind: str = "text") -> Block:
    return Block(kind, text=text)


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> Block:
    cells = tuple(tuple(c if isinstance(c, str) else fmt(c) for c in row) for row in rows)
    return Block("table", headers=tuple(headers), rows=cells)


def _get(row: Any, key: str) -> Any:
    for part in key.split("."):
        row = row.get(part) if isinstance(row, Mapping) else None
    return row


def _columns(rows: Sequence[Mapping[str, Any]], spec: str) -> Block:
    """Tabulate ``rows`` by ``spec``, a "header=key|..." string.

    A key "a..b" is the interval [a, b], "a.b" a nested key; a bare header is its own key.
    """
    cols = [(h, k or h) for h, _, k in (part.partition("=") for part in spec.split("|"))]

    def cell(row: Mapping[str, Any], key: str) -> Any:
        if ".." in key:
            low, high = key.split("..")
            return _interval(_get(row, low), _get(row, high))
        return _get(row, key)

    return _table([h for h, _ in cols], [[cell(r, k) for _, k in cols] for r in rows])


def _kv(mapping: Mapping[str, Any] | None, skip: Sequence[str] = ()) -> Block:
    rows: list[tuple[str, Any]] = []
    for key, value in (mapping or {}).items():
        if key in skip:
            continue
        if isinstance(value, Mapping) and value:
            rows += [(f"{key}.{k}", v) for k, v in value.items()]
        else:
            rows.append((str(key), value))
    return _table(("field", "value"), rows)


def _image(render: Callable[..., bytes], args: tuple[Any, ...], caption: str, plots: bool) -> Block:
    if not plots:
        return Block("image", text=caption)
    import base64

    return Block("image", text=caption, png_base64=base64.b64encode(render(*args)).decode())
