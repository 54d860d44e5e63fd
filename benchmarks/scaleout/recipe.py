"""What a shard worker needs to build the detector itself: its target, arguments and model.

A worker on another process or node cannot be handed the driver's detector (a sealed program's
sandbox, a loaded model, an HTTP session do not travel), so it gets a recipe: the component's
target and plain arguments (secrets are never among them: detectors read their keys from the
environment variables their config names, in the worker's own environment) and the folder of
the model the driver trained or resolved. The recipe never trains: a worker scores only the
model the driver chose.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from detectors import Detector, TrainableDetector


@dataclass(frozen=True)
class DetectorRecipe:
    """Builds the run's detector in another process.

    Attributes:
        target: the detector's ``_target_``.
        arguments: its constructor arguments, as plain data.
        model_folder: the trained model to load (trainable detectors), or None.
    """

    target: str
    arguments: Mapping[str, Any] = field(default_factory=dict)
    model_folder: str | None = None

    def __call__(self) -> Detector:
        """Build the detector (and load its model)."""
        from benchmarks.components import build
        from benchmarks.jobplan import Component

        component = Component.of({"_target_": self.target, **dict(self.arguments)})
        built: Any = build(component)
        if not isinstance(built, Detector):
            raise TypeError(f"detector config {self.target} did not return a Detector")
        if isinstance(built, TrainableDetector) and not built.is_fitted:
            if self.model_folder is None:
                raise RuntimeError(
                    f"{self.target} has no trained model to load in a shard worker; the driver "
                    "names the folder it trained or resolved"
                )
            built.load(self.model_folder)
        detector: Detector = built
        return detector
