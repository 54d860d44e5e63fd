"""Audit mode through the CLI: a claim judged after the run, refused before it, planned without
it; calibration splits checked; finished runs compared."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import cli, write_jsonl

FAST = ["audit.n_resamples=300", "tracking=none", "runner.progress=false"]


def setup(tmp_path: Path, claim: dict[str, Any] | None = None) -> list[str]:
    """A neutral JSONL corpus and, when given, a claim file; the overrides that select them."""
    corpus = write_jsonl(tmp_path / "c.jsonl", n=120, seed=4)
    args = ["corpus=jsonl", f"corpus.path={corpus}", *FAST]
    if claim is not None:
        folder = tmp_path / "configs" / "claim"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "vendor.yaml").write_text(yaml.safe_dump(claim), encoding="utf-8")
        args = ["--config-dir", str(tmp_path / "configs"), *args, "claim=vendor"]
    return args


def results(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "runs" / "outputs").rglob("results.json"))


CLAIM = {
    "name": "vendor",
    "unit": "conversation",
    "population": "all test conversations",
    "threshold": 0.5,
    "metrics": {"recall": 0.5, "fpr": 0.01},
    "margin": {"recall": 0.1, "fpr": 0.01},
    "prevalences": [0.001],
}


def test_a_claim_is_judged_and_the_report_card_written(tmp_path: Path) -> None:
    # The constant detector at 1.0 alerts on everything: recall 1 (supports a 50% recall
    # claim), FPR 1 (refutes a 1% FPR claim); the claim as a whole is refuted.
    args = setup(tmp_path, CLAIM)
    done = cli(tmp_path, *args, "detector=constant", "detector.value=1.0")
    assert done.returncode == 0, done.stderr[-3000:]
    [file] = results(tmp_path)
    audit = json.loads(file.read_text())["audit"]
    verdicts = {v["metric"]: v["outcome"] for v in audit["verdict"]["verdicts"]}
    assert verdicts == {"recall": "supported", "fpr": "refuted"}
    assert audit["verdict"]["outcome"] == "refuted"
    assert audit["intervals"]["recall"]["method"] and audit["bootstrap"]["settings"]["seed"] == 0
    report = file.parent / "report"
    html = (report / "report.html").read_text()
    assert "refuted" in html and "data:image/png;base64," in html
    assert (report / "transparency.csv").exists() and (file.parent / "clusters.parquet").exists()

    # The same claim on a detector that never alerts: recall 0 refutes the recall endpoint.
    again = cli(tmp_path, *args, "detector=constant", "detector.value=0.0")
    assert again.returncode == 0, again.stderr[-3000:]
    latest = json.loads(results(tmp_path)[-1].read_text())["audit"]["verdict"]
    assert {v["metric"]: v["outcome"] for v in latest["verdicts"]}["recall"] == "refuted"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"metrics": {"accuracy_score": 0.9}}, "accuracy_score"),
        ({"threshold": None}, "threshold"),
        ({"margin": 1.5}, "margin"),
        ({"unit": "author"}, "author"),
    ],
)
def test_a_bad_claim_is_refused_before_any_detector_runs(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    claim = {k: v for k, v in (CLAIM | change).items() if v is not None}
    done = cli(tmp_path, *setup(tmp_path, claim), "detector=lexicon")
    assert done.returncode != 0
    assert "groombench: error: claim 'vendor'" in done.stderr and message in done.stderr
    assert not list((tmp_path / "runs").rglob("traces.parquet"))  # nothing was scored


def test_plan_only_says_what_the_corpus_can_settle_and_runs_nothing(tmp_path: Path) -> None:
    done = cli(tmp_path, *setup(tmp_path, CLAIM), "detector=lexicon", "audit.plan_only=true")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "positive and" in done.stdout and "recall" in done.stdout
    assert "cannot" in done.stdout.lower()  # a few dozen positives cannot settle much
    assert not list((tmp_path / "runs").rglob("traces.parquet"))


def test_calibration_is_refused_on_the_scored_or_the_training_split(tmp_path: Path) -> None:
    calibrated = {k: v for k, v in CLAIM.items() if k != "threshold"}
    calibrated["calibrate"] = {"split": "test", "fpr": 0.1}
    done = cli(tmp_path, *setup(tmp_path, calibrated), "detector=lexicon")
    assert done.returncode == 2 and "calibrate.split is 'test'" in done.stderr

    calibrated["calibrate"] = {"split": "train", "fpr": 0.1}
    trained = cli(tmp_path, *setup(tmp_path, calibrated), "detector=tfidf_lr")
    assert trained.returncode == 2 and "trained on train" in trained.stderr

    # An untrained detector may be calibrated on train: the threshold is then the claim's.
    ok = cli(tmp_path, *setup(tmp_path, calibrated), "detector=lexicon")
    assert ok.returncode == 0, ok.stderr[-3000:]
    result = json.loads(results(tmp_path)[-1].read_text())
    assert result["audit"]["verdict"]["outcome"] in {"supported", "refuted", "inconclusive"}


def test_operating_points_need_a_separate_calibration_split(tmp_path: Path) -> None:
    done = cli(tmp_path, *setup(tmp_path), "detector=lexicon", "audit.calibration_split=train")
    assert done.returncode == 0, done.stderr[-3000:]
    card = json.loads((results(tmp_path)[-1].parent / "report" / "report.json").read_text())
    assert [p["target_fpr"] for p in card["operating_points"]] == [0.01, 0.001, 0.0001]
    assert all(p["n_negatives_above"] >= 0 for p in card["operating_points"])


def compare_sweep(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run groombench-compare over the sweep under tmp_path, report card to tmp_path/cmp."""
    sweep = results(tmp_path)[0].parent.parent
    out = cli(
        tmp_path,
        str(sweep),
        "--out",
        str(tmp_path / "cmp"),
        "--resamples",
        "300",
        script="groombench-compare",
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out


def test_compare_finished_runs(tmp_path: Path) -> None:
    args = setup(tmp_path)
    done = cli(tmp_path, *args, "detector=lexicon,random")
    assert done.returncode == 0, done.stderr[-3000:]
    # Each job's report card gives that job's own command, not the sweep's.
    for folder in (r.parent for r in results(tmp_path)):
        command = json.loads((folder / "report" / "report.json").read_text())["reproduction"][
            "command"
        ]
        own = "lexicon" if folder.name.endswith("_lexicon") else "random"
        assert f"detector={own}" in command.split() and "lexicon,random" not in command
    out = compare_sweep(tmp_path)
    assert "lexicon − random" in out.stdout and "Holm-adjusted" in out.stdout
    card = json.loads((tmp_path / "cmp" / "report.json").read_text())
    metrics = {row["metric"] for row in card["comparisons"]}
    assert {"recall", "fpr", "f1", "ROC-AUC"} <= metrics
    assert all(row["adjustment"] for row in card["comparisons"] if row["p_value"] is not None)
    # A summary table first (one row per pair and metric), then the sentences.
    lines = out.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("pair "))
    first_reading = next(i for i, line in enumerate(lines) if "lexicon − random" in line)
    assert header < first_reading
    assert "adjusted p" in lines[header] and "interval" in lines[header]
    table = lines[header + 2 : header + 2 + len(card["comparisons"])]
    assert all(line.startswith("lexicon vs random") for line in table)
    # A p-value at the resampling floor (no resample crossed 0) is a bound, never exact.
    floor = 2 / (300 + 1)
    for row in card["comparisons"]:
        if row["p_bound"]:
            assert row["p_value"] == pytest.approx(floor)
            assert "p < " in row["reading"] and "p = " not in row["reading"]
    assert any(row["p_bound"] for row in card["comparisons"])  # lexicon beats random clearly

    # Runs on different corpora cannot be compared.
    other = tmp_path / "other"
    other.mkdir()
    assert (
        cli(
            other,
            *setup(other)[:1],
            f"corpus.path={write_jsonl(other / 'd.jsonl', n=60, seed=9)}",
            *FAST,
            "detector=lexicon",
        ).returncode
        == 0
    )
    mixed = cli(
        tmp_path,
        str(results(tmp_path)[0].parent),
        str(results(other)[0].parent),
        script="groombench-compare",
    )
    assert mixed.returncode == 2 and "same corpus split" in mixed.stderr


