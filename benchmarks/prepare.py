"""Check a corpus copy, build its cache once, and describe it (``groombench-prepare``)."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import Any

from benchmarks.components import load_corpus
from benchmarks.corpora.stats import describe
from benchmarks.jobplan import JobPlan
from benchmarks.shortcuts import shortcut_audit


def prepare(plan: JobPlan) -> dict[str, Any]:
    """Load (and so cache) the planned corpus; return its metadata and statistics."""
    started = time.perf_counter()
    corpus = load_corpus(plan.corpus)
    seconds = time.perf_counter() - started
    return {
        "corpus": asdict(corpus.info),
        "fingerprint": corpus.fingerprint,
        "splits": corpus.split_names,
        "load_seconds": round(seconds, 2),
        "cache_files": [f["filename"] for f in corpus.dataset.cache_files],
        "statistics": describe(corpus.dataset),
        # What trivial baselines score on each split (benchmarks/shortcuts.py).
        "shortcuts": {
            split: shortcut_audit(corpus, split, plan.train_split) for split in corpus.split_names
        },
    }


def render(report: dict[str, Any]) -> str:
    """Return the report as text for a terminal."""
    info, stats = report["corpus"], report["statistics"]
    lines = [
        f"corpus     {info['name']} v{info['version']}  (fingerprint {report['fingerprint'][:16]})",
        f"loaded in  {report['load_seconds']} s; cache: {', '.join(report['cache_files'])}",
        f"splits     {stats['split_conversations']}",
        f"size       {stats['conversations']} conversations, {stats['messages']} messages, "
        f"{stats['authors']} authors, {stats['groomers']} groomers, "
        f"positive share {stats['positive_share']:.4f}",
        f"quirks     {stats['empty_texts']} empty texts; "
        f"{stats['conversations_with_one_author']} one-author and "
        f"{stats['conversations_with_only_empty_texts']} all-empty conversations",
    ]
    for label in ("positive", "negative"):
        q = stats["length"][label]
        lines.append(
            f"length {label[:3]}  n={q['n']:.0f} mean={q['mean']:.1f} p50={q['p50']:.0f} "
            f"p95={q['p95']:.0f} max={q['max']:.0f}"
        )
    if stats["positives_with_stage"]:
        staged = ", ".join(f"{k} {v:.2f}" for k, v in stats["positives_with_stage"].items())
        lines.append(f"stages     share of positives with each: {staged}")
    for split, audit in report.get("shortcuts", {}).items():
        scores = ", ".join(
            f"{name} {entry['roc_auc']:.3f}" if entry.get("roc_auc") is not None else f"{name} -"
            for name, entry in audit.items()
            if isinstance(entry, dict)
        )
        lines.append(f"shortcuts  {split}: ROC-AUC {scores} (0.5 = worthless)")
        if audit.get("warning"):
            lines.append(f"           {audit['warning']}")
    lines += [f"checksum   {name}: {digest}" for name, digest in info["checksums"].items()]
    lines += [f"caveat     {text}" for text in info["limitations"]]
    return "\n".join(lines)


def emit(report: dict[str, Any], fmt: str) -> str:
    """Return the report as ``text`` or ``json``."""
    if fmt == "json":
        return json.dumps(report, indent=2, default=str)
    if fmt != "text":
        raise ValueError(f"format must be text or json, got {fmt!r}")
    return render(report)
