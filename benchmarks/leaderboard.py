"""Leaderboards: compare evaluations side by side, from a sweep folder or from MLflow."""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from benchmarks.audit.headline import headline_columns
from benchmarks.results import RESULTS_FILE, RunResult, as_written

COLUMNS: tuple[str, ...] = (
    "precision",
    "recall",
    "f1",
    "fpr",
    "roc_auc",
    "roc_auc_length_matched",
    "ttd_median",
    "detected_before_escalation",
    "latency_f1",
    "erde_50",
    "false_alerts_per_1k",
    "n_scored",
    "n_errors",
    "causality",
)

#: Shown beside COLUMNS when some row has them (a GroomCheck run, or one with ``perturb=``):
#: the worst functional test's failure rate and name, the mean flip rate over families.
ROBUSTNESS_COLUMNS: tuple[str, ...] = (
    "groomcheck.worst_failure_rate",
    "groomcheck.worst_test",
    "robustness.mean_flip_rate",
)


def with_robustness(columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """``columns``, then the robustness columns that some row fills.

    Examples:
        >>> with_robustness(["f1"], [{"f1": 0.5, "robustness.mean_flip_rate": 0.1}])
        ['f1', 'robustness.mean_flip_rate']
        >>> with_robustness(["f1"], [{"f1": 0.5}])
        ['f1']
    """
    extra = [c for c in ROBUSTNESS_COLUMNS if c not in columns]
    return [*columns, *(c for c in extra if any(r.get(c) is not None for r in rows))]


COUNTS = frozenset({"n_scored", "n_errors", "n_positive", "n_negative", "tp", "fp", "fn", "tn"})


def _cell(value: Any, key: str = "") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.0f}" if key in COUNTS else f"{value:.3f}"
    return str(value)


def _with_interval(row: Mapping[str, Any], key: str) -> str:
    """A cell, with its interval ``[low, high]`` when the row carries ``<key>_low/_high``.

    Examples:
        >>> _with_interval({"f1": 0.5, "f1_low": 0.41, "f1_high": 0.59}, "f1")
        '0.500 [0.410, 0.590]'
        >>> _with_interval({"f1": 0.5}, "f1")
        '0.500'
    """
    cell = _cell(row.get(key), key)
    low, high = row.get(f"{key}_low"), row.get(f"{key}_high")
    if cell == "-" or low is None or high is None:
        return cell
    return f"{cell} [{_cell(low, key)}, {_cell(high, key)}]"


