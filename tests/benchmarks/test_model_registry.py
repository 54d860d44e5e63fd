"""Trained detectors versioned through MLflow: logged, registered, fetched back, leak-checked.

Real Hydra composition, a real MLflow store in a temporary SQLite file, the JSONL fixture
corpus with stage labels added, and the fast ``tfidf_lr`` detector (or the recording detector
of :mod:`tests.benchmarks.registry_detectors`, which keeps what ``fit`` received).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hydra import compose, initialize_config_module
from omegaconf import DictConfig, OmegaConf, open_dict

from benchmarks import app, training
from benchmarks.errors import ConfigError
from benchmarks.jobplan import build_plan
from benchmarks.leaderboard import mlflow_rows, result_row
from benchmarks.results import RunResult
from tests.benchmarks.registry_detectors import CURVES, saved_received
from tests.helpers import cli, write_jsonl


def run_job(cfg: DictConfig, out: Path) -> Any:
    """The job as the command runs it: the config read once into a plan."""
    return app.run_job(build_plan(cfg), out)


def train_job(cfg: DictConfig) -> list[str]:
    """``groombench-train`` as the command runs it."""
    return training.train_job(build_plan(cfg))


SECRET = "SECRETVALUE42"
RECORDER = "tests.benchmarks.registry_detectors.RecordingDetector"
TIMING = {"ms_per_message_p50", "ms_per_message_p99", "messages_per_second"}


def staged_corpus(path: Path) -> Path:
    """The neutral JSONL fixture with stage labels on grooming chats (c1 left unannotated)."""
    write_jsonl(path, n=60)
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    for line in lines:
        messages = line["messages"]
        messages[0]["stages"] = ["rapport"]
        if line["label"] and line["conversation_id"] != "c1":
            messages[-1]["stages"] = ["secrecy", "platform_move"]
            if len(messages) > 2:
                messages[1]["stages"] = ["rapport", "compliments"]
        elif line["conversation_id"] == "c1":
            messages[0]["stages"] = []
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def expected_flags(path: Path, split: str) -> list[list[bool] | None]:
    """What ``fit`` must receive as message labels for ``split`` of a staged corpus."""
    out: list[list[bool] | None] = []
    for line in map(json.loads, path.read_text().splitlines()):
        if line["split"] != split:
            continue
        stages = [set(m.get("stages") or ()) for m in line["messages"]]
        if line["label"] and not any(stages):
            out.append(None)
        else:
            out.append([bool(line["label"]) and bool(s - {"rapport"}) for s in stages])
    return out


UPLOAD = ("tracking.log_models=always",)


def config(tmp: Path, name: str, *overrides: str) -> DictConfig:
    """Compose ``name`` (groombench or train) for tfidf_lr, the store and run root in ``tmp``."""
    with initialize_config_module("configs", version_base="1.3"):
        return compose(
            name,
            overrides=[
                f"paths.root={tmp / 'runs'}",
                f"tracking.uri=sqlite:///{tmp / 'store.db'}",
                "corpus=jsonl",
                f"corpus.path={tmp / 'chats.jsonl'}",
                "detector=tfidf_lr",
                "runner.progress=false",
                "audit.enabled=false",
                # tfidf_lr's folder holds corpus words: uploading it must be asked for.
                *(() if any("log_models" in o for o in overrides) else UPLOAD),
                *overrides,
            ],
        )


def with_recorder(cfg: DictConfig, **settings: Any) -> DictConfig:
    """Replace the composed detector by the recording detector."""
    with open_dict(cfg):
        cfg.detector = OmegaConf.create(
            {"_target_": RECORDER, "model_path": None, "seed": "${seed}", **settings}
        )
    return cfg


def client(tmp: Path) -> Any:
    import mlflow

    uri = f"sqlite:///{tmp / 'store.db'}"
    return mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)


def training_runs(tmp: Path, experiment: str = "groombench-train") -> list[Any]:
    found = client(tmp).get_experiment_by_name(experiment)
    runs = client(tmp).search_runs([found.experiment_id], order_by=["attributes.start_time ASC"])
    return list(runs)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store where tfidf_lr was trained twice (seeds 0 and 1): versions 1 and 2."""
    tmp = tmp_path_factory.mktemp("registry")
    staged_corpus(tmp / "chats.jsonl")
    printed = [train_job(config(tmp, "train", f"seed={s}")) for s in (0, 1)]
    (tmp / "printed.json").write_text(json.dumps(printed))
    return tmp


