"""groombench's detector SDK: implement a detector against this package alone.

The SDK is this package's root: :mod:`detectors.base` (``Message``, ``Detector``, ``Session``,
``TrainableDetector``, ``DetectorMetadata``), :mod:`detectors.window`, :mod:`detectors.usage`
and :mod:`detectors.stages`. The adapters live in subpackages by family, each with its
machinery beside it: :mod:`detectors.classical` (rules and classical models),
:mod:`detectors.learned` (transformers, embeddings), :mod:`detectors.remote` (services) and
:mod:`detectors.sealed` (vendors' executables). Heavy dependencies are imported inside the
adapter that needs them, never here.
"""

from detectors.base import (
    Conversation,
    Detector,
    DetectorMetadata,
    Message,
    PrefixSession,
    Session,
    TrainableDetector,
    check_score,
    check_trace,
    checkpoints,
)

__all__ = [
    "Conversation",
    "Detector",
    "DetectorMetadata",
    "Message",
    "PrefixSession",
    "Session",
    "TrainableDetector",
    "check_score",
    "check_trace",
    "checkpoints",
]
