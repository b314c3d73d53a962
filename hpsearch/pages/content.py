"""What a report shows, gathered once from a run (every round of its search): plain data for
the HTML and Markdown writers, read defensively (a summary field of the wrong type is shown as
missing, never a crash)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from hpsearch.analysis import ImportanceReport
from hpsearch.errors import UserError
from hpsearch.files import SMALL_FILE, read_text
from hpsearch.history import RoundInfo
from hpsearch.leaderboard import leaderboard_csv
from hpsearch.record import STATUSES, TrialRecord, format_metric
from hpsearch.space import Space
from hpsearch.store.timeline import read_timeline
from hpsearch.version import __version__

TOP = 5  # trials highlighted and whose curves are drawn


@dataclass
class Content:
    title: str
    run_id: str
    kind: str
    status: str
    metric: str
    direction: str
    space: Space
    records: list[TrialRecord]
    ranked: list[TrialRecord]
    ok: list[TrialRecord]  # ok trials, best first
    counts: dict[str, int]
    done: int
    planned: Any
    started: str
    wall_time: float | None
    parent: str | None
    best: TrialRecord | None
    best_yaml: str | None
    curves: dict[int, dict[str, Any]]
    rungs: list[int]
    failures: list[dict[str, Any]]
    importance: ImportanceReport | None
    rounds: list[RoundInfo]
    regions: list[Any]  # each round's Region (hpsearch.rounds), in order
    retest: Any
    metric_columns: list[str]
    trained: list[tuple[int, TrialRecord]] | None = None  # early stopping's rung trainings
    full_epochs: int | None = None
    timeline: Any = None  # hpsearch.store.timeline.Timeline
    csv: str = ""  # the whole leaderboard, as leaderboard.csv has it
    goal: Any = None  # several goals: the search's hpsearch.goals.ParetoGoal
    goal_text: str = ""  # "maximize val_accuracy, minimize parameters; parameters <= 2e4"
    note: str = ""
    version: str = __version__
    top: int = TOP
    by_trial: dict[int, TrialRecord] = field(default_factory=dict)

    @property
    def maximize(self) -> bool:
        return self.direction == "maximize"


def number(v: Any) -> str:
    """A metric as shown (``record.format_metric``): ``-`` for anything but a number."""
    return format_metric(v)


def value_text(space: Space, name: str, value: Any) -> str:
    """A parameter's value on its scale (as the tables show it); any other value as text."""
    p = space.get(name)
    try:
        return p.format(value) if p is not None else str(value)
    except (TypeError, ValueError):
        return str(value)


def gather(run: Any) -> Content:
    """The content of ``run``'s report (``hpsearch.runs.Run``): every trial of every round,
    the search's best, each round's region."""
    config, summary = run.config, run.summary
    goal = config.search.goal
    records = run.trials
    ranked = goal.rank(records)
    ok = [r for r in ranked if r.ok]
    best = goal.best(ranked)  # None when no trial meets the constraints
    try:
        rounds = run.rounds()
        regions = [r.region for r in run.history.rounds]
    except UserError:
        rounds, regions = [], []
    try:
        importance = run.importance() if ok and len(config.space) else None
    except UserError:
        importance = None
    best_yaml = None
    with contextlib.suppress(OSError, UnicodeDecodeError):
        best_yaml = read_text(run.path / "best.yaml", SMALL_FILE)
    counts = {s: sum(r.status == s for r in records) for s in STATUSES}
    metric_columns = sorted({m for r in records for m in r.metrics})
    try:
        trained = run.trained_epochs()
    except UserError:
        trained = None
    wall = summary.get("wall_time")
    status = str(summary.get("status", "?"))
    note = ""
    if status in ("running", "interrupted", "stopped"):
        note = f"this run is {status}: the report shows the {len(records)} trials on disk"
    return Content(
        title=f"{config.name}: {config.search.describe()}",
        run_id=run.run_id,
        kind=str(summary.get("kind", "search")),
        status=status,
        metric=config.search.metric,
        direction=config.search.direction,
        space=config.space,
        records=records,
        ranked=ranked,
        ok=ok,
        counts=counts,
        done=len(records),
        planned=summary.get("trials_planned", "?"),
        started=str(summary.get("started", "?")),
        wall_time=float(wall) if isinstance(wall, (int, float)) else None,
        parent=summary.get("parent") if isinstance(summary.get("parent"), str) else None,
        best=best,
        best_yaml=best_yaml,
        curves=run.curves(),
        rungs=run.rung_budgets(),
        failures=run.failures(),
        importance=importance,
        rounds=rounds,
        regions=regions,
        retest=summary.get("retest"),
        metric_columns=metric_columns,
        trained=trained,
        full_epochs=config.full_budget,
        timeline=read_timeline(run.path),
        csv=leaderboard_csv(ranked, config),
        goal=goal if config.search.several else None,
        goal_text=config.search.describe(),
        note=note,
        by_trial={r.trial: r for r in records},
    )
