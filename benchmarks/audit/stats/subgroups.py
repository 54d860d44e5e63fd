"""Per-subgroup breakdowns: recall, FPR and precision with exact intervals per category.

A corpus split is profiled once (:func:`conversation_profile`): each conversation gets a
category per attribute (source, language, scenario, platform, age band, furthest stage,
length bin) and, per escalation stage, the index of its first message with that stage. Only
the columns needed are read, in Arrow batches; message text is never turned into Python
strings and nothing of it is kept.

:func:`breakdown` then gives, per attribute value, the counts and Clopper–Pearson intervals of
recall (TP / positives), FPR (FP / negatives) and precision (TP / alerted conversations).
The intervals are per subgroup and unadjusted for multiplicity: they describe, they do not
decide (a claim about many subgroups needs Holm or Benjamini–Hochberg; see AUDIT.md).

When is a subgroup too small to say anything? A rate is *informative* when its denominator
reaches a minimum (``min_positives`` for recall, ``min_negatives`` for FPR, default 10 each)
and its exact interval at ``level`` is at most ``max_width`` wide (default 0.3, the width of a
CP interval for 0 events in 10 trials, about [0, 0.31]). A row is flagged ``too_small`` when
neither recall nor FPR is informative; ``reason`` names every rate that is not.

:func:`stage_detected_before` gives, per escalation stage, the share of positives reaching the
stage whose first alert came strictly before the stage's first message (unalerted count as
missed), with an exact interval.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from benchmarks.audit.stats.intervals import Interval, rate_interval
from benchmarks.schema import ESCALATION_STAGES, STAGES

if TYPE_CHECKING:
    from datasets import Dataset

    from benchmarks.metrics.outcomes import Outcomes

#: Message-count bins (inclusive upper edges); longer conversations fall in ">150".
LENGTH_EDGES: tuple[int, ...] = (10, 25, 50, 150)
LENGTH_BINS: tuple[str, ...] = ("0", "1-10", "11-25", "26-50", "51-150", ">150")
#: Age bands of the youngest participant (real age, never a claimed one).
AGE_BANDS: tuple[str, ...] = ("under 13", "13-15", "16-17", "18+", "unknown")
#: Escalation stages in :data:`benchmarks.schema.STAGES` order.
ESCALATION_ORDER: tuple[str, ...] = tuple(s for s in STAGES if s in ESCALATION_STAGES)
#: Attribute values shown in this order; other attributes sort alphabetically.
VALUE_ORDER: dict[str, tuple[str, ...]] = {
    "length": LENGTH_BINS,
    "furthest_stage": ("none", *STAGES),
    "age_band": AGE_BANDS,
}
#: The attributes :func:`conversation_profile` derives, in report order.
ATTRIBUTES: tuple[str, ...] = (
    "source",
    "language",
    "scenario",
    "platform",
    "age_band",
    "furthest_stage",
    "length",
)
MIN_POSITIVES = 10
MIN_NEGATIVES = 10
MAX_WIDTH = 0.3

_COLUMNS = ("source", "language", "scenario", "meta", "messages")
_STAGE_RANK = {stage: rank for rank, stage in enumerate(STAGES)}


@dataclass(frozen=True)
class ConversationProfile:
    """What the breakdowns need of a corpus split, one entry per conversation in order.

    Attributes:
        attributes: attribute name → category per conversation.
        stage_first: escalation stage → 1-based index of the conversation's first message with
            that stage; 0 when the conversation never reaches it (or is unlabelled).
    """

    attributes: dict[str, list[str]]
    stage_first: dict[str, list[int]]

    def __len__(self) -> int:
        return len(next(iter(self.attributes.values()), []))


@dataclass(frozen=True)
class SubgroupRow:
    """Counts and exact intervals of one attribute value (see the module docstring).

    ``recall_informative`` / ``fpr_informative`` say whether that rate passes the minimum
    count and maximum interval width; ``too_small`` is set when neither does.
    """

    attribute: str
    value: str
    n: int
    n_positive: int
    n_negative: int
    tp: int
    fp: int
    recall: Interval
    fpr: Interval
    precision: Interval
    recall_informative: bool
    fpr_informative: bool
    too_small: bool
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (intervals as their own dicts)."""
        return {
            "attribute": self.attribute,
            "value": self.value,
            "n": self.n,
            "n_positive": self.n_positive,
            "n_negative": self.n_negative,
            "tp": self.tp,
            "fp": self.fp,
            "recall": self.recall.to_dict(),
            "fpr": self.fpr.to_dict(),
            "precision": self.precision.to_dict(),
            "recall_informative": self.recall_informative,
            "fpr_informative": self.fpr_informative,
            "too_small": self.too_small,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class StageRow:
    """Share of positives reaching ``stage`` that were alerted before its first message."""

    stage: str
    n_reaching: int
    n_before: int
    share: Interval
    too_small: bool
    reason: str = ""
    definition: str = field(default="", compare=False)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "stage": self.stage,
            "n_reaching": self.n_reaching,
            "n_before": self.n_before,
            "share": self.share.to_dict(),
            "too_small": self.too_small,
            "reason": self.reason,
            "definition": self.definition,
        }


