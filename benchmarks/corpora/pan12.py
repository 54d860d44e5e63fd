"""The PAN 2012 Sexual Predator Identification corpus (PAN12), train or test split.

``groombench corpus=pan12 corpus.path=DIR corpus.split=train|test|all``: ``DIR`` holds the
files of DOMAIN §3.1 under their official names. Each XML `<conversation>` becomes one record:

- ``label`` 1 when an author listed in the split's predator-id file wrote a message in it;
  ``groomer_ids`` those authors. PAN12 has no stage labels: ``onset``/``escalation`` are None.
- message ``index`` is the position in the conversation (1-based); ``text`` is HTML-unescaped
  until stable (at most 3 times, as some texts are escaped twice); empty or missing `<text>`
  is "".
- ``time``: PAN12 gives ``HH:MM`` with no date, so every conversation is placed on the same
  arbitrary day, :data:`BASE_DAY` (2012-01-01 UTC); a time earlier than the previous one means
  the next day (midnight roll-over). A missing or unparseable time gives None. Only the gaps
  between messages mean anything.
- ``meta`` JSON: ``predatory_lines`` (the problem-2 ground-truth XML line numbers, sorted),
  ``one_author``, ``n_empty`` (messages with empty text) and, only when the XML's ``line``
  attributes are not 1..n, ``xml_lines``.
- ``split``: the split loaded. Loading ``corpus.split=train`` gives a corpus whose only split
  is train (score it with ``split=train``); ``all`` loads both.

Conversations with one author or only empty texts are kept and counted; exact duplicates
(same messages, author, time and text) are dropped, keeping the first, unless
``on_duplicate="keep"`` (a kept duplicate whose id repeats gets ``~2``, ``~3``... appended).
The same id with different messages is an error. Counts, checksum verdicts and the corpus's
caveats are in :attr:`CorpusInfo.limitations` and the log.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from benchmarks.corpora.base import Corpus, CorpusInfo, build_dataset
from benchmarks.corpora.pan12_records import BASE_DAY, Stats, gc_paused, iter_records, unescape
from benchmarks.corpora.pan12_xml import (
    CorpusFileError,
    normalised_sha256,
    read_predatory_lines,
    read_text_lines,
)
from benchmarks.errors import ConfigError
from benchmarks.schema import content_fingerprint

log = logging.getLogger(__name__)

__all__ = [
    "BASE_DAY",
    "FILES",
    "KNOWN_SHA256",
    "PARSER_VERSION",
    "CorpusFileError",
    "load_pan12",
    "unescape",
]

PARSER_VERSION = "1"

#: Official file names by split: (chats XML, predator ids, predatory lines).
FILES: dict[str, tuple[str, str, str]] = {
    "train": (
        "pan12-sexual-predator-identification-training-corpus-2012-05-01.xml",
        "pan12-sexual-predator-identification-training-corpus-predators-2012-05-01.txt",
        "pan12-sexual-predator-identification-diff.txt",
    ),
    "test": (
        "pan12-sexual-predator-identification-test-corpus-2012-05-17.xml",
        "pan12-sexual-predator-identification-groundtruth-problem1.txt",
        "pan12-sexual-predator-identification-groundtruth-problem2.txt",
    ),
}
#: sha256 of the official files after CRLF→LF (DOMAIN §3.1); the others have none known.
KNOWN_SHA256: dict[str, str] = {
    FILES["train"][0]: "1630a5923460da3f940482a5c8d7ed57f845762154cd56c69238d45e7bbc6ca1",
    FILES["train"][1]: "a8594e6439c885c98c4a6232ce8661690b762ec98850c23918e3d4bce5e366f0",
    FILES["test"][0]: "ff1d94fb61c8fb13fadb8859ac55471e9a4e19a06f50a7134ec06ed3d3b3f201",
    FILES["test"][1]: "342c12b06d148b025ad92d12d57c816ec0abd1743f0d1e9dda552fe6af7c41d2",
}
ROLES = ("chats XML", "predator ids (problem 1 ground truth)", "predatory lines (problem 2)")
CAVEATS = (
    "PAN12 positives come from Perverted Justice logs: the 'victims' are adult decoys, not "
    "children.",
    "PAN12 negatives are general IRC/Omegle chat, including adult sexual chat: off-domain "
    "for child grooming.",
    "PAN12 has no stage labels (onset/escalation unknown); times are HH:MM only, placed on an "
    "arbitrary day with midnight roll-over.",
)


def split_files(folder: Path, split: str) -> tuple[Path, Path, Path | None]:
    """Return the split's (chats, predator ids, predatory lines or None) files in ``folder``."""
    if not folder.is_dir():
        raise ConfigError(
            f"PAN12 folder {folder} does not exist (or is not a folder); set corpus.path to the "
            f"folder holding the official PAN12 files, e.g. {FILES[split][0]}"
        )
    paths = [folder / name for name in FILES[split]]
    for path, role in zip(paths[:2], ROLES, strict=False):
        if not path.is_file():
            raise ConfigError(
                f"PAN12 {split} {role} file not found: expected {path.name} in {folder}"
            )
    lines = paths[2] if paths[2].is_file() else None
    if lines is None:
        log.warning(
            "no PAN12 %s predatory-lines file %s: no problem-2 ground truth", split, paths[2]
        )
    return paths[0], paths[1], lines


def _report_path(corpus_dataset: Any) -> Path | None:
    files = corpus_dataset.cache_files
    return Path(files[0]["filename"]).with_name("pan12-report.json") if files else None


