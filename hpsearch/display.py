"""Showing a search as it runs: a live rich display in a terminal, plain lines otherwise.

The mode is chosen once: ``live`` on a terminal, ``plain`` (one line per finished trial) when
the output is not a terminal or ``CI`` is set, ``quiet`` for nothing but the final summary.
The core never imports this module; it only wraps the stream of records.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from hpsearch.config import Config
from hpsearch.console import HINT, Fitted, rightmost, styled
from hpsearch.events import (
    Event,
    Notice,
    RoundStarted,
    RungReported,
    SearchFinished,
    SearchStarted,
    TrialFinished,
)
from hpsearch.goals import ParetoGoal, front_line, measure
from hpsearch.goals import shown as shown_metric
from hpsearch.paths import shown
from hpsearch.record import TrialRecord, format_metric


def choose_mode(console: Console, quiet: bool) -> str:
    if quiet:
        return "quiet"
    if os.environ.get("CI") or not console.is_terminal:
        return "plain"
    return "live"


def format_params(config: Config, params: Mapping[str, Any]) -> str:
    """``name=value`` for each parameter, formatted for its scale where the space has it."""
    parts = []
    for name, value in params.items():
        p = config.space.get(name)
        parts.append(f"{name}={p.format(value) if p is not None else value}")
    return " ".join(parts)


def format_value(value: float | None) -> str:
    return format_metric(value)


def top_table(
    config: Config,
    ranked: Sequence[TrialRecord],
    limit: int,
    title: str,
    hint: str = HINT,
) -> Fitted:
    """The best ``limit`` trials, a column per parameter; on a narrow terminal the parameters
    on the right (and ``status``) are hidden, and a line under the table, ending in ``hint``,
    names them."""
    metric = config.search.metric
    goal = config.search.goal
    several = goal if isinstance(goal, ParetoGoal) else None
    metrics = several.metrics if several and config.search.metrics else [metric]
    table = Table(title=title, title_justify="left", box=None, header_style="bold", pad_edge=False)
    table.add_column("rank", justify="right", no_wrap=True, min_width=4)
    table.add_column("trial", justify="right", no_wrap=True, min_width=5)
    for m in metrics:
        table.add_column(m, justify="right", no_wrap=True, min_width=len(m))
    if several:  # its Pareto front (1: on it), and whether it meets the constraints
        table.add_column("front", justify="right", no_wrap=True)
        fronts = several.fronts(ranked[:limit])  # the top rows hold the first fronts whole
        if several.constraints:
            table.add_column("feasible", no_wrap=True)
    for p in config.space:
        table.add_column(p.name, justify="right", no_wrap=True)
    early = config.early_stop.on  # trials stopped early: how far each got
    if early:
        table.add_column("epochs", justify="right", no_wrap=True)
    rounds = any(r.round for r in ranked)  # a search of several rounds: which one
    if rounds:
        table.add_column("round", justify="right", no_wrap=True)
    table.add_column("status", no_wrap=True, min_width=6)
    for position, r in enumerate(ranked[:limit], start=1):
        cells = [p.format(r.params[p.name]) if p.name in r.params else "-" for p in config.space]
        if early:
            cells.append("-" if r.epochs is None else str(r.epochs))
        if rounds:
            cells.append(str(r.round))
        values = [shown_metric(m, measure(r, m)) for m in metrics]
        if several:
            front = fronts[position - 1]
            values.append("-" if front is None else str(front))
            if several.constraints:
                values.append(("yes" if several.feasible(r) else "no") if r.ok else "-")
        table.add_row(str(position), str(r.trial), *values, *cells, r.status)
    keep = 2 + len(metrics) + (1 + bool(several.constraints) if several else 0)
    return Fitted(table, rightmost(table, keep=keep), hint)


class SearchDisplay:
    """Follows a search's events (``hpsearch.events``) on ``console`` in the chosen mode:
    warnings on ``errors``, information beside the progress, the trials as they finish."""

    def __init__(self, console: Console, mode: str, errors: Console | None = None):
        self.console, self.mode = console, mode
        self.errors = errors or console
        self.config: Config | None = None
        self.total = self.done = 0
        self.live: Live | None = None
        self.progress: Progress | None = None
        self.top: list[TrialRecord] = []
        self.front: list[TrialRecord] = []  # several goals: the Pareto front so far
        self.rung_line = ""

    def __enter__(self) -> SearchDisplay:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()

    def __call__(self, event: Event) -> None:
        if isinstance(event, Notice):
            if event.warning:
                self.errors.print(event.text, soft_wrap=True, highlight=False, markup=False)
            elif self.mode != "quiet":
                self.note(event.text)
        elif isinstance(event, SearchStarted):
            self.config, self.total, self.done = event.config, event.total, event.done
            if self.mode != "quiet" and event.run_dir is not None:
                config = event.config
                self.note(
                    f"run {event.run_id}: {event.total - event.done} of {event.total} trials to "
                    f"go, {config.search.describe()}"
                )
            self._start()
        elif isinstance(event, RoundStarted):
            self._round(event)
        elif isinstance(event, TrialFinished):
            self.update(event.record)
        elif isinstance(event, RungReported):
            self.rung(event.progress)
        elif isinstance(event, SearchFinished):
            self._stop()

    def _start(self) -> None:
        if self.mode != "live":
            return
        self.progress = Progress(
            TextColumn("{task.description}", style="bold", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
        )
        self.task = self.progress.add_task("trials", total=self.total, completed=self.done)
        self.live = Live(self.progress, console=self.console, refresh_per_second=8, transient=True)
        self.live.__enter__()

    def _stop(self) -> None:
        if self.live is not None:
            self.live.__exit__(None, None, None)
            self.live = None

    def note(self, text: str) -> None:
        """A line of information between trials (printed above the live display)."""
        self.console.print(text, soft_wrap=True, highlight=False, markup=False)

    def _round(self, event: RoundStarted) -> None:
        """A round begins (or goes on): the best so far stays, across rounds."""
        self.config = config = event.config
        if not self.top:  # a resumed search: its finished trials
            for record in event.records:
                self._consider(record)
        if self.mode == "quiet" or event.round.number == 0:
            return
        r = event.round
        going_on = "" if event.new else f" (going on: {event.to_go} of {r.trials} to go)"
        self.note(f"round {r.number}: {r.summary}{going_on}")
        if r.strategy == "zoom" and event.previous is not None:
            from hpsearch.tables import region_lines

            self.note(region_lines(config.space, event.previous.region, r.region, r.notes))

    def _consider(self, record: TrialRecord) -> None:
        """Keep the best five ``ok`` trials, without re-ranking everything each time (several
        goals: the Pareto front so far, exactly — a trial off it never comes back on)."""
        if record.ok and self.config is not None:
            goal = self.config.search.goal
            if isinstance(goal, ParetoGoal):
                self.front = goal.front([*self.front, record])
                self.top = goal.rank(self.front)[:5]
            else:
                self.top = goal.rank([*self.top, record])[:5]

    def rung(self, progress: Any) -> None:
        """Early stopping: where the rung plan stands (plain mode: once a rung is full)."""
        self.rung_line = rung_text(progress)
        if self.mode == "plain" and progress.reported == progress.of:
            self.note(self.rung_line)
        elif self.mode == "live":
            self._draw()

    def update(self, record: TrialRecord) -> None:
        self.done += 1
        if self.mode == "quiet" or self.config is None:
            return
        self._consider(record)
        metric = self.config.search.metric
        best = self.config.search.goal.best(self.top)  # none while no trial is feasible
        if self.mode == "plain":
            line = (
                f"[{self.done}/{self.total}] trial {record.trial} {record.status} "
                f"{metric}={format_value(record.metrics.get(metric))} "
                f"{format_params(self.config, record.params)}"
            )
            if record.error:
                line += f" ({record.error})"
            if best is not None:
                line += f" | best {format_value(best.metrics.get(metric))} (trial {best.trial})"
            self.console.print(line, soft_wrap=True, highlight=False, markup=False)
        elif self.mode == "live":
            self._draw()

    def _draw(self) -> None:
        if self.progress is None or self.live is None or self.config is None:
            return
        metric = self.config.search.metric
        best = self.config.search.goal.best(self.top)  # none while no trial is feasible
        self.progress.update(self.task, completed=self.done)
        parts: list[Any] = [self.progress]
        if self.rung_line:
            parts.append(self.rung_line)
        if best is not None:
            parts.append(
                styled(
                    f"best {metric} ",
                    (format_value(best.metrics.get(metric)), "bold"),
                    f" (trial {best.trial}): {format_params(self.config, best.params)}",
                )
            )
            parts.append(top_table(self.config, self.top, 5, "top 5 so far"))
        self.live.update(Group(*parts))


def rung_text(progress: Any) -> str:
    """``rung 2/3, bracket 1/2: 5/13 reported · 27 stopped · 240/800 epochs (30%)``"""
    where = f"rung {progress.rung + 1}/{progress.rungs}"
    if progress.brackets > 1:
        where += f", bracket {progress.bracket + 1}/{progress.brackets}"
    share = progress.epochs / progress.full_epochs if progress.full_epochs else 0.0
    return (
        f"{where}: {progress.reported}/{progress.of} reported · {progress.stopped} stopped "
        f"· {progress.epochs:,}/{progress.full_epochs:,} epochs ({share:.0%})"
    )


def final_report(
    console: Console,
    config: Config,
    summary: Mapping[str, Any],
    ranked: Sequence[TrialRecord],
    run_dir: Path,
    top: int = 10,
    quiet: bool = False,
) -> None:
    """The end of a search: the top table (not when ``quiet``), the best trial, its config,
    the failures by reason (not when ``quiet``), the run directory."""
    counts = summary.get("counts", {})
    done = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    if not quiet:
        console.print(
            top_table(
                config,
                ranked,
                top,
                f"top {min(top, len(ranked))} of {len(ranked)} trials ({done})",
                f"widen the terminal, or see {shown(run_dir / 'leaderboard.csv')}",
            )
        )
    best = summary.get("best")
    if best:
        rounds = summary.get("rounds")
        where = f", round {best['round']}" if isinstance(rounds, list) and len(rounds) > 1 else ""
        console.print(
            f"best: {config.search.metric} = {format_value(best['value'])} "
            f"(trial {best['trial']}{where}): {format_params(config, best['params'])}",
            soft_wrap=True,
            highlight=False,
        )
        front = summary.get("pareto_front")
        if isinstance(front, list) and config.search.metrics:
            console.print(
                front_line([m for m, _ in config.search.metrics], front),
                soft_wrap=True,
                highlight=False,
            )
        console.print(
            f"best config: {shown(run_dir / 'best.yaml')}", soft_wrap=True, highlight=False
        )
    from hpsearch.results import failures_by_reason

    for group in [] if quiet else failures_by_reason(ranked)[:5]:
        console.print(
            f"{group['count']} {group['status']}: {group['reason']}",
            soft_wrap=True,
            highlight=False,
            markup=False,
        )
    console.print(
        f"run: {shown(run_dir)} ({summary.get('status')}, {done or 'no trials'}, "
        f"{summary.get('wall_time', 0):.1f} s)",
        soft_wrap=True,
        highlight=False,
    )


_SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float | None]) -> str:
    finite = [v for v in values if v is not None and v == v and abs(v) != float("inf")]
    if not finite:
        return ""
    low, high = min(finite), max(finite)
    span = (high - low) or 1.0
    return "".join(" " if v not in finite else _SPARKS[int((v - low) / span * 7)] for v in values)


class CurveDisplay:
    """Panda mode: the learning curve of one model, epoch by epoch."""

    COLUMNS = ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr")

    def __init__(self, console: Console, mode: str, epochs: int):
        self.console, self.mode, self.epochs = console, mode, epochs
        self.rows: list[dict[str, Any]] = []
        self.live: Live | None = None

    def __enter__(self) -> CurveDisplay:
        if self.mode == "live":
            self.live = Live(self._render(), console=self.console, refresh_per_second=8)
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(None, None, None)

    def __call__(self, epoch: int, **metrics: Any) -> None:
        self.rows.append({"epoch": epoch, **metrics})
        if self.mode == "plain":
            parts = " ".join(f"{k}={metrics[k]:.4g}" for k in self.COLUMNS if k in metrics)
            self.console.print(
                f"epoch {epoch}/{self.epochs} {parts}", soft_wrap=True, highlight=False
            )
        elif self.live is not None:
            self.live.update(self._render())

    def _render(self) -> Group:
        table = Table(
            box=None,
            header_style="bold",
            pad_edge=False,
            title=f"epoch {len(self.rows)}/{self.epochs} (Ctrl-C stops and keeps what was learned)",
            title_justify="left",
        )
        table.add_column("epoch", justify="right")
        for column in self.COLUMNS:
            table.add_column(column, justify="right")
        for row in self.rows[-12:]:
            table.add_row(
                str(row["epoch"]),
                *["-" if row.get(c) is None else f"{row[c]:.4g}" for c in self.COLUMNS],
            )
        lines: list[Any] = [table]
        for key in ("val_loss", "val_accuracy"):
            series = [row.get(key) for row in self.rows]
            if any(v is not None for v in series):
                lines.append(f"{key:>12} {sparkline(series[-60:])}")
        return Group(*lines)
