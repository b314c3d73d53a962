"""Hand-written SVG charts for the HTML report: small, no dependency, every point with a
``<title>`` (the browser shows it on hover: trial number and values), every text escaped.

Each numeric parameter is drawn on its own scale through the space's unit coordinate (so a
log axis is even per decade and a 1 − β axis even per decade of 1 − β, labelled in β); a
choice is a strip per value.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from typing import Any

from hpsearch.record import TrialRecord
from hpsearch.space import ChoiceParam, NumericParam, Param
from hpsearch.visible import visible_lines

WIDTH, HEIGHT = 520, 300  # two to a row of the page's 1,100 px
LEFT, RIGHT, TOP, BOTTOM = 62, 24, 16, 52
RUG = 3  # below the plot: a strip of ticks for trials without a value on its axis
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
                body.append(_text(x, HEIGHT - BOTTOM + 22, text, cls="tick"))
        for v in _nice(self.low, self.high, 6):
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


def focus_range(values: Sequence[float], maximize: bool) -> tuple[float, float] | None:
    """The metric's axis: from the best value to the worse quartile's edge and as far again
    past it, so the band where the good trials sit is not squashed against one edge by a few
    far worse ones (those are drawn at the worse edge, marked as beyond it)."""
    finite = sorted(v for v in values if _finite(v))
    if not finite:
        return None
    low, high = finite[0], finite[-1]
    if len(finite) < 10:
        return low, high
    if maximize:
        edge = finite[len(finite) // 4]
        low = max(low, edge - (high - edge))
    else:
        edge = finite[-1 - len(finite) // 4]
        high = min(high, edge + (edge - low))
    return low, high


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def bars(rows: Sequence[tuple[str, float, float]], caption: Callable[[float], str]) -> str:
    """Horizontal bars: (name, value in 0..1, chance level in 0..1), the chance level a tick."""
    height = 26 + 22 * len(rows)
    body = []
    for i, (name, value, chance) in enumerate(rows):
        value = value if math.isfinite(value) else 0.0
        chance = chance if math.isfinite(chance) else 0.0
        y = 14 + 22 * i
        body.append(_text(120, y + 12, _short(name, 18), anchor="end", cls="tick"))
        w = min(max(value, 0.0), 1.0) * 400
        body.append(f'<rect x="126" y="{y}" width="{_num(w)}" height="15" class="bar"/>')
        cx = 126 + min(max(chance, 0.0), 1.0) * 400
        body.append(
            f'<line x1="{_num(cx)}" x2="{_num(cx)}" y1="{y - 2}" y2="{y + 17}" class="chance">'
            "<title>chance level</title></line>"
        )
        after = max(126 + w, cx) + 5  # the number clear of the bar and of the chance tick
        body.append(_text(after, y + 12, caption(value), anchor="start", cls="tick"))
    return _svg(body, 600, height, label="importance")
