"""Small PAN12-format files with neutral text, written by the tests themselves.

Real PAN12 data never enters the repository: these writers produce files with the official
names and the XML shape of DOMAIN §3.1, filled with random neutral words.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from benchmarks.corpora.pan12 import FILES
from tests.helpers import WORDS


@dataclass
class Msg:
    """One `<message>`: ``text=None`` writes no `<text>` element, ``time=None`` no `<time>`.

    ``raw_text`` is written verbatim (already escaped), for double-escaping tests.
    """

    author: str
    text: str | None
    time: str | None = "10:00"
    line: int | None = None
    raw_text: bool = False


@dataclass
class Conv:
    """One `<conversation>`."""

    id: str
    messages: list[Msg] = field(default_factory=list)


def hexid(rng: random.Random) -> str:
    """Return a random 32-hex-digit id, like PAN12's conversation and author ids."""
    return f"{rng.getrandbits(128):032x}"


def neutral_text(rng: random.Random, max_words: int = 8) -> str:
    """Return a few random neutral words (possibly none)."""
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, max_words)))


def conversation_xml(conv: Conv) -> str:
    """Return the XML of one conversation (lines numbered 1..n unless a message says so)."""
    parts = [f"<conversation id={quoteattr(conv.id)}>\n"]
    for number, msg in enumerate(conv.messages, start=1):
        line = msg.line if msg.line is not None else number
        parts.append(f'<message line="{line}">\n<author>{escape(msg.author)}</author>\n')
        if msg.time is not None:
            parts.append(f"<time>{msg.time}</time>\n")
        if msg.text is not None:
            body = msg.text if msg.raw_text else escape(msg.text)
            parts.append(f"<text>{body}</text>\n")
        parts.append("</message>\n")
    parts.append("</conversation>\n")
    return "".join(parts)


def write_xml(path: Path, conversations: Iterable[Conv], newline: str = "\n") -> Path:
    """Write ``conversations`` as a PAN12 chats XML file (streamed, so any size works)."""
    with path.open("w", encoding="utf-8", newline=newline) as handle:
        handle.write('<?xml version="1.0" encoding="UTF-8"?>\n<conversations>\n')
        for conv in conversations:
            handle.write(conversation_xml(conv))
        handle.write("</conversations>\n")
    return path


def write_lines(path: Path, lines: Sequence[str], newline: str = "\n") -> Path:
    """Write a ground-truth text file, one entry a line."""
    with path.open("w", encoding="utf-8", newline=newline) as handle:
        handle.writelines(f"{line}\n" for line in lines)
    return path


def random_conversation(rng: random.Random, n: int, authors: Sequence[str]) -> Conv:
    """Return a conversation of ``n`` neutral messages among ``authors`` (times advance)."""
    minute = rng.randrange(0, 24 * 60)
    messages = []
    for _ in range(n):
        minute = (minute + rng.choice((0, 0, 1, 2, 5))) % (24 * 60)
        messages.append(Msg(author=rng.choice(authors), text=neutral_text(rng), time=_hhmm(minute)))
    return Conv(id=hexid(rng), messages=messages)


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@dataclass
class Pan12Dir:
    """What :func:`write_pan12_dir` wrote: the folder, conversations and ground truth."""

    path: Path
    conversations: list[Conv]
    predators: list[str]
    predatory_lines: list[tuple[str, int]]


def write_pan12_dir(
    path: Path,
    *,
    split: str = "test",
    n: int = 40,
    seed: int = 0,
    extra: Sequence[Conv] = (),
    extra_predators: Sequence[str] = (),
    extra_lines: Sequence[tuple[str, int]] = (),
    with_lines_file: bool = True,
) -> Pan12Dir:
    """Write a small PAN12 split into ``path``: chats XML, predator ids, predatory lines.

    Every fourth conversation has a predator author (one of two predators); each predator
    conversation gets its predator's lines listed as predatory lines.
    """
    rng = random.Random(seed)
    path.mkdir(parents=True, exist_ok=True)
    predators = [hexid(rng), hexid(rng)]
    conversations: list[Conv] = []
    lines: list[tuple[str, int]] = []
    for i in range(n):
        other = [hexid(rng), hexid(rng)]
        authors = [predators[i // 4 % 2], other[0]] if i % 4 == 0 else other
        conv = random_conversation(rng, rng.randint(2, 12), authors)
        conversations.append(conv)
        if i % 4 == 0:
            lines += [
                (conv.id, k)
                for k, msg in enumerate(conv.messages, start=1)
                if msg.author in predators
            ]
    conversations += extra
    chats, predator_file, lines_file = FILES[split]
    write_xml(path / chats, conversations)
    write_lines(path / predator_file, [*predators, *extra_predators])
    if with_lines_file:
        write_lines(path / lines_file, [f"{c}\t{k}" for c, k in [*lines, *extra_lines]])
    return Pan12Dir(path, conversations, [*predators, *extra_predators], [*lines, *extra_lines])


def write_pan12_splits(path: Path, n: int = 20) -> Path:
    """Write both PAN12 splits (train and test, ``n`` conversations each) into ``path``."""
    write_pan12_dir(path, split="train", n=n, seed=3)
    write_pan12_dir(path, split="test", n=n, seed=4)
    return path
