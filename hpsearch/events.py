"""What a search tells its subscriber as it goes (the CLI's display, an API user's callback).

A search calls its subscriber with each event in order: ``SearchStarted``; per round
``RoundStarted``, ``TrialFinished`` for each trial (with early stopping, ``RungReported``
for each rung training too), ``RoundFinished``; ``Notice`` whenever
there is something to say; ``SearchFinished`` last, with the outcome. Every record an event
carries is already on disk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from hpsearch.record import TrialRecord

if TYPE_CHECKING:
    from hpsearch.config import Config
    from hpsearch.errors import UserError
    from hpsearch.lineage import RoundInfo


@dataclass(frozen=True)
class SearchStarted:
    config: Config  # the first round's
    total: int  # trials planned over every round
    done: int  # trials finished before (a resumed search)


@dataclass(frozen=True)
class RoundStarted:
    """A run of the search begins: the coarse run, a zoom round, or a run resumed."""

    round: int
    run_id: str
    run_dir: Path
    config: Config
    records: tuple[TrialRecord, ...]  # its trials finished before (a resumed run)
    to_go: int
    narrowed_from: Config | None  # the round before, when this one was zoomed from it here


@dataclass(frozen=True)
class TrialFinished:
    record: TrialRecord
    round: int
    run_id: str


@dataclass(frozen=True)
class RungReported:
    """Early stopping: one rung training finished (``result``, a ``halving.RungResult``);
    ``progress`` (a ``halving.Progress``) says where the rung plan stands. A trial's
    ``TrialFinished`` comes once it is final."""

    result: Any
    progress: Any
    round: int
    run_id: str


@dataclass(frozen=True)
class RoundFinished:
    round: int
    run_id: str
    summary: dict[str, Any]


@dataclass(frozen=True)
class Notice:
    text: str
    warning: bool = False  # a warning (stderr), or information (beside the display)


@dataclass
class SearchOutcome:
    """How a search ended: its last run, that run's summary (with the lineage's best for a
    ``--rounds`` search), the rounds it ran, and what stopped it, if anything."""

    status: str  # complete | interrupted
    run_dir: Path  # the last run
    config: Config  # the last run's config
    summary: dict[str, Any]
    ranked: list[TrialRecord]  # the last run's trials, best first
    rounds: list[RoundInfo]  # every round of the lineage this search ran in
    stopped: BaseException | None = None  # the interruption (Ctrl-C, SIGTERM, closed pipe)
    error: UserError | None = None  # what ended it early: a full disk, a metric never reported

    @property
    def planned(self) -> int:
        return self.config.search.trials


@dataclass(frozen=True)
class SearchFinished:
    outcome: SearchOutcome


Event = Union[  # noqa: UP007
    SearchStarted, RoundStarted, TrialFinished, RungReported, RoundFinished, Notice, SearchFinished
]
Subscriber = Callable[[Event], Any]


def ignore(event: Event) -> None:
    """The subscriber that wants nothing."""
