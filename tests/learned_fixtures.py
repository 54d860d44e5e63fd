"""Tiny randomly initialised BERT models, written by the tests into temporary folders.

Nothing is downloaded: the vocabulary is the neutral test words plus letters and punctuation,
the weights are random (seeded), and the folder is what ``save_pretrained`` writes, so the
adapters load it exactly as they load a real model. One model per test process (built on
first use, a second or so); tests that change a model copy it first.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from tests.detector_fixtures import FIXTURES
from tests.helpers import WORDS

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
EXTRA_WORDS = ["grooming", "benign", "the", "a", "is", "it", "and", "game", "play", "later"]
LETTERS = list("abcdefghijklmnopqrstuvwxyz0123456789")
PUNCTUATION = list(":,.!?'-")

_shared: dict[str, Path] = {}


def vocabulary() -> list[str]:
    """The tiny tokenizer's vocabulary: special tokens first, then every neutral test word."""
    words = dict.fromkeys([*SPECIALS, *LETTERS, *PUNCTUATION, *WORDS, *EXTRA_WORDS])
    return list(words)


def build_tiny_bert(
    folder: Path,
    *,
    max_position: int = 128,
    num_labels: int = 2,
    id2label: dict[int, str] | None = None,
    seed: int = 0,
    head: bool = True,
) -> Path:
    """Write a random 2-layer BERT (hidden 16) and its WordPiece tokenizer to ``folder``.

    Args:
        folder: where to write (created).
        max_position: the model's maximum length in tokens (and the tokenizer's).
        num_labels: classifier outputs.
        id2label: label names; default ``{0: "benign", 1: "grooming"}`` for two labels.
        seed: torch seed for the random weights.
        head: False writes a bare encoder (``BertModel``) with no classification head.
    """
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertModel, BertTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    vocab = vocabulary()
    tokenizer = BertTokenizer(
        vocab={w: i for i, w in enumerate(vocab)}, do_lower_case=True, model_max_length=max_position
    )
    tokenizer.save_pretrained(str(folder))
    if id2label is None:
        id2label = {0: "benign", 1: "grooming"} if num_labels == 2 else {}
    labels = id2label or {i: f"LABEL_{i}" for i in range(num_labels)}
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=max_position,
        num_labels=num_labels,
        id2label=labels,
        label2id={v: k for k, v in labels.items()},
    )
    torch.manual_seed(seed)
    model = BertForSequenceClassification(config) if head else BertModel(config)
    model.save_pretrained(str(folder))
    return folder


def shared_tiny_bert() -> Path:
    """The process-wide tiny classifier folder (built once). Do not modify it; copy it."""
    if "bert" not in _shared:
        root = Path(tempfile.mkdtemp(prefix="groombench-tiny-bert-"))
        _shared["bert"] = build_tiny_bert(root / "tiny-bert")
    return _shared["bert"]


def copy_tiny_bert(target: Path) -> Path:
    """A private copy of the shared tiny classifier, for tests that change files."""
    shutil.copytree(shared_tiny_bert(), target)
    return target


def hf_classifier_overrides(tmp_path: Path) -> list[str]:
    """Hydra overrides that make ``detector=hf_classifier`` train fast on the tiny model."""
    del tmp_path
    return [
        f"detector.base_model={shared_tiny_bert()}",
        "detector.max_length=128",
        "detector.epochs=1",
        "detector.max_train_windows=120",
        "detector.eval_every=5",
        "detector.progress=false",
    ]


def embedding_similarity_overrides(tmp_path: Path) -> list[str]:
    """Hydra overrides that make ``detector=embedding_similarity`` use the tiny encoder."""
    del tmp_path
    return [
        f"detector.encoder={shared_tiny_bert()}",
        "detector.max_length=64",
        "detector.max_exemplars=300",
        "detector.progress=false",
    ]


FIXTURES["hf_classifier"] = hf_classifier_overrides
FIXTURES["embedding_similarity"] = embedding_similarity_overrides
