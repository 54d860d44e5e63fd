"""The report card of one audit run (or comparison): one data structure, four renderings.

The harness assembles a :class:`ReportCard` (plain, JSON-serialisable data, defined in
:mod:`benchmarks.audit.card.model` and re-exported here); this module renders it as a self-contained
HTML page (inline CSS, every plot an embedded PNG, no script, no link, nothing fetched: it opens
offline), JSON, Markdown (tables, no images) and the EU-transparency CSV
(:mod:`benchmarks.audit.card.transparency`). :func:`write_report` writes all four atomically.

Both HTML and Markdown are rendered from one list of sections (:func:`sections`, built in
:mod:`benchmarks.audit.card.sections` and re-exported here with its titles, blocks and
:func:`fmt`), so the two always carry the same numbers in the same order. Every string taken
from the card is escaped (``html.escape`` in HTML; ``<``, ``>`` and ``|`` in Markdown). An
undefined number is written "undefined", never 0.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import tempfile
from pathlib import Path

from benchmarks.audit.card.blocks import Block as Block
from benchmarks.audit.card.blocks import Section as Section
from benchmarks.audit.card.blocks import fmt as fmt
from benchmarks.audit.card.model import CARD_SCHEMA_VERSION as CARD_SCHEMA_VERSION
from benchmarks.audit.card.model import ReportCard as ReportCard
from benchmarks.audit.card.sections import SECTION_TITLES as SECTION_TITLES
from benchmarks.audit.card.sections import section_titles as section_titles
from benchmarks.audit.card.sections import sections as sections

#: File names :func:`write_report` writes, by format.
#: The report files' sha256 sums, checkable with ``sha256sum -c SHA256SUMS``.
SUMS_FILE = "SHA256SUMS"
REPORT_FILES: dict[str, str] = {
    "html": "report.html",
    "json": "report.json",
    "markdown": "report.md",
    "csv": "transparency.csv",
}


def to_json(card: ReportCard) -> str:
    """Return the card as indented JSON (keys sorted, NaN as null)."""
    return json.dumps(card.to_dict(), indent=2, sort_keys=True, allow_nan=False)


def from_json(text: str) -> ReportCard:
    """Read a card written by :func:`to_json`."""
    return ReportCard.from_dict(json.loads(text))


# --- Markdown -------------------------------------------------------------------------------


def _md(text: str) -> str:
    # Tables break on "|" and newlines; "<" and ">" would let data inject HTML into viewers.
    return (
        text.replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("<", "\\<")
        .replace(">", "\\>")
        .replace("\r", " ")
        .replace("\n", " ")
    )


def _md_block(block: Block) -> list[str]:
    if block.kind == "table":
        if not block.rows:
            return ["*(none)*", ""]
        out = ["| " + " | ".join(_md(h) for h in block.headers) + " |"]
        out.append("|" + "---|" * len(block.headers))
        out += ["| " + " | ".join(_md(c) for c in row) + " |" for row in block.rows]
        return [*out, ""]
    if block.kind == "list":
        return [*(f"- {_md(item)}" for item in block.items), ""]
    if block.kind == "pre":
        fence = "~~~~" if "```" in block.text else "```"
        return [fence, block.text, fence, ""]
    if block.kind == "image":
        return [f"*Plot in report.html: {_md(block.text)}.*", ""]
    if block.kind == "subhead":
        return [f"### {_md(block.text)}", ""]
    prefix = "**Warning:** " if block.kind == "warn" else ""
    return [prefix + _md(block.text), ""]


def to_markdown(card: ReportCard) -> str:
    """Return the card as Markdown: the same sections as the HTML, tables, no images."""
    lines = [f"# {_md(card.title)}", "", f"Created {_md(card.created_at)}.", ""]
    for number, section in enumerate(sections(card, plots=False), start=1):
        lines += [f"## {number}. {_md(section.title)}", ""]
        for block in section.blocks:
            lines += _md_block(block)
    return "\n".join(lines).rstrip() + "\n"


# --- HTML -----------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:0 auto;
max-width:1100px;padding:1.5rem;color:#1b1b1b;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{border-bottom:2px solid #1f5fa8;padding-bottom:.2rem;
margin-top:2.2rem}h3{font-size:1.05rem;margin:1.2rem 0 .4rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.86rem}
th,td{border:1px solid #c9c9c9;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#eef3fa}tr:nth-child(even) td{background:#fafafa}
pre{background:#f4f4f4;padding:.7rem;overflow-x:auto;font-size:.8rem;white-space:pre-wrap}
.warn{background:#fff3cd;border-left:4px solid #d39e00;padding:.5rem .8rem}
.meta{color:#555;font-size:.9rem}figure{margin:.5rem 0 1rem}
figcaption{font-size:.8rem;color:#555}img{max-width:100%;height:auto}
ol.toc{columns:2;font-size:.9rem}.wide{overflow-x:auto;max-width:100%}
"""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _html_block(block: Block) -> str:
    if block.kind == "table":
        if not block.rows:
            return "<p><em>(none)</em></p>"
        head = "".join(f"<th>{_e(h)}</th>" for h in block.headers)
        body = "".join(
            "<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in block.rows
        )
        # A wide table (the perturbation families') scrolls inside the page, never past it.
        table = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        return f'<div class="wide">{table}</div>'
    if block.kind == "list":
        return "<ul>" + "".join(f"<li>{_e(i)}</li>" for i in block.items) + "</ul>"
    if block.kind == "pre":
        return f"<pre>{_e(block.text)}</pre>"
    if block.kind == "image":
        # base64 has no character that HTML would need escaped.
        return (
            f'<figure><img alt="{_e(block.text)}" src="data:image/png;base64,{block.png_base64}">'
            f"<figcaption>{_e(block.text)}</figcaption></figure>"
        )
    if block.kind == "subhead":
        return f"<h3>{_e(block.text)}</h3>"
    css = ' class="warn"' if block.kind == "warn" else ""
    return f"<p{css}>{_e(block.text)}</p>"