def test_training_logs_a_run_and_registers_a_new_version_each_time(store: Path) -> None:
    printed = json.loads((store / "printed.json").read_text())
    assert printed[0][-1] == "registered models:/groombench-tfidf_lr/1"
    assert printed[1][-1] == "registered models:/groombench-tfidf_lr/2"
    runs = training_runs(store)
    assert len(runs) == 2
    first = runs[0]
    tags, params = first.data.tags, first.data.params
    assert tags["groombench.kind"] == "training"
    assert tags["groombench.detector"] == "tfidf_lr" and tags["groombench.detector_version"] == "1"
    assert (
        tags["groombench.trained_on"].startswith("jsonl@") and tags["groombench.split"] == "train"
    )
    assert len(tags["groombench.corpus_sha256"]) == 64
    assert float(tags["groombench.training_seconds"]) >= 0
    assert tags["groombench.registered_model"] == "models:/groombench-tfidf_lr/1"
    assert params["detector._target_"] == "detectors.classical.tfidf_lr.TfidfLRDetector"
    assert params["corpus.path"] == str(store / "chats.jsonl")
    assert params["train_split"] == "train" and params["seed"] == "0"
    assert runs[1].data.params["seed"] == "1"
    assert "training_seconds" in first.data.metrics
    artifacts = {a.path for a in client(store).list_artifacts(first.info.run_id, "model")}
    assert {"model/metadata.json", "model/training_ids.txt", "model/model.npz"} <= artifacts
    versions = client(store).search_model_versions("name='groombench-tfidf_lr'")
    by_number = {str(v.version): v for v in versions}
    assert set(by_number) == {"1", "2"}
    assert by_number["1"].run_id == first.info.run_id
    assert by_number["2"].run_id == runs[1].info.run_id
    # Trainings are kept out of the evaluations' experiment (and so out of leaderboards).
    assert client(store).get_experiment_by_name("groombench") is None


def test_a_registered_version_scores_exactly_as_its_local_folder(store: Path) -> None:
    local = Path(training_runs(store)[0].data.tags["groombench.model_path"])
    by_folder = run_job(config(store, "groombench", f"detector.model_path={local}"), store / "a")
    uri = "models:/groombench-tfidf_lr/1"
    cfg = config(store, "groombench", f"detector.model_path={uri}")
    by_registry = run_job(cfg, store / "b")
    copy = store / "runs" / "models" / "registry" / "groombench-tfidf_lr" / "1"
    assert (copy / "training_ids.txt").read_text() == (local / "training_ids.txt").read_text()
    assert json.loads((copy / "registry.json").read_text())["version"] == "1"
    assert by_registry.traces.column("scores") == by_folder.traces.column("scores")
    a, b = by_folder.result.metrics, by_registry.result.metrics
    assert {k: v for k, v in a.items() if k not in TIMING} == {
        k: v for k, v in b.items() if k not in TIMING
    }
    # Provenance keeps the URI the user gave: saved config, result settings, MLflow params.
    assert f"model_path: {uri}" in (store / "b" / "config.yaml").read_text()
    assert by_registry.result.detector["settings"]["model_path"] == uri
    experiment = client(store).get_experiment_by_name("groombench")
    run = client(store).search_runs(
        [experiment.experiment_id], "tags.`groombench.model_version` = '1'"
    )[0]
    assert run.data.params["detector.model_path"] == uri
    assert run.data.tags["groombench.model_uri"] == uri
    assert run.data.tags["groombench.model_run_id"] == training_runs(store)[0].info.run_id
    # A second use reuses the downloaded copy; tracking off, it still works from that copy.
    marker = (copy / "registry.json").stat().st_mtime_ns
    again = run_job(
        config(store, "groombench", f"detector.model_path={uri}", "tracking=none"), store / "c"
    )
    assert (copy / "registry.json").stat().st_mtime_ns == marker
    assert again.traces.column("scores") == by_folder.traces.column("scores")


def test_latest_and_aliases_resolve_to_a_version(store: Path) -> None:
    client(store).set_registered_model_alias("groombench-tfidf_lr", "champion", "2")
    for uri in ("models:/groombench-tfidf_lr/latest", "models:/groombench-tfidf_lr@champion"):
        cfg = config(store, "groombench", f"detector.model_path={uri}", "tracking=mlflow")
        evaluation = run_job(cfg, store / "alias")
        assert evaluation.result.detector["settings"]["model_path"] == uri
    assert (store / "runs" / "models" / "registry" / "groombench-tfidf_lr" / "2").is_dir()


