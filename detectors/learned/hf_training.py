"""Fine-tuning a sequence classifier on token-id windows: AdamW, warm-up, early stopping.

A plain torch loop (``transformers.Trainer`` needs ``accelerate``, and this loop is short):
class-weighted cross-entropy (grooming windows are the minority), batches of similar length
(shuffled), evaluation on the validation windows every ``eval_every`` steps and at the end of
each epoch, and the weights of the best validation loss restored at the end. Every evaluation
is a row of the training curves that the harness logs to MLflow.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from detectors.learned.hf_runtime import pad_batch, progress_bar

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainSettings:
    """How to fine-tune (the detector's config keys of the same names)."""

    epochs: int = 2
    learning_rate: float = 5e-5
    train_batch_size: int = 16
    eval_every: int = 100
    patience: int = 2
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    seed: int = 0
    progress: bool = True

    def __post_init__(self) -> None:
        for key in ("epochs", "train_batch_size", "eval_every", "patience"):
            if int(getattr(self, key)) < 1:
                raise ValueError(f"{key} must be >= 1, got {getattr(self, key)}")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate}")
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise ValueError(f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}")


@dataclass(frozen=True)
class TrainOutcome:
    """What fine-tuning did: the curves, the best evaluation, how long it took."""

    curves: list[dict[str, float]]
    best_step: int
    best_val_loss: float
    steps: int
    seconds: float
    stopped_early: bool


def class_weights(labels: Sequence[int]) -> list[float]:
    """Balanced class weights ``n / (2 n_c)``, so each class counts as much in the loss.

    Examples:
        >>> class_weights([0, 0, 0, 1])
        [0.6666666666666666, 2.0]
    """
    n = len(labels)
    positives = sum(1 for y in labels if y)
    negatives = n - positives
    return [n / (2 * negatives) if negatives else 1.0, n / (2 * positives) if positives else 1.0]


def shuffled_length_batches(
    lengths: Sequence[int], size: int, rng: random.Random
) -> list[list[int]]:
    """Batches of similar length in random order: shuffle, sort within pools, shuffle batches.

    Pools of 50 batches keep the randomness of the order while cutting padding.

    Examples:
        >>> batches = shuffled_length_batches([3, 1, 2, 9], 2, random.Random(0))
        >>> sorted(i for b in batches for i in b)
        [0, 1, 2, 3]
    """
    order = list(range(len(lengths)))
    rng.shuffle(order)
    pool = size * 50
    batches: list[list[int]] = []
    for start in range(0, len(order), pool):
        chunk = sorted(order[start : start + pool], key=lambda i: lengths[i])
        batches.extend(chunk[k : k + size] for k in range(0, len(chunk), size))
    rng.shuffle(batches)
    return batches


