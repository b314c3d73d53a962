"""What a report draws when a run is large: a few thousand points at most per chart (the
top trials always among them), a few dozen parameters at most (the most important first),
the leaderboard's top rows. The whole table travels as a compressed CSV to download, so a
50,000-trial run or a 500-parameter space still makes a page that loads in a second or two."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from hpsearch.record import TrialRecord
from hpsearch.space import Param

POINTS = 2_000  # points (or lines) a chart draws at most
LINES = 400  # lines of the parallel coordinates at most (each is a path across every axis)
ROWS = 500  # leaderboard rows in the page (all of them in its CSV)
PARAMS = 16  # parameters given a chart, a leaderboard column and an axis at most


def thin(records: Sequence[TrialRecord], keep: Iterable[int], limit: int) -> list[TrialRecord]:
    """At most ``limit`` of ``records`` (in their order): every trial in ``keep``, then an
    even spread of the others, chosen by a hash of the trial number (the same every time,
    and not every k-th trial, which would follow the rounds' order)."""
    if len(records) <= limit:
        return list(records)
    kept = set(keep)
    rest = sorted(
        (r for r in records if r.trial not in kept), key=lambda r: (r.trial * 2654435761) % 2**32
    )
    chosen = kept | {r.trial for r in rest[: max(limit - len(kept), 0)]}
    return [r for r in records if r.trial in chosen]


def shown_params(space: Iterable[Param], importance: Any) -> list[Param]:
    """The parameters a report charts: all of them, or the ``PARAMS`` most important (by
    ``hpsearch importance``; the space's order where it says nothing)."""
    params = list(space)
    if len(params) <= PARAMS:
        return params
    order = [i.name for i in importance.params] if importance is not None else []
    rank = {name: k for k, name in enumerate(order)}
    params.sort(key=lambda p: rank.get(p.name, len(rank)))
    return params[:PARAMS]


def drawn_note(drawn: int, total: int, what: str = "trials") -> str:
    """The caption's words when a chart draws fewer than all: empty when it draws all."""
    if drawn >= total:
        return ""
    return (
        f"; {drawn:,} of the {total:,} {what} drawn (the top ones and an even sample of the "
        "rest; the CSV under the leaderboard has all)"
    )
