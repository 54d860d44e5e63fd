"""The Ray backend (``runner.backend=ray``): shard workers as Ray actors, one driver.

The driver cuts the split into shards by a hash of each conversation's id, starts one actor
per worker (each builds the detector once, from a :class:`~benchmarks.scaleout.recipe.
DetectorRecipe`, and may reserve GPUs), hands shards to whichever actor is free, writes each
finished shard atomically to the shard store and shows one progress bar for all of them. When
every shard is in, it merges them (every conversation exactly once, corpus order) and the job
goes on as for the local backend: metrics, intervals, report and the single MLflow log all come
from the driver. A failed shard stops new work; the shards that finished are kept, and the same
command resumes from them.

Without ``runner.ray.address`` a local Ray is started for this run only, on this machine's
cores, with every server bound to 127.0.0.1 (Ray's ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``
keeps a one-machine Ray on loopback), and shut down after.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pyarrow as pa
from datasets import Dataset
from tqdm.auto import tqdm

from benchmarks.backend import RaySettings
from benchmarks.runner import COLUMNS, RunnerConfig, causality_picks, dataset_ids, run
from benchmarks.scaleout.recipe import DetectorRecipe
from benchmarks.scaleout.shards import ShardStore, assign, merge, store_key
from benchmarks.traces import Traces

log = logging.getLogger(__name__)

#: Ray's switch that keeps a one-machine Ray on 127.0.0.1 (read when ray is first imported).
LOOPBACK_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


class ShardFailed(RuntimeError):
    """A shard could not be scored; the finished ones are kept for a resume."""


@dataclass(frozen=True, eq=False)
class Scored:
    """The merged traces, and what the workers spent scoring them in this run.

    Attributes:
        traces: every conversation's trace, in corpus order.
        usage: the workers' usage counters added up over the shards scored in this run; the
            shards reused from an earlier run add only their ``cost_total`` (what their inputs
            cost when they were bought), as a resumed local run's cache hits would.
        shards: what the driver recorded of each shard scored in this run (node, process,
            conversations, start and end).
    """

    traces: Traces
    usage: dict[str, float] = field(default_factory=dict)
    shards: list[dict[str, Any]] = field(default_factory=list)

    @property
    def scoring_seconds(self) -> float:
        """From the first shard's start to the last one's end, on the workers' clocks (0 when
        every shard was reused): the scoring time, without Ray's start or the detector's load."""
        if not self.shards:
            return 0.0
        finished = max(float(s["finished"]) for s in self.shards)
        return finished - min(float(s["started"]) for s in self.shards)


@contextmanager
def _connected(settings: RaySettings) -> Iterator[Any]:
    """Ray, connected to ``runner.ray.address`` (or a local Ray started for this run only)."""
    if settings.address is None:
        # Must be set before Ray is imported: its constants are read at import time.
        os.environ.setdefault(LOOPBACK_ENV, "0")
    try:
        import ray
    except ModuleNotFoundError:
        from benchmarks.errors import ConfigError

        raise ConfigError(
            "runner.backend=ray needs Ray, which is not installed: pip install -e '.[ray]'"
        ) from None
    if ray.is_initialized():  # a caller's Ray (a notebook, a test): joined, left running
        yield ray
        return
    options: dict[str, Any] = {
        "include_dashboard": False,
        "log_to_driver": True,
        "configure_logging": False,
    }
    ray.init(address=settings.address, **options)
    try:
        yield ray
    finally:
        ray.shutdown()


def worker_count(ray: Any, settings: RaySettings) -> int:
    """``runner.ray.workers``, or as many as the cluster's CPUs allow."""
    if settings.workers is not None:
        return settings.workers
    cpus = float(ray.cluster_resources().get("CPU", 1.0))
    return max(1, int(cpus // settings.cpus_per_worker))


def _actor_classes(ray: Any) -> tuple[Any, Any]:
    @ray.remote(num_cpus=0)
    class Progress:  # one counter that every shard reports its batches to
        def __init__(self) -> None:
            self.done = 0

        def add(self, n: int) -> None:
            self.done += n

        def value(self) -> int:
            return self.done

    @ray.remote
    class ShardWorker:
        """Loads the detector once; scores the shards it is handed."""

        def __init__(self, recipe: DetectorRecipe) -> None:
            logging.basicConfig(level=logging.WARNING)
            self.recipe = recipe
            self.detector = recipe()

        def score(
            self,
            index: int,
            table: pa.Table,
            config: RunnerConfig,
            picks: frozenset[str],
            progress: Any,
        ) -> tuple[int, Traces, dict[str, Any]]:
            started, wall = time.perf_counter(), time.time()
            spent_before = dict(self.detector.usage())
            traces = run(
                self.detector,
                table,
                config,
                fresh=self.recipe,
                picks=picks,
                on_batch=lambda n: progress.add.remote(n),
            )
            info = {
                "node": ray.get_runtime_context().get_node_id(),
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "conversations": table.num_rows,
                "seconds": round(time.perf_counter() - started, 3),
                "started": wall,
                "finished": time.time(),
                # What this shard spent (requests, calls, cost ...): the driver adds them up.
                "usage": {
                    k: float(v) - float(spent_before.get(k, 0.0))
                    for k, v in self.detector.usage().items()
                },
            }
            return index, traces, info

    return Progress, ShardWorker


def score_on_ray(
    recipe: DetectorRecipe,
    dataset: Dataset,
    config: RunnerConfig,
    settings: RaySettings,
    *,
    store_root: Path | None,
    identity: Mapping[str, Any],
) -> Scored:
    """Score ``dataset`` in shards on Ray; return the merged traces (corpus order) and usage.

    Args:
        recipe: builds the detector in each worker.
        dataset: the split.
        config: the runner's settings (batch size, checkpoints, causality mode, sample).
        settings: ``runner.ray.*``.
        store_root: where finished shards are kept (``<paths.cache>/shards``); None keeps them
            in memory only (no resume).
        identity: everything the scores depend on but the number of shards (the shard store's
            key; see :func:`benchmarks.scaleout.shards.store_key`).

    Raises:
        ShardFailed: a shard could not be scored (the finished ones are kept).
        MergeError: the shards do not cover the split exactly once.
        CausalityError: a re-checked score moved (fast mode).
    """
    with _connected(settings) as ray:
        workers = worker_count(ray, settings)
        n_shards = settings.shards or workers
        ids = dataset_ids(dataset)
        parts = assign(ids, n_shards)
        store = (
            None
            if store_root is None
            else ShardStore(store_root / store_key({**identity, "n_shards": n_shards}), n_shards)
        )
        done: dict[int, Traces] = {}
        usage: dict[str, float] = {}
        infos: list[dict[str, Any]] = []
        if store is not None and settings.resume:
            for index in store.finished():
                done[index], info = store.read(index)
                bought = info.get("usage", {}).get("cost_total")
                if bought is not None:
                    usage["cost_total"] = usage.get("cost_total", 0.0) + float(bought)
            if done:
                log.warning(
                    "resuming: %d of %d shard(s) (%d conversations) already scored in %s",
                    len(done),
                    n_shards,
                    sum(len(t) for t in done.values()),
                    store.folder,
                )
        todo = [i for i in range(n_shards) if i not in done and parts[i]]
        for index in range(n_shards):
            if not parts[index] and index not in done:
                done[index] = Traces.from_rows([], causality={})
        if todo:
            table = _columns(dataset)
            picks = causality_picks(ids, config)
            shard_config = replace(config, progress=False, allow_unverified=True, max_unchecked=1.0)
            _run_shards(
                ray,
                recipe,
                table,
                parts,
                todo,
                shard_config,
                picks,
                settings,
                store,
                done,
                total=len(ids),
                show=config.progress,
                workers=workers,
                usage=usage,
                infos=infos,
            )
        shards = [done[i] for i in range(n_shards)]
        traces = merge(
            shards,
            ids,
            max_unchecked=config.max_unchecked,
            allow_unverified=config.allow_unverified,
        )
        if infos:
            log.info(
                "scored %d shard(s) on %d node(s) in %.1f s",
                len(infos),
                len({i["node"] for i in infos}),
                max(i["finished"] for i in infos) - min(i["started"] for i in infos),
            )
        return Scored(traces, usage, infos)


def _columns(dataset: Dataset) -> pa.Table:
    """The runner's columns of the split as one Arrow table (row order = split order)."""
    table = dataset.select_columns(list(COLUMNS)).with_format("arrow")[:]
    assert isinstance(table, pa.Table)
    return table


def _run_shards(
    ray: Any,
    recipe: DetectorRecipe,
    table: pa.Table,
    parts: Sequence[Sequence[int]],
    todo: list[int],
    config: RunnerConfig,
    picks: frozenset[str],
    settings: RaySettings,
    store: ShardStore | None,
    done: dict[int, Traces],
    *,
    total: int,
    show: bool,
    workers: int,
    usage: dict[str, float],
    infos: list[dict[str, Any]],
) -> None:
    progress_cls, worker_cls = _actor_classes(ray)
    progress = progress_cls.remote()
    actors = [
        worker_cls.options(
            num_cpus=settings.cpus_per_worker, num_gpus=settings.gpus_per_worker
        ).remote(recipe)
        for _ in range(min(workers, len(todo)))
    ]
    queue = list(todo)
    running: dict[Any, tuple[int, Any]] = {}
    failures: list[tuple[int, BaseException]] = []
    initial = sum(len(parts[i]) for i in done)
    bar = tqdm(
        total=total,
        initial=initial,
        desc=f"scoring on Ray ({len(actors)} workers, {len(parts)} shards)",
        unit="conv",
        disable=not show,
        leave=False,
    )
    shown = 0

    def submit(actor: Any) -> None:
        index = queue.pop(0)
        shard = ray.put(table.take(pa.array(parts[index], type=pa.int64())))
        running[actor.score.remote(index, shard, config, picks, progress)] = (index, actor)

    try:
        for actor in actors:
            if queue:
                submit(actor)
        while running:
            ready, _ = ray.wait(list(running), num_returns=1, timeout=0.5)
            now = int(ray.get(progress.value.remote()))
            bar.update(now - shown)
            shown = now
            for ref in ready:
                index, actor = running.pop(ref)
                try:
                    _, traces, info = ray.get(ref)
                except Exception as error:  # the shard (or its worker) failed
                    failures.append((index, _cause(error)))
                    continue
                if store is not None:
                    store.write(index, traces, info)
                done[index] = traces
                infos.append({"index": index, **info})
                for key, value in info.get("usage", {}).items():
                    usage[key] = usage.get(key, 0.0) + value
                if queue and not failures:
                    submit(actor)
    finally:
        bar.close()
        for actor in actors:
            ray.kill(actor)
    if failures:
        index, first = failures[0]
        from benchmarks.causality import CausalityError

        if isinstance(first, CausalityError):
            raise first
        kept = f"; the {len(done)} finished shard(s) are kept in {store.folder}" if store else ""
        raise ShardFailed(
            f"shard {index} of {len(parts)} failed ({type(first).__name__}: "
            f"{str(first)[:300]}){kept}: run the same command again to resume from them"
        ) from first


def _cause(error: BaseException) -> BaseException:
    """The exception a worker raised, unwrapped from Ray's task error."""
    cause = getattr(error, "cause", None)
    return cause if isinstance(cause, BaseException) else error
