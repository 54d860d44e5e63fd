"""The report card: self-contained HTML, JSON round trip, Markdown tables, transparency CSV."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from pathlib import Path

import pytest

from benchmarks.audit.card import plots
from benchmarks.audit.card.report import (
    REPORT_FILES,
    SECTION_TITLES,
    ReportCard,
    from_json,
    section_titles,
    to_html,
    to_json,
    to_markdown,
    write_report,
)
from benchmarks.audit.card.transparency import ACCURACY, COLUMNS, PRECISION, RECALL, to_csv
from benchmarks.audit.stats.intervals import rate_interval

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FORBIDDEN = ('src="http', "src='http", "href=", "<script", "<link", "url(", "@import")


def _subgroup(attribute: str, value: str, tp: int, n_pos: int, fp: int, n_neg: int) -> dict:
    return {
        "attribute": attribute,
        "value": value,
        "n": n_pos + n_neg,
        "n_positive": n_pos,
        "n_negative": n_neg,
        "tp": tp,
        "fp": fp,
        "recall": rate_interval(tp, n_pos).to_dict(),
        "fpr": rate_interval(fp, n_neg).to_dict(),
        "precision": rate_interval(tp, tp + fp).to_dict(),
        "recall_informative": n_pos >= 10,
        "fpr_informative": n_neg >= 10,
        "too_small": n_pos < 10 and n_neg < 10,
        "reason": "recall: 4 positives < 10" if n_pos < 10 else "",
    }


def _card() -> ReportCard:
    return ReportCard(
        title="Audit of the keyword detector",
        created_at="2026-01-02T03:04:05+00:00",
        claim={"metric": "recall", "claimed": 0.9, "margin": 0.05, "alpha": 0.05},
        verdicts=[
            {
                "metric": "recall",
                "claimed": 0.9,
                "margin": 0.05,
                "alpha": 0.05,
                "estimate": 0.75,
                "low": 0.65,
                "high": 0.83,
                "bound": 0.67,
                "outcome": "refuted",
                "reason": "the interval lies below the claim",
                "needed_n": None,
                "method": "clopper-pearson",
            }
        ],
        overall_verdict="refuted",
        plan="To show recall > 0.85 when the truth is 0.9 needs about 300 positives.",
        data={
            "name": "<b>neutral</b> corpus",
            "version": "1",
            "fingerprint": "f" * 64,
            "split": "test",
            "counts": {"positive": 100, "negative": 300, "clusters": 80},
            "limitations": ["decoys are adults", "negatives are off-domain"],
        },
        detector={"name": "keywords", "version": "0.1", "threshold": 0.5, "leakage": False},
        metrics={
            "recall": rate_interval(75, 100).to_dict(),
            "precision": rate_interval(75, 80).to_dict(),
            "fpr": rate_interval(5, 300).to_dict(),
            "tp": {"estimate": 75},
            "fp": {"estimate": 5},
            "fn": {"estimate": 25},
            "tn": {"estimate": 295},
        },
        definitions={"recall": "TP / (TP + FN) over conversations."},
        bootstrap={"seed": 0, "n_resamples": 999, "level": 0.95, "method": "bca"},
        operating_points=[
            {
                "target_fpr": 0.01,
                "threshold": 0.8,
                "tpr": 0.6,
                "tpr_low": 0.5,
                "tpr_high": 0.7,
                "fpr": 0.009,
                "n_negatives_above": 3,
            }
        ],
        prevalence=[
            {
                "prevalence": p,
                "ppv": 0.004,
                "ppv_low": 0.002,
                "ppv_high": 0.01,
                "false_flags_per_million": 16000.0,
                "ff_low": 5000.0,
                "ff_high": 38000.0,
            }
            for p in (1e-4, 1e-3)
        ],
        detection_cost={"c_miss": 10, "c_fa": 1, "cost": 0.02},
        subgroups=[
            _subgroup("source", "a", 60, 80, 3, 200),
            _subgroup("source", "b", 15, 20, 2, 100),
            _subgroup("length", "1-10", 3, 4, 1, 5),
        ],
        stage_detection=[
            {
                "stage": "approach",
                "n_reaching": 40,
                "n_before": 30,
                "share": rate_interval(30, 40).to_dict(),
                "too_small": False,
                "reason": "",
            }
        ],
        latency={"messages": [1, 3, 3, 5, 8, 13], "minutes": [0.5, 2.0, 30.0]},
        detection_curve=[[k, min(1.0, k / 20)] for k in range(1, 25)],
        calibration=[
            {"mean_score": 0.1, "observed_rate": 0.05, "count": 200},
            {"mean_score": 0.9, "observed_rate": 0.8, "count": 90},
        ],
        curves={
            "det": {"fpr": [0.001, 0.01, 0.1], "fnr": [0.6, 0.3, 0.1]},
            "pr": {"precision": [1.0, 0.9, 0.5], "recall": [0.1, 0.6, 1.0]},
        },
        reproduction={
            "command": "groombench audit detector=keywords",
            "config": "detector: keywords\n",
            "seeds": {"bootstrap": 0},
            "git_sha": "0" * 40,
        },
        notes=["neutral fixture"],
    )


def _empty_card() -> ReportCard:
    """No positive at all: recall, precision and every latency number are undefined."""
    return ReportCard(
        title="No positives",
        data={"name": "negatives only", "counts": {"positive": 0, "negative": 20}},
        metrics={
            "recall": rate_interval(0, 0).to_dict(),
            "precision": rate_interval(0, 0).to_dict(),
            "fpr": rate_interval(0, 20).to_dict(),
        },
        subgroups=[_subgroup("source", "a", 0, 0, 0, 20), _subgroup("source", "b", 0, 0, 0, 3)],
        stage_detection=[
            {
                "stage": "approach",
                "n_reaching": 0,
                "n_before": 0,
                "share": rate_interval(0, 0).to_dict(),
                "too_small": True,
                "reason": "approach: 0 positives reach it < 10",
            }
        ],
        latency={"messages": [], "minutes": []},
        detection_curve=[],
        calibration=[{"mean_score": 0.1, "observed_rate": 0.0, "count": 20}],
    )


@pytest.fixture(scope="module")
def page() -> str:
    return to_html(_card())


@pytest.fixture(scope="module")
def empty_page() -> str:
    return to_html(_empty_card())


def _images(page: str) -> list[bytes]:
    found = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    return [base64.b64decode(data, validate=True) for data in found]


def test_html_embeds_png_plots(page: str) -> None:
    images = _images(page)
    assert len(images) >= 5
    assert all(image.startswith(PNG_MAGIC) for image in images)
    assert page.count("data:image/png;base64,") == len(images)


@pytest.mark.parametrize("fixture", ["page", "empty_page"])
def test_html_is_self_contained(fixture: str, request: pytest.FixtureRequest) -> None:
    text = request.getfixturevalue(fixture).lower()
    for needle in FORBIDDEN:
        assert needle not in text, needle
    assert not re.search(r"""src=["'](?!data:image/png;base64,)""", text)


