"""Text perturbations for robustness tests: how groomers evade filters, as small functions.

Groundwork for GroomCheck's robustness half (issue 15): each family is a function
``(text, rng, rate) -> text`` that changes some of a message's characters or words the way an
evading writer does, seeded and deterministic, and :func:`perturb_messages` applies one to
the chosen author's messages of a conversation. The five spelling families are HateCheck's
(Röttger et al., ACL 2021); the others are what child-safety reports describe: look-alike
letters, invisible characters, emoji for words, and platform names and handles written so a
keyword list misses them. Not yet wired into runs: no ``perturb=`` config group, no flip
rates in results.

Every function keeps the text's meaning for a human reader, never adds content, and with
``rate=0`` returns the text unchanged.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

Perturbation = Callable[[str, random.Random, float], str]

_WORD = re.compile(r"[A-Za-z]{3,}")
_LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}
# Cyrillic letters that look like Latin ones.
_HOMOGLYPHS = {"a": "а", "c": "с", "e": "е", "o": "о", "p": "р", "x": "х", "y": "у"}
_ZERO_WIDTH = "\u200b"
_EMOJI = {
    "phone": "📱",
    "pic": "📷",
    "photo": "📷",
    "picture": "📷",
    "secret": "🤫",
    "gift": "🎁",
    "present": "🎁",
    "meet": "🤝",
    "love": "❤️",
    "heart": "❤️",
    "car": "🚗",
    "home": "🏠",
    "money": "💰",
    "game": "🎮",
}
_PLATFORMS = {
    "snapchat": ("snap", "sn@pch@t", "s n a p"),
    "snap": ("sn@p", "s n a p", "👻"),
    "whatsapp": ("whats app", "w/app", "wh@tsapp"),
    "discord": ("disc0rd", "d!scord", "the purple app"),
    "instagram": ("insta", "1nsta", "the gram"),
    "telegram": ("tele gram", "t3legram", "tg"),
    "kik": ("k1k", "k i k"),
}
_PLATFORM = re.compile(r"\b(" + "|".join(sorted(_PLATFORMS, key=len, reverse=True)) + r")\b", re.I)
_HANDLE = re.compile(r"@([A-Za-z0-9_]{2,})")


def _words(text: str, rng: random.Random, rate: float, change: Callable[[str], str]) -> str:
    """Apply ``change`` to each word of three or more letters with probability ``rate``."""
    return _WORD.sub(lambda m: change(m.group(0)) if rng.random() < rate else m.group(0), text)


def char_swap(text: str, rng: random.Random, rate: float) -> str:
    """Swap two adjacent inner letters of some words (HateCheck: character swap).

    Examples:
        >>> char_swap("keep it secret", random.Random(1), 1.0)
        'keep it secrte'
        >>> char_swap("keep it secret", random.Random(1), 0.0)
        'keep it secret'
    """

    def swap(word: str) -> str:
        i = rng.randrange(1, len(word) - 1) if len(word) > 3 else 1
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :] if i + 1 < len(word) else word

    return _words(text, rng, rate, swap)


def char_delete(text: str, rng: random.Random, rate: float) -> str:
    """Drop one inner letter of some words (HateCheck: character deletion).

    Examples:
        >>> char_delete("don't tell your mom", random.Random(3), 1.0)
        "dn't tel yur mm"
    """

    def delete(word: str) -> str:
        i = rng.randrange(1, len(word) - 1)
        return word[:i] + word[i + 1 :]

    return _words(text, rng, rate, delete)


def space_delete(text: str, rng: random.Random, rate: float) -> str:
    """Join some words to the next one (HateCheck: space deletion).

    Examples:
        >>> space_delete("add me on snap", random.Random(0), 1.0)
        'addmeonsnap'
    """
    return re.sub(r"(?<=\S) (?=\S)", lambda _: "" if rng.random() < rate else " ", text)


def space_add(text: str, rng: random.Random, rate: float) -> str:
    """Split some words with a space (HateCheck: space addition).

    Examples:
        >>> space_add("send a picture", random.Random(2), 1.0)
        's end a pic ture'
    """

    def split(word: str) -> str:
        i = rng.randrange(1, len(word))
        return f"{word[:i]} {word[i:]}"

    return _words(text, rng, rate, split)


def leetspeak(text: str, rng: random.Random, rate: float) -> str:
    """Write some letters as digits (HateCheck: leetspeak).

    Examples:
        >>> leetspeak("is it a secret", random.Random(0), 1.0)
        '15 17 4 53cr37'
    """
    return "".join(
        _LEET[c.lower()] if c.lower() in _LEET and rng.random() < rate else c for c in text
    )


def homoglyph(text: str, rng: random.Random, rate: float) -> str:
    """Replace some Latin letters with Cyrillic look-alikes (the text reads the same).

    Examples:
        >>> out = homoglyph("open the app", random.Random(0), 1.0)
        >>> out == "open the app", len(out) == len("open the app")
        (False, True)
    """
    return "".join(_HOMOGLYPHS[c] if c in _HOMOGLYPHS and rng.random() < rate else c for c in text)


def zero_width(text: str, rng: random.Random, rate: float) -> str:
    """Put invisible zero-width spaces inside some words.

    Examples:
        >>> out = zero_width("delete the chat", random.Random(0), 1.0)
        >>> out.replace("\\u200b", "") == "delete the chat" and out != "delete the chat"
        True
    """

    def hide(word: str) -> str:
        i = rng.randrange(1, len(word))
        return word[:i] + _ZERO_WIDTH + word[i:]

    return _words(text, rng, rate, hide)


def emoji(text: str, rng: random.Random, rate: float) -> str:
    """Write some words as emoji (phone 📱, secret 🤫, gift 🎁, meet 🤝...).

    Examples:
        >>> emoji("its our secret, ill send a gift", random.Random(0), 1.0)
        'its our 🤫, ill send a 🎁'
    """

    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        return _EMOJI[word.lower()] if rng.random() < rate else word

    pattern = r"\b(" + "|".join(sorted(_EMOJI, key=len, reverse=True)) + r")\b"
    return re.sub(pattern, swap, text, flags=re.IGNORECASE)


def platform_names(text: str, rng: random.Random, rate: float) -> str:
    """Obfuscate platform names and contact handles (``sn@pch@t``, ``@name`` → ``at name``).

    Examples:
        >>> platform_names("add me on snapchat, im @jo_99", random.Random(4), 1.0)
        'add me on snap, im at jo_99'
    """

    def platform(match: re.Match[str]) -> str:
        if rng.random() >= rate:
            return match.group(0)
        choices = _PLATFORMS[match.group(0).lower()]
        return choices[rng.randrange(len(choices))]

    text = _PLATFORM.sub(platform, text)
    return _HANDLE.sub(lambda m: f"at {m.group(1)}" if rng.random() < rate else m.group(0), text)


#: Family name → function; the five HateCheck spelling families first.
FAMILIES: dict[str, Perturbation] = {
    "char_swap": char_swap,
    "char_delete": char_delete,
    "space_delete": space_delete,
    "space_add": space_add,
    "leetspeak": leetspeak,
    "homoglyph": homoglyph,
    "zero_width": zero_width,
    "emoji": emoji,
    "platform_names": platform_names,
}


def conversation_rng(seed: int, conversation_id: str, family: str) -> random.Random:
    """A generator for one conversation: the same whatever the order conversations come in.

    Examples:
        >>> a = conversation_rng(0, "c1", "leetspeak").random()
        >>> a == conversation_rng(0, "c1", "leetspeak").random() != conversation_rng(1, "c1",
        ...     "leetspeak").random()
        True
    """
    digest = hashlib.blake2b(f"{seed}\x1f{family}\x1f{conversation_id}".encode(), digest_size=8)
    return random.Random(int.from_bytes(digest.digest(), "little"))


def perturb_messages(
    messages: Sequence[Mapping[str, Any]],
    family: str,
    *,
    authors: Sequence[str],
    rate: float,
    seed: int,
    conversation_id: str,
) -> list[dict[str, Any]]:
    """The conversation with ``family`` applied to the messages of ``authors`` only.

    Args:
        messages: schema messages (dicts with ``author`` and ``text``).
        family: a key of :data:`FAMILIES`.
        authors: whose messages change (e.g. the groomer's).
        rate: the share of eligible characters or words changed, in [0, 1].
        seed: the run's seed.
        conversation_id: keys the conversation's generator (order-independent).

    Raises:
        ValueError: an unknown family or a rate outside [0, 1].

    Examples:
        >>> chat = [{"author": "g", "text": "add me on snapchat"}, {"author": "c", "text": "ok"}]
        >>> out = perturb_messages(chat, "leetspeak", authors=["g"], rate=1.0, seed=0,
        ...                        conversation_id="c1")
        >>> [m["text"] for m in out]
        ['4dd m3 0n 5n4pch47', 'ok']
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown perturbation {family!r}; one of {', '.join(FAMILIES)}")
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"rate must be in [0, 1], got {rate!r}")
    change = FAMILIES[family]
    rng = conversation_rng(seed, conversation_id, family)
    chosen = set(authors)
    out = []
    for message in messages:
        text = message["text"] or ""
        if message["author"] in chosen:
            text = _clean_change(change, text, rng, rate)
        out.append(dict(message) | {"text": text})
    return out


def _clean_change(change: Perturbation, text: str, rng: random.Random, rate: float) -> str:
    """``change(text)``, never making a clean message trip the content blocklist.

    Splitting "brawl" into "bra wl" adds no content but would trip the scanner that guards
    the synthetic corpus: such a draw is tried again (five times at most), else the message
    stays as it was.
    """
    from benchmarks.corpora.synthetic.safety import find_blocklisted

    if find_blocklisted(text):
        return change(text, rng, rate)  # not ours to clean; changed like any other
    for _ in range(5):
        changed = change(text, rng, rate)
        if not find_blocklisted(changed):
            return changed
    return text
