"""Detected-before-escalation as an `evaluate` metric (delegates to `benchmarks.metrics.early`)."""

from __future__ import annotations

import datasets
import evaluate

from benchmarks.metrics.early import detected_before_escalation
from benchmarks.metrics.hf._columns import ints

_DESCRIPTION = """\
Share of grooming conversations with a known escalation (the first message labelled
platform_move, approach, image_request or sexual) whose first alert came strictly before that
message. Conversations without an alert count as missed; positives without a known escalation
and negatives are ignored. None when no positive has an escalation. Defined by groombench.
"""

_CITATION = """\
@misc{groombench,
  title = {groombench: an open benchmark harness for online-grooming detectors},
  note = {Metric defined in docs/metrics.md}
}
"""

_KWARGS_DESCRIPTION = """\
Args:
    predictions (list of int): 1-based index of the message at which the first alert fired;
        0 (or None) when no alert fired.
    references (list of int): 1 when the conversation contains grooming, else 0.
    escalations (list of int): 1-based index of the first escalation message; 0 (or None)
        when there is none or it is unknown.
Returns:
    detected_before_escalation (float or None): the share described above.
"""


class DetectedBeforeEscalation(evaluate.Metric):  # type: ignore[misc]  # no type hints
    """Share of escalating positives alerted strictly before the escalation message.

    Examples:
        >>> metric = DetectedBeforeEscalation(keep_in_memory=True)
        >>> metric.compute(
        ...     predictions=[3, 5, 0, 2], references=[1, 1, 1, 1], escalations=[4, 5, 6, 0]
        ... )
        {'detected_before_escalation': 0.3333333333333333}
    """

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": datasets.Value("int32"),
                    "references": datasets.Value("int32"),
                    "escalations": datasets.Value("int32"),
                }
            ),
        )

    def _compute(
        self,
        predictions: list[int | None],
        references: list[int],
        escalations: list[int | None],
    ) -> dict[str, float | None]:
        alerts, labels = ints(predictions), ints(references)
        value = detected_before_escalation(labels, alerts, ints(escalations))
        return {"detected_before_escalation": value}
