"""An exact shortcut for BERT classifiers: the last layer is computed for ``[CLS]`` only.

A BERT sequence classifier reads one vector, the last layer's output at ``[CLS]``. Every other
token's output of that layer is computed and thrown away: its query, attention output, and
feed-forward block (about 5/6 of the layer's work). Keys and values of every token are still
needed, since ``[CLS]`` attends to them. :func:`cls_logits` runs the same modules, with the
same weights, in the same order, but the last layer on one position: the logits are those of
the full forward pass up to float rounding (about 1e-7; checked by a test).

The shortcut relies on no private API of ``transformers``: the model's own public forward
computes the embeddings, the attention mask and every layer but the last (a forward pre-hook,
a public ``torch`` API, stops it at the last layer and hands over that layer's inputs), and the
last layer's attention at ``[CLS]`` is ``torch``'s public scaled dot-product attention. Even so,
the model's internals may change shape in a new release (transformers 5.25 changed the private
mask helper an earlier version of this module called, and every score failed). So the shortcut
is **guarded**: :func:`guarded_logits` checks its first batch of each model against the model's
own forward pass, and when the shortcut raises or disagrees, it warns once, saying why, and
uses the public forward from then on.

Only plain ``BertForSequenceClassification`` encoders qualify (MiniLM is one); anything else
runs the model's own forward (:func:`shortcut_problem` says why).
"""

from __future__ import annotations

import logging
import weakref
from typing import Any

log = logging.getLogger(__name__)

#: The probe's bound on |shortcut - full| logits: float32 rounding is about 1e-7; half
#: precision rounds by about 1e-2.
PROBE_TOLERANCE = {"float32": 1e-4, "float64": 1e-8}
HALF_TOLERANCE = 1e-1


def shortcut_problem(model: Any) -> str:
    """Why the shortcut does not apply to ``model`` ("" when it does).

    Checks the class, the configuration, and that the modules the shortcut reads exist with
    the expected names, so a renamed attribute in a new ``transformers`` is a fallback, not a
    crash.
    """
    if type(model).__name__ != "BertForSequenceClassification":
        return f"{type(model).__name__} is not a BertForSequenceClassification"
    config = getattr(model, "config", None)
    checks = {
        "a decoder": bool(getattr(config, "is_decoder", False)),
        "cross-attention": bool(getattr(config, "add_cross_attention", False)),
        "chunked feed-forward": int(getattr(config, "chunk_size_feed_forward", 0) or 0) != 0,
        "relative positions": getattr(config, "position_embedding_type", "absolute") != "absolute",
    }
    for what, present in checks.items():
        if present:
            return f"the model uses {what}"
    paths = (
        "bert.pooler.dense",
        "bert.encoder.layer",
        "classifier",
        "dropout",
    )
    for path in paths:
        if _get(model, path) is None:
            return f"the model has no '{path}'"
    layers = model.bert.encoder.layer
    if len(layers) < 1:
        return "the model has no encoder layer"
    last = layers[-1]
    for path in (
        "attention.self.query",
        "attention.self.key",
        "attention.self.value",
        "attention.self.num_attention_heads",
        "attention.self.attention_head_size",
        "attention.output",
        "intermediate",
        "output",
    ):
        if _get(last, path) is None:
            return f"the last encoder layer has no '{path}'"
    return ""


def supports_cls_shortcut(model: Any) -> bool:
    """True for a BERT encoder classifier whose last layer the shortcut reproduces exactly."""
    return not shortcut_problem(model)


def _get(obj: Any, path: str) -> Any:
    for name in path.split("."):
        obj = getattr(obj, name, None)
        if obj is None:
            return None
    return obj


class _Stop(Exception):
    """Raised by the pre-hook to stop the forward pass at the last layer."""


