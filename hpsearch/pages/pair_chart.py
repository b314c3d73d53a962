"""A 2-D view of the two most important parameters, each on its own scale: a point per fully
trained trial coloured by its metric's rank (dark: best; the top ones ringed in orange), and
each round's region drawn as a box in its round's colour — where the search looked, and
where the good trials are."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hpsearch.pages.scatter_chart import _band, round_colour
from hpsearch.pages.svg import Axis, _finite, _num, _svg, _text, colour
from hpsearch.record import TrialRecord
from hpsearch.space import Param

SIZE_W, SIZE_H = 560, 440
LEFT, RIGHT, TOP, BOTTOM = 70, 30, 16, 52


def pair(
    px: Param,
    py: Param,
    records: Sequence[TrialRecord],
    metric: str,
    maximize: bool,
    top: set[int],
    regions: Sequence[Any] = (),
) -> str | None:
    """The chart (``records`` already thinned), or None without two ok trials."""
    ok = [
        r
        for r in records
        if r.ok and _finite(r.metrics.get(metric)) and px.name in r.params and py.name in r.params
    ]
    if len(ok) < 2:
        return None
    ax, ay = Axis(px), Axis(py)
    w, h = SIZE_W - LEFT - RIGHT, SIZE_H - TOP - BOTTOM

    def x(u: float) -> float:
        return LEFT + u * w

    def y(u: float) -> float:
        return TOP + (1 - u) * h

    body = [f'<rect x="{LEFT}" y="{TOP}" width="{w}" height="{h}" class="frame"/>']
    every = max(1, -(-len(ax.ticks()) // 6))
    for i, (u, text) in enumerate(ax.ticks()):
        body.append(_grid(x(u), x(u), TOP, TOP + h))
        if i % every == 0:
            body.append(_text(x(u), TOP + h + 16, text, cls="tick"))
    every = max(1, -(-len(ay.ticks()) // 8))
    for i, (u, text) in enumerate(ay.ticks()):
        body.append(
            f'<line x1="{LEFT}" x2="{LEFT + w}" y1="{_num(y(u))}" y2="{_num(y(u))}" class="grid"/>'
        )
        if i % every == 0:
            body.append(_text(LEFT - 5, y(u) + 3, text, anchor="end", cls="tick"))
    body.append(_text(LEFT + w / 2, SIZE_H - 12, ax.name(), cls="name"))
    middle = TOP + h / 2
    body.append(
        _text(14, middle, ay.name(), cls="name").replace(
            "<text ", f'<text transform="rotate(-90 14 {_num(middle)})" ', 1
        )
    )
    for k, region in enumerate(regions if len(regions) > 1 else ()):
        bx, by = _band(ax, region) or (0.0, 1.0), _band(ay, region) or (0.0, 1.0)
        if k == 0 or (bx == (0.0, 1.0) and by == (0.0, 1.0)):
            continue  # the whole space: the frame itself
        body.append(
            f'<rect x="{_num(x(bx[0]))}" y="{_num(y(by[1]))}" '
            f'width="{_num(max((bx[1] - bx[0]) * w, 1))}" '
            f'height="{_num(max((by[1] - by[0]) * h, 1))}" '
            f'stroke="{round_colour(k, len(regions))}" class="region">'
            f"<title>round {k}</title></rect>"
        )
    order = sorted(ok, key=lambda r: r.metrics[metric] if maximize else -r.metrics[metric])
    for i, r in enumerate(order):  # the best drawn last
        t = i / max(len(order) - 1, 1)
        cx = x(ax.unit(r.params[px.name], r.trial))
        cy = y(ay.unit(r.params[py.name], r.trial))
        ring = ' class="ring"' if r.trial in top else ""
        body.append(
            f'<circle cx="{_num(cx)}" cy="{_num(cy)}" r="{4.5 if ring else 3.2}" '
            f'fill="{colour(t)}"{ring} data-t="{r.trial}"/>'
        )
    return _svg(body, SIZE_W, SIZE_H, label=f"{metric} over {px.name} and {py.name}")


def _grid(x1: float, x2: float, y1: float, y2: float) -> str:
    return f'<line x1="{_num(x1)}" x2="{_num(x2)}" y1="{_num(y1)}" y2="{_num(y2)}" class="grid"/>'
