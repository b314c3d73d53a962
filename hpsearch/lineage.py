"""A coarse-to-fine lineage: a run and the zoom rounds that followed it, root first.

What each round searched and found (``RoundInfo``), the best over all rounds written into the
last round, and where an interrupted ``--rounds`` search had got to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hpsearch.record import TrialRecord
from hpsearch.results import best_summary, tagged_best
from hpsearch.rundirs import continuation, lineage
from hpsearch.search import Search, read_back
from hpsearch.store import RunStore


@dataclass(frozen=True)
class RoundInfo:
    """One round of a lineage: its run, trials, ranges and best."""

    round: int
    run_id: str
    trials: int
    best: float | None  # this round's best metric
    best_so_far: float | None  # the best over this round and those before it
    best_params: dict[str, Any] | None
    ranges: dict[str, str]  # each root parameter: its range, or the value it was fixed at
    range_left: float  # the mean share of the root's ranges this round still searches

    def to_json(self) -> dict[str, Any]:
        """What ``show --lineage --json`` prints for the round."""
        return {
            "round": self.round,
            "run_id": self.run_id,
            "trials": self.trials,
            "best": self.best,
            "best_params": self.best_params,
            "ranges": self.ranges,
        }


def rounds_of(searches: Sequence[Search]) -> list[RoundInfo]:
    """One ``RoundInfo`` per round, root first."""
    from hpsearch.narrowing import width

    root = searches[0].config
    goal = root.search.goal
    searched: set[str] = set()
    so_far: float | None = None
    out = []
    for s in searches:
        cfg = s.config
        best = goal.best(s.records)
        value = goal.value(best) if best is not None else None
        if value is not None and (so_far is None or goal.direction.better(value, so_far)):
            so_far = value
        ranges = {p.name: p.describe() for p in cfg.space}
        for name in sorted(searched - set(ranges)):
            ranges[name] = (
                f"fixed at {cfg.model[name]}"
                if name in cfg.model
                else "inactive (its condition no longer holds)"
            )
        searched |= set(cfg.space.names)
        widths = [width(cfg.space[p.name], p) if p.name in cfg.space else 0.0 for p in root.space]
        out.append(
            RoundInfo(
                round=s.round,
                run_id=s.run_id,
                trials=len(s.records),
                best=value,
                best_so_far=so_far,
                best_params=dict(best.params) if best is not None else None,
                ranges=ranges,
                range_left=sum(widths) / len(widths) if widths else 0.0,
            )
        )
    return out


def read_lineage(store: RunStore) -> list[Search]:
    """``store`` and its ancestors, read back, root first."""
    return [read_back(run) for run in lineage(store)]


def ancestors(store: RunStore) -> list[Search]:
    """The earlier rounds of ``store``'s lineage, read back."""
    return read_lineage(store)[:-1]


def finish_lineage(searches: Sequence[Search], summary: dict[str, Any]) -> dict[str, Any]:
    """The best trial over all rounds, into the last run's best.yaml and summary
    (``lineage`` and ``lineage_best``). Returns the updated summary."""
    from hpsearch.results import best_config_yaml

    last = searches[-1]
    cfg = last.config
    goal = cfg.search.goal
    lineage_rows = []
    for s in searches:
        best = goal.best(s.records)
        lineage_rows.append(
            {
                "round": s.round,
                "run_id": s.run_id,
                "trials": len(s.records),
                "space": s.config.space.to_dict(),
                "best": goal.value(best) if best is not None else None,
            }
        )
    summary = {**summary, "lineage": lineage_rows}
    found = tagged_best(goal, [(s.run_id, s.records) for s in searches])
    if found is not None:
        run_id, best = found
        last.store.write_file("best.yaml", best_config_yaml(cfg, best))
        summary["lineage_best"] = best_summary(best, goal.metric, run_id)
    last.store.write_summary(summary)
    return summary


def latest_round(store: RunStore) -> RunStore:
    """Where a ``--rounds`` search that went through ``store`` has got to: its newest round
    started (``store`` itself when it has no continuation)."""
    seen = {store.run_id}
    while True:
        following = continuation(store)
        if following is None or following.run_id in seen:
            return store
        seen.add(following.run_id)
        store = following


def best_values(store: RunStore) -> dict[str, Any] | None:
    """Every value the best trial of a run (of its lineage, for a ``--rounds`` search)
    trained with: its searched values and its run's fixed ones (zoom rounds fix some). None
    without an ok trial."""
    from hpsearch.store import is_run_dir

    summary = store.summary()
    best = summary.get("lineage_best")
    if best and is_run_dir(store.path.parent / best["run_id"]):
        owner = RunStore.open(store.path.parent / best["run_id"]).config()
        return {**owner.model, **best["params"]}
    config = store.config()
    record: TrialRecord | None = config.search.goal.best(
        store.load_trials(space=config.space).records
    )
    if record is None:
        return None
    return {**config.model, **record.params}
