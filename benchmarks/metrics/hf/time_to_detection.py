"""Time to detection as an `evaluate` metric (delegates to :mod:`benchmarks.metrics.early`)."""

from __future__ import annotations

import datasets
import evaluate

from benchmarks.metrics.early import (
    ttd_after_onset_median,
    ttd_median,
    ttd_median_minutes,
    ttd_percentile,
)
from benchmarks.metrics.hf._columns import floats, ints

_DESCRIPTION = """\
Time to detection of an early-warning detector, over true positives (grooming conversations
with an alert): the median and 90th percentile of the 1-based index k of the first-alert
message; the median chat time in minutes from the first message to the alert (over true
positives with a clock); the median of k - onset, signed, over true positives whose onset (first
grooming-stage message) is known. Percentiles use numpy's default linear interpolation.
A statistic over no conversation is None.
"""

_CITATION = """\
@inproceedings{vogt2021early,
  title = {Early Detection of Sexual Predators in Chats},
  author = {Vogt, Matthias and Leser, Ulf and Akbik, Alan},
  booktitle = {Proceedings of the 59th Annual Meeting of the Association for Computational
               Linguistics and the 11th International Joint Conference on Natural Language
               Processing (Volume 1: Long Papers)},
  year = {2021}
}
"""

_KWARGS_DESCRIPTION = """\
Args:
    predictions (list of int): 1-based index of the message at which the first alert fired;
        0 (or None) when no alert fired.
    references (list of int): 1 when the conversation contains grooming, else 0.
    onsets (list of int): 1-based index of the first grooming-stage message; 0 (or None)
        when unknown.
    alert_minutes (list of float): chat minutes from the first message to the alert message;
        NaN (or None) when there is no alert or no clock.
Returns:
    ttd_median, ttd_p90 (float or None): in messages.
    ttd_median_minutes (float or None): in chat minutes.
    ttd_after_onset_median (float or None): in messages after the onset, signed.
"""


class TimeToDetection(evaluate.Metric):  # type: ignore[misc]  # evaluate ships no type hints
    """Median and p90 messages, median minutes and median messages after onset, over TPs.

    Examples:
        >>> metric = TimeToDetection(keep_in_memory=True)
        >>> metric.compute(
        ...     predictions=[6, 2, 9, 0, 1],
        ...     references=[1, 1, 1, 1, 0],
        ...     onsets=[4, 3, 0, 2, 0],
        ...     alert_minutes=[12.0, None, 30.0, None, 0.5],
        ... )  # doctest: +NORMALIZE_WHITESPACE
        {'ttd_median': 6.0, 'ttd_p90': 8.4, 'ttd_median_minutes': 21.0,
         'ttd_after_onset_median': 0.5}
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
                    "onsets": datasets.Value("int32"),
                    "alert_minutes": datasets.Value("float64"),
                }
            ),
        )

    def _compute(
        self,
        predictions: list[int | None],
        references: list[int],
        onsets: list[int | None],
        alert_minutes: list[float | None],
    ) -> dict[str, float | None]:
        alerts, labels = ints(predictions), ints(references)
        return {
            "ttd_median": ttd_median(labels, alerts),
            "ttd_p90": ttd_percentile(labels, alerts, q=90),
            "ttd_median_minutes": ttd_median_minutes(labels, alerts, floats(alert_minutes)),
            "ttd_after_onset_median": ttd_after_onset_median(labels, alerts, ints(onsets)),
        }
