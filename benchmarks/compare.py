"""Compare two or more finished runs on the same corpus split: ``groombench-compare``.

Runs are compared on the conversations every one of them scored (an error in one run removes
the conversation from every comparison, so no run is judged on easier data). For each pair:
exact McNemar on the decisions of positives (recall) and of negatives (false-positive rate), a
paired cluster bootstrap of each metric's difference (the same clusters drawn for both runs in
every resample), and DeLong's test for the two ROC-AUCs. The p-values of all comparisons are
adjusted together (Holm by default, or Benjamini–Hochberg). The result is printed and written
as a comparison report card.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np

from benchmarks.audit.card.report import ReportCard, write_report
from benchmarks.audit.comparisons.compare import (
    Comparison,
    adjust_comparisons,
    delong_test,
    format_p,
    mcnemar_exact,
)
from benchmarks.audit.stats.bootstrap import BootstrapSettings, paired_bootstrap
from benchmarks.audit.stats.clusters import CLUSTERS_FILE, read_clusters
from benchmarks.errors import ConfigError
from benchmarks.metrics import Outcomes
from benchmarks.results import RESULTS_FILE, TRACES_FILE, RunResult
from benchmarks.traces import Traces

#: Metrics whose paired differences are bootstrapped by default.
COMPARED: tuple[str, ...] = ("precision", "recall", "f1", "fpr", "ttd_median", "latency_f1")


@dataclass(frozen=True, eq=False)
class LoadedRun:
    """One finished run: its result, traces and clusters, and the name it is shown under."""

    name: str
    folder: Path
    result: RunResult
    traces: Traces
    clusters: dict[str, str] | None
    cluster_by: str


def _policy(result: RunResult) -> Any:
    """The run's alert policy, rebuilt from its config group as recorded in the result."""
    from benchmarks.recompute import compose_policy

    params = dict(result.policy.get("params") or {})
    overrides = [f"policy={result.policy['name']}", *(f"policy.{k}={v}" for k, v in params.items())]
    return compose_policy(overrides)[0]


def fetch_run(run_uri: str, tracking_uri: str, into: Path) -> Path:
    """Download a logged run's results, traces and clusters (``runs:/<run id>``) into a folder.

    The run folders groombench logs to MLflow hold those files as artifacts; any tracking
    server a team shares (PostgreSQL-backed, proxied artifacts) serves them.
    """
    import mlflow

    run_id = run_uri.removeprefix("runs:/").strip("/")
    folder = into / run_id
    folder.mkdir(parents=True, exist_ok=True)
    client = mlflow.MlflowClient(tracking_uri=tracking_uri)
    try:
        names = {f.path for f in client.list_artifacts(run_id)}
    except Exception as error:  # an unknown id or an unreachable server: one line
        raise ConfigError(f"{run_uri}: cannot read the run ({type(error).__name__})") from None
    for name in (RESULTS_FILE, TRACES_FILE, CLUSTERS_FILE):
        if name in names:
            client.download_artifacts(run_id, name, str(folder))
    if not (folder / RESULTS_FILE).exists():
        raise ConfigError(f"{run_uri}: the run has no {RESULTS_FILE}; is it a groombench run?")
    return folder


def run_folders(
    paths: Sequence[str], tracking_uri: str | None = None, into: Path | None = None
) -> list[Path]:
    """Expand the arguments: a run folder, a sweep folder holding run folders, or
    ``runs:/<run id>`` of a run logged to the tracking server (downloaded into ``into``)."""
    folders: list[Path] = []
    for raw in paths:
        if raw.startswith("runs:/"):
            if tracking_uri is None or into is None:
                raise ConfigError(f"{raw}: give --uri, the tracking server the run is on")
            folders.append(fetch_run(raw, tracking_uri, into))
            continue
        path = Path(raw).expanduser()
        if (path / RESULTS_FILE).exists():
            folders.append(path)
            continue
        found = sorted(p.parent for p in path.glob(f"*/{RESULTS_FILE}"))
        if not found:
            raise ConfigError(f"{path}: no {RESULTS_FILE} here or in its subfolders")
        folders += found
    return folders


def load_run(folder: Path) -> LoadedRun:
    """Read a run folder written by ``groombench`` (results, traces, clusters)."""
    if not (folder / TRACES_FILE).exists():
        raise ConfigError(
            f"{folder}: no {TRACES_FILE}; comparisons need the per-conversation traces"
        )
    result = RunResult.load(folder)
    clusters = read_clusters(folder / CLUSTERS_FILE)
    return LoadedRun(
        name=result.detector["name"],
        folder=folder,
        result=result,
        traces=Traces.load(folder / TRACES_FILE),
        clusters=None if clusters is None else clusters[0],
        cluster_by="conversation" if clusters is None else clusters[1],
    )


def _policy_label(run: LoadedRun) -> str:
    return str(run.result.policy.get("label", run.result.policy["name"]))


def _folder_name(run: LoadedRun) -> str:
    return run.folder.name