def length_bin(n_messages: int) -> str:
    """Return the length bin of a conversation of ``n_messages`` messages.

    Examples:
        >>> [length_bin(n) for n in (0, 1, 10, 11, 50, 51, 150, 151)]
        ['0', '1-10', '1-10', '11-25', '26-50', '51-150', '51-150', '>150']
    """
    if n_messages <= 0:
        return "0"
    for edge, name in zip(LENGTH_EDGES, LENGTH_BINS[1:], strict=False):
        if n_messages <= edge:
            return name
    return LENGTH_BINS[-1]


def age_band(meta: Mapping[str, Any]) -> str:
    """Return the age band of the conversation's youngest participant, from its meta.

    Read, in order: a non-empty ``age_band`` string (used as is); else the smallest of the
    numbers under ``child_age``, ``age`` and each ``personas[*].age`` (the synthetic corpus
    records every persona's real age there; a groomer's ``claimed_age`` is ignored). "unknown"
    when none is present.

    Examples:
        >>> age_band({"personas": [{"role": "groomer", "age": 40, "claimed_age": 14},
        ...                        {"role": "child", "age": 12}]})
        'under 13'
        >>> age_band({"child_age": 16}), age_band({"age": 30}), age_band({})
        ('16-17', '18+', 'unknown')
    """
    given = meta.get("age_band")
    if isinstance(given, str) and given:
        return given
    ages = [meta.get("child_age"), meta.get("age")]
    personas = meta.get("personas")
    if isinstance(personas, list):
        ages.extend(p.get("age") for p in personas if isinstance(p, Mapping))
    known = [
        float(a)
        for a in ages
        if isinstance(a, int | float) and not isinstance(a, bool) and math.isfinite(a)
    ]
    if not known:
        return "unknown"
    youngest = min(known)
    if youngest < 13:
        return "under 13"
    if youngest < 16:
        return "13-15"
    return "16-17" if youngest < 18 else "18+"


