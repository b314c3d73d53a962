"""What a set of trial records says: which is better, the ranking, the best, the counts.

``Goal`` (a metric and a ``Direction``) is the one place that knows which of two values is
better, and ``Goal.rank`` the one ranking (ties by trial index, unique over a search): every
command, file and report names the same best. Everything here is computed from records alone.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from hpsearch.record import STATUSES, TrialRecord


class Direction(Enum):
    MAXIMIZE = "maximize"
    MINIMIZE = "minimize"

    def better(self, a: float, b: float) -> bool:
        """``a`` is strictly better than ``b``."""
        return a > b if self is Direction.MAXIMIZE else a < b

    def sort_key(self, value: float) -> float:
        """Smaller is better, for sorting."""
        return -value if self is Direction.MAXIMIZE else value


@dataclass(frozen=True)
class Goal:
    """What a search optimises: ``metric`` in ``direction``."""

    metric: str
    direction: Direction

    @classmethod
    def of(cls, metric: str, direction: str | Direction) -> Goal:
        return cls(metric, Direction(direction))

    def value(self, record: TrialRecord) -> float | None:
        return record.value(self.metric)

    def rank(self, records: Iterable[TrialRecord]) -> list[TrialRecord]:
        """Best first; then trials stopped early, the furthest trained first, each epoch
        count by its metric there; trials without the metric (failures) last, by index;
        ties by index."""

        def key(r: TrialRecord) -> tuple:
            value = r.value(self.metric)
            if value is not None:
                return (0, 0, self.direction.sort_key(value), r.trial)
            value = r.metrics.get(self.metric) if r.status == "stopped" else None
            if value is not None:
                return (1, -(r.epochs or 0), self.direction.sort_key(value), r.trial)
            return (2, 0, 0.0, r.trial)

        return sorted(records, key=key)

    def best(self, records: Iterable[TrialRecord]) -> TrialRecord | None:
        """The best ok trial that reported the metric, or None."""
        ranked = self.rank(records)
        return ranked[0] if ranked and ranked[0].value(self.metric) is not None else None

    def top(
        self, records: Iterable[TrialRecord], count: int | None, fraction: float | None = None
    ) -> list[TrialRecord]:
        """The best ok trials: ``count`` of them, or ``fraction`` of them (at least one)."""
        ok = [r for r in self.rank(records) if r.value(self.metric) is not None]
        if count is None:
            count = max(1, math.ceil((fraction or 0) * len(ok)))
        return ok[:count]

    def misses(self, value: float, threshold: float) -> bool:
        """``value`` is worse than ``threshold`` (``--fail-under``)."""
        return self.direction.better(threshold, value)

    def extra_fields(self, ranked: Sequence[TrialRecord]) -> dict[str, Any]:
        """Summary fields beyond the best (several goals: the Pareto front)."""
        return {}


def counts(records: Iterable[TrialRecord]) -> dict[str, int]:
    """How many trials ended in each status (every status named, in a fixed order)."""
    found = {s: 0 for s in STATUSES}
    for r in records:
        found[r.status] += 1
    return found


def best_summary(record: TrialRecord, metric: str) -> dict[str, Any]:
    """The ``best`` entry of a summary: the trial, its round, value, params and seed."""
    return {
        "trial": record.trial,
        "round": record.round,
        "value": record.metrics.get(metric),
        "params": dict(record.params),
        "seed": record.seed,
    }


def result_fields(goal: Goal, records: Sequence[TrialRecord]) -> dict[str, Any]:
    """The summary fields that follow from the records: counts and the best."""
    ranked = goal.rank(records)
    best = goal.best(ranked)
    return {
        "trials_done": len(records),
        "counts": counts(records),
        "best": None if best is None else best_summary(best, goal.metric),
        **goal.extra_fields(ranked),
    }


def failures_by_reason(records: Iterable[TrialRecord]) -> list[dict[str, Any]]:
    """Failed / diverged / timed-out trials grouped by their reason, most common first."""
    groups: dict[tuple[str, str], list[int]] = {}
    for r in records:
        if not r.ok and r.status != "stopped":
            groups.setdefault((r.status, r.error or "(no reason)"), []).append(r.trial)
    return [
        {"status": status, "reason": reason, "count": len(trials), "trials": trials}
        for (status, reason), trials in sorted(groups.items(), key=lambda kv: -len(kv[1]))
    ]
