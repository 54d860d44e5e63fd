"""The report card as CSV rows shaped like the EU DSA template's automated-means section.

Commission Implementing Regulation (EU) 2024/2835 lays down the templates for transparency
reports under the Digital Services Act (Regulation (EU) 2022/2065). Its Annex I quantitative
template has a section 1.6, "Article 15(1)(b)(c)(e) and Article 42(2)(c). Use of automated
means for content moderation and indicators of accuracy"; DSA Article 15(1)(e) asks for a
qualitative description of the automated means, a specification of their precise purposes,
"indicators of the accuracy and the possible rate of error" and the safeguards applied.

What this module could confirm, and what is its own mapping:

- Confirmed from the regulation's table of contents (public copies of 2024/2835): the section
  number and title above. Confirmed from DSA Article 15(1)(e) text: the four elements
  (description, purposes, accuracy and possible rate of error, safeguards).
- Confirmed only second-hand, from independent public code that reads or writes the
  Commission's machine-readable template files (not from the official file itself): the CSV
  header ``Applicability, Service, Reporting period, Section, Indicator, Scope, Value,
  Contextual Information``; the section name "Use of automated means for content moderation";
  the indicator names "Accuracy of the automated means - Accuracy / - Precision / - Recall",
  "Number of measures solely taken by automated means", "Number of measures not taken by
  automated means", "Number of notices solely processed by automated means", "Number of
  notices not processed by automated means"; the scope values "Total number", "Own-initiative",
  "NAM Total"; the applicability "All"; rates written as 0-1 decimals.
- groombench's mapping (not in the template): the rows whose ``Mapping`` column says
  "groombench extension" (FPR, FNR, specificity, error rate, PPV and false flags per million
  at declared prevalences, TPR at fixed FPR, test data, threshold, human review), and the
  extra columns after the template's eight (``Unit``, ``Interval low``, ``Interval high``,
  ``Interval level``, ``Interval method``, ``n``, ``Mapping``). ``Scope`` is "Total number"
  meaning the whole test set, ``Service`` is the detector, ``Reporting period`` is the day of
  the run: an offline benchmark has no service, traffic or period, and every row's
  ``Contextual Information`` says so.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from typing import Any

from benchmarks.audit.card.model import ReportCard
from benchmarks.audit.stats.intervals import rate_interval

SECTION = "Use of automated means for content moderation"
TEMPLATE_COLUMNS: tuple[str, ...] = (
    "Applicability",
    "Service",
    "Reporting period",
    "Section",
    "Indicator",
    "Scope",
    "Value",
    "Contextual Information",
)
EXTENSION_COLUMNS: tuple[str, ...] = (
    "Unit",
    "Interval low",
    "Interval high",
    "Interval level",
    "Interval method",
    "n",
    "Mapping",
)
COLUMNS = TEMPLATE_COLUMNS + EXTENSION_COLUMNS
ACCURACY = "Accuracy of the automated means - Accuracy"
PRECISION = "Accuracy of the automated means - Precision"
RECALL = "Accuracy of the automated means - Recall"
_TEMPLATE = "template indicator"
_EXTENSION = "groombench extension"
_PROPORTION = "proportion (0-1)"
# A spreadsheet runs a cell starting with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _decimal(value: Any) -> str:
    """Write a number as a plain decimal (no exponent); None is empty, other values as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        return json.dumps(value, sort_keys=True, default=str)
    if isinstance(value, int):
        return str(value)
    text = f"{float(value):.8f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _safe(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def _count(card: ReportCard, name: str) -> int | None:
    """Return a confusion count from the metrics (estimate) or the data's counts."""
    metric = card.metrics.get(name)
    value = metric.get("estimate") if isinstance(metric, Mapping) else metric
    if value is None:
        counts = card.data.get("counts")
        value = counts.get(name) if isinstance(counts, Mapping) else None
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return int(value)
    return None


def _confusion(card: ReportCard) -> tuple[int, int, int, int] | None:
    counts = [_count(card, name) for name in ("tp", "fp", "fn", "tn")]
    if any(c is None for c in counts):
        return None
    tp, fp, fn, tn = (int(c or 0) for c in counts)
    return tp, fp, fn, tn


