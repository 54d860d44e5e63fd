"""`groombench-prepare`: checks, caches and describes a corpus; JSON output is clean."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import cli, write_jsonl


def test_prepare_reports_statistics_and_caches(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "c.jsonl", n=30)
    args = ("corpus=jsonl", f"corpus.path={path}", "format=json")
    first = cli(tmp_path, *args, script="groombench-prepare")
    assert first.returncode == 0, first.stderr[-2000:]
    report = json.loads(first.stdout)
    stats = report["statistics"]
    assert stats["conversations"] == 30 and stats["messages"] > 30
    assert {"empty_texts", "conversations_with_one_author", "length"} <= set(stats)
    assert report["corpus"]["checksums"]["c.jsonl"]
    cache = Path(report["cache_files"][0])
    assert cache.exists() and str(tmp_path / "runs" / "cache") in str(cache)
    again = json.loads(cli(tmp_path, *args, script="groombench-prepare").stdout)
    assert again["cache_files"] == report["cache_files"]  # the cache is reused
    text = cli(tmp_path, "corpus=jsonl", f"corpus.path={path}", script="groombench-prepare")
    assert "30 conversations" in text.stdout


def test_prepare_says_what_is_missing(tmp_path: Path) -> None:
    out = cli(
        tmp_path,
        "corpus=jsonl",
        f"corpus.path={tmp_path / 'none.jsonl'}",
        script="groombench-prepare",
    )
    assert out.returncode == 2
    assert "groombench: error:" in out.stderr and "does not exist" in out.stderr
