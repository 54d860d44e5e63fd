"""The report card of one audit run (or comparison): one data structure, four renderings.

The harness assembles a :class:`ReportCard` (plain, JSON-serialisable data); this module
renders it as a self-contained HTML page (inline CSS, every plot an embedded PNG, no script,
no link, nothing fetched: it opens offline), JSON, Markdown (tables, no images) and the
EU-transparency CSV (:mod:`benchmarks.audit.transparency`). :func:`write_report` writes all
four atomically.

Both HTML and Markdown are rendered from one list of sections (:func:`sections`, built in
:mod:`benchmarks.audit.report_sections` and re-exported here with its titles, blocks and
:func:`fmt`), so the two always carry the same numbers in the same order. Every string taken
from the card is escaped (``html.escape`` in HTML; ``<``, ``>`` and ``|`` in Markdown). An
undefined number is written "undefined", never 0.
"""

from __future__ import annotations

import html
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.audit.report_sections import SECTION_TITLES as SECTION_TITLES
from benchmarks.audit.report_sections import Block as Block
from benchmarks.audit.report_sections import Section as Section
from benchmarks.audit.report_sections import fmt as fmt
from benchmarks.audit.report_sections import json_ready
from benchmarks.audit.report_sections import section_titles as section_titles
from benchmarks.audit.report_sections import sections as sections

CARD_SCHEMA_VERSION = "1"
#: File names :func:`write_report` writes, by format.
REPORT_FILES: dict[str, str] = {
    "html": "report.html",
    "json": "report.json",
    "markdown": "report.md",
    "csv": "transparency.csv",
}


@dataclass(frozen=True)
class ReportCard:
    """Everything one report card shows; the harness fills it, the renderers only read it.

    Attributes:
        title: the page title.
        created_at: ISO 8601 time the card was assembled.
        claim: the claim as declared before the run (unit, population, operating point,
            metrics, prevalences, margin, α, decision rule), or None when none was declared.
        verdicts: one dict per endpoint: ``metric, claimed, margin, alpha, estimate, low,
            high, bound, outcome, reason, needed_n, method`` (optionally ``direction``).
        overall_verdict: the verdict over all endpoints, in words.
        plan: the power calculation / sample-size plan made before the run, as text.
        data: corpus ``name, version, fingerprint`` (or checksums), ``split``, ``counts`` (by
            class and cluster) and ``limitations`` (list of sentences), plus anything else.
        detector: ``name, version``, threshold / policy, ``trained_on``, ``leakage`` flag,
            ``usage`` (cost), plus anything else.
        metrics: metric name → interval dict (``estimate, low, high, level, method, n, note``).
        definitions: metric name → how it was computed.
        bootstrap: ``seed, n_resamples, level, method, n_clusters, cluster_by``.
        operating_points: dicts ``target_fpr, threshold, tpr, tpr_low, tpr_high, fpr,
            n_negatives_above``.
        prevalence: dicts ``prevalence, ppv, ppv_low, ppv_high, false_flags_per_million,
            ff_low, ff_high``.
        detection_cost: the detection cost and its parameters, or None.
        subgroups: :meth:`benchmarks.audit.subgroups.SubgroupRow.to_dict` rows.
        stage_detection: :meth:`benchmarks.audit.subgroups.StageRow.to_dict` rows.
        latency: ``messages`` (first-alert index k of every true positive) and ``minutes``
            (chat minutes to the alert, where known); other keys are shown as notes.
        detection_curve: ``[k, share of positives alerted by message k]`` pairs.
        calibration: bins ``mean_score, observed_rate, count``.
        curves: ``{"det": {"fpr": [...], "fnr": [...]}, "pr": {"precision": [...],
            "recall": [...]}}``.
        comparisons: one dict per comparison (comparison cards).
        reproduction: ``command``, ``config`` (YAML text), ``seeds``, ``versions``,
            ``git_sha`` and anything else needed to rerun.
        notes: free sentences about this run.
    """

    title: str
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    claim: dict[str, Any] | None = None
    verdicts: list[dict[str, Any]] = field(default_factory=list)
    overall_verdict: str = ""
    plan: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    detector: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    definitions: dict[str, str] = field(default_factory=dict)
    bootstrap: dict[str, Any] = field(default_factory=dict)
    operating_points: list[dict[str, Any]] = field(default_factory=list)
    prevalence: list[dict[str, Any]] = field(default_factory=list)
    detection_cost: dict[str, Any] | None = None
    subgroups: list[dict[str, Any]] = field(default_factory=list)
    stage_detection: list[dict[str, Any]] = field(default_factory=list)
    latency: dict[str, Any] = field(default_factory=dict)
    detection_curve: list[Any] = field(default_factory=list)
    calibration: list[dict[str, Any]] = field(default_factory=list)
    curves: dict[str, Any] = field(default_factory=dict)
    comparisons: list[dict[str, Any]] = field(default_factory=list)
    reproduction: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    schema_version: str = CARD_SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict: tuples become lists, NaN and infinities become None."""
        return {k: json_ready(v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReportCard:
        """Rebuild a card from :meth:`to_dict` output (unknown keys are rejected).

        Raises:
            ValueError: on another card schema version or an unknown key.
        """
        version = data.get("schema_version", CARD_SCHEMA_VERSION)
        if version != CARD_SCHEMA_VERSION:
            raise ValueError(
                f"report card schema {version!r}; this groombench reads {CARD_SCHEMA_VERSION!r}"
            )
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown report card fields: {unknown}")
        return cls(**dict(data))


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
ol.toc{columns:2;font-size:.9rem}
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
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
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
    """Write ``report.html``, ``report.json``, ``report.md`` and ``transparency.csv``.

    Returns:
        format ("html", "json", "markdown", "csv") → path written.
    """
    from benchmarks.audit.transparency import to_csv

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
    return written