def test_a_split_without_positives_is_audited_with_undefined_metrics(tmp_path: Path) -> None:
    corpus = write_jsonl(tmp_path / "c.jsonl", n=60, seed=5)
    records = [json.loads(line) for line in corpus.read_text().splitlines()]
    kept = [r for r in records if r["label"] == 0 or r["split"] == "train"]
    corpus.write_text("".join(json.dumps(r) + "\n" for r in kept))
    done = cli(tmp_path, "corpus=jsonl", f"corpus.path={corpus}", *FAST, "detector=lexicon")
    assert done.returncode == 0, done.stderr[-3000:]
    file = results(tmp_path)[-1]
    intervals = json.loads(file.read_text())["audit"]["intervals"]
    for name in ("recall", "roc_auc", "ttd_median", "detected_before_escalation"):
        assert intervals[name]["method"] == "undefined", (name, intervals[name])
        assert intervals[name]["low"] is None and intervals[name]["high"] is None
    assert "NaN" not in file.read_text()
    html = (file.parent / "report" / "report.html").read_text()
    assert "undefined" in html


def test_calibration_on_all_or_overlapping_data_is_refused_before_the_run(tmp_path: Path) -> None:
    calibrated = {k: v for k, v in CLAIM.items() if k != "threshold"}
    calibrated["calibrate"] = {"split": "all", "fpr": 0.1}
    done = cli(tmp_path, *setup(tmp_path, calibrated), "detector=lexicon")
    assert done.returncode == 2 and "two different, named splits" in done.stderr
    other = cli(
        tmp_path, *setup(tmp_path), "detector=lexicon", "split=all", "audit.calibration_split=train"
    )
    assert other.returncode == 2 and "two different, named splits" in other.stderr
    assert not list((tmp_path / "runs").rglob("traces.parquet"))