def _last_layer_inputs(model: Any, input_ids: Any, attention_mask: Any) -> tuple[Any, Any]:
    """Run the model's own forward up to its last layer; return that layer's (hidden, mask)."""
    last = model.bert.encoder.layer[-1]
    seen: dict[str, Any] = {}

    def stop(_module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        seen["hidden"] = args[0] if args else kwargs.get("hidden_states")
        seen["mask"] = args[1] if len(args) > 1 else kwargs.get("attention_mask")
        raise _Stop

    handle = last.register_forward_pre_hook(stop, with_kwargs=True)
    try:
        model.bert(input_ids=input_ids, attention_mask=attention_mask)
    except _Stop:
        pass
    finally:
        handle.remove()
    if "hidden" not in seen or seen["hidden"] is None:
        raise RuntimeError("the forward pass never reached the last encoder layer")
    return seen["hidden"], seen["mask"]


def cls_logits(model: Any, input_ids: Any, attention_mask: Any) -> Any:
    """Return ``model(input_ids, attention_mask).logits``, computing the last layer at [CLS].

    Call under ``torch.inference_mode()`` with the model in eval mode (dropout off). Use
    :func:`guarded_logits` in production code: it checks this against the full pass.
    """
    import torch

    hidden, mask = _last_layer_inputs(model, input_ids, attention_mask)
    last = model.bert.encoder.layer[-1]
    attention = last.attention.self
    batch, length, _ = hidden.shape
    heads, size = int(attention.num_attention_heads), int(attention.attention_head_size)
    query = attention.query(hidden[:, :1]).view(batch, 1, heads, size).transpose(1, 2)
    key = attention.key(hidden).view(batch, length, heads, size).transpose(1, 2)
    value = attention.value(hidden).view(batch, length, heads, size).transpose(1, 2)
    if mask is not None:
        if not isinstance(mask, torch.Tensor) or mask.dim() != 4:
            raise TypeError(f"unexpected attention mask {type(mask).__name__}")
        # The mask's query axis is the sequence for a full pass; [CLS] is its first row.
        mask = mask[:, :, :1, :]
        if mask.dtype != torch.bool:
            mask = mask.to(query.dtype)
    context = torch.nn.functional.scaled_dot_product_attention(
        query, key, value, attn_mask=mask, dropout_p=0.0, scale=size**-0.5
    )
    context = context.transpose(1, 2).reshape(batch, 1, heads * size).contiguous()
    attended = last.attention.output(context, hidden[:, :1])
    out = last.output(last.intermediate(attended), attended)
    return model.classifier(model.dropout(model.bert.pooler(out)))


# Per model: None while unchecked, "" once the shortcut agreed, else why it was dropped.
_verdicts: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def shortcut_fallback(model: Any) -> str | None:
    """Why the guarded shortcut was dropped for ``model`` (None if it was not)."""
    verdict = _verdicts.get(model)
    return verdict or None


def guarded_logits(model: Any, input_ids: Any, attention_mask: Any) -> Any:
    """Logits by the ``[CLS]`` shortcut when it is checked to agree, else the public forward.

    The first call for a model runs both and compares them; a shortcut that raises or differs
    by more than float rounding is dropped for that model, with one warning that says why.
    """
    verdict = _verdicts.get(model)
    if verdict is None:
        problem = shortcut_problem(model)
        if problem:
            _verdicts[model] = problem
            return _full(model, input_ids, attention_mask)
        full = _full(model, input_ids, attention_mask)
        try:
            fast = cls_logits(model, input_ids, attention_mask)
            gap = float((fast.float() - full.float()).abs().max())
            bound = PROBE_TOLERANCE.get(str(full.dtype).removeprefix("torch."), HALF_TOLERANCE)
            problem = "" if gap <= bound else f"it differs from the full pass by {gap:.3g}"
        except Exception as error:  # any failure of the shortcut means: use the public path
            problem = f"{type(error).__name__}: {error}"
        if problem:
            _drop(model, problem)
            return full
        _verdicts[model] = ""
        return fast
    if verdict:
        return _full(model, input_ids, attention_mask)
    try:
        return cls_logits(model, input_ids, attention_mask)
    except Exception as error:  # a batch shape the probe did not see: same fallback
        _drop(model, f"{type(error).__name__}: {error}")
        return _full(model, input_ids, attention_mask)


def _full(model: Any, input_ids: Any, attention_mask: Any) -> Any:
    return model(input_ids=input_ids, attention_mask=attention_mask).logits


def _drop(model: Any, problem: str) -> None:
    _verdicts[model] = problem
    message = (
        "hf_classifier: the exact [CLS]-only shortcut does not work with this model and "
        f"transformers version ({problem}); scoring with the model's full forward pass "
        "(same scores, about 15% slower)"
    )
    log.warning(message)