def _interval_of(card: ReportCard, name: str) -> dict[str, Any]:
    metric = card.metrics.get(name)
    return dict(metric) if isinstance(metric, Mapping) else {}


def _complement(interval: Mapping[str, Any]) -> dict[str, Any]:
    """Return the interval of 1 − p from that of p (bounds swap)."""

    def flip(x: Any) -> Any:
        return None if x is None else 1.0 - float(x)

    out = dict(interval)
    out.update(
        estimate=flip(interval.get("estimate")),
        low=flip(interval.get("high")),
        high=flip(interval.get("low")),
    )
    return out


def _test_data(card: ReportCard) -> str:
    data = card.data
    what = " ".join(
        str(data[k]) for k in ("name", "version") if data.get(k) not in (None, "")
    ).strip()
    split = f", split {data['split']}" if data.get("split") else ""
    return f"Offline benchmark on {what or 'an unnamed corpus'}{split}, not live traffic"


class _Rows:
    """Accumulates CSV rows that share the card's service, period and test-data context."""

    def __init__(self, card: ReportCard) -> None:
        detector = card.detector
        self.service = " ".join(
            str(detector[k]) for k in ("name", "version") if detector.get(k) not in (None, "")
        )
        self.period = f"{card.created_at[:10]}/{card.created_at[:10]}"
        self.context = _test_data(card)
        self.rows: list[dict[str, str]] = []

    def add(
        self,
        indicator: str,
        value: Any,
        note: str,
        *,
        interval: Mapping[str, Any] | None = None,
        unit: str = "",
        mapping: str = _EXTENSION,
        applicability: str = "groombench extension",
        scope: str = "Total number",
    ) -> None:
        interval = interval or {}
        undefined = value is None and unit == _PROPORTION
        context = f"{self.context}. {'undefined: ' if undefined else ''}{note}".strip()
        if interval.get("note"):
            context += f" {interval['note']}"
        level = interval.get("level")
        self.rows.append(
            {
                "Applicability": applicability,
                "Service": _safe(self.service),
                "Reporting period": self.period,
                "Section": SECTION,
                "Indicator": indicator,
                "Scope": _safe(scope),
                "Value": _safe(value) if isinstance(value, str) else _decimal(value),
                "Contextual Information": _safe(context),
                "Unit": unit,
                "Interval low": _decimal(interval.get("low")),
                "Interval high": _decimal(interval.get("high")),
                "Interval level": _decimal(level),
                "Interval method": str(interval.get("method") or ""),
                "n": _decimal(interval.get("n")),
                "Mapping": mapping,
            }
        )


def _rate(rows: _Rows, indicator: str, interval: Mapping[str, Any], note: str, **kw: Any) -> None:
    rows.add(indicator, interval.get("estimate"), note, interval=interval, unit=_PROPORTION, **kw)


def _accuracy_rows(rows: _Rows, card: ReportCard) -> None:
    confusion = _confusion(card)
    accuracy = _interval_of(card, "accuracy")
    error: dict[str, Any] = {}
    if not accuracy and confusion:
        tp, fp, fn, tn = confusion
        level = _interval_of(card, "recall").get("level") or 0.95
        accuracy = rate_interval(tp + tn, tp + fp + fn + tn, level=level).to_dict()
        error = rate_interval(fp + fn, tp + fp + fn + tn, level=level).to_dict()
    official = {"mapping": _TEMPLATE, "applicability": "All"}
    unit = "conversation; an alert at any message counts as flagging it"
    _rate(rows, ACCURACY, accuracy, f"(TP + TN) / all conversations ({unit}).", **official)
    _rate(
        rows, PRECISION, _interval_of(card, "precision"), "TP / alerted conversations.", **official
    )
    _rate(rows, RECALL, _interval_of(card, "recall"), "TP / grooming conversations.", **official)
    fpr = _interval_of(card, "fpr")
    _rate(rows, "Possible rate of error - False positive rate", fpr, "FP / benign conversations.")
    recall = _interval_of(card, "recall")
    _rate(
        rows,
        "Possible rate of error - False negative rate",
        _complement(recall) if recall else {},
        "FN / grooming conversations = 1 - recall.",
    )
    _rate(
        rows,
        "Possible rate of error - Error rate",
        error or _interval_of(card, "error_rate"),
        "(FP + FN) / all conversations.",
    )
    _rate(
        rows,
        "Indicator of accuracy - Specificity",
        _complement(fpr) if fpr else {},
        "TN / benign conversations = 1 - FPR.",
    )


