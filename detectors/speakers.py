"""Speaker pseudonyms: what an untrusted detector is shown instead of the corpus's author ids.

Author ids can be a key to the answer (a groomer's id recurs across a corpus, and ground-truth
files list them), so sealed programs and remote services never receive them: each author is
renamed by order of first appearance within the conversation (``A``, ``B``, ...). The name of a
message's author depends only on earlier messages, so the renaming is itself causal.
"""

from __future__ import annotations

from collections.abc import Sequence

from detectors.base import Message


def speaker_name(position: int) -> str:
    """The ``position``-th speaker's name (0-based): A..Z, then A1, B1, ...

    Examples:
        >>> [speaker_name(i) for i in (0, 1, 25, 26, 27)]
        ['A', 'B', 'Z', 'A1', 'B1']
    """
    letter, round_ = chr(ord("A") + position % 26), position // 26
    return letter if round_ == 0 else f"{letter}{round_}"


def pseudonymous(conversation: Sequence[Message]) -> tuple[Message, ...]:
    """The conversation with each author renamed by order of first appearance.

    Examples:
        >>> chat = [Message("u81", "hi"), Message("u7", "hey"), Message("u81", "ok")]
        >>> [m.author for m in pseudonymous(chat)]
        ['A', 'B', 'A']
    """
    names: dict[str, str] = {}
    out = []
    for message in conversation:
        name = names.setdefault(message.author, speaker_name(len(names)))
        out.append(Message(name, message.text, message.time, message.index))
    return tuple(out)
