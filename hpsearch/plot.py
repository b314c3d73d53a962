"""A run as a picture: the metric against each parameter on its own scale, and learning curves.

Needs matplotlib (``pip install 'hpsearch[plot]'``), imported only here and only when called.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hpsearch.config import Config
from hpsearch.errors import UserError
from hpsearch.record import TrialRecord
from hpsearch.results import Direction
from hpsearch.space import ChoiceParam, NumericParam, Param

PLOT_MISSING = "plotting needs matplotlib: pip install 'hpsearch[plot]'"
TOP = 5


def plot_run(
    config: Config,
    records: Sequence[TrialRecord],
    curves: Mapping[int, Mapping[str, list]],
    out: Path,
    last_region: Any = None,
    title: str = "",
    rungs: Sequence[int] = (),
) -> Path:
    """Write a PNG: one panel per parameter (a numeric one on its scale, a choice as a strip
    per value, as the HTML report draws it), then the top trials' learning curves.
    ``last_region``: the last round's space, shaded on each axis of the whole space.
    ``rungs``: early stopping's rung budgets, drawn on the curves; trials stopped early are
    grey, at the metric they had when stopped."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator
    except ImportError:
        raise UserError(PLOT_MISSING) from None
    goal = config.search.goal
    metric, direction = goal.metric, config.search.direction
    params = list(config.space)
    ok = goal.top(records, None, 1.0)
    top = {r.trial for r in ok[:TOP]}
    stopped = [r for r in records if r.status == "stopped" and metric in r.metrics]
    bad = [r for r in records if not r.ok and r.status != "stopped"]
    values = [r.metrics[metric] for r in ok]
    seen = values + [r.metrics[metric] for r in stopped]
    low, high = (min(seen), max(seen)) if seen else (0.0, 1.0)
    pad = (high - low) * 0.08 or 0.05
    worst_edge = low - pad if goal.direction is Direction.MAXIMIZE else high + pad

    with_curves = any(curves.get(r.trial) for r in ok[:TOP])
    panels = len(params) + (1 if with_curves else 0)
    columns = min(3, max(panels, 1))
    rows = math.ceil(max(panels, 1) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.6 * columns, 3.6 * rows), squeeze=False)
    flat = [ax for row in axes for ax in row]
    for ax in flat[panels:]:
        ax.set_visible(False)

    for ax, p in zip(flat, params, strict=False):
        x_of = _x(p)  # a trial -> where it is drawn on the x axis
        active = [r for r in ok if p.name in r.params]  # a conditional parameter: where it is
        xs = [x_of(r) for r in active]
        colours = ["tab:orange" if r.trial in top else "tab:blue" for r in active]
        sizes = [46 if r.trial in top else 18 for r in active]
        shown_stopped = [r for r in stopped if p.name in r.params]
        shown_bad = [r for r in bad if p.name in r.params]
        if shown_stopped:
            ax.scatter(
                [x_of(r) for r in shown_stopped],
                [r.metrics[metric] for r in shown_stopped],
                c="tab:gray",
                s=12,
                alpha=0.5,
                edgecolors="none",
                zorder=2,
                label=f"{len(shown_stopped)} stopped early",
            )
        ys = [r.metrics[metric] for r in active]
        ax.scatter(xs, ys, c=colours, s=sizes, alpha=0.8, edgecolors="none", zorder=3)
        if shown_bad:
            ax.scatter(
                [x_of(r) for r in shown_bad],
                [worst_edge] * len(shown_bad),
                marker="x",
                c="tab:red",
                s=30,
                zorder=3,
                label=f"{len(shown_bad)} failed / diverged",
            )
        if shown_bad or shown_stopped:
            ax.legend(loc="best", fontsize=7, frameon=False)
        if isinstance(p, ChoiceParam):
            _strips(ax, p, FixedLocator, NullLocator)
        else:
            # The axis spans the whole space; the last round's range is shaded inside it.
            narrowed = last_region.get(p.name) if last_region is not None else None
            if isinstance(narrowed, NumericParam) and (narrowed.low, narrowed.high) != (
                p.low,
                p.high,
            ):
                ax.axvspan(
                    _axis(p)(narrowed.low),
                    _axis(p)(narrowed.high),
                    color="tab:green",
                    alpha=0.12,
                    zorder=1,
                    label="last round's range",
                )
            limits = sorted((_axis(p)(p.low), _axis(p)(p.high)))
            ax.set_xlim(*_padded(limits, p.kind != "linear"))
            _scale_axis(ax, p, FixedLocator, NullFormatter, NullLocator)
        ax.set_ylim(min(low, worst_edge) - pad / 2, max(high, worst_edge) + pad / 2)
        conditional = f", in {len(active)} ok trials" if config.space.condition(p.name) else ""
        kind = "choice" if isinstance(p, ChoiceParam) else p.kind
        ax.set_xlabel(f"{p.name} ({kind}{conditional})")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.25)

    if with_curves:
        ax = flat[len(params)]
        key = (
            metric
            if any(metric in (curves.get(r.trial) or {}) for r in ok[:TOP])
            else _curve_key(curves, ok[:TOP])
        )
        for r in ok[:TOP]:
            c = curves.get(r.trial) or {}
            if key in c and c.get("epoch"):
                ax.plot(c["epoch"], c[key], marker=".", label=f"trial {r.trial}")
        for boundary in rungs[:-1]:
            ax.axvline(boundary, color="tab:gray", linestyle=":", linewidth=1, zorder=1)
        ax.set_xlabel("epoch" + (" (dotted: rungs)" if len(rungs) > 1 else ""))
        ax.set_ylabel(key)
        ax.set_title(f"learning curves of the top {min(TOP, len(ok))}", fontsize=9)
        ax.legend(fontsize=7, frameon=False)
        ax.grid(alpha=0.25)

    fig.suptitle(
        title or f"{config.name}: {direction} {metric} (top {min(TOP, len(ok))} in orange)",
        fontsize=10,
    )
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def _padded(limits: list[float], log: bool) -> tuple[float, float]:
    """Axis limits 3 % wider than the range, so points at its ends are not cut in half."""
    low, high = limits
    if log:
        factor = (high / low) ** 0.03
        return low / factor, high * factor
    pad = (high - low) * 0.03
    return low - pad, high + pad


