"""Hand-written SVG charts for the HTML report: small, no dependency, every point with a
``<title>`` (the browser shows it on hover: trial number and values), every text escaped.

Each numeric parameter is drawn on its own scale through the space's unit coordinate (so a
log axis is even per decade and a 1 − β axis even per decade of 1 − β, labelled in β); a
choice is a strip per value.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hpsearch.record import TrialRecord, format_metric
from hpsearch.space import ChoiceParam, NumericParam, Param
from hpsearch.visible import visible_lines

WIDTH, HEIGHT = 320, 210
LEFT, RIGHT, TOP, BOTTOM = 52, 24, 14, 40
RAMP = ("#fde725", "#5ec962", "#21918c", "#3b528b", "#440154")  # viridis: worst → best


def escape(text: str) -> str:
    """Text from a run, safe in HTML and as it is: ``< > & " '`` as entities, invisible
    characters escaped (``hpsearch.visible``). The page and its charts use only this."""
    return html.escape(visible_lines(text))


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _text(x: float, y: float, text: str, anchor: str = "middle", cls: str = "") -> str:
    klass = f' class="{cls}"' if cls else ""
    return f'<text x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}"{klass}>{escape(text)}</text>'


def _svg(body: list[str], width: int = WIDTH, height: int = HEIGHT, label: str = "") -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(label)}">'
        + "".join(body)
        + "</svg>"
    )


def colour(t: float) -> str:
    """A colour of the ramp for ``t`` in 0 (worst) .. 1 (best)."""
    t = min(max(t, 0.0), 1.0) * (len(RAMP) - 1)
    i = min(int(t), len(RAMP) - 2)
    a, b = RAMP[i], RAMP[i + 1]
    f = t - i
    mixed = [round(int(a[k : k + 2], 16) * (1 - f) + int(b[k : k + 2], 16) * f) for k in (1, 3, 5)]
    return "#" + "".join(f"{c:02x}" for c in mixed)


def label(record: TrialRecord, metric: str, params: Sequence[Param]) -> str:
    """A point's hover text: trial, status, metric and every value it has."""
    value = record.metrics.get(metric)
    shown = "-" if value is None else f"{value:.4g}"
    values = " ".join(
        f"{p.name}={p.format(record.params[p.name])}" for p in params if p.name in record.params
    )
    head = f"trial {record.trial} ({record.status}) {metric}={shown}"
    return f"{head}: {values}" if values else head


class Axis:
    """Where a parameter's values go on [0, 1], and its labelled ticks."""

    def __init__(self, p: Param) -> None:
        self.p = p

    def unit(self, value: Any, trial: int = 0) -> float:
        p = self.p
        if isinstance(p, ChoiceParam):
            n = len(p.choices)
            # A strip per value: the trials spread across it (by index, so the same each time).
            jitter = ((trial * 2654435761) % 1000 / 1000 - 0.5) * 0.5
            return (p.index(value) + 0.5 + jitter) / n
        return min(max(float(p.to_unit(value)), 0.0), 1.0)

    def ticks(self) -> list[tuple[float, str]]:
        p = self.p
        if isinstance(p, ChoiceParam):
            n = len(p.choices)
            return [((i + 0.5) / n, _short(p.format(c))) for i, c in enumerate(p.choices)]
        assert isinstance(p, NumericParam)
        values = p.scale.ticks(p.low, p.high)
        if p.integer:
            values = sorted({round(v) for v in values})
        if len(values) < 2:  # a narrow log range: its ends
            values = [p.low, p.high]
        return [(float(p.to_unit(v)), p.format(v)) for v in values if p.low <= v <= p.high]

    def name(self) -> str:
        p = self.p
        kind = "choice" if isinstance(p, ChoiceParam) else p.kind + (", int" if p.integer else "")
        return f"{p.name} ({kind})"


def _short(text: str, limit: int = 12) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


PAD = 0.06  # of the plot's height, above and below the values


