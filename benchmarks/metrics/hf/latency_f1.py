"""Latency-weighted F1 as an `evaluate` metric (delegates to :mod:`benchmarks.metrics.early`)."""

from __future__ import annotations

import datasets
import evaluate

from benchmarks.metrics.early import (
    latency_f1,
    latency_speed,
    median_positive_length,
    median_rule_p,
)
from benchmarks.metrics.hf._columns import ints

_DESCRIPTION = """\
Latency-weighted F1 (Sadeque et al. 2018) of an early-warning detector over conversations.
A conversation is predicted positive iff an alert fired; for a true positive alerted at message
k, penalty(k) = -1 + 2 / (1 + exp(-p (k - 1))); speed = 1 - median over true positives of
penalty(k); latency_f1 = F1 * speed (0 when F1 is 0). By default p follows the median rule of
Vogt et al. (2021), p = ln 3 / (m - 1) with m the median length in messages of the positive
conversations, so that the penalty is 0.5 at m. Undefined values are None.
"""

_CITATION = """\
@inproceedings{sadeque2018latency,
  title = {Measuring the Latency of Depression Detection in Social Media},
  author = {Sadeque, Farig and Xu, Dongfang and Bethard, Steven},
  booktitle = {Proceedings of the Eleventh ACM International Conference on Web Search and
               Data Mining (WSDM)},
  year = {2018}
}
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
    n_messages (list of int): number of messages in each conversation.
    latency_p (float, optional): penalty slope p; default the median rule.
Returns:
    latency_f1 (float or None): F1 * speed.
    latency_speed (float or None): 1 - median penalty over true positives.
    latency_p (float or None): the slope used.
    latency_median_length (float or None): m, the median length of positive conversations.
"""


class LatencyF1(evaluate.Metric):  # type: ignore[misc]  # evaluate ships no type hints
    """Latency-weighted F1 of first-alert indices; keys as in ``compute_metrics``.

    Examples:
        >>> metric = LatencyF1(keep_in_memory=True)
        >>> result = metric.compute(
        ...     predictions=[1, 11, 0, 0], references=[1, 1, 1, 0], n_messages=[11, 11, 11, 5]
        ... )
        >>> round(result["latency_f1"], 12), round(result["latency_speed"], 12)
        (0.6, 0.75)
        >>> result["latency_median_length"]
        11.0
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
                    "n_messages": datasets.Value("int32"),
                }
            ),
            reference_urls=["https://aclanthology.org/2021.acl-long.386/"],
        )

    def _compute(
        self,
        predictions: list[int | None],
        references: list[int],
        n_messages: list[int],
        latency_p: float | None = None,
    ) -> dict[str, float | None]:
        alerts, labels, lengths = ints(predictions), ints(references), ints(n_messages)
        median_length = median_positive_length(labels, lengths)
        p = median_rule_p(median_length) if latency_p is None else latency_p
        return {
            "latency_f1": latency_f1(labels, alerts, lengths, p=latency_p),
            "latency_speed": None if p is None else latency_speed(labels, alerts, p=p),
            "latency_p": p,
            "latency_median_length": median_length,
        }