@pytest.mark.parametrize(
    ("uri", "overrides", "message"),
    [
        (
            "models:/groombench-tfidf_lr/9",
            (),
            "is not in the model registry (registered versions of 'groombench-tfidf_lr': 1, 2)",
        ),
        ("models:/nope/1", (), "no registered model 'nope'; registered models: groombench-"),
        ("models:/groombench-tfidf_lr/7", ("tracking=none",), "but tracking is disabled"),
        ("models:/groombench-tfidf_lr", (), "names no version"),
    ],
)
def test_a_missing_version_is_a_clear_error(
    store: Path, uri: str, overrides: tuple[str, ...], message: str
) -> None:
    cfg = config(store, "groombench", f"detector.model_path={uri}", *overrides)
    with pytest.raises(ConfigError) as caught:
        run_job(cfg, store / "missing")
    assert message in str(caught.value)
    with pytest.raises(ConfigError, match="groombench-train trains a new one"):
        train_job(config(store, "train", f"detector.model_path={uri}"))


def test_leakage_of_a_registry_model_is_refused_or_flagged_everywhere(store: Path) -> None:
    uri = "models:/groombench-tfidf_lr/1"
    with pytest.raises(ConfigError, match="not be a fair test"):
        run_job(
            config(store, "groombench", f"detector.model_path={uri}", "split=train"), store / "r"
        )
    cfg = config(
        store, "groombench", f"detector.model_path={uri}", "split=train", "allow_leakage=true"
    )
    run_job(cfg, store / "leak")
    saved = json.loads((store / "leak" / "results.json").read_text())
    assert saved["leakage"] is True
    assert any("LEAKAGE" in note for note in saved["notes"])
    assert result_row(RunResult.load(store / "leak"))["detector"] == "tfidf_lr (LEAKAGE)"
    experiment = client(store).get_experiment_by_name("groombench")
    runs = client(store).search_runs(
        [experiment.experiment_id], "tags.`groombench.split` = 'train'"
    )
    assert runs[0].data.tags["groombench.leakage"] == "true"
    assert runs[0].data.tags["groombench.model_uri"] == uri
    rows = mlflow_rows(f"sqlite:///{store / 'store.db'}", "groombench", None)
    assert "tfidf_lr (LEAKAGE)" in {r["detector"] for r in rows}


def test_ids_alone_catch_a_registry_model_scored_on_its_training_data(
    store: Path, tmp_path: Path
) -> None:
    # The same chats under another split name: the trained_on reference no longer matches,
    # the downloaded training_ids.txt still does.
    lines = [json.loads(x) for x in (store / "chats.jsonl").read_text().splitlines()]
    renamed = tmp_path / "renamed.jsonl"
    renamed.write_text("".join(json.dumps(x | {"split": "heldout"}) + "\n" for x in lines))
    cfg = config(
        store,
        "groombench",
        "detector.model_path=models:/groombench-tfidf_lr/1",
        f"corpus.path={renamed}",
        "split=heldout",
    )
    with pytest.raises(ConfigError, match="not be a fair test"):
        run_job(cfg, tmp_path / "out")


def test_stage_labels_reach_fit_as_message_labels_and_never_the_messages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GB_TEST_API_KEY", SECRET)
    path = staged_corpus(tmp_path / "chats.jsonl")
    cfg = with_recorder(config(tmp_path, "train"), api_key="${oc.env:GB_TEST_API_KEY}")
    printed = train_job(cfg)
    assert printed[-1] == "registered models:/groombench-recording/1"
    folder = next((tmp_path / "runs" / "models" / "recording").iterdir())
    received = saved_received(folder)
    assert received["message_labels"] == expected_flags(path, "train")
    assert None in received["message_labels"]  # type: ignore[operator]
    assert received["message_fields"] == ["author", "index", "text", "time"]
    (run,) = training_runs(tmp_path)
    assert run.data.params["detector.api_key"] == "***"
    assert run.data.tags["groombench.base_model"] == "tiny-base"
    logged = json.dumps([run.data.params, run.data.tags])
    assert SECRET not in logged
    # Without any stage label in the split, fit is told nothing about messages.
    write_jsonl(tmp_path / "plain.jsonl", n=40)
    plain = with_recorder(
        config(
            tmp_path,
            "train",
            f"corpus.path={tmp_path / 'plain.jsonl'}",
            "tracking.register_as=null",
        )
    )
    printed = train_job(plain)
    assert len(printed) == 2 and "logged MLflow run" in printed[-1]  # logged, not registered
    assert training_runs(tmp_path)[-1].data.tags["groombench.model_logged"] == "true"
    assert [
        str(v.version)
        for v in client(tmp_path).search_model_versions("name='groombench-recording'")
    ] == ["1"]
    folders = sorted(
        (tmp_path / "runs" / "models" / "recording").iterdir(), key=lambda p: p.stat().st_mtime
    )
    assert saved_received(folders[-1])["message_labels"] is None


