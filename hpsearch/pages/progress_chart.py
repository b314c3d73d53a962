"""The optimisation history: every fully trained trial's metric against its trial number (or
the wall time it finished at), the best so far as a step line, each round's first trial a
dotted line — how a search got where it is, and whether its last rounds still found anything."""

from __future__ import annotations

from collections.abc import Sequence

from hpsearch.pages.sizing import thin
from hpsearch.pages.svg import (
    BOTTOM,
    HEIGHT,
    TOP,
    Frame,
    _finite,
    _nice,
    _num,
    _svg,
)
from hpsearch.record import TrialRecord


def history(
    records: Sequence[TrialRecord],
    metric: str,
    span: tuple[float, float],
    maximize: bool,
    firsts: Sequence[int] = (),
    limit: int = 2_000,
) -> str | None:
    """By trial number, or None without an ok trial. ``firsts``: each round's first trial
    after round 0 (dotted lines)."""
    ok = sorted(
        (r for r in records if r.ok and _finite(r.metrics.get(metric))), key=lambda r: r.trial
    )
    if not ok:
        return None
    last = max(r.trial for r in records) or 1
    points = [(float(r.trial), r) for r in ok]
    return _chart(points, 0.0, float(last), "trial", metric, span, maximize, firsts, limit)


def history_by_time(
    records: Sequence[TrialRecord],
    finished: dict[int, float],
    metric: str,
    span: tuple[float, float],
    maximize: bool,
    round_starts: Sequence[float] = (),
    limit: int = 2_000,
) -> str | None:
    """By the seconds since the search's first training began at which each trial finished
    (``finished``, from timeline.jsonl), or None when the timeline says nothing."""
    ok = [r for r in records if r.ok and _finite(r.metrics.get(metric)) and r.trial in finished]
    if not ok or not finished:
        return None
    ok.sort(key=lambda r: (finished[r.trial], r.trial))
    points = [(finished[r.trial], r) for r in ok]
    last = max(finished.values()) or 1.0
    unit, scale = ("min", 60.0) if last > 600 else ("s", 1.0)
    points = [(x / scale, r) for x, r in points]
    marks = [t / scale for t in round_starts]
    return _chart(
        points, 0.0, last / scale, f"wall time, {unit}", metric, span, maximize, marks, limit
    )


def _chart(
    points: list[tuple[float, TrialRecord]],
    first: float,
    last: float,
    xname: str,
    metric: str,
    span: tuple[float, float],
    maximize: bool,
    marks: Sequence[float],
    limit: int,
) -> str:
    frame = Frame(*span)
    at = Frame(first, last).fraction
    ticks = [(at(t), f"{t:g}") for t in _nice(first, last, 6) if first <= t <= last]
    body = frame.axes(ticks, f"{xname} (dotted: a new round)" if marks else xname, metric)
    for mark in marks:
        x = frame.x(at(mark))
        body.append(
            f'<line x1="{_num(x)}" x2="{_num(x)}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" class="rung"/>'
        )
    best: float | None = None
    steps: list[str] = []
    records = [r for _, r in points]
    leaders: list[int] = []  # the trials that set a new best: always drawn
    for where, r in points:
        value = float(r.metrics[metric])
        if best is None or (value > best if maximize else value < best):
            x, y = frame.x(at(where)), frame.y(value)
            if best is not None:
                steps.append(f"L{_num(x)} {_num(frame.y(best))}")
            steps.append(f"{'M' if best is None else 'L'}{_num(x)} {_num(y)}")
            best = value
            leaders.append(r.trial)
    drawn = {r.trial for r in thin(records, leaders, limit)}
    for where, r in points:
        if r.trial not in drawn:
            continue
        value = float(r.metrics[metric])
        t = frame.fraction(value)
        cls = "ok" if -0.07 <= t <= 1.07 else "clip"
        body.append(
            f'<circle cx="{_num(frame.x(at(where)))}" cy="{_num(frame.y(value))}" r="2.4" '
            f'class="{cls}" data-t="{r.trial}"/>'
        )
    if best is not None:
        steps.append(f"L{_num(frame.x(1.0))} {_num(frame.y(best))}")
    body.append(f'<path d="{"".join(steps)}" class="best-line"/>')
    return _svg(body, label=f"best {metric} so far against the {xname}")
