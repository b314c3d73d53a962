"""What a search tells its subscriber as it goes (the CLI's display, an API user's callback).

A search calls its subscriber with each event in order: ``SearchStarted``; per round it runs
``RoundStarted``, ``TrialFinished`` for each trial (with early stopping, ``RungReported``
for each rung training too), ``RoundFinished``; ``Notice`` whenever there is something to
say; ``SearchFinished`` last, with the outcome. Every record and round an event carries is
already on disk.
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
    from hpsearch.history import RoundInfo
    from hpsearch.rounds import Round


@dataclass(frozen=True)
class SearchStarted:
    config: Config
    total: int  # trials planned over every round
    done: int  # trials finished before (a resumed search)
    run_id: str = ""
    run_dir: Path | None = None


@dataclass(frozen=True)
class RoundStarted:
    """A round of the search begins (or goes on, in a resumed search): ``round`` holds its
    region, trials and why; ``previous``: the round before it, if any."""

    round: Round
    run_id: str
    run_dir: Path
    config: Config
    records: tuple[TrialRecord, ...]  # the search's trials finished so far
    to_go: int
    previous: Round | None
    new: bool  # opened now (not a round resumed)


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
    """How a search ended: its run, its summary (counts and best of every round), its
    trials best first, its rounds, and what stopped it, if anything."""

    status: str  # complete | interrupted
    run_dir: Path
    config: Config
    summary: dict[str, Any]
    ranked: list[TrialRecord]  # every trial of the search, best first
    rounds: list[RoundInfo]  # every round of the search
    stopped: BaseException | None = None  # the interruption (Ctrl-C, SIGTERM, closed pipe)
    error: UserError | None = None  # what ended it early: a full disk, a metric never reported

    @property
    def planned(self) -> int:
        planned = self.summary.get("trials_planned")
        return planned if isinstance(planned, int) else len(self.ranked)


@dataclass(frozen=True)
class SearchFinished:
    outcome: SearchOutcome


Event = Union[  # noqa: UP007
    SearchStarted, RoundStarted, TrialFinished, RungReported, RoundFinished, Notice, SearchFinished
]
Subscriber = Callable[[Event], Any]


def ignore(event: Event) -> None:
    """The subscriber that wants nothing."""
