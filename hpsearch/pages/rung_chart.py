"""Early stopping drawn apart: every trial at each rung it reached (its metric there against
the epochs), a line joining a trial's rungs, trials stopped at a rung in grey, those trained
in full in blue, the top ones in orange — so a trial stopped after 3 epochs is read against
the others after 3 epochs, not against fully trained ones."""

from __future__ import annotations

from collections.abc import Sequence

from hpsearch.pages.sizing import thin
from hpsearch.pages.svg import BOTTOM, HEIGHT, TOP, Frame, _finite, _num, _svg, focus_range
from hpsearch.record import TrialRecord

LIMIT = 600  # trials drawn at most (each a line over its rungs)


def rung_chart(
    trained: Sequence[tuple[int, TrialRecord]],
    final: dict[int, TrialRecord],
    metric: str,
    maximize: bool,
    top: set[int],
) -> str | None:
    """The chart, or None without two rungs' results."""
    points: dict[int, list[tuple[int, float]]] = {}
    for epochs, record in trained:
        value = record.metrics.get(metric)
        if record.ok and value is not None and _finite(value):
            points.setdefault(record.trial, []).append((epochs, float(value)))
    budgets = sorted({e for pts in points.values() for e, _ in pts})
    if len(budgets) < 2:
        return None
    span = focus_range([v for pts in points.values() for _, v in pts], maximize)
    frame = Frame(*(span or (0.0, 1.0)))
    at = {e: (k + 0.5) / len(budgets) for k, e in enumerate(budgets)}  # a column per rung
    body = frame.axes([(at[e], str(e)) for e in budgets], "epochs reached (a rung each)", metric)
    ranked = sorted(points, key=lambda t: max(e for e, _ in points[t]))
    keep = [t for t in ranked if t in top or (final.get(t) is not None and final[t].ok)]
    records = [final[t] for t in ranked if t in final]
    drawn = {r.trial for r in thin(records, keep, LIMIT)}
    for trial in ranked:  # those that went furthest drawn last
        if trial not in drawn:
            continue
        pts = sorted(points[trial])
        status = final[trial].status if trial in final else "stopped"
        cls = "top" if trial in top else ("ok" if status == "ok" else "stopped")
        xy = [(frame.x(at[e]) + _jitter(trial), frame.y(v)) for e, v in pts]
        if len(xy) > 1:
            d = "".join(
                f"{'M' if i == 0 else 'L'}{_num(x)} {_num(y)}" for i, (x, y) in enumerate(xy)
            )
            body.append(f'<path d="{d}" class="rung-path {cls}-path" data-t="{trial}"/>')
        for x, y in xy:
            body.append(
                f'<circle cx="{_num(x)}" cy="{_num(min(max(y, TOP), HEIGHT - BOTTOM))}" '
                f'r="{4 if cls == "top" else 2.6}" class="{cls}" data-t="{trial}"/>'
            )
    return _svg(body, label=f"{metric} at each rung")


def _jitter(trial: int) -> float:
    """Trials at one rung spread a little across its column (by number: the same each time)."""
    return ((trial * 2654435761) % 1000 / 1000 - 0.5) * 60
