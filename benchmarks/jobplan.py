"""The typed job plan: the composed Hydra config, read once, validated, frozen.

The command-line layer (:mod:`benchmarks.cli`, the Hydra callbacks) turns the composed
``DictConfig`` into a :class:`JobPlan` with :func:`build_plan`; everything below takes the
plan's values, never a ``DictConfig``, so no function deep in the harness reads an arbitrary
config key. Data flows one way: corpus → runner → traces → policy → metrics → audit → result
→ trackers and report.

What :func:`build_plan` does, once:

1. makes ``paths.*`` absolute (before anything that interpolates them is resolved);
2. registers the names of the environment variables the config reads, so that everything
   written afterwards redacts their values;
3. resolves the config and removes secrets from a public copy (``config.yaml``, MLflow params);
4. parses each section into a frozen value, raising :class:`~benchmarks.errors.ConfigError`
   with the key to change.

Components (corpus, detector, policy, protocol) stay as :class:`Component` values (a target and
its resolved arguments): they are instantiated by :func:`benchmarks.components.build`, the one
place that calls ``hydra.utils.instantiate``.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import MissingMandatoryValue

from benchmarks.audit.claims.claim import Claim, load_claim, validate_split, validate_unit
from benchmarks.audit.settings import AuditSettings
from benchmarks.backend import EXECUTION_KEYS, Backend
from benchmarks.errors import ConfigError
from benchmarks.robustness.settings import PerturbSettings
from benchmarks.runner import RunnerConfig
from benchmarks.secrets import (
    REDACTED,
    SECRET_KEY,
    env_references,
    looks_like_variable,
    redact,
    register_env_names,
    scrub,
    secret_values,
)

#: Units a claim can be audited at today. Author- and message-level claims need per-author and
#: per-message decisions that the audit does not derive yet: they are refused with the reason.
AUDITABLE_UNITS = frozenset({"conversation"})
TRAIN_MODES = ("auto", "never")


def _plain(data: Any) -> Any:
    """A deep copy of plain data (dicts, lists, scalars)."""
    return copy.deepcopy(data)


@dataclass(frozen=True)
class Component:
    """A swappable part: its ``_target_`` and its resolved constructor arguments.

    The arguments are kept read-only; :meth:`arguments` hands out a fresh plain copy.

    Examples:
        >>> c = Component.of({"_target_": "benchmarks.policies.ThresholdPolicy", "threshold": 0.7})
        >>> c.target, c.arguments(), c.get("threshold")
        ('benchmarks.policies.ThresholdPolicy', {'threshold': 0.7}, 0.7)
    """

    target: str
    _arguments: Mapping[str, Any] = field(repr=False)

    @classmethod
    def of(cls, node: Mapping[str, Any] | DictConfig) -> Component:
        """Build from a config node (resolved) or a plain mapping holding ``_target_``."""
        data = OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else node
        if not isinstance(data, Mapping) or "_target_" not in data:
            raise ConfigError(f"a component needs a _target_, got {sorted(data or {})}")
        arguments = {str(k): _plain(v) for k, v in data.items() if k != "_target_"}
        return cls(str(data["_target_"]), MappingProxyType(arguments))

    def arguments(self, drop: Sequence[str] = ()) -> dict[str, Any]:
        """The constructor arguments as a fresh plain dict, without ``drop`` keys."""
        return {k: _plain(v) for k, v in self._arguments.items() if k not in drop}

    def get(self, key: str, default: Any = None) -> Any:
        """One argument (a copy), or ``default``."""
        return _plain(self._arguments.get(key, default))


@dataclass(frozen=True)
class Paths:
    """Absolute folders of the run root (``paths.*``)."""

    root: Path
    models: Path
    cache: Path


@dataclass(frozen=True)
class Tracking:
    """Where and how results are logged (``tracking.*``).

    Attributes:
        enabled: log to MLflow at all.
        uri: the absolute tracking URI (config, then ``MLFLOW_TRACKING_URI``, then SQLite under
            the run root); None when tracking is off.
        experiment: the evaluations' experiment.
        train_experiment: the trainings' experiment.
        register_as: the registered-model name template, or None (log, don't register).
        log_models: upload trained models' folders: ``auto``, ``always`` or ``never``.
    """

    enabled: bool
    uri: str | None
    experiment: str
    train_experiment: str
    register_as: str | None
    log_models: str


@dataclass(frozen=True)
class JobPlan:
    """Everything one ``groombench`` (or ``-train``, ``-prepare``) job needs, checked once.

    Attributes:
        split: the scored split.
        train_split: the split trainable detectors learn from (never the scored one).
        train: ``auto`` (train a missing model) or ``never``.
        allow_leakage: score a split the detector learned from (flagged LEAKAGE).
        latency_p: the latency-weighted F1's p, or None for the median rule.
        seed: the job's seed.
        paths: absolute run-root folders.
        corpus, detector, policy: the components.
        train_corpus: the corpus trainable detectors learn from when it is not the scored one
            (the scored corpus's ``train_on``: GroomCheck trains on the synthetic corpus), or
            None.
        protocol: the official protocol's component, or None.
        runner: how conversations are streamed.
        backend: where they are scored (``runner.backend``: this process, or shards on Ray).
        audit: how the run is audited.
        claim: the claim declared before the run, or None.
        perturb: the robustness run's settings (``perturb=``; no families = none).
        tracking: MLflow settings.
        detector_choice: the detector's config name as the user chose it (for commands in
            error messages).
        task_overrides: the command line's overrides (to suggest a training command).
        command: the command line as typed, secrets masked (for the report's reproduction).
        config_text: the resolved config without secrets, as YAML (``config.yaml``).
    """

    split: str
    train_split: str
    train: str
    allow_leakage: bool
    latency_p: float | None
    seed: int
    paths: Paths
    corpus: Component
    detector: Component
    policy: Component
    protocol: Component | None
    runner: RunnerConfig
    audit: AuditSettings
    claim: Claim | None
    tracking: Tracking
    detector_choice: str
    task_overrides: tuple[str, ...]
    command: str
    config_text: str
    _public: Mapping[str, Any] = field(repr=False)
    train_corpus: Component | None = None
    perturb: PerturbSettings = field(default_factory=lambda: PerturbSettings())
    backend: Backend = field(default_factory=Backend)

    def scoring_config_text(self) -> str:
        """The config as YAML without where it ran (``runner.backend``, ``runner.ray``).

        What the reliability section hashes: the same settings scored on one machine or on a
        Ray cluster give the same numbers, and so the same hash.
        """
        data = _plain(dict(self._public))
        runner = data.get("runner")
        if isinstance(runner, dict):
            for key in EXECUTION_KEYS:
                runner.pop(key, None)
        return str(OmegaConf.to_yaml(OmegaConf.create(data)))

    def public_config(self) -> dict[str, Any]:
        """The resolved config without secrets, as plain data (MLflow params)."""
        return {str(k): _plain(v) for k, v in self._public.items()}

    def public_section(self, name: str, drop: Sequence[str] = ("_target_",)) -> dict[str, Any]:
        """One public section (e.g. the detector's settings for ``results.json``)."""
        section = self._public.get(name) or {}
        return {str(k): _plain(v) for k, v in section.items() if k not in drop}


def paths_of(cfg: DictConfig) -> Paths:
    """The run root's folders, made absolute (relative to the current directory)."""
    try:
        node = cfg.paths
        folders = {
            k: Path(str(node[k])).expanduser().resolve() for k in ("root", "models", "cache")
        }
    except Exception as error:  # a missing key or a failed interpolation
        raise ConfigError(f"paths: {error}") from None
    return Paths(**folders)


def tracking_of(cfg: DictConfig, paths: Paths) -> Tracking:
    """The ``tracking`` section, with its URI made absolute when tracking is on."""
    from benchmarks.model_registry import DEFAULT_REGISTER_AS, logs_model
    from benchmarks.tracking import resolve_uri

    node = cfg.get("tracking") or {}
    enabled = bool(node.get("enabled", False))
    experiment = str(node.get("experiment", "groombench"))
    log_models = str(node.get("log_models", "auto"))
    logs_model(log_models, holds_text=True)  # refuses an unknown mode, in its words
    register_as = node.get("register_as", DEFAULT_REGISTER_AS)
    return Tracking(
        enabled=enabled,
        uri=resolve_uri(node.get("uri"), paths.root) if enabled else None,
        experiment=experiment,
        train_experiment=str(node.get("train_experiment") or f"{experiment}-train"),
        register_as=None if register_as is None else str(register_as),
        log_models=log_models,
    )


def audit_of(data: Mapping[str, Any] | None, seed: int) -> AuditSettings:
    """The ``audit`` section (defaults when absent); unknown keys are refused."""
    try:
        return AuditSettings.from_config(
            {str(k): v for k, v in (data or {}).items()}, seed=int(seed)
        )
    except (TypeError, ValueError) as error:
        raise ConfigError(f"audit: {error}") from None


def perturb_of(data: Mapping[str, Any] | None, seed: int) -> PerturbSettings:
    """The ``perturb`` section (none when absent); a bad setting names its key."""
    try:
        return PerturbSettings.from_config(
            {str(k): v for k, v in (data or {}).items()}, seed=int(seed)
        )
    except (TypeError, ValueError) as error:
        raise ConfigError(f"perturb: {error}") from None


def claim_from(data: Mapping[str, Any] | None, split: str) -> Claim | None:
    """The claim declared in the config (``claim=<name>``), validated, or None."""
    claim = load_claim({str(k): v for k, v in (data or {}).items()})
    if claim is None:
        return None
    if claim.unit not in AUDITABLE_UNITS:
        validate_unit(claim, AUDITABLE_UNITS)
    validate_split(claim, split)
    return claim


def public_arg(arg: str, values: set[str] | None = None) -> str:
    """One command-line argument with what may be secret masked.

    Secret-named overrides (``+detector.api_key=...``), a key typed into a ``..._env``
    setting (which must name a variable), secret values, URL passwords and query keys, and
    secret-named keys of inline mappings are masked.

    Examples:
        >>> public_arg("+detector.api_key=sk-123456"), public_arg("detector.api_key_env=sk-live-1")
        ('+detector.api_key=***', 'detector.api_key_env=***')
        >>> public_arg("split=test")
        'split=test'
    """
    key, sep, value = arg.partition("=")
    name = key.lstrip("+~").rsplit(".", 1)[-1]
    bare = value.strip("'\"")
    typed_key = name.endswith("_env") and bare not in ("", "null") and not looks_like_variable(bare)
    if sep and (SECRET_KEY.search(name) or typed_key):
        return f"{key}={REDACTED}"
    return redact(arg, secret_values() if values is None else values)


def public_command(argv: Sequence[str]) -> str:
    """The command line as typed, with what may be secret masked (:func:`public_arg`).

    Examples:
        >>> public_command(["groombench", "detector=http", "+detector.api_key=sk-123456"])
        'groombench detector=http +detector.api_key=***'
    """
    values = secret_values()
    return " ".join(public_arg(arg, values) for arg in argv)


_VALUE_FLAGS = frozenset({"--config-dir", "-cd", "--config-path", "-cp", "--config-name", "-cn"})


def job_command(args: Sequence[str], task_overrides: Sequence[str]) -> list[str]:
    """The arguments that rerun this one job: the command's config flags, the job's overrides.

    A sweep's job was launched by ``detector=lexicon,tfidf_lr``; its own command names only
    its detector. Without Hydra's record of the job (a plan built in Python) the command line
    is kept as typed.

    Examples:
        >>> job_command(["-cd", "my", "detector=lexicon,tfidf_lr", "-m"],
        ...             ["detector=tfidf_lr"])
        ['-cd', 'my', 'detector=tfidf_lr']
        >>> job_command(["detector=lexicon"], [])
        ['detector=lexicon']
    """
    if not task_overrides:
        return list(args)
    kept: list[str] = []
    take_value = False
    for arg in args:
        if take_value:
            kept.append(arg)
            take_value = False
        elif arg.split("=", 1)[0] in _VALUE_FLAGS:
            kept.append(arg)
            take_value = "=" not in arg
    return [*kept, *task_overrides]


def _job_config(cfg: DictConfig, paths: Paths) -> DictConfig:
    """A copy without Hydra's own node, its paths made absolute."""
    data = OmegaConf.masked_copy(cfg, [str(k) for k in cfg if k != "hydra"])
    data.paths.root, data.paths.models, data.paths.cache = (
        str(paths.root),
        str(paths.models),
        str(paths.cache),
    )
    return data


def build_plan(
    cfg: DictConfig,
    *,
    detector_choice: str | None = None,
    task_overrides: Sequence[str] = (),
    argv: Sequence[str] | None = None,
) -> JobPlan:
    """Read the composed config once: validate it and return the frozen plan.

    Args:
        cfg: the composed config (a job's, or the sweep's base config in a callback).
        detector_choice: the detector's config name as chosen (Hydra's runtime choice).
        task_overrides: the command line's overrides.
        argv: the command line (default ``sys.argv``), for the report's reproduction.

    Raises:
        ConfigError: a setting that must change, saying which key.
    """
    paths = paths_of(cfg)
    job = _job_config(cfg, paths)
    # Everything written from here on (error details too) redacts what the config reads from
    # the environment.
    register_env_names(env_references(OmegaConf.to_container(job, resolve=False)))
    try:
        data: Any = OmegaConf.to_container(job, resolve=True, throw_on_missing=True)
    except MissingMandatoryValue as error:
        key = error.full_key or "a setting"
        raise ConfigError(
            f"{key} is required and has no value: add {key}=<value> to the command "
            "(e.g. corpus.path=/abs/path for your own corpus file)"
        ) from None
    except Exception as error:  # a failed interpolation
        raise ConfigError(f"config: {error}") from None
    public = scrub(_plain(data), secret_values())
    split, train_split = str(data.get("split", "test")), str(data.get("train_split", "train"))
    train = str(data.get("train", "auto"))
    if train not in TRAIN_MODES:
        raise ConfigError(f"train must be one of {', '.join(TRAIN_MODES)}, got {train!r}")
    latency_p = data.get("latency_p")
    seed = int(data.get("seed", 0))
    protocol = data.get("protocol") or {}
    protocol_name = str(protocol.get("name", "none"))
    if protocol_name not in ("none", "pan12"):
        raise ConfigError(f"unknown protocol '{protocol_name}'; choose none or pan12")
    runner_node = dict(data.get("runner") or {})
    try:
        backend = Backend.of(runner_node)
        runner = RunnerConfig(**{k: v for k, v in runner_node.items() if k not in EXECUTION_KEYS})
    except (TypeError, ValueError) as error:
        raise ConfigError(f"runner: {error}") from None
    claim = claim_from(data.get("claim"), split)
    if claim is not None and runner.causality == "auto":
        # An audit of a declared claim is causal by construction, whoever wrote the detector.
        runner = replace(runner, causality="strict")
    detector = Component.of(data["detector"])
    corpus_node = dict(data["corpus"] or {})
    train_on = corpus_node.pop("train_on", None)
    head = job_command((sys.argv if argv is None else list(argv))[1:], task_overrides)
    return JobPlan(
        split=split,
        train_split=train_split,
        train=train,
        allow_leakage=bool(data.get("allow_leakage", False)),
        latency_p=None if latency_p is None else float(latency_p),
        seed=seed,
        paths=paths,
        corpus=Component.of(corpus_node),
        train_corpus=None if not train_on else Component.of(train_on),
        perturb=perturb_of(data.get("perturb"), seed),
        detector=detector,
        policy=Component.of(data["policy"]),
        protocol=None if protocol_name == "none" else Component.of(protocol),
        runner=runner,
        backend=backend,
        audit=audit_of(data.get("audit"), seed),
        claim=claim,
        tracking=tracking_of(cfg, paths),
        detector_choice=detector_choice or str(detector.get("name") or "<detector>"),
        task_overrides=tuple(task_overrides),
        command=public_command(["groombench", *head]),
        config_text=OmegaConf.to_yaml(OmegaConf.create(public)),
        _public=MappingProxyType(public),
    )
