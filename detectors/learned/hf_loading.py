"""Loading a Hugging Face sequence classifier for ``hf_classifier``, with errors that help.

A folder that is not a model, a model that is not a classifier, a grooming label the model
does not have, an input length the model cannot take: each is refused with a message that says
which config key to change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: The labels of a classifier fine-tuned by groombench.
LABELS = {0: "benign", 1: "grooming"}


def positive_index(config: Any, positive_label: str | int) -> int:
    """Return the output index of the grooming label; raise when the mapping does not fit.

    Examples:
        >>> from types import SimpleNamespace
        >>> cfg = SimpleNamespace(num_labels=2, id2label={0: "benign", 1: "grooming"})
        >>> positive_index(cfg, "grooming"), positive_index(cfg, 0)
        (1, 0)
        >>> positive_index(cfg, "toxic")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: positive_label 'toxic' is not a label of this model (its labels: ...
    """
    n = int(config.num_labels)
    if n == 1:  # a single logit: its sigmoid is the score
        return 0
    names = {str(v).lower(): int(k) for k, v in (config.id2label or {}).items()}
    text = str(positive_label).strip()
    if text.lower() in names:
        return names[text.lower()]
    listing = ", ".join(f"{k}={v}" for k, v in sorted((config.id2label or {}).items()))
    if text.lstrip("-").isdigit():
        index = int(text)
        if 0 <= index < n:
            return index
    raise ValueError(
        f"positive_label {positive_label!r} is not a label of this model (its labels: "
        f"{listing}); set detector.positive_label to one of them or to an index 0..{n - 1}"
    )


def model_max_length(config: Any, tokenizer: Any) -> int:
    """The longest input (tokens) the model takes: its position table, and its tokenizer's cap."""
    limit = int(getattr(config, "max_position_embeddings", 512) or 512)
    if getattr(config, "model_type", "") in ("roberta", "xlm-roberta", "camembert"):
        limit -= 2  # their position ids start after the padding index
    cap = getattr(tokenizer, "model_max_length", None)
    if isinstance(cap, int) and 0 < cap < 1_000_000:
        limit = min(limit, cap)
    return limit


def load_classifier(folder: Path, device: str, *, base: bool) -> tuple[Any, Any]:
    """Load tokenizer and classifier from ``folder``; ``base`` allows a new classification head."""
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    try:
        config = AutoConfig.from_pretrained(str(folder))
    except (OSError, ValueError) as error:
        raise ValueError(f"{folder} is not a readable Hugging Face model folder: {error}") from None
    architectures = list(getattr(config, "architectures", None) or [])
    is_classifier = any(a.endswith("ForSequenceClassification") for a in architectures)
    if not base and not is_classifier:
        raise ValueError(
            f"{folder} holds a {', '.join(architectures) or config.model_type} model, not a "
            "sequence classifier; fine-tune it first (groombench-train detector=hf_classifier "
            f"detector.base_model={folder}) or point detector.model_path at a classifier"
        )
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]  # "newly initialized head" is the point of fine-tuning
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
        if base:
            model = AutoModelForSequenceClassification.from_pretrained(
                str(folder),
                num_labels=2,
                id2label=LABELS,
                label2id={v: k for k, v in LABELS.items()},
                ignore_mismatched_sizes=True,
            )
        else:
            model = AutoModelForSequenceClassification.from_pretrained(str(folder))
    finally:
        hf_logging.set_verbosity(verbosity)
    model.to(device)
    model.eval()
    return model, tokenizer
