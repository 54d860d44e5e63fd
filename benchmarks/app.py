"""What one `groombench` job does with its plan: load, train if needed, evaluate, audit, log.

The Hydra entry points in :mod:`benchmarks.cli` are thin: they turn the composed config into a
:class:`~benchmarks.jobplan.JobPlan` (:func:`~benchmarks.jobplan.build_plan`) and hand it
here; nothing in this module reads a config key. Tests build a plan from a config composed by
Hydra's compose API and call :func:`run_job` directly.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.components import build, load_corpus
from benchmarks.corpora.base import Corpus
from benchmarks.errors import ConfigError
from benchmarks.evaluation import Evaluation, evaluate_detector
from benchmarks.jobplan import JobPlan
from benchmarks.model_registry import is_registry_uri
from benchmarks.progress import step
from benchmarks.training import (
    TRAINING_IDS_FILE,
    default_model_path,
    log_models_setting,
    track_training,
    train_detector,
)
from detectors import Detector, TrainableDetector

if TYPE_CHECKING:
    from benchmarks.model_registry import ResolvedModel
    from benchmarks.reliability import Recheck

log = logging.getLogger(__name__)


def training_overrides(name: str, task: Sequence[str]) -> list[str]:
    """The overrides that make `groombench-train` train the model this run looks for."""
    keep = ("corpus", "paths", "seed", "train_split", "detector.")
    return [
        f"detector={name}",
        *(o for o in task if o.lstrip("+~").startswith(keep) and not o.startswith("detector=")),
    ]


def training_ids(
    plan: JobPlan, detector: Detector, corpus: Corpus, registered: ResolvedModel | None
) -> set[str] | None:
    """Return the conversation ids a trainable detector's saved model learned from, if known."""
    if not isinstance(detector, TrainableDetector):
        return None
    explicit = plan.detector.get("model_path")
    if registered is not None:
        folder = registered.folder
    elif explicit:
        folder = Path(str(explicit))
    else:
        folder = default_model_path(plan, detector, corpus)
    file = folder / TRAINING_IDS_FILE
    if not file.exists():
        return None
    return set(file.read_text(encoding="utf-8").split())


def resolve_registry_model(plan: JobPlan) -> ResolvedModel | None:
    """Download the registered model ``detector.model_path`` names, when it is ``models:/``.

    Returns:
        The resolved version and its local folder, which every later step loads (the plan
        keeps the URI, for provenance); None when the path is not a registry URI.
    """
    from benchmarks.model_registry import fetch_model, parse_model_uri

    explicit = plan.detector.get("model_path")
    if not is_registry_uri(explicit):
        return None
    return fetch_model(
        parse_model_uri(str(explicit)),
        models_dir=str(plan.paths.models),
        tracking_uri=plan.tracking.uri,
    )


def prepare_detector(plan: JobPlan, corpus: Corpus, registered: ResolvedModel | None) -> Detector:
    """Instantiate the detector; load or (per ``plan.train``) train a trainable one.

    A ``models:/`` model path is loaded from ``registered``, its local copy (see
    :func:`resolve_registry_model`). A model trained here is logged to MLflow when tracking is
    on (its folder too, and registered, unless the folder holds corpus text; see
    :func:`benchmarks.training.log_models_setting`).
    """
    explicit = plan.detector.get("model_path")
    if explicit and not registered and not Path(str(explicit)).expanduser().exists():
        # Never train or score something else than the model the user named.
        raise ConfigError(
            f"detector.model_path {explicit} does not exist; train a model into it with "
            f"`groombench-train detector={plan.detector_choice} "
            f"detector.model_path={explicit}`, fix the path, or drop detector.model_path to "
            "use (and train when missing) the default model for this corpus"
        )
    overrides = {"model_path": str(registered.folder)} if registered else {}
    built = build(plan.detector, **overrides)
    if not isinstance(built, Detector):
        raise TypeError(f"detector config {plan.detector.target} did not return a Detector")
    detector: Detector = built
    folder = registered.folder if registered else explicit
    unfitted = isinstance(detector, TrainableDetector) and not detector.is_fitted
    if folder and unfitted and Path(str(folder)).is_dir():
        # A detector that does not load its model_path itself: load the given folder.
        assert isinstance(detector, TrainableDetector)
        detector.load(str(folder))
    if isinstance(detector, TrainableDetector) and not detector.is_fitted:
        _train_or_load(plan, detector, corpus)
    return detector