def test_html_sections_in_order(page: str) -> None:
    titles = section_titles(_card())
    assert "Comparisons" not in titles and len(titles) == len(SECTION_TITLES) - 1
    positions = [page.find(f". {title}</h2>") for title in titles]
    assert all(p > 0 for p in positions), dict(zip(titles, positions, strict=True))
    assert positions == sorted(positions)


def test_html_escapes_data(page: str) -> None:
    assert "<b>neutral</b>" not in page
    assert "&lt;b&gt;neutral&lt;/b&gt; corpus" in page


def test_html_says_how_numbers_were_computed(page: str) -> None:
    assert "clopper-pearson" in page and "95%" in page
    assert "TP / (TP + FN) over conversations." in page
    assert "refuted" in page and "the interval lies below the claim" in page


def test_json_round_trips() -> None:
    card = _card()
    text = to_json(card)
    assert from_json(text).to_dict() == json.loads(text) == card.to_dict()
    assert from_json(text) == ReportCard.from_dict(card.to_dict())


def test_json_writes_nan_as_null() -> None:
    card = ReportCard(title="nan", metrics={"auc": {"estimate": float("nan")}})
    assert json.loads(to_json(card))["metrics"]["auc"]["estimate"] is None


def test_from_dict_rejects_unknown_fields_and_versions() -> None:
    with pytest.raises(ValueError, match="unknown report card fields"):
        ReportCard.from_dict({"title": "x", "colour": "red"})
    with pytest.raises(ValueError, match="schema"):
        ReportCard.from_dict({"title": "x", "schema_version": "99"})