def named(runs: Sequence[LoadedRun]) -> list[LoadedRun]:
    """Show each run under its detector's name, with its policy (then its folder) when two
    runs would otherwise look the same."""
    out = list(runs)
    for key in (_policy_label, _folder_name):
        names = [r.name for r in out]
        out = [
            replace(r, name=f"{r.name}[{key(r)}]") if names.count(r.name) > 1 else r for r in out
        ]
    return out


def aligned_outcomes(runs: Sequence[LoadedRun]) -> list[Outcomes]:
    """Each run's outcomes on the conversations every run scored, in one order, clustered."""
    first = runs[0].result.corpus
    for run in runs[1:]:
        corpus = run.result.corpus
        if (corpus["fingerprint"], corpus["split"]) != (first["fingerprint"], first["split"]):
            raise ConfigError(
                f"{run.folder} scored {corpus['name']}:{corpus['split']} "
                f"({corpus['fingerprint'][:12]}), {runs[0].folder} scored {first['name']}:"
                f"{first['split']} ({first['fingerprint'][:12]}): only runs on the same corpus "
                "split can be compared"
            )
    scored: list[dict[str, int]] = []
    for run in runs:
        ids = [
            str(i)
            for i, e in zip(
                run.traces.column("conversation_id"), run.traces.column("error"), strict=True
            )
            if e is None
        ]
        scored.append({cid: position for position, cid in enumerate(ids)})
    common = [cid for cid in scored[0] if all(cid in s for s in scored[1:])]
    clusters = runs[0].clusters or {}
    groups = np.asarray([clusters.get(cid, cid) for cid in common], dtype=object)
    out = []
    for run, positions in zip(runs, scored, strict=True):
        outcomes = run.traces.outcomes(_policy(run.result))
        order = np.asarray([positions[cid] for cid in common], dtype=np.int64)
        out.append(replace(outcomes.take(order), groups=groups))
    return out


def compare_pair(
    a: LoadedRun,
    b: LoadedRun,
    oa: Outcomes,
    ob: Outcomes,
    *,
    metrics: Sequence[str],
    settings: BootstrapSettings,
    alpha: float,
) -> list[Comparison]:
    """Every comparison of run ``a`` with run ``b`` (unadjusted p-values).

    With independent conversations: exact McNemar for recall and FPR, DeLong for ROC-AUC, the
    paired bootstrap's p-value for the rest. When clusters repeat (authors linking
    conversations), McNemar and DeLong would treat correlated rows as independent and give
    too small p-values, so every row, ROC-AUC included, uses the paired cluster bootstrap.
    """
    rows: list[Comparison] = []
    labels = oa.labels
    clustered = len(set(oa.groups.tolist())) < len(oa)
    decisions_a, decisions_b = (oa.alerts > 0).astype(int), (ob.alerts > 0).astype(int)
    mcnemar = (
        {}
        if clustered
        else {
            "recall": mcnemar_exact(decisions_a, decisions_b, mask=labels == 1),
            "fpr": mcnemar_exact(decisions_a, decisions_b, mask=labels == 0),
        }
    )
    wanted = [*metrics, *(["roc_auc"] if clustered and "roc_auc" not in metrics else [])]
    differences = paired_bootstrap(
        oa,
        ob,
        metrics=wanted,
        settings=settings,
        latency_p=a.result.metrics_config.get("latency_p"),
    )
    for metric in wanted:
        interval = differences[metric]
        # Either way the row joins the adjusted family.
        test = mcnemar.get(metric)
        rows.append(
            Comparison.from_interval(
                interval,
                run_a=a.name,
                run_b=b.name,
                metric=metric,
                p_value=test.p_value if test is not None else interval.p_value,
                test="exact McNemar" if test is not None else "paired cluster bootstrap",
                alpha=alpha,
            )
        )
    if not clustered:
        delong = delong_test(labels, oa.max_scores, ob.max_scores, level=1 - alpha)
        rows.append(Comparison.from_delong(delong, run_a=a.name, run_b=b.name, alpha=alpha))
    return rows


def compare_runs(
    runs: Sequence[LoadedRun],
    *,
    metrics: Sequence[str] = COMPARED,
    settings: BootstrapSettings | None = None,
    adjust: Literal["holm", "bh"] = "holm",
    alpha: float = 0.05,
) -> tuple[list[Comparison], int]:
    """Compare every pair of runs; return the adjusted comparisons and the rows compared."""
    if len(runs) < 2:
        raise ConfigError("give at least two runs to compare")
    settings = settings or BootstrapSettings()
    outcomes = aligned_outcomes(runs)
    rows: list[Comparison] = []
    for (i, a), (j, b) in itertools.combinations(enumerate(runs), 2):
        rows += compare_pair(
            a, b, outcomes[i], outcomes[j], metrics=metrics, settings=settings, alpha=alpha
        )
    return adjust_comparisons(rows, method=adjust), len(outcomes[0])


