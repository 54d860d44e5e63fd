"""Detectors behind a slow or paid service, and what they share: the ``RemoteDetector`` base
(batching, concurrency, retries, cost), the prediction cache, the HTTP transport, and the
adapters ``http`` (with the moderation presets) and ``llm_judge``.

A new service adapter subclasses :class:`detectors.remote.base.RemoteDetector` and implements
``request(payloads) -> scores``.
"""
