"""A run as the Python API and the result commands see it: ``load_run(ref)`` → ``Run``.

A ``Run`` reads its directory once, defensively (a hand-edited file is a one-line
``RunError``), and answers what ``show``, ``list``, ``compare``, ``importance``, ``plot`` and
``report`` show: every trial of the search, every round, the best. It never runs anything.
A search written by hpsearch 0.1 (one directory per round) is read as the one search it was
(``hpsearch.legacy``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpsearch.config import Config
from hpsearch.errors import NoOkTrial, RunError, UserError
from hpsearch.history import History, RoundInfo
from hpsearch.leaderboard import leaderboard_rows
from hpsearch.lock import RunLock
from hpsearch.record import TrialRecord
from hpsearch.results import failures_by_reason, result_fields
from hpsearch.rundirs import list_runs as run_stores
from hpsearch.rundirs import resolve_run
from hpsearch.rungs import RungResult
from hpsearch.store import RunStore, read_history, run_kind
from hpsearch.store.summary import wall_time_so_far

if TYPE_CHECKING:
    from hpsearch.analysis import ImportanceReport
    from hpsearch.legacy import LegacySearch


class Run:
    """One run directory: a search (every round of it), a re-test or a one-model run."""

    def __init__(self, store: RunStore, children: dict[str, list[str]] | None = None) -> None:
        self.store = store
        self._children = children

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r}, status={self.status!r}, trials={len(self.trials)})"

    @cached_property
    def legacy(self) -> LegacySearch | None:
        """The 0.1 search of several directories this run is a round of, read as one."""
        from hpsearch.legacy import is_legacy, read_lineage

        if not is_legacy(self.store, self._children):
            return None
        return read_lineage(self.store, self._children)

    @property
    def path(self) -> Path:
        return self.legacy.newest.path if self.legacy is not None else self.store.path

    @property
    def run_id(self) -> str:
        return self.path.name

    @cached_property
    def config(self) -> Config:
        return self.legacy.config if self.legacy is not None else self.store.config()

    @cached_property
    def history(self) -> History:
        """The search's rounds and trials (a re-test or one-model run: one round)."""
        if self.legacy is not None:
            return self.legacy.history
        records = self.store.load_trials(space=self.config.space).records
        if self.kind != "search":
            return History.single(self.config, records, max(len(records), 1))
        return read_history(self.store, self.config, records)

    @property
    def trials(self) -> list[TrialRecord]:
        """Every recorded trial of every round, by index (checked against the space)."""
        return self.history.records

    @cached_property
    def summary(self) -> dict[str, Any]:
        """summary.json as things stand. One still marked ``running`` (it is written when a
        run starts and after each round) gets its counts and best from the trials on disk,
        and is ``stopped`` once the driver that ran it is gone: killed, it can be resumed."""
        summary = self.legacy.summary if self.legacy is not None else self.store.summary()
        if not summary:  # summary.json lost: what the logs say, as for a run still running
            summary = {"run_id": self.run_id, "kind": "search", "status": "running"}
        if summary.get("status") != "running":
            return summary
        try:
            from hpsearch.strategies import strategy_for

            config = self.config
            summary = {
                "name": config.name,
                "metric": config.search.metric,
                "direction": config.search.direction,
                **summary,
                **result_fields(config.search.goal, self.trials),
                "trials_planned": strategy_for(config).planned(self.history),
                "rounds": [info.to_json() for info in self.rounds()],
            }
        except UserError:  # a config or trial that cannot be read: what the summary says
            return summary
        if RunLock.driver_gone(self.path):
            summary["status"] = "stopped"
        since = RunLock.holder(self.path).get("since")
        wall = wall_time_so_far(self.path, summary, since)
        if wall is not None:  # as of its last write, not the summary's stale count
            summary["wall_time"] = wall
        return summary

    @property
    def status(self) -> str:
        return str(self.summary.get("status", "?"))

    @property
    def kind(self) -> str:
        """search, panda (one model) or retest."""
        return run_kind(self.store.summary())

    def ranked(self) -> list[TrialRecord]:
        """The trials, best first (failures last)."""
        return self.history.ranked()

    @property
    def best(self) -> TrialRecord | None:
        """The search's best ok trial, over every round, or None."""
        return self.history.best()

    def rounds(self) -> list[RoundInfo]:
        """Each round: its region, trials and best, and the best so far."""
        return self.history.infos()

    def failures(self) -> list[dict[str, Any]]:
        """Failed, diverged and timed-out trials grouped by reason, most common first."""
        return failures_by_reason(self.trials)

    def attempts(self) -> list[dict[str, Any]]:
        """The earlier records of trials that ``resume --retry`` ran again (attempts.jsonl),
        in the order they were set aside."""
        return self.legacy.attempts if self.legacy is not None else self.store.attempts.load()

    def leaderboard(self, as_frame: bool | None = None) -> Any:
        """leaderboard.csv's rows as dicts, best first; a pandas DataFrame when pandas is
        installed (or ``as_frame=True``, which needs it)."""
        rows = leaderboard_rows(self.ranked(), self.config)
        if as_frame is False:
            return rows
        try:
            import pandas
        except ImportError:
            if as_frame:
                raise UserError("a DataFrame needs pandas: pip install pandas") from None
            return rows
        return pandas.DataFrame(rows)

    def curves(self) -> dict[int, dict[str, Any]]:
        """Learning curves by trial index (trials that reported epochs)."""
        return self.legacy.curves if self.legacy is not None else self.store.load_curves()

    def rung_results(self) -> list[RungResult]:
        """Early stopping: every rung training's result, in the order written."""
        if self.legacy is not None:
            return self.legacy.rung_results
        try:
            return self.store.rungs.load(space=self.config.space)
        except UserError:
            return []

    def importance(self) -> ImportanceReport:
        """How much of the metric each searched parameter explains (``hpsearch importance``)."""
        from hpsearch.analysis import enough_trials, furthest_stage, importance

        if not any(r.ok for r in self.trials):
            raise NoOkTrial(f"{self.path}: no ok trial: nothing to tell the parameters apart")
        metric = self.config.search.metric
        trained = self.trained_epochs()
        if trained is None:
            found = importance(self.config.space, self.trials, metric)
            count = len(self.history.rounds)
            if count > 1:
                basis = (
                    f"{metric} of all {len(self.trials)} trials of the search's {count} rounds "
                    "(rounds after the first sample around the best: in narrower regions, or "
                    "where a model expects the most)"
                )
                found = dataclasses.replace(found, basis=basis)
            return found
        enough = enough_trials(self.config.space)
        stage = furthest_stage(trained, metric, enough)
        if stage is None:  # no rung result is ok: the trials' final records are all there is
            return importance(self.config.space, self.trials, metric)
        found = importance(self.config.space, stage.records, metric)
        top = max(self.rung_budgets(), default=stage.epochs)
        count = len(stage.records)
        if stage.epochs >= top:
            basis = f"{metric} of the {count} trials trained in full ({stage.epochs} epochs)"
        else:
            basis = f"{metric} after {stage.epochs} of {top} epochs, where {count} trials trained"
        if stage.further:
            basis += (
                f"; {stage.further} trained further, too few to measure (at least {enough} "
                "are needed)"
            )
        caution = found.caution
        if stage.further and stage.epochs == min(self.rung_budgets(), default=stage.epochs):
            early = (
                f"early stopping's first rung ranks what learns fastest in {stage.epochs} "
                "epochs, which may not be what ends best: run more trials for a later rung"
            )
            caution = f"{caution}; {early}" if caution else early
        return dataclasses.replace(found, basis=basis, caution=caution)

    def rung_budgets(self) -> list[int]:
        """Early stopping: the epochs of every rung of the plan, ascending (else none)."""
        plan = self.config.rung_plan()
        if plan is None:
            return []
        return sorted({r.epochs for b in plan.brackets for r in b.rungs})

    def trained_epochs(self) -> list[tuple[int, TrialRecord]] | None:
        """Early stopping: (epochs, record) of every rung training, or None without it."""
        plan = self.config.rung_plan()
        if plan is None:
            return None
        out = []
        for result in self.rung_results():
            try:
                epochs = plan.brackets[result.bracket].rungs[result.rung].epochs
            except IndexError:  # a hand-edited rungs.jsonl: that line says nothing
                continue
            out.append((epochs, result.record))
        return out or None  # none: not run with early stopping (a re-test of such a run)

    def plot(self, out: Path | str | None = None) -> Path:
        """The metric against each parameter on its scale, then the top learning curves, as a
        PNG (default ``RUN/plot.png``; needs ``hpsearch[plot]``)."""
        from hpsearch.plot import plot_run

        target = Path(out) if out is not None else self.path / "plot.png"
        if target.is_dir():
            target = target / f"{self.run_id}.png"
        if target.suffix.lower() != ".png":
            raise UserError(f"--out {target}: the plot is a PNG: give a file name ending in .png")
        config = self.config
        last = self.history.rounds[-1].region.space if len(self.history.rounds) > 1 else None
        try:
            return plot_run(
                config,
                self.trials,
                self.curves(),
                target,
                last,
                title=f"{config.name}: {config.search.direction} {config.search.metric}",
                rungs=self.rung_budgets(),
            )
        except OSError as exc:
            raise UserError(f"{target}: cannot write: {exc.strerror or exc}") from None

    def report(self, out: Path | str | None = None) -> Path:
        """Write the one-file HTML report (``hpsearch report``; default ``RUN/report.html``)."""
        from hpsearch.pages import write_html

        return write_html(self, out)

    def markdown(self) -> str:
        """The GitHub Markdown summary (``hpsearch report --markdown``)."""
        from hpsearch.pages import markdown

        return markdown(self)

    def best_column(self) -> dict[str, Any]:
        """The search's best trial and what it trained with, for ``compare``."""
        config, best = self.config, self.best
        params = {**config.model, **best.params} if best is not None else {}
        return {
            "run_id": self.run_id,
            "status": self.status,
            "metric": config.search.metric,
            "direction": config.search.direction,
            "value": best.metrics.get(config.search.metric) if best is not None else None,
            "trial": best.trial if best is not None else None,
            "round": best.round if best is not None else None,
            "params": params,
            "ok": sum(r.ok for r in self.trials),
            "trials": len(self.trials),
            "rounds": len(self.history.rounds),
            # Several goals: the front's size and each metric's range over it.
            "front": self.pareto_front() if config.search.several else None,
            "metrics": [m for m, _ in config.search.metrics],
        }

    def pareto_front(self) -> list[TrialRecord]:
        """Several goals (``search.metrics``, ``search.constraints``): the trials no feasible
        trial beats on every metric, best first; one metric: the best trial alone."""
        from hpsearch.goals import ParetoGoal

        goal = self.config.search.goal
        if isinstance(goal, ParetoGoal):
            return goal.front(self.trials)
        best = self.best
        return [] if best is None else [best]

    def list_row(self) -> dict[str, Any]:
        """The search's line in ``hpsearch list``."""
        summary = self.summary
        counts = summary.get("counts") or {}
        best = summary.get("best") or {}
        rounds = summary.get("rounds")
        return {
            "run_id": self.run_id,
            "name": summary.get("name", "?"),
            "status": summary.get("status", "?"),
            "ok": counts.get("ok", 0),
            "trials": summary.get("trials_done", 0),
            "planned": summary.get("trials_planned"),
            "best": best.get("value") if isinstance(best, dict) else None,
            "metric": summary.get("metric", ""),
            "front": len(front) if isinstance(front := summary.get("pareto_front"), list) else None,
            "out_of_time": isinstance(t := summary.get("time_budget"), dict) and t.get("reached"),
            "rounds": len(rounds) if isinstance(rounds, list) and rounds else 1,
            "kind": run_kind(summary),
            "parent": summary.get("parent"),
            "started": summary.get("started"),
            "path": str(self.path),
        }


