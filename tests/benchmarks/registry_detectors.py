"""A small trainable detector for the model-registry tests: it keeps what ``fit`` was given.

It is a real detector (it learns a word list and scores with it), so the harness trains, saves,
logs, registers and loads it exactly as any other. What ``fit`` received (message labels, the
message objects' fields) is saved beside the model, for the tests to read back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from detectors import Conversation, DetectorMetadata, TrainableDetector

META_FILE = "metadata.json"
#: What :meth:`RecordingDetector.training_curves` returns when ``curves`` is on.
CURVES: tuple[dict[str, float], ...] = (
    {"step": 10, "epoch": 0.5, "train_loss": 0.69, "val_loss": 0.70, "val_auc": 0.55},
    {"step": 20, "epoch": 1.0, "train_loss": 0.41, "val_loss": 0.52, "val_auc": 0.81},
    {"step": 30, "epoch": 1.5, "train_loss": 0.22},
)


class RecordingDetector(TrainableDetector):
    """Scores the share of a conversation's words seen only in grooming training chats."""

    def __init__(
        self,
        model_path: str | None = None,
        seed: int = 0,
        api_key: str | None = None,
        curves: bool = False,
        base_model: str = "tiny-base",
        name: str = "recording",
    ) -> None:
        del api_key  # only here to prove that secrets never reach params or tags
        self.model_path = model_path
        self.seed = seed
        self.curves = curves
        self.base_model = base_model
        self._name = name
        self._words: set[str] | None = None
        self._received: dict[str, object] = {}
        self._curves: list[dict[str, float]] = []
        self.metadata = self._metadata(())
        if model_path and (Path(model_path) / META_FILE).exists():
            self.load(model_path)

    def _metadata(self, trained_on: tuple[str, ...]) -> DetectorMetadata:
        return DetectorMetadata(
            name=self._name, version="1", description="test detector", trained_on=trained_on
        )

    @property
    def is_fitted(self) -> bool:
        return self._words is not None

    def fit(
        self,
        conversations: Sequence[Conversation],
        labels: Sequence[int],
        trained_on: str,
        message_labels: Sequence[Sequence[bool] | None] | None = None,
    ) -> None:
        positive = {
            w
            for c, y in zip(conversations, labels, strict=True)
            if y
            for m in c
            for w in m.text.split()
        }
        negative = {
            w
            for c, y in zip(conversations, labels, strict=True)
            if not y
            for m in c
            for w in m.text.split()
        }
        self._words = positive - negative
        self._received = {
            "message_labels": None
            if message_labels is None
            else [None if flags is None else list(flags) for flags in message_labels],
            "lengths": [len(c) for c in conversations],
            "message_fields": sorted({f for c in conversations for m in c for f in m.__slots__}),
        }
        self._curves = [dict(row) for row in CURVES] if self.curves else []
        self.metadata = self._metadata((trained_on,))

    def training_curves(self) -> Sequence[Mapping[str, float]]:
        return self._curves

    def save(self, path: str) -> None:
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        meta = {
            "name": self._name,
            "version": self.metadata.version,
            "trained_on": list(self.metadata.trained_on),
            "base_model": self.base_model,
            "words": sorted(self._words or ()),
            "received": self._received,
        }
        (folder / META_FILE).write_text(json.dumps(meta), encoding="utf-8")

    def load(self, path: str) -> None:
        meta = json.loads((Path(path) / META_FILE).read_text(encoding="utf-8"))
        self._words = set(meta["words"])
        self._received = meta["received"]
        self.metadata = self._metadata(tuple(meta["trained_on"]))

    def score(self, conversations: Sequence[Conversation]) -> list[float]:
        if self._words is None:
            raise RuntimeError("recording detector is not trained")
        out = []
        for conversation in conversations:
            words = [w for m in conversation for w in m.text.split()]
            out.append(sum(w in self._words for w in words) / len(words) if words else 0.0)
        return out


def saved_received(folder: Path) -> dict[str, object]:
    """What ``fit`` received, as saved in a model folder."""
    meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    received: dict[str, object] = meta["received"]
    return received