def fine_tune(
    model: Any,
    train: tuple[Sequence[Sequence[int]], Sequence[int]],
    validation: tuple[Sequence[Sequence[int]], Sequence[int]],
    *,
    pad_id: int,
    device: str,
    settings: TrainSettings,
) -> TrainOutcome:
    """Fine-tune ``model`` (a ``*ForSequenceClassification``) in place; keep the best weights.

    Args:
        model: the classifier, on ``device``.
        train: training inputs (token ids, special tokens included) and 0/1 labels.
        validation: held-out inputs and labels for early stopping (never trained on).
        pad_id: the tokenizer's padding id.
        device: torch device.
        settings: epochs, learning rate, batch size, evaluation cadence, patience...
    """
    import torch

    inputs, labels = train
    if not inputs:
        raise ValueError("no training windows")
    if not validation[0]:
        raise ValueError("no validation windows; lower validation_fraction or add data")
    torch.manual_seed(settings.seed)
    rng = random.Random(settings.seed)
    weights = torch.tensor(class_weights(labels), dtype=torch.float32, device=device)
    loss_fn = torch.nn.CrossEntropyLoss(weight=weights)
    decay = [p for n, p in model.named_parameters() if p.ndim > 1 and "LayerNorm" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.ndim > 1 and "LayerNorm" not in n)]
    optimiser = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": settings.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=settings.learning_rate,
    )
    per_epoch = math.ceil(len(inputs) / settings.train_batch_size)
    total = per_epoch * settings.epochs
    warmup = int(total * settings.warmup_ratio)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimiser,
        lambda step: (
            (step + 1) / warmup
            if step < warmup
            else max(0.0, (total - step) / max(1, total - warmup))
        ),
    )
    curves: list[dict[str, float]] = []
    best = (math.inf, 0)
    best_state: dict[str, Any] | None = None
    since_best = 0
    step = 0
    running: list[float] = []
    started = time.perf_counter()
    bar = progress_bar(total, settings.progress, "fine-tuning", "step", minimum=0)
    stopped = False
    lengths = [len(s) for s in inputs]
    for _epoch in range(settings.epochs):
        for batch in shuffled_length_batches(lengths, settings.train_batch_size, rng):
            model.train()
            ids, mask = _pad([inputs[i] for i in batch], pad_id, device)
            target = torch.tensor([int(labels[i]) for i in batch], device=device)
            loss = loss_fn(model(input_ids=ids, attention_mask=mask).logits, target)
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            scheduler.step()
            step += 1
            running.append(float(loss.detach()))
            if bar is not None:
                bar.update(1)
            end_of_epoch = step % per_epoch == 0
            if step % settings.eval_every and not end_of_epoch:
                continue
            val_loss, val_auc = evaluate(model, validation, pad_id=pad_id, device=device)
            row = {"step": float(step), "epoch": step / per_epoch, "val_loss": val_loss}
            row["train_loss"] = float(np.mean(running))
            if not math.isnan(val_auc):
                row["val_auc"] = val_auc
            curves.append(row)
            running = []
            log.info("step %d: train loss %.4f, val loss %.4f", step, row["train_loss"], val_loss)
            if val_loss < best[0]:
                best = (val_loss, step)
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                since_best = 0
            else:
                since_best += 1
                if since_best >= settings.patience:
                    stopped = True
                    break
        if stopped:
            break
    if bar is not None:
        bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return TrainOutcome(
        curves=curves,
        best_step=best[1],
        best_val_loss=best[0],
        steps=step,
        seconds=time.perf_counter() - started,
        stopped_early=stopped,
    )


def evaluate(
    model: Any,
    data: tuple[Sequence[Sequence[int]], Sequence[int]],
    *,
    pad_id: int,
    device: str,
    batch_size: int = 64,
) -> tuple[float, float]:
    """Return the mean (unweighted) cross-entropy and the ROC AUC on ``data`` (AUC nan: 1 class)."""
    import torch

    inputs, labels = data
    model.eval()
    losses: list[float] = []
    scores: list[float] = []
    order = sorted(range(len(inputs)), key=lambda i: len(inputs[i]))
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            ids, mask = _pad([inputs[i] for i in batch], pad_id, device)
            logits = model(input_ids=ids, attention_mask=mask).logits.float()
            target = torch.tensor([int(labels[i]) for i in batch], device=device)
            losses.extend(torch.nn.functional.cross_entropy(logits, target, reduction="none"))
            scores.extend(torch.softmax(logits, dim=-1)[:, 1].tolist())
    y = [int(labels[i]) for i in order]
    auc = float("nan")
    if len(set(y)) == 2:
        from sklearn.metrics import roc_auc_score

        auc = float(roc_auc_score(y, scores))
    return float(np.mean([float(v) for v in losses])), auc


def _pad(batch: Sequence[Sequence[int]], pad_id: int, device: str) -> tuple[Any, Any]:
    ids, mask = pad_batch(batch, pad_id)
    return ids.to(device), None if mask is None else mask.to(device)