def to_html(card: ReportCard) -> str:
    """Return one self-contained HTML page: inline CSS, embedded PNG plots, nothing external."""
    parts = sections(card, plots=True)
    toc = "".join(f"<li>{_e(s.title)}</li>" for s in parts)
    body = []
    for number, section in enumerate(parts, start=1):
        blocks = "\n".join(_html_block(b) for b in section.blocks)
        body.append(f"<section>\n<h2>{number}. {_e(section.title)}</h2>\n{blocks}\n</section>")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_e(card.title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<h1>{_e(card.title)}</h1>\n"
        f'<p class="meta">Created {_e(card.created_at)}; groombench report card schema '
        f"{_e(card.schema_version)}. This page is self-contained: it fetches nothing.</p>\n"
        f'<ol class="toc">{toc}</ol>\n' + "\n".join(body) + "\n</body>\n</html>\n"
    )


# --- Files ----------------------------------------------------------------------------------


def _write_atomic(target: Path, text: str) -> None:
    """Write ``text`` beside ``target`` and rename, so a reader never sees half a file."""
    handle, staging = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.replace(staging, target)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise


def write_report(card: ReportCard, folder: str | Path) -> dict[str, Path]:
    """Write ``report.html``, ``report.json``, ``report.md``, ``transparency.csv`` and their
    sha256 sums (``SHA256SUMS``).

    Returns:
        format ("html", "json", "markdown", "csv", "sha256") → path written.
    """
    from benchmarks.audit.card.transparency import to_csv

    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    texts = {
        "html": to_html(card),
        "json": to_json(card),
        "markdown": to_markdown(card),
        "csv": to_csv(card),
    }
    written: dict[str, Path] = {}
    for kind, text in texts.items():
        path = target / REPORT_FILES[kind]
        _write_atomic(path, text)
        written[kind] = path
    # The report's own content hashes, in `sha256sum -c` format: whoever receives the files can
    # check that they are the ones written here.
    sums = "".join(
        f"{hashlib.sha256(written[k].read_bytes()).hexdigest()}  {written[k].name}\n"
        for k in sorted(written)
    )
    _write_atomic(target / SUMS_FILE, sums)
    written["sha256"] = target / SUMS_FILE
    return written