def _train_or_load(plan: JobPlan, detector: TrainableDetector, corpus: Corpus) -> None:
    if plan.split == plan.train_split:
        raise ConfigError(
            f"split and train_split are both '{plan.split}': a detector must never be scored "
            "on the data it learned from; choose another split"
        )
    target = default_model_path(plan, detector, corpus)
    if not (target / "metadata.json").exists():
        if plan.train == "never":
            command = training_overrides(detector.metadata.name, plan.task_overrides)
            raise ConfigError(
                f"no trained model at {target} and train=never; run `groombench-train "
                f"{' '.join(command)}` or set detector.model_path"
            )
        upload = log_models_setting(plan.tracking.log_models, detector)
        with step(f"training {detector.metadata.name} on {corpus.reference(plan.train_split)}"):
            outcome = train_detector(detector, corpus, plan.train_split, target)
        if plan.tracking.enabled and outcome.saved:
            record = track_training(plan, detector, corpus, target, outcome, log_model=upload)
            log.info(
                "logged training run %s%s",
                record.run_id,
                f"; registered {record.model_uri}" if record.model_uri else "",
            )
    detector.load(str(target))


def run_job(plan: JobPlan, output_dir: str | Path) -> Evaluation:
    """Evaluate the planned detector on the planned corpus split; audit it; log it; return it."""
    from benchmarks import tracking

    Path(output_dir).mkdir(parents=True, exist_ok=True)
    (Path(output_dir) / "config.yaml").write_text(plan.config_text, encoding="utf-8")
    with step(f"loading corpus {plan.corpus.get('name') or plan.corpus.target}"):
        corpus = load_corpus(plan.corpus)
    # A test suite (GroomCheck) names the corpus its trainable detectors learn from.
    source = training_source(plan, corpus)
    # A models:/ path is loaded from its local copy from here on; the plan keeps the URI.
    registered = resolve_registry_model(plan)
    detector = prepare_detector(plan, source, registered)
    policy = build(plan.policy)
    ids = training_ids(plan, detector, source, registered)
    if plan.audit.enabled:
        from benchmarks.audit.job import check_calibration

        check_calibration(plan.split, plan.audit, plan.claim, detector, corpus, ids)
    with step(f"scoring {detector.metadata.name} on {corpus.reference(plan.split)}"):
        evaluation = evaluate_detector(
            detector,
            corpus,
            split=plan.split,
            policy=policy,
            policy_params=plan.policy.arguments(),
            runner=plan.runner,
            latency_p=plan.latency_p,
            output_dir=output_dir,
            allow_leakage=plan.allow_leakage,
            training_ids=ids,
            detector_settings=plan.public_section("detector"),
            # The fast mode's causality re-check runs on a second instance: nothing the first
            # remembered (a trace cached by conversation or by content) can be replayed.
            fresh=lambda: prepare_detector(plan, source, registered),
            train_split=plan.train_split,
            scorer=backend_scorer(plan, detector, source, corpus, registered),
        )
    recheck = start_recheck(plan, evaluation, output_dir)
    if plan.protocol is not None:
        with step(f"official protocol {plan.protocol.get('name') or ''}"):
            evaluation = run_protocol(plan, detector, corpus, evaluation, output_dir)
    evaluation = run_robustness(
        plan,
        detector,
        corpus,
        evaluation,
        policy,
        fresh=lambda: prepare_detector(plan, source, registered),
        output_dir=output_dir,
    )
    if recheck is not None:
        with step("reliability: the sample re-scored in a second process"):
            evaluation = finish_recheck(plan, detector, evaluation, recheck, output_dir)
    if plan.audit.enabled:
        from benchmarks.audit.job import AuditInputs, audit_job

        with step("audit (bootstrap intervals, report card)"):
            evaluation, _ = audit_job(
                AuditInputs(
                    settings=plan.audit,
                    claim=plan.claim,
                    split=plan.split,
                    seed=plan.seed,
                    command=plan.command,
                    config_text=plan.config_text,
                ),
                detector=detector,
                corpus=corpus,
                evaluation=evaluation,
                policy=policy,
                runner=plan.runner,
                output_dir=output_dir,
            )
    if plan.tracking.enabled:
        assert plan.tracking.uri is not None
        with step("logging to MLflow"):
            run_id = tracking.log_evaluation(
                evaluation,
                uri=plan.tracking.uri,
                experiment=plan.tracking.experiment,
                config=plan.public_config(),
                run_dir=output_dir,
                parent_run_id=os.environ.get(tracking.PARENT_RUN_ENV) or _parent_from(output_dir),
            )
        if registered is not None:
            from benchmarks.model_registry import tag_evaluation

            tag_evaluation(plan.tracking.uri, run_id, registered)
        log.info("logged MLflow run %s to %s", run_id, tracking.public_uri(plan.tracking.uri))
    return evaluation


