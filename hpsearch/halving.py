"""Running a rung plan: which trial trains to which budget next, and which stop.

``Halving`` is a state machine over the results of rung trainings. A rung is decided only
once every trial in it has reported: the ok trials are ranked by the search's goal (ties by
trial index), the best ``n`` of the next rung go on, the other ok trials are ``stopped``.
Nothing depends on the order results arrive in, so the same config and seed give the same
decisions with any number of workers, on any backend, and after any interruption: the state
is rebuilt from the rung results on disk (``rungs.jsonl``) and every decision follows again.

While a rung waits for its last trials, the jobs of other rungs and brackets that are ready
keep the workers busy; when none is ready, ``jobs()`` yields ``WAIT``.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from hpsearch.record import TrialRecord
from hpsearch.results import Goal
from hpsearch.rungs import Bracket, RungPlan, RungResult
from hpsearch.sampling import WAIT, Trial


@dataclass
class Progress:
    """Where an early-stopping search stands, for the live view."""

    bracket: int
    brackets: int
    rung: int
    rungs: int
    reported: int
    of: int
    stopped: int
    epochs: int  # trained so far
    full_epochs: int  # what training every trial fully costs


class NotInRung(ValueError):
    """A rung result on disk for a trial that is not in its rung (a hand-edited line): taking
    it would decide a rung early or train a trial twice."""

    def __init__(self, result: RungResult, why: str = "") -> None:
        self.result = result
        super().__init__(
            f"trial {result.record.trial} is not in bracket {result.bracket} rung "
            f"{result.rung}{why}"
        )


@dataclass
class Halving:
    plan: RungPlan
    goal: Goal
    sample: Callable[[int], Trial]  # trial index -> the trial (params, seed)
    checkpoint_dir: Callable[[int], str | None]
    results: dict[int, dict[int, TrialRecord]] = field(default_factory=dict)  # trial, rung
    members: dict[tuple[int, int], list[int]] = field(default_factory=dict)  # bracket, rung
    finals: dict[int, TrialRecord] = field(default_factory=dict)
    queue: deque[tuple[int, int, int]] = field(default_factory=deque)  # trial, bracket, rung
    running: dict[int, tuple[int, int]] = field(default_factory=dict)  # trial -> bracket, rung
    last_rung: tuple[int, int] = (0, 0)  # the rung a result last arrived for
    # Counters for the live view, kept as results arrive (no pass over every trial).
    reported: dict[tuple[int, int], int] = field(default_factory=dict)
    reached: dict[int, int] = field(default_factory=dict)  # trial -> epochs trained
    epochs: int = 0
    stopped: int = 0

    # -- state -------------------------------------------------------------------------------

    def restore(self, earlier: Iterable[RungResult]) -> list[TrialRecord]:
        """Take the rung results on disk; returns every final record they imply (stopped,
        failed, trained fully), in a fixed order, and queues the trainings still to do. A
        result for a trial that is not in its rung (its bracket's trials, or those the rung
        before promoted) is ``NotInRung``: nothing is decided from it."""
        pending: dict[tuple[int, int], list[RungResult]] = {}
        for result in earlier:
            pending.setdefault((result.bracket, result.rung), []).append(result)
        finals: list[TrialRecord] = []
        for bracket in self.plan.brackets:
            finals += self._advance(bracket, 0, list(bracket.trials), pending)
        left = [result for results in pending.values() for result in results]
        if left:  # a rung not reached, or not in the plan at all
            first = min(left, key=lambda result: result.line or 0)
            known = first.bracket < len(self.plan.brackets) and first.rung < len(
                self.plan.brackets[first.bracket].rungs
            )
            raise NotInRung(first, ": that rung has not started" if known else ": no such rung")
        return finals

    def _advance(
        self,
        bracket: Bracket,
        rung: int,
        trials: list[int],
        pending: dict[tuple[int, int], list[RungResult]] | None = None,
    ) -> list[TrialRecord]:
        """Rung ``rung`` of ``bracket`` holds ``trials``: take the ``pending`` results of each
        rung reached (restoring), queue the trials without a result; when all have one,
        decide it and go on to the next rung."""
        finals: list[TrialRecord] = []
        while True:
            self.members[(bracket.number, rung)] = trials
            if pending:
                self._take(trials, pending.pop((bracket.number, rung), []))
            waiting = [t for t in trials if rung not in self.results.get(t, {})]
            if waiting:
                self.queue.extend((t, bracket.number, rung) for t in waiting)
                return finals
            promoted, decided = self._decide(bracket, rung, trials)
            finals += decided
            if not promoted:
                return finals
            rung, trials = rung + 1, promoted

    def _decide(
        self, bracket: Bracket, rung: int, trials: list[int]
    ) -> tuple[list[int], list[TrialRecord]]:
        """The trials that go on from a full rung, and the final records of the others."""
        records = [self.results[t][rung] for t in trials]
        last = rung == len(bracket.rungs) - 1
        ranked = [r for r in self.goal.rank(records) if self.goal.value(r) is not None]
        going = [] if last else ranked[: bracket.rungs[rung + 1].trials]
        going_ids = {r.trial for r in going}
        places = {r.trial: place for place, r in enumerate(ranked, start=1)}
        finals = []
        for r in sorted(records, key=lambda r: r.trial):
            if r.trial in going_ids:
                continue
            if r.ok and r.trial not in places:  # ok, but without the metric: not ranked
                r = dataclasses.replace(
                    r,
                    status="failed",
                    error=f"no '{self.goal.metric}' reported after {r.epochs} epochs",
                )
            elif r.ok and not last:
                place = places[r.trial]
                r = dataclasses.replace(
                    r,
                    status="stopped",
                    error=(
                        f"stopped after {bracket.rungs[rung].epochs} epochs: {place} of "
                        f"{len(records)} in its rung, {len(going)} went on"
                    ),
                )
            finals.append(self._final(r))
        return sorted(going_ids), finals

    def _take(self, trials: list[int], results: list[RungResult]) -> None:
        members = set(trials)
        for result in results:
            if result.record.trial not in members:
                raise NotInRung(result)
            self._note(result.bracket, result.rung, result.record)

    def _final(self, record: TrialRecord) -> TrialRecord:
        spent = [r.seconds for r in self.results[record.trial].values() if r.seconds]
        final = dataclasses.replace(record, seconds=round(sum(spent), 4) if spent else None)
        self.finals[record.trial] = final
        self.stopped += final.status == "stopped"
        return final

    def _note(self, bracket: int, rung: int, record: TrialRecord) -> None:
        """Keep a rung result (a later one for the same rung replaces it)."""
        by_rung = self.results.setdefault(record.trial, {})
        if rung not in by_rung:
            self.reported[(bracket, rung)] = self.reported.get((bracket, rung), 0) + 1
        by_rung[rung] = record
        epochs = record.epochs or 0
        before = self.reached.get(record.trial, 0)
        if epochs > before:
            self.epochs += epochs - before
            self.reached[record.trial] = epochs

    # -- running -----------------------------------------------------------------------------

    def jobs(self) -> Iterator[Trial | object]:
        """The rung trainings to run, as they become ready; ``WAIT`` while none is."""
        while True:
            if self.queue:
                index, bracket, rung = self.queue.popleft()
                self.running[index] = (bracket, rung)
                trial = self.sample(index)
                yield dataclasses.replace(
                    trial,
                    budget=self.plan.brackets[bracket].rungs[rung].epochs,
                    checkpoint_dir=self.checkpoint_dir(index),
                )
            elif self.running:
                yield WAIT
            else:
                return

    def accept(self, record: TrialRecord) -> tuple[RungResult, list[TrialRecord]]:
        """A rung training finished: its result, and the final records it decides."""
        bracket_number, rung = self.running.pop(record.trial)
        bracket = self.plan.brackets[bracket_number]
        previous = self.results.get(record.trial, {}).get(rung - 1)
        if previous is not None and previous.curves and record.curves:
            record = dataclasses.replace(
                record, curves=merge_curves(previous.curves, record.curves)
            )
        self._note(bracket_number, rung, record)
        self.last_rung = (bracket_number, rung)
        result = RungResult(bracket_number, rung, record)
        trials = self.members[(bracket_number, rung)]
        if self.reported[(bracket_number, rung)] < len(trials):
            return result, []
        return result, self._advance(bracket, rung, trials)

    def progress(self) -> Progress:
        number, rung = self.last_rung
        return Progress(
            bracket=number,
            brackets=len(self.plan.brackets),
            rung=rung,
            rungs=len(self.plan.brackets[number].rungs),
            reported=self.reported.get((number, rung), 0),
            of=len(self.members.get((number, rung), [])),
            stopped=self.stopped,
            epochs=self.epochs,
            full_epochs=self.plan.epochs_full(),
        )


def merge_curves(before: Mapping[str, list], after: Mapping[str, list]) -> dict[str, list]:
    """The whole curve of a trial continued by an objective that reported only its new
    epochs: the earlier rung's rows up to where the new ones start, then the new ones."""
    new_epochs = [e for e in after.get("epoch", []) if e is not None]
    old_epochs = before.get("epoch", [])
    if not new_epochs or not old_epochs or new_epochs[0] <= 1:
        return dict(after)  # it reported from the start (trained again, or from a checkpoint)
    keep = sum(1 for e in old_epochs if e is not None and e < new_epochs[0])
    keys = [*before, *[k for k in after if k not in before]]
    return {
        k: list(before.get(k, [None] * len(old_epochs)))[:keep]
        + list(after.get(k, [None] * len(new_epochs)))
        for k in keys
    }
