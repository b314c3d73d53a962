"""A search so far: its rounds and the final record of each trial, in memory.

What the search strategies read to propose the next round, what the session adds to as
trials finish, and what a run read back (``hpsearch.runs.Run``) answers from: the best, the
ranking, each round's trials and what it found (``RoundInfo``). One ranking (``Goal.rank``,
ties by trial index) serves every reader, so every command names the same best.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from hpsearch.config import Config
from hpsearch.errors import RunError
from hpsearch.record import TrialRecord
from hpsearch.results import Goal
from hpsearch.rounds import Round, first_round


@dataclass(frozen=True)
class RoundInfo:
    """One round as ``show``, the report and ``--json`` tell it."""

    round: int
    strategy: str
    origin: str
    summary: str
    first: int
    planned: int
    trials: int  # finished
    best: float | None  # this round's best metric
    best_trial: int | None
    best_so_far: float | None  # the best over this round and those before it
    ranges: dict[str, str]  # each parameter: its range, or the value it was fixed at
    range_left: float  # the mean share of the search's ranges this round searches
    notes: dict[str, str]
    anchors: tuple[int, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "round": self.round,
            "strategy": self.strategy,
            "origin": self.origin,
            "summary": self.summary,
            "trials": self.trials,
            "planned": self.planned,
            "first_trial": self.first,
            "best": self.best,
            "best_trial": self.best_trial,
            "best_so_far": self.best_so_far,
            "range_left": round(self.range_left, 4),
            "ranges": self.ranges,
            "notes": self.notes,
            "anchors": list(self.anchors),
        }


class NotInRounds(RunError):
    """A trial whose round the rounds do not agree with (a rounds log cut or edited, or a
    trial's line edited)."""

    def __init__(self, record: TrialRecord, owner: Round | None) -> None:
        where = "in no round" if owner is None else f"in round {owner.number}"
        super().__init__(
            f"trial {record.trial} (round {record.round} in trials.jsonl) is {where} of the "
            "rounds log"
        )
        self.record, self.owner = record, owner


class History:
    """The rounds of a search and its trials' final records (a later record of a trial
    replaces an earlier one)."""

    def __init__(
        self, config: Config, rounds: Sequence[Round], records: Iterable[TrialRecord] = ()
    ) -> None:
        self.config = config
        self.rounds: list[Round] = list(rounds)
        self._starts = [r.first for r in self.rounds]
        self.by_trial: dict[int, TrialRecord] = {}
        for record in records:
            self.add(record)
        # Another run's trials a warm start gave the model (never this search's trials).
        self.prior: tuple[TrialRecord, ...] = ()

    @classmethod
    def single(
        cls, config: Config, records: Iterable[TrialRecord] = (), trials: int | None = None
    ) -> History:
        """A search of one round over the whole space (a run made by hpsearch 0.1)."""
        count = trials if trials is not None else config.search.trials
        first = first_round(config.space, config.seed, count, "random", "the whole space")
        return cls(config, [first], records)

    @property
    def goal(self) -> Goal:
        return self.config.search.goal

    # -- growing -------------------------------------------------------------------------------

    def add_round(self, round_: Round) -> None:
        """A new round, or the last round grown (the same number again)."""
        if self.rounds and round_.number == self.rounds[-1].number:
            self.rounds[-1] = round_
        else:
            assert round_.number == len(self.rounds) and round_.first == self.next_index
            self.rounds.append(round_)
            self._starts.append(round_.first)

    def add(self, record: TrialRecord) -> None:
        """A trial's final record (checked to belong to the round it names)."""
        owner = self.round_of(record.trial)
        if owner is None or owner.number != record.round:
            raise NotInRounds(record, owner)
        self.by_trial[record.trial] = record

    def forget(self, trials: Iterable[int]) -> None:
        """Drop trials' records (they are to run again: ``resume --retry``)."""
        for index in trials:
            self.by_trial.pop(index, None)

    # -- reading -------------------------------------------------------------------------------

    @property
    def records(self) -> list[TrialRecord]:
        """Every final record, by trial index."""
        return [self.by_trial[i] for i in sorted(self.by_trial)]

    @property
    def next_index(self) -> int:
        """The index the next round's first trial gets."""
        return self.rounds[-1].stop if self.rounds else 0

    @property
    def planned(self) -> int:
        """Trials of the rounds so far."""
        return sum(r.trials for r in self.rounds)

    def round_of(self, index: int) -> Round | None:
        k = bisect.bisect_right(self._starts, index) - 1
        if k < 0 or index >= self.rounds[k].stop:
            return None
        return self.rounds[k]

    def records_of(self, number: int) -> list[TrialRecord]:
        return [r for r in self.records if r.round == number]

    def missing(self, round_: Round) -> Iterator[int]:
        """The trials of ``round_`` without a final record, by index (lazily: a round of a
        hundred million trials is never a list)."""
        return (i for i in round_.indices if i not in self.by_trial)

    def to_go(self, round_: Round) -> int:
        """How many trials of ``round_`` have no final record yet."""
        done = sum(1 for i in self.by_trial if round_.first <= i < round_.stop)
        return round_.trials - done

    def unfinished(self) -> list[Round]:
        """The rounds with trials still to run, in order."""
        return [r for r in self.rounds if self.to_go(r)]

    def ranked(self) -> list[TrialRecord]:
        return self.goal.rank(self.by_trial.values())

    def best(self) -> TrialRecord | None:
        return self.goal.best(self.by_trial.values())

    def plan_rounds(self) -> list[Round]:
        """The rounds the search's own strategy proposed (not those ``hpsearch zoom`` added)."""
        return [r for r in self.rounds if r.origin == "plan"]

    def infos(self) -> list[RoundInfo]:
        """Each round: its region, trials and best, and the best so far."""
        goal, root = self.goal, self.config.space
        so_far: float | None = None
        out = []
        by_round: dict[int, list[TrialRecord]] = {}
        for record in self.records:  # one pass, not one per round
            by_round.setdefault(record.round, []).append(record)
        for r in self.rounds:
            records = by_round.get(r.number, [])
            best = goal.best(records)
            value = goal.value(best) if best is not None else None
            if value is not None and (so_far is None or goal.direction.better(value, so_far)):
                so_far = value
            out.append(
                RoundInfo(
                    round=r.number,
                    strategy=r.strategy,
                    origin=r.origin,
                    summary=r.summary,
                    first=r.first,
                    planned=r.trials,
                    trials=len(records),
                    best=value,
                    best_trial=best.trial if best is not None else None,
                    best_so_far=so_far,
                    ranges=r.region.describe(root),
                    range_left=r.region.share(root),
                    notes=dict(r.notes),
                    anchors=r.anchors,
                )
            )
        return out
