"""The optimisation history (issue 25's first chart): every fully trained trial's metric
against its trial number, the best so far as a step line, each round's first trial a dotted
line — how a search got where it is, and whether its last rounds still found anything."""

from __future__ import annotations

from collections.abc import Sequence

from hpsearch.pages.svg import (
    BOTTOM,
    HEIGHT,
    TOP,
    Frame,
    _finite,
    _nice,
    _num,
    _svg,
    escape,
    metric_range,
)
from hpsearch.record import TrialRecord, format_metric


def history(
    records: Sequence[TrialRecord], metric: str, maximize: bool, firsts: Sequence[int] = ()
) -> str | None:
    """The chart, or None without an ok trial. ``firsts``: each round's first trial after
    round 0 (drawn as dotted lines)."""
    ok = sorted(
        (r for r in records if r.ok and _finite(r.metrics.get(metric))), key=lambda r: r.trial
    )
    span = metric_range(ok, metric)
    if not ok or span is None:
        return None
    frame = Frame(*span)
    last = max(r.trial for r in records) or 1
    at = Frame(0, last).fraction
    ticks = [(at(t), f"{t:g}") for t in _nice(0, last, 5) if 0 <= t <= last]
    body = frame.axes(ticks, "trial (dotted: a new round)", metric)
    for first in firsts:
        x = frame.x(at(first))
        body.append(
            f'<line x1="{_num(x)}" x2="{_num(x)}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" class="rung"/>'
        )
    best: float | None = None
    steps: list[str] = []
    for r in ok:
        value = float(r.metrics[metric])
        x, y = frame.x(at(r.trial)), frame.y(value)
        body.append(
            f'<circle cx="{_num(x)}" cy="{_num(y)}" r="2.4" class="ok" data-t="{r.trial}">'
            f"<title>trial {r.trial}: {escape(format_metric(value))}</title></circle>"
        )
        if best is None or (value > best if maximize else value < best):
            if best is not None:
                steps.append(f"L{_num(x)} {_num(frame.y(best))}")
            steps.append(f"{'M' if best is None else 'L'}{_num(x)} {_num(y)}")
            best = value
    if best is not None:
        steps.append(f"L{_num(frame.x(1.0))} {_num(frame.y(best))}")
    body.append(f'<path d="{"".join(steps)}" class="best-line"/>')
    return _svg(body, label=f"best {metric} so far against the trial number")
