"""groombench's detector SDK: implement a detector against this package alone.

Adapters live one family per module (``detectors.lexicon``, ``detectors.tfidf_lr``,
``detectors.controls``); heavy dependencies are imported inside the adapter that needs them.
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