def test_markdown_has_metric_table_and_no_images() -> None:
    text = to_markdown(_card())
    assert "| metric | estimate | interval | level | method | n | note |" in text
    assert re.search(
        r"\| recall \| 0\.75 \| \[0\.65\d*, 0\.83\d*\] \| 95% \| clopper-pearson \|", text
    )
    assert "data:image" not in text and "<img" not in text
    assert "\\<b\\>neutral\\</b\\>" in text
    for number, title in enumerate(section_titles(_card()), start=1):
        assert f"## {number}. {title}" in text


def test_csv_follows_template_and_has_accuracy_indicators() -> None:
    reader = csv.DictReader(io.StringIO(to_csv(_card())))
    assert tuple(reader.fieldnames or ()) == COLUMNS
    rows = {row["Indicator"]: row for row in reader}
    assert {ACCURACY, PRECISION, RECALL} <= set(rows)
    assert float(rows[RECALL]["Value"]) == pytest.approx(0.75)
    assert float(rows[PRECISION]["Value"]) == pytest.approx(75 / 80)
    assert float(rows[ACCURACY]["Value"]) == pytest.approx(370 / 400)
    assert float(rows[RECALL]["Interval low"]) < 0.75 < float(rows[RECALL]["Interval high"])
    assert rows[RECALL]["Interval method"] == "clopper-pearson"
    assert rows[RECALL]["Section"] == "Use of automated means for content moderation"
    fpr = rows["Possible rate of error - False positive rate"]
    assert float(fpr["Value"]) == pytest.approx(5 / 300)
    assert rows["Safeguards applied - Human review"]["Value"] == "not assessed"
    assert "split test" in rows["Test data"]["Contextual Information"]


def test_no_positives_renders_and_says_undefined(empty_page: str) -> None:
    card = _empty_card()
    assert "undefined" in empty_page
    assert all(image.startswith(PNG_MAGIC) for image in _images(empty_page))
    assert "no true positive" not in empty_page  # text lives in the plot, not the page
    markdown = to_markdown(card)
    assert "| recall | undefined | undefined |" in markdown
    rows = {r["Indicator"]: r for r in csv.DictReader(io.StringIO(to_csv(card)))}
    assert rows[RECALL]["Value"] == ""
    assert "undefined" in rows[RECALL]["Contextual Information"]


@pytest.mark.parametrize(
    ("render", "args"),
    [
        (plots.latency_histogram, ([], None)),
        (plots.detection_curve, ([],)),
        (plots.det_curve, (None, None)),
        (plots.pr_curve, ([], [])),
        (plots.calibration_plot, ([],)),
        (plots.forest_plot, ([{"attribute": "a", "value": "b", "recall": {"estimate": None}}],)),
        (plots.prevalence_plot, ([],)),
    ],
)
def test_plots_never_raise_on_empty_data(render: object, args: tuple[object, ...]) -> None:
    assert callable(render)
    assert render(*args).startswith(PNG_MAGIC)


def test_write_report_writes_four_files_atomically_and_their_sums(tmp_path: Path) -> None:
    import hashlib

    written = write_report(_empty_card(), tmp_path / "card")
    files = {*REPORT_FILES.values(), "SHA256SUMS"}
    assert {p.name for p in written.values()} == files
    assert sorted(p.name for p in (tmp_path / "card").iterdir()) == sorted(files)
    assert json.loads(written["json"].read_text())["title"] == "No positives"
    for line in written["sha256"].read_text().splitlines():
        digest, name = line.split("  ")
        assert hashlib.sha256((tmp_path / "card" / name).read_bytes()).hexdigest() == digest


def test_comparison_card_adds_the_comparisons_section() -> None:
    card = ReportCard(title="A vs B", comparisons=[{"metric": "recall", "difference": 0.05}])
    assert "Comparisons" in section_titles(card)
    assert "## 4. Comparisons" in to_markdown(card)