def test_automatic_training_logs_curves_as_step_metrics(tmp_path: Path) -> None:
    staged_corpus(tmp_path / "chats.jsonl")
    auto = "tracking.log_models=auto"
    run_job(with_recorder(config(tmp_path, "groombench", auto), curves=True), tmp_path / "out")
    (run,) = training_runs(tmp_path)
    history = {
        key: [(m.step, m.value) for m in client(tmp_path).get_metric_history(run.info.run_id, key)]
        for key in ("train_loss", "val_loss", "val_auc", "epoch")
    }
    for key, points in history.items():
        expected = [(int(r["step"]), r[key]) for r in CURVES if key in r]
        assert [s for s, _ in sorted(points)] == [s for s, _ in expected], key
        assert [v for _, v in sorted(points)] == pytest.approx([v for _, v in expected]), key
    # A model whose folder holds corpus text stays local unless asked (log_models=auto).
    assert run.data.tags["groombench.model_logged"] == "false"
    assert client(tmp_path).list_artifacts(run.info.run_id) == []
    assert client(tmp_path).search_registered_models() == []
    # The evaluation that trained it is logged as usual and its leaderboard is unaffected.
    rows = mlflow_rows(f"sqlite:///{tmp_path / 'store.db'}", "groombench", None)
    assert [r["detector"] for r in rows] == ["recording"]
    # A second job reuses the saved model: no second training run.
    run_job(with_recorder(config(tmp_path, "groombench", auto), curves=True), tmp_path / "again")
    assert len(training_runs(tmp_path)) == 1
    # tracking.log_models=always: a model trained on the way is logged and registered too.
    cfg = with_recorder(config(tmp_path, "groombench", "seed=1", "tracking.log_models=always"))
    run_job(cfg, tmp_path / "always")
    latest = training_runs(tmp_path)[-1]
    assert latest.data.tags["groombench.registered_model"] == "models:/groombench-recording/1"
    with pytest.raises(ConfigError, match=r"tracking\.log_models must be auto, always or never"):
        run_job(
            with_recorder(config(tmp_path, "groombench", "seed=2", "tracking.log_models=x")),
            tmp_path / "x",
        )


def test_groombench_train_prints_the_registered_version(tmp_path: Path) -> None:
    path = staged_corpus(tmp_path / "chats.jsonl")
    args = ("corpus=jsonl", f"corpus.path={path}", "detector=tfidf_lr")
    (tmp_path / "local").mkdir()
    local = cli(tmp_path / "local", *args, script="groombench-train")
    assert local.returncode == 0, local.stderr[-2000:]
    # By default a vocabulary of corpus words stays out of MLflow, and the user is told why.
    assert "holds corpus text" in local.stdout and "tracking.log_models=always" in local.stdout
    assert "registered models:/" not in local.stdout
    out = cli(tmp_path, *args, "tracking.log_models=always", script="groombench-train")
    assert out.returncode == 0, out.stderr[-2000:]
    assert "registered models:/groombench-tfidf_lr/1" in out.stdout
    again = cli(tmp_path, *args, "tracking.log_models=always", script="groombench-train")
    assert again.returncode == 2 and "groombench: error:" in again.stderr
    assert "already holds a model" in again.stderr and "Traceback" not in again.stderr
    scored = cli(
        tmp_path,
        "corpus=jsonl",
        f"corpus.path={path}",
        "detector=tfidf_lr",
        "detector.model_path=models:/groombench-tfidf_lr/1",
        "runner.progress=false",
    )
    assert scored.returncode == 0, scored.stderr[-2000:]
    assert "tfidf_lr" in scored.stdout
