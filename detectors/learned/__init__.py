"""Neural detectors and their machinery: ``hf_classifier`` (a windowed transformer classifier,
with its loading, runtime, fine-tuning and the exact ``[CLS]`` shortcut) and
``embedding_similarity`` (sentence embeddings against exemplars).

They need the ``learned`` extra (torch, transformers, the offline MiniLM weights); nothing heavy
is imported until a detector is built.
"""