def _meta(raw: str | None) -> dict[str, Any]:
    try:
        parsed = json.loads(raw or "{}")
    except (TypeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _batch_stages(
    messages: Any, n_rows: int
) -> tuple[NDArray[np.int64], dict[str, NDArray[np.int64]]]:
    """Return (furthest stage rank or -1, first index per escalation stage) for one batch."""
    import pyarrow.compute as pc

    furthest = np.full(n_rows, -1, dtype=np.int64)
    first = {stage: np.zeros(n_rows, dtype=np.int64) for stage in ESCALATION_ORDER}
    flat = pc.list_flatten(messages)
    if len(flat) == 0:
        return furthest, first
    # Arrow's own kernels walk the nested lists, so message text is never materialised.
    msg_row = np.asarray(pc.list_parent_indices(messages), dtype=np.int64)
    msg_index = np.asarray(pc.struct_field(flat, "index").fill_null(0), dtype=np.int64)
    stages = pc.struct_field(flat, "stages")
    labels = pc.list_flatten(stages)
    if len(labels) == 0:
        return furthest, first
    label_msg = np.asarray(pc.list_parent_indices(stages), dtype=np.int64)
    names = labels.to_pylist()
    ranks = np.asarray([_STAGE_RANK.get(s, -1) for s in names], dtype=np.int64)
    rows = msg_row[label_msg]
    np.maximum.at(furthest, rows, ranks)
    big = np.iinfo(np.int64).max
    for stage in ESCALATION_ORDER:
        mask = ranks == _STAGE_RANK[stage]
        if mask.any():
            best = np.full(n_rows, big, dtype=np.int64)
            np.minimum.at(best, rows[mask], msg_index[label_msg][mask])
            first[stage] = np.where(best == big, 0, best)
    return furthest, first


def conversation_profile(dataset: Dataset, *, batch_size: int = 1000) -> ConversationProfile:
    """Profile every conversation of ``dataset`` (a split with the schema columns), in order.

    Args:
        dataset: a `datasets.Dataset` holding :data:`benchmarks.schema.FEATURES` columns.
        batch_size: conversations per Arrow batch.

    Returns:
        the per-conversation categories and first escalation-stage indices.
    """
    import pyarrow.compute as pc

    attributes: dict[str, list[str]] = {name: [] for name in ATTRIBUTES}
    stage_first: dict[str, list[int]] = {stage: [] for stage in ESCALATION_ORDER}
    table = dataset.select_columns(list(_COLUMNS)).with_format("arrow")
    for batch in table.iter(batch_size=batch_size):
        messages = batch.column("messages").combine_chunks()
        lengths = np.asarray(pc.list_value_length(messages).fill_null(0), dtype=np.int64)
        furthest, first = _batch_stages(messages, batch.num_rows)
        for name, empty in (("source", "unknown"), ("language", "unknown"), ("scenario", "none")):
            attributes[name] += [v or empty for v in batch.column(name).to_pylist()]
        metas = [_meta(v) for v in batch.column("meta").to_pylist()]
        attributes["platform"] += [
            p if isinstance(p := m.get("platform"), str) and p else "unknown" for m in metas
        ]
        attributes["age_band"] += [age_band(m) for m in metas]
        attributes["furthest_stage"] += [STAGES[r] if r >= 0 else "none" for r in furthest]
        attributes["length"] += [length_bin(int(n)) for n in lengths]
        for stage in ESCALATION_ORDER:
            stage_first[stage] += first[stage].tolist()
    return ConversationProfile(attributes=attributes, stage_first=stage_first)


def subgroup_attributes(dataset: Dataset) -> dict[str, list[str]]:
    """Return attribute name → category per conversation of ``dataset`` (in order).

    Attributes: ``source``, ``language``, ``scenario`` ("none" when empty), ``platform`` and
    ``age_band`` from the meta JSON ("unknown" when absent; see :func:`age_band`),
    ``furthest_stage`` (the latest stage in STAGES order among the conversation's message
    labels; "none") and ``length`` (:func:`length_bin` of the message count).
    """
    return conversation_profile(dataset).attributes


def stage_first_indices(dataset: Dataset) -> dict[str, list[int]]:
    """Return escalation stage → first 1-based message index per conversation (0 = never)."""
    return conversation_profile(dataset).stage_first


def _width(interval: Interval) -> float:
    if interval.low is None or interval.high is None:
        return math.inf
    return interval.high - interval.low


def _assess(
    name: str, interval: Interval, n: int, minimum: int, max_width: float, unit: str
) -> tuple[bool, str]:
    """Return (informative, why not) for one rate."""
    if n < minimum:
        return False, f"{name}: {n} {unit} < {minimum}"
    if _width(interval) > max_width:
        return False, f"{name}: interval width {_width(interval):.2f} > {max_width:g}"
    return True, ""


def _ordered(attribute: str, values: Sequence[str]) -> list[str]:
    order = VALUE_ORDER.get(attribute, ())
    seen = sorted(set(values))
    known = [v for v in order if v in seen]
    return known + [v for v in seen if v not in order]


def breakdown(
    outcomes: Outcomes,
    attributes: Mapping[str, Sequence[str]],
    *,
    level: float = 0.95,
    min_positives: int = MIN_POSITIVES,
    min_negatives: int = MIN_NEGATIVES,
    max_width: float = MAX_WIDTH,
) -> list[SubgroupRow]:
    """Return one row per attribute value with counts and exact (CP) intervals.

    Attributes with a single value are skipped: there is nothing to compare.

    Args:
        outcomes: the run's per-conversation outcomes.
        attributes: attribute → category per conversation, aligned with ``outcomes`` (same
            conversations, same order), e.g. from :func:`subgroup_attributes`.
        level: confidence level of every interval.
        min_positives: fewest positives for recall to be informative.
        min_negatives: fewest negatives for FPR to be informative.
        max_width: widest exact interval still called informative.

    Raises:
        ValueError: when an attribute's length differs from the number of outcomes.

    Examples:
        >>> from benchmarks.metrics.outcomes import Outcomes
        >>> o = Outcomes.from_columns(labels=[1, 1, 0, 0], alerts=[2, 0, 1, 0],
        ...                           max_scores=[.9, .1, .8, .1], n_messages=[3, 3, 3, 3])
        >>> rows = breakdown(o, {"source": ["a", "a", "b", "b"], "language": ["en"] * 4})
        >>> [(r.value, r.n_positive, r.tp, r.fp, r.too_small) for r in rows]
        [('a', 2, 1, 0, True), ('b', 0, 0, 1, True)]
    """
    n = len(outcomes)
    labels = np.asarray(outcomes.labels)
    alerted = np.asarray(outcomes.alerts) > 0
    rows: list[SubgroupRow] = []
    for attribute, values in attributes.items():
        if len(values) != n:
            raise ValueError(
                f"attribute {attribute!r} has {len(values)} values but there are {n} outcomes; "
                "they must describe the same conversations in the same order"
            )
        column = np.asarray(values, dtype=object)
        distinct = _ordered(attribute, list(values))
        if len(distinct) < 2:
            continue
        for value in distinct:
            member = column == value
            pos = member & (labels == 1)
            neg = member & (labels == 0)
            n_pos, n_neg = int(pos.sum()), int(neg.sum())
            tp, fp = int((pos & alerted).sum()), int((neg & alerted).sum())
            recall = rate_interval(tp, n_pos, level=level)
            fpr = rate_interval(fp, n_neg, level=level)
            precision = rate_interval(tp, tp + fp, level=level)
            rec_ok, rec_why = _assess(
                "recall", recall, n_pos, min_positives, max_width, "positives"
            )
            fpr_ok, fpr_why = _assess("FPR", fpr, n_neg, min_negatives, max_width, "negatives")
            rows.append(
                SubgroupRow(
                    attribute=attribute,
                    value=value,
                    n=int(member.sum()),
                    n_positive=n_pos,
                    n_negative=n_neg,
                    tp=tp,
                    fp=fp,
                    recall=recall,
                    fpr=fpr,
                    precision=precision,
                    recall_informative=rec_ok,
                    fpr_informative=fpr_ok,
                    too_small=not (rec_ok or fpr_ok),
                    reason="; ".join(w for w in (rec_why, fpr_why) if w),
                )
            )
    return rows


STAGE_DEFINITION = (
    "Among positives whose messages reach the stage, the share whose first alert came strictly "
    "before the stage's first message (unalerted positives count as missed)."
)


def stage_detected_before(
    outcomes: Outcomes,
    stage_first: Mapping[str, Sequence[int]],
    *,
    level: float = 0.95,
    min_positives: int = MIN_POSITIVES,
    max_width: float = MAX_WIDTH,
) -> list[StageRow]:
    """Return, per escalation stage, the share of positives alerted before reaching it.

    Args:
        outcomes: the run's per-conversation outcomes.
        stage_first: stage → first 1-based index of that stage per conversation (0 = never),
            aligned with ``outcomes``, e.g. from :func:`stage_first_indices`.
        level: confidence level of the exact intervals.
        min_positives: fewest positives reaching a stage for its share to be informative.
        max_width: widest exact interval still called informative.

    Raises:
        ValueError: when a stage's length differs from the number of outcomes.

    Examples:
        >>> from benchmarks.metrics.outcomes import Outcomes
        >>> o = Outcomes.from_columns(labels=[1, 1, 1, 0], alerts=[2, 5, 0, 1],
        ...                           max_scores=[.9, .9, .1, .9], n_messages=[6, 6, 6, 6])
        >>> rows = stage_detected_before(o, {"approach": [4, 4, 3, 2]})
        >>> [(r.stage, r.n_reaching, r.n_before) for r in rows]
        [('approach', 3, 1)]
    """
    n = len(outcomes)
    labels = np.asarray(outcomes.labels)
    alerts = np.asarray(outcomes.alerts)
    ordered = [s for s in ESCALATION_ORDER if s in stage_first]
    ordered += [s for s in stage_first if s not in ordered]
    rows: list[StageRow] = []
    for stage in ordered:
        first = np.asarray(stage_first[stage], dtype=np.int64)
        if len(first) != n:
            raise ValueError(
                f"stage {stage!r} has {len(first)} indices but there are {n} outcomes; they "
                "must describe the same conversations in the same order"
            )
        reaching = (labels == 1) & (first > 0)
        before = reaching & (alerts > 0) & (alerts < first)
        k, m = int(before.sum()), int(reaching.sum())
        share = rate_interval(k, m, level=level)
        ok, why = _assess(stage, share, m, min_positives, max_width, "positives reach it")
        rows.append(
            StageRow(
                stage=stage,
                n_reaching=m,
                n_before=k,
                share=share,
                too_small=not ok,
                reason=why,
                definition=STAGE_DEFINITION,
            )
        )
    return rows
