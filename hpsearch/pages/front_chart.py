"""Several goals in the report: the Pareto front in 2-D (a chart per pair of metrics beyond
two), every fully trained trial a point, the front's trials in orange joined by its steps,
trials that break a constraint as open red circles; and the hypervolume of the front after
each trial — how much of the metrics' space the search had covered, and when it stopped
growing."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from hpsearch.goals import ParetoGoal, measure
from hpsearch.pages.sizing import POINTS, thin
from hpsearch.pages.svg import Frame, _nice, _num, _svg, _text, focus_range
from hpsearch.pareto import hypervolume
from hpsearch.record import TrialRecord

PAIRS = 6  # charts of pairs at most (four metrics)
CHECKPOINTS = 200  # points of the hypervolume history at most


def front_charts(goal: ParetoGoal, records: Sequence[TrialRecord]) -> list[str]:
    """A chart per pair of the goal's metrics (none with fewer than two ok trials)."""
    ok = [r for r in records if goal.point(r) is not None]
    if len(ok) < 2 or len(goal.objectives) < 2:
        return []
    front = {r.trial for r in goal.front(ok)}
    drawn = thin(ok, front, POINTS)  # a large run: the front and an even sample of the rest
    charts = []
    for gx, gy in itertools.islice(itertools.combinations(goal.objectives, 2), PAIRS):
        charts.append(_pair(goal, drawn, front, gx.metric, gy.metric))
    return charts


def _pair(goal: ParetoGoal, ok: list[TrialRecord], front: set[int], mx: str, my: str) -> str:
    xs = [measure(r, mx) or 0.0 for r in ok]  # every metric of an ok trial is there
    ys = [measure(r, my) or 0.0 for r in ok]
    # Each axis on the band where the trials are (far worse ones at its edge), as elsewhere.
    up = [g is not None and g.direction.value == "maximize" for g in map(goal.objective, (mx, my))]
    x_span = focus_range(xs, up[0]) or (min(xs), max(xs))
    y_span = focus_range(ys, up[1]) or (min(ys), max(ys))
    xf, yf = Frame(*x_span), Frame(*y_span)
    ticks = [(xf.fraction(t), f"{t:.4g}") for t in _nice(*x_span, 6)]
    body = yf.axes(ticks, mx, my)
    on_front = []
    for r, x, y in zip(ok, xs, ys, strict=True):
        px, py = yf.x(min(max(xf.fraction(x), -0.02), 1.02)), yf.y(y)
        if r.trial in front:
            on_front.append((px, py, r.trial))
            continue
        cls = "ok" if goal.feasible(r) else "infeasible"
        body.append(_point(px, py, 2.8, cls, r.trial))
    on_front.sort()
    if len(on_front) > 1:  # the front's steps: each corner the worse of its two trials
        gx = goal.objective(mx)
        x_minimised = gx is not None and gx.direction.value == "minimize"
        steps = [f"M{_num(on_front[0][0])} {_num(on_front[0][1])}"]
        for (x0, y0, _), (x1, y1, _) in itertools.pairwise(on_front):
            cx, cy = (x1, y0) if x_minimised else (x0, y1)
            steps.append(f"L{_num(cx)} {_num(cy)}L{_num(x1)} {_num(y1)}")
        body.append(f'<path d="{"".join(steps)}" class="front-line"/>')
    for px, py, trial in on_front:
        body.append(_point(px, py, 4.2, "top", trial))
    return _svg(body, label=f"the Pareto front of {mx} and {my}")


def _point(x: float, y: float, radius: float, cls: str, trial: int) -> str:
    return f'<circle cx="{_num(x)}" cy="{_num(y)}" r="{radius}" class="{cls}" data-t="{trial}"/>'


def hypervolume_history(goal: ParetoGoal, records: Sequence[TrialRecord]) -> str | None:
    """The front's hypervolume after each trial (in the order of trial numbers), the metrics
    scaled to [0, 1] over every fully trained trial and the reference point their worst:
    1 would be one trial best on every metric at once."""
    if len(goal.objectives) > 3:  # exact hypervolume grows too fast with more metrics
        return None
    ordered = sorted(records, key=lambda r: r.trial)
    points = {r.trial: goal.point(r) for r in ordered if goal.feasible(r)}
    rows = np.array([p for p in points.values() if p is not None], dtype=float)
    if len(rows) < 2:
        return None
    low, high = rows.min(axis=0), rows.max(axis=0)
    scale = np.where(high > low, high - low, 1.0)
    last = ordered[-1].trial or 1
    marks = sorted({round(last * k / CHECKPOINTS) for k in range(1, CHECKPOINTS + 1)})
    reference = np.ones(rows.shape[1])
    history, seen, k = [], [], 0
    for r in ordered:
        p = points.get(r.trial)
        if p is not None:
            seen.append((np.array(p) - low) / scale)
        while k < len(marks) and marks[k] <= r.trial:
            history.append((marks[k], hypervolume(np.array(seen), reference) if seen else 0.0))
            k += 1
    frame = Frame(0.0, max(v for _, v in history) or 1.0)
    at = Frame(0, last).fraction
    ticks = [(at(t), f"{t:g}") for t in _nice(0, last, 6) if 0 <= t <= last]
    body = frame.axes(ticks, "trial", "hypervolume (scaled)")
    d = "".join(
        f"{'M' if i == 0 else 'L'}{_num(frame.x(at(t)))} {_num(frame.y(v))}"
        for i, (t, v) in enumerate(history)
    )
    body.append(f'<path d="{d}" class="best-line"/>')
    body.append(_text(frame.x(1.0) - 4, 30, f"{history[-1][1]:.3f}", anchor="end", cls="tick"))
    return _svg(body, label="hypervolume of the front after each trial")