class Frame:
    """A plot area: x in [0, 1] and y in [low, high] (finite numbers) to pixels. Computed on
    halves, so that a range as wide as the floats (−1.7e308 … 1.7e308) does not overflow; a
    range of one value (or one too narrow for its magnitude) puts everything in the middle."""

    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = low, high
        self.half = 0.5 * high - 0.5 * low

    def fraction(self, v: float) -> float:
        """Where ``v`` lies between low (0) and high (1); 0.5 for a range of one value."""
        t = 0.5 if self.half <= 0 else (0.5 * v - 0.5 * self.low) / self.half
        return t if math.isfinite(t) else 0.5

    def unit(self, v: float) -> float:
        """``fraction`` with the padding: 0 is the plot's bottom, 1 its top."""
        return (min(max(self.fraction(v), -PAD), 1 + PAD) + PAD) / (1 + 2 * PAD)

    def x(self, u: float) -> float:
        return LEFT + u * (WIDTH - LEFT - RIGHT)

    def y(self, v: float) -> float:
        return HEIGHT - BOTTOM - self.unit(v) * (HEIGHT - BOTTOM - TOP)

    def edge(self, bottom: bool) -> float:
        """The pixel row of the plot's bottom (or top) edge: where failures go."""
        return HEIGHT - BOTTOM - 2 if bottom else TOP + 2

    def axes(self, xticks: list[tuple[float, str]], xname: str, yname: str) -> list[str]:
        body = [
            f'<rect x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" '
            f'height="{HEIGHT - TOP - BOTTOM}" class="frame"/>'
        ]
        every = max(1, math.ceil(len(xticks) / 6))  # at most ~6 labels
        for i, (u, text) in enumerate(xticks):
            x = self.x(u)
            body.append(
                f'<line x1="{_num(x)}" x2="{_num(x)}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" '
                'class="grid"/>'
            )
            if i % every == 0:
                body.append(_text(x, HEIGHT - BOTTOM + 13, text, cls="tick"))
        for v in _nice(self.low, self.high):
            y = self.y(v)
            body.append(
                f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_num(y)}" y2="{_num(y)}" '
                'class="grid"/>'
            )
            body.append(_text(LEFT - 4, y + 3, f"{v:.4g}", anchor="end", cls="tick"))
        body.append(_text((LEFT + WIDTH - RIGHT) / 2, HEIGHT - 6, xname, cls="name"))
        body.append(
            f'<text x="12" y="{(TOP + HEIGHT - BOTTOM) / 2:.0f}" text-anchor="middle" '
            f'class="name" transform="rotate(-90 12 {(TOP + HEIGHT - BOTTOM) / 2:.0f})">'
            f"{escape(yname)}</text>"
        )
        return body


def _nice(low: float, high: float, count: int = 4) -> list[float]:
    """Round tick values inside [low, high] (the two ends where no round step fits)."""
    span = high - low
    if not math.isfinite(span) or span <= 0 or span < abs(high) * 1e-12:
        return [low] if low == high else [low, high]
    step = 10 ** math.floor(math.log10(span / count))
    for m in (1, 2, 5, 10):
        if span / (step * m) <= count + 1:
            step *= m
            break
    first = math.ceil(low / step) * step
    return [first + k * step for k in range(int((high - first) / step) + 1)]


