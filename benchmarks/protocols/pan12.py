"""PAN 2012 sexual predator identification: problem 1 (authors) and problem 2 (lines).

Problem 1 flags predator *authors*: each author's score is the maximum, over the conversations
they take part in, of the detector's per-author score (:meth:`detectors.Detector.score_authors`);
authors scoring at least ``author_threshold`` are flagged; precision, recall and F0.5 are over
authors (F0.5 weights precision, as the official task did). Problem 2 flags *lines*: a
``(conversation_id, line)`` is flagged when the detector's per-message score
(:meth:`detectors.Detector.score_messages`) reaches ``line_threshold``; precision, recall and
F3 (weighting recall) are over lines. Ground truth: problem 1, the ``groomer_ids`` of the scored
conversations; problem 2, the ``predatory_lines`` listed in each record's ``meta``.

Conversations the detector fails on are left out of predictions *and* ground truth and counted
in ``pan12_n_errors``; they are never taken as "not a predator". Predictions are exported as
plain files (one author id per line; ``conversation_id<TAB>line``) so that any other
evaluation script can check them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from datasets import Dataset
from tqdm.auto import tqdm

from benchmarks.runner import to_messages
from detectors import Detector

log = logging.getLogger(__name__)

AUTHORS_FILE = "pan12-problem1-predicted-authors.txt"
LINES_FILE = "pan12-problem2-predicted-lines.txt"

DEFINITIONS = {
    "pan12_author_precision": "PAN12 problem 1: flagged predator authors that are predators / "
    "flagged authors; an author's score is the max of their per-author scores",
    "pan12_author_recall": "PAN12 problem 1: predators flagged / predators in the scored data",
    "pan12_author_f0_5": "PAN12 problem 1: F0.5 over authors, (1.25·P·R)/(0.25·P + R)",
    "pan12_line_precision": "PAN12 problem 2: flagged (conversation, line) pairs that are "
    "predatory / flagged pairs",
    "pan12_line_recall": "PAN12 problem 2: predatory lines flagged / predatory lines listed",
    "pan12_line_f3": "PAN12 problem 2: F3 over lines, (10·P·R)/(9·P + R)",
    "pan12_n_errors": "conversations the detector failed on, left out of both predictions and "
    "ground truth",
}


@dataclass(frozen=True)
class Pan12Protocol:
    """Thresholds that turn per-author and per-message scores into PAN12 predictions.

    Attributes:
        author_threshold: flag an author whose best per-author score reaches it.
        line_threshold: flag a line whose per-message score reaches it.
        batch_size: conversations scored together.
        progress: show a progress bar.
    """

    author_threshold: float = 0.5
    line_threshold: float = 0.5
    batch_size: int = 64
    progress: bool = True
    name: str = "pan12"


def set_scores(
    predicted: Iterable[object], truth: Iterable[object], beta: float
) -> tuple[float | None, float | None, float | None]:
    """Return (precision, recall, F_beta) of a predicted set against a true set.

    Undefined values are None: precision with nothing predicted, recall with nothing true.

    Examples:
        >>> set_scores({"a", "b"}, {"b", "c"}, beta=1.0)
        (0.5, 0.5, 0.5)
        >>> set_scores(set(), {"c"}, beta=0.5)
        (None, 0.0, 0.0)
    """
    predicted, truth = set(predicted), set(truth)
    tp = len(predicted & truth)
    precision = tp / len(predicted) if predicted else None
    recall = tp / len(truth) if truth else None
    denominator = (1 + beta**2) * tp + beta**2 * (len(truth) - tp) + (len(predicted) - tp)
    f_beta = (1 + beta**2) * tp / denominator if denominator else None
    return precision, recall, f_beta


def evaluate(
    detector: Detector, dataset: Dataset, protocol: Pan12Protocol, output_dir: str | Path | None
) -> dict[str, float | None]:
    """Run both PAN12 problems on ``dataset``; export predictions; return the metrics."""
    best: dict[str, float] = {}
    truth_authors: set[str] = set()
    flagged_lines: set[tuple[str, int]] = set()
    truth_lines: set[tuple[str, int]] = set()
    errors = 0
    columns = dataset.select_columns(["conversation_id", "messages", "groomer_ids", "meta"])
    bar = tqdm(
        total=len(dataset),
        desc=f"pan12 {detector.metadata.name}",
        unit="conv",
        disable=not protocol.progress,
        leave=False,
    )
    for batch in columns.iter(batch_size=protocol.batch_size):
        for i, raw in enumerate(batch["messages"]):
            conversation = to_messages(raw)
            cid = batch["conversation_id"][i]
            try:
                authors = detector.score_authors([conversation])[0]
                lines = detector.score_messages([conversation])[0]
            except Exception:  # recorded, never read as "not a predator"
                errors += 1
                continue
            for author, score in authors.items():
                best[author] = max(score, best.get(author, 0.0))
            truth_authors.update(batch["groomer_ids"][i])
            meta = json.loads(batch["meta"][i] or "{}")
            # Ground truth names the XML's own line numbers; when those are not 1..n the
            # loader keeps them in meta["xml_lines"], and predictions must use them too.
            numbers = meta.get("xml_lines") or [m.index for m in conversation]
            for number, score in zip(numbers, lines, strict=True):
                if score >= protocol.line_threshold and number is not None:
                    flagged_lines.add((cid, int(number)))
            truth_lines.update((cid, int(k)) for k in meta.get("predatory_lines", ()))
        bar.update(len(batch["messages"]))
    bar.close()
    flagged_authors = {a for a, s in best.items() if s >= protocol.author_threshold}
    if output_dir is not None:
        export(flagged_authors, flagged_lines, Path(output_dir))
    ap, ar, af = set_scores(flagged_authors, truth_authors, beta=0.5)
    lp, lr, lf = set_scores(flagged_lines, truth_lines, beta=3.0)
    if not truth_lines:
        log.warning("no predatory lines in the ground truth: problem 2 scores are undefined")
    return {
        "pan12_author_precision": ap,
        "pan12_author_recall": ar,
        "pan12_author_f0_5": af,
        "pan12_line_precision": lp,
        "pan12_line_recall": lr,
        "pan12_line_f3": lf,
        "pan12_n_errors": errors,
    }


def export(authors: set[str], lines: set[tuple[str, int]], folder: Path) -> None:
    """Write predictions in PAN12's plain formats (sorted, so files are reproducible)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / AUTHORS_FILE).write_text("".join(f"{a}\n" for a in sorted(authors)))
    (folder / LINES_FILE).write_text("".join(f"{c}\t{n}\n" for c, n in sorted(lines)))
