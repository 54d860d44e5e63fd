"""The bootstrap engine: classes of identical clusters, exact draws, resamples and jackknife.

Each cluster is the sum of its conversations' statistics (a sparse row of the columns that
:mod:`benchmarks.audit.stats.bootstrap_view` lays out). Clusters with identical rows are merged into
classes (:func:`_classes`), a resample is a vector of class counts drawn exactly as K cluster
draws with replacement (:meth:`_Engine.draw`), and its statistics are one sparse product.
:func:`_prepare` checks the engine against :func:`benchmarks.metrics.compute_metrics` on the
full data; :func:`_resample` and :func:`_jackknife` give the values the intervals rest on.
Why it is built this way: :mod:`benchmarks.audit.stats.bootstrap`.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from benchmarks.audit.stats.bootstrap_view import (
    _BINNED,
    FloatArray,
    IntArray,
    _build_view,
    _View,
    _view_metrics,
)
from benchmarks.metrics.outcomes import Outcomes
from benchmarks.metrics.suite import compute_metrics
from benchmarks.progress import bar

ArrayLikeInt = NDArray[np.integer[Any]] | Sequence[int]

#: Resamples per chunk. Fixed (never derived from the thread count) so that a seed gives the
#: same draws on any machine: chunk i always uses child generator i.
CHUNK = 64

#: Classes with at least this many clusters are drawn by conditional binomials (about 80 ns
#: each); smaller ones by uniform cluster-slot draws (about 6 ns per cluster). Measured on the
#: PAN12-scale benchmark: 8, 16 and 32 are within 10% of each other; 256 is 40% slower.
LARGE_CLASS = 16

# float32 holds every integer below 2**24 exactly.
_FLOAT32_EXACT = 2**24


class _Settings(Protocol):
    """What the engine reads from :class:`benchmarks.audit.stats.bootstrap.BootstrapSettings`."""

    @property
    def n_resamples(self) -> int: ...

    @property
    def seed(self) -> int: ...

    @property
    def method(self) -> str: ...

    @property
    def score_bins(self) -> int | None: ...

    @property
    def workers(self) -> int | None: ...


# --------------------------------------------------------------------------------------------
# Clusters, classes of identical clusters, drawing class counts


@dataclass(frozen=True)
class _Engine:
    """Class matrix and sampler; ``evaluate`` maps class counts (m × C) to metric values."""

    views: tuple[_View, ...]
    matrix_t: Any  # scipy CSR (D, C): the statistics of one cluster of each class
    sizes: IntArray  # clusters per class
    cluster_class: IntArray  # class of each cluster
    cluster_names: NDArray[np.str_]  # cluster id of each cluster (sorted)
    cluster_sizes: IntArray  # conversations per cluster
    n_single: int  # classes 0 .. n_single − 1 hold one cluster each
    multi_slots: IntArray  # one entry per cluster of a small class of 2+ clusters: its class
    large_p: FloatArray  # the last len(large_p) classes: drawn by conditional binomials

    @property
    def n_classes(self) -> int:
        return len(self.sizes)

    @property
    def n_clusters(self) -> int:
        return int(self.sizes.sum())

    def statistics(self, counts: NDArray[Any]) -> FloatArray:
        """Statistics (m × D) of each row of class counts (m × C).

        The sparse product runs on the transposed counts (scipy multiplies a CSR matrix by
        contiguous columns); in float32 when exact (see :func:`_build_engine`), ~3× faster.
        """
        columns = np.ascontiguousarray(counts.T, dtype=self.matrix_t.dtype)
        stats: FloatArray = np.ascontiguousarray((self.matrix_t @ columns).T, dtype=np.float64)
        return stats

    def evaluate(self, counts: NDArray[Any]) -> list[dict[str, FloatArray]]:
        """Metric values per view for each row of class counts (m × C)."""
        stats = self.statistics(counts)
        return [_view_metrics(view, stats) for view in self.views]

    def evaluate_clusters(self, cluster_counts: ArrayLikeInt) -> list[dict[str, FloatArray]]:
        """Metric values for explicit per-cluster counts (K,) or (m × K): the exactness hook.

        Cluster i is ``cluster_names[i]``; the values must equal ``compute_metrics`` on the
        outcomes in which cluster i's conversations appear ``cluster_counts[..., i]`` times.
        """
        counts = np.atleast_2d(np.asarray(cluster_counts, dtype=np.float64))
        by_class = np.zeros((counts.shape[0], self.n_classes))
        np.add.at(by_class.T, self.cluster_class, counts.T)
        return self.evaluate(by_class)

    def draw(self, rng: np.random.Generator, m: int) -> IntArray:
        """Class counts (m × C) of m resamples of K clusters drawn with replacement.

        Exactly multinomial, in three parts. How many of the K draws land in singleton
        classes, in small classes and in large classes is multinomial (3 categories). Draws
        into small classes are uniform over their clusters ("slots"), a singleton's slot
        being its class; all are counted with one bincount whose keys run resample by
        resample (cache-friendly). Draws into large classes are multinomial in proportion to
        their sizes (numpy's conditional binomials: one per class, not one per cluster).
        """
        k, n_classes = self.n_clusters, self.n_classes
        n_multi, n_large = len(self.multi_slots), len(self.large_p)
        n_large_clusters = k - self.n_single - n_multi
        split = rng.multinomial(k, [self.n_single / k, n_multi / k, n_large_clusters / k], m)
        offsets = np.arange(m, dtype=np.int64) * n_classes
        keys = np.empty(int(split[:, :2].sum()), dtype=np.int64)
        n1 = int(split[:, 0].sum())
        if self.n_single:
            keys[:n1] = rng.integers(0, self.n_single, size=n1)
            keys[:n1] += np.repeat(offsets, split[:, 0])
        if n_multi:
            keys[n1:] = self.multi_slots[rng.integers(0, n_multi, size=len(keys) - n1)]
            keys[n1:] += np.repeat(offsets, split[:, 1])
        counts = np.bincount(keys, minlength=m * n_classes).reshape(m, n_classes)
        if n_large:
            counts[:, n_classes - n_large :] = rng.multinomial(split[:, 2], self.large_p)
        return counts


def _row_hashes(matrix: Any) -> FloatArray:
    """Two random projections of each cluster's statistics row: equal rows, equal hashes."""
    rng = np.random.default_rng(20_261_104)  # fixed: the hash is an implementation detail
    hashes: FloatArray = np.asarray(matrix @ rng.standard_normal((matrix.shape[1], 2)))
    return hashes


def _classes(matrix: Any) -> tuple[IntArray, IntArray]:
    """Group identical rows of a canonical CSR matrix: (representative row per class, class
    of each row).

    Rows are grouped by hash and the grouping is verified exactly; on a collision (two
    different rows, one hash) an exact but slower grouping by the rows' bytes is used.
    """
    _, representative, inverse = np.unique(
        _row_hashes(matrix), axis=0, return_index=True, return_inverse=True
    )
    inverse = inverse.reshape(-1)
    if (matrix - matrix[representative[inverse]]).count_nonzero() == 0:
        return representative.astype(np.int64), inverse.astype(np.int64)
    keys: dict[bytes, int] = {}
    first: list[int] = []
    classes = np.empty(matrix.shape[0], dtype=np.int64)
    for i in range(matrix.shape[0]):
        start, stop = matrix.indptr[i], matrix.indptr[i + 1]
        key = matrix.indices[start:stop].tobytes() + matrix.data[start:stop].tobytes()
        if key not in keys:
            keys[key] = len(first)
            first.append(i)
        classes[i] = keys[key]
    return np.asarray(first, dtype=np.int64), classes


def _build_engine(
    runs: Sequence[Outcomes],
    metrics: tuple[str, ...],
    *,
    latency_ps: Sequence[float | None],
    erde_c_fp: float | None,
    score_bins: int | None,
) -> _Engine:
    """Statistics of every run, summed per cluster (``runs[0].groups``), merged into classes.

    Every statistic of a resample is a count of conversations, at most K · (largest cluster);
    below 2**24 float32 holds every partial sum exactly, so the product runs in float32.
    """
    names, cluster = np.unique(runs[0].groups, return_inverse=True)
    cluster = cluster.reshape(-1)
    n_clusters = len(names)
    views: list[_View] = []
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    width = 0
    for run, p in zip(runs, latency_ps, strict=True):
        view, row, col, view_width = _build_view(
            run, metrics, latency_p=p, erde_c_fp=erde_c_fp, score_bins=score_bins, offset=width
        )
        views.append(view)
        rows.append(cluster[row])
        cols.append(col)
        width += view_width
    row, col = np.concatenate(rows), np.concatenate(cols)
    matrix = sp.csr_matrix((np.ones(len(row)), (row, col)), shape=(n_clusters, width))
    matrix.sum_duplicates()
    matrix.sort_indices()
    representative, cluster_class = _classes(matrix)
    sizes = np.bincount(cluster_class, minlength=len(representative))
    # Number the classes singletons first, then small, then large: see _Engine.draw.
    kind = np.where(sizes == 1, 0, np.where(sizes < LARGE_CLASS, 1, 2))
    order = np.lexsort((np.arange(len(sizes)), kind))
    renumber = np.empty_like(order)
    renumber[order] = np.arange(len(order))
    sizes, representative = sizes[order].astype(np.int64), representative[order]
    cluster_class = renumber[cluster_class].astype(np.int64)
    n_single = int(np.sum(kind == 0))
    multi = np.flatnonzero(kind[order] == 1)
    large = np.flatnonzero(kind[order] == 2)
    cluster_sizes = np.bincount(cluster, minlength=n_clusters).astype(np.int64)
    exact32 = n_clusters * int(cluster_sizes.max(initial=0)) < _FLOAT32_EXACT
    matrix_t = matrix[representative].T.tocsc()  # CSC: each class's column read once
    return _Engine(
        views=tuple(views),
        matrix_t=matrix_t.astype(np.float32 if exact32 else np.float64),
        sizes=sizes,
        cluster_class=cluster_class,
        cluster_names=names,
        cluster_sizes=cluster_sizes,
        n_single=n_single,
        multi_slots=np.repeat(multi, sizes[multi]).astype(np.int64),
        large_p=sizes[large] / max(1, int(sizes[large].sum())),
    )


# --------------------------------------------------------------------------------------------
# Resampling and jackknife


def _resample(engine: _Engine, settings: _Settings) -> list[dict[str, FloatArray]]:
    """Metric values of ``settings.n_resamples`` resamples, per view."""
    b = settings.n_resamples
    n_chunks = -(-b // CHUNK)
    children = np.random.default_rng(settings.seed).spawn(n_chunks)
    out = [{name: np.empty(b) for name in view.metrics} for view in engine.views]

    def run(i: int) -> None:
        start, stop = i * CHUNK, min(b, (i + 1) * CHUNK)
        values = engine.evaluate(engine.draw(children[i], stop - start))
        for target, source in zip(out, values, strict=True):
            for name, array in source.items():
                target[name][start:stop] = array

    workers = min(settings.workers or os.cpu_count() or 1, n_chunks)
    with bar(b, "bootstrap", "resample") as shown:
        if workers == 1:
            for i in range(n_chunks):
                run(i)
                shown.update(min(b, (i + 1) * CHUNK) - i * CHUNK)
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                for i, _ in enumerate(pool.map(run, range(n_chunks))):
                    shown.update(min(b, (i + 1) * CHUNK) - i * CHUNK)
    return out


def _jackknife(engine: _Engine) -> list[dict[str, FloatArray]]:
    """Metric values leaving out one cluster of each class (C values per metric and view)."""
    total = engine.statistics(engine.sizes[None, :])
    parts: list[list[dict[str, FloatArray]]] = []
    step = 1024
    for start in range(0, engine.n_classes, step):
        stop = min(engine.n_classes, start + step)
        stats = total - engine.matrix_t[:, start:stop].T.toarray()
        parts.append([_view_metrics(view, stats) for view in engine.views])
    return [
        {name: np.concatenate([part[v][name] for part in parts]) for name in view.metrics}
        for v, view in enumerate(engine.views)
    ]


# --------------------------------------------------------------------------------------------
# A whole run: the engine checked against compute_metrics, then resampled


@dataclass(frozen=True)
class _Run:
    engine: _Engine
    estimates: list[dict[str, float | None]]
    thetas: list[dict[str, float]]
    resamples: list[dict[str, FloatArray]]
    jackknife: list[dict[str, FloatArray]] | None


def _prepare(
    runs: Sequence[Outcomes],
    metrics: tuple[str, ...],
    settings: _Settings,
    latency_p: float | None,
    erde_c_fp: float | None,
) -> tuple[_Engine, list[dict[str, float | None]], list[dict[str, float]]]:
    """The engine (with AUC/AP shifts set), the exact estimates, and the engine's own values."""
    estimates = [compute_metrics(run, latency_p=latency_p, erde_c_fp=erde_c_fp) for run in runs]
    engine = _build_engine(
        runs,
        metrics,
        latency_ps=[_as_float(m["latency_p"]) for m in estimates],
        erde_c_fp=erde_c_fp,
        score_bins=settings.score_bins,
    )
    full = engine.evaluate(engine.sizes[None, :])
    views = []
    for view, values, exact in zip(engine.views, full, estimates, strict=True):
        shifts = {}
        for name in _BINNED:
            value = exact.get(name)
            if name in values and not view.score_exact and value is not None:
                shifts[name] = float(value) - float(values[name][0])
        views.append(dataclasses.replace(view, shifts=shifts))
    engine = dataclasses.replace(engine, views=tuple(views))
    full = engine.evaluate(engine.sizes[None, :])
    thetas: list[dict[str, float]] = []
    for view, values, exact in zip(engine.views, full, estimates, strict=True):
        theta = {name: float(values[name][0]) for name in view.metrics}
        for name, value in theta.items():
            expected = exact[name]
            # The engine and compute_metrics are two routes to one number: a mismatch beyond
            # rounding is a bug, and BCa's bias correction would silently absorb it.
            if expected is not None and not math.isclose(
                value, float(expected), rel_tol=1e-9, abs_tol=1e-12
            ):
                raise RuntimeError(
                    f"bootstrap engine gives {name}={value!r} on the full data but "
                    f"compute_metrics gives {expected!r}"
                )
        thetas.append(theta)
    return engine, estimates, thetas


def _run(
    runs: Sequence[Outcomes],
    metrics: tuple[str, ...],
    settings: _Settings,
    latency_p: float | None,
    erde_c_fp: float | None,
) -> _Run:
    engine, estimates, thetas = _prepare(runs, metrics, settings, latency_p, erde_c_fp)
    resamples = _resample(engine, settings)
    jackknife = _jackknife(engine) if settings.method == "bca" else None
    return _Run(engine, estimates, thetas, resamples, jackknife)


def _as_float(value: float | None) -> float | None:
    return None if value is None else float(value)