def model_folder(
    plan: JobPlan, detector: Detector, source: Corpus, registered: ResolvedModel | None
) -> Path | None:
    """The folder the run's trainable detector loaded its model from; None for the others."""
    if not isinstance(detector, TrainableDetector):
        return None
    if registered is not None:
        return registered.folder
    explicit = plan.detector.get("model_path")
    return Path(str(explicit)) if explicit else default_model_path(plan, detector, source)


def backend_scorer(
    plan: JobPlan,
    detector: Detector,
    source: Corpus,
    corpus: Corpus,
    registered: ResolvedModel | None,
) -> Callable[[Any], Any] | None:
    """Where the split is scored: None for this process, else the Ray backend's scorer."""
    if plan.backend.name == "local":
        return None
    from dataclasses import asdict

    from benchmarks.provenance import software_versions
    from benchmarks.scaleout.ray_backend import score_on_ray
    from benchmarks.scaleout.recipe import DetectorRecipe

    folder = model_folder(plan, detector, source, registered)
    overrides = {"model_path": str(registered.folder)} if registered else {}
    recipe = DetectorRecipe(
        plan.detector.target,
        plan.detector.arguments() | overrides,
        None if folder is None else str(folder),
    )
    model_card = folder / "metadata.json" if folder else None
    identity = {
        "corpus": corpus.fingerprint,
        "split": plan.split,
        "detector": {"target": recipe.target, "arguments": plan.public_section("detector")},
        "metadata": asdict(detector.metadata),
        # A retrained model in the same folder must not be served old shards.
        "model": model_card.read_text(encoding="utf-8")
        if model_card and model_card.exists()
        else None,
        "runner": {k: v for k, v in asdict(plan.runner).items() if k != "progress"},
        # Another commit or package version may score differently: never mix their shards.
        "software": software_versions(),
    }
    return partial(
        score_on_ray,
        recipe,
        config=plan.runner,
        settings=plan.backend.ray,
        store_root=plan.paths.cache / "shards",
        identity=identity,
    )


def training_source(plan: JobPlan, corpus: Corpus) -> Corpus:
    """The corpus trainable detectors learn from: the plan's ``train_corpus``, else ``corpus``."""
    if plan.train_corpus is None:
        return corpus
    with step(f"loading training corpus {plan.train_corpus.get('name') or ''}"):
        return load_corpus(plan.train_corpus)


