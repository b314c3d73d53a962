"""The workers' timeline: a row per worker, a bar per training of a trial (where and when it
ran, coloured by how it ended), the gaps between them the workers' idle time — waiting for a
rung's results, for a round's model, or for the driver. Read from timeline.jsonl."""

from __future__ import annotations

import math
from collections.abc import Sequence

from hpsearch.pages.svg import _nice, _num, _short, _svg, _text
from hpsearch.store.timeline import Span

ROWS = 64  # workers drawn at most
FILL = {"ok": "#4c78a8", "stopped": "#9ab0c8"}  # anything else: a failure's red


def busy_share(spans: Sequence[Span]) -> float | None:
    """The share of the workers' time spent training, from the first start to the last end."""
    if not spans:
        return None
    start = min(s.started for s in spans)
    end = max(s.ended for s in spans)
    workers = len({s.worker for s in spans})
    total = (end - start) * workers
    if not math.isfinite(total) or total <= 0:
        return None
    return min(sum(s.seconds for s in spans) / total, 1.0)


def timeline(spans: Sequence[Span]) -> str | None:
    """The chart, or None without a span."""
    if not spans:
        return None
    start = min(s.started for s in spans)
    end = max(s.ended for s in spans)
    length = max(end - start, 1e-3)
    if not math.isfinite(length) or length > 1e9:  # a hand-edited time: no picture
        return None
    first: dict[str, float] = {}
    for s in spans:
        first[s.worker] = min(first.get(s.worker, s.started), s.started)
    workers = sorted(first, key=lambda w: (first[w], w))
    shown = workers[:ROWS]
    row = {w: i for i, w in enumerate(shown)}
    height_row = 18 if len(shown) <= 16 else 10
    left, right, top = 130, 20, 10
    width = 1050
    plot_w = width - left - right
    height = top + height_row * len(shown) + 40
    unit, scale = ("min", 60.0) if length > 600 else ("s", 1.0)
    body = []
    for t in _nice(0, length / scale, 8):
        x = left + t * scale / length * plot_w
        body.append(
            f'<line x1="{_num(x)}" x2="{_num(x)}" y1="{top}" y2="{top + height_row * len(shown)}" '
            'class="grid"/>'
        )
        body.append(_text(x, top + height_row * len(shown) + 14, f"{t:g}", cls="tick"))
    body.append(_text(left + plot_w / 2, height - 8, f"wall time, {unit}", cls="name"))
    for w, i in row.items():
        y = top + i * height_row + height_row / 2 + 3
        body.append(_text(left - 6, y, f"{i + 1}: {_short(w, 16)}", anchor="end", cls="tick"))
    # A bar narrower than a pixel is merged into its worker's bar before it (50,000 trials).
    last: dict[str, int] = {}  # each worker's bar before, by its index in ``bars``
    bars: list[list] = []  # worker, x0, x1, fill, trial (None: merged, or too thin to hover)
    for s in sorted(spans, key=lambda s: (s.started, s.trial)):
        if s.worker not in row:
            continue
        x0 = left + (s.started - start) / length * plot_w
        x1 = left + (s.ended - start) / length * plot_w
        fill = FILL.get(s.status, "#d62728")
        k = last.get(s.worker)
        if k is not None and x1 - x0 < 1 and x0 - bars[k][2] < 1 and bars[k][4] is None:
            bars[k][2] = max(bars[k][2], x1)
            continue
        last[s.worker] = len(bars)
        bars.append([s.worker, x0, x1, fill, s.trial if x1 - x0 >= 1 else None])
    for w, x0, x1, fill, trial in bars:
        y = top + row[w] * height_row + 2
        hover = f' data-t="{trial}"' if trial is not None else ""
        body.append(
            f'<rect x="{_num(x0)}" y="{_num(y)}" width="{_num(max(x1 - x0, 1.0))}" '
            f'height="{height_row - 4}" fill="{fill}" class="span"{hover}/>'
        )
    return _svg(body, width, height, label="the workers' timeline")
