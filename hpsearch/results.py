"""What a set of trial records says: which is better, the ranking, the best, the leaderboard.

``Goal`` (a metric and a ``Direction``) is the one place that knows which of two values is
better. Everything here is computed from records alone; the store writes what comes out.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from hpsearch.record import STATUSES, TrialRecord

if TYPE_CHECKING:
    from hpsearch.config import Config


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


def counts(records: Iterable[TrialRecord]) -> dict[str, int]:
    """How many trials ended in each status (every status named, in a fixed order)."""
    found = {s: 0 for s in STATUSES}
    for r in records:
        found[r.status] += 1
    return found


def best_summary(record: TrialRecord, metric: str, run_id: str | None = None) -> dict[str, Any]:
    """The ``best`` (or, with ``run_id``, ``lineage_best``) entry of a summary."""
    head = {"run_id": run_id} if run_id is not None else {}
    return {
        **head,
        "trial": record.trial,
        "value": record.metrics.get(metric),
        "params": dict(record.params),
        "seed": record.seed,
    }


def result_fields(goal: Goal, records: Sequence[TrialRecord]) -> dict[str, Any]:
    """The summary fields that follow from the records: counts and the best."""
    best = goal.best(records)
    return {
        "trials_done": len(records),
        "counts": counts(records),
        "best": None if best is None else best_summary(best, goal.metric),
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


# -- the files a finished run leaves ------------------------------------------------------------


@dataclass(frozen=True)
class Results:
    """What a run's results directory shows: the leaderboard, best.yaml (None when no trial
    is ok) and the summary fields."""

    leaderboard_csv: str
    best_yaml: str | None
    fields: dict[str, Any]


def results_of(config: Config, records: Sequence[TrialRecord]) -> Results:
    goal = config.search.goal
    ranked = goal.rank(records)
    best = goal.best(ranked)
    return Results(
        leaderboard_csv(ranked, config),
        None if best is None else best_config_yaml(config, best),
        result_fields(goal, records),
    )


def leaderboard_rows(ranked: Sequence[TrialRecord], config: Config) -> list[dict[str, Any]]:
    """The leaderboard as rows: rank, trial, status, the metrics (the search's first), the
    parameters, seed, epochs, error. Keys are unique (see ``unique_headers``)."""
    metric = config.search.metric
    seen: dict[str, None] = {}
    for r in ranked:
        for key in r.metrics:
            seen.setdefault(key, None)
    metric_columns = [metric, *[m for m in seen if m != metric]]
    names = config.space.names
    headers = unique_headers(
        [("rank", ""), ("trial", ""), ("status", "")]
        + [(m, "metric") for m in metric_columns]
        + [(n, "param") for n in names]
        + [("seed", ""), ("epochs", ""), ("error", "")]
    )
    rows = []
    for position, r in enumerate(ranked, start=1):
        cells = [
            position,
            r.trial,
            r.status,
            *[r.metrics.get(m) for m in metric_columns],
            *[r.params.get(n) for n in names],
            r.seed,
            r.epochs,
            r.error,
        ]
        rows.append(dict(zip(headers, cells, strict=True)))
    return rows


def leaderboard_csv(ranked: Sequence[TrialRecord], config: Config) -> str:
    """leaderboard.csv. No wall-clock column: a resumed run's leaderboard is identical to an
    uninterrupted one's."""
    rows = leaderboard_rows(ranked, config)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if rows:
        writer.writerow(list(rows[0]))
    else:
        writer.writerow(list(leaderboard_rows([_EMPTY], config)[0]))
    for row in rows:
        writer.writerow([_cell(v) for v in row.values()])
    return out.getvalue()


_EMPTY = TrialRecord(0, {}, None, "failed")  # for the header row of an empty leaderboard


def unique_headers(columns: Sequence[tuple[str, str]]) -> list[str]:
    """Column names, each once: a name already taken (a parameter called ``epochs``, a
    metric called like a parameter) gets its role added, ``epochs (param)``."""
    out: list[str] = []
    for name, role in columns:
        header = name
        if header in out:
            header = f"{name} ({role or 'hpsearch'})"
        while header in out:
            header += "'"
        out.append(header)
    return out


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return value


def best_config_yaml(config: Config, best: TrialRecord) -> str:
    """The config with the winner's values fixed under ``model`` and nothing left to search:
    ``hpsearch run best.yaml`` re-trains the winner with fresh seeds."""
    from hpsearch import yamlio
    from hpsearch.sampling import retrain_seed

    resolved = config.to_dict(absolute_paths=True)
    resolved["model"] = {**resolved["model"], **best.params}
    resolved["space"] = {}
    resolved["zoom"] = {**resolved["zoom"], "rounds": 0}
    resolved["search"] = {k: v for k, v in resolved["search"].items() if k != "budget"}
    # A seed of its own, so no re-test trial repeats the winner's (possibly lucky) seed; the
    # data keeps the run's seed.
    resolved["seed"] = retrain_seed(best.seed or 0)
    if config.objective.is_builtin:
        resolved["data"] = {**resolved["data"], "seed": config.data_seed}
    header = (
        f"# Best trial {best.trial} of this run: "
        f"{config.search.metric} = {best.metrics.get(config.search.metric)}\n"
        f"# Its training seed was {best.seed}. Running this file re-trains these "
        "settings with fresh seeds.\n"
    )
    return header + yamlio.dump(resolved)


def tagged_best(
    goal: Goal, runs: Sequence[tuple[str, Sequence[TrialRecord]]]
) -> tuple[str, TrialRecord] | None:
    """The best ok trial over several runs (``(run_id, records)``, in lineage order) with the
    id of its run. Equal values go to the lower trial index, then the earlier run."""
    ok = [(run_id, r) for run_id, records in runs for r in records if goal.value(r) is not None]
    if not ok:
        return None
    return min(ok, key=lambda p: (goal.direction.sort_key(goal.value(p[1])), p[1].trial))
