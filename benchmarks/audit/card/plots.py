"""The report card's plots, each returned as PNG bytes (matplotlib's Agg canvas, no pyplot).

matplotlib is imported inside the functions so that importing this module (and the CLI) stays
fast. No pyplot state is touched: every figure is a free-standing ``Figure`` on an Agg canvas,
so rendering is thread-safe and leaves nothing open. A plot never raises on empty input: it
draws a panel that says "no data" and why.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

DPI = 80
_ACCENT = "#1f5fa8"
_MUTED = "#9a9a9a"
_DET_TICKS = (0.0001, 0.001, 0.01, 0.05, 0.2, 0.5, 0.8, 0.95)
_DET_EDGE = 1e-4


def _figure(width: float = 5.0, height: float = 3.2, dpi: int = DPI) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    # No "Software" chunk: the same data gives the same bytes across matplotlib versions.
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _finite(values: Sequence[Any] | None) -> list[float]:
    out: list[float] = []
    for value in values or ():
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            out.append(float(value))
    return out


def no_data(title: str, reason: str, *, dpi: int = DPI) -> bytes:
    """Return a small panel titled ``title`` saying there is no data and why."""
    figure = _figure(5.0, 1.6, dpi)
    ax = figure.add_subplot()
    ax.set_axis_off()
    ax.set_title(title, fontsize=10)
    ax.text(0.5, 0.45, f"no data: {reason}", ha="center", va="center", fontsize=9, wrap=True)
    return _png(figure)


def latency_histogram(
    messages: Sequence[Any] | None, minutes: Sequence[Any] | None = None, *, dpi: int = DPI
) -> bytes:
    """Histogram of time to detection of true positives, in messages (and minutes if known)."""
    k = _finite(messages)
    mins = _finite(minutes)
    if not k:
        return no_data("Time to detection", "no true positive", dpi=dpi)
    figure = _figure(7.0 if mins else 5.0, 3.0, dpi)
    axes = figure.subplots(1, 2 if mins else 1, squeeze=False)[0]
    _histogram(axes[0], k, "first-alert message index k", integer=True)
    if mins:
        _histogram(axes[1], mins, "chat minutes to the alert", integer=False)
    figure.suptitle(f"Time to detection of {len(k)} true positives", fontsize=10)
    return _png(figure)


def _histogram(ax: Axes, values: list[float], label: str, *, integer: bool) -> None:
    bins: int | list[float] = min(30, max(5, len(set(values))))
    if integer and max(values) - min(values) < 30:
        bins = [v - 0.5 for v in range(int(min(values)), int(max(values)) + 2)]
    ax.hist(values, bins=bins, color=_ACCENT, edgecolor="white")
    ax.set_xlabel(label, fontsize=9)
    ax.set_ylabel("conversations", fontsize=9)
    ax.tick_params(labelsize=8)


def detection_curve(points: Sequence[Sequence[Any]] | None, *, dpi: int = DPI) -> bytes:
    """Step plot of the share of positives detected by message k."""
    pairs = [(p[0], p[1]) for p in points or () if len(p) >= 2]
    xs, ys = _finite([p[0] for p in pairs]), _finite([p[1] for p in pairs])
    if not xs or len(xs) != len(ys):
        return no_data("Detection curve", "no positive or no alert", dpi=dpi)
    figure = _figure(dpi=dpi)
    ax = figure.add_subplot()
    ax.step(xs, ys, where="post", color=_ACCENT)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("message k", fontsize=9)
    ax.set_ylabel("share of positives alerted by k", fontsize=9)
    ax.set_title("Detection curve", fontsize=10)
    ax.grid(alpha=0.3)
    ax.tick_params(labelsize=8)
    return _png(figure)


def _probit(values: list[float]) -> list[float]:
    from scipy.stats import norm

    clipped = [min(max(v, _DET_EDGE), 1 - _DET_EDGE) for v in values]
    return [float(x) for x in norm.ppf(clipped)]


def det_curve(fpr: Sequence[Any] | None, fnr: Sequence[Any] | None, *, dpi: int = DPI) -> bytes:
    """DET curve: miss rate against false-positive rate on normal-deviate axes."""
    x, y = _finite(fpr), _finite(fnr)
    if not x or len(x) != len(y):
        return no_data("DET curve", "needs both classes and a score per conversation", dpi=dpi)
    figure = _figure(4.2, 3.6, dpi)
    ax = figure.add_subplot()
    ax.plot(_probit(x), _probit(y), color=_ACCENT, marker=".", markersize=3)
    ticks = _probit(list(_DET_TICKS))
    labels = [f"{100 * t:g}%" for t in _DET_TICKS]
    ax.set_xticks(ticks, labels, fontsize=7)
    ax.set_yticks(ticks, labels, fontsize=7)
    ax.set_xlim(ticks[0] - 0.1, ticks[-1] + 0.1)
    ax.set_ylim(ticks[0] - 0.1, ticks[-1] + 0.1)
    ax.set_xlabel("false-positive rate (normal deviate scale)", fontsize=9)
    ax.set_ylabel("miss rate (FNR)", fontsize=9)
    ax.set_title("DET curve (values beyond 0.01% drawn at the edge)", fontsize=9)
    ax.grid(alpha=0.3)
    return _png(figure)


def pr_curve(
    precision: Sequence[Any] | None, recall: Sequence[Any] | None, *, dpi: int = DPI
) -> bytes:
    """Precision–recall curve (step-wise, as average precision counts it)."""
    p, r = _finite(precision), _finite(recall)
    if not p or len(p) != len(r):
        return no_data("Precision-recall curve", "needs a positive and a score each", dpi=dpi)
    figure = _figure(4.2, 3.6, dpi)
    ax = figure.add_subplot()
    ax.step(r, p, where="post", color=_ACCENT)
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("recall", fontsize=9)
    ax.set_ylabel("precision (at the test set's prevalence)", fontsize=9)
    ax.set_title("Precision-recall curve", fontsize=10)
    ax.grid(alpha=0.3)
    ax.tick_params(labelsize=8)
    return _png(figure)


def calibration_plot(bins: Sequence[Mapping[str, Any]] | None, *, dpi: int = DPI) -> bytes:
    """Observed positive rate against mean score per bin; marker area grows with the count."""
    xs, ys, counts = [], [], []
    for b in bins or ():
        x, y = _finite([b.get("mean_score")]), _finite([b.get("observed_rate")])
        if x and y:
            xs += x
            ys += y
            counts += _finite([b.get("count")]) or [1.0]
    if not xs:
        return no_data("Calibration", "no scored conversations in any bin", dpi=dpi)
    figure = _figure(4.2, 3.6, dpi)
    ax = figure.add_subplot()
    biggest = max(counts) or 1.0
    sizes = [15 + 120 * c / biggest for c in counts]
    ax.plot([0, 1], [0, 1], color=_MUTED, linestyle="--", linewidth=1, label="perfect")
    ax.plot(xs, ys, color=_ACCENT, linewidth=1)
    ax.scatter(xs, ys, s=sizes, color=_ACCENT, zorder=3)
    ax.set_xlabel("mean maximum score in bin", fontsize=9)
    ax.set_ylabel("observed share of positives", fontsize=9)
    ax.set_title("Calibration (marker area ~ count)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.tick_params(labelsize=8)
    return _png(figure)


def forest_plot(
    rows: Sequence[Mapping[str, Any]] | None, *, metric: str = "recall", dpi: int = DPI
) -> bytes:
    """Forest plot of ``metric`` per subgroup with its interval; too-small rows in grey.

    Each row is a subgroup dict (:meth:`SubgroupRow.to_dict`): ``attribute``, ``value``,
    ``metric`` → interval dict, and the ``<metric>_informative`` flag.
    """
    shown = []
    for row in rows or ():
        interval = row.get(metric) or {}
        estimate = interval.get("estimate") if isinstance(interval, Mapping) else None
        if _finite([estimate]):
            shown.append((row, interval))
    if not shown:
        return no_data(f"{metric} by subgroup", f"no subgroup has a defined {metric}", dpi=dpi)
    figure = _figure(6.0, 0.9 + 0.24 * len(shown), dpi)
    ax = figure.add_subplot()
    for y, (row, interval) in enumerate(reversed(shown)):
        ok = bool(row.get(f"{metric}_informative", not row.get("too_small", False)))
        colour = _ACCENT if ok else _MUTED
        est = float(interval["estimate"])
        low = _finite([interval.get("low")]) or [est]
        high = _finite([interval.get("high")]) or [est]
        ax.plot([low[0], high[0]], [y, y], color=colour, linewidth=2)
        ax.plot([est], [y], marker="o", color=colour, markerfacecolor=colour if ok else "white")
    labels = [f"{r.get('attribute')}={r.get('value')}" for r, _ in reversed(shown)]
    ax.set_yticks(range(len(shown)), labels, fontsize=7)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel(f"{metric} with exact interval (grey, hollow: too small to compare)", fontsize=8)
    ax.set_title(f"{metric.capitalize()} by subgroup", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    ax.tick_params(axis="x", labelsize=8)
    return _png(figure)


def prevalence_plot(rows: Sequence[Mapping[str, Any]] | None, *, dpi: int = DPI) -> bytes:
    """PPV and false flags per million conversations at each declared prevalence."""
    points = [r for r in rows or () if _finite([r.get("prevalence")]) and r["prevalence"] > 0]
    if not points:
        return no_data("Prevalence projection", "no deployment prevalence declared", dpi=dpi)
    points.sort(key=lambda r: float(r["prevalence"]))
    figure = _figure(7.0, 3.0, dpi)
    left, right = figure.subplots(1, 2)
    for ax, key, low, high, label in (
        (left, "ppv", "ppv_low", "ppv_high", "PPV (share of alerts that are grooming)"),
        (right, "false_flags_per_million", "ff_low", "ff_high", "false flags per million"),
    ):
        xs, ys, lo, hi = [], [], [], []
        for r in points:
            if _finite([r.get(key)]):
                xs.append(float(r["prevalence"]))
                ys.append(float(r[key]))
                lo.append(float(r[low]) if _finite([r.get(low)]) else ys[-1])
                hi.append(float(r[high]) if _finite([r.get(high)]) else ys[-1])
        if xs:
            ax.fill_between(xs, lo, hi, color=_ACCENT, alpha=0.2, linewidth=0)
            ax.plot(xs, ys, color=_ACCENT, marker="o", markersize=4)
        else:
            ax.text(0.5, 0.5, "undefined", transform=ax.transAxes, ha="center")
        ax.set_xscale("log")
        ax.set_xlabel("deployment prevalence", fontsize=9)
        ax.set_ylabel(label, fontsize=8)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
    figure.suptitle("Projection to deployment prevalence (band: interval)", fontsize=10)
    return _png(figure)
