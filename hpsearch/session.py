"""A whole search, told as events: the rounds it has left to run, then each round its
strategy proposes, until the strategy is done.

``SearchSession.run(subscriber)`` first finishes any round with trials still to run (a
resumed search), then opens a round the caller asked for (``hpsearch zoom``), then asks the
search's strategy for the next round until it has none; it calls ``subscriber`` with each
event (``hpsearch.events``) and returns how the search ended. Whatever stops it — Ctrl-C,
SIGTERM, a closed output pipe, a full disk — every finished trial is kept, the summary says
``interrupted``, and ``resume`` goes on from there. The subscriber is called from inside that
guard, so an interruption while it draws is handled like any other.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from hpsearch import interrupts
from hpsearch.config import Config
from hpsearch.errors import RunError, UserError
from hpsearch.events import (
    Event,
    Notice,
    RoundFinished,
    RoundStarted,
    RungReported,
    SearchFinished,
    SearchOutcome,
    SearchStarted,
    Subscriber,
    TrialFinished,
    ignore,
)
from hpsearch.rounds import Round
from hpsearch.rungs import RungResult
from hpsearch.runner import shutdown_workers
from hpsearch.search import Search
from hpsearch.strategies import Done, Proposal
from hpsearch.timebudget import Deadline, spoken

BARE_NUMBER = "warning: the objective returns a bare number; it is taken as '{metric}'"


@dataclass
class SearchSession:
    """``search``: the search to go on with (new or resumed); ``asked``: a round to open
    before the strategy's own (``hpsearch zoom``)."""

    search: Search
    jobs: int | None = None
    backend: str | None = None
    scheduler: str | None = None
    cluster: str | None = None  # --cluster KIND
    scheduler_file: str | None = None
    notices: list[Notice] = field(default_factory=list)  # said before the search starts
    asked: Proposal | None = None
    time_budget: float | None = None  # seconds this command may start trials for
    said_bare_number: bool = field(default=False, init=False)

    @property
    def config(self) -> Config:
        return self.search.config

    def run(self, subscriber: Subscriber | None = None) -> SearchOutcome:
        """Run the search, telling ``subscriber`` each event. An exception the subscriber
        raises (a notebook's callback) stops the search like Ctrl-C — the run kept,
        ``interrupted``, free to resume — and is then raised."""
        try:
            return self._run(_Guarded(subscriber or ignore))
        finally:  # whatever happened, the run is free for the next command
            self.search.release()

    def _run(self, emit: _Guarded) -> SearchOutcome:
        search = self.search
        status = "complete"
        stopped: BaseException | None = None
        error: UserError | None = None
        failed: SubscriberFailed | None = None
        deadline = None if self.time_budget is None else Deadline(self.time_budget)
        search.deadline = deadline
        if deadline is not None or "time_budget" in search.store.summary():
            # This command's budget, unspent until said otherwise (a resume that finishes
            # does not keep the last one's "spent").
            budget = None if deadline is None else {"seconds": deadline.seconds, "reached": False}
            search.summary_extra["time_budget"] = budget
        with interrupts.stop_on_signals():
            if deadline is not None:
                deadline.arm()  # after its grace, the trials still running are stopped
            try:
                for notice in [*self.notices, *self._warnings()]:
                    emit(notice)
                total, done = self._planned()
                emit(SearchStarted(search.config, total, done, search.run_id, search.store.path))
                ran: set[int] = set()
                while True:
                    if deadline is not None and deadline.passed():
                        self._out_of_time(deadline, emit)
                        break
                    current, new = self._next(emit)
                    if current is None:
                        break
                    if current.number in ran:  # ran, yet trials short: never loop on it
                        left = search.history.to_go(current)
                        raise RunError(
                            f"{search.store.path}: round {current.number} still has {left} "
                            "trials without a record after running them; resume to try again"
                        )
                    ran.add(current.number)
                    status, stopped, error = self._run_round(current, new, emit)
                    if status != "complete":
                        break
                    if deadline is not None and deadline.passed() and search.history.to_go(current):
                        self._out_of_time(deadline, emit)
                        break
                    with interrupts.protected():  # the results so far, for a look meanwhile
                        try:
                            summary = search.finish("running", release=False)
                        except (OSError, UserError) as exc:
                            status, error = "interrupted", _as_user_error(exc)
                            break
                    emit(RoundFinished(current.number, search.run_id, summary))
            except KeyboardInterrupt as exc:  # between two rounds, or while the subscriber drew
                status, stopped = "interrupted", stopped or exc
            except SubscriberFailed as exc:
                status, failed = "interrupted", exc
            except BrokenPipeError:
                status, stopped = "interrupted", stopped or interrupts.output_closed()
            except UserError as exc:  # opening a round: a full disk, a value it refuses
                status, error = "interrupted", exc
            finally:
                if deadline is not None:
                    deadline.disarm()
                with interrupts.protected(raise_after=False):
                    shutdown_workers()
            with interrupts.protected(raise_after=False):  # the search is over: write it all
                outcome = self._outcome(status, stopped, error)
                if failed is None:
                    try:
                        emit(SearchFinished(outcome))
                    except SubscriberFailed as exc:  # the run is written, whatever its status
                        failed = exc
        if failed is not None:  # the run is on disk, interrupted: now the caller's error
            raise failed.error
        return outcome

    def _out_of_time(self, deadline: Deadline, emit: Subscriber) -> None:
        """The budget is spent: the run ends complete, saying so and what is left."""
        search = self.search
        left = max(search.strategy.planned(search.history) - search.history.planned, 0)
        left += sum(search.history.to_go(r) for r in search.history.rounds)
        search.summary_extra["time_budget"] = {
            "seconds": deadline.seconds,
            "reached": True,
            "trials_to_go": left,
        }
        emit(
            Notice(
                f"time budget {spoken(deadline.seconds)} spent: no more trials started; "
                f"{left} to go (hpsearch resume {search.run_id} --time-budget … goes on)"
            )
        )

    def _next(self, emit: Subscriber) -> tuple[Round | None, bool]:
        """The round to run next and whether it is new: an unfinished one first, then the one
        asked for, then the strategy's; None when the search is done."""
        search = self.search
        unfinished = search.history.unfinished()
        if unfinished:
            return unfinished[0], False
        proposal, origin = self.asked, "zoom"
        self.asked = None
        if proposal is None:
            origin = "plan"
            try:
                proposal = search.strategy.next(search.history)
            except Done as reason:
                emit(Notice(f"{reason}: no more rounds"))
                return None, False
        if proposal is None:
            return None, False
        with interrupts.protected():
            return search.open_round(proposal, origin), True

    def _run_round(
        self, current: Round, new: bool, emit: Subscriber
    ) -> tuple[str, BaseException | None, UserError | None]:
        search = self.search
        previous = search.history.rounds[current.number - 1] if current.number else None
        emit(
            RoundStarted(
                current,
                search.run_id,
                search.store.path,
                search.config,
                tuple(search.history.records),
                search.history.to_go(current),
                previous,
                new,
            )
        )
        try:
            for item in search.run_round(
                current,
                jobs=self.jobs,
                backend=self.backend,
                scheduler=self.scheduler,
                cluster=self.cluster,
                scheduler_file=self.scheduler_file,
            ):
                if isinstance(item, RungResult):
                    progress = search.scheduler.progress()
                    emit(RungReported(item, progress, current.number, search.run_id))
                else:
                    emit(TrialFinished(item, current.number, search.run_id))
                    if item.bare_number and not self.said_bare_number:
                        self.said_bare_number = True  # once a search, not once a trial
                        metric = search.config.search.metric
                        emit(Notice(BARE_NUMBER.format(metric=metric), warning=True))
        except KeyboardInterrupt as exc:
            return "interrupted", exc, None
        except BrokenPipeError:  # `hpsearch run ... | head`: like Ctrl-C
            return "interrupted", interrupts.output_closed(), None
        except UserError as exc:  # a full disk, an unreachable scheduler: stop, keep the rest
            return "interrupted", None, exc
        return "complete", None, None

    def _outcome(
        self, status: str, stopped: BaseException | None, error: UserError | None
    ) -> SearchOutcome:
        search = self.search
        summary: dict = {"status": status}
        if error is None:
            summary = search.finish(status, release=False)
        else:
            with contextlib.suppress(OSError, UserError):
                summary = search.finish("interrupted", release=False)
        return SearchOutcome(
            status=status,
            run_dir=search.store.path,
            config=search.config,
            summary=summary,
            ranked=search.history.ranked(),
            rounds=search.history.infos(),
            stopped=stopped,
            error=error,
        )

    def _planned(self) -> tuple[int, int]:
        """(trials planned over the whole search, trials done before)."""
        search = self.search
        total = search.strategy.planned(search.history)
        if self.asked is not None:
            total += self.asked.trials
        return total, len(search.history.by_trial)

    def _warnings(self) -> list[Notice]:
        """More worker processes than cores only helps trials that wait: say so."""
        from hpsearch.runner import cores, effective_jobs

        config = self.search.config
        jobs = self.jobs if self.jobs is not None else config.run.jobs
        backend = self.backend or config.run.backend
        if backend in ("processes", "loky", "threading") and effective_jobs(jobs) > cores():
            return [
                Notice(
                    f"warning: --jobs {jobs} is more than the {cores()} CPU cores here: trials "
                    "will share them (worth it only for trials that wait on a GPU, a remote "
                    "service or files)",
                    warning=True,
                )
            ]
        return []


class SubscriberFailed(Exception):
    """The subscriber raised ``error`` (carried past the search's own handlers)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class _Guarded:
    """A subscriber whose exceptions come out as ``SubscriberFailed`` (``sys.exit()`` in a
    callback too); Ctrl-C and a closed output pipe stay themselves (interruptions the
    session already handles)."""

    def __init__(self, subscriber: Subscriber) -> None:
        self.subscriber = subscriber

    def __call__(self, event: Event) -> None:
        try:
            self.subscriber(event)
        except (KeyboardInterrupt, BrokenPipeError):
            raise
        except BaseException as exc:
            raise SubscriberFailed(exc) from exc


def _as_user_error(exc: BaseException) -> UserError:
    if isinstance(exc, UserError):
        return exc
    return UserError(f"cannot write the run's results: {getattr(exc, 'strerror', None) or exc}")
