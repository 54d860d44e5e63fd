"""Style noise: typos, chat abbreviations, emoji, casing and leetspeak at seeded rates.

Each author gets a :class:`Style` (their habits); :func:`apply_style` perturbs one message with
a handful of ``rng.random()`` draws and plain string operations (no regular expressions), so it
stays cheap at two million messages. Typos only swap, drop or double letters inside a word
(never its first letter, never a substitution), so they rarely form another real word.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

_ABBREVIATIONS: dict[str, str] = {
    "you": "u", "your": "ur", "you're": "ur", "are": "r", "okay": "ok", "because": "cuz",
    "people": "ppl", "please": "pls", "thanks": "thx", "really": "rly", "though": "tho",
    "about": "abt", "tomorrow": "tmrw", "before": "b4", "what": "wat", "don't": "dont",
    "i'm": "im", "can't": "cant", "probably": "prob", "something": "smth", "with": "w",
    "right": "rite", "see": "c", "why": "y", "tonight": "tn", "later": "l8r", "love": "luv",
    "know": "kno", "going": "goin", "doesn't": "doesnt", "it's": "its",
    "what's": "whats", "won't": "wont", "i'll": "ill", "that's": "thats", "be": "b",
}  # fmt: skip
_PREFIXES: tuple[str, ...] = ("omg ", "lol ", "tbh ", "ngl ", "wait ", "ok ", "hey ", "so ")
_SUFFIXES: tuple[str, ...] = (
    " lol", " haha", " lmao", " tbh", " fr", " xd", " !!", "??", " idk", " brb", " lol",
)  # fmt: skip
_EMOJI: tuple[str, ...] = (
    "😂", "😊", "🙂", "😅", "👍", "🎮", "😭", "🔥", "💯", "😎", "🙃", "🤔", "😴", ":)",
    ":D", "xD", ":P", "^^", "<3", "🙏",
)  # fmt: skip
_LEET_TABLES: tuple[dict[int, str], ...] = (
    str.maketrans({"e": "3", "o": "0"}),
    str.maketrans({"a": "4", "e": "3", "o": "0"}),
    str.maketrans({"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}),
)


@dataclass(frozen=True, slots=True)
class Style:
    """An author's writing habits: per-message probabilities of each kind of noise."""

    abbreviate: float
    typo: float
    emoji: float
    interject: float
    lowercase: bool
    shout: float
    leet: float
    drop_apostrophes: float


def draw_style(rng: random.Random, *, young: bool) -> Style:
    """Draw an author's style; young writers abbreviate, misspell and use emoji more."""
    r = rng.random
    scale = 1.0 if young else 0.45
    return Style(
        abbreviate=round(scale * (0.1 + 0.6 * r()), 3),
        typo=round(scale * (0.02 + 0.12 * r()), 3),
        emoji=round(scale * (0.02 + 0.25 * r()), 3),
        interject=round(scale * (0.05 + 0.2 * r()), 3),
        lowercase=r() < (0.8 if young else 0.45),
        shout=round(0.02 * r() * scale, 4),
        leet=round(0.04 * r() * scale, 4) if r() < 0.25 else 0.0,
        drop_apostrophes=round(scale * (0.2 + 0.7 * r()), 3),
    )


def _abbreviate(text: str) -> str:
    get = _ABBREVIATIONS.get
    text = text.replace("i don't know", "idk").replace("right now", "rn")
    return " ".join([get(word, word) for word in text.split(" ")])


def _typo(text: str, r: float, op: float) -> str:
    n = len(text)
    if n < 4:
        return text
    i = 1 + int(r * (n - 2))
    c = text[i]
    # Never touch a word's first letter: that keeps a typo from turning into another word
    # (e.g. "understand" into something the blocklist catches).
    if not (c.isalpha() and text[i - 1].isalpha()):
        return text
    if op < 0.4:
        return text[:i] + text[i + 1] + c + text[i + 2 :]
    if op < 0.7:
        return text[:i] + text[i + 1 :]
    return text[:i] + c + text[i:]


def _mock_case(text: str) -> str:
    return "".join([c.upper() if i % 2 else c for i, c in enumerate(text)])


def apply_style(text: str, style: Style, rng: random.Random) -> str:
    """Return ``text`` with ``style``'s noise applied, drawing from ``rng``.

    Examples:
        >>> quiet = Style(0.0, 0.0, 0.0, 0.0, False, 0.0, 0.0, 0.0)
        >>> apply_style("are you there?", quiet, random.Random(1))
        'are you there?'
        >>> loud = Style(1.0, 0.0, 0.0, 0.0, True, 0.0, 0.0, 1.0)
        >>> apply_style("Are you there? I don't know", loud, random.Random(1))
        'r u there? idk'
    """
    r = rng.random
    if style.lowercase:
        text = text.lower()
    if r() < style.abbreviate:
        text = _abbreviate(text)
    if r() < style.drop_apostrophes:
        text = text.replace("'", "")
    if r() < style.typo:
        text = _typo(text, r(), r())
    if r() < style.interject:
        text = (
            _PREFIXES[int(r() * len(_PREFIXES))] + text
            if r() < 0.4
            else text + _SUFFIXES[int(r() * len(_SUFFIXES))]
        )
    if style.leet and r() < style.leet:
        text = text.translate(_LEET_TABLES[int(r() * len(_LEET_TABLES))])
    if style.shout and r() < style.shout:
        text = text.upper() if r() < 0.7 else _mock_case(text)
    if r() < style.emoji:
        text = text + " " + _EMOJI[int(r() * len(_EMOJI))]
    return text