def _x(p: Param):
    """Where a trial is drawn on ``p``'s panel: its value on the parameter's scale, or for a
    choice its value's strip, spread across it by the trial's index (as in the HTML report)."""
    if isinstance(p, ChoiceParam):
        from hpsearch.pages.svg import Axis

        axis = Axis(p)
        return lambda r: axis.unit(r.params[p.name], r.trial)
    value = _axis(p)
    return lambda r: value(r.params[p.name])


def _strips(ax, p: ChoiceParam, FixedLocator, NullLocator) -> None:
    """A choice's axis: a strip per value on [0, 1], labelled with the value, lines between."""
    from hpsearch.pages.svg import Axis

    ticks = Axis(p).ticks()
    ax.set_xlim(0.0, 1.0)
    ax.xaxis.set_major_locator(FixedLocator([u for u, _ in ticks]))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([label for _, label in ticks])
    for i in range(1, len(p.choices)):
        ax.axvline(i / len(p.choices), color="tab:gray", linewidth=0.6, alpha=0.4, zorder=1)


def _axis(p: NumericParam):
    """x position of a value: the value itself, or 1 − β for one_minus_log (on a log axis)."""
    if p.kind == "one_minus_log":
        return lambda v: 1.0 - float(v)
    return float


def _scale_axis(ax, p, FixedLocator, NullFormatter, NullLocator) -> None:
    if p.kind == "log":
        ax.set_xscale("log")
    elif p.kind == "one_minus_log":
        # Plotted as 1 − β on an inverted log axis, labelled in β: 0.9, 0.99, 0.999.
        ax.set_xscale("log")
        ax.invert_xaxis()
        ticks = p.scale.ticks(p.low, p.high)
        if len(ticks) < 3:  # a narrow range: label its ends too
            ticks = sorted({*ticks, p.low, p.high})
        ax.xaxis.set_major_locator(FixedLocator([1.0 - t for t in ticks]))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xticklabels([p.format(t) for t in ticks])


def _curve_key(curves, records) -> str:
    for r in records:
        for key in curves.get(r.trial) or {}:
            if key not in ("epoch", "lr"):
                return key
    return "epoch"