def _projection_rows(rows: _Rows, card: ReportCard) -> None:
    for point in card.operating_points:
        target = _decimal(point.get("target_fpr"))
        interval = {
            "estimate": point.get("tpr"),
            "low": point.get("tpr_low"),
            "high": point.get("tpr_high"),
        }
        note = f"threshold {_decimal(point.get('threshold'))} set on separate negatives."
        _rate(rows, f"Indicator of accuracy - TPR at FPR {target}", interval, note)
    for point in card.prevalence:
        prevalence = point.get("prevalence")
        label = _decimal(prevalence) if isinstance(prevalence, int | float) else str(prevalence)
        ppv = {
            "estimate": point.get("ppv"),
            "low": point.get("ppv_low"),
            "high": point.get("ppv_high"),
        }
        note = "projected PPV = TPR·π / (TPR·π + FPR·(1−π)) at the declared prevalence π."
        _rate(rows, f"Indicator of accuracy - PPV at prevalence {label}", ppv, note)
        flags = {
            "estimate": point.get("false_flags_per_million"),
            "low": point.get("ff_low"),
            "high": point.get("ff_high"),
        }
        rows.add(
            f"Possible rate of error - False flags per million at prevalence {label}",
            flags["estimate"],
            "projected FPR·(1−π)·10⁶ benign conversations flagged per million.",
            interval=flags,
            unit="conversations per million",
        )


def _qualitative_rows(rows: _Rows, card: ReportCard) -> None:
    detector = card.detector
    description = detector.get("description") or "automated risk scoring of conversations"
    rows.add(
        "Qualitative description of the automated means",
        str(description),
        f"detector {rows.service}; trained on {detector.get('trained_on') or 'not stated'}; "
        f"leakage flag {bool(detector.get('leakage'))}.",
    )
    rows.add(
        "Specification of the precise purposes",
        "Detecting online grooming in conversations, as early as possible",
        "Purpose as benchmarked; a deployment's own purposes must be stated by its provider.",
    )
    threshold = detector.get("threshold", detector.get("policy"))
    rows.add(
        "Decision threshold or alert policy",
        _decimal(threshold),
        "The operating point fixed before the test.",
    )
    counts = card.data.get("counts")
    counts_text = (
        ", ".join(f"{k} {v}" for k, v in counts.items()) if isinstance(counts, Mapping) else ""
    )
    rows.add(
        "Test data",
        str(card.data.get("fingerprint") or ""),
        f"corpus fingerprint; counts: {counts_text or 'not stated'}; limitations: "
        f"{'; '.join(str(x) for x in card.data.get('limitations') or ()) or 'none stated'}.",
    )
    rows.add(
        "Safeguards applied - Human review",
        "not assessed",
        "This evaluation measures the automated means alone; no human review was in the loop.",
    )
    na = (
        "Not applicable: an offline benchmark takes no moderation measures and receives no notices."
    )
    for indicator in (
        "Number of measures solely taken by automated means",
        "Number of measures not taken by automated means",
    ):
        rows.add(indicator, "", na, mapping=_TEMPLATE, applicability="All")
    hosting = "Only for providers of hosting services, including online platforms"
    for indicator in (
        "Number of notices solely processed by automated means",
        "Number of notices not processed by automated means",
    ):
        rows.add(indicator, "", na, mapping=_TEMPLATE, applicability=hosting, scope="NAM Total")


def transparency_rows(card: ReportCard) -> list[dict[str, str]]:
    """Return the CSV rows (column name → text), accuracy indicators first."""
    rows = _Rows(card)
    _accuracy_rows(rows, card)
    _projection_rows(rows, card)
    _qualitative_rows(rows, card)
    return rows.rows


def to_csv(card: ReportCard) -> str:
    """Return the card's transparency CSV (header :data:`COLUMNS`, ``\\n`` line ends)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(transparency_rows(card))
    return buffer.getvalue()
