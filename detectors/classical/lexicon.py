"""The stage lexicon: a transparent rule baseline that says which grooming stage fired.

Each message is matched against one regular expression per stage (DOMAIN §2). A conversation's
score combines the distinct stages seen so far, ``1 - prod(1 - weight[stage])``, so evidence of
several stages (risk checking, then secrecy, then a move to another app) scores higher than one
stage repeated. Rapport carries no weight: it occurs in every chat.

The shipped lexicon holds no explicit terms, so its ``sexual`` stage is empty; a user who works
with real corpora can add patterns from a JSON file (``extra_patterns``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from detectors.base import Conversation, Detector, DetectorMetadata, Message, Session, checkpoints

# Short forms seen in chat: kept inside the patterns so no normalisation pass is needed.
_YOU = r"(?:you|u|ya)"
_YOUR = r"(?:your|ur|youre|you're|ure)"
_ARE = r"(?:are|r)"

PATTERNS: dict[str, list[str]] = {
    "rapport": [r"\bhow(?:'?s| is| was) (?:your|ur) day\b", r"\bwhat(?:'?s| is) up\b"],
    "personal_info": [
        rf"\bhow old {_ARE} {_YOU}\b",
        r"\basl\b",
        rf"\bwhat (?:grade|year|school) {_ARE} {_YOU}\b",
        rf"\bwhere do {_YOU} live\b",
        r"\bwhat school\b",
        rf"\b{_YOUR} age\b",
    ],
    "risk_check": [
        rf"\b{_ARE} {_YOU} (?:home )?alone\b",
        r"\b(?:parents|mom|mum|dad) (?:home|around|there|watching)\b",
        rf"\bwho (?:else )?(?:uses|reads|checks|sees) {_YOUR}\b",
        r"\bdelete (?:the|our|this|these) (?:chat|messages|msgs)\b",
        r"\bdo (?:they|your parents|ur parents) check\b",
    ],
    "compliments": [
        r"\bmature for (?:your|ur) age\b",
        rf"\b{_YOUR} so (?:pretty|cute|beautiful|smart|mature|special)\b",
        rf"\b{_YOU} {_ARE} so (?:pretty|cute|beautiful|smart|mature|special)\b",
        r"\bnot like other (?:kids|girls|boys)\b",
    ],
    "exclusivity": [
        r"\bspecial (?:friend|friendship|connection|bond)\b",
        rf"\b{_YOU} can tell me anything\b",
        rf"\bonly one who (?:gets|understands) {_YOU}\b",
        rf"\b{_YOU} can trust me\b",
    ],
    "secrecy": [
        r"\b(?:don'?t|do not|dont) tell\b",
        r"\bour (?:little )?secret\b",
        r"\bkeep (?:this|it|us) (?:between us|secret|quiet)\b",
        r"\bno one (?:needs|has) to know\b",
    ],
    "isolation": [
        rf"\b(?:they|your parents|ur parents|your friends|ur friends) (?:don'?t|dont) "
        rf"(?:understand|get|care about) {_YOU}\b",
        rf"\b{_YOU} (?:don'?t|dont) need them\b",
        r"\bi'?m the only one\b",
    ],
    "gifts": [
        r"\bgift ?card\b",
        r"\b(?:robux|v-?bucks|skins|gems|coins)\b",
        rf"\bbuy {_YOU}\b",
        rf"\bsend {_YOU} (?:a |some )?(?:present|gift|money)\b",
    ],
    "platform_move": [
        r"\b(?:snap|snapchat|whatsapp|telegram|kik|discord|insta|instagram|signal)\b",
        r"\b(?:text|message|msg|add|dm) me on\b",
        r"\bprivate (?:chat|app|channel)\b",
    ],
    "image_request": [
        r"\b(?:send|show) (?:me )?(?:a |another |some )?(?:pic|pics|photo|photos|picture|selfie)\b",
        rf"\bwhat do {_YOU} look like\b",
        r"\bturn on (?:your|ur) (?:cam|camera)\b",
    ],
    "approach": [
        r"\bmeet (?:up|me|in person|irl)\b",
        rf"\bpick {_YOU} up\b",
        r"\bcome over\b",
        r"\bwhere can we meet\b",
    ],
    "sexual": [],
}

WEIGHTS: dict[str, float] = {
    "rapport": 0.0,
    "personal_info": 0.12,
    "risk_check": 0.35,
    "compliments": 0.15,
    "exclusivity": 0.3,
    "secrecy": 0.35,
    "isolation": 0.35,
    "gifts": 0.2,
    "platform_move": 0.25,
    "image_request": 0.4,
    "approach": 0.3,
    "sexual": 0.6,
}


def _compile(patterns: Mapping[str, Iterable[str]]) -> re.Pattern[str]:
    # One alternation with a named group per stage: one scan per message, whatever the stages.
    groups = [
        f"(?P<{stage}>{'|'.join(f'(?:{p})' for p in items)})"
        for stage, items in patterns.items()
        if list(items)
    ]
    return re.compile("|".join(groups), re.IGNORECASE)


class LexiconDetector(Detector):
    """Rule baseline: stage patterns, incremental, explains which stages fired."""

    def __init__(
        self,
        weights: Mapping[str, float] | None = None,
        extra_patterns: str | None = None,
        name: str = "lexicon",
    ) -> None:
        patterns = {stage: list(items) for stage, items in PATTERNS.items()}
        if extra_patterns:
            extra = json.loads(Path(extra_patterns).read_text(encoding="utf-8"))
            for stage, items in extra.items():
                if stage not in patterns:
                    raise ValueError(
                        f"{extra_patterns}: unknown stage '{stage}'; expected one of "
                        f"{sorted(patterns)}"
                    )
                patterns[stage].extend(items)
        self.weights = dict(WEIGHTS) | dict(weights or {})
        self._regex = _compile(patterns)
        self.metadata = DetectorMetadata(
            name=name,
            version="1",
            description="Stage lexicon: regex cues per grooming stage, noisy-OR of stages seen.",
            reference="Stage models: O'Connell 2003; Olson et al. 2007 (see DOMAIN.md)",
            stateful=True,
        )

    def stages(self, text: str) -> set[str]:
        """Return the stages whose patterns match ``text``.

        Examples:
            >>> sorted(LexiconDetector().stages("dont tell ur mom, add me on snap"))
            ['platform_move', 'secrecy']
        """
        return {m.lastgroup for m in self._regex.finditer(text) if m.lastgroup}

    def combine(self, stages: Iterable[str]) -> float:
        """Return the noisy-OR score of a set of distinct stages.

        Examples:
            >>> round(LexiconDetector().combine({"secrecy", "platform_move"}), 4)
            0.5125
        """
        miss = 1.0
        # Sorted: float products depend on their order, and a set's order on the process's
        # hash seed; unsorted, two identical runs differed in the last bit of some scores.
        for stage in sorted(set(stages)):
            miss *= 1.0 - self.weights.get(stage, 0.0)
        return 1.0 - miss

    def score(self, conversations: Sequence[Conversation]) -> list[float]:
        return [self.combine(set().union(*(self.stages(m.text) for m in c))) for c in conversations]

    def session(self) -> Session:
        return _LexiconSession(self)

    def score_prefixes(
        self, conversations: Sequence[Conversation], every: int = 1
    ) -> list[list[float]]:
        out: list[list[float]] = []
        for conversation in conversations:
            seen: set[str] = set()
            running: list[float] = []
            current = 0.0
            for message in conversation:
                new = self.stages(message.text) - seen
                if new:
                    seen |= new
                    current = self.combine(seen)
                running.append(current)
            picks = np.asarray(checkpoints(len(conversation), every), dtype=np.int64) - 1
            out.append([running[i] for i in picks])
        return out


class _LexiconSession(Session):
    def __init__(self, detector: LexiconDetector) -> None:
        self._detector = detector
        self._seen: set[str] = set()
        self._first_seen: dict[str, int] = {}

    def observe(self, message: Message) -> None:
        for stage in sorted(self._detector.stages(message.text) - self._seen):
            self._seen.add(stage)
            self._first_seen[stage] = message.index

    def score(self) -> float:
        return self._detector.combine(self._seen)

    def explain(self) -> Mapping[str, object]:
        return {"stages": dict(sorted(self._first_seen.items(), key=lambda kv: kv[1]))}
