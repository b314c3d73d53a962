"""Parallel coordinates: an axis per parameter on its own scale, a line per trial coloured by
its metric's rank (a colour bar gives the values), the axes' labels drawn over the lines with
a halo so that they stay readable under hundreds of lines. With early stopping, one set of
lines per stage — every trial that reached it, coloured by its metric there — and buttons to
switch between them, so the 40 trials of a halving run are not shown as the 4 that finished."""

from __future__ import annotations

from collections.abc import Sequence

from hpsearch.pages.sizing import LINES, thin
from hpsearch.pages.svg import Axis, _finite, _num, _short, _svg, _text, colour, escape
from hpsearch.record import TrialRecord, format_metric
from hpsearch.space import Param

BAR = 70  # the colour bar's column, at the right


def stages_of(
    records: Sequence[TrialRecord],
    trained: Sequence[tuple[int, TrialRecord]] | None,
    metric: str,
    full: int | None,
) -> list[tuple[str, list[TrialRecord]]]:
    """(name, trials) per stage: the ok trials (one stage), or with early stopping each
    rung's epochs and every trial trained to it (its record there)."""
    if not trained:
        return [
            ("trained in full", [r for r in records if r.ok and _finite(r.metrics.get(metric))])
        ]
    by_stage: dict[int, dict[int, TrialRecord]] = {}
    for epochs, record in trained:
        if record.ok and _finite(record.metrics.get(metric)):
            by_stage.setdefault(epochs, {})[record.trial] = record
    return [
        (f"after {e} epochs" + (" (in full)" if e == full else ""), list(by_stage[e].values()))
        for e in sorted(by_stage)
    ]


def parallel(
    params: Sequence[Param],
    stages: Sequence[tuple[str, list[TrialRecord]]],
    metric: str,
    maximize: bool,
) -> str:
    """The chart (an SVG, and the stage buttons before it when there are several)."""
    width = max(1050, 120 * len(params) + BAR + 80)
    height = 300
    top_y, bottom_y = 34, height - 30
    if not params or not any(trials for _, trials in stages):
        return _svg([_text(width / 2, height / 2, "no ok trial to draw")], width, height)
    right = width - BAR - 70  # the last axis leaves room for its tick labels
    xs = [40 + i * (right - 40) / max(len(params) - 1, 1) for i in range(len(params))]
    axes = [Axis(p) for p in params]
    body: list[str] = []
    shown = 0  # with early stopping: the first stage, which every trial reached
    bars: list[str] = []
    for k, (_, trials) in enumerate(stages):
        # Coloured by rank, not by value: any range of values (1e308 wide, or all equal) works.
        order = sorted(trials, key=lambda r: r.metrics[metric] if maximize else -r.metrics[metric])
        best = {r.trial for r in order[-10:]}
        drawn = thin(order, best, LINES)
        position = {r.trial: i / max(len(order) - 1, 1) for i, r in enumerate(order)}
        lines = []
        for r in drawn:  # the best drawn last
            path, pen = [], "M"
            for x, axis in zip(xs, axes, strict=True):
                if axis.p.name not in r.params:  # inactive (a condition): the line breaks
                    pen = "M"
                    continue
                y = bottom_y - axis.unit(r.params[axis.p.name], r.trial) * (bottom_y - top_y)
                path.append(f"{pen}{_num(x)} {_num(y)}")
                pen = "L"
            t = position[r.trial] if len(order) > 1 else 1.0
            lines.append(
                f'<path d="{"".join(path)}" stroke="{colour(t)}" class="line" data-t="{r.trial}"/>'
            )
        hidden = "" if k == shown else ' style="display:none"'
        body.append(f'<g class="stage" data-stage="{k}"{hidden}>{"".join(lines)}</g>')
        bars.append(
            f'<g class="stage-bar" data-stage="{k}"{hidden}>'
            + _colour_bar(order, metric, width - BAR + 10, top_y, bottom_y)
            + "</g>"
        )
    for x, axis in zip(xs, axes, strict=True):
        body.append(
            f'<line x1="{_num(x)}" x2="{_num(x)}" y1="{top_y}" y2="{bottom_y}" class="axis"/>'
        )
        for u, text in axis.ticks():
            y = bottom_y - u * (bottom_y - top_y)
            body.append(_text(x + 4, y + 3, text, anchor="start", cls="tick halo"))
        body.append(_text(x, top_y - 10, _short(axis.p.name, 18), cls="name halo"))
    body += bars
    svg = _svg(body, width, height, label="parallel coordinates")
    if len(stages) < 2:
        return svg
    buttons = "".join(
        f'<button type="button" class="stage-button" data-stage="{k}"'
        f"{' aria-pressed=true' if k == shown else ''}>{escape(name)} ({len(trials)})</button>"
        for k, (name, trials) in enumerate(stages)
    )
    return f'<p class="stages">{buttons}</p>{svg}'


def _colour_bar(
    order: Sequence[TrialRecord], metric: str, x: float, top: float, bottom: float
) -> str:
    """The ramp, best at the top, labelled with the metric at five ranks (the colours are by
    rank, so the labels are the values found there)."""
    if not order:
        return ""
    steps = 24
    h = (bottom - top) / steps
    parts = [
        f'<rect x="{_num(x)}" y="{_num(top + i * h)}" width="12" height="{_num(h + 0.5)}" '
        f'fill="{colour(1 - i / (steps - 1))}"/>'
        for i in range(steps)
    ]
    for q in (0.0, 0.25, 0.5, 0.75, 1.0):
        r = order[round(q * (len(order) - 1))]
        y = bottom - q * (bottom - top)
        text = format_metric(r.metrics[metric])
        parts.append(_text(x + 16, y + 3, text, anchor="start", cls="tick"))
    parts.append(_text(x + 6, top - 10, _short(metric, 14), cls="tick"))
    return "".join(parts)