def metric_range(records: Sequence[TrialRecord], metric: str) -> tuple[float, float] | None:
    values = [
        r.metrics[metric]
        for r in records
        if (r.ok or r.status == "stopped") and _finite(r.metrics.get(metric))
    ]
    return (min(values), max(values)) if values else None


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def scatter(
    p: Param,
    records: Sequence[TrialRecord],
    metric: str,
    maximize: bool,
    top: set[int],
    params: Sequence[Param],
    regions: Sequence[Any] = (),
) -> str:
    """The metric against ``p`` on its scale: ok trials (the top ones highlighted), trials
    stopped early in grey, failures as crosses at the worst edge. With ``regions`` (each
    round's ``hpsearch.rounds.Region``, more than one), each trial is coloured by its round
    and each round's range of ``p`` is shaded in its colour."""
    axis = Axis(p)
    span = metric_range(records, metric) or (0.0, 1.0)
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
    for r in drawn:
        value = r.metrics.get(metric)
        x = frame.x(axis.unit(r.params[p.name], r.trial))
        if (r.ok or r.status == "stopped") and value is not None and _finite(value):
            cls = "top" if r.trial in top else ("ok" if r.ok else "stopped")
            radius = 4 if r.trial in top else 2.6
            fill = ""
            if many and cls == "ok":
                cls, fill = "rd", f' fill="{round_colour(r.round, len(regions))}"'
            body.append(
                f'<circle cx="{_num(x)}" cy="{_num(frame.y(value))}" r="{radius}" '
                f'class="{cls}"{fill} data-t="{r.trial}"/>'
            )
        else:
            y = frame.edge(bottom=maximize)
            body.append(
                f'<path d="M{_num(x - 3)} {_num(y - 3)}l6 6m0-6l-6 6" class="bad" '
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


def parallel(
    params: Sequence[Param], records: Sequence[TrialRecord], metric: str, maximize: bool
) -> str:
    """Parallel coordinates: an axis per parameter, a line per ok trial coloured by its
    metric (dark: best). A conditional parameter's axis is skipped where it was inactive."""
    ok = [r for r in records if r.ok and _finite(r.metrics.get(metric))]
    values = [r.metrics[metric] for r in ok]
    caption = (
        f"colour: rank by {_short(metric, 30)}, dark = best "
        f"({format_metric(min(values))} … {format_metric(max(values))})"
        if values
        else ""
    )
    # Wide enough for the caption too (at most 7.5 px a character at the page's size).
    width = max(WIDTH, 110 * len(params) + 90, int(7.5 * len(caption)) + 20)
    height = 260
    top_y, bottom_y = 24, height - 40
    if not params or not ok:
        return _svg([_text(width / 2, height / 2, "no ok trial to draw")], width, height)
    # The last axis leaves room on its right for its tick labels (12 characters at most).
    xs = [40 + i * (width - 130) / max(len(params) - 1, 1) for i in range(len(params))]
    axes = [Axis(p) for p in params]
    # Coloured by rank, not by value: any range of values (1e308 wide, or all equal) works.
    order = sorted(ok, key=lambda r: r.metrics[metric] if maximize else -r.metrics[metric])
    position = {r.trial: i / max(len(order) - 1, 1) for i, r in enumerate(order)}

    def rank(v: TrialRecord) -> float:
        return position[v.trial] if len(order) > 1 else 1.0

    body = []
    for r in order:  # the best drawn last
        path, pen = [], "M"
        for x, axis in zip(xs, axes, strict=True):
            if axis.p.name not in r.params:
                pen = "M"
                continue
            y = bottom_y - axis.unit(r.params[axis.p.name], r.trial) * (bottom_y - top_y)
            path.append(f"{pen}{_num(x)} {_num(y)}")
            pen = "L"
        body.append(
            f'<path d="{"".join(path)}" stroke="{colour(rank(r))}" class="line" '
            f'data-t="{r.trial}"/>'
        )
    for x, axis in zip(xs, axes, strict=True):
        body.append(
            f'<line x1="{_num(x)}" x2="{_num(x)}" y1="{top_y}" y2="{bottom_y}" class="axis"/>'
        )
        for u, text in axis.ticks():
            y = bottom_y - u * (bottom_y - top_y)
            body.append(_text(x + 4, y + 3, text, anchor="start", cls="tick"))
        body.append(_text(x, top_y - 8, axis.p.name, cls="name"))
    body.append(_text(width / 2, height - 10, caption))
    return _svg(body, width, height, label="parallel coordinates")


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
    for i, (r, _, points) in enumerate(series):
        d = "".join(
            f"{'M' if j == 0 else 'L'}{_num(frame.x(unit(e)))} {_num(frame.y(v))}"
            for j, (e, v) in enumerate(points)
        )
        body.append(
            f'<path d="{d}" stroke="{colour(1 - i / max(len(series), 2))}" class="curve" '
            f'data-t="{r.trial}"/>'
        )
    return _svg(body, label="learning curves")


def bars(rows: Sequence[tuple[str, float, float]], caption: Callable[[float], str]) -> str:
    """Horizontal bars: (name, value in 0..1, chance level in 0..1), the chance level a tick."""
    height = 26 + 22 * len(rows)
    body = []
    for i, (name, value, chance) in enumerate(rows):
        value = value if math.isfinite(value) else 0.0
        chance = chance if math.isfinite(chance) else 0.0
        y = 14 + 22 * i
        body.append(_text(120, y + 12, _short(name, 18), anchor="end", cls="tick"))
        w = max(value, 0.0) * 170
        body.append(f'<rect x="126" y="{y}" width="{_num(w)}" height="15" class="bar"/>')
        cx = 126 + min(max(chance, 0.0), 1.0) * 170
        body.append(
            f'<line x1="{_num(cx)}" x2="{_num(cx)}" y1="{y - 2}" y2="{y + 17}" class="chance">'
            "<title>chance level</title></line>"
        )
        body.append(_text(126 + w + 4, y + 12, caption(value), anchor="start", cls="tick"))
    return _svg(body, 380, height, label="importance")
