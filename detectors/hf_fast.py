"""An exact shortcut for BERT classifiers: the last layer is computed for ``[CLS]`` only.

A BERT sequence classifier reads one vector, the last layer's output at ``[CLS]``. Every other
token's output of that layer is computed and thrown away: its query, attention output, and
feed-forward block (about 5/6 of the layer's work). Keys and values of every token are still
needed, since ``[CLS]`` attends to them. :func:`cls_logits` runs the same modules, with the
same weights, in the same order, but the last layer on one position: the logits are those of
the full forward pass up to float rounding (about 1e-7; checked by a test).

Only plain ``BertForSequenceClassification`` encoders qualify (MiniLM is one); anything else
runs the model's own forward (:func:`supports_cls_shortcut` says which).
"""

from __future__ import annotations

from typing import Any


def supports_cls_shortcut(model: Any) -> bool:
    """True for a BERT encoder classifier whose last layer the shortcut reproduces exactly."""
    config = model.config
    return (
        type(model).__name__ == "BertForSequenceClassification"
        and not getattr(config, "is_decoder", False)
        and not getattr(config, "add_cross_attention", False)
        and int(getattr(config, "chunk_size_feed_forward", 0) or 0) == 0
        and getattr(config, "position_embedding_type", "absolute") == "absolute"
        and getattr(model.bert, "pooler", None) is not None
        and len(model.bert.encoder.layer) >= 1
    )


def cls_logits(model: Any, input_ids: Any, attention_mask: Any) -> Any:
    """Return ``model(input_ids, attention_mask).logits``, computing the last layer at [CLS].

    Call under ``torch.inference_mode()`` with the model in eval mode (dropout off).
    """
    from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS
    from transformers.models.bert.modeling_bert import eager_attention_forward

    bert = model.bert
    hidden = bert.embeddings(input_ids=input_ids)
    mask, _ = bert._create_attention_masks(
        attention_mask=attention_mask,
        encoder_attention_mask=None,
        embedding_output=hidden,
        encoder_hidden_states=None,
        cache=None,
    )
    *body, last = bert.encoder.layer
    for layer in body:
        hidden = layer(hidden, mask)
    attention = last.attention.self
    batch, length, _ = hidden.shape
    heads, size = attention.num_attention_heads, attention.attention_head_size
    query = attention.query(hidden[:, :1]).view(batch, 1, heads, size).transpose(1, 2)
    key = attention.key(hidden).view(batch, length, heads, size).transpose(1, 2)
    value = attention.value(hidden).view(batch, length, heads, size).transpose(1, 2)
    # The mask's query axis is the sequence for a full pass; [CLS] is its first row.
    cls_mask = mask[:, :, :1, :] if mask is not None and mask.dim() == 4 else mask
    interface = ALL_ATTENTION_FUNCTIONS.get_interface(
        attention.config._attn_implementation, eager_attention_forward
    )
    context, _ = interface(
        attention, query, key, value, cls_mask, dropout=0.0, scaling=attention.scaling
    )
    context = context.reshape(batch, 1, -1).contiguous()
    attended = last.attention.output(context, hidden[:, :1])
    out = last.output(last.intermediate(attended), attended)
    return model.classifier(model.dropout(bert.pooler(out)))
