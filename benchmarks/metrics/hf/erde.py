"""ERDE_o as an `evaluate` metric (delegates to :mod:`benchmarks.metrics.early`)."""

from __future__ import annotations

from collections.abc import Sequence

import datasets
import evaluate

from benchmarks.metrics.early import erde
from benchmarks.metrics.hf._columns import ints

_DESCRIPTION = """\
Early risk detection error ERDE_o (Losada & Crestani 2016) of an early-warning detector over
conversations. Per conversation the cost is c_fp for a false positive (default: the share of
positives in the collection), 1 for a false negative, 1 - 1 / (1 + exp(k - o)) for a true
positive alerted at message k, and 0 for a true negative; ERDE_o is the mean cost. Lower is
better. One result key erde_<o> per deadline o (default o = 5 and o = 50).
"""

_CITATION = """\
@inproceedings{losada2016test,
  title = {A Test Collection for Research on Depression and Language Use},
  author = {Losada, David E. and Crestani, Fabio},
  booktitle = {Experimental IR Meets Multilinguality, Multimodality, and Interaction:
               7th International Conference of the CLEF Association (CLEF 2016)},
  year = {2016}
}
"""

_KWARGS_DESCRIPTION = """\
Args:
    predictions (list of int): 1-based index of the message at which the first alert fired;
        0 (or None) when no alert fired.
    references (list of int): 1 when the conversation contains grooming, else 0.
    o (int or list of int, optional): deadline(s) in messages; default (5, 50).
    c_fp (float, optional): false-positive cost; default the share of positives.
Returns:
    erde_<o> (float or None): the mean cost for each o (None for no conversation).
"""


class Erde(evaluate.Metric):  # type: ignore[misc]  # evaluate ships no type hints
    """ERDE_o of first-alert indices for one or more deadlines o; keys ``erde_<o>``.

    Examples:
        >>> metric = Erde(keep_in_memory=True)
        >>> metric.compute(predictions=[5, 0, 3, 0], references=[1, 1, 0, 0], o=5)
        {'erde_5': 0.5}
        >>> metric.compute(predictions=[5, 2], references=[1, 0], o=[5], c_fp=0.1)
        {'erde_5': 0.3}
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
                }
            ),
        )

    def _compute(
        self,
        predictions: list[int | None],
        references: list[int],
        o: int | Sequence[int] = (5, 50),
        c_fp: float | None = None,
    ) -> dict[str, float | None]:
        alerts, labels = ints(predictions), ints(references)
        deadlines = [o] if isinstance(o, int | float) else list(o)
        return {f"erde_{d:g}": erde(labels, alerts, o=d, c_fp=c_fp) for d in deadlines}