def comparison_card(
    runs: Sequence[LoadedRun],
    rows: Sequence[Comparison],
    n: int,
    settings: BootstrapSettings,
    adjust: str,
) -> ReportCard:
    """The comparison report card."""
    first = runs[0].result
    return ReportCard(
        title="comparison: " + " vs ".join(r.name for r in runs),
        data={
            "name": first.corpus.get("name"),
            "version": first.corpus.get("version"),
            "fingerprint": first.corpus.get("fingerprint"),
            "split": first.corpus.get("split"),
            "counts": {"conversations scored by every run": n, "cluster_by": runs[0].cluster_by},
            "limitations": list(first.corpus.get("limitations", [])),
        },
        detector={r.name: str(r.folder) for r in runs},
        bootstrap={
            "seed": settings.seed,
            "n_resamples": settings.n_resamples,
            "level": settings.level,
            "method": settings.method,
            "cluster_by": runs[0].cluster_by,
            "adjustment": adjust,
        },
        comparisons=[_row(c) for c in rows],
        notes=[
            "Runs are compared on the conversations every run scored; p-values are adjusted "
            f"together ({'Holm' if adjust == 'holm' else 'Benjamini-Hochberg'}).",
        ],
    )


def _row(comparison: Comparison) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(comparison)


def _format(rows: Sequence[Comparison]) -> str:
    return "\n".join(row.reading for row in rows)


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:+.3f}"


def summary_table(rows: Sequence[Comparison]) -> str:
    """One line per pair and metric: difference, interval, adjusted p (the detail follows).

    Examples:
        >>> row = Comparison(run_a="A", run_b="B", metric="f1", estimate=0.1, low=0.02,
        ...                  high=0.18, level=0.95, p_value=0.0004, adjusted_p_value=0.0084,
        ...                  adjustment="Holm", method="paired bootstrap", p_bound=True)
        >>> print(summary_table([row]))
        pair    metric  A - B   interval          adjusted p  significant
        ------  ------  ------  ----------------  ----------  -----------
        A vs B  f1      +0.100  [+0.020, +0.180]  < 0.0084    yes
    """
    from benchmarks.leaderboard import format_table

    table = []
    for row in rows:
        p = row.adjusted_p_value if row.adjusted_p_value is not None else row.p_value
        shown = "-" if p is None else format_p(p, row.p_bound).removeprefix("= ")
        if row.low is None or row.high is None:
            interval = "-"
        else:
            interval = f"[{_number(row.low)}, {_number(row.high)}]"
        table.append(
            {
                "pair": f"{row.run_a} vs {row.run_b}",
                "metric": row.metric,
                "A - B": _number(row.estimate),
                "interval": interval,
                "adjusted p": shown,
                "significant": "-" if p is None else ("yes" if p <= row.alpha else "no"),
            }
        )
    columns = ["pair", "metric", "A - B", "interval", "adjusted p", "significant"]
    return format_table(table, columns)


def main(argv: Sequence[str] | None = None) -> int:
    """``groombench-compare RUN RUN [...]``: compare finished runs on the same split."""
    parser = argparse.ArgumentParser(
        prog="groombench-compare",
        description="Compare finished runs on the same corpus split: exact McNemar, paired "
        "cluster bootstrap of metric differences, DeLong for ROC-AUC, adjusted p-values.",
    )
    parser.add_argument(
        "runs",
        nargs="+",
        help="run folders (or sweep folders holding them), or runs:/<run id> of runs logged to "
        "the tracking server (--uri)",
    )
    parser.add_argument(
        "--uri",
        default=None,
        help="tracking URI for runs:/ arguments (default: $MLFLOW_TRACKING_URI, else the run "
        "root's SQLite store)",
    )
    parser.add_argument("--out", default=None, help="folder for the comparison report card")
    parser.add_argument("--adjust", choices=("holm", "bh"), default="holm")
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--resamples", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--metrics", nargs="+", default=list(COMPARED))
    args = parser.parse_args(argv)
    import os
    import tempfile

    from benchmarks.tracking import resolve_uri

    root = os.environ.get("GROOMBENCH_HOME") or "groombench-runs"
    downloads = tempfile.TemporaryDirectory(prefix="groombench-compare-")
    try:
        uri = (
            resolve_uri(args.uri, root) if any(r.startswith("runs:/") for r in args.runs) else None
        )
        folders = run_folders(args.runs, uri, Path(downloads.name))
        runs = named([load_run(f) for f in folders])
        settings = BootstrapSettings(
            n_resamples=args.resamples, seed=args.seed, level=1 - args.alpha
        )
        rows, n = compare_runs(
            runs,
            metrics=args.metrics,
            settings=settings,
            adjust=cast(Literal["holm", "bh"], args.adjust),
            alpha=args.alpha,
        )
    except (ConfigError, ValueError) as error:
        downloads.cleanup()
        print(f"groombench-compare: error: {error}", file=sys.stderr)
        return 2
    print(f"{len(runs)} runs on {n} conversations scored by all of them\n")
    print(summary_table(rows))
    print()
    print(_format(rows))
    if args.out:
        written = write_report(comparison_card(runs, rows, n, settings, args.adjust), args.out)
        print(f"\nreport: {written['html']}")
    downloads.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