def _checksum_notes(checksums: dict[str, str]) -> list[str]:
    notes = []
    for name, digest in checksums.items():
        known = KNOWN_SHA256.get(name)
        if known is None:
            notes.append(f"{name}: not verifiable (no known checksum)")
        elif known == digest:
            notes.append(f"{name}: official copy (sha256 matches, line endings aside)")
        else:
            notes.append(f"{name}: NOT the official copy (sha256 differs from the known one)")
    return notes


def _count_notes(split: str, counts: dict[str, int], dup: str) -> list[str]:
    templates = {
        "one_author": "{n} one-author conversation(s) kept",
        "only_empty": "{n} conversation(s) with only empty texts kept",
        "duplicates": "{n} exact duplicate conversation(s) found ({dup})",
        "renumbered": "{n} conversation(s) whose XML line numbers are not 1..n",
        "bad_times": "{n} message(s) with a missing or unparseable time (time None)",
        "unknown_predators": "{n} ground-truth predator id(s) author no message",
        "unknown_line_conversations": "{n} predatory-line conversation id(s) match no "
        "conversation ({lines} line(s))",
        "unmatched_lines": "{n} predatory line number(s) match no message line of their "
        "conversation (problem-2 recall cannot reach 1)",
        "dropped_duplicate_lines": "{n} predatory line(s) listed under dropped duplicate "
        "conversation ids (the kept copy carries its own)",
    }
    notes = []
    for key, template in templates.items():
        if counts.get(key):
            notes.append(
                f"PAN12 {split}: "
                + template.format(
                    n=counts[key],
                    dup=dup,
                    lines=counts.get("unknown_lines", 0),
                )
            )
    return notes


def load_pan12(
    path: str,
    *,
    split: str = "test",
    name: str = "pan12",
    cache_dir: str | None = None,
    on_duplicate: str = "drop",
) -> Corpus:
    """Load a PAN12 split from the official files in folder ``path``.

    Args:
        path: the folder holding the official PAN12 files (DOMAIN §3.1).
        split: "train", "test" or "all" (both); the records' ``split`` field.
        name: the corpus name (the config file's name).
        cache_dir: the `datasets` cache folder; an unchanged input is reloaded from it.
        on_duplicate: "drop" exact duplicate conversations (keep the first) or "keep" them.

    Returns:
        The corpus, fingerprinted by the files' content (CRLF→LF sha256) and the options.

    Raises:
        ConfigError: a file is missing, malformed, unsafe or not UTF-8 (names file and
            position), or an option is invalid.
    """
    if split not in ("train", "test", "all"):
        raise ConfigError(f"corpus.split must be train, test or all for PAN12, got {split!r}")
    if on_duplicate not in ("drop", "keep"):
        raise ConfigError(f"corpus.on_duplicate must be drop or keep, got {on_duplicate!r}")
    folder = Path(path).expanduser().resolve()
    splits = ("train", "test") if split == "all" else (split,)
    found = {s: split_files(folder, s) for s in splits}
    checksums = {
        p.name: normalised_sha256(p) for files in found.values() for p in files if p is not None
    }
    fingerprint = content_fingerprint(
        "pan12",
        PARSER_VERSION,
        split,
        on_duplicate,
        *(f"{n}={d}" for n, d in sorted(checksums.items())),
    )
    stats = {s: Stats() for s in splits}
    ran: list[bool] = []

    def generate() -> Iterator[pa.RecordBatch]:
        ran.append(True)
        for s, (chats, predator_file, lines_file) in found.items():
            predators = {x for _, x in read_text_lines(predator_file, "predator-ids")}
            lines = read_predatory_lines(lines_file) if lines_file else {}
            log.info("PAN12 %s: parsing %s", s, chats)
            yield from iter_records(s, chats, predators, lines, on_duplicate, stats[s])

    with gc_paused():
        dataset = build_dataset(generate, fingerprint, cache_dir, batched=True)
    report_file = _report_path(dataset)
    counts = {s: stats[s].counts for s in splits}
    if not ran and report_file is not None and report_file.is_file():
        counts = json.loads(report_file.read_text())
    else:
        if not ran:  # The cache lost its report: count again without building, once.
            with gc_paused():
                for _ in generate():
                    pass
            counts = {s: stats[s].counts for s in splits}
        if report_file is not None:
            staging = report_file.with_name(f".{report_file.name}.tmp")
            staging.write_text(json.dumps(counts))
            staging.replace(report_file)  # atomic: a reader never sees half a report
    handling = "exact duplicates dropped" if on_duplicate == "drop" else "duplicates kept"
    notes = [f"PAN12 split used: {split} (official {' and '.join(splits)} files; {handling})"]
    for s in splits:
        notes += _count_notes(s, counts[s], "dropped" if on_duplicate == "drop" else "kept")
    notes += _checksum_notes(checksums)
    for note in notes:
        log.info("%s", note)
    info = CorpusInfo(
        name=name,
        version=PARSER_VERSION,
        description=(
            "PAN 2012 Sexual Predator Identification: chat conversations (IRC/Omegle negatives, "
            "Perverted Justice positives) with predator ids (problem 1) and predatory lines "
            "(problem 2)."
        ),
        licence="Access on request via Zenodo record 3713280 (https://zenodo.org/record/3713280); "
        "research use under the PAN organisers' terms; do not redistribute.",
        citation="Inches, G. and Crestani, F. (2012). Overview of the International Sexual "
        "Predator Identification Competition at PAN-2012. CLEF 2012 Evaluation Labs and "
        "Workshop, Working Notes.",
        limitations=(*CAVEATS, *notes),
        checksums=checksums,
    )
    return Corpus(info=info, dataset=dataset, fingerprint=fingerprint)