def test_a_bootstrap_on_few_clusters_cannot_support_a_claim() -> None:
    from benchmarks.audit.assemble import claim_evidence
    from benchmarks.audit.claims.claim import load_claim
    from benchmarks.audit.claims.verdicts import judge
    from benchmarks.audit.settings import AuditSettings
    from benchmarks.audit.stats.clusters import Clusters
    from benchmarks.metrics import Outcomes

    # Ten perfectly classified conversations in five author clusters: every resample is
    # perfect, which is no evidence that F1 >= 0.95 in general.
    outcomes = Outcomes.from_columns(
        labels=[1, 0] * 5,
        alerts=[2, 0] * 5,
        max_scores=[0.9, 0.1] * 5,
        n_messages=[4] * 10,
        groups=[f"g{i // 2}" for i in range(10)],
    )
    clusters = Clusters(tuple(outcomes.groups.tolist()), "author", 5, 2)
    claim = load_claim(CLAIM | {"metrics": {"f1": 0.95, "recall": 0.95}, "margin": 0.0})
    assert claim is not None
    evidence = claim_evidence(claim, outcomes, clusters, AuditSettings(n_resamples=200), None)
    verdict = {v.metric: v for v in judge(claim, evidence).verdicts}
    assert verdict["f1"].outcome == "inconclusive" and "clusters" in verdict["f1"].reason
    # Recall falls back to exact counts: 5 of 5 cannot show 95% either.
    assert verdict["recall"].outcome == "inconclusive"


def test_clustered_runs_are_compared_by_the_cluster_bootstrap_only(tmp_path: Path) -> None:
    args = ["corpus.n_conversations=400", *FAST, "detector=lexicon,random"]
    done = cli(tmp_path, *args)
    assert done.returncode == 0, done.stderr[-3000:]
    compare_sweep(tmp_path)
    rows = json.loads((tmp_path / "cmp" / "report.json").read_text())["comparisons"]
    assert {r["metric"] for r in rows} >= {"recall", "fpr", "roc_auc"}
    assert all("McNemar" not in r["method"] and "DeLong" not in r["method"] for r in rows)
