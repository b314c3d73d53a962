"""Learning curves of the top trials, a legend naming each, early stopping's rungs dotted
and labelled with their epochs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hpsearch.pages.svg import (
    BOTTOM,
    HEIGHT,
    TOP,
    WIDTH,
    Frame,
    _finite,
    _nice,
    _num,
    _svg,
    _text,
    colour,
)
from hpsearch.record import TrialRecord

LEGEND = 110  # px right of the plot


def curves(
    top: Sequence[TrialRecord],
    curve_of: Mapping[int, Mapping[str, Any]],
    metric: str,
    rungs: Sequence[int] = (),
) -> str | None:
    """Learning curves of the top trials (``metric`` if they recorded it, else the first
    metric they did), with early stopping's rung budgets dotted."""
    series = []
    for r in top:
        c = curve_of.get(r.trial)
        c = c if isinstance(c, Mapping) else {}
        epochs = c.get("epoch")
        columns = [k for k, v in c.items() if k != "epoch" and isinstance(v, list)]
        key = metric if metric in columns else (columns[0] if columns else None)
        if key is None or not isinstance(epochs, list) or not epochs:
            continue  # a curve edited into something else: not drawn
        points = [(e, v) for e, v in zip(epochs, c[key], strict=False) if _finite(e) and _finite(v)]
        if points:
            series.append((r, key, points))
    if not series:
        return None
    key = series[0][1]
    es = [e for _, _, pts in series for e, _ in pts]
    vs = [v for _, _, pts in series for _, v in pts]
    frame = Frame(min(vs), max(vs))
    first, last = min(es), max(es)
    unit = Frame(first, last).fraction

    ticks = [(unit(e), f"{e:g}") for e in _nice(first, last, 5) if first <= e <= last]
    body = frame.axes(ticks, "epoch" + (" (dotted: rungs)" if len(rungs) > 1 else ""), key)
    for budget in rungs[:-1]:
        if first <= budget <= last:
            x = frame.x(unit(budget))
            body.append(
                f'<line x1="{_num(x)}" x2="{_num(x)}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" '
                'class="rung"/>'
            )
            body.append(_text(x + 3, TOP + 10, f"rung {budget}", anchor="start", cls="tick halo"))
    for i, (r, _, points) in enumerate(series):
        d = "".join(
            f"{'M' if j == 0 else 'L'}{_num(frame.x(unit(e)))} {_num(frame.y(v))}"
            for j, (e, v) in enumerate(points)
        )
        stroke = colour(1 - i / max(len(series), 2))
        body.append(f'<path d="{d}" stroke="{stroke}" class="curve" data-t="{r.trial}"/>')
        y = TOP + 8 + 18 * i  # the legend, right of the plot
        body.append(
            f'<line x1="{WIDTH + 4}" x2="{WIDTH + 24}" y1="{y}" y2="{y}" stroke="{stroke}" '
            f'class="curve" data-t="{r.trial}"/>'
        )
        body.append(_text(WIDTH + 28, y + 4, f"trial {r.trial}", anchor="start", cls="tick"))
    return _svg(body, WIDTH + LEGEND, label="learning curves")