def run_robustness(
    plan: JobPlan,
    detector: Detector,
    corpus: Corpus,
    evaluation: Evaluation,
    policy: Any,
    *,
    fresh: Callable[[], Detector],
    output_dir: str | Path,
) -> Evaluation:
    """Re-score perturbed copies (``perturb=``) and run GroomCheck's tests; add what they found."""
    from benchmarks.robustness.suite import definitions, measure

    found = measure(
        detector,
        corpus.split(plan.split),
        evaluation.traces,
        policy,
        plan.runner,
        plan.perturb,
        fresh=fresh,
        cluster_by=plan.audit.cluster_by,
    )
    if found is None:
        return evaluation
    result = replace(
        evaluation.result,
        metrics=evaluation.result.metrics | found.metrics,
        definitions=evaluation.result.definitions | definitions(),
        robustness=found.summary,
    )
    result.save(output_dir)
    return Evaluation(result=result, traces=evaluation.traces)


def start_recheck(plan: JobPlan, evaluation: Evaluation, output_dir: str | Path) -> Recheck | None:
    """Start the reliability re-score (audit runs only); None when it is switched off."""
    if not plan.audit.enabled or plan.audit.reliability_sample <= 0:
        return None
    from benchmarks.reliability import start

    return start(
        output_dir,
        evaluation.traces.column("conversation_id"),
        n=plan.audit.reliability_sample,
        seed=plan.seed,
        batch_size=plan.runner.batch_size,
    )


def finish_recheck(
    plan: JobPlan,
    detector: Detector,
    evaluation: Evaluation,
    recheck: Recheck,
    output_dir: str | Path,
) -> Evaluation:
    """Compare the second process's scores; record them with the content hashes and seeds."""
    from benchmarks.reliability import finish, predictions_sha256, text_sha256

    found = finish(recheck, evaluation.traces, tolerance=max(detector.score_tolerance, 1e-12))
    if not found.get("checked"):
        log.warning("reliability check not done: %s", found.get("reason"))
    elif not found.get("same"):
        log.warning(
            "reliability: %d of %d re-scored conversations gave other scores (largest "
            "difference %.3g)",
            found["n_mismatched"],
            found["sample"],
            found["max_abs_diff"],
        )
    record = found | {
        "batch_size_run": plan.runner.batch_size,
        "seeds": {
            "seed": plan.seed,
            "bootstrap": plan.audit.seed,
            "perturbations": plan.perturb.seed,
            "sample": plan.seed,
        },
        "hashes": {
            "corpus_fingerprint": evaluation.result.corpus["fingerprint"],
            "predictions_sha256": predictions_sha256(evaluation.traces),
            # The settings, not where they ran: the run root is written as <root>.
            "config_sha256": text_sha256(
                plan.scoring_config_text().replace(str(plan.paths.root), "<root>")
            ),
        },
    }
    result = replace(evaluation.result, reliability=record)
    result.save(output_dir)
    return Evaluation(result=result, traces=evaluation.traces)


def plan_job(plan: JobPlan) -> str:
    """Audit plan-only mode: what the scored split can settle about the claim; no detector runs."""
    from benchmarks.audit.job import plan_text

    return plan_text(plan.claim, plan.audit, plan.split, load_corpus(plan.corpus))


def run_protocol(
    plan: JobPlan,
    detector: Detector,
    corpus: Corpus,
    evaluation: Evaluation,
    output_dir: str | Path,
) -> Evaluation:
    """Run the corpus's official protocol and add its metrics to the result."""
    from benchmarks.protocols import pan12

    assert plan.protocol is not None
    protocol = build(plan.protocol)
    extra = pan12.evaluate(detector, corpus.split(plan.split), protocol, output_dir)
    result = replace(
        evaluation.result,
        metrics=evaluation.result.metrics | extra,
        definitions=evaluation.result.definitions | pan12.DEFINITIONS,
    )
    result.save(output_dir)
    return Evaluation(result=result, traces=evaluation.traces)


def _parent_from(output_dir: str | Path) -> str | None:
    from benchmarks.tracking import PARENT_RUN_FILE

    marker = Path(output_dir).parent / PARENT_RUN_FILE
    return marker.read_text().strip() if marker.exists() else None
