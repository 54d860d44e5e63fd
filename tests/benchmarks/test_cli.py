"""End to end through the installed console scripts, on a temporary SQLite MLflow store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.audit.headline import HEADLINE, headline_columns
from benchmarks.tracking import causality_metrics
from tests.helpers import cli, write_jsonl

SENTINEL = "zebrasentinelword"


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("e2e")
    path = write_jsonl(tmp / "chats.jsonl", n=120)
    # A sentinel word in every message: it must never reach MLflow, results or traces.
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    for line in lines:
        for m in line["messages"]:
            m["text"] += f" {SENTINEL}"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    out = cli(
        tmp,
        "corpus=jsonl",
        f"corpus.path={path}",
        "+tracking.api_key=${oc.env:GB_TEST_API_KEY}",
        # A secret under an innocent key name must be caught by its value.
        "+tracking.endpoint='https://vendor.invalid/score?k=${oc.env:GB_TEST_API_KEY}'",
        "runner.progress=false",
    )
    assert out.returncode == 0, out.stderr[-3000:]
    (tmp / "stdout.txt").write_text(out.stdout)
    return tmp


def test_sweep_prints_leaderboard_and_writes_results(sweep: Path) -> None:
    stdout = (sweep / "stdout.txt").read_text()
    for name in ("lexicon", "tfidf_lr", "random", "length", "memorizer"):
        assert name in stdout
    assert "mlflow ui --workers 1 --backend-store-uri sqlite:///" in stdout
    (where,) = [x for x in stdout.splitlines() if x.startswith("results: ")]
    assert Path(where.removeprefix("results: ")).is_absolute()  # as the README shows it
    results = sorted((sweep / "runs" / "outputs").glob("*/*/results.json"))
    assert len(results) == 5
    data = json.loads(results[0].read_text())
    assert data["schema_version"] == "1" and data["corpus"]["split"] == "test"
    for key in ("precision", "recall", "f1", "ttd_median", "latency_f1", "erde_5", "n_errors"):
        assert key in data["metrics"] and key in data["definitions"]


def test_mlflow_runs_match_results_and_leak_nothing(sweep: Path) -> None:
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{sweep / 'store.db'}")
    experiment = client.get_experiment_by_name("groombench")
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if r.data.tags.get("groombench.sweep") == "parent"]
    children = [r for r in runs if "groombench.detector" in r.data.tags]
    assert len(parents) == 1 and len(children) == 5
    assert {r.data.tags["mlflow.parentRunId"] for r in children} == {parents[0].info.run_id}
    for run in children:
        folder = next(
            p.parent
            for p in (sweep / "runs" / "outputs").glob("*/*/results.json")
            if run.data.tags["groombench.detector"] in p.parent.name
        )
        result = json.loads((folder / "results.json").read_text())
        finite = {k: v for k, v in result["metrics"].items() if v is not None}
        # Plus the headline metrics' interval ends, from the audit.
        bounds = headline_columns(result["audit"]["intervals"])
        assert bounds and set(bounds) <= {f"{m}_{e}" for m in HEADLINE for e in ("low", "high")}
        causality = causality_metrics(result["guarantees"])
        assert causality["causality_checked"] > 0  # fast mode: re-checked on a sample
        assert run.data.metrics == pytest.approx(finite | bounds | causality)
        assert run.data.tags["groombench.isolation"] == "in-process"
        assert run.data.tags["groombench.causality_mode"] == "fast"
        assert run.data.params["detector._target_"].startswith("detectors.")
        assert run.inputs.dataset_inputs[0].dataset.digest == result["corpus"]["fingerprint"][:36]
        artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
        assert {"results.json", "traces.parquet", "config.yaml", "report"} <= artifacts
        report = {a.path for a in client.list_artifacts(run.info.run_id, "report")}
        assert {"report/report.html", "report/transparency.csv"} <= report
    scanned = 0
    for file in sweep.rglob("*"):
        # runs/cache is the user's local copy of the corpus itself, and a TF-IDF model's
        # vocabulary under runs/models is made of corpus words: both stay local, never logged.
        local = {"cache", "models"} & set(file.relative_to(sweep).parts[:2])
        if file.is_file() and not local and file.name != "chats.jsonl":
            scanned += 1
            blob = file.read_bytes()
            assert b"SECRETVALUE42" not in blob, file
            assert SENTINEL.encode() not in blob, file
    assert scanned > 10
    assert (sweep / "mlartifacts").exists() and not (sweep / "mlruns").exists()


def test_leaderboard_command_reads_mlflow(sweep: Path) -> None:
    out = cli(sweep, "--sweep", "latest", script="groombench-leaderboard")
    assert out.returncode == 0, out.stderr
    assert "5 evaluation(s)" in out.stdout and "tfidf_lr" in out.stdout


def test_leaderboard_exports_csv_json_markdown_and_from_python(sweep: Path) -> None:
    import csv
    import io

    from benchmarks import export_leaderboard

    exported = {
        fmt: cli(sweep, "--sweep", "latest", "--format", fmt, script="groombench-leaderboard")
        for fmt in ("csv", "json", "markdown")
    }
    assert all(out.returncode == 0 for out in exported.values())
    rows = list(csv.DictReader(io.StringIO(exported["csv"].stdout)))
    records = json.loads(exported["json"].stdout)  # nothing but JSON on stdout
    assert len(rows) == len(records) == 5
    assert {r["detector"] for r in rows} == {r["detector"] for r in records}
    for row, record in zip(rows, records, strict=True):
        f1 = record["f1"]
        assert f1 is None or float(row["f1"]) == f1  # full precision, not rounded
    assert "| detector | corpus | policy |" in exported["markdown"].stdout
    uri = f"sqlite:///{sweep / 'store.db'}"
    assert (
        export_leaderboard(uri, format="json", sweep="latest") == exported["json"].stdout.rstrip()
    )


def test_recompute_under_another_policy_from_traces(sweep: Path) -> None:
    from benchmarks.recompute import recompute

    folder = next((sweep / "runs" / "outputs").glob("*/*_lexicon"))
    original, new, target = recompute(
        folder, ["policy=vote", "policy.min_positive=2", "policy.window=3"]
    )
    assert new.policy["name"] == "vote" and new.policy["params"]["min_positive"] == 2
    assert (target / "results.json").exists()
    assert new.metrics["n_scored"] == original.metrics["n_scored"]
    with pytest.raises(SystemExit, match="only policy overrides"):
        recompute(folder, ["detector=random"])


def test_recompute_recomputes_every_interval_as_a_fresh_run_would(
    sweep: Path, tmp_path: Path
) -> None:
    from benchmarks.recompute import recompute

    vote = ["policy=vote", "policy.min_positive=2", "policy.window=3"]
    folder = next((sweep / "runs" / "outputs").glob("*/*_lexicon"))
    original, new, target = recompute(folder, vote)
    saved = json.loads((target / "results.json").read_text())
    assert saved["audit"]["intervals"] == new.audit["intervals"]
    # Each interval belongs to its own estimate: the new policy's metric, not the old one's.
    moved = 0
    for key, interval in new.audit["intervals"].items():
        if key in new.metrics:
            assert interval["estimate"] == pytest.approx(new.metrics[key], abs=1e-12), key
            moved += new.metrics[key] != original.metrics[key]
    assert moved, "the new policy should change some metric, or this test shows nothing"
    # ...and equals what a fresh evaluation under that policy gives.
    fresh = cli(
        tmp_path,
        "corpus=jsonl",
        f"corpus.path={sweep / 'chats.jsonl'}",
        "detector=lexicon",
        *vote,
        "runner.progress=false",
        "tracking=none",
    )
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    (result,) = (tmp_path / "runs" / "outputs").glob("*/*/results.json")
    expected = json.loads(result.read_text())["audit"]
    assert new.audit["intervals"] == expected["intervals"]
    assert new.audit["bootstrap"] == expected["bootstrap"]
    timing = ("ms_per_message_p50", "ms_per_message_p99", "messages_per_second")
    fresh_metrics = json.loads(result.read_text())["metrics"]
    assert {k: v for k, v in new.metrics.items() if k not in timing} == pytest.approx(
        {k: v for k, v in fresh_metrics.items() if k not in timing}
    )


def test_recompute_leaves_the_audit_out_without_clusters(sweep: Path, tmp_path: Path) -> None:
    import shutil

    from benchmarks.recompute import recompute

    source = next((sweep / "runs" / "outputs").glob("*/*_lexicon"))
    folder = tmp_path / "copy"
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns("recomputed"))
    (folder / "clusters.parquet").unlink()
    _, new, _ = recompute(folder, ["policy=vote"])
    assert new.audit == {}
    assert any("audit left out" in note for note in new.notes)


def test_unknown_choice_lists_the_options(tmp_path: Path) -> None:
    out = cli(tmp_path, "detector=nonexistent")
    assert out.returncode != 0
    assert "Available options" in out.stderr and "tfidf_lr" in out.stderr


def test_help_lists_detectors_corpora_policies(tmp_path: Path) -> None:
    from tests.test_configs import options

    out = cli(tmp_path, "--help")
    assert out.returncode == 0
    listed = dict(line.split(": ", 1) for line in out.stdout.splitlines() if ": " in line)
    for group in ("detector", "corpus", "policy", "protocol"):
        assert listed[group].split(", ") == options(group), group


def test_bad_jsonl_stops_with_file_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"conversation_id": "a", "label": 1, "messages": [{"text": "x"}]}\n')
    out = cli(tmp_path, "detector=lexicon", "corpus=jsonl", f"corpus.path={bad}", "tracking=none")
    assert out.returncode != 0
    assert "bad.jsonl:1: field 'messages[0].author' must be a string" in out.stderr


def test_failed_sweep_closes_its_parent_run_and_shows_finished_jobs(tmp_path: Path) -> None:
    import mlflow

    good = write_jsonl(tmp_path / "good.jsonl", n=20)
    out = cli(
        tmp_path,
        "corpus=jsonl",
        f"corpus.path={good}",
        "detector=lexicon,tfidf_lr",
        "split=train",
        "runner.progress=false",
    )  # tfidf_lr refuses its training split
    assert out.returncode != 0
    assert "sweep FAILED" in out.stdout and "lexicon" in out.stdout
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'store.db'}")
    runs = client.search_runs([client.get_experiment_by_name("groombench").experiment_id])
    parent = next(r for r in runs if r.data.tags.get("groombench.sweep") == "parent")
    assert parent.info.status == "FAILED"


def test_joblib_sweep_attaches_children_and_leaderboard_tells_settings_apart(
    tmp_path: Path,
) -> None:
    path = write_jsonl(tmp_path / "c.jsonl", n=40)
    out = cli(
        tmp_path,
        "corpus=jsonl",
        f"corpus.path={path}",
        "detector=lexicon",
        "policy=vote",
        "policy.min_positive=1,2",
        "runner.progress=false",
        "hydra/launcher=joblib",
    )
    assert out.returncode == 0, out.stderr[-2000:]
    # The jobs ran in joblib worker processes and still attached to the sweep's parent run.
    board = cli(tmp_path, "--sweep", "latest", script="groombench-leaderboard")
    assert "2 evaluation(s)" in board.stdout
    assert "min_positive=1" in board.stdout and "min_positive=2" in board.stdout


def test_models_trained_with_other_settings_are_not_reused(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "c.jsonl", n=40)
    out = cli(
        tmp_path,
        "corpus=jsonl",
        f"corpus.path={path}",
        "detector=tfidf_lr",
        "detector.C=0.01,100",
        "tracking=none",
        "runner.progress=false",
    )
    assert out.returncode == 0, out.stderr[-2000:]
    models = list((tmp_path / "runs" / "models" / "tfidf_lr").iterdir())
    assert len(models) == 2
    # The sweep's table tells the two settings apart.
    assert "tfidf_lr(C=0.01)" in out.stdout and "tfidf_lr(C=100)" in out.stdout


def test_failed_sweep_without_tracking_still_reports(tmp_path: Path) -> None:
    good = write_jsonl(tmp_path / "good.jsonl", n=20)
    out = cli(
        tmp_path,
        "corpus=jsonl",
        f"corpus.path={good}",
        "detector=lexicon,tfidf_lr",
        "split=train",
        "tracking=none",
        "runner.progress=false",
    )
    assert out.returncode != 0
    assert "sweep FAILED" in out.stdout and "lexicon" in out.stdout
    # A configuration error is one clear line, not a traceback.
    assert "groombench: error: split and train_split are both 'train'" in out.stderr
    assert "Traceback" not in out.stderr


def test_a_missing_required_setting_is_one_line_and_leaves_no_empty_folder(
    tmp_path: Path,
) -> None:
    out = cli(tmp_path, "corpus=jsonl", "detector=lexicon", "tracking=none")
    assert out.returncode == 2
    assert "groombench: error: corpus.path is required and has no value" in out.stderr
    assert "Traceback" not in out.stderr and "MissingMandatoryValue" not in out.stderr
    assert "sweep FAILED" not in out.stdout
    outputs = tmp_path / "runs" / "outputs"
    assert not outputs.exists() or not any(outputs.iterdir())


def test_version_is_groombench_s_and_the_run_root_is_private(tmp_path: Path) -> None:
    import stat

    out = cli(tmp_path, "--version")
    assert out.returncode == 0 and out.stdout.startswith("groombench 0.")
    path = write_jsonl(tmp_path / "c.jsonl", n=20)
    out = cli(tmp_path, "corpus=jsonl", f"corpus.path={path}", "detector=lexicon")
    assert out.returncode == 0, out.stderr[-2000:]
    root = tmp_path / "runs"
    for item in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(item.stat().st_mode)
        assert mode & 0o077 == 0, (item, oct(mode))  # nothing for the group or others


def test_a_killed_sweep_s_parent_is_closed_as_killed_by_the_next_start(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    import mlflow

    from benchmarks.tracking import close_stale_parents, ensure_experiment, start_parent_run

    uri = f"sqlite:///{tmp_path / 'store.db'}"
    # A parent started by a process that then died without closing it (SIGKILL).
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from benchmarks.tracking import start_parent_run; "
            f"print(start_parent_run({uri!r}, 'groombench', 'sweep x'), flush=True); "
            "time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    orphan = child.stdout.readline().strip()
    live = start_parent_run(uri, "groombench", "sweep live")  # this process: alive
    child.send_signal(signal.SIGKILL)
    child.wait()
    time.sleep(0.1)
    closed = close_stale_parents(uri, ensure_experiment(uri, "groombench"))
    client = mlflow.MlflowClient(tracking_uri=uri)
    assert closed == [orphan]
    assert client.get_run(orphan).info.status == "KILLED"
    assert client.get_run(live).info.status == "RUNNING"


def test_list_describes_every_choice_with_what_it_needs(tmp_path: Path) -> None:
    from tests.test_configs import options

    out = cli(tmp_path, "--list")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    for group in ("detector", "corpus", "policy", "protocol"):
        block = text.split(f"{group} (choose with {group}=<name>):\n", 1)[1].split("\n\n", 1)[0]
        names = [
            line.split()[0] for line in block.splitlines() if not line.strip().startswith("needs:")
        ]
        assert names == options(group), group
        assert all(len(line.split(None, 1)) == 2 for line in block.splitlines())  # described
    hf = text.split("  hf_classifier", 1)[1].splitlines()[1]
    assert "needs: pip install -e '.[learned]'" in hf
    assert "needs" not in text.split("  lexicon", 1)[1].splitlines()[0]


def test_help_shows_the_same_mlflow_command_as_runs_print(tmp_path: Path) -> None:
    from benchmarks.tracking import ui_hint

    command = ui_hint("sqlite:///x.db").removeprefix("MLflow: ").rsplit(" ", 1)[0]
    help_text = " ".join(cli(tmp_path, "--help").stdout.split())
    assert command in help_text and "--list" in help_text


def test_an_unreachable_tracking_server_is_one_line_and_hides_its_password(tmp_path: Path) -> None:
    import os
    import socket
    import subprocess
    import sys

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = os.environ | {
        "GROOMBENCH_HOME": str(tmp_path / "runs"),
        "MLFLOW_TRACKING_URI": f"http://alice:s3cretpw@127.0.0.1:{port}/",
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
        "MLFLOW_HTTP_REQUEST_TIMEOUT": "5",
        "HF_HUB_OFFLINE": "1",
    }
    out = subprocess.run(
        [str(Path(sys.executable).parent / "groombench"), "corpus.n_conversations=20"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 2
    assert "s3cretpw" not in out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    assert f"cannot use the MLflow tracking store http://alice:***@127.0.0.1:{port}/" in out.stderr
    assert not list((tmp_path / "runs" / "outputs").glob("*"))


def test_every_long_step_says_when_it_starts_and_ends(tmp_path: Path) -> None:
    out = cli(
        tmp_path,
        "detector=tfidf_lr",
        "corpus.n_conversations=120",
        "audit.enabled=true",
        "audit.n_resamples=200",
        "runner.progress=false",
    )
    assert out.returncode == 0, out.stderr[-2000:]
    text = out.stdout + out.stderr
    for step in (
        "loading corpus synthetic",
        "training tfidf_lr on synthetic@",
        "scoring tfidf_lr on synthetic@",
        "audit (bootstrap intervals, report card)",
        "logging to MLflow",
    ):
        lines = [line for line in text.splitlines() if step in line]
        assert any(line.endswith(" ...") for line in lines), step
        assert any(": done in " in line for line in lines), step


def test_hydra_keeps_no_typed_secret_and_the_leaderboard_hides_a_password(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    typed = "https://alice:s3cretpw@vendor.invalid/x?key=sk-live-XYZ123"
    out = cli(
        tmp_path,
        "detector=lexicon",
        "corpus.n_conversations=40",
        f"+notes='{typed}'",
        "runner.progress=false",
    )
    assert out.returncode == 0, out.stderr[-2000:]
    written = [p for p in (tmp_path / "runs").rglob("*") if p.is_file()]
    assert not [p for p in written if ".hydra" in p.parts]  # Hydra's copy is not written
    (multirun,) = [p for p in written if p.name == "multirun.yaml"]
    text = multirun.read_text()
    assert "s3cretpw" not in text and "sk-live-XYZ123" not in text and "alice:***@" in text
    for path in written:
        data = path.read_bytes()
        assert b"s3cretpw" not in data and b"sk-live-XYZ123" not in data, path
    env = os.environ | {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "5"}
    board = subprocess.run(
        [
            str(Path(sys.executable).parent / "groombench-leaderboard"),
            "--uri",
            "http://alice:s3cretpw@127.0.0.1:9/",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert board.returncode != 0 and "s3cretpw" not in board.stdout + board.stderr
    assert "Traceback" not in board.stderr and "alice:***@127.0.0.1:9" in board.stderr
