"""A whole search: a run, then the zoom rounds it still has to go, told as events.

``SearchSession.run(subscriber)`` runs every round, calls ``subscriber`` with each event
(``hpsearch.events``), and returns how the search ended. Whatever stops it — Ctrl-C, SIGTERM,
a closed output pipe, a full disk — every finished trial is kept, the run's summary says
``interrupted``, and ``resume`` goes on from there. The subscriber is called from inside that
guard, so an interruption while it draws is handled like any other.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from hpsearch import interrupts
from hpsearch.errors import UserError
from hpsearch.events import (
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
from hpsearch.halving import RungResult
from hpsearch.lineage import finish_lineage, rounds_of
from hpsearch.runner import shutdown_workers
from hpsearch.search import Search, next_round

NOTHING_TO_ZOOM = "nothing to zoom on (no ok trial, or every parameter is fixed): no more rounds"


@dataclass
class SearchSession:
    """``first``: the run to go on with (new or resumed); ``rounds``: zoom rounds after it;
    ``history``: the rounds before it (a resumed lineage), read back."""

    first: Search
    rounds: int = 0
    history: Sequence[Search] = ()
    jobs: int | None = None
    backend: str | None = None
    scheduler: str | None = None
    notices: list[Notice] = field(default_factory=list)  # said before the search starts

    def run(self, subscriber: Subscriber | None = None) -> SearchOutcome:
        emit = subscriber or ignore
        config = self.first.config
        searches = [*self.history, self.first]
        summaries: dict[int, dict] = {}
        status = "complete"
        stopped: BaseException | None = None
        error: UserError | None = None
        with interrupts.stop_on_signals():
            try:
                for notice in [*self.notices, *self._warnings()]:
                    emit(notice)
                emit(SearchStarted(config, *self._planned()))
                narrowed_from = None
                for round_index in range(self.rounds + 1):
                    current = searches[-1]
                    emit(
                        RoundStarted(
                            current.round,
                            current.run_id,
                            current.store.path,
                            current.config,
                            tuple(current.records),
                            len(current.missing),
                            narrowed_from,
                        )
                    )
                    try:
                        for item in current.run(self.jobs, self.backend, self.scheduler):
                            if isinstance(item, RungResult):
                                assert current.halving is not None
                                progress = current.halving.progress()
                                emit(RungReported(item, progress, current.round, current.run_id))
                            else:
                                emit(TrialFinished(item, current.round, current.run_id))
                    except KeyboardInterrupt as exc:
                        status, stopped = "interrupted", exc
                    except BrokenPipeError:  # `hpsearch run ... | head`: like Ctrl-C
                        status, stopped = "interrupted", interrupts.output_closed()
                    except UserError as exc:  # a full disk, an unreachable scheduler: stop,
                        status, error = "interrupted", exc  # keep what is on disk
                    with interrupts.protected():
                        try:
                            summaries[id(current)] = current.finish(
                                status,
                                extra={"rounds_left": self.rounds - round_index},
                                release=False,
                            )
                        except (OSError, UserError) as exc:
                            error = error or _as_user_error(exc)
                            summaries[id(current)] = {"status": status}
                    emit(RoundFinished(current.round, current.run_id, summaries[id(current)]))
                    if status != "complete" or round_index == self.rounds:
                        break
                    with interrupts.protected():
                        following = next_round(searches)
                        if following is None:
                            with contextlib.suppress(OSError, UserError):
                                current.store.write_summary(
                                    {**current.store.summary(), "rounds_left": 0}
                                )
                    if following is None:
                        emit(Notice(NOTHING_TO_ZOOM))
                        break
                    narrowed_from = current.config
                    searches.append(following)
            except KeyboardInterrupt as exc:  # between two rounds, or while the subscriber drew
                status, stopped = "interrupted", stopped or exc
            except BrokenPipeError:
                status, stopped = "interrupted", stopped or interrupts.output_closed()
            finally:
                with interrupts.protected(raise_after=False):
                    shutdown_workers()
            try:
                with interrupts.protected(raise_after=False):  # the search is over: write it all
                    outcome = _outcome(searches, summaries, status, stopped, error)
                    emit(SearchFinished(outcome))
            finally:
                for finished in searches:  # held until the next round existed and all is written
                    finished.release()
        return outcome

    def _planned(self) -> tuple[int, int]:
        """(trials planned over the whole search, trials done before): a budget's for a
        search with one (its coarse run's config holds it), else this run's and its rounds'."""
        root = self.history[0] if self.history else self.first
        budget = root.config.search.budget if root.round == 0 else None
        if budget is not None:
            done = sum(len(s.records) for s in self.history) + len(self.first.records)
            return budget, done
        config = self.first.config
        return config.search.trials + self.rounds * config.zoom.trials, len(self.first.records)

    def _warnings(self) -> list[Notice]:
        """More worker processes than cores only helps trials that wait: say so."""
        from hpsearch.runner import cores, effective_jobs

        config = self.first.config
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


def _outcome(
    searches: list[Search],
    summaries: dict[int, dict],
    status: str,
    stopped: BaseException | None,
    error: UserError | None,
) -> SearchOutcome:
    last = searches[-1]
    summary = summaries.get(id(last))
    if error is None:
        summary = summary or last.finish(status, release=False)
        if len(searches) > 1:
            summary = finish_lineage(searches, summary)
    return SearchOutcome(
        status=status,
        run_dir=last.store.path,
        config=last.config,
        summary=summary or {"status": status},
        ranked=last.ranked(),
        rounds=rounds_of(searches),
        stopped=stopped,
        error=error,
    )


def _as_user_error(exc: BaseException) -> UserError:
    if isinstance(exc, UserError):
        return exc
    return UserError(f"cannot write the run's results: {getattr(exc, 'strerror', None) or exc}")