def format_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """Return rows as a fixed-width text table ('-' marks an undefined value).

    Examples:
        >>> print(format_table([{"detector": "x", "f1": 0.5}], ["detector", "f1"]))
        detector  f1
        --------  -----
        x         0.500
    """
    cells = [[_with_interval(row, c) for c in columns] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(line.rstrip() for line in lines)


FORMATS: tuple[str, ...] = ("table", "csv", "json", "markdown")


def _value(value: Any) -> Any:
    """A machine-readable cell: numbers as numbers (NaN and infinities as null)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _columns_with_intervals(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> list[str]:
    """``columns``, each followed by ``<c>_low`` and ``<c>_high`` where some row has them."""
    out: list[str] = []
    for column in columns:
        out.append(column)
        for end in ("low", "high"):
            if any(row.get(f"{column}_{end}") is not None for row in rows):
                out.append(f"{column}_{end}")
    return out


def export(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], format: str = "table") -> str:
    """Rows as a text table, CSV, JSON or Markdown.

    ``table`` and ``markdown`` show rounded cells with intervals in brackets; ``csv`` and
    ``json`` keep full precision, with intervals as their own ``_low``/``_high`` columns,
    and undefined values empty (CSV) or null (JSON).

    Examples:
        >>> rows = [{"detector": "x", "f1": 0.5, "f1_low": 0.4, "f1_high": 0.6}]
        >>> print(export(rows, ["detector", "f1"], "csv"))
        detector,f1,f1_low,f1_high
        x,0.5,0.4,0.6
        >>> print(export(rows, ["detector", "f1"], "markdown"))
        | detector | f1 |
        | --- | --- |
        | x | 0.500 [0.400, 0.600] |
    """
    if format == "table":
        return format_table(rows, columns)
    if format == "markdown":
        lines = [
            "| " + " | ".join(columns) + " |",
            "| " + " | ".join("---" for _ in columns) + " |",
        ]
        for row in rows:
            cells = [_with_interval(row, c).replace("|", "\\|") for c in columns]
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)
    full = _columns_with_intervals(rows, columns)
    if format == "json":
        import json

        data = [{c: _value(row.get(c)) for c in full} for row in rows]
        return json.dumps(data, indent=2, allow_nan=False)
    if format == "csv":
        import csv
        import io

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(full)
        for row in rows:
            writer.writerow(["" if _value(row.get(c)) is None else row.get(c) for c in full])
        return buffer.getvalue().rstrip("\n")
    raise ValueError(f"unknown format {format!r}; one of {', '.join(FORMATS)}")


def export_leaderboard(
    uri: str | None = None,
    *,
    format: str = "table",
    experiment: str = "groombench",
    sweep: str | None = None,
    metrics: Sequence[str] = COLUMNS,
    root: str | None = None,
) -> str:
    """The leaderboard of runs logged to MLflow, as ``groombench-leaderboard`` prints it.

    Args:
        uri: the tracking URI (default: ``$MLFLOW_TRACKING_URI``, else the run root's SQLite).
        format: ``table``, ``csv``, ``json`` or ``markdown``.
        experiment: the MLflow experiment.
        sweep: ``"latest"`` or a parent run id: only that sweep's runs.
        metrics: the metric columns.
        root: the run root (default ``$GROOMBENCH_HOME`` or ``./groombench-runs``).
    """
    import os

    from benchmarks.tracking import ensure_store, resolve_uri

    root = root or os.environ.get("GROOMBENCH_HOME") or "groombench-runs"
    resolved = resolve_uri(uri, root)
    ensure_store(resolved)  # an unreachable server: ConfigError, password masked
    chosen = latest_sweep(resolved, experiment) if sweep == "latest" else sweep
    rows = mlflow_rows(resolved, experiment, chosen)
    columns = with_robustness(["detector", "corpus", "policy", *metrics], rows)
    return export(rows, [*columns, "run_id"], format)


def result_row(result: RunResult) -> dict[str, Any]:
    """Flatten a result into one leaderboard row (``_settings`` tells look-alike rows apart)."""
    settings = dict(result.detector.get("settings") or {})
    settings["latency_p"] = result.metrics_config.get("latency_p")
    row: dict[str, Any] = {
        "_settings": settings,
        "detector": result.detector["name"],
        "corpus": f"{result.corpus['name']}:{result.corpus['split']}",
        "policy": _setting(
            result.policy.get("label", result.policy["name"]), int(result.runner.get("every", 1))
        ),
    }
    row.update(result.metrics)
    row.update(headline_columns(result.audit.get("intervals", {})))
    row["causality"] = causality_cell(result.guarantees.get("causality") or {})
    row["groomcheck.worst_test"] = (result.robustness.get("groomcheck") or {}).get("worst_test")
    for flag in result.flags:  # LEAKAGE, UNSANDBOXED, UNVERIFIED
        row["detector"] += f" ({flag})"
    n_scored, n_errors = result.metrics.get("n_scored"), result.metrics.get("n_errors")
    if not n_scored and n_errors:
        row["detector"] += " (ALL FAILED)"
    return row


def disambiguate(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Append the settings that differ to rows that would otherwise look the same.

    Examples:
        >>> rows = [{"detector": "t", "_settings": {"C": 1, "n": 2}},
        ...         {"detector": "t", "_settings": {"C": 9, "n": 2}}]
        >>> [r["detector"] for r in disambiguate(rows)]
        ['t(C=1)', 't(C=9)']
    """
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        key = (str(row.get("detector")), str(row.get("corpus")), str(row.get("policy")))
        groups.setdefault(key, []).append(row)
    for group in groups.values():
        if len(group) < 2:
            continue
        names = sorted(set().union(*(r["_settings"] for r in group)))
        differ = [n for n in names if len({repr(r["_settings"].get(n)) for r in group}) > 1]
        for row in group:
            inner = ",".join(f"{n}={as_written(row['_settings'].get(n))}" for n in differ)
            row["detector"] = f"{row['detector']}({inner})" if inner else row["detector"]
    return rows


def _setting(label: str, every: int) -> str:
    """Policy label, plus the scoring cadence when not every message."""
    return label if every == 1 else f"{label}@every{every}"


def summary_line(result: RunResult) -> str:
    """Return a one-line summary of a result for logs."""
    m = result.metrics
    return (
        f"{result.detector['name']} on {result.corpus['name']}:{result.corpus['split']} "
        f"[{result.policy['name']}]: precision={_cell(m.get('precision'))} "
        f"recall={_cell(m.get('recall'))} f1={_cell(m.get('f1'))} "
        f"ttd_median={_cell(m.get('ttd_median'))} n_errors={_cell(m.get('n_errors'), 'n_errors')}"
    )


def print_sweep(sweep_dir: Path, uri: str | None) -> None:
    """Print the leaderboard of every job under ``sweep_dir`` and where the results are.

    Headline metrics carry their interval (at the audit's level; the method of each is in
    results.json) in brackets.
    """
    results = [RunResult.load(p) for p in sorted(sweep_dir.glob(f"*/{RESULTS_FILE}"))]
    if not results:
        print(f"no results under {sweep_dir}")
        return
    rows = disambiguate(sorted((result_row(r) for r in results), key=_by_f1))
    print()
    print(format_table(rows, with_robustness(("detector", "corpus", "policy", *COLUMNS), rows)))
    print(f"\nresults: {sweep_dir.resolve()}")
    print("metric definitions: results.json 'definitions'; docs/metrics.md")
    if uri:
        from benchmarks.tracking import ui_hint

        print(ui_hint(uri))


def mlflow_rows(uri: str, experiment: str, sweep: str | None) -> list[dict[str, Any]]:
    """Return one row per latest evaluation (detector, corpus, split, policy) in MLflow."""
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(experiment)
    if found is None:
        from benchmarks.tracking import public_uri

        where = public_uri(uri)
        raise SystemExit(f"no experiment '{experiment}' in {where}; run `groombench` first")
    query = "tags.`groombench.detector` != ''"
    if sweep:
        query += f" and tags.`mlflow.parentRunId` = '{sweep}'"
    runs = client.search_runs(
        [found.experiment_id],
        filter_string=query,
        order_by=["attributes.start_time DESC"],
        max_results=5000,
    )
    rows: dict[tuple[str, ...], dict[str, Any]] = {}
    for run in runs:
        tags = run.data.tags
        policy = _setting(
            tags.get("groombench.policy_label", tags["groombench.policy"]),
            int(tags.get("groombench.every", "1")),
        )
        params = run.data.params
        settings = {
            k.removeprefix("detector."): v
            for k, v in params.items()
            if k.startswith("detector.") and k not in ("detector._target_", "detector.model_path")
        } | {"latency_p": params.get("latency_p")}
        # One row per distinct evaluation: detector version and settings, data, policy, cadence.
        key = (
            tags["groombench.detector"],
            tags.get("groombench.detector_version", ""),
            tags["groombench.corpus"],
            tags["groombench.split"],
            tags.get("groombench.corpus_sha256", ""),
            policy,
            repr(sorted(settings.items())),
        )
        if key in rows:
            continue  # runs come newest first: keep the latest of each evaluation
        rows[key] = {
            "detector": key[0] + _flag_suffix(tags),
            "corpus": f"{key[2]}:{key[3]}",
            "policy": policy,
            "run_id": run.info.run_id[:8],
            "_settings": settings,
            "groomcheck.worst_test": tags.get("groombench.groomcheck_worst_test"),
            "causality": causality_cell(
                {
                    "mode": tags.get("groombench.causality_mode", ""),
                    **{
                        k: run.data.metrics.get(f"causality_{k}", 0)
                        for k in ("checked", "failed", "unchecked")
                    },
                }
            ),
        } | dict(run.data.metrics)
    return disambiguate(sorted(rows.values(), key=_by_f1))


def causality_cell(record: Mapping[str, Any]) -> str:
    """How causality held, in one cell: the mode, then checked/failed/unchecked.

    Examples:
        >>> causality_cell({"mode": "fast", "checked": 24, "failed": 0, "unchecked": 1})
        'fast 24/0/1'
        >>> causality_cell({})
        '-'
    """
    if not record.get("mode"):
        return "-"
    counts = "/".join(str(int(record.get(k, 0))) for k in ("checked", "failed", "unchecked"))
    return f"{record['mode']} {counts}"


def _flag_suffix(tags: Mapping[str, str]) -> str:
    """`` (LEAKAGE) (UNSANDBOXED) ...`` from a run's tags.

    Examples:
        >>> _flag_suffix({"groombench.leakage": "true", "groombench.flags": "LEAKAGE UNVERIFIED"})
        ' (LEAKAGE) (UNVERIFIED)'
    """
    flags = tags.get("groombench.flags", "").split()
    if tags.get("groombench.leakage") == "true" and "LEAKAGE" not in flags:
        flags.insert(0, "LEAKAGE")  # runs logged before flags were tagged
    return "".join(f" ({flag})" for flag in flags)


def _by_f1(row: Mapping[str, Any]) -> float:
    value = row.get("f1")
    return -float(value) if value is not None else 1.0


def latest_sweep(uri: str, experiment: str) -> str | None:
    """Return the id of the newest sweep parent run, or None."""
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return None
    runs = client.search_runs(
        [found.experiment_id],
        filter_string="tags.`groombench.sweep` = 'parent'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    return runs[0].info.run_id if runs else None


def main(argv: Sequence[str] | None = None) -> None:
    """``groombench-leaderboard``: print the comparison table from MLflow."""
    from benchmarks.tracking import public_uri, resolve_uri

    parser = argparse.ArgumentParser(
        prog="groombench-leaderboard",
        description="Compare groombench evaluations logged to MLflow (latest run of each "
        "detector x corpus split x policy).",
    )
    parser.add_argument(
        "--uri",
        help="tracking URI (default: $MLFLOW_TRACKING_URI, else sqlite:///<root>/mlflow.db)",
    )
    parser.add_argument(
        "--root",
        default=None,
        help="groombench run root (default: $GROOMBENCH_HOME or ./groombench-runs)",
    )
    parser.add_argument("--experiment", default="groombench")
    parser.add_argument(
        "--sweep", default=None, help="'latest' or a parent run id: only that sweep's runs"
    )
    parser.add_argument(
        "--metrics", default=",".join(COLUMNS), help="comma-separated metric keys to show"
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="table (default), csv or json (full precision, intervals as _low/_high "
        "columns), markdown",
    )
    args = parser.parse_args(argv)
    import os

    from benchmarks.errors import ConfigError
    from benchmarks.tracking import ensure_store

    root = args.root or os.environ.get("GROOMBENCH_HOME") or "groombench-runs"
    uri = resolve_uri(args.uri, root)
    try:
        ensure_store(uri)
    except ConfigError as error:
        raise SystemExit(f"groombench-leaderboard: error: {error}") from None
    sweep = latest_sweep(uri, args.experiment) if args.sweep == "latest" else args.sweep
    rows = mlflow_rows(uri, args.experiment, sweep)
    if not rows:
        where = public_uri(uri)
        raise SystemExit(f"no groombench runs in experiment '{args.experiment}' at {where}")
    chosen = ["detector", "corpus", "policy", *args.metrics.split(",")]
    columns = [*with_robustness(chosen, rows), "run_id"]
    print(export(rows, columns, args.format))
    if args.format == "table":  # machine-readable output stays pure
        print(f"\n{len(rows)} evaluation(s) from {public_uri(uri)}")
