"""Compose every config with real Hydra and instantiate every component it names."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_module
from omegaconf import DictConfig, OmegaConf

from benchmarks.components import build
from benchmarks.corpora.base import Corpus
from benchmarks.errors import ConfigError
from benchmarks.jobplan import build_plan
from benchmarks.runner import RunnerConfig
from detectors import Detector
from tests.corpus_fixtures import corpus_overrides
from tests.detector_fixtures import detector_overrides

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONFIGS / group).glob("*.yaml"))


def composed(tmp_path: Path, *overrides: str, name: str = "groombench") -> DictConfig:
    with initialize_config_module("configs", version_base="1.3"):
        return compose(name, overrides=[f"paths.root={tmp_path}", *overrides])


@pytest.mark.parametrize("name", options("detector"))
def test_every_detector_config_instantiates(name: str, tmp_path: Path) -> None:
    overrides = detector_overrides(name, tmp_path)
    plan = build_plan(composed(tmp_path, f"detector={name}", *overrides))
    assert isinstance(build(plan.detector), Detector)


@pytest.mark.parametrize("name", options("policy"))
def test_every_policy_config_instantiates(name: str, tmp_path: Path) -> None:
    policy = build(build_plan(composed(tmp_path, f"policy={name}")).policy)
    assert policy.name == name and policy.describe()


@pytest.mark.parametrize("name", options("corpus"))
def test_every_corpus_config_instantiates(name: str, tmp_path: Path) -> None:
    extra = corpus_overrides(name, tmp_path)
    cfg = composed(tmp_path, f"corpus={name}", *extra)
    corpus = build(build_plan(cfg).corpus)
    assert isinstance(corpus, Corpus) and corpus.info.name == name
    assert len(corpus.dataset) > 0


@pytest.mark.parametrize("name", options("runner"))
def test_every_runner_config_builds(name: str, tmp_path: Path) -> None:
    assert isinstance(build_plan(composed(tmp_path, f"runner={name}")).runner, RunnerConfig)


@pytest.mark.parametrize("name", options("tracking"))
def test_every_tracking_config_composes(name: str, tmp_path: Path) -> None:
    plan = build_plan(composed(tmp_path, f"tracking={name}"))
    assert plan.tracking.enabled == (plan.tracking.uri is not None)


@pytest.mark.parametrize("name", options("experiment"))
def test_every_experiment_composes(name: str, tmp_path: Path) -> None:
    cfg = composed(tmp_path, f"+experiment={name}")
    if OmegaConf.is_missing(cfg.corpus, "path"):  # a corpus the user brings: its path is theirs
        with pytest.raises(ConfigError, match=r"corpus\.path is required"):
            build_plan(cfg)
        cfg = composed(tmp_path, f"+experiment={name}", f"corpus.path={tmp_path / 'data'}")
    build(build_plan(cfg).policy)


def test_train_config_composes(tmp_path: Path) -> None:
    plan = build_plan(composed(tmp_path, name="train"))
    assert plan.train_split != plan.split


@pytest.mark.parametrize("name", options("protocol"))
def test_every_protocol_config_composes(name: str, tmp_path: Path) -> None:
    plan = build_plan(composed(tmp_path, f"protocol={name}"))
    if plan.protocol is None:
        assert name == "none"
    else:
        assert build(plan.protocol).name == name


@pytest.mark.parametrize(
    ("launcher", "target"),
    [
        ("ray", "hydra_plugins.hydra_ray_launcher.ray_launcher.RayLauncher"),
        ("submitit_slurm", "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher"),
        ("submitit_local", "hydra_plugins.hydra_submitit_launcher.submitit_launcher.LocalLauncher"),
    ],
)
def test_the_cluster_launchers_compose(
    launcher: str, target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import benchmarks.cli  # noqa: F401  (registers gb.job_env)
    from benchmarks.cli import LAUNCH_ENV

    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://user:pw@mlflow.internal:5000")
    monkeypatch.delenv(LAUNCH_ENV, raising=False)  # resolving sets it: undone after the test
    with initialize_config_module("configs", version_base="1.3"):
        cfg = compose(
            "groombench",
            overrides=[f"paths.root={tmp_path}", f"hydra/launcher={launcher}"],
            return_hydra_config=True,
        )
    assert cfg.hydra.launcher._target_ == target
    if launcher == "ray":
        env = OmegaConf.to_container(cfg.hydra.launcher.ray.init.runtime_env, resolve=True)
        assert isinstance(env, dict)
        # What a cluster's worker needs to write into this sweep, and no credential.
        assert env["env_vars"]["GROOMBENCH_HOME"] == str(tmp_path)
        assert env["env_vars"][LAUNCH_ENV]
        assert "MLFLOW_TRACKING_URI" not in env["env_vars"]
