"""The metric against one parameter, on the parameter's own scale: fully trained trials as
points (the top ones in orange; coloured by round in a search of several), each round's range
shaded, failures as crosses at the worse edge, values far worse than the rest as triangles
there, and trials stopped early as grey ticks under the axis — their metric is from fewer
epochs, so it is not put on the same axis as the others'."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hpsearch.pages.svg import (
    BOTTOM,
    HEIGHT,
    RUG,
    TOP,
    Axis,
    Frame,
    _finite,
    _num,
    _svg,
    colour,
)
from hpsearch.record import TrialRecord
from hpsearch.space import ChoiceParam, NumericParam, Param


def scatter(
    p: Param,
    records: Sequence[TrialRecord],
    metric: str,
    span: tuple[float, float],
    maximize: bool,
    top: set[int],
    regions: Sequence[Any] = (),
) -> str:
    """The chart of ``p`` for ``records`` (already thinned), the metric's axis ``span``.
    With ``regions`` (each round's ``hpsearch.rounds.Region``, more than one), each trial
    is coloured by its round and each round's range of ``p`` is shaded in its colour."""
    axis = Axis(p)
    frame = Frame(*span)
    body = frame.axes(axis.ticks(), axis.name(), metric)
    many = len(regions) > 1
    for k, region in enumerate(regions if many else ()):
        band = _band(axis, region)
        whole = isinstance(p, NumericParam) and band == (axis.unit(p.low), axis.unit(p.high))
        if k and band is not None and not whole:  # a round of the whole range shades nothing
            x0, x1 = frame.x(band[0]), frame.x(band[1])
            body.append(
                f'<rect x="{_num(x0)}" y="{TOP}" width="{_num(max(x1 - x0, 1.0))}" '
                f'height="{HEIGHT - TOP - BOTTOM}" fill="{round_colour(k, len(regions))}" '
                'class="band"/>'
            )
    drawn = [r for r in records if p.name in r.params]
    drawn.sort(key=lambda r: (r.trial in top, r.ok))  # the top ones on top
    worse = frame.edge(bottom=maximize)
    for r in drawn:
        value = r.metrics.get(metric)
        x = frame.x(axis.unit(r.params[p.name], r.trial))
        if r.status == "stopped":
            y0 = HEIGHT - BOTTOM + RUG
            body.append(
                f'<line x1="{_num(x)}" x2="{_num(x)}" y1="{y0}" y2="{y0 + 7}" class="stopped-tick" '
                f'data-t="{r.trial}"/>'
            )
        elif r.ok and value is not None and _finite(value):
            t = frame.fraction(value)
            if t < -0.07 or t > 1.07:  # beyond the axis's focus: at its edge, a triangle
                tip = 4 if maximize else -4
                body.append(
                    f'<path d="M{_num(x - 3.5)} {_num(worse - tip)}l3.5 {2 * tip}l3.5 {-2 * tip}z" '
                    f'class="clip" data-t="{r.trial}"/>'
                )
                continue
            cls = "top" if r.trial in top else "ok"
            radius = 4.2 if r.trial in top else 2.8
            fill = ""
            if many and cls == "ok":
                cls, fill = "rd", f' fill="{round_colour(r.round, len(regions))}"'
            body.append(
                f'<circle cx="{_num(x)}" cy="{_num(frame.y(value))}" r="{radius}" '
                f'class="{cls}"{fill} data-t="{r.trial}"/>'
            )
        else:
            body.append(
                f'<path d="M{_num(x - 3)} {_num(worse - 3)}l6 6m0-6l-6 6" class="bad" '
                f'data-t="{r.trial}"/>'
            )
    return _svg(body, label=f"{metric} against {p.name}")


def round_colour(k: int, rounds: int) -> str:
    """Round ``k`` of ``rounds``: from light (the first) to dark (the last)."""
    return colour(min(k, rounds - 1) / max(rounds - 1, 1))


def _band(axis: Axis, region: Any) -> tuple[float, float] | None:
    """Where a region's range of the axis's parameter lies on [0, 1] (None: a choice)."""
    p = axis.p
    if isinstance(p, ChoiceParam):
        return None
    q = region.space.get(p.name)
    if isinstance(q, NumericParam):
        return axis.unit(q.low), axis.unit(q.high)
    if p.name in region.fixed:
        u = axis.unit(region.fixed[p.name])
        return u, u
    return None