def load_run(ref: str | Path | Run, runs_dir: Path | str | None = None) -> Run:
    """A run named by its directory, its id (or a unique prefix) under ``runs_dir``, or
    ``latest``; its config and trials are read and checked at once."""
    if isinstance(ref, Run):
        return ref
    run = Run(resolve_run(str(ref), runs_dir or "runs"))
    run.trials  # noqa: B018 - read and check now, so a bad file is an error here
    run.summary  # noqa: B018
    return run


def load_search(ref: str | Path | Run, runs_dir: Path | str | None = None) -> Run:
    """Like ``load_run``, but ``latest`` is the newest search (not a re-test or one-model
    run): what ``zoom``, ``retest``, ``resume`` and ``train --from`` work from."""
    if isinstance(ref, Run):
        return ref
    return Run(resolve_run(str(ref), runs_dir or "runs", search_only=True))


def list_runs(runs_dir: Path | str | None = None, problems: list[str] | None = None) -> list[Run]:
    """Every run under ``runs_dir``, newest first, one per search (a 0.1 search of several
    directories once, as its newest round). A run that cannot be read is listed with an
    empty summary and named in ``problems``."""
    from hpsearch.legacy import child_map

    directory = Path(runs_dir or "runs")
    children = child_map(directory) if directory.is_dir() else {}
    out = []
    for store in run_stores(directory, problems):
        run = Run(store, children)
        try:
            if store.summary().get("converted_to"):
                continue  # listed as the run it became
            if run.legacy is not None and children.get(store.run_id):
                continue  # a 0.1 search is listed once, as its newest round
            run.summary  # noqa: B018
        except UserError as exc:  # one bad run does not hide the others
            if problems is not None:
                problems.append(str(exc))
            run.__dict__["summary"] = {}
        out.append(run)
    return out


def compare(runs: Sequence[str | Path | Run], runs_dir: Path | str | None = None) -> list[Run]:
    """Two or more runs, loaded, to set side by side (``Run.best_column``)."""
    if len(runs) < 2:
        raise RunError(
            f"give two or more runs to compare, got {len(runs)} (one run: hpsearch show RUN)"
        )
    return [load_run(ref, runs_dir) for ref in runs]
