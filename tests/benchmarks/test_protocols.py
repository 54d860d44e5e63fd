"""PAN12 problems 1 and 2 on hand-built neutral conversations, and through the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarks.corpora.jsonl import load_jsonl
from benchmarks.protocols.pan12 import AUTHORS_FILE, LINES_FILE, Pan12Protocol, evaluate
from detectors.classical.lexicon import LexiconDetector
from tests.helpers import cli


def chat(cid: str, lines: list[tuple[str, str]], **extra: Any) -> dict[str, Any]:
    return {
        "conversation_id": cid,
        "label": int(bool(extra.get("groomer_ids"))),
        "messages": [{"author": a, "text": t} for a, t in lines],
        **extra,
    }


def write_corpus(path: Path) -> Path:
    rows = [
        chat(
            "c1",
            [("p", "dont tell ur mom"), ("k", "ok"), ("p", "add me on snap")],
            groomer_ids=["p"],
            meta={"predatory_lines": [1, 3]},
        ),
        chat(
            "c2",
            [("p", "r u home alone"), ("j", "no")],
            groomer_ids=["p"],
            meta={"predatory_lines": [1]},
        ),
        chat("c3", [("x", "see you at practice"), ("y", "add me on discord")]),
        chat(
            "c4",
            [("q", "how old r u"), ("k", "12")],
            groomer_ids=["q"],
            meta={"predatory_lines": [1]},
        ),
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_problems_1_and_2_by_hand(tmp_path: Path) -> None:
    corpus = load_jsonl(str(write_corpus(tmp_path / "c.jsonl")), cache_dir=str(tmp_path / "c"))
    protocol = Pan12Protocol(author_threshold=0.5, line_threshold=0.3, progress=False)
    metrics = evaluate(LexiconDetector(), corpus.split("all"), protocol, tmp_path / "out")
    # Authors: p scores 0.5125 (secrecy + platform move) -> flagged; y only 0.25, q 0.12.
    # Truth {p, q}: precision 1/1, recall 1/2, F0.5 = 1.25*0.5/(0.25+0.5) = 0.8333.
    assert metrics["pan12_author_precision"] == 1.0
    assert metrics["pan12_author_recall"] == 0.5
    assert abs(metrics["pan12_author_f0_5"] - 1.25 * 0.5 / 0.75) < 1e-12  # type: ignore[operator]
    # Lines >= 0.3: c1:1 (secrecy .35), c2:1 (risk check .35); c1:3 and c3:2 are .25.
    # Truth {c1:1, c1:3, c2:1, c4:1}: precision 2/2, recall 2/4, F3 = 10*.5/(9+.5).
    assert metrics["pan12_line_precision"] == 1.0 and metrics["pan12_line_recall"] == 0.5
    assert abs(metrics["pan12_line_f3"] - 10 * 0.5 / 9.5) < 1e-12  # type: ignore[operator]
    assert metrics["pan12_n_errors"] == 0
    assert (tmp_path / "out" / AUTHORS_FILE).read_text() == "p\n"
    assert (tmp_path / "out" / LINES_FILE).read_text() == "c1\t1\nc2\t1\n"


def test_protocol_through_the_cli(tmp_path: Path) -> None:
    path = write_corpus(tmp_path / "c.jsonl")
    out = cli(
        tmp_path,
        "corpus=jsonl",
        f"corpus.path={path}",
        "split=all",
        "detector=lexicon",
        "protocol=pan12",
        "runner.progress=false",
    )
    assert out.returncode == 0, out.stderr[-2000:]
    folder = next((tmp_path / "runs" / "outputs").glob("*/0_lexicon"))
    result = json.loads((folder / "results.json").read_text())
    assert result["metrics"]["pan12_author_precision"] == 1.0
    assert "pan12_line_f3" in result["definitions"]
    assert (folder / AUTHORS_FILE).exists() and (folder / LINES_FILE).exists()


def test_named_experiments_run_end_to_end(tmp_path: Path) -> None:
    from tests.benchmarks.corpora.pan12_fixtures import write_pan12_splits
    from tests.benchmarks.corpora.test_panc import write_panc

    panc = write_panc(tmp_path / "panc.json", n=40)
    out = cli(
        tmp_path,
        "+experiment=espd",
        f"corpus.path={panc}",
        "detector=lexicon",
        "tracking=none",
        "runner.progress=false",
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(
        next((tmp_path / "runs" / "outputs").glob("*/0_lexicon/results.json")).read_text()
    )
    assert result["runner"]["window"] == 50
    assert result["policy"]["params"] == {"threshold": 0.5, "window": 10, "min_positive": 5}
    assert result["corpus"]["name"] == "panc"

    pan12 = write_pan12_splits(tmp_path / "pan12")
    home = tmp_path / "p"
    home.mkdir()
    out = cli(
        home,
        "+experiment=pan12",
        f"corpus.path={pan12}",
        "detector=lexicon",
        "tracking=none",
        "runner.progress=false",
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(
        next((home / "runs" / "outputs").glob("*/0_lexicon/results.json")).read_text()
    )
    assert "pan12_author_f0_5" in result["metrics"] and result["corpus"]["name"] == "pan12"


def test_problem_2_uses_the_xml_line_numbers(tmp_path: Path) -> None:
    # PAN12 XML may number lines from 0; ground truth uses those numbers, so must predictions.
    rows = [
        chat(
            "c1",
            [("p", "dont tell ur mom"), ("k", "ok"), ("p", "add me on snap")],
            groomer_ids=["p"],
            meta={"predatory_lines": [0, 2], "xml_lines": [0, 1, 2]},
        )
    ]
    path = tmp_path / "c.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    corpus = load_jsonl(str(path), cache_dir=str(tmp_path / "c"))
    protocol = Pan12Protocol(line_threshold=0.2, progress=False)
    metrics = evaluate(LexiconDetector(), corpus.split("all"), protocol, tmp_path / "out")
    assert metrics["pan12_line_precision"] == 1.0 and metrics["pan12_line_recall"] == 1.0
    assert (tmp_path / "out" / LINES_FILE).read_text() == "c1\t0\nc1\t2\n"
